/* core/limiter.c: token buckets, fixed windows, the keyed table and its
 * keys (IPv6 by /64). */
#include "core/limiter.h"
#include "unit.h"

#include <arpa/inet.h>

static void
buckets(void)
{
	struct lim_bucket b = { 0 };
	int n = 0;

	for (int i = 0; i < 20; i++)
		n += lim_take(&b, 5, 1000, 1000);
	CHECK(n == 5, "a new bucket gives its burst at once (%d of 20)", n);
	CHECK(!lim_take(&b, 5, 1000, 1999), "none back before the period");
	CHECK(lim_wait(&b, 5, 1000, 1500) == 500, "lim_wait says how long");
	CHECK(lim_take(&b, 5, 1000, 2000) && !lim_take(&b, 5, 1000, 2000), "one back after a period");
	n = 0;
	for (int i = 0; i < 20; i++)
		n += lim_take(&b, 5, 1000, 100000);
	CHECK(n == 5, "a long quiet refills to the burst, no more (%d)", n);
	lim_refund(&b, 5);
	CHECK(lim_peek(&b, 5, 1000, 100000) && lim_take(&b, 5, 1000, 100000) &&
	    !lim_peek(&b, 5, 1000, 100000), "a refund gives one back; peek takes none");
}

static void
windows(void)
{
	struct lim_window w = { 0 };
	int n = 0;

	for (int i = 0; i < 10; i++)
		n += lim_window_take(&w, 3, 1000, 5000 + (uint64_t)i);
	CHECK(n == 3 && w.count == 10, "a window lets n through and counts the rest (%d, %u)", n, w.count);
	CHECK(lim_window_take(&w, 3, 1000, 6000) && w.count == 1, "the next window starts over");
}

static void
table(void)
{
	struct lim_slot v[4];
	struct lim_table t = { v, 4, 0 };
	uint8_t a[16], k1[LIM_KEYLEN], k2[LIM_KEYLEN], k3[LIM_KEYLEN];
	char s[64];

	memset(v, 0, sizeof v);
	inet_pton(AF_INET6, "fd00:1:2:3::1", a);
	lim_key_addr(k1, a);
	inet_pton(AF_INET6, "fd00:1:2:3:ffff:1234:5678:9abc", a);
	lim_key_addr(k2, a);
	CHECK(memcmp(k1, k2, LIM_KEYLEN) == 0, "two addresses of one /64 are one key");
	lim_key_format(k1, s, sizeof s);
	CHECK_STR(s, "fd00:1:2:3::/64", "an IPv6 key reads as its /64");
	inet_pton(AF_INET6, "::ffff:10.0.0.1", a);
	lim_key_addr(k3, a);
	lim_key_format(k3, s, sizeof s);
	CHECK_STR(s, "10.0.0.1", "an IPv4 key reads as the address");
	inet_pton(AF_INET6, "::ffff:10.0.0.2", a);
	lim_key_addr(k2, a);
	CHECK(memcmp(k2, k3, LIM_KEYLEN) != 0, "IPv4 addresses stay apart");
	struct lim_bucket *b = lim_find(&t, k1);
	lim_take(b, 2, 1000, 10);
	CHECK(lim_find(&t, k1) == b, "a key finds its bucket again");
	for (int i = 0; i < 4; i++) {
		uint8_t k[LIM_KEYLEN];
		char name[8];
		snprintf(name, sizeof name, "u%d", i);
		lim_key_name(k, name);
		lim_take(lim_find(&t, k), 2, 1000, 100 + (uint64_t)i);
	}
	CHECK(t.evicted == 1, "a full table evicts the slot refilled longest ago (%llu)",
	    (unsigned long long)t.evicted);
	CHECK(lim_find(&t, k1)->stamp_ms == 0 && t.evicted == 2, "the evicted key comes back as new (full at its next take)");
}

int
main(void)
{
	buckets();
	windows();
	table();
	return UNIT_DONE();
}
