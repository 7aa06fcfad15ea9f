/* The lease table (two chained hash indexes over one array) and its
 * store (core/store.h), table "dhcp.leases". Its records, times in
 * wall-clock seconds (with the files store, the journal's lines):
 *   B <mac12> <ip> <until> <hostname|->   bound
 *   F <mac12>                             released
 *   D <ip> <until>                        declined (address unusable)
 * A torn last line (kill -9 mid-write) has no newline and is ignored: its
 * ACK was never sent, because ACKs wait for the sync. With a shared store
 * the database may refuse a bind (another instance's client holds the
 * address): the table then records the holder, and the ACK is not sent. */
#include "dhcp/dhcp_lease.h"
#include "core/store.h"
#include "core/log.h"
#include "core/hash.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIND_LOG 4096

/* One table and its journal; the DHCP server owns it (struct dhcp_server
 * in dhcp.c), through the pointer dhcp_lease_open returns. */
struct dhcp_leases {
	struct dhcp_lease *tab;
	uint32_t ntab, captab;
	/* Slots of entries that hold nothing any more, reused before the
	 * table grows: a flood of DISCOVERs from made-up MACs then costs at
	 * most one entry per address it could be offered, not one per MAC. */
	uint32_t *spare, nspare, capspare;
	uint32_t *bmac, *bip, nbuck;    /* nbuck is a power of two */
	struct store_tab *t;            /* NULL while it is being replayed */
	unsigned long generation;
	/* Binds not yet known durable: written since the sync began (cur),
	 * and in the sync under way (fly). A sync that succeeds marks its
	 * binds durable; one that fails leaves them not, so a store that is
	 * away never lets a bind it lost be promised again (the renewals
	 * dhcp_handle.c answers then). At most BIND_LOG each; past that a
	 * bind simply stays not durable. */
	struct bindrec { uint8_t mac[6]; uint32_t ip; int64_t until_ms; } *cur, *fly;
	uint32_t ncur, nfly;       /* bumped on every change to the table */
};

static uint32_t
hmac(const struct dhcp_leases *lt, const uint8_t mac[6])
{
	return fnv32(mac, 6) & (lt->nbuck - 1);
}

static uint32_t
hip(const struct dhcp_leases *lt, uint32_t ip)
{
	return (ip * 2654435761u >> 7) & (lt->nbuck - 1);
}

static void
link_mac(struct dhcp_leases *lt, uint32_t i)
{
	uint32_t *b = &lt->bmac[hmac(lt, lt->tab[i].mac)];
	lt->tab[i].next_mac = *b;
	*b = i + 1;
}

static void
link_ip(struct dhcp_leases *lt, uint32_t i)
{
	uint32_t *b = &lt->bip[hip(lt, lt->tab[i].ip)];
	lt->tab[i].next_ip = *b;
	*b = i + 1;
}

static void
unlink_ip(struct dhcp_leases *lt, uint32_t i)
{
	struct dhcp_lease *tab = lt->tab;

	for (uint32_t *p = &lt->bip[hip(lt, tab[i].ip)]; *p; p = &tab[*p - 1].next_ip)
		if (*p == i + 1) {
			*p = tab[i].next_ip;
			break;
		}
	tab[i].ip = 0;
}

static void
unlink_mac(struct dhcp_leases *lt, uint32_t i)
{
	struct dhcp_lease *tab = lt->tab;

	for (uint32_t *p = &lt->bmac[hmac(lt, tab[i].mac)]; *p; p = &tab[*p - 1].next_mac)
		if (*p == i + 1) {
			*p = tab[i].next_mac;
			break;
		}
	tab[i].has_mac = false;
}

/* Drops entry i, which has lost its address: a client's entry without an
 * address tells nothing (choose_ip wants its previous address). */
static void
recycle(struct dhcp_leases *lt, uint32_t i)
{
	if (lt->tab[i].ip)
		unlink_ip(lt, i);
	if (lt->tab[i].has_mac)
		unlink_mac(lt, i);
	memset(&lt->tab[i], 0, sizeof lt->tab[i]);
	if (lt->nspare == lt->capspare) {
		lt->capspare = lt->capspare ? lt->capspare * 2 : 64;
		lt->spare = erealloc(lt->spare, lt->capspare * sizeof *lt->spare);
	}
	lt->spare[lt->nspare++] = i;
}

