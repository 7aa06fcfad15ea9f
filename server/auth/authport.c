/* The auth module's pure parts (auth.h): the auth port's framing, the
 * per-source failure limiter, the request limits per source and per user
 * and the check of the client's Y's. No sockets: the fuzz target and the
 * unit tests use them as the module does. */
#include "auth/auth.h"
#include "core/conn.h"

#include <string.h>

static bool
known_type(uint8_t t)
{
	switch (t) {
	case AuthTreq: case AuthChal: case AuthPass: case AuthMod: case AuthApop:
	case AuthOKvar: case AuthChap: case AuthMSchap: case AuthCram: case AuthHttp:
	case AuthVNC: case AuthPAK: case 21: case 22:	/* AuthMSchapv2, AuthNTLM */
		return true;
	}
	return false;
}

int64_t
auth_frame(size_t need, const uint8_t *p, size_t len)
{
	if (need)
		return (int64_t)need;
	if (len == 0)
		return CONN_FRAME_MORE;
	return known_type(p[0]) ? AUTH_TICKREQLEN : 1;
}

static struct auth_failsrc *
fail_find(const struct auth_faillimit *fl, uint32_t addr)
{
	for (size_t i = 0; i < AUTH_FAIL_SOURCES; i++)
		if (fl->v[i].addr == addr)
			return (struct auth_failsrc *)&fl->v[i];
	return NULL;
}

uint64_t
auth_fail_wait(const struct auth_faillimit *fl, uint32_t addr, uint64_t now)
{
	const struct auth_failsrc *s = fail_find(fl, addr);

	if (s == NULL || s->fails < AUTH_FAIL_MAX || now >= s->last + AUTH_FAIL_WINDOW_MS)
		return 0;
	return s->last + AUTH_FAIL_WINDOW_MS - now;
}

void
auth_fail_note(struct auth_faillimit *fl, uint32_t addr, uint64_t now)
{
	struct auth_failsrc *s = fail_find(fl, addr);

	if (s == NULL) {
		/* a free slot, else the one not heard from longest */
		s = &fl->v[0];
		for (size_t i = 0; i < AUTH_FAIL_SOURCES && s->addr; i++)
			if (fl->v[i].addr == 0 || fl->v[i].last < s->last)
				s = &fl->v[i];
		if (s->addr)
			fl->evicted++;
		memset(s, 0, sizeof *s);
		s->addr = addr;
		s->first = now;
	}
	if (now >= s->first + AUTH_FAIL_WINDOW_MS && now >= s->last + AUTH_FAIL_WINDOW_MS) {
		s->fails = 0;           /* a quiet window: start over */
		s->first = now;
	}
	s->fails++;
	s->last = now;
}

void
auth_reqlimit_init(struct auth_reqlimit *rl)
{
	memset(rl, 0, sizeof *rl);
	rl->src = (struct lim_table){ .v = rl->src_v, .n = AUTH_REQ_SOURCES };
	rl->user = (struct lim_table){ .v = rl->user_v, .n = AUTH_REQ_USERS };
}

static bool
user_take(struct auth_reqlimit *rl, const char *name, uint64_t now)
{
	uint8_t key[LIM_KEYLEN];

	if (name[0] == 0)
		return true;
	lim_key_name(key, name);
	return lim_take(lim_find(&rl->user, key), AUTH_REQ_USER_BURST, AUTH_REQ_USER_EVERY_MS, now);
}

const char *
auth_reqlimit_check(struct auth_reqlimit *rl, const uint8_t addr[16],
    const struct auth_ticketreq *tr, uint64_t now, const char **by)
{
	uint8_t key[LIM_KEYLEN];

	lim_key_addr(key, addr);
	if (!lim_take(lim_find(&rl->src, key), AUTH_REQ_SRC_BURST, AUTH_REQ_SRC_EVERY_MS, now)) {
		*by = "source";
		return "too many requests from your address; try again later";
	}
	if (tr->type != AuthPAK)
		return NULL;
	/* the names whose keys the PAK uses (authsrv.c's pak) */
	bool ok = tr->hostid[0] ? user_take(rl, tr->authid, now) && user_take(rl, tr->hostid, now)
	    : user_take(rl, tr->uid, now);
	if (!ok) {
		*by = "user";
		return "too many requests for this user; try again later";
	}
	return NULL;
}

bool
auth_ys_ok(const uint8_t *ys, size_t n)
{
	for (size_t off = 0; off + AUTH_PAKYLEN <= n; off += AUTH_PAKYLEN) {
		uint8_t any = 0;
		for (size_t i = 0; i < AUTH_PAKYLEN; i++)
			any |= ys[off + i];
		if (any == 0)
			return false;
	}
	return true;
}
