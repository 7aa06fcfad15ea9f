/* Inventory parsing and validation: every bad inventory in
 * tests/inventory/bad/ must fail with exactly the messages in its .err file,
 * and the good ones must load with the values they say. Run from the top of
 * the tree (tests/run.sh does). */
#include "config/inventory.h"
#include "modules.h"
#include "core/util.h"
#include "unit.h"

#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

/* Error messages name template files by absolute path; compare relative. */
static char *
relative_errors(const struct errlist *e)
{
	char cwd[PATH_MAX], *out = estrdup("");
	size_t cwdlen;

	if (getcwd(cwd, sizeof cwd) == NULL)
		cwd[0] = '\0';
	strcat(cwd, "/");
	cwdlen = strlen(cwd);
	for (size_t i = 0; i < e->n; i++) {
		const char *m = e->msg[i];
		if (strncmp(m, cwd, cwdlen) == 0)
			m += cwdlen;
		char *next = esprintf("%s%s\n", out, m);
		free(out);
		out = next;
	}
	return out;
}

static void
test_bad_inventories(void)
{
	glob_t g;
	int n = 0;

	if (glob("tests/inventory/bad/*.cfg", 0, NULL, &g) != 0) {
		CHECK(0, "bad inventories found");
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *cfg = g.gl_pathv[i];
		struct errlist errs = { 0 };
		char *errfile = esprintf("%.*s.err", (int)(strlen(cfg) - 4), cfg);
		char *want = read_file(errfile, NULL, 1 << 20);
		struct inventory *inv = gridboot_load(cfg, &errs);
		char *got = relative_errors(&errs);

		CHECK(inv == NULL && errs.n > 0, "%s is rejected", cfg);
		CHECK_STR(got, want ? want : "(missing .err file)", "%s: exact messages", cfg);
		inv_unref(inv);
		errlist_free(&errs);
		free(got);
		free(want);
		free(errfile);
		n++;
	}
	CHECK(n >= 20, "at least 20 distinct bad inventories (%d)", n);
	globfree(&g);
}

static void
test_good_basic(void)
{
	struct errlist errs = { 0 };
	struct inventory *inv = gridboot_load("tests/inventory/good/basic.cfg", &errs);
	uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 0x11 };

	CHECK(inv != NULL && errs.n == 0, "basic.cfg loads");
	if (inv == NULL) {
		errlist_print(&errs, stdout);
		return;
	}
	struct machine *m = inv_machine_by_mac(inv, mac);
	CHECK(m != NULL && strcmp(m->name, "cpu1") == 0, "machine by MAC");
	CHECK(inv_machine_lookup(inv, "525400000011") == m, "lookup by bare hex MAC");
	CHECK(inv_machine_lookup(inv, "cpu1") == m, "lookup by name");
	CHECK(inv_machine_lookup(inv, "cpu9") == NULL, "unknown name");
	CHECK(m && m->ip == (10u << 24 | 9u << 16 | 11u), "machine IP in host order");
	CHECK(m && m->network == &inv->networks[0], "machine's network");
	CHECK(m && m->kernel && strcmp(m->kernel->name, "9pc64") == 0, "kernel from role");
	CHECK(m && machine_boot(m) == BOOT_IPXE, "BIOS boots by iPXE multiboot");
	CHECK(inv->networks[0].pool_lo == (10u << 24 | 9u << 16 | 100u), "pool start");
	CHECK(inv->networks[0].lease == 3600, "lease");
	CHECK(inv->grid.http_port == 80 && inv->grid.tftp_port == 69, "default ports");
	CHECK(inv->grid.nfs == 1 && inv->grid.fs[0] == inv->grid.server, "fs defaults to server");
	CHECK(inv->grid.files[0] == '/', "files made absolute");
	inv_unref(inv);
}

static void
test_lab_inventory(void)
{
	struct errlist errs = { 0 };
	struct inventory *inv = gridboot_load("inventory/lab.cfg", &errs);

	CHECK(inv != NULL, "inventory/lab.cfg is valid");
	if (inv == NULL)
		errlist_print(&errs, stdout);
	errlist_free(&errs);
	inv_unref(inv);
}

static void
test_missing_file(void)
{
	struct errlist errs = { 0 };
	struct inventory *inv = gridboot_load("tests/inventory/nonexistent.cfg", &errs);

	CHECK(inv == NULL && errs.n == 1, "missing file fails");
	CHECK_STR(errs.n ? errs.msg[0] : NULL,
	    "tests/inventory/nonexistent.cfg:0: cannot read the file: No such file or directory",
	    "missing file message says why");
	errlist_free(&errs);
}

int
main(void)
{
	test_bad_inventories();
	/* Again with the machines list read in slices of one and of two
	 * machines (what a 100 000-machine file gets): the same messages. */
	unsigned long before = inv_sliced_loads;
	inv_slicing = (struct inv_slicing){ 0, 0, 1 };
	test_bad_inventories();
	CHECK(inv_sliced_loads - before >= 25, "most bad inventories were read in slices (%lu)",
	    inv_sliced_loads - before);
	test_good_basic();
	inv_slicing = (struct inv_slicing){ 0, 0, 2 };
	test_bad_inventories();
	test_good_basic();
	test_lab_inventory();
	inv_slicing = (struct inv_slicing){ 64 * 1024, 512, 512 };
	test_good_basic();
	test_lab_inventory();
	test_missing_file();
	return UNIT_DONE();
}