static void
rehash(struct dhcp_leases *lt, uint32_t n)
{
	free(lt->bmac);
	free(lt->bip);
	lt->nbuck = n;
	lt->bmac = ecalloc(lt->nbuck, sizeof *lt->bmac);
	lt->bip = ecalloc(lt->nbuck, sizeof *lt->bip);
	for (uint32_t i = 0; i < lt->ntab; i++) {
		if (lt->tab[i].has_mac)
			link_mac(lt, i);
		if (lt->tab[i].ip)
			link_ip(lt, i);
	}
}

static uint32_t
new_entry(struct dhcp_leases *lt)
{
	if (lt->nspare > 0) {
		uint32_t i = lt->spare[--lt->nspare];
		memset(&lt->tab[i], 0, sizeof lt->tab[i]);
		return i;
	}
	if (lt->ntab == lt->captab) {
		lt->captab = lt->captab ? lt->captab * 2 : 256;
		lt->tab = erealloc(lt->tab, lt->captab * sizeof *lt->tab);
	}
	if (lt->nbuck < 2 * (lt->ntab + 1))
		rehash(lt, lt->nbuck ? lt->nbuck * 2 : 512);
	memset(&lt->tab[lt->ntab], 0, sizeof lt->tab[lt->ntab]);
	return lt->ntab++;
}

static struct dhcp_lease *
find_mac(struct dhcp_leases *lt, const uint8_t mac[6])
{
	if (lt->nbuck == 0)
		return NULL;
	for (uint32_t i = lt->bmac[hmac(lt, mac)]; i; i = lt->tab[i - 1].next_mac)
		if (memcmp(lt->tab[i - 1].mac, mac, 6) == 0)
			return &lt->tab[i - 1];
	return NULL;
}

struct dhcp_lease *
dhcp_lease_by_mac(struct dhcp_leases *lt, const uint8_t mac[6])
{
	return find_mac(lt, mac);
}

struct dhcp_lease *
dhcp_lease_by_ip(struct dhcp_leases *lt, uint32_t ip)
{
	if (lt->nbuck == 0 || ip == 0)
		return NULL;
	for (uint32_t i = lt->bip[hip(lt, ip)]; i; i = lt->tab[i - 1].next_ip)
		if (lt->tab[i - 1].ip == ip)
			return &lt->tab[i - 1];
	return NULL;
}

bool
dhcp_lease_taken(struct dhcp_leases *lt, uint32_t ip, const uint8_t mac[6], int64_t now_ms)
{
	struct dhcp_lease *e = dhcp_lease_by_ip(lt, ip);

	if (e == NULL || e->state == LS_FREE || e->until_ms <= now_ms)
		return false;
	return !(e->has_mac && memcmp(e->mac, mac, 6) == 0);
}

/* The entry for mac, created if needed, now holding ip (taken from any
 * stale holder: the caller checked dhcp_lease_taken). */
static struct dhcp_lease *
set_ip(struct dhcp_leases *lt, const uint8_t mac[6], uint32_t ip)
{
	struct dhcp_lease *e = find_mac(lt, mac), *old = dhcp_lease_by_ip(lt, ip);
	uint32_t i;

	lt->generation++;

	if (old && old != e)
		recycle(lt, (uint32_t)(old - lt->tab));
	if (e == NULL) {
		i = new_entry(lt);
		memcpy(lt->tab[i].mac, mac, 6);
		lt->tab[i].has_mac = true;
		link_mac(lt, i);
	} else
		i = (uint32_t)(e - lt->tab);
	if (lt->tab[i].ip != ip) {
		if (lt->tab[i].ip)
			unlink_ip(lt, i);
		lt->tab[i].ip = ip;
		lt->tab[i].durable_ms = 0;
		link_ip(lt, i);
	}
	return &lt->tab[i];
}

void
dhcp_lease_offer(struct dhcp_leases *lt, const uint8_t mac[6], uint32_t ip, int64_t until_ms)
{
	struct dhcp_lease *e = find_mac(lt, mac);

	/* Re-offering a client its own live lease must not shorten it. */
	if (e && e->ip == ip && e->state == LS_BOUND && e->until_ms > until_ms)
		return;
	e = set_ip(lt, mac, ip);
	e->state = LS_OFFERED;
	e->until_ms = until_ms;
}

static void
host_token(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; in && *in && n + 1 < cap; in++)
		out[n++] = (*in > ' ' && *in < 0x7f) ? *in : '_';
	out[n] = '\0';
}

