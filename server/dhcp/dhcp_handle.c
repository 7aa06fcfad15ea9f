/* The DHCP state machine. Full mode hands out reservations and pool
 * addresses; proxy mode (and anything on port 4011) only answers PXE
 * clients, with boot fields and never an address. */
#include "dhcp/dhcp_handle.h"
#include "dhcp/dhcp_lease.h"
#include "config/discovered.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

static bool
in_net(const struct network *n, uint32_t ip)
{
	return ip != 0 && (ip & n->mask) == n->subnet && ip != n->subnet &&
	    ip != (n->subnet | ~n->mask);
}

static bool
in_pool(const struct network *n, uint32_t ip)
{
	return n->pool_lo && ip >= n->pool_lo && ip <= n->pool_hi;
}

/* A pool address mac may have: free in the table, nobody's reservation,
 * not one of the infrastructure addresses. */
static bool
usable(const struct dhcp_ctx *c, uint32_t ip, const uint8_t mac[6])
{
	return in_pool(c->net, ip) && ip != c->net->router && ip != c->server_id &&
	    ip != c->inv->grid.server && !dhcp_lease_taken(c->leases, ip, mac, c->now_ms) &&
	    inv_machine_by_ip(c->inv, ip) == NULL;
}

/* When a whole walk found the pool full, nothing frees before the first
 * of its leases, offers or declines runs out or the lease table changes:
 * until then a DISCOVER from yet another client is refused at once
 * instead of by another walk (~1 ms for a /16, so a flood of made-up
 * MACs would otherwise starve everyone else). Keyed by the network and
 * the inventory's serial (a reload may reuse the old one's memory); kept
 * in c->pools->full.
 *
 * Next-fit over the pool: first addresses nobody ever held (of this
 * instance's share, then of all), then any that ran out. The cursor (c->pools->cursor) makes a storm of new clients
 * O(1) each. */
static uint32_t
pool_pick(const struct dhcp_ctx *c, const uint8_t mac[6])
{
	const struct network *n = c->net;
	uint32_t size = n->pool_hi - n->pool_lo + 1;
	size_t slot = (size_t)(n - c->inv->networks) % nelem(c->pools->cursor);
	uint32_t *cur = &c->pools->cursor[slot];
	struct dhcp_pool_full *full = &c->pools->full[slot];
	unsigned long gen = dhcp_lease_generation(c->leases);
	int64_t first_free = INT64_MAX;
	struct dhcp_lease *e;

	if (full->net == n && full->serial == c->inv->serial && full->gen == gen &&
	    c->now_ms < full->until_ms)
		return 0;
	/* Instances sharing a store first try the addresses of their own
	 * share of the pool, so that two rarely pick one address at once
	 * (the database would refuse the second, and its client ask again). */
	for (int pass = c->share_n > 1 ? 0 : 1; pass < 3; pass++)
		for (uint32_t k = 0; k < size; k++) {
			uint32_t ip = n->pool_lo + (*cur)++ % size;
			if (pass == 0 && (ip - n->pool_lo) % c->share_n != c->share_me)
				continue;
			if ((pass == 2 || dhcp_lease_by_ip(c->leases, ip) == NULL) && usable(c, ip, mac))
				return ip;
			if (pass == 2 && (e = dhcp_lease_by_ip(c->leases, ip)) &&
			    e->until_ms > c->now_ms && e->until_ms < first_free)
				first_free = e->until_ms;
		}
	*full = (struct dhcp_pool_full){ n, c->inv->serial, gen, first_free };
	return 0;
}

/* The address for a DISCOVER: reservation, then the client's previous
 * address, then the one it asks for, then any free one. */
static uint32_t
choose_ip(const struct dhcp_ctx *c, const struct dhcp_msg *req, const struct machine *m)
{
	struct dhcp_lease *e;

	if (m && in_net(c->net, m->ip))
		return m->ip;
	if (c->net->pool_lo == 0)
		return 0;
	if ((e = dhcp_lease_by_mac(c->leases, req->chaddr)) && usable(c, e->ip, req->chaddr))
		return e->ip;
	if (usable(c, req->reqip, req->chaddr))
		return req->reqip;
	return pool_pick(c, req->chaddr);
}

