/* The daemon's rate limiters (limiter.h): token buckets, fixed windows,
 * and the bounded keyed table. */
#include "core/limiter.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Refills by whole periods since the stamp; a new bucket starts full. */
static void
refill(struct lim_bucket *b, int burst, uint64_t every_ms, uint64_t now)
{
	if (b->stamp_ms == 0 || now < b->stamp_ms) {
		b->tokens = burst;
		b->stamp_ms = now ? now : 1;
		return;
	}
	uint64_t n = (now - b->stamp_ms) / every_ms;
	if (n == 0)
		return;
	if (n >= (uint64_t)burst || b->tokens + (int64_t)n >= burst)
		b->tokens = burst;
	else
		b->tokens += (int)n;
	b->stamp_ms += n * every_ms;
}

bool
lim_take(struct lim_bucket *b, int burst, uint64_t every_ms, uint64_t now)
{
	refill(b, burst, every_ms, now);
	if (b->tokens <= 0)
		return false;
	b->tokens--;
	return true;
}

bool
lim_peek(struct lim_bucket *b, int burst, uint64_t every_ms, uint64_t now)
{
	refill(b, burst, every_ms, now);
	return b->tokens > 0;
}

void
lim_refund(struct lim_bucket *b, int burst)
{
	if (b->tokens < burst)
		b->tokens++;
}

uint64_t
lim_wait(struct lim_bucket *b, int burst, uint64_t every_ms, uint64_t now)
{
	refill(b, burst, every_ms, now);
	if (b->tokens > 0)
		return 0;
	return b->stamp_ms + every_ms > now ? b->stamp_ms + every_ms - now : 0;
}

bool
lim_window_take(struct lim_window *w, unsigned n, uint64_t window_ms, uint64_t now)
{
	if (w->count == 0 || now < w->start || now - w->start >= window_ms) {
		w->start = now;
		w->count = 0;
	}
	if (w->count < UINT32_MAX)
		w->count++;
	return w->count <= n;
}

struct lim_bucket *
lim_find(struct lim_table *t, const uint8_t key[LIM_KEYLEN])
{
	struct lim_slot *old = &t->v[0];

	for (size_t i = 0; i < t->n; i++) {
		struct lim_slot *s = &t->v[i];
		if (s->b.stamp_ms && memcmp(s->key, key, LIM_KEYLEN) == 0)
			return &s->b;
		if (s->b.stamp_ms < old->b.stamp_ms)
			old = s;
	}
	if (old->b.stamp_ms)
		t->evicted++;
	memset(old, 0, sizeof *old);
	memcpy(old->key, key, LIM_KEYLEN);
	return &old->b;
}

void
lim_key_addr(uint8_t key[LIM_KEYLEN], const uint8_t addr[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(key, 0, LIM_KEYLEN);
	key[0] = 'a';
	memcpy(key + 1, addr, 16);
	if (memcmp(addr, mapped, 12) != 0)
		memset(key + 1 + 8, 0, 8);      /* IPv6: the /64 */
}

void
lim_key_name(uint8_t key[LIM_KEYLEN], const char *name)
{
	memset(key, 0, LIM_KEYLEN);
	key[0] = 'n';
	memcpy(key + 1, name, strnlen(name, LIM_KEYLEN - 2));
}

void
lim_key_format(const uint8_t key[LIM_KEYLEN], char *out, size_t cap)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	char a[INET6_ADDRSTRLEN];

	if (key[0] == 'n') {
		snprintf(out, cap, "%.*s", LIM_KEYLEN - 2, (const char *)key + 1);
		return;
	}
	if (memcmp(key + 1, mapped, 12) == 0) {
		inet_ntop(AF_INET, key + 13, a, sizeof a);
		snprintf(out, cap, "%s", a);
		return;
	}
	inet_ntop(AF_INET6, key + 1, a, sizeof a);
	snprintf(out, cap, "%s/64", a);
}