int
dhcp_lease_bind(struct dhcp_leases *lt, const uint8_t mac[6], uint32_t ip, int64_t until_ms,
    const char *hostname)
{
	struct dhcp_lease *e = set_ip(lt, mac, ip);
	char m12[13], ips[16];

	e->state = LS_BOUND;
	e->until_ms = until_ms;
	host_token(hostname, e->hostname, sizeof e->hostname);
	mac_hex(mac, m12);
	ip_format(ip, ips);
	struct store_rec r = { 'B', m12, ips, until_ms / 1000, e->hostname[0] ? e->hostname : "-" };
	if (store_put(lt->t, &r) < 0)
		return -1;
	/* Only a bind the store took becomes durable with the next sync: a
	 * refused one (a disk that keeps failing) must never let a renewal
	 * be answered from it without a write. */
	if (lt->ncur < BIND_LOG) {
		memcpy(lt->cur[lt->ncur].mac, mac, 6);
		lt->cur[lt->ncur].ip = ip;
		lt->cur[lt->ncur++].until_ms = until_ms;
	}
	return 0;
}

void
dhcp_lease_release(struct dhcp_leases *lt, const uint8_t mac[6])
{
	struct dhcp_lease *e = find_mac(lt, mac);
	char m12[13];

	if (e == NULL || e->state != LS_BOUND)
		return;
	e->state = LS_FREE;
	e->until_ms = 0;
	lt->generation++;
	mac_hex(mac, m12);
	struct store_rec r = { .op = 'F', .owner = m12 };
	store_put(lt->t, &r);
}

/* ip unusable until until_ms, in the table only. */
static void
block_ip(struct dhcp_leases *lt, uint32_t ip, int64_t until_ms)
{
	struct dhcp_lease *e = dhcp_lease_by_ip(lt, ip);
		uint32_t i;

	lt->generation++;

	if (e && e->has_mac) {
		recycle(lt, (uint32_t)(e - lt->tab));
		e = NULL;
	}
	if (e == NULL) {
		i = new_entry(lt);
		lt->tab[i].ip = ip;
		link_ip(lt, i);
		e = &lt->tab[i];
	}
	e->state = LS_DECLINED;
	e->until_ms = until_ms;
}

void
dhcp_lease_decline(struct dhcp_leases *lt, uint32_t ip, int64_t until_ms)
{
	char ips[16];

	block_ip(lt, ip, until_ms);
	ip_format(ip, ips);
	struct store_rec r = { .op = 'D', .key = ips, .until = until_ms / 1000 };
	store_put(lt->t, &r);
}

/* A record replayed at open or written by another instance: into the
 * table only. false if it is not a valid record. */
static bool
apply(void *arg, const struct store_rec *r)
{
	struct dhcp_leases *lt = arg;
	uint8_t mac[6];
	uint32_t ip;

	switch (r->op) {
	case 'B':
		if (!mac_parse(r->owner, mac) || !ip_parse(r->key, &ip) || ip == 0)
			return false;
		struct dhcp_lease *e = set_ip(lt, mac, ip);
		e->state = LS_BOUND;
		e->until_ms = r->until * 1000;
		e->durable_ms = e->until_ms;
		/* "-" stands for no name in the store only. */
		str_copy(e->hostname, strcmp(r->data, "-") == 0 ? "" : r->data,
		    sizeof e->hostname);
		return true;
	case 'F':
		if (!mac_parse(r->owner, mac))
			return false;
		if ((e = find_mac(lt, mac)) != NULL) {
			e->state = LS_FREE;
			e->until_ms = 0;
			lt->generation++;
		}
		return true;
	case 'D':
		if (!ip_parse(r->key, &ip) || ip == 0)
			return false;
		block_ip(lt, ip, r->until * 1000);
		return true;
	}
	return false;
}

/* The database gave r's address to holder (another instance's client):
 * the table learns it, and our client's entry loses the address, so the
 * held ACK is not sent (dhcp.c checks) and its next DISCOVER gets
 * another. */
static void
refused(void *arg, const struct store_rec *r, const char *holder, int64_t until)
{
	struct dhcp_leases *lt = arg;
	struct store_rec h = { 'B', holder, r->key, until, "-" };
	uint8_t mac[6];
	uint32_t ip;

	log_info("dhcp: %s: the store gave %s to %s", r->owner, r->key, holder);
	if (apply(lt, &h) || !ip_parse(r->key, &ip) || ip == 0)
		return;
	/* Not a client's: a declined address. */
	if (mac_parse(r->owner, mac)) {
		struct dhcp_lease *e = find_mac(lt, mac);
		if (e && e->ip == ip)
			recycle(lt, (uint32_t)(e - lt->tab));
	}
	block_ip(lt, ip, until * 1000);
}

