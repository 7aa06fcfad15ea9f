/* One rcpu connection, server side (see rcpu.h). */
#include "auth/rcpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "proto/p9_fcall.h"

static bool
out_put(struct rcpu_out *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		while (cap < o->n + n)
			cap *= 2;
		uint8_t *np = realloc(o->p, cap);
		if (np == NULL)
			return false;
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
	return true;
}

void
rcpu_out_free(struct rcpu_out *o)
{
	if (o->p)
		OPENSSL_cleanse(o->p, o->cap);
	free(o->p);
	memset(o, 0, sizeof *o);
}

static unsigned int
psk_cb(SSL *ssl, const char *identity, unsigned char *psk, unsigned int max)
{
	struct rcpu *r = SSL_get_app_data(ssl);

	if (r == NULL || strcmp(identity, "p9secret") != 0 || max < r->nsecret || r->nsecret == 0)
		return 0;
	memcpy(psk, r->secret, r->nsecret);
	return (unsigned int)r->nsecret;
}

SSL_CTX *
rcpu_tls_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, "PSK-CHACHA20-POLY1305:PSK-AES128-CBC-SHA256")) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_psk_server_callback(ctx, psk_cb);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

static void
name_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	memset(dst + n, 0, cap - n);
}

bool
rcpu_start(struct rcpu *r, const char *authid, const char *dom,
    const uint8_t aes[AUTH_AESKEYLEN], const uint8_t *des, const char *offer,
    struct rcpu_out *out)
{
	char msg[16 + 2 * (8 + AUTH_DOMLEN)];
	size_t n;

	memset(r, 0, sizeof *r);
	name_copy(r->authid, sizeof r->authid, authid);
	name_copy(r->dom, sizeof r->dom, dom);
	memcpy(r->key.aes, aes, AUTH_AESKEYLEN);
	if (des)
		memcpy(r->key.des, des, AUTH_DESKEYLEN);
	if (!authkey_pakhash(&r->key, r->authid))
		return false;
	n = (size_t)snprintf(msg, sizeof msg, "v.2");
	for (const char *p = offer; *p; p += strcspn(p, " "), p += strspn(p, " ")) {
		size_t k = strcspn(p, " ");
		bool d = k == 5 && memcmp(p, "dp9ik", 5) == 0 && !r->offer_dp9ik;
		bool s = k == 5 && memcmp(p, "p9sk1", 5) == 0 && des && !r->offer_p9sk1;
		if (!d && !s)
			continue;
		r->offer_dp9ik |= d;
		r->offer_p9sk1 |= s;
		n += (size_t)snprintf(msg + n, sizeof msg - n, " %s@%s", d ? "dp9ik" : "p9sk1", r->dom);
	}
	if (!r->offer_dp9ik && !r->offer_p9sk1) {
		r->why = "p9any: nothing to offer (p9sk1 alone, and the host owner has no DES key)";
		return false;
	}
	return out_put(out, msg, n + 1);
}

int64_t
rcpu_frame(const struct rcpu *r, const uint8_t *p, size_t len)
{
	switch (r->st) {
	case RCPU_CHOICE: {
		const uint8_t *z = memchr(p, 0, len < RCPU_CHOICE_MAX ? len : RCPU_CHOICE_MAX);
		if (z)
			return z - p + 1;
		return len >= RCPU_CHOICE_MAX ? -1 : 0;
	}
	case RCPU_CCHAL:
		return AUTH_CHALLEN;
	case RCPU_PAKY:
		return AUTH_PAKYLEN;
	case RCPU_TICKET:
		return r->p9sk1 ? AUTH_TICKETLEN0 + AUTH_AUTHENTLEN0 : AUTH_TICKETLEN1 + AUTH_AUTHENTLEN1;
	case RCPU_TLS:
	case RCPU_9P:
		return len > 0 ? (int64_t)len : 0;
	case RCPU_DONE:
		break;
	}
	return len > 0 ? -1 : 0;
}

static enum rcpu_result
fail(struct rcpu *r, const char *why)
{
	r->why = why;
	r->st = RCPU_DONE;
	return RCPU_FAIL;
}

/* Moves what TLS wrote into out. */
static bool
drain_tls(struct rcpu *r, struct rcpu_out *out)
{
	uint8_t buf[4096];
	int n;

	while ((n = BIO_read(r->wbio, buf, sizeof buf)) > 0)
		if (!out_put(out, buf, (size_t)n))
			return false;
	return true;
}

