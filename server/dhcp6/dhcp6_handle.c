/* One DHCPv6 message in, one answer out (see dhcp6_handle.h). */
#include "dhcp6/dhcp6_handle.h"
#include "dhcp6/dhcp6_lease.h"
#include "config/discovered.h"
#include "core/hash.h"
#include "core/util.h"

#include <string.h>

const struct machine *
dhcp6_machine(const struct inventory *inv, const struct d6_msg *req)
{
	const struct machine *m = inv_machine_by_duid(inv, req->duid, req->duid_len);

	if (m == NULL && req->has_mac)
		m = inv_machine_by_mac(inv, req->mac);
	return m;
}

bool
dhcp6_mac_from_eui64(const uint8_t a[16], uint8_t mac[6])
{
	if (a[11] != 0xff || a[12] != 0xfe)
		return false;
	mac[0] = a[8] ^ 0x02;   /* the universal/local bit, inverted in EUI-64 */
	mac[1] = a[9];
	mac[2] = a[10];
	mac[3] = a[13];
	mac[4] = a[14];
	mac[5] = a[15];
	return (mac[0] & 1) == 0;
}

void
dhcp6_boot_query(const struct inventory *inv, const struct d6_msg *req,
    const struct machine *m, const char *host6, struct boot_query *q)
{
	memset(q, 0, sizeof *q);
	q->inv = inv;
	q->m = m;
	q->mac = req->has_mac ? req->mac : NULL;
	q->arch = req->arch;       /* option 61 shares option 93's registry */
	q->vendor = req->vendor;
	q->ipxe = req->ipxe;
	q->host6 = host6;
}

/* ---- addresses ---- */

