/* The auth module's pure parts: the auth port's framing, rcpu's framing
 * and refusals, the per-source failure limiter (window, refusal time,
 * eviction at the bound), the 9P requests that print on the client, the
 * machine list, and the nvram image (layout and checksums against known
 * answers worked out by hand below) and who gets it from bootfiles. */
#include "auth/auth.h"
#include "auth/rcpu.h"
#include "boot/bootfiles.h"
#include "boot/nvram.h"
#include "core/conn.h"
#include "core/util.h"
#include "unit.h"
#include "unit_inv.h"

#include <stdlib.h>
#include <string.h>

static void
test_auth_frame(void)
{
	uint8_t req[AUTH_TICKREQLEN] = { AuthPAK };

	CHECK(auth_frame(0, req, 0) == CONN_FRAME_MORE, "nothing yet: read more");
	CHECK(auth_frame(0, req, 1) == 141, "AuthPAK: a 141-byte Ticketreq, known from its first byte");
	req[0] = AuthTreq;
	CHECK(auth_frame(0, req, 5) == 141, "AuthTreq: 141");
	req[0] = AuthPass;
	CHECK(auth_frame(0, req, 1) == 141, "AuthPass: 141");
	CHECK(auth_frame(117, req, 0) == 117, "after an AuthPass reply: the Passwordreq (117 in form 1)");
	req[0] = 'G';
	CHECK(auth_frame(0, req, 3) == 1, "'G' (HTTP) is no request type: a 1-byte frame for AuthErr");
	req[0] = 0;
	CHECK(auth_frame(0, req, 1) == 1, "0 is no request type either");
	CHECK(auth_frame(112, req, 0) == 112, "after an AuthPAK reply: the two Y's, 112 bytes");
}

static void
test_rcpu_frame(void)
{
	struct rcpu r;
	struct rcpu_out o = { 0 };
	uint8_t aes[16] = { 1 };
	uint8_t junk[RCPU_CHOICE_MAX];
	SSL_CTX *ctx = rcpu_tls_ctx();

	CHECK(ctx != NULL, "a TLS-PSK server context (TLS 1.2, the two PSK suites)");
	CHECK(rcpu_start(&r, "bootes", "grid", aes, NULL, "dp9ik", &o) && o.n == 15 &&
	    memcmp(o.p, "v.2 dp9ik@grid", 15) == 0, "the offer: \"v.2 dp9ik@grid\\0\" (dp9ik only)");
	CHECK(rcpu_frame(&r, (const uint8_t *)"dp9ik gr", 8) == 0, "a choice without its NUL: read more");
	CHECK(rcpu_frame(&r, (const uint8_t *)"dp9ik grid\0xyz", 14) == 11, "the choice is 11 bytes with its NUL");
	memset(junk, 'A', sizeof junk);
	CHECK(rcpu_frame(&r, junk, sizeof junk) == -1, "128 bytes without a NUL never make a choice");
	o.n = 0;
	CHECK(rcpu_input(&r, ctx, (const uint8_t *)"p9sk1 grid", 11, &o) == RCPU_FAIL && o.n == 0 &&
	    strstr(r.why, "dp9ik") != NULL, "choosing p9sk1: refused (%s)", r.why);
	rcpu_end(&r);

	o.n = 0;
	rcpu_start(&r, "bootes", "grid", aes, NULL, "dp9ik", &o);
	o.n = 0;
	CHECK(rcpu_input(&r, ctx, (const uint8_t *)"dp9ik other", 12, &o) == RCPU_FAIL,
	    "another domain: refused");
	rcpu_end(&r);

	o.n = 0;
	rcpu_start(&r, "bootes", "grid", aes, NULL, "dp9ik", &o);
	o.n = 0;
	CHECK(rcpu_input(&r, ctx, (const uint8_t *)"dp9ik grid", 11, &o) == RCPU_MORE && o.n == 3 &&
	    memcmp(o.p, "OK", 3) == 0, "dp9ik grid: \"OK\\0\"");
	CHECK(rcpu_frame(&r, junk, 3) == 8, "then the client's 8-byte challenge");
	o.n = 0;
	CHECK(rcpu_input(&r, ctx, (const uint8_t *)"chal0123", 8, &o) == RCPU_MORE &&
	    o.n == AUTH_TICKREQLEN + AUTH_PAKYLEN && o.p[0] == AuthPAK &&
	    strcmp((char *)o.p + 1, "bootes") == 0 && strcmp((char *)o.p + 29, "grid") == 0,
	    "then our AuthPAK Ticketreq for bootes@grid and our Y (197 bytes)");
	CHECK(rcpu_frame(&r, junk, 0) == 56, "then the auth server's Y");
	memset(junk, 0xff, 56);
	CHECK(rcpu_input(&r, ctx, junk, 56, &o) == RCPU_FAIL, "a Y that does not decode: refused (%s)", r.why);
	rcpu_end(&r);

	/* a ticket under the wrong key */
	o.n = 0;
	rcpu_start(&r, "bootes", "grid", aes, NULL, "dp9ik", &o);
	rcpu_input(&r, ctx, (const uint8_t *)"dp9ik grid", 11, &o);
	rcpu_input(&r, ctx, (const uint8_t *)"chal0123", 8, &o);
	r.st = RCPU_TICKET;         /* as if the PAK had finished */
	uint8_t tk[AUTH_TICKETLEN1 + AUTH_AUTHENTLEN1];
	memset(tk, 0x5a, sizeof tk);
	memcpy(tk, "form1 Ts", 8);
	CHECK(rcpu_frame(&r, tk, 10) == 192, "the ticket and authenticator: 124 + 68 bytes");
	CHECK(rcpu_input(&r, ctx, tk, sizeof tk, &o) == RCPU_FAIL && strstr(r.why, "wrong password"),
	    "a ticket that does not open: %s", r.why);
	rcpu_end(&r);
	rcpu_out_free(&o);
	SSL_CTX_free(ctx);
}

