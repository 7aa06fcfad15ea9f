/* libFuzzer target: arbitrary bytes as one connection's input, twice:
 * to the auth port (auth_frame, authsrv_request, authsrv_pak_ys,
 * authsrv_passreq, as the module drives them) and to the rcpu endpoint (rcpu_frame, rcpu_input:
 * the p9any choice parser, the challenge, the PAK, the ticket). Build and
 * run with `make fuzz-authreq` (FUZZ_TIME seconds, default 60). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/authsrv.h"
#include "auth/rcpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct auth_keyfile keys;
static SSL_CTX *tls;

static bool
fixed_rand(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	memset(buf, 0x42, n);
	return true;
}

static void
setup(void)
{
	static const uint8_t secret[32] = { 1 };
	char err[128];

	if (tls)
		return;
	/* glenda and bootes, keys as `gridbootd passwd` writes them */
	if (!authkey_load(&keys, "glenda aes=8db416e96797d4e8864b5f8a46bb5f86\n"
	    "bootes aes=f01807e37dbe63917da466e866ff2b60 des=01020304050607\n",
	    secret, err, sizeof err))
		__builtin_trap();
	tls = rcpu_tls_ctx();
	if (tls == NULL)
		__builtin_trap();
}

static bool
store(void *ctx, const char *user, const struct authkey *k, char *why, size_t whylen)
{
	(void)ctx;
	(void)user;
	(void)k;
	(void)why;
	(void)whylen;
	return true;
}

static void
auth_port(const uint8_t *p, size_t n, bool des)
{
	struct authsrv s;
	struct authsrv_reply r;
	size_t need = 0;

	authsrv_init(&s, &keys, des, fixed_rand, NULL);
	s.setkey = store;
	while (n > 0) {
		int64_t f = auth_frame(need, p, n);
		if (f <= 0 || (size_t)f > n || f == 1)
			break;          /* more needed, or AuthErr and a close */
		if (need && s.passing) {
			authsrv_passreq(&s, p, (size_t)f, &r);
			if (r.len > sizeof r.out)
				__builtin_trap();
			if (r.close)
				break;
			need = r.need;
		} else if (need) {
			bool ok = authsrv_pak_ys(&s, p, (size_t)f);
			need = 0;
			if (!ok)
				break;
		} else {
			authsrv_request(&s, p, &r);
			if (r.len > sizeof r.out)
				__builtin_trap();
			if (r.close)
				break;
			need = r.need;
			if (need > 2 * AUTH_PAKYLEN && need != AUTH_PASSREQLEN0 && need != AUTH_PASSREQLEN1)
				__builtin_trap();
		}
		p += f;
		n -= (size_t)f;
	}
	authsrv_wipe(&s);
}

static void
rcpu_port(const uint8_t *p, size_t n)
{
	static const uint8_t aes[16] = { 0xf0, 0x18 }, des[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct rcpu r;
	struct rcpu_out o = { 0 };

	if (!rcpu_start(&r, "bootes", "grid", aes, des, "dp9ik p9sk1", &o))
		__builtin_trap();
	while (n > 0) {
		int64_t f = rcpu_frame(&r, p, n);
		if (f < 0 || f == 0 || (size_t)f > n)
			break;
		enum rcpu_result res = rcpu_input(&r, tls, p, (size_t)f, &o);
		if (res == RCPU_FAIL) {
			if (r.why == NULL)
				__builtin_trap();
			break;
		}
		p += f;
		n -= (size_t)f;
	}
	rcpu_end(&r);
	rcpu_out_free(&o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	/* the AuthPAK's curve work is slow: one auth server a run, DES on
	 * for odd lengths (9front's authsrv without -N) */
	auth_port(data, size, size & 1);
	rcpu_port(data, size);
	return 0;
}
