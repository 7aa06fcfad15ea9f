/* The DHCPv6 lease table (see dhcp6_lease.h) and its store's table
 * "dhcp6.leases" (core/store.h). Records, times in wall-clock seconds
 * (with the files store, the journal's lines):
 *   B <duid-hex>.<iaid> <addr> <until> <mac12|->   bound
 *   F <duid-hex>.<iaid>                            released
 *   D <addr> <until>                               declined
 * Journals written before the store had the address first:
 *   B <addr> <duid-hex> <iaid> <until> <mac12|->,  F <addr>
 * and are still read (the compaction at open rewrites them). The
 * mechanics (append, group commit, torn last line, atomic rewrite, or
 * the database) are the store's, shared with DHCPv4. */
#include "dhcp6/dhcp6_lease.h"
#include "core/store.h"
#include "core/log.h"
#include "core/hash.h"
#include "core/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BY_CLIENT, BY_ADDR };

struct dhcp6_leases {
	struct d6_lease *e;
	uint32_t n, cap, max;
	uint32_t *free_slots, nfree;    /* recycled entries, reused first */
	uint32_t *head[2], nhead;       /* nhead: a power of two */
	struct store_tab *t;            /* NULL while it is being replayed */
};

static uint32_t
slot(const struct dhcp6_leases *lt, int which, const struct d6_lease *e)
{
	uint32_t h = which == BY_CLIENT ? fnv32(e->duid, e->duid_len) : fnv32(e->addr, 16);
	return h & (lt->nhead - 1);
}

static void
chain_add(struct dhcp6_leases *lt, int which, uint32_t i)
{
	uint32_t *h = &lt->head[which][slot(lt, which, &lt->e[i])];

	lt->e[i].chain[which] = *h;
	*h = i + 1;
}

static void
chain_del(struct dhcp6_leases *lt, int which, uint32_t i)
{
	uint32_t *p = &lt->head[which][slot(lt, which, &lt->e[i])];

	while (*p && *p != i + 1)
		p = &lt->e[*p - 1].chain[which];
	if (*p)
		*p = lt->e[i].chain[which];
}

static void
grow_heads(struct dhcp6_leases *lt)
{
	uint32_t n = lt->nhead ? lt->nhead * 2 : 256;

	for (int w = 0; w < 2; w++) {
		free(lt->head[w]);
		lt->head[w] = ecalloc(n, sizeof *lt->head[w]);
	}
	lt->nhead = n;
	for (uint32_t i = 0; i < lt->n; i++) {
		if (lt->e[i].duid_len)
			chain_add(lt, BY_CLIENT, i);
		if (!ip6_zero(lt->e[i].addr))
			chain_add(lt, BY_ADDR, i);
	}
}

/* A zeroed entry, or -1 at the cap. */
static int64_t
entry_new(struct dhcp6_leases *lt)
{
	uint32_t i;

	if (lt->nfree > 0)
		i = lt->free_slots[--lt->nfree];
	else {
		if (lt->n >= lt->max)
			return -1;
		if (lt->n == lt->cap) {
			lt->cap = lt->cap ? lt->cap * 2 : 128;
			lt->e = erealloc(lt->e, lt->cap * sizeof *lt->e);
			lt->free_slots = erealloc(lt->free_slots, lt->cap * sizeof *lt->free_slots);
		}
		if (lt->nhead < 2 * (lt->n + 1))
			grow_heads(lt);     /* before the new entry counts: it is not set yet */
		i = lt->n++;
	}
	memset(&lt->e[i], 0, sizeof lt->e[i]);
	return i;
}

static void
entry_drop(struct dhcp6_leases *lt, uint32_t i)
{
	if (lt->e[i].duid_len)
		chain_del(lt, BY_CLIENT, i);
	chain_del(lt, BY_ADDR, i);
	memset(&lt->e[i], 0, sizeof lt->e[i]);
	lt->free_slots[lt->nfree++] = i;
}

struct d6_lease *
dhcp6_lease_find(struct dhcp6_leases *lt, const uint8_t *duid, size_t len, uint32_t iaid)
{
	if (lt->nhead == 0 || len == 0 || len > DUID_MAX)
		return NULL;
	for (uint32_t i = lt->head[BY_CLIENT][fnv32(duid, len) & (lt->nhead - 1)]; i;
	    i = lt->e[i - 1].chain[BY_CLIENT]) {
		struct d6_lease *e = &lt->e[i - 1];
		if (e->iaid == iaid && e->duid_len == len && memcmp(e->duid, duid, len) == 0)
			return e;
	}
	return NULL;
}

