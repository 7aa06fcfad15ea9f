/* One auth server connection (see authsrv.h), after 9front's
 * sys/src/cmd/auth/authsrv.c: pak(), pak1(), getkey(), ticketrequest(). */
#include "auth/authsrv.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

/* A user name into a 28-byte field, cut at 27 and NUL-terminated. */
static void
name_copy(char dst[AUTH_ANAMELEN], const char *src)
{
	size_t n = strnlen(src, AUTH_ANAMELEN - 1);
	memcpy(dst, src, n);
	memset(dst + n, 0, AUTH_ANAMELEN - n);
}

static void
slot_clear(struct authsrv_slot *sl)
{
	OPENSSL_cleanse(sl, sizeof(*sl));
}

/* 9front invalidates the PAK keys around every request but AuthPAK. */
static void
slots_clear(struct authsrv *s)
{
	slot_clear(&s->akey);
	slot_clear(&s->hkey);
	slot_clear(&s->ukey);
	s->npending = 0;
}

void
authsrv_init(struct authsrv *s, const struct auth_keyfile *keys, bool des_ok,
    authpak_rand_fn rnd, void *rnd_ctx)
{
	memset(s, 0, sizeof(*s));
	s->keys = keys;
	s->des_ok = des_ok;
	s->form1 = !des_ok;
	s->rand = rnd ? rnd : authpak_rand_openssl;
	s->rand_ctx = rnd_ctx;
	s->speaks = -1;
}

