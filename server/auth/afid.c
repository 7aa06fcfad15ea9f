/* p9any with dp9ik (or p9sk1, grid.p9any) over a 9P afid (core/authgate.h): the same server side
 * as rcpu's (rcpu.c), as the grid's host owner, ending at our
 * authenticator instead of TLS. The file server sees bytes and, at the
 * end, a user name; the keys stay here. */
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
	struct rcpu r;
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
	uint8_t aes[AUTH_AESKEYLEN], des[AUTH_DESKEYLEN];
	bool has_des;
	const struct grid *g = &k->d->inv->grid;

	if (*k->keys == NULL || !authkey_lookup(*k->keys, g->authid, aes, des, &has_des))
		return NULL;
	struct afid *x = ecalloc(1, sizeof *x);
	bool ok = rcpu_start(&x->r, g->authid, g->authdom, aes, has_des ? des : NULL, g->p9any,
	    &x->out);
	OPENSSL_cleanse(aes, sizeof aes);
	OPENSSL_cleanse(des, sizeof des);
	if (!ok) {
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
		enum rcpu_result res = rcpu_input(&x->r, NULL, x->in, (size_t)k, &x->out);
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
