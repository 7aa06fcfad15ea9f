/* The inventory's exports: host directories served over 9P (docs/9p.md),
 * their attach names, writable paths, owner and generated files. */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "core/util.h"

#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const export_keys[] = {
	"name", "path", "writable", "owner", "generated", NULL,
};

/* What a generated file overlaid on an export may be (boot/ndb.h...). */
static const char *const generated_kinds[] = { "ndb", NULL };

static void
parse_export_writable(struct ctx *c, config_setting_t *e, const char *kp, struct export *x)
{
	config_setting_t *w = config_setting_get_member(e, "writable");
	char wk[128];

	if (w == NULL)
		return;
	snprintf(wk, sizeof wk, "%s.writable", kp);
	if (!config_setting_is_array(w) && !config_setting_is_list(w)) {
		bad(c, w, wk, "must be a list of paths [\"usr\", \"tmp\"]");
		return;
	}
	int n = config_setting_length(w);
	x->writable = ecalloc((size_t)n + 1, sizeof *x->writable);
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(w, i);
		if (v == NULL || *v == '\0' || !path_ok(v))
			bad(c, w, wk, "element %d must be a path inside the export (no leading /, no ..)", i + 1);
		else
			x->writable[x->nwritable++] = estrdup(v);
	}
}

static void
parse_export_generated(struct ctx *c, config_setting_t *e, const char *kp, struct export *x)
{
	config_setting_t *gl = config_setting_get_member(e, "generated");
	char gk[128];

	if (gl == NULL)
		return;
	snprintf(gk, sizeof gk, "%s.generated", kp);
	if (!config_setting_is_list(gl)) {
		bad(c, gl, gk, "must be a list ( { path = \"lib/ndb/local\"; file = \"ndb\"; } )");
		return;
	}
	for (int i = 0; i < config_setting_length(gl); i++) {
		config_setting_t *g = config_setting_get_elem(gl, (unsigned)i);
		static const char *const keys[] = { "path", "file", NULL };
		char ek[160];
		snprintf(ek, sizeof ek, "%s[%d]", gk, i);
		if (!config_setting_is_group(g)) {
			bad(c, g, ek, "must be a group { path = ...; file = ...; }");
			continue;
		}
		check_keys(c, g, ek, keys);
		const char *path = get_str(c, g, ek, "path", true);
		const char *file = get_str(c, g, ek, "file", true);
		if (path && !path_ok(path))
			bad(c, config_setting_get_member(g, "path"), ek,
			    "path \"%s\" must be inside the export (no leading /, no ..)", path);
		bool known = false;
		for (int k = 0; file && generated_kinds[k]; k++)
			known |= strcmp(file, generated_kinds[k]) == 0;
		if (file && !known)
			bad(c, config_setting_get_member(g, "file"), ek,
			    "no generated file \"%s\" (there is: ndb)", file);
		if (path && file && path_ok(path) && known)
			kv_set(&x->generated, path, file, src_line(c, g));
	}
}

/* The attach name picks an export; "" is the root diskless machines
 * mount, "grid" is the grid tree and cannot be taken. */
static const char *
export_name(struct ctx *c, config_setting_t *e, const char *kp)
{
	config_setting_t *n = config_setting_get_member(e, "name");
	const char *v;

	if (n == NULL)
		return "";
	if (config_setting_type(n) != CONFIG_TYPE_STRING) {
		bad(c, n, kp, "name must be a string in double quotes");
		return NULL;
	}
	v = config_setting_get_string(n);
	if (strcmp(v, "grid") == 0) {
		bad(c, n, kp, "the attach name \"grid\" is the grid tree's");
		return NULL;
	}
	if (*v && !name_ok(v)) {
		bad(c, n, kp, "name \"%s\": use letters, digits, '-', '_' or '.', at most 27", v);
		return NULL;
	}
	return v;
}

static void
parse_export(struct ctx *c, config_setting_t *e, int idx, struct export *x)
{
	char kp[96];
	const char *s;
	struct stat st;

	snprintf(kp, sizeof kp, "exports[%d]", idx);
	x->line = src_line(c, e);
	if (!config_setting_is_group(e)) {
		bad(c, e, kp, "must be a group { name = ...; path = ...; }");
		return;
	}
	check_keys(c, e, kp, export_keys);
	if ((s = export_name(c, e, kp)) != NULL)
		x->name = estrdup(s);
	if ((s = get_str(c, e, kp, "path", true)) != NULL) {
		x->path = abs_path(c, s);
		if (stat(x->path, &st) == 0 && !S_ISDIR(st.st_mode))
			bad(c, config_setting_get_member(e, "path"), kp,
			    "\"%s\" is not a directory", s);
		else if (stat(x->path, &st) != 0)
			errlist_add(&c->inv->warnings, c->path, x->line, NULL,
			    "%s.path: %s does not exist yet (make kernels prepares a root)",
			    kp, x->path);
	}
	if ((s = get_str(c, e, kp, "owner", false)) != NULL) {
		if (!name_ok(s))
			bad(c, config_setting_get_member(e, "owner"), kp,
			    "owner \"%s\" is not a Plan 9 user name", s);
		else
			x->owner = estrdup(s);
	}
	parse_export_writable(c, e, kp, x);
	parse_export_generated(c, e, kp, x);
}

void
parse_exports(struct ctx *c, config_setting_t *root)
{
	config_setting_t *l = config_setting_get_member(root, "exports");
	struct inventory *inv = c->inv;

	if (l == NULL)
		return;
	if (!config_setting_is_list(l)) {
		bad(c, l, "exports", "must be a list ( { name = \"\"; path = ...; }, ... )");
		return;
	}
	inv->nexports = (size_t)config_setting_length(l);
	inv->exports = ecalloc(inv->nexports, sizeof *inv->exports);
	for (size_t i = 0; i < inv->nexports; i++) {
		struct export *x = &inv->exports[i];
		parse_export(c, config_setting_get_elem(l, (unsigned)i), (int)i, x);
		for (size_t j = 0; j < i && x->name; j++)
			if (inv->exports[j].name && strcmp(inv->exports[j].name, x->name) == 0) {
				char kp[96];
				snprintf(kp, sizeof kp, "exports[%zu]", i);
				bad(c, config_setting_get_elem(l, (unsigned)i), kp,
				    "the attach name \"%s\" is already used on line %d",
				    x->name, inv->exports[j].line);
			}
	}
}

