/* Replays a dp9ik exchange that a real client accepted: Debian's
 * drawterm-9front against tests/tools/authsrv_probe.c (transcript and how it
 * was made: auth_drawterm_transcript.h). With the recorded random draws fed
 * back, our auth server and cpu-server side must produce exactly the bytes
 * drawterm accepted, and drawterm's own messages must open and decode here.
 *
 * To record a new transcript (needs drawterm-9front and tcp 567/17019 free):
 *   make SAN=1 all
 *   cc -std=c11 -D_GNU_SOURCE -Iserver -o /tmp/authsrv_probe tests/tools/authsrv_probe.c \
 *       build-san/libgridboot.a -fsanitize=address,undefined -lssl -lcrypto
 *   /tmp/authsrv_probe 567 17019 grid bootes bootes-pw glenda gridboot-test /tmp/t.txt &
 *   PASS=gridboot-test drawterm -G -s 'tcp!127.0.0.1!5356' -a 'tcp!127.0.0.1!567' \
 *       -h 'tcp!127.0.0.1!17019' -u glenda -c 'echo hi'
 * and turn /tmp/t.txt's lines ("conn kind hex") into the header's table. */
#include <stdlib.h>
#include <string.h>

#include "auth/authkey.h"
#include "auth/authmsg.h"
#include "auth/authpak.h"
#include "auth/authsrv.h"
#include "curve/ed448.h"
#include "unit.h"

#include "auth_drawterm_transcript.h"

#define NLINES (sizeof(dt_transcript) / sizeof(dt_transcript[0]))

/* The n-th line of a connection and kind, as bytes; its length in *len. */
static uint8_t *
line(const char *conn, const char *kind, int nth, size_t *len)
{
	static uint8_t bufs[16][512];
	static int next;
	for (size_t i = 0; i < NLINES; i++) {
		if (strcmp(dt_transcript[i].conn, conn) || strcmp(dt_transcript[i].kind, kind) || nth-- > 0)
			continue;
		const char *h = dt_transcript[i].hex;
		uint8_t *b = bufs[next++ % 16];
		size_t n = strlen(h) / 2;
		for (size_t j = 0; j < n; j++) {
			unsigned v;
			sscanf(h + 2 * j, "%2x", &v);
			b[j] = (uint8_t)v;
		}
		*len = n;
		return b;
	}
	fprintf(stderr, "transcript has no %s %s #%d\n", conn, kind, nth);
	exit(2);
}

struct replay {
	const char *conn;
	int next;
	bool ok;
};

/* Hands back the recorded draws in order; a size that differs from the
 * recording means the code now draws differently: the replay fails. */
static bool
replay_rand(void *ctx, uint8_t *buf, size_t n)
{
	struct replay *r = ctx;
	size_t len;
	uint8_t *b = line(r->conn, "rand", r->next++, &len);
	if (len != n) {
		r->ok = false;
		memset(buf, 0, n);
		return true;
	}
	memcpy(buf, b, n);
	return true;
}

static void
load_keys(struct auth_keyfile *kf)
{
	char text[512], l[200], err[100];
	uint8_t secret[32] = { 1 };
	authkey_line(text, sizeof(text), "bootes", "bootes-pw", false);
	authkey_line(l, sizeof(l), "glenda", "gridboot-test", false);
	strcat(text, l);
	CHECK(authkey_load(kf, text, secret, err, sizeof(err)), "keys for bootes and glenda");
}