/* p9sk1 at rcpu: DES tickets and authenticators, and the 8-byte secret
 * the TLS-PSK then uses (des56to64 of the ticket key; the known answer is
 * tests/tools/dp9ik_model.py's des56to64, written from libsec's des.c). */
static void
test_rcpu_p9sk1(void)
{
	struct rcpu r;
	struct rcpu_out o = { 0 };
	uint8_t aes[16] = { 1 }, hdes[7] = { 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x07 };
	uint8_t k64[8], buf[AUTH_TICKETLEN0 + AUTH_AUTHENTLEN0];
	static const uint8_t key7[7] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16 };
	static const uint8_t want64[8] = { 0x10, 0x08, 0x45, 0x43, 0x31, 0xa1, 0x54, 0x2c };
	SSL_CTX *ctx = rcpu_tls_ctx();

	authmsg_des56to64(key7, k64);
	CHECK(memcmp(k64, want64, 8) == 0, "des56to64: 7 bytes to 8 with odd parity (model)");
	CHECK(rcpu_start(&r, "bootes", "grid", aes, hdes, "dp9ik p9sk1", &o) &&
	    strcmp((char *)o.p, "v.2 dp9ik@grid p9sk1@grid") == 0, "with a DES key: \"v.2 dp9ik@grid p9sk1@grid\"");
	rcpu_end(&r);
	o.n = 0;
	CHECK(rcpu_start(&r, "bootes", "grid", aes, NULL, "dp9ik p9sk1", &o) &&
	    strcmp((char *)o.p, "v.2 dp9ik@grid") == 0, "without one: p9sk1 left out");
	rcpu_end(&r);
	o.n = 0;
	CHECK(!rcpu_start(&r, "bootes", "grid", aes, NULL, "p9sk1", &o) && r.why && strstr(r.why, "DES"),
	    "p9sk1 alone without a DES key: nothing to offer (%s)", r.why ? r.why : "");
	rcpu_end(&r);

	o.n = 0;
	rcpu_start(&r, "bootes", "grid", aes, hdes, "p9sk1 dp9ik", &o);
	CHECK(strcmp((char *)o.p, "v.2 p9sk1@grid dp9ik@grid") == 0, "the offer follows grid.p9any's order");
	o.n = 0;
	CHECK(rcpu_input(&r, ctx, (const uint8_t *)"p9sk1 grid", 11, &o) == RCPU_MORE && r.p9sk1 &&
	    memcmp(o.p, "OK", 3) == 0, "p9sk1 grid: OK");
	o.n = 0;
	CHECK(rcpu_input(&r, ctx, (const uint8_t *)"chal0123", 8, &o) == RCPU_MORE && o.n == AUTH_TICKREQLEN &&
	    o.p[0] == AuthTreq && strcmp((char *)o.p + 1, "bootes") == 0, "then an AuthTreq Ticketreq alone (141 bytes)");
	CHECK(rcpu_frame(&r, buf, 0) == 85, "then the DES ticket and authenticator: 72 + 13");

	struct auth_ticket t;
	struct auth_authenticator a;
	memset(&t, 0, sizeof t);
	t.num = AuthTs;
	memcpy(t.chal, o.p + 1 + 28 + 48, 8);
	strcpy(t.cuid, "glenda");
	strcpy(t.suid, "glenda");
	memcpy(t.key, key7, 7);
	memset(&a, 0, sizeof a);
	a.num = AuthAc;
	memcpy(a.chal, t.chal, 8);
	CHECK(authmsg_ticket_encode(&t, hdes, 0, buf, sizeof buf) == 72 &&
	    authmsg_auth_encode(&a, &t, 0, buf + 72, 13) == 13, "the client's Ts and Ac");
	o.n = 0;
	CHECK(rcpu_input(&r, ctx, buf, sizeof buf, &o) == RCPU_MORE && o.n == 13 && r.nsecret == 8 &&
	    memcmp(r.secret, want64, 8) == 0 && strcmp(r.user, "glenda") == 0,
	    "As (13 bytes); the secret is des56to64(Ts.key), 8 bytes");
	CHECK(authmsg_auth_decode(o.p, 13, &t, &a) == 13 && a.num == AuthAs && memcmp(a.chal, "chal0123", 8) == 0,
	    "As opens with the ticket key and carries the client's challenge");
	rcpu_end(&r);

	/* a ticket under another DES key: wrong kind or challenge */
	o.n = 0;
	rcpu_start(&r, "bootes", "grid", aes, hdes, "p9sk1", &o);
	rcpu_input(&r, ctx, (const uint8_t *)"p9sk1 grid", 11, &o);
	rcpu_input(&r, ctx, (const uint8_t *)"chal0123", 8, &o);
	hdes[0] ^= 1;
	authmsg_ticket_encode(&t, hdes, 0, buf, sizeof buf);
	CHECK(rcpu_input(&r, ctx, buf, sizeof buf, &o) == RCPU_FAIL && strstr(r.why, "wrong password"),
	    "a DES ticket under another key: %s", r.why);
	rcpu_end(&r);
	rcpu_out_free(&o);
	SSL_CTX_free(ctx);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
