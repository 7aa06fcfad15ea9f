/* Plan 9 auth server message codecs (see authmsg.h). Formats follow 9front's
 * libauthsrv convTR2M/convM2TR, convT2M/convM2T, convA2M/convM2A and
 * form1.c; the DES mode follows libc's encrypt()/decrypt(). */
#include "auth/authmsg.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/buf.h"

/* ---- Ticketreq ---- */

static void
rd_name(struct rd *r, char *dst, size_t len)
{
	const uint8_t *p = rd_bytes(r, len);
	if (p)
		memcpy(dst, p, len);
	else
		memset(dst, 0, len);
	dst[len - 1] = 0;
}

bool
authmsg_treq_decode(const uint8_t *p, size_t n, struct auth_ticketreq *tr)
{
	struct rd r = rd_make(p, n);
	memset(tr, 0, sizeof(*tr));
	if (n < AUTH_TICKREQLEN)
		return false;
	tr->type = rd_u8(&r);
	rd_name(&r, tr->authid, AUTH_ANAMELEN);
	rd_name(&r, tr->authdom, AUTH_DOMLEN);
	const uint8_t *c = rd_bytes(&r, AUTH_CHALLEN);
	if (c)
		memcpy(tr->chal, c, AUTH_CHALLEN);
	rd_name(&r, tr->hostid, AUTH_ANAMELEN);
	rd_name(&r, tr->uid, AUTH_ANAMELEN);
	return !r.err;
}

/* Names go out as their whole field, NUL-padded (strncpy's habit). */
static void
wr_name(struct wr *w, const char *s, size_t len)
{
	uint8_t *p = wr_reserve(w, len);
	if (!p)
		return;
	memset(p, 0, len);
	size_t n = strnlen(s, len - 1);
	memcpy(p, s, n);
}

void
authmsg_treq_encode(const struct auth_ticketreq *tr, uint8_t out[AUTH_TICKREQLEN])
{
	struct wr w = wr_make(out, AUTH_TICKREQLEN);
	wr_u8(&w, tr->type);
	wr_name(&w, tr->authid, AUTH_ANAMELEN);
	wr_name(&w, tr->authdom, AUTH_DOMLEN);
	wr_bytes(&w, tr->chal, AUTH_CHALLEN);
	wr_name(&w, tr->hostid, AUTH_ANAMELEN);
	wr_name(&w, tr->uid, AUTH_ANAMELEN);
}

void
authmsg_error(uint8_t out[1 + AUTH_AERRLEN], const char *reason)
{
	memset(out, 0, 1 + AUTH_AERRLEN);
	out[0] = AuthErr;
	memcpy(out + 1, reason, strnlen(reason, AUTH_AERRLEN - 1));
}

/* ---- DES with Plan 9's 7-byte keys ---- */

/* des56to64: the 56 key bits spread 7 to a byte, low bit for parity (odd;
 * DES ignores it). */
void
authmsg_des56to64(const uint8_t k56[7], uint8_t k64[8])
{
	uint64_t bits = 0;
	for (int i = 0; i < 7; i++)
		bits = bits << 8 | k56[i];
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)((bits >> (49 - 7 * i)) & 0x7f) << 1;
		b |= (uint8_t)(__builtin_parity(b) ^ 1);
		k64[i] = b;
	}
}

/* Single DES as three-key 3DES with three equal keys (E.D.E = E), which
 * the default provider has; plain DES lives in the legacy provider. */
