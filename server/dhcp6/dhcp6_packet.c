/* DHCPv6 parse and build (see dhcp6_packet.h). Every option is read
 * through a sub-reader of its declared length, so an option that claims
 * more than is left is a drop, never an over-read; relay layers are walked
 * in a loop (not recursion) and stop at D6_MAX_HOPS. */
#include "dhcp6/dhcp6_packet.h"
#include "core/buf.h"

#include <string.h>

const char *const dhcp6_perr_name[D6P_NPERR] = {
	"ok", "short", "type", "option", "hops", "no_relay_msg", "duid", "ia", "too_many_ia",
};

const char *
dhcp6_type_name(int type)
{
	static const char *const names[] = {
		"?", "SOLICIT", "ADVERTISE", "REQUEST", "CONFIRM", "RENEW", "REBIND",
		"REPLY", "RELEASE", "DECLINE", "RECONFIGURE", "INFORMATION-REQUEST",
		"RELAY-FORW", "RELAY-REPL",
	};
	return type > 0 && type < D6_NTYPES ? names[type] : names[0];
}

/* One option header and a reader over its body; false at the end or on
 * an option running past its container (then r->err is set). */
static bool
next_opt(struct rd *r, uint16_t *code, struct rd *body)
{
	if (rd_left(r) == 0)
		return false;
	*code = rd_be16(r);
	uint16_t len = rd_be16(r);
	*body = rd_sub(r, len);
	return !r->err;
}

static enum d6_perr
parse_relay(struct rd *r, struct d6_relay *rel, struct rd *inner)
{
	struct rd o;
	uint16_t code;
	bool have = false;

	rel->hops = rd_u8(r);
	const uint8_t *link = rd_bytes(r, 16), *peer = rd_bytes(r, 16);
	if (r->err)
		return D6P_SHORT;
	memcpy(rel->link, link, 16);
	memcpy(rel->peer, peer, 16);
	while (next_opt(r, &code, &o)) {
		switch (code) {
		case D6O_RELAY_MSG:
			if (!have)
				*inner = o;
			have = true;
			break;
		case D6O_INTERFACE_ID:
			rel->ifid = o.p;
			rel->ifid_len = rd_left(&o);
			break;
		case D6O_CLIENT_LINKLAYER:
			if (rd_be16(&o) == 1 && rd_left(&o) == 6) {
				memcpy(rel->ll, o.p, 6);
				rel->has_ll = true;
			}
			break;
		}
	}
	if (r->err)
		return D6P_OPTION;
	return have ? D6P_OK : D6P_NO_MSG;
}

static bool
read_duid(struct rd *o, uint8_t *out, size_t *len)
{
	size_t n = rd_left(o);

	/* A DUID is a 2-byte type and 1..128 bytes (RFC 8415 11.1). */
	if (n < 3 || n > DUID_MAX)
		return false;
	memcpy(out, o->p, n);
	*len = n;
	return true;
}

static enum d6_perr
parse_ia(struct rd *o, struct d6_msg *m)
{
	struct d6_ia *ia;
	struct rd s;
	uint16_t code;

	if (m->nia == D6_MAX_IA)
		return D6P_TOO_MANY_IA;
	ia = &m->ia[m->nia];
	memset(ia, 0, sizeof *ia);
	ia->iaid = rd_be32(o);
	ia->t1 = rd_be32(o);
	ia->t2 = rd_be32(o);
	if (o->err)
		return D6P_IA;
	while (next_opt(o, &code, &s)) {
		if (code != D6O_IAADDR || ia->has_addr)
			continue;
		const uint8_t *a = rd_bytes(&s, 16);
		rd_skip(&s, 8);         /* lifetimes: the client's wish, not ours */
		if (s.err)
			return D6P_IA;
		memcpy(ia->addr, a, 16);
		ia->has_addr = true;
	}
	if (o->err)
		return D6P_IA;
	/* Two IA_NAs with one IAID would be two answers for one binding. */
	for (int i = 0; i < m->nia; i++)
		if (m->ia[i].iaid == ia->iaid)
			return D6P_IA;
	m->nia++;
	return D6P_OK;
}

/* Option 15 and 16 bodies: a list of (2-byte length, data). */
static void
class_data(struct rd *o, char *first, size_t cap, bool *ipxe)
{
	while (rd_left(o) >= 2) {
		uint16_t n = rd_be16(o);
		const uint8_t *d = rd_bytes(o, n);
		if (d == NULL)
			return;
		if (first && first[0] == '\0') {
			size_t k = n < cap - 1 ? n : cap - 1;
			for (size_t i = 0; i < k; i++)
				first[i] = d[i] >= ' ' && d[i] < 0x7f ? (char)d[i] : '?';
			first[k] = '\0';
		}
		if (ipxe && n == 4 && memcmp(d, "iPXE", 4) == 0)
			*ipxe = true;
	}
}

