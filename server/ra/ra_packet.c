/* RS and RA codecs (RFC 4861). Every byte read goes through struct rd. */
#include "ra/ra_packet.h"
#include "core/buf.h"

#include <string.h>

#define OPT_SLLA   1
#define OPT_PREFIX 3

const char *const ra_perr_name[RAP_NPERR] = {
	[RAP_OK] = "ok", [RAP_SHORT] = "short", [RAP_TYPE] = "type", [RAP_CODE] = "code",
	[RAP_HOPLIMIT] = "hoplimit", [RAP_SOURCE] = "source", [RAP_OPTION] = "option",
};

static bool
is_unspecified(const uint8_t a[16])
{
	static const uint8_t zero[16];
	return memcmp(a, zero, 16) == 0;
}

static bool
is_link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* The options after the fixed part: each a type, a length in units of 8
 * bytes (never 0: RFC 4861 6.1 says drop the whole message), a body. */
static enum ra_perr
parse_options(struct rd *r, struct ra_msg *m)
{
	while (rd_left(r) > 0) {
		uint8_t type = rd_u8(r);
		uint8_t units = rd_u8(r);
		if (r->err || units == 0 || rd_left(r) < (size_t)units * 8 - 2)
			return RAP_OPTION;
		struct rd o = rd_sub(r, (size_t)units * 8 - 2);
		const uint8_t *ll;
		if (type == OPT_SLLA && units == 1 && (ll = rd_bytes(&o, 6)) != NULL) {
			memcpy(m->slla, ll, 6);
			m->has_slla = true;
		} else if (type == OPT_PREFIX)
			m->nprefixes++;
	}
	return r->err ? RAP_OPTION : RAP_OK;
}

enum ra_perr
ra_parse(const uint8_t *msg, size_t len, const uint8_t src[16], int hoplimit, struct ra_msg *out)
{
	struct rd r = rd_make(msg, len);

	memset(out, 0, sizeof *out);
	out->type = rd_u8(&r);
	uint8_t code = rd_u8(&r);
	rd_be16(&r);                        /* checksum: the kernel's */
	if (r.err)
		return RAP_SHORT;
	if (out->type != ICMP6_RS && out->type != ICMP6_RA)
		return RAP_TYPE;
	if (code != 0)
		return RAP_CODE;
	if (hoplimit != 255)
		return RAP_HOPLIMIT;
	if (out->type == ICMP6_RS) {
		rd_be32(&r);                /* reserved */
		if (r.err)
			return RAP_SHORT;
		enum ra_perr e = parse_options(&r, out);
		if (e != RAP_OK)
			return e;
		if (is_unspecified(src) && out->has_slla)
			return RAP_SOURCE;
		return RAP_OK;
	}
	out->cur_hop_limit = rd_u8(&r);
	uint8_t flags = rd_u8(&r);
	out->router_lifetime = rd_be16(&r);
	rd_be32(&r);                        /* reachable time */
	rd_be32(&r);                        /* retrans timer */
	if (r.err)
		return RAP_SHORT;
	out->managed = flags & 0x80;
	out->other = flags & 0x40;
	if (!is_link_local(src))
		return RAP_SOURCE;
	return parse_options(&r, out);
}

size_t
ra_build(uint8_t *buf, size_t cap, bool managed, bool other, const uint8_t *onlink,
    int onlink_len, const uint8_t *mac)
{
	struct wr w = wr_make(buf, cap);

	wr_u8(&w, ICMP6_RA);
	wr_u8(&w, 0);
	wr_be16(&w, 0);                     /* checksum: the kernel fills it */
	wr_u8(&w, 0);                       /* cur hop limit: unspecified */
	wr_u8(&w, (uint8_t)((managed ? 0x80 : 0) | (other ? 0x40 : 0)));
	wr_be16(&w, 0);                     /* router lifetime 0: not a default router */
	wr_be32(&w, 0);                     /* reachable time: unspecified */
	wr_be32(&w, 0);                     /* retrans timer: unspecified */
	if (onlink) {
		wr_u8(&w, OPT_PREFIX);
		wr_u8(&w, 4);                   /* 32 bytes */
		wr_u8(&w, (uint8_t)onlink_len);
		wr_u8(&w, 0x80);                /* L: on-link; not A: no address */
		wr_be32(&w, RA_ONLINK_LIFETIME); /* valid lifetime */
		wr_be32(&w, 0);                 /* preferred lifetime */
		wr_be32(&w, 0);                 /* reserved */
		wr_bytes(&w, onlink, 16);
	}
	if (mac) {
		wr_u8(&w, OPT_SLLA);
		wr_u8(&w, 1);
		wr_bytes(&w, mac, 6);
	}
	return w.err ? 0 : wr_len(&w);
}

size_t
rs_build(uint8_t *buf, size_t cap, const uint8_t *mac)
{
	struct wr w = wr_make(buf, cap);

	wr_u8(&w, ICMP6_RS);
	wr_u8(&w, 0);
	wr_be16(&w, 0);
	wr_be32(&w, 0);                     /* reserved */
	if (mac) {
		wr_u8(&w, OPT_SLLA);
		wr_u8(&w, 1);
		wr_bytes(&w, mac, 6);
	}
	return w.err ? 0 : wr_len(&w);
}
