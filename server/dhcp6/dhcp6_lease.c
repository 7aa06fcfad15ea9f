/* The DHCPv6 lease table (see dhcp6_lease.h). Journal lines, times in
 * wall-clock seconds:
 *   B <addr> <duid-hex> <iaid> <until> <mac12|->   bound
 *   F <addr>                                       released
 *   D <addr> <until>                               declined
 * The journal mechanics (append, group commit, torn last line, atomic
 * rewrite) are core/journal.c's, shared with DHCPv4. */
#include "dhcp6/dhcp6_lease.h"
#include "core/journal.h"
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
	struct journal *j;
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

int
dhcp6_lease_bind(struct dhcp6_leases *lt, const struct d6_client *c, const uint8_t addr[16],
    int64_t until_ms)
{
	struct d6_lease *e = take(lt, c, addr);
	char a[46], d[2 * DUID_MAX + 1], m[13] = "-";

	if (e == NULL)
		return -1;
	e->state = L6_BOUND;
	e->until_ms = until_ms;
	ip6_format(addr, a);
	client_hex(e, d);
	if (e->has_mac)
		mac_hex(e->mac, m);
	return journal_append(lt->j, "B %s %s %" PRIu32 " %" PRId64 " %s\n", a, d, e->iaid,
	    until_ms / 1000, m);
}

void
dhcp6_lease_release(struct dhcp6_leases *lt, struct d6_lease *e)
{
	char a[46];

	if (e->state != L6_BOUND)
		return;
	e->state = L6_FREE;
	e->until_ms = 0;
	ip6_format(e->addr, a);
	journal_append(lt->j, "F %s\n", a);
}

void
dhcp6_lease_decline(struct dhcp6_leases *lt, const uint8_t addr[16], int64_t until_ms)
{
	struct d6_lease *e = dhcp6_lease_by_addr(lt, addr);
	char a[46];
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
	ip6_format(addr, a);
	journal_append(lt->j, "D %s %" PRId64 "\n", a, until_ms / 1000);
}

static bool
replay_line(void *arg, char *line)
{
	struct dhcp6_leases *lt = arg;
	char a[64], d[2 * DUID_MAX + 2], m[16];
	uint8_t addr[16], duid[DUID_MAX], mac[6];
	unsigned long iaid;
	long long t;
	int n;

	if (sscanf(line, "B %63s %261s %lu %lld %15s", a, d, &iaid, &t, m) == 5 &&
	    ip6_parse(a, addr) && (n = hex_bytes_parse(d, duid, sizeof duid)) >= 3) {
		bool hm = mac_parse(m, mac);
		struct d6_client c = { duid, (size_t)n, (uint32_t)iaid, hm ? mac : NULL };
		struct d6_lease *e = take(lt, &c, addr);
		if (e) {
			e->state = L6_BOUND;
			e->until_ms = t * 1000;
		}
		return true;
	}
	if (line[0] == 'F' && sscanf(line, "F %63s", a) == 1 && ip6_parse(a, addr)) {
		struct d6_lease *e = dhcp6_lease_by_addr(lt, addr);
		if (e) {
			e->state = L6_FREE;
			e->until_ms = 0;
		}
		return true;
	}
	if (sscanf(line, "D %63s %lld", a, &t) == 2 && ip6_parse(a, addr)) {
		struct d6_lease *e = dhcp6_lease_by_addr(lt, addr);
		if (e)
			entry_drop(lt, (uint32_t)(e - lt->e));
		int64_t i = entry_new(lt);
		if (i >= 0) {
			memcpy(lt->e[i].addr, addr, 16);
			chain_add(lt, BY_ADDR, (uint32_t)i);
			lt->e[i].state = L6_DECLINED;
			lt->e[i].until_ms = t * 1000;
		}
		return true;
	}
	return false;
}

/* Rewrites the journal as one record per live binding or decline. */
static int
compact(struct dhcp6_leases *lt)
{
	struct strbuf b = { 0 };
	int64_t now = wall_ms();
	unsigned long recs = 0;
	char a[46], d[2 * DUID_MAX + 1], m[13];

	for (uint32_t i = 0; i < lt->n; i++) {
		struct d6_lease *e = &lt->e[i];
		if (ip6_zero(e->addr) || e->until_ms <= now)
			continue;
		ip6_format(e->addr, a);
		if (e->state == L6_BOUND) {
			client_hex(e, d);
			if (e->has_mac)
				mac_hex(e->mac, m);
			strbuf_printf(&b, "B %s %s %" PRIu32 " %" PRId64 " %s\n", a, d, e->iaid,
			    e->until_ms / 1000, e->has_mac ? m : "-");
		} else if (e->state == L6_DECLINED)
			strbuf_printf(&b, "D %s %" PRId64 "\n", a, e->until_ms / 1000);
		else
			continue;
		recs++;
	}
	int rc = journal_rewrite(lt->j, b.p ? b.p : "", b.len, recs);
	free(b.p);
	return rc;
}

struct dhcp6_leases *
dhcp6_lease_open(const char *statedir, size_t max)
{
	struct dhcp6_leases *lt = ecalloc(1, sizeof *lt);

	lt->max = max > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)max;
	grow_heads(lt);
	lt->j = journal_open(statedir, "dhcp6.leases", "dhcp6", replay_line, lt);
	if (lt->j == NULL || compact(lt) < 0) {
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
	if (lt->j)
		journal_close(lt->j);
	free(lt->e);
	free(lt->free_slots);
	free(lt->head[0]);
	free(lt->head[1]);
	free(lt);
}

/* Compact once the journal is mostly history. */
static void
maybe_compact(struct dhcp6_leases *lt)
{
	if (journal_records(lt->j) > 4096 && journal_records(lt->j) > 4 * dhcp6_lease_count(lt))
		compact(lt);
}

int
dhcp6_lease_sync(struct dhcp6_leases *lt)
{
	if (journal_sync(lt->j) < 0)
		return -1;
	maybe_compact(lt);
	return 0;
}

int
dhcp6_lease_sync_begin(struct dhcp6_leases *lt)
{
	return journal_sync_begin(lt->j);
}

int
dhcp6_lease_sync_end(struct dhcp6_leases *lt, int err)
{
	if (journal_sync_end(lt->j, err) < 0)
		return -1;
	maybe_compact(lt);
	return 0;
}

bool
dhcp6_lease_dirty(const struct dhcp6_leases *lt)
{
	return journal_dirty(lt->j);
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