/* May this client hold ip on this network? */
static bool
may_hold(const struct dhcp_ctx *c, const struct dhcp_msg *req, const struct machine *m, uint32_t ip)
{
	if (m && in_net(c->net, m->ip))
		return ip == m->ip;
	return usable(c, ip, req->chaddr);
}

static void
uuid_text(const struct dhcp_msg *req, char out[40])
{
	const uint8_t *u = req->uuid + 1;

	out[0] = '\0';
	if (req->has_uuid)
		snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
		    u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* Unknown machines are recorded as discovered within the store's one
 * budget of new records a second (discovered_admit); known ones only
 * update last_seen. */
static void
record_unknown(const struct dhcp_ctx *c, const struct dhcp_msg *req)
{
	char uuid[40];

	if (!discovered_admit(req->chaddr, c->now_ms))
		return;
	uuid_text(req, uuid);
	discovered_seen(req->chaddr, req->arch, req->vendor, uuid);
}

static void
decide(const struct dhcp_ctx *c, const struct dhcp_msg *req, uint32_t yiaddr, struct dhcp_out *o)
{
	struct boot_query q = {
		.inv = c->inv, .m = o->m, .mac = req->chaddr, .arch = req->arch, .vendor = req->vendor,
		.ipxe = req->ipxe, .yiaddr = yiaddr, .mask = c->net->mask,
		.router = c->net->router,
	};

	boot_decide(&q, &o->boot);
	if (o->m == NULL && o->boot.client != BC_PLAIN && o->boot.client != BC_PLAN9 &&
	    req->htype == 1)
		record_unknown(c, req);
}

/* Boot fields shared by every reply that carries them. */
static void
put_boot(struct dhcp_reply *r, const struct boot_answer *b)
{
	if (b->opt43_len)
		dhcp_opt(r, 43, b->opt43, b->opt43_len);
	if (!b->boot)
		return;
	r->siaddr = b->siaddr;
	str_copy(r->file, b->file, sizeof r->file);
	if (b->http_client)
		dhcp_opt_str(r, 60, "HTTPClient");
	if (b->opt66[0])
		dhcp_opt_str(r, 66, b->opt66);
	dhcp_opt_str(r, 67, b->file);
}

static void
put_net(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_reply *r,
    uint32_t lease)
{
	const struct network *n = c->net;
	uint8_t dns[4 * MAXADDRS];

	dhcp_opt_u32(r, 54, c->server_id);
	if (lease) {
		dhcp_opt_u32(r, 51, lease);
		dhcp_opt_u32(r, 58, lease / 2);
		dhcp_opt_u32(r, 59, lease / 8 * 7);
	}
	dhcp_opt_u32(r, 1, n->mask);
	if (n->router)
		dhcp_opt_u32(r, 3, n->router);
	for (int i = 0; i < n->ndns; i++) {
		dns[4 * i] = (uint8_t)(n->dns[i] >> 24);
		dns[4 * i + 1] = (uint8_t)(n->dns[i] >> 16);
		dns[4 * i + 2] = (uint8_t)(n->dns[i] >> 8);
		dns[4 * i + 3] = (uint8_t)n->dns[i];
	}
	if (n->ndns)
		dhcp_opt(r, 6, dns, 4 * (size_t)n->ndns);
	if (dhcp_wants(req, 28))
		dhcp_opt_u32(r, 28, n->subnet | ~n->mask);
}

static void
reply(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o,
    uint8_t type, uint32_t yiaddr, bool lease)
{
	struct dhcp_reply *r = &o->reply;

	dhcp_reply_init(r, req, type);
	r->yiaddr = yiaddr;
	r->ciaddr = req->ciaddr;
	put_net(c, req, r, !lease ? 0 : o->lease_left ? o->lease_left : c->net->lease);
	put_boot(r, &o->boot);
	/* We are the whole answer: tell iPXE not to wait its 2 s for a
	 * ProxyDHCP offer that will never come (encapsulated option 175,
	 * setting 176 "no-pxedhcp" = 1). */
	if (o->boot.client == BC_IPXE && o->boot.boot) {
		static const uint8_t no_pxedhcp[] = { 176, 1, 1 };
		dhcp_opt(r, 175, no_pxedhcp, sizeof no_pxedhcp);
	}
	if (o->m && dhcp_wants(req, 12))
		dhcp_opt_str(r, 12, o->m->name);
	o->send = true;
}

static void
nak(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o, const char *why)
{
	dhcp_reply_init(&o->reply, req, DHCPNAK);
	dhcp_opt_u32(&o->reply, 54, c->server_id);
	dhcp_opt_str(&o->reply, 56, why);
	/* RFC 2131 4.3.2: a NAK through a relay asks it to broadcast. */
	if (req->giaddr)
		o->reply.flags |= DHCP_FLAG_BCAST;
	o->why = why;
	o->send = true;
}

static void
on_discover(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o)
{
	uint32_t ip;

	/* An offer would lead to a bind nothing can make durable now. */
	if (c->store_down && !(o->m && o->m->ip)) {
		o->why = "the store is away: no new leases";
		return;
	}
	ip = choose_ip(c, req, o->m);

	if (ip == 0) {
		o->why = c->net->pool_lo ? "pool exhausted" : "no reservation and no pool";
		return;
	}
	if (!(o->m && o->m->ip == ip))
		dhcp_lease_offer(c->leases, req->chaddr, ip, c->now_ms + DHCP_OFFER_HOLD_MS);
	decide(c, req, ip, o);
	reply(c, req, o, DHCPOFFER, ip, true);
}

static void
on_request(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o)
{
	uint32_t ip = req->reqip ? req->reqip : req->ciaddr;
	struct dhcp_lease *e;

	if (req->serverid && req->serverid != c->server_id) {
		/* It chose another server: our offer is void. */
		if ((e = dhcp_lease_by_mac(c->leases, req->chaddr)) && e->state == LS_OFFERED)
			dhcp_lease_withdraw(c->leases, e);
		o->why = "client chose another server";
		return;
	}
	if (ip == 0) {
		o->why = "request without an address";
		return;
	}
	if (!in_net(c->net, ip)) {
		nak(c, req, o, "address not on this network");
		return;
	}
	if (!may_hold(c, req, o->m, ip)) {
		nak(c, req, o, "address not available to this client");
		return;
	}
	if (c->store_down && !(o->m && o->m->ip == ip)) {
		/* Nothing new can be made durable: only what is already is
		 * promised again, the rest of a known lease. */
		e = dhcp_lease_by_mac(c->leases, req->chaddr);
		if (e == NULL || e->state != LS_BOUND || e->ip != ip ||
		    e->durable_ms - c->now_ms < 1000) {
			o->why = "the store is away: only renewals of known leases are answered";
			return;
		}
		o->lease_left = (uint32_t)((e->durable_ms - c->now_ms) / 1000);
	} else if (!(o->m && o->m->ip == ip) && (e = dhcp_lease_by_mac(c->leases, req->chaddr)) &&
	    e->state == LS_BOUND && e->ip == ip &&
	    e->durable_ms - c->now_ms > (int64_t)c->net->lease * 1000 / 8 * 7) {
		/* Renewed within the last eighth of its lease and durable: the
		 * same answer again, not another write. A client asking in a
		 * loop costs a store write per eighth of a lease, not each time. */
		o->lease_left = (uint32_t)((e->durable_ms - c->now_ms) / 1000);
	} else if (!(o->m && o->m->ip == ip)) {
		int64_t until = c->now_ms + (int64_t)c->net->lease * 1000;
		if (dhcp_lease_bind(c->leases, req->chaddr, ip, until, req->hostname) < 0) {
			o->why = "lease store write failed";
			return;
		}
		o->commit = true;
	}
	decide(c, req, ip, o);
	reply(c, req, o, DHCPACK, ip, true);
	/* RFC 2131 4.3.2's client states, for the timeline. */
	o->why = req->serverid ? "selecting" : req->reqip ? "init-reboot" :
	    req->giaddr ? "rebinding or renewing via a relay" : "renewing";
}

/* RFC 2131 4.3.3: the client that was offered or holds the address has
 * found it in use. Only that client: a DECLINE naming someone else's
 * address would take it away from them. */
static void
on_decline(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o)
{
	struct dhcp_lease *e = dhcp_lease_by_ip(c->leases, req->reqip);

	if (req->serverid != c->server_id || !in_pool(c->net, req->reqip) ||
	    (o->m && o->m->ip == req->reqip)) {
		o->why = "decline ignored: not one of our pool's offers";
		return;
	}
	if (e == NULL || !e->has_mac || memcmp(e->mac, req->chaddr, 6) != 0 ||
	    (e->state != LS_OFFERED && e->state != LS_BOUND)) {
		o->why = "decline ignored: not this client's address";
		return;
	}
	dhcp_lease_decline(c->leases, req->reqip, c->now_ms + DHCP_DECLINE_MS);
	o->why = "decline noted";
}

/* RFC 2131 4.3.4: the lease is named by chaddr and ciaddr together. */
static void
on_release(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o)
{
	struct dhcp_lease *e = dhcp_lease_by_mac(c->leases, req->chaddr);

	if (req->serverid != 0 && req->serverid != c->server_id) {
		o->why = "release ignored: for another server";
		return;
	}
	if (e == NULL || e->state != LS_BOUND || req->ciaddr == 0 || e->ip != req->ciaddr) {
		o->why = "release ignored: ciaddr is not this client's address";
		return;
	}
	dhcp_lease_release(c->leases, req->chaddr);
	o->why = "released";
}

static void
full_mode(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o)
{
	switch (req->type) {
	case DHCPDISCOVER:
		on_discover(c, req, o);
		break;
	case DHCPREQUEST:
		on_request(c, req, o);
		break;
	case DHCPDECLINE:
		on_decline(c, req, o);
		break;
	case DHCPRELEASE:
		on_release(c, req, o);
		break;
	case DHCPINFORM:
		/* The ACK goes to ciaddr (RFC 2131 4.3.5): only for an address
		 * of this network that sent it itself (or through a relay,
		 * which gets the reply), never aimed at a third host. */
		if (!in_net(c->net, req->ciaddr)) {
			o->why = "inform ignored: ciaddr not on this network";
			break;
		}
		if (!req->giaddr && c->src != req->ciaddr) {
			o->why = "inform ignored: not sent from ciaddr";
			break;
		}
		decide(c, req, req->ciaddr, o);
		reply(c, req, o, DHCPACK, 0, false);
		break;
	default:
		o->why = "not a client message";
	}
}

/* proxyDHCP (PXE spec 2.1, as pixiecore and dnsmasq do it): on port 67 an
 * OFFER without an address to PXE DISCOVERs; on port 4011 an ACK to the
 * REQUEST the ROM sends there. Never an address, never a lease. */
static void
proxy_mode(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o)
{
	static const uint8_t pxe43[] = { 6, 1, 8, 255 };   /* boot the file, skip discovery */
	uint8_t type;
	bool pxe = str_has_prefix(req->vendor, "PXEClient");

	if (!pxe && !str_has_prefix(req->vendor, "HTTPClient")) {
		o->why = "proxy mode: not a PXE client";
		return;
	}
	if (!c->proxy_port && req->type == DHCPDISCOVER)
		type = DHCPOFFER;
	else if (c->proxy_port && (req->type == DHCPREQUEST || req->type == DHCPINFORM))
		type = DHCPACK;
	else if (req->type == DHCPREQUEST && req->serverid == c->server_id)
		type = DHCPACK;
	else {
		o->why = "proxy mode: nothing to say to this message";
		return;
	}
	decide(c, req, 0, o);
	if (!o->boot.boot) {
		o->why = "proxy mode: no boot file for this client";
		return;
	}
	struct dhcp_reply *r = &o->reply;
	dhcp_reply_init(r, req, type);
	r->ciaddr = req->ciaddr;
	dhcp_opt_u32(r, 54, c->server_id);
	if (!o->boot.http_client)
		dhcp_opt_str(r, 60, pxe ? "PXEClient" : "HTTPClient");
	if (req->has_uuid)
		dhcp_opt(r, 97, req->uuid, 17);
	if (pxe)
		dhcp_opt(r, 43, pxe43, sizeof pxe43);
	put_boot(r, &o->boot);
	o->send = true;
}

void
dhcp_handle(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o)
{
	memset(o, 0, sizeof *o);
	if (req->htype == 1 && req->hlen == 6)
		o->m = inv_machine_by_mac(c->inv, req->chaddr);
	if (c->net->dhcp == DHCP_OFF)
		o->why = "dhcp is off on this network";
	else if (c->net->dhcp == DHCP_PROXY || c->proxy_port)
		proxy_mode(c, req, o);
	else
		full_mode(c, req, o);
}