static enum rcpu_result
ticket(struct rcpu *r, SSL_CTX *ctx, const uint8_t *p, size_t n, struct rcpu_out *out)
{
	struct auth_ticket t;
	struct auth_authenticator a;
	uint8_t salt[2 * AUTH_NONCELEN], as[AUTH_AUTHENTLEN1];
	int m;
	bool ok;

	m = authmsg_ticket_decode(p, n, r->p9sk1 ? r->key.des : r->key.pakkey, r->p9sk1, &t);
	if (m <= 0 || t.num != AuthTs || t.form != !r->p9sk1 ||
	    CRYPTO_memcmp(t.chal, r->schal, AUTH_CHALLEN) != 0) {
		OPENSSL_cleanse(&t, sizeof t);
		return fail(r, "ticket does not open: wrong password or unknown user");
	}
	if (authmsg_auth_decode(p + m, n - (size_t)m, &t, &a) <= 0 || a.num != AuthAc ||
	    CRYPTO_memcmp(a.chal, r->schal, AUTH_CHALLEN) != 0) {
		OPENSSL_cleanse(&t, sizeof t);
		return fail(r, "authenticator does not open");
	}
	name_copy(r->user, sizeof r->user, t.cuid);
	memcpy(salt, a.rand, AUTH_NONCELEN);
	a.num = AuthAs;
	memcpy(a.chal, r->cchal, AUTH_CHALLEN);
	ok = RAND_bytes(a.rand, AUTH_NONCELEN) == 1;
	memcpy(salt + AUTH_NONCELEN, a.rand, AUTH_NONCELEN);
	size_t k = ok ? authmsg_auth_encode(&a, &t, 0, as, sizeof as) : 0;
	ok = k > 0 && out_put(out, as, k);
	if (ok && r->p9sk1) {
		/* factotum's establish(): p9sk1's secret is the DES key, 8 bytes */
		authmsg_des56to64(t.key, r->secret);
		r->nsecret = 8;
	} else if (ok) {
		ok = authkey_hkdf(salt, sizeof salt, "Plan 9 session secret", t.key, AUTH_NONCELEN,
		    r->secret, sizeof r->secret);
		r->nsecret = sizeof r->secret;
	}
	OPENSSL_cleanse(&t, sizeof t);
	OPENSSL_cleanse(&a, sizeof a);
	OPENSSL_cleanse(salt, sizeof salt);
	authkey_wipe(&r->key);
	if (!ok)
		return fail(r, "out of memory or randomness");
	if (ctx == NULL) {      /* a 9P afid, or the key process: no TLS here */
		r->st = RCPU_DONE;
		return RCPU_AUTHED;
	}
	return rcpu_tls_begin(r, ctx) ? RCPU_MORE : fail(r, "TLS: out of memory");
}

bool
rcpu_tls_begin(struct rcpu *r, SSL_CTX *ctx)
{
	/* TLS starts with the client's hello: set up the BIOs now */
	r->ssl = SSL_new(ctx);
	r->rbio = BIO_new(BIO_s_mem());
	r->wbio = BIO_new(BIO_s_mem());
	if (r->ssl == NULL || r->rbio == NULL || r->wbio == NULL) {
		BIO_free(r->rbio);
		BIO_free(r->wbio);
		r->rbio = r->wbio = NULL;
		return false;
	}
	SSL_set_bio(r->ssl, r->rbio, r->wbio);
	SSL_set_app_data(r->ssl, r);
	SSL_set_accept_state(r->ssl);
	r->st = RCPU_TLS;
	return true;
}

/* SSL_read returned n <= 0: what TLS wrote goes out, and either it waits
 * for more records or the session ends with why. */
static enum rcpu_result
tls_stalled(struct rcpu *r, int n, struct rcpu_out *out, const char *why)
{
	int e = SSL_get_error(r->ssl, n);
	if (!drain_tls(r, out))
		return fail(r, "out of memory");
	if (e == SSL_ERROR_WANT_READ)
		return RCPU_MORE;
	ERR_clear_error();
	return fail(r, why);
}

/* The script's "%7ld\n" header and body, read through TLS. */
static enum rcpu_result
tls_read(struct rcpu *r, struct rcpu_out *out)
{
	uint8_t buf[4096];
	int n;

	while ((n = SSL_read(r->ssl, buf, sizeof buf)) > 0) {
		size_t i = 0;
		while (r->nhdr < sizeof r->hdr && i < (size_t)n)
			r->hdr[r->nhdr++] = buf[i++];
		if (r->nhdr == sizeof r->hdr && r->script_len == 0) {
			char h[9];
			char *end;
			memcpy(h, r->hdr, 8);
			h[8] = 0;
			long v = strtol(h, &end, 10);
			if (*end != '\n' || v <= 0 || v > RCPU_SCRIPT_MAX)
				return fail(r, "script header is not \"%7ld\\n\" within 64 KiB");
			r->script_len = (size_t)v;
		}
		r->script_got += (size_t)n - i;
		if (r->script_len && r->script_got >= r->script_len) {
			if (!drain_tls(r, out))
				return fail(r, "out of memory");
			return RCPU_SCRIPT;
		}
	}
	return tls_stalled(r, n, out, SSL_is_init_finished(r->ssl) ?
	    "TLS: closed or broken before the script" :
	    "TLS handshake failed (a different session secret?)");
}