static void
mac_from_duid(struct d6_msg *m)
{
	uint16_t type = (uint16_t)(m->duid[0] << 8 | m->duid[1]);
	size_t at = type == 1 ? 8 : type == 3 ? 4 : 0;

	/* DUID-LLT: type, hardware type, time, address; DUID-LL: no time. */
	if (at && m->duid_len == at + 6 && m->duid[2] == 0 && m->duid[3] == 1) {
		memcpy(m->mac, m->duid + at, 6);
		m->has_mac = true;
	} else if (m->nrelay > 0 && m->relay[m->nrelay - 1].has_ll) {
		memcpy(m->mac, m->relay[m->nrelay - 1].ll, 6);
		m->has_mac = true;
	}
}

static enum d6_perr
parse_client(struct rd *r, struct d6_msg *m)
{
	struct rd o;
	uint16_t code;
	enum d6_perr e;

	m->arch = -1;
	const uint8_t *x = rd_bytes(r, 3);
	if (x == NULL)
		return D6P_SHORT;
	memcpy(m->xid, x, 3);
	while (next_opt(r, &code, &o)) {
		switch (code) {
		case D6O_CLIENTID:
			if (m->duid_len == 0 && !read_duid(&o, m->duid, &m->duid_len))
				return D6P_DUID;
			break;
		case D6O_SERVERID:
			if (m->sid_len == 0 && !read_duid(&o, m->sid, &m->sid_len))
				return D6P_DUID;
			break;
		case D6O_IA_NA:
			if ((e = parse_ia(&o, m)) != D6P_OK)
				return e;
			break;
		case D6O_IA_TA:
			m->has_ia_ta = true;
			break;
		case D6O_RAPID_COMMIT:
			m->rapid = true;
			break;
		case D6O_ORO:
			while (rd_left(&o) >= 2) {
				uint16_t want = rd_be16(&o);
				m->oro_dns |= want == D6O_DNS_SERVERS;
				m->oro_boot |= want == D6O_BOOTFILE_URL;
			}
			break;
		case D6O_CLIENT_ARCH:
			if (m->arch < 0 && rd_left(&o) >= 2)
				m->arch = rd_be16(&o);
			break;
		case D6O_VENDOR_CLASS:
			rd_skip(&o, 4);     /* enterprise number */
			class_data(&o, m->vendor, sizeof m->vendor, NULL);
			break;
		case D6O_USER_CLASS:
			class_data(&o, NULL, 0, &m->ipxe);
			break;
		}
	}
	if (r->err)
		return D6P_OPTION;
	if (m->duid_len)
		mac_from_duid(m);
	return D6P_OK;
}

enum d6_perr
dhcp6_parse(const void *buf, size_t len, struct d6_msg *m)
{
	struct rd r = rd_make(buf, len);
	enum d6_perr e;

	memset(m, 0, sizeof *m);
	for (;;) {
		m->type = rd_u8(&r);
		if (r.err)
			return D6P_SHORT;
		if (m->type != D6_RELAY_FORW)
			break;
		if (m->nrelay == D6_MAX_HOPS)
			return D6P_HOPS;
		struct rd inner;
		if ((e = parse_relay(&r, &m->relay[m->nrelay++], &inner)) != D6P_OK)
			return e;
		r = inner;
	}
	switch (m->type) {
	case D6_SOLICIT: case D6_REQUEST: case D6_CONFIRM: case D6_RENEW: case D6_REBIND:
	case D6_RELEASE: case D6_DECLINE: case D6_INFORMATION_REQUEST:
		return parse_client(&r, m);
	default:
		return D6P_TYPE;
	}
}

/* ---- building ---- */

static uint8_t *
opt_begin(struct wr *w, uint16_t code)
{
	wr_be16(w, code);
	return wr_reserve(w, 2);
}

static void
opt_end(struct wr *w, uint8_t *lenp)
{
	if (lenp == NULL || w->err)
		return;
	size_t n = (size_t)(w->p - lenp - 2);
	lenp[0] = (uint8_t)(n >> 8);
	lenp[1] = (uint8_t)n;
}

static void
opt_bytes(struct wr *w, uint16_t code, const void *data, size_t n)
{
	wr_be16(w, code);
	wr_be16(w, (uint16_t)n);
	wr_bytes(w, data, n);
}