int
dhcp6_lease_client_count(struct dhcp6_leases *lt, const uint8_t *duid, size_t len,
    int64_t now_ms)
{
	int n = 0;

	if (lt->nhead == 0 || len == 0)
		return 0;
	for (uint32_t i = lt->head[BY_CLIENT][fnv32(duid, len) & (lt->nhead - 1)]; i;
	    i = lt->e[i - 1].chain[BY_CLIENT]) {
		struct d6_lease *e = &lt->e[i - 1];
		n += e->duid_len == len && memcmp(e->duid, duid, len) == 0 &&
		    (e->state == L6_OFFERED || e->state == L6_BOUND) && e->until_ms > now_ms;
	}
	return n;
}

struct d6_lease *
dhcp6_lease_by_addr(struct dhcp6_leases *lt, const uint8_t addr[16])
{
	if (lt->nhead == 0)
		return NULL;
	for (uint32_t i = lt->head[BY_ADDR][fnv32(addr, 16) & (lt->nhead - 1)]; i;
	    i = lt->e[i - 1].chain[BY_ADDR])
		if (memcmp(lt->e[i - 1].addr, addr, 16) == 0)
			return &lt->e[i - 1];
	return NULL;
}

static bool
same_client(const struct d6_lease *e, const uint8_t *duid, size_t len, uint32_t iaid)
{
	return e->duid_len == len && e->iaid == iaid && memcmp(e->duid, duid, len) == 0;
}

bool
dhcp6_lease_taken(struct dhcp6_leases *lt, const uint8_t addr[16], const uint8_t *duid,
    size_t len, uint32_t iaid, int64_t now_ms)
{
	struct d6_lease *e = dhcp6_lease_by_addr(lt, addr);

	if (e == NULL || e->state == L6_FREE || e->until_ms <= now_ms)
		return false;
	return !same_client(e, duid, len, iaid);
}

/* The client's entry, now holding addr; any other holder of addr is
 * recycled (the caller checked dhcp6_lease_taken). NULL at the cap. */
static struct d6_lease *
take(struct dhcp6_leases *lt, const struct d6_client *c, const uint8_t addr[16])
{
	struct d6_lease *e = dhcp6_lease_find(lt, c->duid, c->duid_len, c->iaid);
	struct d6_lease *old = dhcp6_lease_by_addr(lt, addr);
	int64_t i;

	if (old && old != e)
		entry_drop(lt, (uint32_t)(old - lt->e));
	if (e == NULL) {
		if ((i = entry_new(lt)) < 0)
			return NULL;
		e = &lt->e[i];
		memcpy(e->duid, c->duid, c->duid_len);
		e->duid_len = (uint8_t)c->duid_len;
		e->iaid = c->iaid;
		chain_add(lt, BY_CLIENT, (uint32_t)i);
		memcpy(e->addr, addr, 16);
		chain_add(lt, BY_ADDR, (uint32_t)i);
	} else if (memcmp(e->addr, addr, 16) != 0) {
		chain_del(lt, BY_ADDR, (uint32_t)(e - lt->e));
		memcpy(e->addr, addr, 16);
		chain_add(lt, BY_ADDR, (uint32_t)(e - lt->e));
	}
	if (c->mac) {
		memcpy(e->mac, c->mac, 6);
		e->has_mac = true;
	}
	return e;
}

bool
dhcp6_lease_offer(struct dhcp6_leases *lt, const struct d6_client *c, const uint8_t addr[16],
    int64_t until_ms)
{
	struct d6_lease *e = dhcp6_lease_find(lt, c->duid, c->duid_len, c->iaid);

	/* Offering a client its own live binding must not shorten it. */
	if (e && e->state == L6_BOUND && e->until_ms > until_ms && memcmp(e->addr, addr, 16) == 0)
		return true;
	if ((e = take(lt, c, addr)) == NULL)
		return false;
	e->state = L6_OFFERED;
	e->until_ms = until_ms;
	return true;
}

static void
client_hex(const struct d6_lease *e, char *out)
{
	for (size_t i = 0; i < e->duid_len; i++)
		snprintf(out + 2 * i, 3, "%02x", e->duid[i]);
	out[2 * e->duid_len] = '\0';
}

