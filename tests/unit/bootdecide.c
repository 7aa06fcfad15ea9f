/* The boot decision as a table: option 93, vendor and user class, known or
 * unknown machine -> siaddr, file, options. */
#include "unit.h"
#include "unit_inv.h"
#include "boot/bootdecide.h"
#include "config/inventory.h"
#include "core/util.h"

#include <stdlib.h>
#include <unistd.h>

static const char cfg[] =
    "grid = { name = \"t\"; server = \"10.0.0.1\"; files = \"/tmp\"; state = \"/tmp\";\n"
    "  http_port = 8080; fs = [\"10.0.0.5\", \"10.0.0.7\"]; auth = [\"10.0.0.6\"];\n"
    "  loaders = { ipxe_bios = \"undionly.kpxe\"; ipxe_efi_x64 = \"ipxe.efi\";\n"
    "              plan9_efi_x64 = \"bootx64.efi\"; plan9_efi_arm64 = \"bootaa64.efi\"; }; };\n"
    "networks = ( { subnet = \"10.0.0.0/24\"; router = \"10.0.0.1\"; pool = \"10.0.0.100-10.0.0.110\"; } );\n"
    "kernels = ( { name = \"9pc64\"; arch = \"amd64\"; file = \"amd64/9pc64\"; } );\n"
    "roles = { cpu = { kernel = \"9pc64\"; }; };\n"
    "machines = ( { name = \"m1\"; mac = \"52:54:00:00:00:11\"; ip = \"10.0.0.11\";\n"
    "  arch = \"amd64\"; firmware = \"uefi\"; role = \"cpu\"; } );\n";

static struct inventory *inv;

static void
ask(const struct machine *m, int arch, const char *vendor, bool ipxe, struct boot_answer *a)
{
	struct boot_query q = { .inv = inv, .m = m, .arch = arch, .vendor = vendor, .ipxe = ipxe,
	    .mac = m ? m->mac : NULL, .yiaddr = 0x0a00000b, .mask = 0xffffff00, .router = 0x0a000001 };
	boot_decide(&q, a);
}

int
main(void)
{
	struct boot_answer a;

	inv = unit_inventory(cfg);
	CHECK(inv != NULL, "inventory loads");
	if (inv == NULL)
		return UNIT_DONE();
	const struct machine *m = &inv->machines[0];

	CHECK(boot_classify(-1, "", false) == BC_PLAIN, "nothing: plain client");
	CHECK(boot_classify(0, "", false) == BC_PXE, "option 93 alone: PXE");
	CHECK(boot_classify(7, "PXEClient", true) == BC_IPXE, "iPXE wins over PXEClient");
	CHECK(boot_classify(16, "HTTPClient:Arch:00016", false) == BC_HTTP, "HTTPClient");
	CHECK(boot_classify(22, "U-Boot.armv8", false) == BC_UBOOT, "U-Boot");
	CHECK(boot_classify(0, "plan9_amd64", true) == BC_PLAN9, "plan9_ first");

	ask(m, 7, "PXEClient:Arch:00007", false, &a);
	CHECK(a.boot && a.siaddr == 0x0a000001, "UEFI x64 PXE boots, siaddr = server");
	CHECK_STR(a.file, "bootx64.efi", "UEFI plan9 kernel -> 9boot EFI loader");
	CHECK_STR(a.opt66, "10.0.0.1", "option 66 is the server as text");
	CHECK_STR(a.loader, "plan9_efi_x64", "loader key");

	ask(NULL, 0, "PXEClient", false, &a);
	CHECK(!a.boot && a.siaddr == 0 && a.file[0] == 0, "unknown machine, grid.unknown none: nothing");

	ask(m, 0, "PXEClient", false, &a);
	CHECK(a.boot, "BIOS PXE boots");
	CHECK_STR(a.file, "undionly.kpxe", "BIOS -> iPXE (multiboot is BIOS-only)");

	ask(m, 0, "PXEClient", true, &a);
	CHECK_STR(a.file, "http://10.0.0.1:8080/boot.ipxe", "iPXE -> boot.ipxe, never iPXE again");

	ask(m, 16, "HTTPClient", false, &a);
	CHECK(a.http_client, "HTTP Boot gets option 60 HTTPClient");
	CHECK_STR(a.file, "http://10.0.0.1:8080/files/bootx64.efi",
	    "HTTP Boot gets a URL of the loader under /files/, where HTTP serves it");

	ask(m, 22, "U-Boot", false, &a);
	CHECK_STR(a.file, "boot.scr.uimg", "U-Boot gets the script image");

	ask(m, 11, "PXEClient", false, &a);
	CHECK_STR(a.file, "bootaa64.efi", "arm64 UEFI -> plan9_efi_arm64");

	ask(m, 6, "PXEClient", false, &a);
	CHECK(!a.boot, "IA32 UEFI: no loader, nothing offered");

	ask(m, 9, "PXEClient", false, &a);
	CHECK(a.boot, "arch 9 is x64 UEFI too");

	ask(m, -1, "plan9_amd64", false, &a);
	CHECK(!a.boot && a.opt43_len > 0, "plan9 kernel: option 43, no file");
	static const uint8_t want[] = { 128, 8, 10, 0, 0, 5, 10, 0, 0, 7, 129, 4, 10, 0, 0, 6,
	    130, 19, 2, '1', '0', '.', '0', '.', '0', '.', '5', 0, '1', '0', '.', '0', '.', '0', '.', '7', 0 };
	CHECK(a.opt43_len > sizeof want && memcmp(a.opt43, want, sizeof want) == 0,
	    "sub-options 128, 129, 130 encoded");

	inv_unref(inv);
	return UNIT_DONE();
}
