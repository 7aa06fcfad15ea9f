/* limiter: the daemon's one rate limiter, in two shapes, and a bounded
 * table of them keyed by source or by name.
 *
 *	token bucket	burst events at once, then one more every every_ms
 *			(HTTP enroll, auth requests per source and per
 *			user, auth failures);
 *	fixed window	at most n events in each window_ms (log lines,
 *			RA replies per second, new discovered records).
 *
 * A keyed table (struct lim_table) holds one bucket per key in a fixed
 * array the caller sizes: a flood from many keys costs fixed memory and a
 * short scan, and takes over the slot refilled longest ago (that key had
 * its whole burst back anyway, or nearly), counted in evicted.
 *
 * Keys are 32 bytes: a source address as lim_key_addr makes it (IPv4 as
 * ::ffff:a.b.c.d; IPv6 by its /64, since one host gets a whole /64 and
 * may use any address in it) or a name as lim_key_name makes it (Plan 9
 * user names are at most 27 bytes). Times are monotonic milliseconds,
 * passed in so the pure parts stay testable. No allocation, no clock. */
#ifndef GRIDBOOT_LIMITER_H
#define GRIDBOOT_LIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lim_bucket {
	int tokens;
	uint64_t stamp_ms;          /* 0: never used */
};

/* Takes one token: false when none is left (nothing taken). */
bool lim_take(struct lim_bucket *b, int burst, uint64_t every_ms, uint64_t now);
/* Whether a token is there, taking none. */
bool lim_peek(struct lim_bucket *b, int burst, uint64_t every_ms, uint64_t now);
/* Gives back a token lim_take took (refused later by another limit). */
void lim_refund(struct lim_bucket *b, int burst);
/* Milliseconds until the next token (0: one is there). */
uint64_t lim_wait(struct lim_bucket *b, int burst, uint64_t every_ms, uint64_t now);

struct lim_window {
	uint64_t start;             /* this window's first ms */
	unsigned count;             /* events counted in it */
};

/* Counts one event; true while the window has seen at most n. A new
 * window starts window_ms after the last one started. */
bool lim_window_take(struct lim_window *w, unsigned n, uint64_t window_ms, uint64_t now);

#define LIM_KEYLEN 32

struct lim_slot {
	uint8_t key[LIM_KEYLEN];
	struct lim_bucket b;
};

struct lim_table {
	struct lim_slot *v;         /* the caller's array */
	size_t n;
	uint64_t evicted;
};

/* key's bucket, found or made in the slot refilled longest ago. */
struct lim_bucket *lim_find(struct lim_table *t, const uint8_t key[LIM_KEYLEN]);

/* addr: 16 bytes, IPv4 as ::ffff:a.b.c.d. */
void lim_key_addr(uint8_t key[LIM_KEYLEN], const uint8_t addr[16]);
void lim_key_name(uint8_t key[LIM_KEYLEN], const char *name);
/* The source part of a key as text, for logs: "10.0.0.1", "fd00:1::/64". */
void lim_key_format(const uint8_t key[LIM_KEYLEN], char *out, size_t cap);

#endif
