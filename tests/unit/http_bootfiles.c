/* Unit tests for the HTTP module's generated boot files: the iPXE template
 * substitution, the built-in templates against ipxe-scripts/, and the
 * U-Boot image's CRC32 and header layout. */
#include "boot/bootfiles.h"
#include "boot/ipxe.h"
#include "boot/uboot.h"
#include "unit.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void
test_subst(void)
{
	struct kvlist v = { 0 };
	kv_set(&v, "server", "http://10.0.0.1", 0);
	kv_set(&v, "name", "cpu1", 0);
	char *s = ipxe_subst("chain ${server}/ipxe/${mac:hexraw}.ipxe ${name}${name} ${nope} ${", &v);
	CHECK_STR(s, "chain http://10.0.0.1/ipxe/${mac:hexraw}.ipxe cpu1cpu1 ${nope} ${",
	    "subst replaces known names and leaves iPXE's own settings alone");
	free(s);
	s = ipxe_subst("", &v);
	CHECK_STR(s, "", "empty template");
	free(s);
	kv_free(&v);
}

static void
test_builtins_match_files(void)
{
	static const char *const names[] = { "boot", "plan9-bios", "plan9-efi", "plan9-9bootpxe", "linux", "exit" };
	for (size_t i = 0; i < nelem(names); i++) {
		char *path = esprintf("ipxe-scripts/%s.ipxe", names[i]);
		char *text = read_file(path, NULL, 65536);
		CHECK_STR(text, ipxe_builtin(names[i]), "%s equals the built-in template", path);
		free(text);
		free(path);
	}
	CHECK(ipxe_builtin("nothing") == NULL, "unknown template name");
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
test_uimage(void)
{
	size_t len;
	uint8_t *img = uboot_image("gridboot test", "echo hi\n", &len);
	uint8_t hdr[64];

	CHECK(len == 64 + 8 + 8, "image length: header, length table, text");
	CHECK(be32(img) == 0x27051956, "magic");
	CHECK(be32(img + 12) == 16, "data size");
	CHECK(be32(img + 64) == 8 && be32(img + 68) == 0, "length table: 8 then 0");
	/* The data CRC as mkimage writes it (IEEE 802.3 over the 16 bytes). */
	CHECK(be32(img + 24) == 0xd9340162u, "data CRC");
	memcpy(hdr, img, 64);
	memset(hdr + 4, 0, 4);
	CHECK(be32(img + 4) == (uint32_t)crc32(0, hdr, 64), "header CRC");
	CHECK(img[28] == 5 && img[29] == 22 && img[30] == 6 && img[31] == 0,
	    "os linux, arch arm64, type script, no compression");
	CHECK(strcmp((char *)img + 32, "gridboot test") == 0, "name");
	free(img);
}

int
main(void)
{
	test_subst();
	test_builtins_match_files();
	test_uimage();
	return UNIT_DONE();
}
