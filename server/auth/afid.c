/* p9any with dp9ik (or p9sk1, grid.p9any) over a 9P afid (core/authgate.h): the same server side
 * as rcpu's (rcpu.c), as the grid's host owner, ending at our
 * authenticator instead of TLS. The file server sees bytes and, at the
 * end, a user name; the steps that need the host owner's key run in the
 * key process (keyclient.h), each a short synchronous call: the afid's
 * read and write are synchronous for the 9P server. */
#include "auth/afid.h"
#include "auth/rcpu.h"
#include "config/inventory.h"
#include "core/authgate.h"
#include "core/log.h"
#include "core/util.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* The longest step is the ticket and authenticator, 124 + 68 bytes. */
#define AFID_INMAX 512

struct afid {
	struct keyclient *kc;
	uint32_t tag;
	char why[64];
	struct rcpu r;          /* no keys: the key process's state, followed */
	struct rcpu_out out;
	size_t outpos;
	uint8_t in[AFID_INMAX];
	size_t inlen;
	bool authed, failed;
};

static void *
afid_start(void *arg)
{
	struct afid_keys *k = arg;
	const struct grid *g = &k->d->inv->grid;
	uint32_t tag = kc_open(*k->kc, NULL, NULL);

	if (tag == 0)
		return NULL;
	struct afid *x = ecalloc(1, sizeof *x);
	x->kc = *k->kc;
	x->tag = tag;
	if (!kc_rcpu_start(x->kc, tag, g->authid, g->authdom, g->p9any, &x->r, x->why, &x->out)) {
		kc_close(x->kc, tag);
		rcpu_out_free(&x->out);
		free(x);
		return NULL;
	}
	return x;
}

static ssize_t
afid_write(void *arg, const void *p, size_t n, const char **why)
{
	struct afid *x = arg;

	*why = NULL;
	if (x->failed || x->authed || n > AFID_INMAX - x->inlen) {
		*why = x->authed ? "authentication already done" : "authentication protocol botch";
		x->failed = !x->authed;
		return -1;
	}
	memcpy(x->in + x->inlen, p, n);
	x->inlen += n;
	for (;;) {
		int64_t k = rcpu_frame(&x->r, x->in, x->inlen);
		if (k < 0) {
			x->failed = true;
			*why = "authentication protocol botch";
			return -1;
		}
		if (k == 0 || (size_t)k > x->inlen)
			return (ssize_t)n;
		enum rcpu_result res = kc_rcpu_input(x->kc, x->tag, &x->r, x->why, false, x->in,
		    (size_t)k, &x->out);
		memmove(x->in, x->in + k, x->inlen - (size_t)k);
		x->inlen -= (size_t)k;
		if (res == RCPU_FAIL) {
			x->failed = true;
			*why = x->r.why;
			return -1;
		}
		if (res == RCPU_AUTHED) {
			x->authed = true;
			return (ssize_t)n;
		}
	}
}

static size_t
afid_read(void *arg, void *p, size_t n)
{
	struct afid *x = arg;
	size_t k = MIN(n, x->out.n - x->outpos);

	memcpy(p, x->out.p + x->outpos, k);
	x->outpos += k;
	return k;
}

static const char *
afid_user(void *arg)
{
	struct afid *x = arg;

	return x->authed && !x->failed ? x->r.user : NULL;
}

static void
afid_end(void *arg)
{
	struct afid *x = arg;

	if (x == NULL)
		return;
	kc_close(x->kc, x->tag);
	rcpu_end(&x->r);
	rcpu_out_free(&x->out);
	OPENSSL_cleanse(x, sizeof *x);
	free(x);
}

static const struct authgate_ops afid_ops = {
	.start = afid_start,
	.write = afid_write,
	.read = afid_read,
	.user = afid_user,
	.end = afid_end,
};

void
afid_register(struct afid_keys *k)
{
	authgate_register(&afid_ops, k);
}
