/* Inventory parsing and validation.
 *
 * The libconfig tree is walked once; every value is type-checked, range-
 * checked and cross-checked, and every problem becomes one
 * "FILE:LINE: key: what" line. Only a file with no problem at all yields an
 * inventory. Unknown keys are errors too: a typo must not silently drop a
 * setting from a machine's boot.
 * The sections are read by the inventory_*.c files beside this one
 * (inventory_parse.h names them); here is one load, start to end, and
 * an inventory's lifetime. */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "config/cfgscan.h"
#include "core/util.h"

#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const top_keys[] = {
	"grid", "networks", "kernels", "roles", "machines", "exports", NULL,
};

static void
inv_free(struct inventory *inv)
{
	struct grid *g = &inv->grid;

	if (inv->base) {
		free(inv->machines);
		for (int k = 0; k < KEY_COUNT; k++) {
			free(inv->index[k]);
			free(inv->index_tag[k]);
		}
		errlist_free(&inv->warnings);
		inv_unref(inv->base);
		free(inv);
		return;
	}
	for (size_t i = 0; i < inv->nowned; i++)
		free(inv->owned[i]);
	free(inv->owned);

	free(g->name);
	free(g->authdom);
	free(g->authid);
	free(g->keys);
	free(g->p9any);
	for (int i = 0; i < g->nspeaksfor; i++) {
		for (int k = 0; k < g->speaksfor[i].nusers; k++)
			free(g->speaksfor[i].users[k]);
		free(g->speaksfor[i].users);
		free(g->speaksfor[i].host);
	}
	free(g->speaksfor);
	free(g->files);
	free(g->templates);
	free(g->state);
	free(g->api_token);
	free(g->user);
	free(g->web);
	free(g->store);
	free(g->instance);
	free(g->ipxe_scripts);
	kv_free(&g->ipxe);
	kv_free(&g->plan9ini);
	kv_free(&g->loaders);
	for (int i = 0; i < g->ninterfaces; i++)
		free(g->interfaces[i]);
	free(g->interfaces);
	for (int i = 0; i < g->nadmins; i++)
		free(g->admins[i]);
	free(g->admins);
	for (size_t i = 0; i < inv->nnetworks; i++)
		free(inv->networks[i].interface);
	free(inv->networks);
	for (size_t i = 0; i < inv->nkernels; i++) {
		free(inv->kernels[i].name);
		free(inv->kernels[i].file);
		free(inv->kernels[i].initrd);
		free(inv->kernels[i].cmdline);
	}
	free(inv->kernels);
	for (size_t i = 0; i < inv->nroles; i++) {
		free(inv->roles[i].name);
		kv_free(&inv->roles[i].plan9ini);
	}
	free(inv->roles);
	for (size_t i = 0; i < inv->nmachines; i++) {
		free(inv->machines[i].name);
		free(inv->machines[i].v6);
		machine_power_free(inv->machines[i].power);
		kv_free(&inv->machines[i].plan9ini);
	}
	free(inv->machines);
	for (size_t i = 0; i < inv->nexports; i++) {
		struct export *x = &inv->exports[i];
		free(x->name);
		free(x->path);
		free(x->owner);
		for (int k = 0; k < x->nwritable; k++)
			free(x->writable[k]);
		free(x->writable);
		kv_free(&x->generated);
	}
	free(inv->exports);
	errlist_free(&inv->warnings);
	for (int k = 0; k < KEY_COUNT; k++) {
		free(inv->index[k]);
		free(inv->index_tag[k]);
	}
	free(inv->path);
	free(inv->dir);
	free(inv);
}

static _Atomic unsigned long loads;     /* loads run in a worker thread too */

/* libconfig's own reading of the whole file, or of text with the machines
 * list emptied (then NULL if libconfig refuses it: the caller re-reads the
 * whole file so the error is the one libconfig gives for it). */
static bool
read_config(config_t *cfg, const char *path, const char *text, struct errlist *errs)
{
	config_init(cfg);
	if (text)
		return config_read_string(cfg, text);
	if (config_read_file(cfg, path))
		return true;
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
		/* libconfig does not say why: find out. */
		struct stat st;
		const char *why = "a read error";
		FILE *f = NULL;
		if (stat(path, &st) < 0)
			why = strerror(errno);
		else if (S_ISDIR(st.st_mode))
			why = "it is a directory";
		else if ((f = fopen(path, "r")) == NULL)
			why = strerror(errno);
		if (f)
			fclose(f);
		errlist_add(errs, path, 0, NULL, "cannot read the file: %s", why);
	}
	else
		errlist_add(errs, config_error_file(cfg) ? config_error_file(cfg) : path,
		    config_error_line(cfg), NULL, "%s", config_error_text(cfg));
	return false;
}

static void
errlist_truncate(struct errlist *e, size_t n)
{
	while (e->n > n)
		free(e->msg[--e->n]);
}

/* One load; sliced says to read the machines list a slice at a time
 * (text is then the whole file). *again is set when that did not work
 * and the whole file must be read by libconfig instead. */
static struct inventory *
parse(const char *path, const char *text, size_t len, const struct cfg_list *slices,
    struct errlist *errs, bool *again)
{
	struct inventory *inv = ecalloc(1, sizeof *inv);
	struct ctx c = { errs, path, inv, errs->n, .text = text, .slices = slices };
	config_t cfg;
	char *copy, real[PATH_MAX], *rest = NULL;

