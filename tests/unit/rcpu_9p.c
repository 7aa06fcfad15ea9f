/* rcpu's last phase, the server as a 9P client of drawterm's namespace
 * (server/auth/rcpu.c over server/proto/p9_fcall.c), against an in-memory
 * TLS-PSK client playing drawterm: every request decodes with the codec
 * and comes one at a time, each reply is read whole (also when split over
 * two TLS records) and decoded, an Rerror is counted, and a reply that
 * does not decode or has an impossible size ends the session. */
#include "auth/rcpu.h"
#include "proto/p9_fcall.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

static const uint8_t secret[32] = "a session secret of 32 bytes...";

static unsigned int
client_psk(SSL *ssl, const char *hint, char *id, unsigned int idmax, unsigned char *psk,
    unsigned int pskmax)
{
	(void)ssl;
	(void)hint;
	if (idmax < 9 || pskmax < sizeof secret)
		return 0;
	memcpy(id, "p9secret", 9);
	memcpy(psk, secret, sizeof secret);
	return sizeof secret;
}

/* drawterm's end: a TLS client over two memory BIOs. */
struct client {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *in, *out;
};

/* The server's bytes to the client. */
static void
to_client(struct client *cl, struct rcpu_out *o)
{
	if (o->n)
		BIO_write(cl->in, o->p, (int)o->n);
	o->n = 0;
}

/* The client's bytes to the server; the last result. */
static enum rcpu_result
to_server(struct client *cl, struct rcpu *r, SSL_CTX *sctx, struct rcpu_out *o)
{
	uint8_t buf[16384];
	enum rcpu_result res = RCPU_MORE;
	int n;

	while (res == RCPU_MORE && (n = BIO_read(cl->out, buf, sizeof buf)) > 0)
		res = rcpu_input(r, sctx, buf, (size_t)n, o);
	return res;
}

/* A session up to the moment the server has the script and sent its
 * first 9P request (Tversion). */