/* A client's name in the store: "DUIDHEX.IAID". */
static void
owner_text(const struct d6_lease *e, char *out, size_t cap)
{
	char d[2 * DUID_MAX + 1];

	client_hex(e, d);
	snprintf(out, cap, "%s.%" PRIu32, d, e->iaid);
}

int
dhcp6_lease_bind(struct dhcp6_leases *lt, const struct d6_client *c, const uint8_t addr[16],
    int64_t until_ms)
{
	struct d6_lease *e = take(lt, c, addr);
	char a[46], o[2 * DUID_MAX + 16], m[13] = "-";

	if (e == NULL)
		return -1;
	e->state = L6_BOUND;
	e->until_ms = until_ms;
	ip6_format(addr, a);
	owner_text(e, o, sizeof o);
	if (e->has_mac)
		mac_hex(e->mac, m);
	struct store_rec r = { 'B', o, a, until_ms / 1000, m, "" };
	return store_put(lt->t, &r);
}

void
dhcp6_lease_release(struct dhcp6_leases *lt, struct d6_lease *e)
{
	char o[2 * DUID_MAX + 16];

	if (e->state != L6_BOUND)
		return;
	e->state = L6_FREE;
	e->until_ms = 0;
	owner_text(e, o, sizeof o);
	struct store_rec r = { .op = 'F', .owner = o };
	store_put(lt->t, &r);
}

/* addr unusable until until_ms, in the table only. */
static void
block_addr(struct dhcp6_leases *lt, const uint8_t addr[16], int64_t until_ms)
{
	struct d6_lease *e = dhcp6_lease_by_addr(lt, addr);
	int64_t i;

	if (e)
		entry_drop(lt, (uint32_t)(e - lt->e));
	if ((i = entry_new(lt)) < 0)
		return;
	e = &lt->e[i];
	memcpy(e->addr, addr, 16);
	chain_add(lt, BY_ADDR, (uint32_t)i);
	e->state = L6_DECLINED;
	e->until_ms = until_ms;
}

void
dhcp6_lease_decline(struct dhcp6_leases *lt, const uint8_t addr[16], int64_t until_ms)
{
	char a[46];

	block_addr(lt, addr, until_ms);
	ip6_format(addr, a);
	struct store_rec r = { .op = 'D', .key = a, .until = until_ms / 1000 };
	store_put(lt->t, &r);
}

/* "DUIDHEX.IAID" into duid (its length, or -1) and iaid. */
static int
owner_parse(const char *s, uint8_t *duid, uint32_t *iaid)
{
	char d[2 * DUID_MAX + 2];
	const char *dot = strchr(s, '.');
	char *end;
	int n;

	if (dot == NULL || (size_t)(dot - s) >= sizeof d)
		return -1;
	memcpy(d, s, (size_t)(dot - s));
	d[dot - s] = '\0';
	if ((n = hex_bytes_parse(d, duid, DUID_MAX)) < 3)
		return -1;
	unsigned long v = strtoul(dot + 1, &end, 10);
	if (*end || end == dot + 1 || v > UINT32_MAX)
		return -1;
	*iaid = (uint32_t)v;
	return n;
}

static bool
apply_bind(struct dhcp6_leases *lt, const uint8_t *duid, int n, uint32_t iaid,
    const char *addrtext, int64_t until_s, const char *mactext)
{
	uint8_t addr[16], mac[6];
	bool hm = mac_parse(mactext, mac);
	struct d6_client c = { duid, (size_t)n, iaid, hm ? mac : NULL };
	struct d6_lease *e;

	if (!ip6_parse(addrtext, addr))
		return false;
	if ((e = take(lt, &c, addr)) != NULL) {
		e->state = L6_BOUND;
		e->until_ms = until_s * 1000;
	}
	return true;
}

static void
free_entry(struct d6_lease *e)
{
	if (e) {
		e->state = L6_FREE;
		e->until_ms = 0;
	}
}

/* A record replayed at open (either line format) or written by another
 * instance: into the table only. */
