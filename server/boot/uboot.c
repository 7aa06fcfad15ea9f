/* U-Boot script images: boot.scr.uimg (what U-Boot's distro boot sources
 * after DHCP) and uboot/<mac>.scr.uimg.
 *
 * The format is U-Boot's legacy image: a 64-byte big-endian header (magic
 * 0x27051956, header CRC32, data size, data CRC32, os, arch, type, comp,
 * a 32-byte name) and, for type "script", a table of 32-bit lengths ended
 * by a zero, then the script text. The script uses tftpboot: U-Boot's
 * wget is often not built in, and the DHCP reply already names our TFTP
 * server (serverip), which serves the same generated files as HTTP.
 *
 * Plan 9 on arm64 (9front's sys/src/boot/qemu/boot.txt): plan9.ini at
 * CONFADDR 0x40010000, cleared first so the text ends in NULs, and the
 * kernel (a U-Boot image, 9qemu.u) at 0x40100000, then bootm. Linux:
 * kernel, initrd and U-Boot's own device tree, then booti. */
#include "boot/uboot.h"
#include "core/buf.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IH_MAGIC 0x27051956
#define IH_OS_LINUX 5
#define IH_ARCH_ARM64 22
#define IH_TYPE_SCRIPT 6
#define IH_COMP_NONE 0
#define IH_NMLEN 32
#define IH_SIZE 64

#define P9_CONFADDR "0x40010000"
#define P9_KERNADDR "0x40100000"

/* The image's CRCs are zlib's crc32 (IEEE 802.3, as U-Boot's own). */
static uint32_t
image_crc(const void *data, size_t len)
{
	return (uint32_t)crc32(0, data, (uInt)len);
}

uint8_t *
uboot_image(const char *name, const char *script, size_t *lenp)
{
	size_t slen = strlen(script), dlen = 8 + slen, len = IH_SIZE + dlen;
	uint8_t *img = ecalloc(1, len);
	struct wr w = wr_make(img, len);
	char nm[IH_NMLEN] = { 0 };

	/* Data first: the length table (one entry, then 0), then the text. */
	struct wr d = wr_make(img + IH_SIZE, dlen);
	wr_be32(&d, (uint32_t)slen);
	wr_be32(&d, 0);
	wr_bytes(&d, script, slen);
	strncpy(nm, name, IH_NMLEN - 1);

	wr_be32(&w, IH_MAGIC);
	wr_be32(&w, 0);                 /* header CRC, filled in below */
	wr_be32(&w, 0);                 /* time: 0 keeps the image reproducible */
	wr_be32(&w, (uint32_t)dlen);
	wr_be32(&w, 0);                 /* load address */
	wr_be32(&w, 0);                 /* entry point */
	wr_be32(&w, image_crc(img + IH_SIZE, dlen));
	wr_u8(&w, IH_OS_LINUX);
	wr_u8(&w, IH_ARCH_ARM64);
	wr_u8(&w, IH_TYPE_SCRIPT);
	wr_u8(&w, IH_COMP_NONE);
	wr_bytes(&w, nm, IH_NMLEN);
	uint32_t hcrc = image_crc(img, IH_SIZE);
	struct wr h = wr_make(img + 4, 4);
	wr_be32(&h, hcrc);
	*lenp = len;
	return img;
}

/* Inventory text in a script line: no newlines, no quote that would end
 * the setenv argument. */
static char *
clean(const char *s)
{
	char *c = estrdup(s ? s : "");
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\'')
			*p = ' ';
	return c;
}

static char *
script_plan9(const struct kernel *k, const char *name, const char *hex)
{
	return esprintf(
	    "# gridboot: %s: Plan 9 %s (9front's sys/src/boot/qemu/boot.txt layout)\n"
	    "echo gridboot: %s: Plan 9 %s\n"
	    "mw.b " P9_CONFADDR " 0x0 0x10000\n"
	    "tftpboot " P9_CONFADDR " cfg/pxe/%s\n"
	    "tftpboot " P9_KERNADDR " %s\n"
	    "bootm " P9_KERNADDR "\n",
	    name, k->name, name, k->name, hex, k->file);
}

static char *
script_linux(const struct inventory *inv, const struct kernel *k, const char *name,
    const char *macs)
{
	char base[64];
	char *cmd = clean(k->cmdline), *s;

	bootfiles_base_url(inv, base, sizeof base);
	s = esprintf(
	    "# gridboot: %s: Linux %s\n"
	    "echo gridboot: %s: Linux %s\n"
	    "setenv bootargs '%s%sgridboot.server=%s gridboot.mac=%s'\n"
	    "tftpboot ${kernel_addr_r} %s\n"
	    "%s%s%s"
	    "booti ${kernel_addr_r} %s ${fdtcontroladdr}\n",
	    name, k->name, name, k->name, cmd, *cmd ? " " : "", base, macs, k->file,
	    k->initrd ? "tftpboot ${ramdisk_addr_r} " : "", k->initrd ? k->initrd : "",
	    k->initrd ? "\n" : "",
	    k->initrd ? "${ramdisk_addr_r}:${filesize}" : "-");
	free(cmd);
	return s;
}

static char *
script_for(const struct inventory *inv, const uint8_t mac[6])
{
	const struct machine *m = inv_machine_by_mac(inv, mac);
	const struct role *role = m ? m->role : inv->grid.unknown;
	const struct kernel *k = m ? m->kernel : role ? role->kernel : NULL;
	const char *name = m ? m->name : "unknown";
	char macs[18], hex[13];

	mac_format(mac, macs);
	mac_hex(mac, hex);
	if (k == NULL || k->arch != ARCH_ARM64)
		return esprintf("# gridboot: %s: nothing for U-Boot\n"
		    "echo gridboot: %s (%s): no arm64 kernel for this machine\n",
		    name, name, macs);
	if (k->payload == PAYLOAD_LINUX)
		return script_linux(inv, k, name, macs);
	return script_plan9(k, name, hex);
}

enum genresult
uboot_machine(const struct inventory *inv, const uint8_t *mac, struct genfile *out)
{
	char *script, title[IH_NMLEN];

	if (mac == NULL) {
		/* Who asks is unknown (no lease for the address): let U-Boot
		 * name itself. ${ethaddr} has colons, so the server address
		 * goes first for tftpboot to split at the right colon. */
		script = estrdup("# gridboot: chain to this board's own script\n"
		    "tftpboot ${scriptaddr} ${serverip}:uboot/${ethaddr}.scr.uimg && "
		    "source ${scriptaddr}\n");
		str_copy(title, "gridboot chain", sizeof title);
	} else {
		const struct machine *m = inv_machine_by_mac(inv, mac);
		char hex[13];
		mac_hex(mac, hex);
		script = script_for(inv, mac);
		snprintf(title, sizeof title, "gridboot %s", m ? m->name : hex);
	}
	out->data = (char *)uboot_image(title, script, &out->len);
	out->content_type = "application/octet-stream";
	free(script);
	return GEN_OK;
}