static bool
session(struct client *cl, struct rcpu *r, SSL_CTX *sctx, struct rcpu_out *o)
{
	memset(r, 0, sizeof *r);
	memcpy(r->secret, secret, sizeof secret);
	r->nsecret = sizeof secret;
	strcpy(r->user, "glenda");
	r->ssl = SSL_new(sctx);
	r->rbio = BIO_new(BIO_s_mem());
	r->wbio = BIO_new(BIO_s_mem());
	SSL_set_bio(r->ssl, r->rbio, r->wbio);
	SSL_set_app_data(r->ssl, r);
	SSL_set_accept_state(r->ssl);
	r->st = RCPU_TLS;

	cl->ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(cl->ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(cl->ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(cl->ctx, "PSK-CHACHA20-POLY1305");
	SSL_CTX_set_psk_client_callback(cl->ctx, client_psk);
	cl->ssl = SSL_new(cl->ctx);
	cl->in = BIO_new(BIO_s_mem());
	cl->out = BIO_new(BIO_s_mem());
	SSL_set_bio(cl->ssl, cl->in, cl->out);
	SSL_set_connect_state(cl->ssl);
	for (int i = 0; i < 8 && !SSL_is_init_finished(cl->ssl); i++) {
		SSL_do_handshake(cl->ssl);
		if (to_server(cl, r, sctx, o) != RCPU_MORE)
			return false;
		to_client(cl, o);
	}
	if (!SSL_is_init_finished(cl->ssl))
		return false;
	SSL_write(cl->ssl, "      6\nrc -l\n", 14);        /* "%7ld\n" and the script */
	if (to_server(cl, r, sctx, o) != RCPU_SCRIPT)
		return false;
	bool ok = rcpu_finish(r, "hello\n", 6, o);
	to_client(cl, o);
	return ok;
}

static void
client_end(struct client *cl)
{
	SSL_free(cl->ssl);
	SSL_CTX_free(cl->ctx);
}

/* The next request the client received, decoded; false if none or it
 * does not decode. */
static bool
next_request(struct client *cl, struct p9_fcall *f)
{
	static uint8_t buf[16384];
	const char *why;
	int n = SSL_read(cl->ssl, buf, sizeof buf);

	return n > 0 && p9_decode(buf, (size_t)n, P9_2000, f, &why) == 0;
}

/* The answer drawterm would give to t; Twrite gets an Rerror when
 * write_fails. */
static size_t
reply_to(const struct p9_fcall *t, bool write_fails, uint8_t *buf, size_t cap)
{
	struct p9_fcall f = { .type = (uint8_t)(t->type + 1), .tag = t->tag };
	struct wr w = wr_make(buf, cap);

	switch (t->type) {
	case P9_TVERSION:
		f.msize = t->msize;
		f.version = p9_str_of("9P2000");
		break;
	case P9_TWALK:
		f.nwqid = t->nwname;
		break;
	case P9_TWRITE:
		if (write_fails) {
			f.type = P9_RERROR;
			f.ename = p9_str_of("permission denied");
		} else
			f.count = t->count;
		break;
	}
	return p9_encode(&w, &f, P9_2000);
}

static void
test_replies(void)
{
	SSL_CTX *sctx = rcpu_tls_ctx();
	struct client cl;
	struct rcpu r;
	struct rcpu_out o = { 0 };
	struct p9_fcall t;
	uint8_t rep[256];
	enum rcpu_result res = RCPU_MORE;
	int types[8], k = 0;
	bool one_at_a_time = true;

	CHECK(session(&cl, &r, sctx, &o), "TLS-PSK up, the script read, the 9P requests begin");
	while (res == RCPU_MORE && k < 8 && next_request(&cl, &t)) {
		uint8_t peek[1];
		types[k++] = t.type;
		/* Until its reply, no other request is sent. */
		if (SSL_peek(cl.ssl, peek, 1) > 0)
			one_at_a_time = false;
		size_t n = reply_to(&t, true, rep, sizeof rep);
		/* The Topen's reply in two TLS records: read whole all the same. */
		if (t.type == P9_TOPEN) {
			SSL_write(cl.ssl, rep, 3);
			SSL_write(cl.ssl, rep + 3, (int)n - 3);
		} else
			SSL_write(cl.ssl, rep, (int)n);
		res = to_server(&cl, &r, sctx, &o);
		to_client(&cl, &o);
	}
	CHECK(k == 6 && types[0] == P9_TVERSION && types[1] == P9_TATTACH && types[2] == P9_TWALK &&
	    types[3] == P9_TOPEN && types[4] == P9_TWRITE && types[5] == P9_TCLUNK,
	    "six requests, each decoded by the codec: Tversion Tattach Twalk Topen Twrite Tclunk (%d)", k);
	CHECK(one_at_a_time, "each request is sent after the reply to the one before");
	CHECK(res == RCPU_END && r.st == RCPU_DONE, "the last reply ends the session (%s)",
	    r.why ? r.why : "no reason");
	CHECK(r.p9_got == 6 && r.p9_errors == 1, "six replies read, the Rerror counted (%u, %u)",
	    r.p9_got, r.p9_errors);
	rcpu_end(&r);
	client_end(&cl);
	rcpu_out_free(&o);
	SSL_CTX_free(sctx);
}

/* A bad answer to the first request (Tversion) ends the session. */
static void
test_bad_reply(const uint8_t *rep, size_t n, const char *want, const char *what)
{
	SSL_CTX *sctx = rcpu_tls_ctx();
	struct client cl;
	struct rcpu r;
	struct rcpu_out o = { 0 };
	struct p9_fcall t;

	bool up = session(&cl, &r, sctx, &o) && next_request(&cl, &t) && t.type == P9_TVERSION;
	SSL_write(cl.ssl, rep, (int)n);
	enum rcpu_result res = to_server(&cl, &r, sctx, &o);
	CHECK(up && res == RCPU_FAIL && r.why && strcmp(r.why, want) == 0 && r.p9_got == 0,
	    "%s: the session ends (%s)", what, r.why ? r.why : "no reason");
	rcpu_end(&r);
	client_end(&cl);
	rcpu_out_free(&o);
	SSL_CTX_free(sctx);
}

int
main(void)
{
	/* Rversion with a string running past its frame */
	static const uint8_t past[] = { 13, 0, 0, 0, P9_RVERSION, 0xff, 0xff, 0, 0x20, 0, 0, 9, 0 };
	/* a frame claiming 3 bytes, less than its own header */
	static const uint8_t tiny[] = { 3, 0, 0, 0, P9_RVERSION, 0xff, 0xff };
	/* 70 000 bytes: more than any reply may be */
	static const uint8_t huge[] = { 0x70, 0x11, 0x01, 0, P9_RERROR, 0xff, 0xff };

	test_replies();
	test_bad_reply(past, sizeof past, "9P: a reply that does not decode", "a reply that does not decode");
	test_bad_reply(tiny, sizeof tiny, "9P: a reply of impossible size", "a size below 7");
	test_bad_reply(huge, sizeof huge, "9P: a reply of impossible size", "a size above 64 KiB");
	return UNIT_DONE();
}