static void
put_status(struct wr *w, uint16_t status)
{
	static const char *const msg[] = {
		"", "failure", "no addresses available", "no binding for this IA",
		"not on link", "use multicast",
	};
	const char *s = status < 6 ? msg[status] : "";
	uint8_t *l = opt_begin(w, D6O_STATUS_CODE);
	wr_be16(w, status);
	wr_bytes(w, s, strlen(s));
	opt_end(w, l);
}

static void
put_iaaddr(struct wr *w, const uint8_t addr[16], uint32_t pref, uint32_t valid)
{
	uint8_t *l = opt_begin(w, D6O_IAADDR);
	wr_bytes(w, addr, 16);
	wr_be32(w, pref);
	wr_be32(w, valid);
	opt_end(w, l);
}

static void
put_ia(struct wr *w, const struct d6_ia_out *ia)
{
	uint8_t *l = opt_begin(w, D6O_IA_NA);
	wr_be32(w, ia->iaid);
	wr_be32(w, ia->t1);
	wr_be32(w, ia->t2);
	if (ia->has_addr)
		put_iaaddr(w, ia->addr, ia->pref, ia->valid);
	if (ia->has_stale)
		put_iaaddr(w, ia->stale, 0, 0);
	if (ia->status != D6S_SUCCESS)
		put_status(w, ia->status);
	opt_end(w, l);
}

static void
put_client(struct wr *w, const struct d6_msg *req, const struct d6_reply *r,
    const uint8_t *sid, size_t sid_len)
{
	wr_u8(w, r->type);
	wr_bytes(w, req->xid, 3);
	opt_bytes(w, D6O_SERVERID, sid, sid_len);
	if (req->duid_len)
		opt_bytes(w, D6O_CLIENTID, req->duid, req->duid_len);
	if (r->rapid)
		opt_bytes(w, D6O_RAPID_COMMIT, NULL, 0);
	if (r->preference)
		opt_bytes(w, D6O_PREFERENCE, "\xff", 1);
	if (r->has_status)
		put_status(w, r->status);
	for (int i = 0; i < r->nia; i++)
		put_ia(w, &r->ia[i]);
	if (r->ndns > 0)
		opt_bytes(w, D6O_DNS_SERVERS, r->dns, 16 * (size_t)r->ndns);
	if (r->url)
		opt_bytes(w, D6O_BOOTFILE_URL, r->url, strlen(r->url));
	if (r->param) {
		/* A list of (2-byte length, parameter) (RFC 5970 3.2). */
		uint8_t *l = opt_begin(w, D6O_BOOTFILE_PARAM);
		wr_be16(w, (uint16_t)strlen(r->param));
		wr_bytes(w, r->param, strlen(r->param));
		opt_end(w, l);
	}
	if (r->http_client) {
		/* UEFI HTTP Boot wants its class echoed (UEFI 2.x 24.7.2). */
		uint8_t *l = opt_begin(w, D6O_VENDOR_CLASS);
		wr_be32(w, 343);
		wr_be16(w, 10);
		wr_bytes(w, "HTTPClient", 10);
		opt_end(w, l);
	}
}

size_t
dhcp6_build(const struct d6_msg *req, const struct d6_reply *r, const uint8_t *sid,
    size_t sid_len, uint8_t *out, size_t cap)
{
	/* Built inside out: the client's message, then each Relay-Reply
	 * around it, from the relay nearest the client to the one we answer. */
	uint8_t a[D6_MAXREPLY], b[D6_MAXREPLY];
	uint8_t *cur = a, *nxt = b;
	struct wr w = wr_make(cur, sizeof a);
	size_t n;

	put_client(&w, req, r, sid, sid_len);
	if (w.err)
		return 0;
	n = wr_len(&w);
	for (int i = req->nrelay - 1; i >= 0; i--) {
		const struct d6_relay *rel = &req->relay[i];
		struct wr v = wr_make(nxt, sizeof b);
		wr_u8(&v, D6_RELAY_REPL);
		wr_u8(&v, rel->hops);
		wr_bytes(&v, rel->link, 16);
		wr_bytes(&v, rel->peer, 16);
		if (rel->ifid)
			opt_bytes(&v, D6O_INTERFACE_ID, rel->ifid, rel->ifid_len);
		opt_bytes(&v, D6O_RELAY_MSG, cur, n);
		if (v.err)
			return 0;
		n = wr_len(&v);
		uint8_t *t = cur;
		cur = nxt;
		nxt = t;
	}
	if (n > cap)
		return 0;
	memcpy(out, cur, n);
	return n;
}
