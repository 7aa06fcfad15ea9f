/* tftp_packet: the request parser and packet builders (tftp_packet.h).
 * Everything untrusted is read through struct rd; nothing here allocates. */
#include "tftp/tftp_packet.h"

#include <stdio.h>
#include <strings.h>

/* A decimal option value: digits only, no sign, no overflow past max+1
 * (so "99999999999999999999" is "too big", not a wrapped small number). */
static bool
parse_num(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			v = max + 1;    /* saturate: out of range, but parsed */
	}
	*out = v;
	return true;
}

static bool
reject(struct tftp_reject *why, int code, const char *msg)
{
	why->code = code;
	why->msg = msg;
	return false;
}

/* One option name/value pair. Returns false (with *why) to refuse the
 * whole request. */
static bool
take_option(struct tftp_req *req, const char *name, const char *val, size_t vlen,
    struct tftp_reject *why)
{
	static const struct { const char *name; unsigned flag; } known[] = {
		{ "blksize", TOPT_BLKSIZE }, { "tsize", TOPT_TSIZE },
		{ "timeout", TOPT_TIMEOUT }, { "windowsize", TOPT_WINDOW },
	};
	unsigned flag = 0;
	uint64_t v;

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcasecmp(name, known[i].name) == 0)
			flag = known[i].flag;
	if (flag == 0)
		return true;            /* RFC 2347: unknown options are ignored */
	if (req->opts & flag)
		return reject(why, TERR_OPTNEG, "duplicate option");
	if (!parse_num(val, vlen, UINT64_MAX / 20, &v))
		return reject(why, TERR_OPTNEG, "option value is not a number");
	switch (flag) {
	case TOPT_BLKSIZE:
		if (v < TFTP_MIN_BLKSIZE)
			return reject(why, TERR_OPTNEG, "blksize out of range 8..65464");
		/* RFC 2348: a server may answer with a smaller size. */
		req->blksize = (unsigned)(v > TFTP_MAX_BLKSIZE ? TFTP_MAX_BLKSIZE : v);
		break;
	case TOPT_TSIZE:
		req->tsize = v;
		break;
	case TOPT_TIMEOUT:
		if (v < 1 || v > TFTP_MAX_TIMEOUT)
			return reject(why, TERR_OPTNEG, "timeout out of range 1..255");
		req->timeout = (unsigned)v;
		break;
	case TOPT_WINDOW:
		if (v < 1 || v > 65535)
			return reject(why, TERR_OPTNEG, "windowsize out of range 1..65535");
		/* RFC 7440: the server may answer with a smaller window. */
		req->windowsize = (unsigned)(v > TFTP_MAX_WINDOW ? TFTP_MAX_WINDOW : v);
		break;
	}
	req->opts |= flag;
	return true;
}

bool
tftp_parse_request(const void *pkt, size_t len, struct tftp_req *req,
    struct tftp_reject *why)
{
	struct rd r = rd_make(pkt, len);
	const char *path, *mode;
	size_t plen, mlen;
	uint16_t op = rd_be16(&r);

	memset(req, 0, sizeof *req);
	req->blksize = TFTP_DEFAULT_BLKSIZE;
	req->windowsize = 1;
	if (r.err)
		return reject(why, -1, "runt packet");
	/* Never answer an ERROR (two servers could bounce them forever),
	 * nor stray DATA/ACK/OACK left over from an old transfer. */
	if (op >= TFTP_DATA && op <= TFTP_OACK)
		return reject(why, -1, "not a request");
	if (op != TFTP_RRQ && op != TFTP_WRQ)
		return reject(why, TERR_BADOP, "unknown opcode");
	req->op = (enum tftp_op)op;
	path = rd_cstr(&r, &plen);
	mode = rd_cstr(&r, &mlen);
	if (r.err)
		return reject(why, TERR_BADOP, "malformed request");
	if (plen == 0)
		return reject(why, TERR_NOTFOUND, "empty file name");
	if (plen > TFTP_MAX_PATH)
		return reject(why, TERR_NOTFOUND, "file name too long");
	if (strcasecmp(mode, "octet") == 0)
		req->netascii = false;
	else if (strcasecmp(mode, "netascii") == 0)
		req->netascii = true;
	else
		return reject(why, TERR_BADOP, "unsupported mode (octet or netascii)");
	memcpy(req->path, path, plen);
	req->path[plen] = '\0';
	/* Options: name\0value\0 pairs to the end. A dangling name or bytes
	 * without a NUL at the very end are tolerated and ignored, as some
	 * PXE ROMs pad their requests. */
	while (rd_left(&r) > 0) {
		size_t nlen, vlen;
		const char *name = rd_cstr(&r, &nlen);
		const char *val = rd_cstr(&r, &vlen);
		if (r.err)
			break;
		if (nlen == 0)
			continue;
		if (!take_option(req, name, val, vlen, why))
			return false;
	}
	return true;
}

bool
tftp_parse_head(const void *pkt, size_t len, uint16_t *op, uint16_t *num)
{
	struct rd r = rd_make(pkt, len);

	*op = rd_be16(&r);
	*num = rd_be16(&r);
	return !r.err;
}

void
tftp_put_error(struct wr *w, int code, const char *msg)
{
	wr_be16(w, TFTP_ERROR);
	wr_be16(w, (uint16_t)code);
	wr_cstr(w, msg);
}

static void
put_opt(struct wr *w, const char *name, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof num, "%llu", (unsigned long long)v);
	wr_cstr(w, name);
	wr_cstr(w, num);
}

void
tftp_put_oack(struct wr *w, const struct tftp_req *req, uint64_t tsize)
{
	wr_be16(w, TFTP_OACK);
	if (req->opts & TOPT_BLKSIZE)
		put_opt(w, "blksize", req->blksize);
	if (req->opts & TOPT_TSIZE)
		put_opt(w, "tsize", tsize);
	if (req->opts & TOPT_TIMEOUT)
		put_opt(w, "timeout", req->timeout);
	if (req->opts & TOPT_WINDOW)
		put_opt(w, "windowsize", req->windowsize);
}

void
tftp_put_data_head(struct wr *w, uint16_t block)
{
	wr_be16(w, TFTP_DATA);
	wr_be16(w, block);
}