void
authsrv_wipe(struct authsrv *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

static void
reply_error(struct authsrv_reply *r, const char *why)
{
	authmsg_error(r->out, why);
	r->len = 1 + AUTH_AERRLEN;
	r->close = true;
	r->fail = true;
}

/* pak1: look the user up (or make a key up), then our Y goes out. */
static bool
pak1(struct authsrv *s, const char *user, struct authsrv_slot *sl, struct authsrv_reply *r)
{
	uint8_t x[AUTH_PAKSLEN];

	name_copy(sl->id, user);
	authkey_find(s->keys, sl->id, &sl->key);
	if (!authpak_pick_x(x, s->rand, s->rand_ctx))
		return false;
	authpak_new_x(&sl->priv, &sl->key, x, r->out + r->len, false);
	OPENSSL_cleanse(x, sizeof(x));
	r->len += AUTH_PAKYLEN;
	r->need += AUTH_PAKYLEN;
	s->pending[s->npending++] = sl;
	return true;
}

static void
pak(struct authsrv *s, const struct auth_ticketreq *tr, struct authsrv_reply *r)
{
	bool ok = true;

	slots_clear(s);
	r->out[r->len++] = AuthOK;
	if (tr->hostid[0]) {
		if (tr->authid[0])
			ok = pak1(s, tr->authid, &s->akey, r);
		ok = ok && pak1(s, tr->hostid, &s->hkey, r);
	} else if (tr->uid[0]) {
		ok = pak1(s, tr->uid, &s->ukey, r);
	}
	if (!ok) {
		slots_clear(s);
		r->len = 0;
		r->need = 0;
		r->close = true;
		return;
	}
	s->form1 = true;
}

bool
authsrv_pak_ys(struct authsrv *s, const uint8_t *ys, size_t n)
{
	bool ok = n == (size_t)s->npending * AUTH_PAKYLEN;

	for (int i = 0; ok && i < s->npending; i++)
		ok = authpak_finish(&s->pending[i]->priv, &s->pending[i]->key,
		    ys + (size_t)i * AUTH_PAKYLEN);
	s->npending = 0;
	if (!ok)
		slots_clear(s);
	return ok;
}

/* getkey: a key from the preceding PAK when its id matches; otherwise a
 * DES key from the key file, which form 1 sessions refuse. Returns false
 * with an error reply when DES is off. */
static bool
getkey(struct authsrv *s, const char *user, struct authsrv_slot *sl, struct authsrv_reply *r)
{
	if (sl->id[0] && strcmp(user, sl->id) == 0)
		return true;
	if (s->form1) {
		reply_error(r, "DES is disabled");
		return false;
	}
	name_copy(sl->id, user);
	authkey_find(s->keys, sl->id, &sl->key);
	return true;
}

/* Replaces a slot's keys with random ones: tickets then open for no one. */
static void
spoil(struct authsrv *s, struct authsrv_slot *sl)
{
	if (!s->rand(s->rand_ctx, sl->key.pakkey, AUTH_PAKKEYLEN)
	    || !s->rand(s->rand_ctx, sl->key.des, AUTH_DESKEYLEN))
		memset(&sl->key, 0xa5, sizeof(sl->key));	/* still not the real key */
}

static void
ticketrequest(struct authsrv *s, const struct auth_ticketreq *tr, struct authsrv_reply *r)
{
	struct auth_ticket t;
	const uint8_t *hk, *ak;
	size_t n;

	if (!tr->uid[0] || !tr->authid[0] || !tr->hostid[0]) {
		r->close = true;	/* 9front exits without a word */
		return;
	}
	if (!getkey(s, tr->authid, &s->akey, r) || !getkey(s, tr->hostid, &s->hkey, r))
		return;

	memset(&t, 0, sizeof(t));
	memcpy(t.chal, tr->chal, AUTH_CHALLEN);
	name_copy(t.cuid, tr->uid);
	name_copy(t.suid, tr->uid);
	t.form = s->form1;
	if (!s->rand(s->rand_ctx, t.key, AUTH_NONCELEN)) {
		r->close = true;
		return;
	}
	if (s->speaks >= 0 ? !s->speaks : !authkey_speaksfor(s->sf, s->nsf, tr->hostid, tr->uid)) {
		spoil(s, &s->akey);
		spoil(s, &s->hkey);
	}
	hk = t.form ? s->hkey.key.pakkey : s->hkey.key.des;
	ak = t.form ? s->akey.key.pakkey : s->akey.key.des;

	r->out[r->len++] = AuthOK;
	t.num = AuthTc;
	n = authmsg_ticket_encode(&t, hk, s->counter++, r->out + r->len, sizeof(r->out) - r->len);
	r->len += n;
	t.num = AuthTs;
	size_t m = authmsg_ticket_encode(&t, ak, s->counter++, r->out + r->len, sizeof(r->out) - r->len);
	r->len += m;
	if (n == 0 || m == 0) {
		r->len = 0;
		r->close = true;
	}
	OPENSSL_cleanse(&t, sizeof(t));
}

/* ---- AuthPass (9front's changepasswd) ---- */

static void
pass_end(struct authsrv *s)
{
	s->passing = false;
	s->pass_tries = 0;
	OPENSSL_cleanse(&s->pt, sizeof(s->pt));
	slots_clear(s);
}

/* AuthOK and the AuthTp ticket under the uid's key; the Passwordreq next.
 * An unknown uid gets a ticket under a made-up key, as for AuthTreq. */
static void
changepasswd(struct authsrv *s, const struct auth_ticketreq *tr, struct authsrv_reply *r)
{
	uint8_t aes[AUTH_AESKEYLEN], des[AUTH_DESKEYLEN];
	size_t n;

	if (!tr->uid[0]) {
		reply_error(r, "no user named in the password change");
		return;
	}
	if (!getkey(s, tr->uid, &s->ukey, r))
		return;
	s->pass_known = authkey_lookup(s->keys, tr->uid, aes, des, &s->pass_des);
	OPENSSL_cleanse(aes, sizeof(aes));
	OPENSSL_cleanse(des, sizeof(des));

	memset(&s->pt, 0, sizeof(s->pt));
	s->pt.num = AuthTp;
	memcpy(s->pt.chal, tr->chal, AUTH_CHALLEN);
	name_copy(s->pt.cuid, tr->uid);
	name_copy(s->pt.suid, tr->uid);
	s->pt.form = s->form1;
	if (!s->rand(s->rand_ctx, s->pt.key, AUTH_NONCELEN)) {
		r->close = true;
		return;
	}
	r->out[r->len++] = AuthOK;
	n = authmsg_ticket_encode(&s->pt, s->pt.form ? s->ukey.key.pakkey : s->ukey.key.des,
	    s->counter++, r->out + r->len, sizeof(r->out) - r->len);
	if (n == 0) {
		r->len = 0;
		r->close = true;
		return;
	}
	r->len += n;
	r->need = authmsg_passreq_len(s->pt.form);
	s->passing = true;
	s->pass_tries = 0;
}

const char *
authsrv_okpasswd(const char *pw)
{
	static const char *const trivial[] = {
		"login", "guest", "change me", "passwd", "no passwd", "anonymous",
	};
	char p[AUTH_PASSWDLEN], back[AUTH_PASSWDLEN];
	size_t n = strnlen(pw, AUTH_PASSWDLEN - 1);
	const char *why = NULL;

	memcpy(p, pw, n);
	while (n > 0 && p[n - 1] == ' ')
		n--;
	p[n] = 0;
	for (size_t i = 0; i < n; i++)
		back[i] = p[n - 1 - i];
	back[n] = 0;
	if (n < 8)
		why = "password too short (at least 8 characters)";
	for (size_t i = 0; !why && i < sizeof(trivial) / sizeof(trivial[0]); i++)
		if (strcmp(p, trivial[i]) == 0 || strcmp(back, trivial[i]) == 0)
			why = "trivial password";
	OPENSSL_cleanse(p, sizeof(p));
	OPENSSL_cleanse(back, sizeof(back));
	return why;
}

/* The old password against the uid's keys, in constant time; a user not
 * in the key file never passes. */
static bool
old_ok(struct authsrv *s, const char *old)
{
	struct authkey k;
	int bad;

	if (!authkey_from_password(&k, old))
		return false;
	bad = CRYPTO_memcmp(k.aes, s->ukey.key.aes, AUTH_AESKEYLEN) != 0;
	bad |= s->pass_des & (CRYPTO_memcmp(k.des, s->ukey.key.des, AUTH_DESKEYLEN) != 0);
	bad |= !s->pass_known;
	authkey_wipe(&k);
	return !bad;
}

/* Which refusal, if any; fail says whether it counts against the source. */
static const char *
pass_check(struct authsrv *s, const struct auth_passreq *pr, char *why, size_t whylen, bool *fail,
    bool *changed)
{
	struct authkey nk;
	const char *err;

	*fail = false;
	if (!old_ok(s, pr->old)) {
		*fail = true;
		return "bad password";
	}
	if (pr->changesecret)
		return "no Inferno/POP secret is kept here: answer no";
	if (!pr->new[0])
		return NULL;		/* nothing to change, as 9front allows */
	if ((err = authsrv_okpasswd(pr->new)) != NULL)
		return err;
	if (!authkey_from_password(&nk, pr->new))
		return "can't derive the new key";
	if (s->setkey == NULL) {
		snprintf(why, whylen, "can't write key: no key file");
	} else if (s->setkey(s->setkey_ctx, s->ukey.id, &nk, why, whylen)) {
		*changed = true;
		why = NULL;
	}
	authkey_wipe(&nk);
	return why;
}

void
authsrv_passreq(struct authsrv *s, const uint8_t *p, size_t n, struct authsrv_reply *r)
{
	struct auth_passreq pr;
	char whybuf[AUTH_AERRLEN];
	const char *why;

	memset(r, 0, sizeof(*r));
	if (!s->passing) {
		r->close = true;
		return;
	}
	if (authmsg_passreq_decode(p, n, &s->pt, &pr) <= 0 || pr.num != AuthPass) {
		reply_error(r, "protocol botch: the password request does not open");
		pass_end(s);
		OPENSSL_cleanse(&pr, sizeof(pr));
		return;
	}
	why = pass_check(s, &pr, whybuf, sizeof(whybuf), &r->fail, &r->changed);
	OPENSSL_cleanse(&pr, sizeof(pr));
	if (why == NULL) {
		r->out[r->len++] = AuthOK;
		pass_end(s);
		return;
	}
	authmsg_error(r->out, why);
	r->len = 1 + AUTH_AERRLEN;
	if (++s->pass_tries >= AUTHSRV_PASS_TRIES) {
		r->close = true;
		pass_end(s);
	} else {
		r->need = authmsg_passreq_len(s->pt.form);
	}
}

void
authsrv_request(struct authsrv *s, const uint8_t req[AUTH_TICKREQLEN], struct authsrv_reply *r)
{
	struct auth_ticketreq tr;

	memset(r, 0, sizeof(*r));
	authmsg_treq_decode(req, AUTH_TICKREQLEN, &tr);
	switch (tr.type) {
	case AuthPAK:
		pak(s, &tr, r);
		return;		/* the PAK keys stay for the AuthTreq that follows */
	case AuthTreq:
		ticketrequest(s, &tr, r);
		break;
	case AuthPass:
		changepasswd(s, &tr, r);
		if (s->passing)
			return;		/* the uid's key stays for the Passwordreq */
		break;
	default:
		reply_error(r, "request type not supported (only AuthPAK, AuthTreq, AuthPass)");
		break;
	}
	slots_clear(s);
}
