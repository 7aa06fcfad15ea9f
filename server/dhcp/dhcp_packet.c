/* DHCP parsing and building. Every option carries a minimum (and where the
 * RFC fixes it, an exact) length; a known option with the wrong length
 * makes the whole packet malformed rather than half-understood. */
#include "dhcp/dhcp_packet.h"
#include "core/buf.h"
#include "core/util.h"

#include <string.h>

const char *const dhcp_perr_name[DP_NPERR] = {
	"ok", "short", "op", "hlen", "magic", "option", "overload", "type",
};

const char *
dhcp_type_name(int type)
{
	static const char *const names[] = {
		"?", "discover", "offer", "request", "decline", "ack", "nak",
		"release", "inform",
	};
	return type >= 1 && type <= 8 ? names[type] : "?";
}

/* Length rules for the options we read: exact when min == max. */
static const struct { uint8_t code, min, max; } optlen[] = {
	{ 12, 1, 255 }, { 50, 4, 4 }, { 52, 1, 1 }, { 53, 1, 1 }, { 54, 4, 4 },
	{ 55, 1, 255 }, { 57, 2, 2 }, { 60, 1, 255 }, { 61, 2, 255 },
	{ 77, 1, 255 }, { 93, 2, 254 }, { 97, 17, 17 },
};

static bool
len_ok(uint8_t code, size_t len)
{
	for (size_t i = 0; i < nelem(optlen); i++)
		if (optlen[i].code == code)
			return len >= optlen[i].min && len <= optlen[i].max;
	return true;
}