test_cons_write(void)
{
	struct rcpu_out o = { 0 };
	int n = rcpu_cons_write("glenda", "hello\n", 6, &o);
	size_t at = 0;
	int types[8], k = 0;

	while (at + 7 <= o.n && k < 8) {
		types[k++] = o.p[at + 4];
		at += le32(o.p + at);
	}
	CHECK(n == 6 && k == 6 && at == o.n, "six whole 9P messages (%d, %d)", n, k);
	CHECK(types[0] == 100 && types[1] == 104 && types[2] == 110 && types[3] == 112 &&
	    types[4] == 118 && types[5] == 120, "Tversion Tattach Twalk Topen Twrite Tclunk");
	/* Tversion: size[4]=19 type tag=NOTAG msize[4]=8192 s[2]=6 "9P2000" */
	CHECK(le32(o.p) == 19 && o.p[5] == 0xff && o.p[6] == 0xff && le32(o.p + 7) == 8192 &&
	    memcmp(o.p + 13, "9P2000", 6) == 0, "Tversion 8192 9P2000 with NOTAG");
	rcpu_out_free(&o);
	char *big = emalloc(20000);
	memset(big, 'x', 20000);
	CHECK(rcpu_cons_write("glenda", big, 20000, &o) == 8, "20000 bytes: three Twrites within msize");
	free(big);
	rcpu_out_free(&o);
}

