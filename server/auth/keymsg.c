/* The key process's message codec (keymsg.h): the header, and each type's
 * allowed body sizes in one table. */
#include "auth/keymsg.h"
#include "boot/nvram.h"
#include "core/buf.h"

#include <string.h>

struct kmsg_rule {
	uint8_t type;
	uint16_t min, max;
	uint16_t unit;          /* the body is a multiple of it (0: any) */
};

static const struct kmsg_rule rules[] = {
	{ KM_LOAD, 0, 0 },
	{ KM_TREQ, 1 + AUTH_TICKREQLEN, 1 + AUTH_TICKREQLEN },
	{ KM_YS, AUTH_PAKYLEN, 2 * AUTH_PAKYLEN, AUTH_PAKYLEN },
	{ KM_PASSREQ, 1 + AUTH_PASSREQLEN0, 1 + AUTH_PASSREQLEN1 },	/* checked: one of two */
	{ KM_END, 0, 0 },
	{ KM_RSTART, KM_RSTART_LEN, KM_RSTART_LEN },
	{ KM_RIN, 2, KM_RIN_MAX },
	{ KM_NVRAM, KM_NVRAM_LEN, KM_NVRAM_LEN },
	{ KM_LOADED, 5, 5 + 200 },
	{ KM_AREPLY, KM_AREPLY_HDR, KM_AREPLY_HDR + 1 + 2 * AUTH_MAXTICKETLEN },
	{ KM_RREPLY, KM_RREPLY_HDR, KM_RREPLY_HDR + 256 + 256 },
	{ KM_NVIMG, 1 + NVRAM_LEN, 1 + NVRAM_LEN },
	{ KM_LOG, 2, 1 + 240 },
	{ KM_REFUSED, 1, 120 },
};

static const struct kmsg_rule *
rule_of(uint8_t type)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (rules[i].type == type)
			return &rules[i];
	return NULL;
}

bool
kmsg_len_ok(uint8_t type, size_t len)
{
	const struct kmsg_rule *r = rule_of(type);
	if (r == NULL || len < r->min || len > r->max || (r->unit && len % r->unit))
		return false;
	/* a Passwordreq is of one form or the other, nothing between */
	return type != KM_PASSREQ || len == 1 + AUTH_PASSREQLEN0 || len == 1 + AUTH_PASSREQLEN1;
}

size_t
kmsg_encode(uint8_t *buf, size_t cap, uint8_t type, uint32_t tag, const void *body, size_t len)
{
	if (!kmsg_len_ok(type, len) || cap < KMSG_HDR + len)
		return 0;
	struct wr w = wr_make(buf, cap);
	wr_u8(&w, type);
	wr_u8(&w, 0);
	wr_le16(&w, (uint16_t)len);
	wr_le32(&w, tag);
	if (len)
		wr_bytes(&w, body, len);
	return w.err ? 0 : wr_len(&w);
}

bool
kmsg_decode(const uint8_t *p, size_t n, bool from_key, struct kmsg *m, const char **why)
{
	struct rd r = rd_make(p, n);
	uint8_t type = rd_u8(&r), zero = rd_u8(&r);
	uint16_t len = rd_le16(&r);
	uint32_t tag = rd_le32(&r);

	*why = NULL;
	if (r.err)
		*why = "shorter than a header";
	else if (zero != 0)
		*why = "header's second byte is not 0";
	else if (rd_left(&r) != len)
		*why = "length does not match the datagram";
	else if (rule_of(type) == NULL || (type >= KM_LOADED) != from_key)
		*why = "unknown type";
	else if (!kmsg_len_ok(type, len))
		*why = "body size not allowed for its type";
	if (*why)
		return false;
	m->type = type;
	m->tag = tag;
	m->body = len ? rd_bytes(&r, len) : p + KMSG_HDR;
	m->len = len;
	return true;
}