/* Every live binding and decline, for the journal's compaction. */
static void
each_live(void *arg, struct store_tab *t, void (*emit)(struct store_tab *, const struct store_rec *))
{
	struct dhcp_leases *lt = arg;
	char m12[13], ips[16];
	int64_t now = wall_ms();

	for (uint32_t i = 0; i < lt->ntab; i++) {
		struct dhcp_lease *e = &lt->tab[i];
		if (e->ip == 0 || e->until_ms <= now)
			continue;
		ip_format(e->ip, ips);
		if (e->state == LS_BOUND) {
			mac_hex(e->mac, m12);
			struct store_rec r = { 'B', m12, ips, e->until_ms / 1000,
			    e->hostname[0] ? e->hostname : "-" };
			emit(t, &r);
		} else if (e->state == LS_DECLINED) {
			struct store_rec r = { .op = 'D', .key = ips, .until = e->until_ms / 1000 };
			emit(t, &r);
		}
	}
}

/* Before the database's rows are read again: nothing is known durable
 * but what they say (a release missed while away must not let a
 * renewal be answered from a lease the database no longer has). */
static void
forget_durable(void *arg)
{
	struct dhcp_leases *lt = arg;

	for (uint32_t i = 0; i < lt->ntab; i++)
		lt->tab[i].durable_ms = 0;
}

static const struct store_tab_ops store_ops = {
	.apply = apply, .refused = refused, .reload = forget_durable, .each_live = each_live,
};

struct dhcp_leases *
dhcp_lease_open(struct store *st)
{
	struct dhcp_leases *lt = ecalloc(1, sizeof *lt);

	lt->generation++;
	lt->cur = ecalloc(BIND_LOG, sizeof *lt->cur);
	lt->fly = ecalloc(BIND_LOG, sizeof *lt->fly);
	lt->t = store_tab_open(st, "dhcp.leases", "dhcp", &store_ops, lt);
	if (lt->t == NULL) {
		dhcp_lease_close(lt);
		return NULL;
	}
	return lt;
}

void
dhcp_lease_close(struct dhcp_leases *lt)
{
	if (lt == NULL)
		return;
	store_tab_close(lt->t);
	free(lt->cur);
	free(lt->fly);
	free(lt->tab);
	free(lt->spare);
	free(lt->bmac);
	free(lt->bip);
	free(lt);
}

bool
dhcp_lease_dirty(const struct dhcp_leases *lt)
{
	return store_dirty(lt->t);
}

/* The binds of b[0..n) are in the store: durable, if still the same. */
static void
mark_durable(struct dhcp_leases *lt, const struct bindrec *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct dhcp_lease *e = find_mac(lt, b[i].mac);
		if (e && e->ip == b[i].ip && e->state == LS_BOUND && e->durable_ms < b[i].until_ms)
			e->durable_ms = b[i].until_ms;
	}
}

int
dhcp_lease_sync(struct dhcp_leases *lt)
{
	if (store_sync(lt->t) < 0)
		return -1;
	mark_durable(lt, lt->cur, lt->ncur);
	lt->ncur = 0;
	store_compact(lt->t, dhcp_lease_count(lt));
	return 0;
}

int
dhcp_lease_sync_begin(struct dhcp_leases *lt, void (*done)(void *, int), void *arg)
{
	struct bindrec *t = lt->fly;

	lt->fly = lt->cur;
	lt->nfly = lt->ncur;
	lt->cur = t;
	lt->ncur = 0;
	return store_sync_begin(lt->t, done, arg);
}

int
dhcp_lease_sync_end(struct dhcp_leases *lt, int err)
{
	if (store_sync_end(lt->t, err) < 0) {
		/* With files the records are still in the journal, for the
		 * next sync; a database dropped them: either way not durable. */
		lt->nfly = 0;
		return -1;
	}
	mark_durable(lt, lt->fly, lt->nfly);
	lt->nfly = 0;
	store_compact(lt->t, dhcp_lease_count(lt));
	return 0;
}

void
dhcp_lease_foreach(const struct dhcp_leases *lt,
    void (*fn)(const struct dhcp_lease *, void *), void *arg)
{
	for (uint32_t i = 0; i < lt->ntab; i++)
		if (lt->tab[i].ip || lt->tab[i].has_mac)
			fn(&lt->tab[i], arg);
}

void
dhcp_lease_withdraw(struct dhcp_leases *lt, struct dhcp_lease *e)
{
	e->state = LS_FREE;
	lt->generation++;
}

unsigned long
dhcp_lease_generation(const struct dhcp_leases *lt)
{
	return lt->generation;
}

unsigned long
dhcp_lease_count(const struct dhcp_leases *lt)
{
	return lt->ntab - lt->nspare;
}
