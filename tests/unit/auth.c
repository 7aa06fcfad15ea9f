/* The auth protocol pieces (server/auth/): key derivation, Ticketreq,
 * tickets and authenticators in both forms, AuthPAK, and whole exchanges
 * with the auth server's steps (authsrv).
 *
 * Where the known answers come from:
 *  - passtoaeskey("gridboot-test") = 8db416e9...: Python's
 *      hashlib.pbkdf2_hmac('sha1', b'gridboot-test', b'Plan 9 key derivation', 9001, 16)
 *    and the OpenSSL CLI agree:
 *      openssl kdf -keylen 16 -kdfopt digest:SHA1 -kdfopt pass:gridboot-test \
 *        -kdfopt "salt:Plan 9 key derivation" -kdfopt iter:9001 PBKDF2
 *  - passtodeskey, the DES ticket, the form 1 ticket and authenticator,
 *    the Passwordreq in both forms, PM/PN (authpak_hash) and the PAK key:
 *    tests/tools/dp9ik_model.py, written from 9front's passtokey.c, libc
 *    crypt.c, form1.c, convT2M.c, convPR2M.c, authpak.c; its DES and ChaCha20-Poly1305 are the Python "cryptography"
 *    package's, not our code's (run `python3 tests/tools/dp9ik_model.py`).
 *  - Whole exchanges are checked by playing the client with our own code
 *    (so they prove consistency, not interoperability; drawterm does that,
 *    see tests/tools/authsrv_probe.c). */
#include <stdlib.h>
#include <string.h>

#include "auth/authkey.h"
#include "auth/authmsg.h"
#include "auth/authpak.h"
#include "auth/authsrv.h"
#include "unit.h"
#include "unit_hex.h"

