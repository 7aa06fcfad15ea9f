/* The lease table (two chained hash indexes over one array) and its
 * journal. Journal records, one per line, times in wall-clock seconds:
 *   B <mac12> <ip> <until> <hostname|->   bound
 *   F <mac12>                             released
 *   D <ip> <until>                        declined (address unusable)
 * A torn last line (kill -9 mid-write) has no newline and is ignored: its
 * ACK was never sent, because ACKs wait for the fdatasync. */
#include "dhcp/dhcp_lease.h"
#include "core/journal.h"
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
	struct journal *j;
	unsigned long generation;       /* bumped on every change to the table */
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
	return journal_append(lt->j, "B %s %s %" PRId64 " %s\n", m12, ips, until_ms / 1000,
	    e->hostname[0] ? e->hostname : "-");
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
	journal_append(lt->j, "F %s\n", m12);
}

void
dhcp_lease_decline(struct dhcp_leases *lt, uint32_t ip, int64_t until_ms)
{
	struct dhcp_lease *e = dhcp_lease_by_ip(lt, ip);
	char ips[16];
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
	ip_format(ip, ips);
	journal_append(lt->j, "D %s %" PRId64 "\n", ips, until_ms / 1000);
}

/* Applies one journal line; false if it is not a valid record. */
static bool
replay_line(void *arg, char *line)
{
	struct dhcp_leases *lt = arg;
	char a[32], b[32], host[40];
	long long t;
	uint8_t mac[6];
	uint32_t ip;

	if (sscanf(line, "B %31s %31s %lld %39s", a, b, &t, host) == 4 &&
	    mac_parse(a, mac) && ip_parse(b, &ip) && ip != 0) {
		struct dhcp_lease *e = set_ip(lt, mac, ip);
		e->state = LS_BOUND;
		e->until_ms = t * 1000;
		/* "-" stands for no name in the journal only. */
		str_copy(e->hostname, strcmp(host, "-") == 0 ? "" : host, sizeof e->hostname);
		return true;
	}
	if (sscanf(line, "F %31s", a) == 1 && line[0] == 'F' && mac_parse(a, mac)) {
		struct dhcp_lease *e = find_mac(lt, mac);
		if (e) {
			e->state = LS_FREE;
			e->until_ms = 0;
		}
		return true;
	}
	if (sscanf(line, "D %31s %lld", a, &t) == 2 && ip_parse(a, &ip) && ip != 0) {
		dhcp_lease_decline(lt, ip, t * 1000);
		return true;
	}
	return false;
}

/* Rewrites the journal as one record per live binding. */
static int
compact(struct dhcp_leases *lt)
{
	size_t cap = 4096 + (size_t)lt->ntab * 96, n = 0;
	char *buf = emalloc(cap), m12[13], ips[16];
	int64_t now = wall_ms();
	unsigned long recs = 0;

	for (uint32_t i = 0; i < lt->ntab; i++) {
		struct dhcp_lease *e = &lt->tab[i];
		if (e->ip == 0 || e->until_ms <= now)
			continue;
		ip_format(e->ip, ips);
		if (e->state == LS_BOUND) {
			mac_hex(e->mac, m12);
			n += (size_t)snprintf(buf + n, cap - n, "B %s %s %" PRId64 " %s\n",
			    m12, ips, e->until_ms / 1000, e->hostname[0] ? e->hostname : "-");
		} else if (e->state == LS_DECLINED)
			n += (size_t)snprintf(buf + n, cap - n, "D %s %" PRId64 "\n", ips,
			    e->until_ms / 1000);
		else
			continue;
		recs++;
	}
	int rc = journal_rewrite(lt->j, buf, n, recs);
	free(buf);
	return rc;
}

struct dhcp_leases *
dhcp_lease_open(const char *statedir)
{
	struct dhcp_leases *lt = ecalloc(1, sizeof *lt);

	lt->generation++;
	lt->j = journal_open(statedir, "dhcp.leases", "dhcp", replay_line, lt);
	if (lt->j == NULL || compact(lt) < 0) {
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
	journal_close(lt->j);
	free(lt->tab);
	free(lt->spare);
	free(lt->bmac);
	free(lt->bip);
	free(lt);
}

bool
dhcp_lease_dirty(const struct dhcp_leases *lt)
{
	return journal_dirty(lt->j);
}

/* Compact once the journal is mostly history. */
static void
maybe_compact(struct dhcp_leases *lt)
{
	if (journal_records(lt->j) > 4096 && journal_records(lt->j) > 4 * dhcp_lease_count(lt))
		compact(lt);
}

int
dhcp_lease_sync(struct dhcp_leases *lt)
{
	if (journal_sync(lt->j) < 0)
		return -1;
	maybe_compact(lt);
	return 0;
}

int
dhcp_lease_sync_begin(struct dhcp_leases *lt)
{
	return journal_sync_begin(lt->j);
}

int
dhcp_lease_sync_end(struct dhcp_leases *lt, int err)
{
	if (journal_sync_end(lt->j, err) < 0)
		return -1;
	maybe_compact(lt);
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