static void
test_limiter(void)
{
	struct auth_faillimit *fl = ecalloc(1, sizeof *fl);
	uint32_t a = 0x0a090001;

	CHECK(auth_fail_wait(fl, a, 1000) == 0, "a new source may connect");
	for (int i = 0; i < AUTH_FAIL_MAX - 1; i++)
		auth_fail_note(fl, a, 1000 + (uint64_t)i);
	CHECK(auth_fail_wait(fl, a, 1100) == 0, "%d failures: still allowed", AUTH_FAIL_MAX - 1);
	auth_fail_note(fl, a, 2000);
	CHECK(auth_fail_wait(fl, a, 2000) == AUTH_FAIL_WINDOW_MS, "%d: refused for a window after the last",
	    AUTH_FAIL_MAX);
	CHECK(auth_fail_wait(fl, a, 2000 + AUTH_FAIL_WINDOW_MS - 1) == 1, "until 1 ms before its end");
	CHECK(auth_fail_wait(fl, a, 2000 + AUTH_FAIL_WINDOW_MS) == 0, "and free again after it");
	CHECK(auth_fail_wait(fl, a + 1, 2000) == 0, "another source is not refused");
	auth_fail_note(fl, a, 2000 + 2 * AUTH_FAIL_WINDOW_MS);
	CHECK(auth_fail_wait(fl, a, 2001 + 2 * AUTH_FAIL_WINDOW_MS) == 0 && fl->v[0].fails == 1,
	    "a failure after a quiet window starts the count over");

	/* the bound: 256 sources, the one not heard from longest goes */
	memset(fl, 0, sizeof *fl);
	for (uint32_t i = 0; i < AUTH_FAIL_SOURCES; i++)
		for (int k = 0; k < AUTH_FAIL_MAX; k++)
			auth_fail_note(fl, 0x0b000001 + i, 10000 + i);
	CHECK(fl->evicted == 0 && auth_fail_wait(fl, 0x0b000001, 10300) > 0, "256 sources fit, all refused");
	auth_fail_note(fl, 0x0c000001, 20000);
	CHECK(fl->evicted == 1 && auth_fail_wait(fl, 0x0b000001, 20000) == 0 &&
	    auth_fail_wait(fl, 0x0b000002, 20000) > 0, "a 257th evicts the oldest only");
	free(fl);
}

static void
test_nvram(void)
{
	uint8_t img[NVRAM_LEN], aes[16], des[7] = { 1, 2, 3, 4, 5, 6, 7 }, zero[400] = { 0 };

	/* bootes' AES key for "bootes-pw" (PBKDF2-HMAC-SHA1, 9001 rounds),
	 * as `gridbootd passwd` writes it */
	const char *hex = "f01807e37dbe63917da466e866ff2b60";
	for (int i = 0; i < 16; i++)
		aes[i] = (uint8_t)strtoul((char[3]){ hex[2 * i], hex[2 * i + 1], 0 }, NULL, 16);
	CHECK(nvram_csum((const uint8_t *)"", 0) == 9, "nvcsum of nothing is 9");
	CHECK(nvram_image(img, "bootes", "grid", NULL, aes), "image for bootes@grid, p9sk1 off");
	/* Known answers, by hand: nvcsum = (9 + the bytes) mod 256.
	 *   machkey 7 zeros          -> machsum   9
	 *   config 14 zeros          -> configsum 9
	 *   "bootes" = 98+111+111+116+101+115 = 652; 661 mod 256 -> 149
	 *   "grid"   = 103+114+105+100 = 422;        431 mod 256 -> 175
	 *   the AES key's 16 bytes sum to 2176;      2185 mod 256 -> 137
	 *   des 1..7 = 28                            -> 37 */
	CHECK(memcmp(img, zero, 7) == 0 && img[7] == 9, "machkey zero, machsum 9 at 7");
	CHECK(memcmp(img + 8, zero, 8) == 0, "authkey/authsum zero (8..15)");
	CHECK(memcmp(img + 16, zero, 14) == 0 && img[30] == 9, "config zero, configsum 9 at 30");
	CHECK(memcmp(img + 31, "bootes", 7) == 0 && memcmp(img + 38, zero, 21) == 0 && img[59] == 149,
	    "authid at 31, NUL-padded to 28, authidsum 149 at 59");
	CHECK(memcmp(img + 60, "grid", 5) == 0 && memcmp(img + 65, zero, 43) == 0 && img[108] == 175,
	    "authdom at 60, padded to 48, authdomsum 175 at 108");
	CHECK(memcmp(img + 109, aes, 16) == 0 && img[125] == 137, "aesmachkey at 109, aesmachsum 137 at 125");
	CHECK(memcmp(img + NVRAM_SAFELEN, zero, NVRAM_LEN - NVRAM_SAFELEN) == 0,
	    "zero from 126 to 512 (one sector for plan9.nvr)");
	CHECK(nvram_image(img, "bootes", "grid", des, aes) && memcmp(img, des, 7) == 0 && img[7] == 37,
	    "with p9sk1: the DES key at 0, machsum 37");
	char longname[40];
	memset(longname, 'a', 39);
	longname[39] = 0;
	CHECK(!nvram_image(img, longname, "grid", NULL, aes), "an authid over 27 bytes does not fit");
}