static bool
des_blocks(const uint8_t key[7], uint8_t *buf, size_t n, bool enc)
{
	uint8_t k64[8], k3[24];
	EVP_CIPHER_CTX *ctx;
	bool ok = false;
	int outl;

	if (n < 8)
		return false;
	authmsg_des56to64(key, k64);
	for (int i = 0; i < 3; i++)
		memcpy(k3 + 8 * i, k64, 8);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_CipherInit_ex(ctx, EVP_des_ede3_ecb(), NULL, k3, NULL, enc) != 1)
		goto out;
	EVP_CIPHER_CTX_set_padding(ctx, 0);

	/* encrypt(): blocks at 0, 7, 14, ... while a whole block fits, then
	 * one more ending exactly at n when (n-1) % 7 != 0; decrypt() runs
	 * the same blocks backwards. */
	size_t full = (n - 1) / 7, rem = (n - 1) % 7;
	size_t offs[64], count = 0;
	if (full + 1 > sizeof(offs) / sizeof(offs[0]))
		goto out;
	for (size_t i = 0; i < full; i++)
		offs[count++] = 7 * i;
	if (rem)
		offs[count++] = n - 8;
	for (size_t i = 0; i < count; i++) {
		size_t o = enc ? offs[i] : offs[count - 1 - i];
		if (EVP_CipherUpdate(ctx, buf + o, &outl, buf + o, 8) != 1 || outl != 8)
			goto out;
	}
	ok = true;
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(k64, sizeof(k64));
	OPENSSL_cleanse(k3, sizeof(k3));
	return ok;
}

bool
authmsg_des_encrypt(const uint8_t key[AUTH_DESKEYLEN], uint8_t *buf, size_t n)
{
	return des_blocks(key, buf, n, true);
}

bool
authmsg_des_decrypt(const uint8_t key[AUTH_DESKEYLEN], uint8_t *buf, size_t n)
{
	return des_blocks(key, buf, n, false);
}

/* ---- form 1: ChaCha20-Poly1305 ---- */

static const struct {
	uint8_t num;
	char sig[9];
} form1sig[] = {
	{ AuthPass, "form1 PR" },
	{ AuthTs, "form1 Ts" },
	{ AuthTc, "form1 Tc" },
	{ AuthAs, "form1 As" },
	{ AuthAc, "form1 Ac" },
	{ AuthTp, "form1 Tp" },
	{ AuthHr, "form1 Hr" },
};

int
authmsg_form1_kind(const uint8_t *p, size_t n)
{
	if (n < 8)
		return -1;
	for (size_t i = 0; i < sizeof(form1sig) / sizeof(form1sig[0]); i++)
		if (memcmp(form1sig[i].sig, p, 8) == 0)
			return form1sig[i].num;
	return -1;
}

/* RFC 8439 AEAD, no associated data; nonce = out[0..12). */
static bool
ccpoly(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
    uint8_t *out, uint8_t tag[16], bool enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ok = false;
	int outl, fin;

	if (!ctx || EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL, enc) != 1
	    || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1
	    || EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1 || (size_t)outl != n)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + outl, &fin) != 1)
		goto out;	/* on open: the tag did not match */
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
		goto out;
	ok = true;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

size_t
authmsg_form1_seal(const uint8_t *msg, size_t n, const uint8_t key[32], uint32_t counter,
    uint8_t *out, size_t cap)
{
	size_t i, body = n - 1;

	if (n < 1 || cap < 12 + body + 16)
		return 0;
	for (i = 0; i < sizeof(form1sig) / sizeof(form1sig[0]); i++)
		if (form1sig[i].num == msg[0])
			break;
	if (i == sizeof(form1sig) / sizeof(form1sig[0]))
		return 0;
	memcpy(out, form1sig[i].sig, 8);
	out[8] = (uint8_t)counter;
	out[9] = (uint8_t)(counter >> 8);
	out[10] = (uint8_t)(counter >> 16);
	out[11] = (uint8_t)(counter >> 24);
	if (!ccpoly(key, out, msg + 1, body, out + 12, out + 12 + body, true))
		return 0;
	return 12 + body + 16;
}