int
main(void)
{
	struct auth_keyfile kf;
	struct authsrv s;
	struct authsrv_reply r;
	struct replay arng = { "auth", 0, true }, crng = { "cpu", 0, true };
	uint8_t akey_pak[32], *b, *want;
	size_t n, wn;

	load_keys(&kf);

	/* ---- the auth server connection (tcp 567) ---- */
	authsrv_init(&s, &kf, false, replay_rand, &arng);
	b = line("auth", "c2s", 0, &n);
	CHECK(n == AUTH_TICKREQLEN && b[0] == AuthPAK, "drawterm's first request is AuthPAK");
	authsrv_request(&s, b, &r);
	want = line("auth", "s2c", 0, &wn);
	CHECK(r.len == wn && memcmp(r.out, want, wn) == 0 && r.need == 2 * AUTH_PAKYLEN,
	    "our AuthOK + Y(bootes) + Y(glenda) are the bytes drawterm accepted");
	b = line("auth", "c2s", 1, &n);
	{
		struct ed448_pt pt;
		CHECK(ed448_decaf_decode(&pt, b + AUTH_PAKYLEN) && ed448_oncurve(&pt),
		    "drawterm's own Y (decaf, made by 9front's code) decodes here onto the curve");
	}
	CHECK(authsrv_pak_ys(&s, b, n), "both PAKs finish with drawterm's Y values");
	memcpy(akey_pak, s.akey.key.pakkey, 32);
	b = line("auth", "c2s", 2, &n);
	CHECK(n == AUTH_TICKREQLEN && b[0] == AuthTreq, "then AuthTreq");
	authsrv_request(&s, b, &r);
	want = line("auth", "s2c", 1, &wn);
	CHECK(r.len == wn && memcmp(r.out, want, wn) == 0, "our AuthOK + Tc + Ts are the bytes drawterm accepted");
	CHECK(arng.ok, "the auth side drew randomness as recorded");
	authsrv_wipe(&s);

	/* ---- the cpu server connection (tcp 17019) ---- */
	struct authkey k;
	struct auth_ticketreq tr;
	struct authpak_priv p;
	struct auth_ticket t;
	struct auth_authenticator a;
	uint8_t trb[AUTH_TICKREQLEN + AUTH_PAKYLEN], x[56], rand2[64], as[AUTH_AUTHENTLEN1], secret[256];

	b = line("cpu", "s2c", 0, &n);
	CHECK(n == 26 && memcmp(b, "v.2 dp9ik@grid p9sk1@grid", 26) == 0, "p9any offer");
	b = line("cpu", "c2s", 0, &n);
	CHECK(n == 11 && memcmp(b, "dp9ik grid", 11) == 0, "drawterm chose dp9ik");
	authkey_from_password(&k, "bootes-pw");
	authkey_pakhash(&k, "bootes");
	memset(&tr, 0, sizeof(tr));
	tr.type = AuthPAK;
	strcpy(tr.authid, "bootes");
	strcpy(tr.authdom, "grid");
	replay_rand(&crng, tr.chal, 8);
	authmsg_treq_encode(&tr, trb);
	CHECK(authpak_pick_x(x, replay_rand, &crng), "x as recorded");
	authpak_new_x(&p, &k, x, trb + AUTH_TICKREQLEN, true);
	want = line("cpu", "s2c", 2, &wn);
	CHECK(wn == sizeof(trb) && memcmp(trb, want, wn) == 0, "our Ticketreq + Y(bootes, client role) as sent");
	b = line("cpu", "c2s", 2, &n);
	want = line("auth", "s2c", 0, &wn);
	CHECK(n == AUTH_PAKYLEN && memcmp(b, want + 1, AUTH_PAKYLEN) == 0,
	    "drawterm relayed the auth server's Y(bootes) to the cpu server");
	CHECK(authpak_finish(&p, &k, b), "the cpu side's PAK finishes");
	CHECK(memcmp(k.pakkey, akey_pak, 32) == 0, "the cpu side and the auth server agree on bootes's PAK key");
	b = line("cpu", "c2s", 3, &n);
	int m = authmsg_ticket_decode(b, n, k.pakkey, false, &t);
	CHECK(m == AUTH_TICKETLEN1 && t.num == AuthTs && memcmp(t.chal, tr.chal, 8) == 0
	    && strcmp(t.cuid, "glenda") == 0, "Ts (relayed by drawterm) opens");
	CHECK(authmsg_auth_decode(b + m, n - m, &t, &a) == AUTH_AUTHENTLEN1 && a.num == AuthAc
	    && memcmp(a.chal, tr.chal, 8) == 0,
	    "drawterm's Ac opens under the ticket key: it opened Tc with the PAK key it derived itself");
	memcpy(rand2, a.rand, 32);
	replay_rand(&crng, rand2 + 32, 32);
	b = line("cpu", "c2s", 1, &n);		/* drawterm's challenge */
	a.num = AuthAs;
	memcpy(a.chal, b, 8);
	memcpy(a.rand, rand2 + 32, 32);
	n = authmsg_auth_encode(&a, &t, 0, as, sizeof(as));
	want = line("cpu", "s2c", 3, &wn);
	CHECK(n == wn && memcmp(as, want, wn) == 0, "our As is the one drawterm accepted");
	authkey_hkdf(rand2, sizeof(rand2), "Plan 9 session secret", t.key, AUTH_NONCELEN, secret, sizeof(secret));
	want = line("cpu", "secret", 0, &wn);
	CHECK(wn == sizeof(secret) && memcmp(secret, want, wn) == 0,
	    "the session secret that keyed drawterm's TLS-PSK handshake");
	CHECK(crng.ok, "the cpu side drew randomness as recorded");
	authkey_wipe(&k);
	authkey_free(&kf);
	return UNIT_DONE();
}