static bool
fake_source(void *ctx, const struct inventory *inv, uint8_t out[NVRAM_LEN])
{
	(void)ctx;
	uint8_t aes[16] = { 0 };
	return nvram_image(out, inv->grid.authid, inv->grid.authdom, NULL, aes);
}

static void
test_bootfiles_nvram(void)
{
	struct errlist errs = { 0 };
	struct inventory *inv = gridboot_load("tests/inventory/good/basic.cfg", &errs);
	uint8_t cpu1[6] = { 0x52, 0x54, 0, 0, 0, 0x11 }, other[6] = { 0x52, 0x54, 0, 0, 0, 0x99 };
	struct genfile g;

	errlist_free(&errs);
	if (inv == NULL) {
		CHECK(0, "basic.cfg loads");
		return;
	}
	nvram_set_source(fake_source, NULL);
	CHECK(bootfiles_generate(inv, "nvram/525400000011", cpu1, &g) == GEN_NOT_FOUND,
	    "without grid.serve_nvram: not found, even to the machine itself");
	inv->grid.serve_nvram = true;
	CHECK(bootfiles_generate(inv, "nvram/525400000011", cpu1, &g) == GEN_OK && g.len == 512 &&
	    memcmp(g.data + 31, "bootes", 7) == 0, "with it: 512 bytes to cpu1 itself");
	free(g.data);
	CHECK(bootfiles_generate(inv, "nvram/525400000011", other, &g) == GEN_NOT_FOUND,
	    "another machine asking for cpu1's: not found");
	CHECK(bootfiles_generate(inv, "nvram/525400000011", NULL, &g) == GEN_NOT_FOUND,
	    "an address with no MAC: not found");
	CHECK(bootfiles_generate(inv, "nvram/5254000000", cpu1, &g) == GEN_BAD_NAME, "a short MAC: bad name");
	nvram_set_source(NULL, NULL);
	CHECK(bootfiles_generate(inv, "nvram/525400000011", cpu1, &g) == GEN_NOT_FOUND,
	    "no key source (the auth module off): not found");

	size_t n;
	char *list = auth_machine_list(inv, &n);
	CHECK(n == strlen(list) && strstr(list, "cpu1 52:54:00:00:00:11 ") == list,
	    "the machine list: name MAC address role, one a line: %.40s", list);
	free(list);
	inv_unref(inv);
}

int
main(void)
{
	test_auth_frame();
	test_rcpu_frame();
	test_rcpu_p9sk1();
	test_cons_write();
	test_limiter();
	test_nvram();
	test_bootfiles_nvram();
	return UNIT_DONE();
}