size_t
authmsg_form1_open(const uint8_t *in, size_t n, const uint8_t key[32], uint8_t *out)
{
	int num = authmsg_form1_kind(in, n);
	uint8_t tag[16];

	if (num < 0 || n <= 12 + 16)
		return 0;
	size_t body = n - 12 - 16;
	memcpy(tag, in + 12 + body, 16);
	if (!ccpoly(key, in, in + 12, body, out + 1, tag, false)) {
		OPENSSL_cleanse(out, body + 1);
		return 0;
	}
	out[0] = (uint8_t)num;
	return body + 1;
}

/* ---- Tickets ---- */

size_t
authmsg_ticket_encode(const struct auth_ticket *t, const uint8_t *key, uint32_t counter,
    uint8_t *out, size_t cap)
{
	uint8_t plain[1 + AUTH_CHALLEN + 2 * AUTH_ANAMELEN + AUTH_NONCELEN];
	struct wr w = wr_make(plain, sizeof(plain));
	size_t n = 0;

	wr_u8(&w, t->num);
	wr_bytes(&w, t->chal, AUTH_CHALLEN);
	wr_name(&w, t->cuid, AUTH_ANAMELEN);
	wr_name(&w, t->suid, AUTH_ANAMELEN);
	if (t->form == 0) {
		wr_bytes(&w, t->key, AUTH_DESKEYLEN);
		if (cap >= AUTH_TICKETLEN0) {
			memcpy(out, plain, AUTH_TICKETLEN0);
			if (authmsg_des_encrypt(key, out, AUTH_TICKETLEN0))
				n = AUTH_TICKETLEN0;
		}
	} else {
		wr_bytes(&w, t->key, AUTH_NONCELEN);
		n = authmsg_form1_seal(plain, wr_len(&w), key, counter, out, cap);
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return n;
}

static void
ticket_parse(const uint8_t *plain, struct auth_ticket *t)
{
	struct rd r = rd_make(plain, 1 + AUTH_CHALLEN + 2 * AUTH_ANAMELEN +
	    (t->form ? AUTH_NONCELEN : AUTH_DESKEYLEN));
	t->num = rd_u8(&r);
	memcpy(t->chal, rd_bytes(&r, AUTH_CHALLEN), AUTH_CHALLEN);
	rd_name(&r, t->cuid, AUTH_ANAMELEN);
	rd_name(&r, t->suid, AUTH_ANAMELEN);
	memcpy(t->key, rd_bytes(&r, t->form ? AUTH_NONCELEN : AUTH_DESKEYLEN),
	    t->form ? AUTH_NONCELEN : AUTH_DESKEYLEN);
}

int
authmsg_ticket_decode(const uint8_t *p, size_t n, const uint8_t *key, bool des_ok,
    struct auth_ticket *t)
{
	uint8_t buf[AUTH_TICKETLEN1];
	int m;

	memset(t, 0, sizeof(*t));
	if (n < 8)
		return -8;
	if (authmsg_form1_kind(p, n) < 0) {
		m = AUTH_TICKETLEN0;
		if (n < (size_t)m)
			return -m;
		if (!des_ok)
			return 0;
		memcpy(buf, p, m);
		if (!authmsg_des_decrypt(key, buf, m))
			return 0;
		t->form = 0;
	} else {
		m = AUTH_TICKETLEN1;
		if (n < (size_t)m)
			return -m;
		if (authmsg_form1_open(p, m, key, buf) == 0)
			return 0;
		t->form = 1;
	}
	ticket_parse(buf, t);
	OPENSSL_cleanse(buf, sizeof(buf));
	return m;
}

/* ---- Authenticators ---- */

size_t
authmsg_auth_encode(const struct auth_authenticator *a, const struct auth_ticket *t,
    uint32_t counter, uint8_t *out, size_t cap)
{
	uint8_t plain[1 + AUTH_CHALLEN + AUTH_NONCELEN];
	plain[0] = a->num;
	memcpy(plain + 1, a->chal, AUTH_CHALLEN);
	if (t->form == 0) {
		if (cap < AUTH_AUTHENTLEN0)
			return 0;
		memcpy(out, plain, 1 + AUTH_CHALLEN);
		memset(out + 1 + AUTH_CHALLEN, 0, 4);	/* the unused id field */
		return authmsg_des_encrypt(t->key, out, AUTH_AUTHENTLEN0) ? AUTH_AUTHENTLEN0 : 0;
	}
	memcpy(plain + 1 + AUTH_CHALLEN, a->rand, AUTH_NONCELEN);
	return authmsg_form1_seal(plain, sizeof(plain), t->key, counter, out, cap);
}

int
authmsg_auth_decode(const uint8_t *p, size_t n, const struct auth_ticket *t,
    struct auth_authenticator *a)
{
	uint8_t buf[AUTH_AUTHENTLEN1];
	int m;

	memset(a, 0, sizeof(*a));
	if (t->form == 0) {
		m = AUTH_AUTHENTLEN0;
		if (n < (size_t)m)
			return -m;
		memcpy(buf, p, m);
		if (!authmsg_des_decrypt(t->key, buf, m))
			return 0;
	} else {
		m = AUTH_AUTHENTLEN1;
		if (n < (size_t)m)
			return -m;
		if (authmsg_form1_open(p, m, t->key, buf) == 0)
			return 0;
		memcpy(a->rand, buf + 1 + AUTH_CHALLEN, AUTH_NONCELEN);
	}
	a->num = buf[0];
	memcpy(a->chal, buf + 1, AUTH_CHALLEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return m;
}

/* ---- Passwordreq ---- */

size_t
authmsg_passreq_len(int form)
{
	return form ? AUTH_PASSREQLEN1 : AUTH_PASSREQLEN0;
}

size_t
authmsg_passreq_encode(const struct auth_passreq *pr, const struct auth_ticket *t,
    uint32_t counter, uint8_t *out, size_t cap)
{
	uint8_t plain[AUTH_PASSREQLEN0];
	struct wr w = wr_make(plain, sizeof(plain));
	size_t n = 0;

	wr_u8(&w, pr->num);
	wr_name(&w, pr->old, AUTH_PASSWDLEN);
	wr_name(&w, pr->new, AUTH_PASSWDLEN);
	wr_u8(&w, pr->changesecret);
	wr_name(&w, pr->secret, AUTH_SECRETLEN);
	if (t->form == 0) {
		if (cap >= AUTH_PASSREQLEN0) {
			memcpy(out, plain, AUTH_PASSREQLEN0);
			if (authmsg_des_encrypt(t->key, out, AUTH_PASSREQLEN0))
				n = AUTH_PASSREQLEN0;
		}
	} else {
		n = authmsg_form1_seal(plain, sizeof(plain), t->key, counter, out, cap);
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return n;
}

int
authmsg_passreq_decode(const uint8_t *p, size_t n, const struct auth_ticket *t,
    struct auth_passreq *pr)
{
	uint8_t buf[AUTH_PASSREQLEN1];
	int m = (int)authmsg_passreq_len(t->form);
	struct rd r;

	memset(pr, 0, sizeof(*pr));
	if (n < (size_t)m)
		return -m;
	if (t->form == 0) {
		memcpy(buf, p, AUTH_PASSREQLEN0);
		if (!authmsg_des_decrypt(t->key, buf, AUTH_PASSREQLEN0))
			return 0;
	} else if (authmsg_form1_open(p, (size_t)m, t->key, buf) != AUTH_PASSREQLEN0) {
		return 0;
	}
	r = rd_make(buf, AUTH_PASSREQLEN0);
	pr->num = rd_u8(&r);
	rd_name(&r, pr->old, AUTH_PASSWDLEN);
	rd_name(&r, pr->new, AUTH_PASSWDLEN);
	pr->changesecret = rd_u8(&r);
	rd_name(&r, pr->secret, AUTH_SECRETLEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return m;
}
