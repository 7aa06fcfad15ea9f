/* Generated boot files over HTTP: the paths of bootfiles.h, rendered from
 * the in-memory inventory on every request (no disk access). A malformed
 * MAC in a path is a 400, an unknown machine a 404 (plan9.ini) or the
 * unknown-client policy (iPXE, U-Boot). */
#include "http/http.h"
#include "boot/bootfiles.h"
#include "core/events.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* A client that came over IPv6 may have no IPv4 at all (iPXE on an
 * IPv6-only link): the URLs in its scripts name the address it reached
 * us at, http://[ADDR][:PORT]. NULL (grid.server's URLs) over IPv4 and
 * for a link-local address, which would need the client's scope. */
static const char *
ipv6_base(struct MHD_Connection *c, const struct http_state *h, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_in6 me;
	socklen_t len = sizeof me;
	char a[INET6_ADDRSTRLEN];

	if (ci == NULL || getsockname(ci->connect_fd, (struct sockaddr *)&me, &len) < 0 ||
	    me.sin6_family != AF_INET6 || IN6_IS_ADDR_V4MAPPED(&me.sin6_addr) ||
	    IN6_IS_ADDR_LINKLOCAL(&me.sin6_addr) || IN6_IS_ADDR_LOOPBACK(&me.sin6_addr))
		return NULL;
	inet_ntop(AF_INET6, &me.sin6_addr, a, sizeof a);
	int port = h->d->inv->grid.http_port;
	if (port == 80)
		snprintf(out, cap, "http://[%s]", a);
	else
		snprintf(out, cap, "http://[%s]:%d", a, port);
	return out;
}

bool
http_boot(struct MHD_Connection *c, struct http_req *r, const char *path,
    enum MHD_Result *res)
{
	uint8_t client[6];
	bool has_client = http_client_mac(r->h, c, client);
	struct genfile g;
	char b6[80];
	const char *base = ipv6_base(c, r->h, b6, sizeof b6);

	switch (bootfiles_generate_at(r->h->d->inv, path, has_client ? client : NULL, base, &g)) {
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
