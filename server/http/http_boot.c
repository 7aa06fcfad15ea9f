/* Generated boot files over HTTP: the paths of bootfiles.h, rendered from
 * the in-memory inventory on every request (no disk access). A malformed
 * MAC in a path is a 400, an unknown machine a 404 (plan9.ini) or the
 * unknown-client policy (iPXE, U-Boot). */
#include "http/http.h"
#include "boot/bootfiles.h"
#include "core/events.h"
#include "core/util.h"

#include <string.h>

bool
http_boot(struct MHD_Connection *c, struct http_req *r, const char *path,
    enum MHD_Result *res)
{
	uint8_t client[6];
	bool has_client = http_client_mac(r->h, c, client);
	struct genfile g;

	switch (bootfiles_generate(r->h->d->inv, path, has_client ? client : NULL, &g)) {
	case GEN_NOT_GENERATED:
		return false;
	case GEN_BAD_NAME:
		r->route = RT_BOOT;
		*res = http_error(c, r, 400, "%s: not a MAC address (12 hex digits)", path);
		return true;
	case GEN_NOT_FOUND:
		r->route = RT_BOOT;
		*res = http_error(c, r, 404, "%s: no such machine in the inventory", path);
		return true;
	case GEN_OK:
		break;
	}
	r->route = RT_BOOT;
	if (g.has_mac || has_client)
		events_emit(g.has_mac ? g.mac : client, EVK_HTTP, "GET /%s", path);
	*res = http_reply_text(c, r, 200, g.content_type, g.data, g.len);
	return true;
}
