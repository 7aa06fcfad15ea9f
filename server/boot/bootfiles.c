#include "boot/bootfiles.h"
#include "boot/ipxe.h"
#include "boot/uboot.h"
#include "boot/plan9ini.h"
#include "core/util.h"

#include <stdio.h>
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

enum genresult
bootfiles_generate(const struct inventory *inv, const char *path,
    const uint8_t *client_mac, struct genfile *out)
{
	memset(out, 0, sizeof *out);
	if (str_has_prefix(path, "cfg/pxe/"))
		return gen_plan9ini(inv, path + strlen("cfg/pxe/"), out);
	if (str_has_prefix(path, "plan9.ini/"))
		return gen_plan9ini(inv, path + strlen("plan9.ini/"), out);
	if (strcmp(path, "boot.ipxe") == 0)
		return ipxe_entry(inv, out);
	if (str_has_prefix(path, "ipxe/")) {
		if (!mac_between(path + strlen("ipxe/"), ".ipxe", false, out->mac))
			return GEN_BAD_NAME;
		out->has_mac = true;
		return ipxe_machine(inv, out->mac, out);
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

