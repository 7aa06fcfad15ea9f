#include "config/loader.h"
#include <string.h>
#include "config/assignments.h"
#include "config/plan9ini.h"
#include "core/privdrop.h"
#include "core/util.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

/* With grid.user, the daemon reads these after it dropped root: say now
 * what that user could not reach (a checkout under a 0700 home, say). */
static void
warn_unreadable(struct inventory *inv)
{
	const struct grid *g = &inv->grid;
	const struct { const char *key, *path; bool dir; } reads[] = {
		{ "the inventory", inv->path[0] == '/' ? inv->path : NULL, false },
		{ "grid.files", g->files, true },
		{ "grid.templates", g->templates, true },
		{ "grid.web", g->web, true },
		{ "grid.ipxe_scripts", g->ipxe_scripts, true },
	};
	char why[PATH_MAX + 128], abs[PATH_MAX];

	if (g->user == NULL)
		return;
	for (size_t i = 0; i < nelem(reads); i++) {
		const char *path = reads[i].path;
		if (path == NULL && i == 0 && realpath(inv->path, abs))
			path = abs;
		if (path && privdrop_can_read(g->user, path, reads[i].dir, why, sizeof why) < 0)
			errlist_add(&inv->warnings, inv->path, g->user_line, NULL,
			    "grid.user: %s cannot read %s: %s", g->user, reads[i].key, why);
	}
}

struct inventory *
loader_load(const char *path, const struct loader_check *checks, size_t nchecks,
    struct errlist *errs)
{
	size_t at_start = errs->n;
	struct inventory *inv = inv_parse(path, errs);

	if (inv == NULL)
		return NULL;
	/* Role changes made through the API or the grid tree live in
	 * grid.state, not in the operator's file: merged over it on every
	 * load (assignments.h, docs/http.md). */
	/* The parse indexed every machine as it checked them; only a merge
	 * (renamed or added machines) needs them built again. */
	if (assignments_merge(inv))
		inv_index(inv);
	plan9ini_check(inv, errs);
	for (size_t i = 0; i < nchecks && errs->n == at_start; i++)
		checks[i].fn(inv, errs);
	if (errs->n > at_start) {
		inv_unref(inv);
		return NULL;
	}
	warn_unreadable(inv);
	return inv;
}