static uint32_t
low32(const uint8_t a[16])
{
	return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

static void
set_low32(uint8_t a[16], uint32_t v)
{
	a[12] = (uint8_t)(v >> 24);
	a[13] = (uint8_t)(v >> 16);
	a[14] = (uint8_t)(v >> 8);
	a[15] = (uint8_t)v;
}

static bool
in_pool(const struct network *n, const uint8_t a[16])
{
	return !ip6_zero(n->pool6_lo) && memcmp(a, n->pool6_lo, 16) >= 0 &&
	    memcmp(a, n->pool6_hi, 16) <= 0;
}

/* Usable for this client: free (or its own) and no machine reserves it. */
static bool
usable(const struct dhcp6_ctx *c, const struct d6_msg *req, uint32_t iaid, const uint8_t a[16])
{
	return !dhcp6_lease_taken(c->leases, a, req->duid, req->duid_len, iaid, c->now_ms) &&
	    inv_machine_by_ip6(c->inv, a) == NULL;
}

/* The address for one IA, or false: the machine's reservation (its first
 * IA only), the IA's current binding, the address it asks for, then the
 * pool from a point that depends on the client, so a client tends to get
 * the same address even after its binding is gone. */
static bool
choose(const struct dhcp6_ctx *c, const struct d6_msg *req, const struct machine *m,
    int k, uint8_t out[16])
{
	const struct d6_ia *ia = &req->ia[k];
	const struct network *n = c->net;
	struct d6_lease *e = dhcp6_lease_find(c->leases, req->duid, req->duid_len, ia->iaid);

	if (k == 0 && m && m->v6 && m->v6->has_ip6 && m->v6->network6 == n) {
		memcpy(out, m->v6->ip6, 16);
		/* A stale holder of a reserved address loses it. */
		return true;
	}
	if (e && e->state != L6_DECLINED && in_pool(n, e->addr) && usable(c, req, ia->iaid, e->addr)) {
		memcpy(out, e->addr, 16);
		return true;
	}
	/* A new address for this client: bounded per DUID, so one client
	 * cycling IAIDs cannot drain the pool by itself. */
	if (dhcp6_lease_client_count(c->leases, req->duid, req->duid_len, c->now_ms) >=
	    D6_MAX_PER_CLIENT)
		return false;
	if (ia->has_addr && in_pool(n, ia->addr) && usable(c, req, ia->iaid, ia->addr)) {
		memcpy(out, ia->addr, 16);
		return true;
	}
	if (ip6_zero(n->pool6_lo))
		return false;
	uint32_t lo = low32(n->pool6_lo);
	uint64_t size = (uint64_t)low32(n->pool6_hi) - lo + 1;
	uint32_t h = fnv32(req->duid, req->duid_len);
	h ^= ia->iaid * 2654435761u;
	uint64_t start = h % size, tries = size < D6_POOL_PROBES ? size : D6_POOL_PROBES;
	memcpy(out, n->pool6_lo, 16);
	for (uint64_t t = 0; t < tries; t++) {
		set_low32(out, (uint32_t)(lo + (start + t) % size));
		if (usable(c, req, ia->iaid, out))
			return true;
	}
	return false;
}

static void
lifetimes(const struct network *n, struct d6_ia_out *o)
{
	o->valid = o->pref = n->lease;
	o->t1 = n->lease / 2;
	o->t2 = n->lease / 5 * 4;
}

/* Solicit, Request, Renew, Rebind in full mode: an address per IA.
 * bind: journal it (Reply); otherwise hold it as an offer (Advertise). */
static void
assign(const struct dhcp6_ctx *c, const struct d6_msg *req, struct dhcp6_out *o, bool bind)
{
	struct d6_reply *r = &o->reply;
	int got = 0;

	for (int k = 0; k < req->nia; k++) {
		const struct d6_ia *ia = &req->ia[k];
		struct d6_ia_out *io = &r->ia[r->nia++];
		uint8_t a[16];
		struct d6_client cl = { req->duid, req->duid_len, ia->iaid,
		    req->has_mac ? req->mac : NULL };

		io->iaid = ia->iaid;
		if (!choose(c, req, o->m, k, a)) {
			io->status = req->type == D6_RENEW || req->type == D6_REBIND ?
			    D6S_NO_BINDING : D6S_NO_ADDRS;
			if (ia->has_addr) {
				io->has_stale = true;
				memcpy(io->stale, ia->addr, 16);
			}
			continue;
		}
		int64_t until = c->now_ms + (int64_t)c->net->lease * 1000;
		if (bind) {
			if (dhcp6_lease_bind(c->leases, &cl, a, until) < 0) {
				io->status = D6S_UNSPEC_FAIL;
				o->why = "the lease journal could not be written";
				continue;
			}
			o->commit = true;
		} else if (!dhcp6_lease_offer(c->leases, &cl, a, c->now_ms + D6_OFFER_HOLD_MS)) {
			io->status = D6S_NO_ADDRS;
			o->why = "the lease table is full";
			continue;
		}
		io->has_addr = true;
		memcpy(io->addr, a, 16);
		lifetimes(c->net, io);
		if (ia->has_addr && memcmp(ia->addr, a, 16) != 0) {
			io->has_stale = true;   /* tell it to drop the old one */
			memcpy(io->stale, ia->addr, 16);
		}
		got++;
	}
	if (req->nia > 0 && got == 0 && o->why == NULL)
		o->why = "no address available";
}

static void
release(const struct dhcp6_ctx *c, const struct d6_msg *req, bool decline)
{
	for (int k = 0; k < req->nia; k++) {
		const struct d6_ia *ia = &req->ia[k];
		struct d6_lease *e = dhcp6_lease_find(c->leases, req->duid, req->duid_len, ia->iaid);
		if (e == NULL || e->state != L6_BOUND ||
		    (ia->has_addr && memcmp(ia->addr, e->addr, 16) != 0))
			continue;
		if (decline)
			dhcp6_lease_decline(c->leases, e->addr, c->now_ms + D6_DECLINE_MS);
		else
			dhcp6_lease_release(c->leases, e);
	}
}

/* An unknown netbooting machine with a MAC is recorded as discovered,
 * as DHCPv4 does (the API's unknown machines, enroll over IPv6), within
 * the store's one budget of new records (discovered_admit). */
static void
record_unknown(const struct dhcp6_ctx *c, const struct d6_msg *req)
{
	if (discovered_admit(req->mac, c->now_ms))
		discovered_seen(req->mac, req->arch, req->vendor, "");
}

static void
boot_options(const struct dhcp6_ctx *c, const struct d6_msg *req, struct dhcp6_out *o)
{
	struct boot_query q;

	dhcp6_boot_query(c->inv, req, o->m, c->host6, &q);
	boot_decide(&q, &o->boot);
	if (o->m == NULL && req->has_mac && o->boot.client != BC_PLAIN && o->boot.client != BC_PLAN9)
		record_unknown(c, req);
	if (o->boot.boot && c->host6 == NULL) {
		o->boot.boot = false;
		str_copy(o->boot.why, "no IPv6 address of ours to put in a boot URL (set grid.server6)",
		    sizeof o->boot.why);
	}
	if (o->boot.boot) {
		o->reply.url = o->boot.file;
		o->reply.http_client = o->boot.http_client;
	}
	if (c->net->ndns6 > 0 && c->net->dhcp6 == DHCP_FULL) {
		o->reply.dns = c->net->dns6;
		o->reply.ndns = c->net->ndns6;
	}
}

static bool
ours(const struct dhcp6_ctx *c, const struct d6_msg *req)
{
	return req->sid_len == c->sid_len && memcmp(req->sid, c->sid, c->sid_len) == 0;
}

/* RFC 8415 16: which identifiers each message must and must not carry. */
static const char *
invalid(const struct dhcp6_ctx *c, const struct d6_msg *req)
{
	switch (req->type) {
	case D6_SOLICIT: case D6_CONFIRM: case D6_REBIND:
		if (req->duid_len == 0)
			return "no client identifier";
		if (req->sid_len)
			return "a server identifier where none belongs";
		return NULL;
	case D6_REQUEST: case D6_RENEW: case D6_RELEASE: case D6_DECLINE:
		if (req->duid_len == 0)
			return "no client identifier";
		if (!ours(c, req))
			return "for another server";
		return NULL;
	case D6_INFORMATION_REQUEST:
		if (req->sid_len && !ours(c, req))
			return "for another server";
		if (req->nia > 0)
			return "an IA in an Information-request";
		return NULL;
	}
	return "not a client message";
}

static void
confirm(const struct dhcp6_ctx *c, const struct d6_msg *req, struct dhcp6_out *o)
{
	bool any = false, on = true;

	for (int k = 0; k < req->nia; k++)
		if (req->ia[k].has_addr) {
			any = true;
			on &= ip6_in(req->ia[k].addr, c->net->subnet6, c->net->prefix6);
		}
	if (!any) {
		o->why = "a Confirm with no address";
		return;
	}
	o->send = true;
	o->reply.has_status = true;
	o->reply.status = on ? D6S_SUCCESS : D6S_NOT_ON_LINK;
}

static void
handle_proxy(const struct dhcp6_ctx *c, const struct d6_msg *req, struct dhcp6_out *o)
{
	struct d6_reply *r = &o->reply;

	if (req->type != D6_SOLICIT && req->type != D6_REQUEST &&
	    req->type != D6_INFORMATION_REQUEST) {
		o->why = "proxy mode: the site's server answers this";
		return;
	}
	boot_options(c, req, o);
	if (!o->boot.boot) {
		o->why = "proxy mode: not a netbooting client";
		return;
	}
	o->send = true;
	r->type = req->type == D6_SOLICIT ? D6_ADVERTISE : D6_REPLY;
	/* Each IA back without an address: the site's server gives those. */
	for (int k = 0; k < req->nia; k++) {
		r->ia[r->nia].iaid = req->ia[k].iaid;
		r->ia[r->nia++].status = D6S_NO_ADDRS;
	}
	o->why = "proxy mode: boot options only";
}

void
dhcp6_handle(const struct dhcp6_ctx *c, const struct d6_msg *req, struct dhcp6_out *o)
{
	struct d6_reply *r = &o->reply;

	memset(o, 0, sizeof *o);
	r->type = D6_REPLY;
	if ((o->why = invalid(c, req)) != NULL)
		return;
	o->m = dhcp6_machine(c->inv, req);
	if (c->net->dhcp6 == DHCP_PROXY) {
		handle_proxy(c, req, o);
		return;
	}
	switch (req->type) {
	case D6_SOLICIT:
		o->send = true;
		r->rapid = req->rapid;
		r->type = req->rapid ? D6_REPLY : D6_ADVERTISE;
		/* Preference 255 (RFC 8415 18.2.1): the client requests at
		 * once instead of collecting Advertises for its first
		 * retransmission time; OVMF's PXE waited 5 s without it. In
		 * full mode this server is the network's; proxy mode
		 * (below) leaves the choice to the site's server. */
		r->preference = !req->rapid;
		assign(c, req, o, req->rapid);
		boot_options(c, req, o);
		break;
	case D6_REQUEST: case D6_RENEW: case D6_REBIND:
		o->send = true;
		assign(c, req, o, true);
		boot_options(c, req, o);
		break;
	case D6_RELEASE: case D6_DECLINE:
		release(c, req, req->type == D6_DECLINE);
		o->send = true;
		r->has_status = true;
		r->status = D6S_SUCCESS;
		break;
	case D6_CONFIRM:
		confirm(c, req, o);
		break;
	case D6_INFORMATION_REQUEST:
		o->send = true;
		boot_options(c, req, o);
		break;
	}
}
