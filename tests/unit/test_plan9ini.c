/* plan9.ini merging: grid template, grid group, role template, role group,
 * machine, then computed entries; later keys replace earlier ones in place. */
#include "config/inventory.h"
#include "modules.h"
#include "config/plan9ini.h"
#include "core/util.h"
#include "unit.h"

#include <stdlib.h>

static struct inventory *inv;

static void
expect(const char *name, const char *want)
{
	char why[256] = "";
	struct machine *m = name ? inv_machine_by_name(inv, name) : NULL;
	char *got = plan9ini_render(inv, m, why, sizeof why);

	CHECK_STR(got ? got : why, want, "plan9.ini of %s", name ? name : "default");
	free(got);
}

int
main(void)
{
	struct errlist errs = { 0 };

	inv = gridboot_load("tests/inventory/good/merge.cfg", &errs);
	CHECK(inv != NULL, "merge.cfg loads");
	if (inv == NULL) {
		errlist_print(&errs, stdout);
		return UNIT_DONE();
	}
	/* console: template then grid group; service: role template then role
	 * group; vgasize: role then machine; numbers become text; fs/auth are
	 * the first addresses; no bootfile for iPXE multiboot. */
	expect("a",
	    "console=0 b9600\n"
	    "mouseport=ps2\n"
	    "monitor=vesa\n"
	    "service=cpu\n"
	    "nobootprompt=tcp\n"
	    "vgasize=text\n"
	    "*nomp=1\n"
	    "sysname=a\n"
	    "fs=10.9.0.2\n"
	    "auth=10.9.0.4\n");
	/* 9boot on BIOS: the kernel path goes in bootfile. */
	expect("b",
	    "console=0 b9600\n"
	    "mouseport=ps2\n"
	    "monitor=vesa\n"
	    "sysname=b\n"
	    "fs=10.9.0.2\n"
	    "auth=10.9.0.4\n"
	    "bootfile=/amd64/9pc64\n");
	expect("c",
	    "console=0 b9600\n"
	    "mouseport=ps2\n"
	    "monitor=vesa\n"
	    "service=cpu\n"
	    "nobootprompt=tcp\n"
	    "vgasize=1024x768x16\n"
	    "sysname=c\n"
	    "fs=10.9.0.2\n"
	    "auth=10.9.0.4\n"
	    "bootfile=/amd64/9pc64.efi\n");
	/* Unknown machines: grid defaults and the addresses only. */
	expect(NULL,
	    "console=0 b9600\n"
	    "mouseport=ps2\n"
	    "monitor=vesa\n"
	    "fs=10.9.0.2\n"
	    "auth=10.9.0.4\n");

	const char *why;
	CHECK(plan9ini_key_ok("*nomp", &why), "*nomp is a key");
	CHECK(!plan9ini_key_ok("a=b", &why), "= is not allowed in a key");
	CHECK(!plan9ini_key_ok("[x]", &why), "[ starts a section");
	CHECK(!plan9ini_val_ok("a\nb", &why), "newline in a value");
	CHECK(plan9ini_val_ok("0 b115200", &why), "spaces in a value");
	CHECK(plan9ini_is_computed("bootfile") && !plan9ini_is_computed("console"), "computed keys");
	inv_unref(inv);
	return UNIT_DONE();
}