/* The next of our queued 9P requests, one at a time: drawterm serves
 * requests concurrently, so a write sent before its open was answered
 * could meet a clunked fid. */
static bool
p9_send_next(struct rcpu *r)
{
	if (r->p9q.n - r->p9_pos < P9_HDRSZ)
		return true;
	const uint8_t *m = r->p9q.p + r->p9_pos;
	struct rd rd = rd_make(m, P9_HDRSZ);
	uint32_t size = rd_le32(&rd);   /* our own frame, from p9_encode */
	r->p9_pos += size;
	return SSL_write(r->ssl, m, (int)size) == (int)size;
}

/* Bytes of the reply frame being collected in r->p9in: its size field
 * once the 4 bytes are in, else those 4. 0: a size no reply can have. */
static size_t
p9_reply_size(const struct rcpu *r)
{
	if (r->p9in.n < 4)
		return 4;
	struct rd rd = rd_make(r->p9in.p, 4);
	uint32_t size = rd_le32(&rd);
	return size < P9_HDRSZ || size > RCPU_P9_REPLY_MAX ? 0 : size;
}

/* Reads the 9P replies in the stream, each whole and through the codec;
 * every one sends our next request, the last ends the session. */
static enum rcpu_result
p9_replies(struct rcpu *r, struct rcpu_out *out)
{
	uint8_t buf[4096];
	int n;

	while ((n = SSL_read(r->ssl, buf, sizeof buf)) > 0) {
		for (size_t i = 0; i < (size_t)n;) {
			size_t want = p9_reply_size(r);
			size_t k = (size_t)n - i < want - r->p9in.n ? (size_t)n - i : want - r->p9in.n;
			if (!out_put(&r->p9in, buf + i, k))
				return fail(r, "out of memory");
			i += k;
			want = p9_reply_size(r);
			if (want == 0)
				return fail(r, "9P: a reply of impossible size");
			if (r->p9in.n < want)
				continue;
			struct p9_fcall f;
			const char *why;
			if (p9_decode(r->p9in.p, r->p9in.n, P9_2000, &f, &why) < 0)
				return fail(r, "9P: a reply that does not decode");
			r->p9_errors += f.type == P9_RERROR;
			r->p9in.n = 0;
			r->p9_got++;
			if (!p9_send_next(r))
				return fail(r, "TLS: cannot write");
		}
		if (r->p9_got >= r->p9_want && r->p9in.n == 0) {
			(void)SSL_shutdown(r->ssl);
			r->st = RCPU_DONE;
			return drain_tls(r, out) ? RCPU_END : fail(r, "out of memory");
		}
	}
	return tls_stalled(r, n, out, "TLS: closed before the 9P replies");
}

enum rcpu_result
rcpu_input(struct rcpu *r, SSL_CTX *ctx, const uint8_t *p, size_t n, struct rcpu_out *out)
{
	struct auth_ticketreq tr;
	uint8_t msg[AUTH_TICKREQLEN + AUTH_PAKYLEN];
	char want[16 + AUTH_DOMLEN];

	switch (r->st) {
	case RCPU_CHOICE:
		snprintf(want, sizeof want, "dp9ik %s", r->dom);
		if (r->offer_dp9ik && n == strlen(want) + 1 && memcmp(p, want, n) == 0) {
			r->st = RCPU_CCHAL;
			return out_put(out, "OK", 3) ? RCPU_MORE : fail(r, "out of memory");
		}
		snprintf(want, sizeof want, "p9sk1 %s", r->dom);
		if (!r->offer_p9sk1 || n != strlen(want) + 1 || memcmp(p, want, n) != 0)
			return fail(r, r->offer_p9sk1 ? "p9any: the choice is not \"dp9ik DOM\" or \"p9sk1 DOM\""
			    : "p9any: the choice is not \"dp9ik DOM\" (p9sk1 is off: grid.p9any, grid.auth_des)");
		r->p9sk1 = true;
		r->st = RCPU_CCHAL;
		return out_put(out, "OK", 3) ? RCPU_MORE : fail(r, "out of memory");
	case RCPU_CCHAL:
		memcpy(r->cchal, p, AUTH_CHALLEN);
		memset(&tr, 0, sizeof tr);
		tr.type = r->p9sk1 ? AuthTreq : AuthPAK;
		memcpy(tr.authid, r->authid, sizeof tr.authid);
		memcpy(tr.authdom, r->dom, sizeof tr.authdom);
		if (RAND_bytes(r->schal, AUTH_CHALLEN) != 1)
			return fail(r, "no randomness");
		memcpy(tr.chal, r->schal, AUTH_CHALLEN);
		authmsg_treq_encode(&tr, msg);
		if (r->p9sk1) {
			r->st = RCPU_TICKET;
			return out_put(out, msg, AUTH_TICKREQLEN) ? RCPU_MORE : fail(r, "out of memory");
		}
		if (!authpak_new(&r->priv, &r->key, msg + AUTH_TICKREQLEN, true))
			return fail(r, "no randomness");
		r->st = RCPU_PAKY;
		return out_put(out, msg, sizeof msg) ? RCPU_MORE : fail(r, "out of memory");
	case RCPU_PAKY:
		if (!authpak_finish(&r->priv, &r->key, p))
			return fail(r, "AuthPAK: the auth server's Y does not decode");
		r->st = RCPU_TICKET;
		return RCPU_MORE;
	case RCPU_TICKET:
		return ticket(r, ctx, p, n, out);
	case RCPU_TLS:
		if (BIO_write(r->rbio, p, (int)n) != (int)n)
			return fail(r, "out of memory");
		return tls_read(r, out);
	case RCPU_9P:
		if (BIO_write(r->rbio, p, (int)n) != (int)n)
			return fail(r, "out of memory");
		return p9_replies(r, out);
	case RCPU_DONE:
		break;
	}
	return fail(r, "bytes after the end");
}

