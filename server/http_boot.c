/* Generated boot files over HTTP: the paths of bootfiles.h, rendered from
 * the in-memory inventory on every request (no disk access). The MAC in a
 * path is checked here first so a malformed one is a 400, an unknown
 * machine a 404 (plan9.ini) or the unknown-client policy (iPXE, U-Boot). */
#include "http.h"
#include "bootfiles.h"
#include "events.h"
#include "util.h"

#include <string.h>

static const struct bootpath {
	const char *prefix;     /* ends in '/' for a MAC-keyed family */
	const char *suffix;
	bool colons_ok;
} bootpaths[] = {
	{ "boot.ipxe", NULL, false },
	{ "boot.scr.uimg", NULL, false },
	{ "ipxe/", ".ipxe", false },
	{ "uboot/", ".scr.uimg", true },
	{ "plan9.ini/", "", false },
	{ "cfg/pxe/", "", false },
};

/* The MAC part of a MAC-keyed path, checked; "default" is fine for the
 * plan9.ini families. */
static bool
path_mac(const struct bootpath *bp, const char *rest, uint8_t mac[6], bool *is_default)
{
	size_t n = strlen(rest), k = strlen(bp->suffix);
	char buf[24];

	*is_default = false;
	if (n < k || strcmp(rest + n - k, bp->suffix) != 0 || n - k >= sizeof buf)
		return false;
	memcpy(buf, rest, n - k);
	buf[n - k] = '\0';
	if (k == 0 && strcmp(buf, "default") == 0) {
		*is_default = true;
		return true;
	}
	return bp->colons_ok ? mac_parse(buf, mac) : mac12_parse(buf, mac);
}

bool
http_boot(struct MHD_Connection *c, struct http_req *r, const char *path,
    enum MHD_Result *res)
{
	const struct bootpath *bp = NULL;
	struct inventory *inv = http.d->inv;
	uint8_t mac[6], client[6];
	bool has_mac = false, is_default = false, has_client;
	struct genfile g;

	for (size_t i = 0; i < nelem(bootpaths) && !bp; i++) {
		const char *p = bootpaths[i].prefix;
		if (bootpaths[i].suffix ? str_has_prefix(path, p) : strcmp(path, p) == 0)
			bp = &bootpaths[i];
	}
	if (bp == NULL)
		return false;
	r->route = RT_BOOT;
	if (bp->suffix) {
		if (!path_mac(bp, path + strlen(bp->prefix), mac, &is_default)) {
			*res = http_error(c, r, 400, "%s: not a MAC address (12 hex digits)", path);
			return true;
		}
		has_mac = !is_default;
	}
	has_client = http_client_mac(c, client);
	enum genresult gr = bootfile_generate(inv, path, has_client ? client : NULL, &g);
	if (gr != GEN_OK) {
		*res = http_error(c, r, 404, "%s: no such machine in the inventory", path);
		return true;
	}
	if (has_mac || has_client)
		event_emit(has_mac ? mac : client, EVK_HTTP, "GET /%s", path);
	*res = http_reply_text(c, r, 200, g.content_type, g.data, g.len);
	return true;
}