static void
seq(uint8_t *p, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

static void
key_tests(void)
{
	uint8_t aes[16], des[7];
	static const struct { const char *pw, *des; } deskeys[] = {
		{ "gridboot-test", "06e3fe2ea1cc57" },
		{ "a", "61000804028140" },
		{ "password", "f0f07c7e7fcbc9" },
		{ "a much longer password!!", "2e8493f9dd1464" },
	};

	CHECK(authkey_passtoaes(aes, "gridboot-test") && eqhex(aes, 16, "8db416e96797d4e8864b5f8a46bb5f86"),
	    "passtoaeskey: PBKDF2-HMAC-SHA1, 9001 rounds (python hashlib, openssl kdf)");
	for (size_t i = 0; i < sizeof(deskeys) / sizeof(deskeys[0]); i++)
		CHECK(authkey_passtodes(des, deskeys[i].pw) && eqhex(des, 7, deskeys[i].des),
		    "passtodeskey(\"%s\")", deskeys[i].pw);

	struct authkey k;
	CHECK(authkey_from_password(&k, "gridboot-test") && authkey_pakhash(&k, "glenda"), "passtokey + authpak_hash");
	CHECK(eqhex(k.pakhash, AUTH_PAKPLEN, "8b0c6fea95e08154e076b7e8711d7b5f6f7e5db990eaaf78fc45cefb6441588db7ed76f23f9b53371d5b1c5644a90fcda5c6aa2aca10f8db5216def4821983a5d8945c5a921c47647bb9df144f01e5f5c0899ff561ba72687e436269b7a64de82435f84eb9c1f95c810d7eb44e0436f8ad0da61488eaa810e9fa0952b9eb781f83b4bb58e55cd86c3a39cf4352251de8fb9e085a8aedb321b5d51a75b97f939ba7a1335f55045510274f3d16b02bbbd4f22b7db74285657538527aadd814be2b7d0781620a6008dfc9d148c9b6fb06861069aae68a454193fd9f1935a56f53c4"),
	    "PM for glenda");
	CHECK(eqhex(k.pakhash + AUTH_PAKPLEN, AUTH_PAKPLEN, "916be1390e8ca83ad60bac856c971c7ee5f697fc77728371d97a4ebb210e653a442d1c610afac7b71718e9a97c407c2cd7cbc82d05ef8713998410cdde0132617c32521ca9c2d9b875f1f49f254b16d588d5021689ca10316b5ba08af5d3ca4f1e661d37b4a93067c44dd38027defb086c714e3b7f53a557e6c9d772d3555b8a9a554fad819e77f18c8a753551d85636e6ed26bfce5d6037cb90686f05e1bbbb92206aab2944b6336f75dbde83bfa6a9a3f34503dfe9ce95a63f15e7d79895c30891da1b6fae06d3d7711f13f153b30cd4205937a2bd2aef8c710d727032b7c4"),
	    "PN for glenda");

	/* the PAK key of the model's fixed exchange */
	struct authkey kc = k, ks = k;
	struct authpak_priv pc, ps;
	uint8_t xc[56], xs[56], yc[56], ys[56];
	unhex(xc, 56, "4116a64f411b58945479e0e3d5818adde7e59b558c584da2b236d863a0e060c704de5e9434f0be0286da9be7871c4c1f77722edd4bc3c1d0");
	unhex(xs, 56, "f387aa526b70411c910016e58d0092c133fa7cc962f296408f80ad9a4117cba87b3c9a5aeea62ca0a9f6a1d99f92b6b50f730cabeaebed9b");
	authpak_new_x(&pc, &kc, xc, yc, true);
	authpak_new_x(&ps, &ks, xs, ys, false);
	CHECK(authpak_finish(&pc, &kc, ys) && authpak_finish(&ps, &ks, yc), "both PAK sides finish");
	CHECK(eqhex(kc.pakkey, 32, "f0ad7c213e9cc27b4f62b2a5ad357b0cfb48a248bcb9754677b9944a2dbc8eef")
	    && memcmp(kc.pakkey, ks.pakkey, 32) == 0, "pakkey as the model says, on both sides");
	/* random x: the two sides still agree; a wrong password does not */
	struct authkey kw;
	authkey_from_password(&kw, "wrong");
	authkey_pakhash(&kw, "glenda");
	CHECK(authpak_new(&pc, &kc, yc, true) && authpak_new(&ps, &kw, ys, false), "random PAK");
	CHECK(authpak_finish(&pc, &kc, ys) && authpak_finish(&ps, &kw, yc)
	    && memcmp(kc.pakkey, kw.pakkey, 32) != 0, "a wrong password gives another key");
	memset(yc, 0xff, 56);
	CHECK(authpak_new(&ps, &ks, ys, false) && !authpak_finish(&ps, &ks, yc), "an undecodable Y fails the PAK");
	authkey_wipe(&k);
}

static void
treq_tests(void)
{
	struct auth_ticketreq tr, back;
	uint8_t buf[AUTH_TICKREQLEN];

	memset(&tr, 0, sizeof(tr));
	tr.type = AuthPAK;
	strcpy(tr.authid, "bootes");
	strcpy(tr.authdom, "grid");
	seq(tr.chal, 8, 1);
	strcpy(tr.hostid, "glenda");
	strcpy(tr.uid, "glenda");
	authmsg_treq_encode(&tr, buf);
	CHECK(buf[0] == 19 && memcmp(buf + 1, "bootes\0", 7) == 0 && buf[1 + 27] == 0
	    && memcmp(buf + 29, "grid", 4) == 0 && buf[77] == 1 && buf[84] == 8
	    && memcmp(buf + 85, "glenda", 6) == 0 && memcmp(buf + 113, "glenda", 6) == 0,
	    "Ticketreq layout: type authid[28] authdom[48] chal[8] hostid[28] uid[28]");
	CHECK(authmsg_treq_decode(buf, sizeof(buf), &back) && memcmp(&tr, &back, sizeof(tr)) == 0, "Ticketreq round trip");
	CHECK(!authmsg_treq_decode(buf, 140, &back), "140 bytes are too few");
	memset(buf + 1, 'x', 28);		/* an unterminated authid */
	CHECK(authmsg_treq_decode(buf, sizeof(buf), &back) && strlen(back.authid) == 27, "an unterminated name is cut at 27");

	uint8_t err[65];
	authmsg_error(err, "DES is disabled");
	CHECK(err[0] == AuthErr && strcmp((char *)err + 1, "DES is disabled") == 0 && err[64] == 0, "AuthErr + 64-byte reason");
}

static void
fill_ticket(struct auth_ticket *t, int form, uint8_t num)
{
	memset(t, 0, sizeof(*t));
	t->num = num;
	seq(t->chal, 8, 1);
	strcpy(t->cuid, "glenda");
	strcpy(t->suid, "glenda");
	t->form = form;
	if (form)
		seq(t->key, 32, 0x20);
	else
		seq(t->key, 7, 0x10);
}

static void
ticket_tests(void)
{
	struct auth_ticket t, back;
	struct auth_authenticator a, aback;
	uint8_t buf[256], des[7], key[32];

	/* DES (form 0) */
	authkey_passtodes(des, "gridboot-test");
	fill_ticket(&t, 0, AuthTc);
	CHECK(authmsg_ticket_encode(&t, des, 0, buf, sizeof(buf)) == 72, "DES ticket is 72 bytes");
	CHECK(eqhex(buf, 72, "9fd24bb7426b1c0f65f9483d1048876ed111e064e7cc51a41caa8a6a3b81e457de96550658c125ff5267ebc72506e3aa0924af16e278028031b48f662735396681c51b6be6d52565"),
	    "DES ticket as Plan 9's encrypt() makes it (model)");
	CHECK(authmsg_ticket_decode(buf, 72, des, true, &back) == 72 && back.num == AuthTc && back.form == 0
	    && memcmp(back.key, t.key, 7) == 0 && strcmp(back.cuid, "glenda") == 0, "DES ticket round trip");
	CHECK(authmsg_ticket_decode(buf, 72, des, false, &back) == 0, "DES refused when dp9ik only");
	CHECK(authmsg_ticket_decode(buf, 40, des, true, &back) == -72, "short DES ticket asks for 72");
	CHECK(authmsg_ticket_decode(buf, 4, des, true, &back) == -8, "fewer than 8 bytes ask for 8");
	a.num = AuthAc;
	seq(a.chal, 8, 1);
	CHECK(authmsg_auth_encode(&a, &t, 0, buf, sizeof(buf)) == 13, "DES authenticator is 13 bytes");
	CHECK(authmsg_auth_decode(buf, 13, &t, &aback) == 13 && aback.num == AuthAc && memcmp(aback.chal, a.chal, 8) == 0,
	    "DES authenticator round trip");
	uint8_t odd[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, copy[10];
	memcpy(copy, odd, 10);
	CHECK(authmsg_des_encrypt(des, odd, 10) && authmsg_des_decrypt(des, odd, 10) && memcmp(odd, copy, 10) == 0,
	    "encrypt()'s overlapping last block undoes");

	/* form 1 */
	seq(key, 32, 0x40);
	fill_ticket(&t, 1, AuthTc);
	CHECK(authmsg_ticket_encode(&t, key, 7, buf, sizeof(buf)) == 124, "form 1 ticket is 124 bytes");
	CHECK(eqhex(buf, 124, "666f726d3120546307000000582b9a695e543e000488ee22cbd15ec86d5ea3812c4eef325dbe4acaa7f0d8e6a12500ec82a5bd97ff9c0aed883a437e2da6573d58405967269176264e90722a09d0766bad129ed6c878156c7c44f2932e062a3456543ea3a851d3c7a9714c95ff432bfc073321938608bf0dfc3b18b9"),
	    "form 1 ticket: \"form1 Tc\", counter 7 LE, ChaCha20-Poly1305 (python cryptography)");
	CHECK(authmsg_ticket_decode(buf, 124, key, false, &back) == 124 && back.num == AuthTc && back.form == 1
	    && memcmp(back.key, t.key, 32) == 0 && memcmp(back.chal, t.chal, 8) == 0, "form 1 ticket round trip");
	CHECK(authmsg_ticket_decode(buf, 100, key, false, &back) == -124, "short form 1 ticket asks for 124");
	buf[50] ^= 1;
	CHECK(authmsg_ticket_decode(buf, 124, key, false, &back) == 0 && back.num == 0, "a flipped bit fails the tag");
	buf[50] ^= 1;
	key[0] ^= 1;
	CHECK(authmsg_ticket_decode(buf, 124, key, false, &back) == 0, "the wrong key fails the tag");
	key[0] ^= 1;
	t.num = AuthTs;
	authmsg_ticket_encode(&t, key, 8, buf, sizeof(buf));
	CHECK(memcmp(buf, "form1 Ts", 8) == 0 && authmsg_ticket_decode(buf, 124, key, false, &back) == 124 && back.num == AuthTs,
	    "the signature carries the kind");
	t.num = 99;
	CHECK(authmsg_ticket_encode(&t, key, 9, buf, sizeof(buf)) == 0, "a kind without a signature is not sealed");

	fill_ticket(&t, 1, AuthTc);
	a.num = AuthAc;
	seq(a.chal, 8, 1);
	seq(a.rand, 32, 0x60);
	CHECK(authmsg_auth_encode(&a, &t, 0x01020304, buf, sizeof(buf)) == 68, "form 1 authenticator is 68 bytes");
	CHECK(eqhex(buf, 68, "666f726d3120416304030201d8a39bf0cdd0021cd5b19e601b2a5e5640072b7497a9a97d16e29bbf4153fdf8f5b7a77afce876cb044b938afb1196cf1e645a7a2c8c14d3"),
	    "form 1 authenticator under the ticket key (python cryptography)");
	CHECK(authmsg_auth_decode(buf, 68, &t, &aback) == 68 && aback.num == AuthAc && memcmp(aback.rand, a.rand, 32) == 0,
	    "form 1 authenticator round trip");
}

/* A deterministic random source for the exchange tests. */
static bool
counter_rand(void *ctx, uint8_t *buf, size_t n)
{
	uint32_t *c = ctx;
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)((*c)++ * 131 + 7);
	return true;
}

#define SECRET "0123456789abcdef0123456789abcdef"

static void
load_keys(struct auth_keyfile *kf)
{
	char text[1024], line[256], err[128];
	text[0] = 0;
	strcat(text, "# test users\n\n");
	authkey_line(line, sizeof(line), "glenda", "gridboot-test", true);
	strcat(text, line);
	authkey_line(line, sizeof(line), "bootes", "bootes-pw", false);
	strcat(text, line);
	CHECK(authkey_load(kf, text, (const uint8_t *)SECRET, err, sizeof(err)), "key file loads");
}

/* The client of dp9ik against authsrv, as factotum's getastickets does:
 * AuthPAK with the cpu server's Y (authid role client) and our own. */
static bool
client_exchange(struct authsrv *s, const char *authid, const char *apw, const char *user,
    const char *upw, struct auth_ticket *tc, struct auth_ticket *ts, struct authsrv_reply *last)
{
	struct auth_ticketreq tr;
	struct authkey ka, ku;
	struct authpak_priv pa, pu;
	struct authsrv_reply r;
	uint8_t req[AUTH_TICKREQLEN], ys[2 * 56];

	authkey_from_password(&ka, apw);
	authkey_pakhash(&ka, authid);
	authkey_from_password(&ku, upw);
	authkey_pakhash(&ku, user);
	memset(&tr, 0, sizeof(tr));
	tr.type = AuthPAK;
	strcpy(tr.authid, authid);
	strcpy(tr.authdom, "grid");
	seq(tr.chal, 8, 0x31);
	strcpy(tr.hostid, user);
	strcpy(tr.uid, user);
	authmsg_treq_encode(&tr, req);
	authsrv_request(s, req, &r);
	if (r.close || r.len != 1 + 112 || r.out[0] != AuthOK || r.need != 112)
		return false;
	authpak_new(&pa, &ka, ys, true);
	authpak_new(&pu, &ku, ys + 56, true);
	if (!authsrv_pak_ys(s, ys, sizeof(ys)))
		return false;
	if (!authpak_finish(&pa, &ka, r.out + 1) || !authpak_finish(&pu, &ku, r.out + 57))
		return false;

	tr.type = AuthTreq;
	authmsg_treq_encode(&tr, req);
	authsrv_request(s, req, &r);
	*last = r;
	if (r.close || r.out[0] != AuthOK)
		return false;
	int m = authmsg_ticket_decode(r.out + 1, r.len - 1, ku.pakkey, false, tc);
	if (m <= 0)
		return false;
	return authmsg_ticket_decode(r.out + 1 + m, r.len - 1 - m, ka.pakkey, false, ts) > 0;
}

static void
server_tests(void)
{
	struct auth_keyfile kf;
	struct authsrv s;
	struct auth_ticket tc, ts;
	struct authsrv_reply r, r2;
	uint32_t ctr = 1;

	char err_sf[128];
	struct auth_keyfile bad_sf;

	load_keys(&kf);
	authsrv_init(&s, &kf, false, counter_rand, &ctr);
	CHECK(client_exchange(&s, "bootes", "bootes-pw", "glenda", "gridboot-test", &tc, &ts, &r),
	    "dp9ik: AuthPAK for authid and hostid, then AuthTreq");
	CHECK(r.len == 1 + 124 + 124, "reply: AuthOK + two form 1 tickets");
	CHECK(tc.num == AuthTc && ts.num == AuthTs && tc.form == 1 && strcmp(tc.cuid, "glenda") == 0
	    && strcmp(ts.suid, "glenda") == 0 && memcmp(tc.key, ts.key, 32) == 0 && tc.chal[0] == 0x31,
	    "Tc opens with the user's PAK key, Ts with the authid's; same nonce key and challenge");

	/* a wrong password: the exchange completes, the ticket does not open */
	CHECK(!client_exchange(&s, "bootes", "bootes-pw", "glenda", "not-it", &tc, &ts, &r)
	    && r.out[0] == AuthOK && r.len == 249, "wrong password: same reply shape, ticket does not open");
	/* bootes speaks for others but not for adm */
	CHECK(client_exchange(&s, "bootes", "bootes-pw", "bootes", "bootes-pw", &tc, &ts, &r), "bootes for itself");

	/* AuthTreq without a PAK on a dp9ik-only server: AuthErr */
	struct auth_ticketreq tr;
	uint8_t req[AUTH_TICKREQLEN];
	memset(&tr, 0, sizeof(tr));
	tr.type = AuthTreq;
	strcpy(tr.authid, "bootes");
	strcpy(tr.hostid, "glenda");
	strcpy(tr.uid, "glenda");
	authmsg_treq_encode(&tr, req);
	authsrv_request(&s, req, &r);
	CHECK(r.close && r.len == 65 && r.out[0] == AuthErr && strcmp((char *)r.out + 1, "DES is disabled") == 0,
	    "AuthTreq without AuthPAK: AuthErr \"DES is disabled\"");
	tr.type = AuthChal;
	authmsg_treq_encode(&tr, req);
	authsrv_request(&s, req, &r);
	CHECK(r.close && r.out[0] == AuthErr, "unsupported request: AuthErr");
	tr.type = AuthTreq;
	tr.uid[0] = 0;
	authmsg_treq_encode(&tr, req);
	authsrv_request(&s, req, &r);
	CHECK(r.close && r.len == 0, "no uid: closed without a word (as 9front)");

	/* p9sk1 when DES is allowed */
	struct authsrv sd;
	struct auth_ticket t;
	uint8_t des[7];
	authsrv_init(&sd, &kf, true, counter_rand, &ctr);
	strcpy(tr.uid, "glenda");
	strcpy(tr.authid, "glenda");
	authmsg_treq_encode(&tr, req);
	authsrv_request(&sd, req, &r);
	authkey_passtodes(des, "gridboot-test");
	CHECK(!r.close && r.len == 1 + 72 + 72 && r.out[0] == AuthOK
	    && authmsg_ticket_decode(r.out + 1, 72, des, true, &t) == 72 && t.num == AuthTc && t.form == 0,
	    "p9sk1 AuthTreq: two DES tickets");

	/* unknown users: replies shaped like a known user's, stable per user */
	struct authkey k1, k2, k3;
	CHECK(!authkey_find(&kf, "nobody", &k1) && !authkey_find(&kf, "nobody", &k2)
	    && memcmp(&k1, &k2, sizeof(k1)) == 0, "an unknown user gets the same made-up key each time");
	CHECK(!authkey_find(&kf, "nobody2", &k3) && memcmp(k1.aes, k3.aes, 16) != 0, "and another user another one");
	CHECK(authkey_find(&kf, "glenda", &k3), "glenda is known");
	memset(&tr, 0, sizeof(tr));
	tr.type = AuthPAK;
	strcpy(tr.authid, "bootes");
	strcpy(tr.hostid, "nobody");
	strcpy(tr.uid, "nobody");
	authmsg_treq_encode(&tr, req);
	authsrv_request(&s, req, &r);
	strcpy(tr.hostid, "glenda");
	strcpy(tr.uid, "glenda");
	authmsg_treq_encode(&tr, req);
	authsrv_request(&s, req, &r2);
	CHECK(r.len == r2.len && r.need == r2.need && r.out[0] == r2.out[0], "AuthPAK reply for an unknown user looks like a known one's");

	/* speaksfor, as grid.speaksfor = ( { host = "bootes"; users = [ "*", "!adm" ]; },
	 * { host = "cpu"; users = [ "glenda" ]; } ) */
	char *bu[] = { (char *)"*", (char *)"!adm" }, *cu[] = { (char *)"glenda" };
	struct speaksfor rules[] = { { (char *)"bootes", bu, 2, 1 }, { (char *)"cpu", cu, 1, 2 } };
	CHECK(authkey_speaksfor(rules, 2, "bootes", "glenda") && !authkey_speaksfor(rules, 2, "bootes", "adm")
	    && !authkey_speaksfor(rules, 2, "glenda", "bootes") && authkey_speaksfor(rules, 2, "glenda", "glenda")
	    && authkey_speaksfor(rules, 2, "cpu", "glenda") && !authkey_speaksfor(rules, 2, "cpu", "bootes")
	    && !authkey_speaksfor(NULL, 0, "bootes", "glenda"),
	    "speaksfor: * and !name, a named user, oneself, no rule");
	CHECK(!authkey_load(&bad_sf, "bootes aes=000102030405060708090a0b0c0d0e0f speaksfor=*\n",
	    (const uint8_t *)SECRET, err_sf, sizeof(err_sf)) && strstr(err_sf, "grid.speaksfor") != NULL,
	    "speaksfor= in the key file points to the inventory: %s", err_sf);

	char err[128];
	struct auth_keyfile bad;
	CHECK(!authkey_load(&bad, "x aes=00\n", (const uint8_t *)SECRET, err, sizeof(err))
	    && strstr(err, "line 1") != NULL, "a short key is refused with its line: %s", err);
	CHECK(!authkey_load(&bad, "a aes=000102030405060708090a0b0c0d0e0f\na aes=000102030405060708090a0b0c0d0e0f\n",
	    (const uint8_t *)SECRET, err, sizeof(err)), "a user twice is refused: %s", err);
	authsrv_wipe(&s);
	authsrv_wipe(&sd);
	authkey_free(&kf);
}

static void
passreq_tests(void)
{
	struct auth_ticket t;
	struct auth_passreq pr, back;
	uint8_t buf[256];

	memset(&pr, 0, sizeof(pr));
	pr.num = AuthPass;
	strcpy(pr.old, "gridboot-test");
	strcpy(pr.new, "new-password-1");
	pr.changesecret = 1;
	strcpy(pr.secret, "pop-secret");

	fill_ticket(&t, 0, AuthTp);
	CHECK(authmsg_passreq_len(0) == 90 && authmsg_passreq_len(1) == 117,
	    "Passwordreq: 90 bytes in DES, 117 in form 1");
	CHECK(authmsg_passreq_encode(&pr, &t, 0, buf, sizeof(buf)) == 90
	    && eqhex(buf, 90, "bf60c0c4f9eb6c3e3e9b983d66021dd01c271d33d152904a3e7c28bf69da6caee18e5f4d7226b2c1bc4dbc7520a1b3316f4334da8ad1c8369111e22d8b894b83f6f09a7ccbfeae7f2097e7f21b4d74c758baf283e7546651dfce"),
	    "DES Passwordreq: num old[28] new[28] changesecret secret[32] under the ticket key (model)");
	CHECK(authmsg_passreq_decode(buf, 90, &t, &back) == 90 && back.num == AuthPass
	    && strcmp(back.old, "gridboot-test") == 0 && strcmp(back.new, "new-password-1") == 0
	    && back.changesecret == 1 && strcmp(back.secret, "pop-secret") == 0, "DES Passwordreq round trip");
	CHECK(authmsg_passreq_decode(buf, 89, &t, &back) == -90, "a short DES Passwordreq asks for 90");
	uint8_t plain[90];
	memcpy(plain, buf, 90);
	CHECK(authmsg_des_decrypt(t.key, plain, 90) && plain[0] == AuthPass && memcmp(plain + 1, "gridboot-test", 14) == 0
	    && memcmp(plain + 29, "new-password-1", 15) == 0 && plain[57] == 1 && memcmp(plain + 58, "pop-secret", 11) == 0,
	    "the fields at offsets 0, 1, 29, 57, 58");

	fill_ticket(&t, 1, AuthTp);
	CHECK(authmsg_passreq_encode(&pr, &t, 2, buf, sizeof(buf)) == 117
	    && eqhex(buf, 117, "666f726d3120505202000000de54a82110b324f6f8d792391c2e171e6731a5ae71a325791bccc1be2c0512fcf2c0a9c3c138292a0ced6d9e2af01462e0818e405d4add962c1f101a8698da104b1bd03babd0bdb60e0e74288ac5ea5a3284d4076deb2f8e8b1fcb0b0fd3da53441736ef3f405e7a41"),
	    "form 1 Passwordreq: \"form1 PR\", counter 2 LE, ChaCha20-Poly1305 (python cryptography)");
	CHECK(authmsg_passreq_decode(buf, 117, &t, &back) == 117 && back.num == AuthPass
	    && strcmp(back.new, "new-password-1") == 0, "form 1 Passwordreq round trip");
	CHECK(authmsg_passreq_decode(buf, 100, &t, &back) == -117, "a short one asks for 117");
	buf[40] ^= 1;
	CHECK(authmsg_passreq_decode(buf, 117, &t, &back) == 0 && back.num == 0, "a flipped bit fails the tag");
	buf[40] ^= 1;
	memset(pr.old, 'x', sizeof(pr.old));	/* no NUL: cut at 27 */
	authmsg_passreq_encode(&pr, &t, 3, buf, sizeof(buf));
	CHECK(authmsg_passreq_decode(buf, 117, &t, &back) == 117 && strlen(back.old) == 27, "old is cut at 27 bytes");

	CHECK(authsrv_okpasswd("gridboot") == NULL, "okpasswd: 8 characters are enough");
	CHECK(authsrv_okpasswd("short") && strstr(authsrv_okpasswd("short"), "too short"), "okpasswd: 5 are not");
	CHECK(authsrv_okpasswd("seven77      ") && strstr(authsrv_okpasswd("seven77      "), "too short"),
	    "okpasswd: trailing blanks do not count");
	CHECK(authsrv_okpasswd("anonymous") && strcmp(authsrv_okpasswd("anonymous"), "trivial password") == 0
	    && authsrv_okpasswd("suomynona") && strcmp(authsrv_okpasswd("no passwd"), "trivial password") == 0,
	    "okpasswd: trivial words, forwards and backwards");
}

/* The key store AuthPass writes to, in memory. */
struct store {
	int calls;
	char user[AUTH_ANAMELEN];
	struct authkey k;
	const char *fail;
};

static bool
store_set(void *ctx, const char *user, const struct authkey *k, char *why, size_t whylen)
{
	struct store *st = ctx;
	st->calls++;
	if (st->fail) {
		snprintf(why, whylen, "%s", st->fail);
		return false;
	}
	snprintf(st->user, sizeof(st->user), "%s", user);
	st->k = *k;
	return true;
}

/* AuthPass as 9front's passwd sends it: AuthPAK for the uid alone (dp9ik)
 * or nothing (p9sk1), then the request; the Tp ticket opened into t. */
static bool
pass_start(struct authsrv *s, bool dp9ik, const char *user, const char *pw, struct auth_ticket *t,
    struct authsrv_reply *r)
{
	struct auth_ticketreq tr;
	struct authkey k;
	struct authpak_priv p;
	uint8_t req[AUTH_TICKREQLEN], y[56];

	authkey_from_password(&k, pw);
	authkey_pakhash(&k, user);
	memset(&tr, 0, sizeof(tr));
	strcpy(tr.uid, user);
	seq(tr.chal, 8, 0x51);
	if (dp9ik) {
		tr.type = AuthPAK;
		authmsg_treq_encode(&tr, req);
		authsrv_request(s, req, r);
		if (r->close || r->len != 57 || r->need != 56)
			return false;
		authpak_new(&p, &k, y, true);
		if (!authsrv_pak_ys(s, y, 56) || !authpak_finish(&p, &k, r->out + 1))
			return false;
	}
	tr.type = AuthPass;
	authmsg_treq_encode(&tr, req);
	authsrv_request(s, req, r);
	if (r->close || r->out[0] != AuthOK)
		return false;
	/* DES has no tag: a wrong key shows in the kind and the name (passwd's check) */
	return authmsg_ticket_decode(r->out + 1, r->len - 1, dp9ik ? k.pakkey : k.des, !dp9ik, t) > 0
	    && t->num == AuthTp && strcmp(t->cuid, user) == 0;
}

static void
pass_send(struct authsrv *s, const struct auth_ticket *t, const char *old, const char *new,
    bool secret, struct authsrv_reply *r)
{
	struct auth_passreq pr;
	uint8_t buf[128];
	static uint32_t ctr;

	memset(&pr, 0, sizeof(pr));
	pr.num = AuthPass;
	strcpy(pr.old, old);
	strcpy(pr.new, new);
	pr.changesecret = secret;
	size_t n = authmsg_passreq_encode(&pr, t, ctr++, buf, sizeof(buf));
	authsrv_passreq(s, buf, n, r);
}

static bool
refused(const struct authsrv_reply *r, const char *why)
{
	return r->len == 65 && r->out[0] == AuthErr && strcmp((const char *)r->out + 1, why) == 0;
}

static void
passwd_tests(void)
{
	struct auth_keyfile kf;
	struct authsrv s, sd;
	struct auth_ticket t;
	struct authsrv_reply r;
	struct store st = { 0 };
	struct authkey want;
	uint32_t ctr = 1;

	load_keys(&kf);
	authsrv_init(&s, &kf, false, counter_rand, &ctr);
	s.setkey = store_set;
	s.setkey_ctx = &st;
	CHECK(pass_start(&s, true, "glenda", "gridboot-test", &t, &r) && r.len == 1 + 124 && r.need == 117
	    && s.passing && t.num == AuthTp && t.form == 1 && strcmp(t.cuid, "glenda") == 0 && t.chal[0] == 0x51,
	    "dp9ik AuthPass: AuthOK + a form 1 AuthTp ticket under the PAK key; 117 bytes next");
	pass_send(&s, &t, "not-the-password", "new-password-1", false, &r);
	CHECK(refused(&r, "bad password") && r.fail && !r.close && r.need == 117 && st.calls == 0,
	    "a wrong old password: AuthErr \"bad password\", counted, the connection stays");
	pass_send(&s, &t, "gridboot-test", "short", false, &r);
	CHECK(refused(&r, "password too short (at least 8 characters)") && !r.fail && r.need == 117,
	    "a short new one: its reason, not counted against the source");
	pass_send(&s, &t, "gridboot-test", "anonymous", false, &r);
	CHECK(refused(&r, "trivial password") && !r.fail, "a trivial one: \"trivial password\"");
	pass_send(&s, &t, "gridboot-test", "new-password-1", true, &r);
	CHECK(refused(&r, "no Inferno/POP secret is kept here: answer no"), "changesecret: refused with a reason");
	pass_send(&s, &t, "gridboot-test", "new-password-1", false, &r);
	authkey_from_password(&want, "new-password-1");
	CHECK(r.len == 1 && r.out[0] == AuthOK && !r.close && r.need == 0 && r.changed && !s.passing
	    && st.calls == 1 && strcmp(st.user, "glenda") == 0 && memcmp(st.k.aes, want.aes, 16) == 0
	    && memcmp(st.k.des, want.des, 7) == 0, "the right old password: AuthOK; the store got both keys of the new one");

	/* the tries run out */
	CHECK(pass_start(&s, true, "glenda", "gridboot-test", &t, &r), "AuthPass again");
	for (int i = 0; i < AUTHSRV_PASS_TRIES; i++)
		pass_send(&s, &t, "wrong-wrong", "new-password-2", false, &r);
	CHECK(refused(&r, "bad password") && r.close && !s.passing, "after %d refusals the connection closes",
	    AUTHSRV_PASS_TRIES);

	/* a store that cannot write */
	st.fail = "can't write key: disk full";
	CHECK(pass_start(&s, true, "glenda", "gridboot-test", &t, &r), "AuthPass, store failing");
	pass_send(&s, &t, "gridboot-test", "new-password-2", false, &r);
	CHECK(refused(&r, "can't write key: disk full") && !r.fail && !r.changed && s.passing, "the store's reason is sent");
	st.fail = NULL;
	pass_send(&s, &t, "gridboot-test", "", false, &r);
	CHECK(r.len == 1 && r.out[0] == AuthOK && !r.changed, "an empty new password changes nothing: AuthOK");

	/* a request that does not open */
	CHECK(pass_start(&s, true, "glenda", "gridboot-test", &t, &r), "AuthPass for a botch");
	t.key[0] ^= 1;
	pass_send(&s, &t, "gridboot-test", "new-password-2", false, &r);
	CHECK(refused(&r, "protocol botch: the password request does not open") && r.close && r.fail,
	    "a Passwordreq under another key: AuthErr and close");

	/* dp9ik only: AuthPass without a PAK */
	struct auth_ticketreq tr;
	uint8_t req[AUTH_TICKREQLEN];
	memset(&tr, 0, sizeof(tr));
	tr.type = AuthPass;
	strcpy(tr.uid, "glenda");
	authmsg_treq_encode(&tr, req);
	authsrv_init(&s, &kf, false, counter_rand, &ctr);
	authsrv_request(&s, req, &r);
	CHECK(refused(&r, "DES is disabled") && r.close, "dp9ik only: AuthPass without AuthPAK is \"DES is disabled\"");
	tr.uid[0] = 0;
	authmsg_treq_encode(&tr, req);
	authsrv_request(&s, req, &r);
	CHECK(refused(&r, "no user named in the password change") && r.close, "AuthPass without a uid");

	/* p9sk1: DES ticket and request */
	authsrv_init(&sd, &kf, true, counter_rand, &ctr);
	sd.setkey = store_set;
	sd.setkey_ctx = &st;
	st.calls = 0;
	CHECK(pass_start(&sd, false, "glenda", "gridboot-test", &t, &r) && r.len == 1 + 72 && r.need == 90 && t.form == 0,
	    "p9sk1 AuthPass: a DES AuthTp ticket; 90 bytes next");
	pass_send(&sd, &t, "gridboot-test", "new-password-3", false, &r);
	authkey_from_password(&want, "new-password-3");
	CHECK(r.len == 1 && r.out[0] == AuthOK && st.calls == 1 && memcmp(st.k.des, want.des, 7) == 0,
	    "p9sk1 Passwordreq: AuthOK, the new keys stored");
	CHECK(!pass_start(&sd, false, "bootes", "bootes-pw", &t, &r) && r.out[0] == AuthOK && r.len == 73,
	    "a user without a DES key gets a DES ticket no password opens");
	CHECK(!pass_start(&sd, false, "nobody", "whatever", &t, &r) && r.out[0] == AuthOK && r.len == 73,
	    "and so does an unknown user");
	authkey_wipe(&want);
	authsrv_wipe(&s);
	authsrv_wipe(&sd);
	authkey_free(&kf);
}

int
main(void)
{
	key_tests();
	treq_tests();
	ticket_tests();
	server_tests();
	passreq_tests();
	passwd_tests();
	return UNIT_DONE();
}