/* One request through the codec, appended to o. */
static bool
p9_request(struct rcpu_out *o, const struct p9_fcall *f)
{
	uint8_t frame[RCPU_P9_MSIZE];
	struct wr w = wr_make(frame, sizeof frame);
	size_t n = p9_encode(&w, f, P9_2000);

	return n > 0 && out_put(o, frame, n);
}

/* What a cpu server's rc would do to print: as the 9P client of the
 * namespace drawterm exports over the connection, write text to its
 * /dev/cons (Tversion, Tattach, Twalk dev cons, Topen OWRITE, Twrite..,
 * Tclunk), sent in one go. */
int
rcpu_cons_write(const char *user, const char *text, size_t len, struct rcpu_out *o)
{
	enum { CHUNK = RCPU_P9_MSIZE - P9_IOHDRSZ };
	int tag = 1;
	bool ok = p9_request(o, &(struct p9_fcall){ .type = P9_TVERSION, .tag = P9_NOTAG,
	    .msize = RCPU_P9_MSIZE, .version = p9_str_of("9P2000") });

	ok = ok && p9_request(o, &(struct p9_fcall){ .type = P9_TATTACH, .tag = (uint16_t)tag++,
	    .fid = 0, .afid = P9_NOFID, .uname = p9_str_of(user), .aname = p9_str_of("") });
	ok = ok && p9_request(o, &(struct p9_fcall){ .type = P9_TWALK, .tag = (uint16_t)tag++,
	    .fid = 0, .newfid = 1, .nwname = 2, .wname = { p9_str_of("dev"), p9_str_of("cons") } });
	ok = ok && p9_request(o, &(struct p9_fcall){ .type = P9_TOPEN, .tag = (uint16_t)tag++,
	    .fid = 1, .mode = P9_OWRITE });
	for (size_t off = 0; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		ok = ok && p9_request(o, &(struct p9_fcall){ .type = P9_TWRITE, .tag = (uint16_t)tag++,
		    .fid = 1, .offset = off, .count = (uint32_t)n, .data = (const uint8_t *)text + off });
	}
	ok = ok && p9_request(o, &(struct p9_fcall){ .type = P9_TCLUNK, .tag = (uint16_t)tag, .fid = 1 });
	return ok ? tag + 1 : -1;      /* tags 1..tag and Tversion's */
}

bool
rcpu_finish(struct rcpu *r, const char *text, size_t len, struct rcpu_out *out)
{
	int nmsg = r->ssl && SSL_is_init_finished(r->ssl) ?
	    rcpu_cons_write(r->user, text, len, &r->p9q) : -1;
	bool ok = nmsg > 0 && p9_send_next(r);

	r->p9_want = nmsg > 0 ? (unsigned)nmsg : 0;
	r->st = RCPU_9P;
	return drain_tls(r, out) && ok;
}

void
rcpu_end(struct rcpu *r)
{
	if (r->ssl)
		SSL_free(r->ssl);       /* frees both BIOs */
	rcpu_out_free(&r->p9q);
	rcpu_out_free(&r->p9in);
	ERR_clear_error();
	OPENSSL_cleanse(r, sizeof *r);
}