	inv->refs = 1;
	inv->serial = ++loads;
	inv->path = estrdup(path);
	copy = estrdup(realpath(path, real) ? real : path);
	inv->dir = estrdup(dirname(copy));
	free(copy);

	struct stat st;
	if (stat(path, &st) == 0) {
		inv->file.dev = st.st_dev;
		inv->file.ino = st.st_ino;
		inv->file.size = st.st_size;
		inv->file.mtime_ns = (unsigned long)st.st_mtim.tv_sec * 1000000000ul +
		    (unsigned long)st.st_mtim.tv_nsec;
	}
	if (slices)
		rest = cfgscan_without_list(text, len, slices);
	if (!read_config(&cfg, path, rest, errs)) {
		free(rest);
		config_destroy(&cfg);
		inv_free(inv);
		*again = slices != NULL;
		return NULL;
	}
	free(rest);
	config_setting_t *root = config_root_setting(&cfg);
	check_keys(&c, root, "", top_keys);
	parse_grid(&c, root);
	parse_networks(&c, root);
	parse_kernels(&c, root);
	parse_roles(&c, root);
	resolve_unknown(&c, root);
	parse_machines(&c, root);
	parse_exports(&c, root);
	config_destroy(&cfg);
	if (c.resliced) {
		errlist_truncate(errs, c.nerrs_at_start);
		inv_free(inv);
		*again = true;
		return NULL;
	}
	if (slices)
		inv_sliced_loads++;
	if (errs->n > c.nerrs_at_start) {
		inv_free(inv);
		return NULL;
	}
	return inv;
}

/* Large inventories (more than a few slices of machines) are read with
 * the machines list in slices (cfgscan.h); any doubt about the text, and
 * libconfig reads the whole file, as it does for small ones. */
struct inventory *
inv_parse(const char *path, struct errlist *errs)
{
	struct cfg_list l;
	struct inventory *inv = NULL;
	bool again = true;
	struct stat st;
	char *text = MAP_FAILED;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size >= inv_slicing.min_bytes && st.st_size > 0 &&
	    st.st_size < ((off_t)1 << 31))
		text = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (text != MAP_FAILED) {
		size_t len = (size_t)st.st_size;
		if (memchr(text, '\0', len) == NULL &&
		    cfgscan_top_list(text, len, "machines", &l) == 0) {
			if (l.n > inv_slicing.min_machines) {
				again = false;
				inv = parse(path, text, len, &l, errs, &again);
			}
			cfg_list_free(&l);
		}
		munmap(text, len);
	}
	if (again)
		inv = parse(path, NULL, 0, NULL, errs, &again);
	return inv;
}

struct inventory *
inv_derive(const struct inventory *old)
{
	struct inventory *inv = emalloc(sizeof *inv);
	size_t n = old->nmachines;

	*inv = *old;
	inv->refs = 1;
	inv->serial = ++loads;
	inv->base = inv_ref(old->base ? old->base : (struct inventory *)old);
	inv->machines = emalloc((n + 1) * sizeof *inv->machines);
	memcpy(inv->machines, old->machines, n * sizeof *inv->machines);
	for (int k = 0; k < KEY_COUNT; k++) {
		if (old->index[k] == NULL)
			continue;
		inv->index[k] = emalloc(old->index_cap * sizeof *inv->index[k]);
		memcpy(inv->index[k], old->index[k], old->index_cap * sizeof *inv->index[k]);
		inv->index_tag[k] = emalloc(old->index_cap);
		memcpy(inv->index_tag[k], old->index_tag[k], old->index_cap);
	}
	inv->warnings = (struct errlist){ 0 };
	if (old->warnings.n) {
		inv->warnings.msg = emalloc(old->warnings.n * sizeof *inv->warnings.msg);
		for (size_t i = 0; i < old->warnings.n; i++)
			inv->warnings.msg[i] = estrdup(old->warnings.msg[i]);
		inv->warnings.n = old->warnings.n;
	}
	inv->owned = NULL;
	inv->nowned = 0;
	return inv;
}

void
inv_own(struct inventory *inv, char *s)
{
	struct inventory *b = inv->base ? inv->base : inv;

	b->owned = erealloc(b->owned, (b->nowned + 1) * sizeof *b->owned);
	b->owned[b->nowned++] = s;
}

bool
inv_file_unchanged(const struct inventory *inv)
{
	struct stat st;

	return stat(inv->path, &st) == 0 && inv->file.dev == (unsigned long)st.st_dev &&
	    inv->file.ino == (unsigned long)st.st_ino && inv->file.size == st.st_size &&
	    inv->file.mtime_ns == (unsigned long)st.st_mtim.tv_sec * 1000000000ul +
	    (unsigned long)st.st_mtim.tv_nsec;
}

struct inventory *
inv_ref(struct inventory *inv)
{
	if (inv)
		inv->refs++;
	return inv;
}

void
inv_unref(struct inventory *inv)
{
	if (inv && --inv->refs == 0)
		inv_free(inv);
}

static void *
free_main(void *arg)
{
	inv_free(arg);
	return NULL;
}

void
inv_unref_later(struct inventory *inv)
{
	pthread_attr_t attr;
	pthread_t t;
	bool started = false;

	if (inv == NULL || --inv->refs > 0)
		return;
	/* A derived inventory's free unrefs its base, whose count the loop
	 * keeps: that one is freed here (it is a few large blocks). */
	if (inv->base == NULL && pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		started = pthread_create(&t, &attr, free_main, inv) == 0;
		pthread_attr_destroy(&attr);
	}
	if (!started)
		inv_free(inv);
}