static bool
apply(void *arg, const struct store_rec *r)
{
	struct dhcp6_leases *lt = arg;
	uint8_t duid[DUID_MAX], addr[16];
	uint32_t iaid;
	int n;

	switch (r->op) {
	case 'B':
		if (strchr(r->owner, ':')) {        /* B ADDR DUID IAID UNTIL MAC */
			if ((n = hex_bytes_parse(r->key, duid, sizeof duid)) < 3 || r->until < 0 ||
			    r->until > UINT32_MAX)
				return false;
			return apply_bind(lt, duid, n, (uint32_t)r->until, r->owner,
			    strtoll(r->data, NULL, 10), r->rest);
		}
		if ((n = owner_parse(r->owner, duid, &iaid)) < 0)
			return false;
		return apply_bind(lt, duid, n, iaid, r->key, r->until, r->data);
	case 'F':
		if (strchr(r->owner, ':')) {        /* F ADDR */
			if (!ip6_parse(r->owner, addr))
				return false;
			free_entry(dhcp6_lease_by_addr(lt, addr));
			return true;
		}
		if ((n = owner_parse(r->owner, duid, &iaid)) < 0)
			return false;
		free_entry(dhcp6_lease_find(lt, duid, (size_t)n, iaid));
		return true;
	case 'D':
		if (!ip6_parse(r->key, addr))
			return false;
		block_addr(lt, addr, r->until * 1000);
		return true;
	}
	return false;
}

/* The database gave r's address to holder (another instance's client). */
static void
refused(void *arg, const struct store_rec *r, const char *holder, int64_t until)
{
	struct dhcp6_leases *lt = arg;
	struct store_rec h = { 'B', holder, r->key, until, "-", "" };
	uint8_t addr[16];

	log_info("dhcp6: %s: the store gave %s to %s", r->owner, r->key, holder);
	if (!apply(lt, &h) && ip6_parse(r->key, addr))
		block_addr(lt, addr, until * 1000);
}

/* Every live binding and decline, for the journal's compaction. */
static void
each_live(void *arg, struct store_tab *t, void (*emit)(struct store_tab *, const struct store_rec *))
{
	struct dhcp6_leases *lt = arg;
	int64_t now = wall_ms();
	char a[46], o[2 * DUID_MAX + 16], m[13];

	for (uint32_t i = 0; i < lt->n; i++) {
		struct d6_lease *e = &lt->e[i];
		if (ip6_zero(e->addr) || e->until_ms <= now)
			continue;
		ip6_format(e->addr, a);
		if (e->state == L6_BOUND) {
			owner_text(e, o, sizeof o);
			if (e->has_mac)
				mac_hex(e->mac, m);
			struct store_rec r = { 'B', o, a, e->until_ms / 1000, e->has_mac ? m : "-", "" };
			emit(t, &r);
		} else if (e->state == L6_DECLINED) {
			struct store_rec r = { .op = 'D', .key = a, .until = e->until_ms / 1000 };
			emit(t, &r);
		}
	}
}

static const struct store_tab_ops store_ops = {
	.apply = apply, .refused = refused, .each_live = each_live,
};

struct dhcp6_leases *
dhcp6_lease_open(struct store *st, size_t max)
{
	struct dhcp6_leases *lt = ecalloc(1, sizeof *lt);

	lt->max = max > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)max;
	grow_heads(lt);
	lt->t = store_tab_open(st, "dhcp6.leases", "dhcp6", &store_ops, lt);
	if (lt->t == NULL) {
		dhcp6_lease_close(lt);
		return NULL;
	}
	return lt;
}

void
dhcp6_lease_close(struct dhcp6_leases *lt)
{
	if (lt == NULL)
		return;
	store_tab_close(lt->t);
	free(lt->e);
	free(lt->free_slots);
	free(lt->head[0]);
	free(lt->head[1]);
	free(lt);
}

int
dhcp6_lease_sync(struct dhcp6_leases *lt)
{
	if (store_sync(lt->t) < 0)
		return -1;
	store_compact(lt->t, dhcp6_lease_count(lt));
	return 0;
}

int
dhcp6_lease_sync_begin(struct dhcp6_leases *lt, void (*done)(void *, int), void *arg)
{
	return store_sync_begin(lt->t, done, arg);
}

int
dhcp6_lease_sync_end(struct dhcp6_leases *lt, int err)
{
	if (store_sync_end(lt->t, err) < 0)
		return -1;
	store_compact(lt->t, dhcp6_lease_count(lt));
	return 0;
}

bool
dhcp6_lease_dirty(const struct dhcp6_leases *lt)
{
	return store_dirty(lt->t);
}

void
dhcp6_lease_foreach(const struct dhcp6_leases *lt, void (*fn)(const struct d6_lease *, void *),
    void *arg)
{
	for (uint32_t i = 0; i < lt->n; i++)
		if (!ip6_zero(lt->e[i].addr))
			fn(&lt->e[i], arg);
}

unsigned long
dhcp6_lease_count(const struct dhcp6_leases *lt)
{
	return lt->n - lt->nfree;
}
