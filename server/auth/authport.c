/* The auth module's pure parts (auth.h): the auth port's framing and the
 * per-source failure limiter. No sockets: the fuzz target and the unit
 * tests use them as the module does. */
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
