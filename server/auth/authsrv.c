/* One auth server connection (see authsrv.h), after 9front's
 * sys/src/cmd/auth/authsrv.c: pak(), pak1(), getkey(), ticketrequest(). */
#include "auth/authsrv.h"

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
	if (!authkey_speaksfor(s->sf, s->nsf, tr->hostid, tr->uid)) {
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
		reply_error(r, "password change is not offered here: ask the operator");
		break;
	default:
		reply_error(r, "request type not supported (only AuthPAK, AuthTreq)");
		break;
	}
	slots_clear(s);
}