/* Copies option text so it can be logged and compared safely. */
static void
text_copy(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	size_t n = MIN(len, cap - 1);

	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[n] = '\0';
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 3004 wraps each user class in a length byte; iPXE sends the bare
 * string. Accept both spellings of "iPXE". */
static bool
is_ipxe_class(const uint8_t *v, size_t len)
{
	if (len == 4 && memcmp(v, "iPXE", 4) == 0)
		return true;
	return len >= 5 && v[0] == 4 && memcmp(v + 1, "iPXE", 4) == 0;
}

/* Stores one option. The first occurrence wins: a repeated option is
 * ignored rather than concatenated (RFC 3396), since none we read needs
 * more than 255 bytes. */
static void
take(struct dhcp_msg *m, uint8_t code, const uint8_t *v, size_t len, uint64_t *seen)
{
	if (code < 64 ? (seen[0] >> code & 1) : code < 128 ? (seen[1] >> (code - 64) & 1) : false)
		return;
	if (code < 64)
		seen[0] |= 1ull << code;
	else if (code < 128)
		seen[1] |= 1ull << (code - 64);
	switch (code) {
	case 12: text_copy(m->hostname, sizeof m->hostname, v, len); break;
	case 50: m->reqip = be32(v); break;
	case 52: m->overload = v[0]; break;
	case 53: m->type = v[0]; break;
	case 54: m->serverid = be32(v); break;
	case 55: memcpy(m->params, v, len); m->nparams = len; break;
	case 57: m->maxsize = (uint16_t)(v[0] << 8 | v[1]); break;
	case 60: text_copy(m->vendor, sizeof m->vendor, v, len); break;
	case 61:
		m->clientid_len = MIN(len, sizeof m->clientid);
		memcpy(m->clientid, v, m->clientid_len);
		break;
	case 77:
		text_copy(m->userclass, sizeof m->userclass, v, len);
		if (is_ipxe_class(v, len))
			m->ipxe = true;
		break;
	case 93: m->arch = v[0] << 8 | v[1]; break;
	case 97: memcpy(m->uuid, v, 17); m->has_uuid = true; break;
	case 175: m->ipxe = true; break;
	}
}

/* Walks one option area. in_main says whether option 52 may appear. */
static enum dhcp_perr
parse_area(struct rd *r, struct dhcp_msg *m, bool in_main, uint64_t *seen)
{
	while (rd_left(r) > 0) {
		uint8_t code = rd_u8(r);
		if (code == 0)
			continue;
		if (code == 255)
			return DP_OK;
		uint8_t len = rd_u8(r);
		struct rd v = rd_sub(r, len);
		if (r->err || v.err)
			return DP_OPTION;
		if (!len_ok(code, len))
			return DP_OPTION;
		if (code == 52 && !in_main)
			return DP_OVERLOAD;
		take(m, code, v.p, len, seen);
	}
	/* A missing END is tolerated: many PXE ROMs pad with zeros instead. */
	return r->err ? DP_OPTION : DP_OK;
}

static void
parse_fixed(struct rd *r, struct dhcp_msg *m)
{
	m->op = rd_u8(r);
	m->htype = rd_u8(r);
	m->hlen = rd_u8(r);
	m->hops = rd_u8(r);
	m->xid = rd_be32(r);
	m->secs = rd_be16(r);
	m->flags = rd_be16(r);
	m->ciaddr = rd_be32(r);
	m->yiaddr = rd_be32(r);
	m->siaddr = rd_be32(r);
	m->giaddr = rd_be32(r);
	const uint8_t *ch = rd_bytes(r, 16);
	if (ch)
		memcpy(m->chaddr, ch, 16);
}

enum dhcp_perr
dhcp_parse(const void *buf, size_t len, struct dhcp_msg *m)
{
	struct rd r = rd_make(buf, len);
	uint64_t seen[2] = { 0, 0 };
	enum dhcp_perr e;

	memset(m, 0, sizeof *m);
	m->arch = -1;
	if (len < DHCP_FIXED + 4)
		return DP_SHORT;
	parse_fixed(&r, m);
	struct rd sname = rd_sub(&r, 64);
	struct rd file = rd_sub(&r, 128);
	if (r.err)
		return DP_SHORT;
	if (m->op != 1)
		return DP_OP;
	if (m->hlen == 0 || m->hlen > 16 || (m->htype == 1 && m->hlen != 6))
		return DP_HLEN;
	if (rd_be32(&r) != DHCP_MAGIC)
		return DP_MAGIC;
	if ((e = parse_area(&r, m, true, seen)) != DP_OK)
		return e;
	if (m->overload > 3)
		return DP_OVERLOAD;
	/* RFC 2131 4.1: the file field is read before sname. */
	if ((m->overload & 1) && (e = parse_area(&file, m, false, seen)) != DP_OK)
		return e == DP_OPTION ? DP_OVERLOAD : e;
	if ((m->overload & 2) && (e = parse_area(&sname, m, false, seen)) != DP_OK)
		return e == DP_OPTION ? DP_OVERLOAD : e;
	if (m->type < DHCPDISCOVER || m->type > DHCPINFORM)
		return DP_TYPE;
	return DP_OK;
}

bool
dhcp_wants(const struct dhcp_msg *m, uint8_t code)
{
	return memchr(m->params, code, m->nparams) != NULL;
}

void
dhcp_reply_init(struct dhcp_reply *r, const struct dhcp_msg *req, uint8_t type)
{
	/* Option 57 counts the IP and UDP headers; 576 is every client's floor. */
	size_t lim = MAX(576u, req->maxsize) - 28;

	memset(r, 0, sizeof *r);
	r->type = type;
	r->flags = req->flags & DHCP_FLAG_BCAST;
	r->cap = MIN(lim, (size_t)DHCP_MAXREPLY);
	dhcp_opt(r, 53, &type, 1);
}

void
dhcp_opt(struct dhcp_reply *r, uint8_t code, const void *data, size_t len)
{
	/* Room: fixed part, cookie, this option, and the END byte. */
	size_t room = r->cap - (DHCP_FIXED + 4) - 1;

	if (len > 255 || r->optlen + 2 + len > room) {
		r->dropped++;
		return;
	}
	r->opts[r->optlen++] = code;
	r->opts[r->optlen++] = (uint8_t)len;
	if (len)
		memcpy(r->opts + r->optlen, data, len);
	r->optlen += len;
}

void
dhcp_opt_u32(struct dhcp_reply *r, uint8_t code, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	dhcp_opt(r, code, b, 4);
}

void
dhcp_opt_str(struct dhcp_reply *r, uint8_t code, const char *s)
{
	dhcp_opt(r, code, s, strlen(s));
}

size_t
dhcp_build(const struct dhcp_msg *req, const struct dhcp_reply *r, uint8_t *buf, size_t cap)
{
	struct wr w = wr_make(buf, cap);
	uint8_t zero[128] = { 0 };

	wr_u8(&w, 2);
	wr_u8(&w, req->htype);
	wr_u8(&w, req->hlen);
	wr_u8(&w, 0);
	wr_be32(&w, req->xid);
	wr_be16(&w, 0);
	wr_be16(&w, r->flags);
	wr_be32(&w, r->ciaddr);
	wr_be32(&w, r->yiaddr);
	wr_be32(&w, r->siaddr);
	wr_be32(&w, req->giaddr);
	wr_bytes(&w, req->chaddr, 16);
	wr_bytes(&w, zero, 64);             /* sname */
	uint8_t *file = wr_reserve(&w, 128);
	if (file) {
		memset(file, 0, 128);
		str_copy((char *)file, r->file, 128);
	}
	wr_be32(&w, DHCP_MAGIC);
	wr_bytes(&w, r->opts, r->optlen);
	wr_u8(&w, 255);
	while (!w.err && wr_len(&w) < DHCP_MINREPLY)
		wr_u8(&w, 0);
	return w.err ? 0 : wr_len(&w);
}
