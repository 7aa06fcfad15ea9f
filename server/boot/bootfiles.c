#include "boot/bootfiles.h"
#include "boot/ipxe.h"
#include "boot/nvram.h"
#include "boot/uboot.h"
#include "config/plan9ini.h"
#include "core/util.h"

#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

bool
bootfiles_mac12_parse(const char *s, uint8_t mac[6])
{
	return strlen(s) == 12 && mac_parse(s, mac);
}

static enum genresult
gen_plan9ini(const struct inventory *inv, const char *which, struct genfile *out)
{
	const struct machine *m = NULL;
	char why[256];

	if (strcmp(which, "default") != 0) {
		if (!bootfiles_mac12_parse(which, out->mac))
			return GEN_BAD_NAME;
		out->has_mac = true;
		if ((m = inv_machine_by_mac(inv, out->mac)) == NULL)
			return GEN_NOT_FOUND;
	}
	out->data = plan9ini_render(inv, m, why, sizeof why);
	if (out->data == NULL)
		return GEN_NOT_FOUND;
	out->len = strlen(out->data);
	out->content_type = "text/plain; charset=utf-8";
	return GEN_OK;
}

/* "ipxe/<mac12>.ipxe" and "uboot/<mac>.scr.uimg": the MAC between a
 * prefix and a suffix. uboot/ also takes the colon spelling, which is
 * what U-Boot's ${ethaddr} gives a chaining script. */
static bool
mac_between(const char *s, const char *suffix, bool colons, uint8_t mac[6])
{
	size_t n = strlen(s), k = strlen(suffix);
	char buf[18];

	if (n <= k || strcmp(s + n - k, suffix) != 0 || n - k >= sizeof buf)
		return false;
	memcpy(buf, s, n - k);
	buf[n - k] = '\0';
	return colons ? mac_parse(buf, mac) : bootfiles_mac12_parse(buf, mac);
}

/* "nvram/<mac12>": the host owner's credentials (boot/nvram.h), only
 * with grid.serve_nvram, only for a machine of the inventory and only to
 * that machine itself (client_mac is who asks, from the source address). */
static enum genresult
gen_nvram(const struct inventory *inv, const char *which, const uint8_t *client_mac,
    struct genfile *out)
{
	if (!bootfiles_mac12_parse(which, out->mac))
		return GEN_BAD_NAME;
	out->has_mac = true;
	if (!inv->grid.serve_nvram || client_mac == NULL ||
	    memcmp(client_mac, out->mac, 6) != 0 || inv_machine_by_mac(inv, out->mac) == NULL)
		return GEN_NOT_FOUND;
	out->data = emalloc(NVRAM_LEN);
	if (!nvram_render(inv, (uint8_t *)out->data)) {
		free(out->data);
		out->data = NULL;
		return GEN_NOT_FOUND;
	}
	out->len = NVRAM_LEN;
	out->content_type = "application/octet-stream";
	return GEN_OK;
}

enum genresult
bootfiles_generate(const struct inventory *inv, const char *path,
    const uint8_t *client_mac, struct genfile *out)
{
	return bootfiles_generate_at(inv, path, client_mac, NULL, out);
}

enum genresult
bootfiles_generate_at(const struct inventory *inv, const char *path,
    const uint8_t *client_mac, const char *base_url, struct genfile *out)
{
	memset(out, 0, sizeof *out);
	if (str_has_prefix(path, "cfg/pxe/"))
		return gen_plan9ini(inv, path + strlen("cfg/pxe/"), out);
	if (str_has_prefix(path, "plan9.ini/"))
		return gen_plan9ini(inv, path + strlen("plan9.ini/"), out);
	if (strcmp(path, "boot.ipxe") == 0)
		return ipxe_entry(inv, base_url, out);
	if (str_has_prefix(path, "nvram/"))
		return gen_nvram(inv, path + strlen("nvram/"), client_mac, out);
	if (str_has_prefix(path, "ipxe/")) {
		if (!mac_between(path + strlen("ipxe/"), ".ipxe", false, out->mac))
			return GEN_BAD_NAME;
		out->has_mac = true;
		return ipxe_machine(inv, out->mac, base_url, out);
	}
	if (strcmp(path, "boot.scr.uimg") == 0)
		return uboot_machine(inv, client_mac, out);
	if (str_has_prefix(path, "uboot/")) {
		if (!mac_between(path + strlen("uboot/"), ".scr.uimg", true, out->mac))
			return GEN_BAD_NAME;
		out->has_mac = true;
		return uboot_machine(inv, out->mac, out);
	}
	return GEN_NOT_GENERATED;
}

void
bootfiles_base_url(const struct inventory *inv, char *out, size_t cap)
{
	char ip[16];

	ip_format(inv->grid.server, ip);
	if (inv->grid.http_port == 80)
		snprintf(out, cap, "http://%s", ip);
	else
		snprintf(out, cap, "http://%s:%d", ip, inv->grid.http_port);
}

/* The loader a machine's firmware fetches first, as grid.loaders names
 * it; NULL when gridboot generates the first file itself (U-Boot). */
static const char *
loader_needed(const struct machine *m, char *buf, size_t cap)
{
	const char *fw;

	switch (m->firmware) {
	case FW_BIOS:
		fw = "bios";
		break;
	case FW_UEFI:
		fw = m->arch == ARCH_ARM64 ? "efi_arm64" : "efi_x64";
		break;
	default:
		return NULL;
	}
	snprintf(buf, cap, "%s_%s", machine_boot(m) == BOOT_9BOOT ? "plan9" : "ipxe", fw);
	return buf;
}

static void
warn_missing_file(struct inventory *inv, const struct kernel *k, const char *what,
    const char *rel)
{
	char *full = esprintf("%s/%s", inv->grid.files, rel);

	if (access(full, R_OK) != 0)
		errlist_add(&inv->warnings, inv->path, k->line, NULL,
		    "kernels.%s.%s: %s is not in %s yet (see kernels/README.md)",
		    k->name, what, rel, inv->grid.files);
	free(full);
}

void
bootfiles_check(struct inventory *inv, struct errlist *errs)
{
	char kind[32];

	(void)errs;
	for (size_t i = 0; i < inv->nmachines; i++) {
		const struct machine *m = &inv->machines[i];
		const char *need = loader_needed(m, kind, sizeof kind);
		if (need && inv_loader(inv, need) == NULL)
			errlist_add(&inv->warnings, inv->path, m->line, NULL,
			    "machines[%s]: its %s firmware first fetches grid.loaders.%s, which is not set",
			    m->name, firmware_name(m->firmware), need);
	}
	for (size_t i = 0; i < inv->nkernels; i++) {
		const struct kernel *k = &inv->kernels[i];
		warn_missing_file(inv, k, "file", k->file);
		if (k->initrd)
			warn_missing_file(inv, k, "initrd", k->initrd);
	}
}
