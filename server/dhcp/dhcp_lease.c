/* The lease table (two chained hash indexes over one array) and its
 * journal. Journal records, one per line, times in wall-clock seconds:
 *   B <mac12> <ip> <until> <hostname|->   bound
 *   F <mac12>                             released
 *   D <ip> <until>                        declined (address unusable)
 * A torn last line (kill -9 mid-write) has no newline and is ignored: its
 * ACK was never sent, because ACKs wait for the fdatasync. */
#include "dhcp/dhcp_lease.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct dhcp_lease *tab;
static uint32_t ntab, captab;
/* Slots of entries that hold nothing any more, reused before the table
 * grows: a flood of DISCOVERs from made-up MACs then costs at most one
 * entry per address it could be offered, not one per MAC. */
static uint32_t *spare, nspare, capspare;
static uint32_t *bmac, *bip, nbuck;     /* nbuck is a power of two */
static int jfd = -1;
static char *jpath;
static bool dirty;
static unsigned long jrecs;
static unsigned long generation;     /* bumped on every change to the table */

static uint32_t
hmac(const uint8_t mac[6])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	return h & (nbuck - 1);
}

static uint32_t
hip(uint32_t ip)
{
	return (ip * 2654435761u >> 7) & (nbuck - 1);
}

static void
link_mac(uint32_t i)
{
	uint32_t *b = &bmac[hmac(tab[i].mac)];
	tab[i].next_mac = *b;
	*b = i + 1;
}

static void
link_ip(uint32_t i)
{
	uint32_t *b = &bip[hip(tab[i].ip)];
	tab[i].next_ip = *b;
	*b = i + 1;
}

static void
unlink_ip(uint32_t i)
{
	for (uint32_t *p = &bip[hip(tab[i].ip)]; *p; p = &tab[*p - 1].next_ip)
		if (*p == i + 1) {
			*p = tab[i].next_ip;
			break;
		}
	tab[i].ip = 0;
}

static void
unlink_mac(uint32_t i)
{
	for (uint32_t *p = &bmac[hmac(tab[i].mac)]; *p; p = &tab[*p - 1].next_mac)
		if (*p == i + 1) {
			*p = tab[i].next_mac;
			break;
		}
	tab[i].has_mac = false;
}

/* Drops entry i, which has lost its address: a client's entry without an
 * address tells nothing (choose_ip wants its previous address). */
static void
recycle(uint32_t i)
{
	if (tab[i].ip)
		unlink_ip(i);
	if (tab[i].has_mac)
		unlink_mac(i);
	memset(&tab[i], 0, sizeof tab[i]);
	if (nspare == capspare) {
		capspare = capspare ? capspare * 2 : 64;
		spare = erealloc(spare, capspare * sizeof *spare);
	}
	spare[nspare++] = i;
}

static void
rehash(uint32_t n)
{
	free(bmac);
	free(bip);
	nbuck = n;
	bmac = ecalloc(nbuck, sizeof *bmac);
	bip = ecalloc(nbuck, sizeof *bip);
	for (uint32_t i = 0; i < ntab; i++) {
		if (tab[i].has_mac)
			link_mac(i);
		if (tab[i].ip)
			link_ip(i);
	}
}

static uint32_t
new_entry(void)
{
	if (nspare > 0) {
		uint32_t i = spare[--nspare];
		memset(&tab[i], 0, sizeof tab[i]);
		return i;
	}
	if (ntab == captab) {
		captab = captab ? captab * 2 : 256;
		tab = erealloc(tab, captab * sizeof *tab);
	}
	if (nbuck < 2 * (ntab + 1))
		rehash(nbuck ? nbuck * 2 : 512);
	memset(&tab[ntab], 0, sizeof tab[ntab]);
	return ntab++;
}

static struct dhcp_lease *
find_mac(const uint8_t mac[6])
{
	if (nbuck == 0)
		return NULL;
	for (uint32_t i = bmac[hmac(mac)]; i; i = tab[i - 1].next_mac)
		if (memcmp(tab[i - 1].mac, mac, 6) == 0)
			return &tab[i - 1];
	return NULL;
}

struct dhcp_lease *
dhcp_lease_by_mac(const uint8_t mac[6])
{
	return find_mac(mac);
}

struct dhcp_lease *
dhcp_lease_by_ip(uint32_t ip)
{
	if (nbuck == 0 || ip == 0)
		return NULL;
	for (uint32_t i = bip[hip(ip)]; i; i = tab[i - 1].next_ip)
		if (tab[i - 1].ip == ip)
			return &tab[i - 1];
	return NULL;
}

bool
dhcp_lease_taken(uint32_t ip, const uint8_t mac[6], int64_t now_ms)
{
	struct dhcp_lease *e = dhcp_lease_by_ip(ip);

	if (e == NULL || e->state == LS_FREE || e->until_ms <= now_ms)
		return false;
	return !(e->has_mac && memcmp(e->mac, mac, 6) == 0);
}

/* The entry for mac, created if needed, now holding ip (taken from any
 * stale holder: the caller checked dhcp_lease_taken). */
static struct dhcp_lease *
set_ip(const uint8_t mac[6], uint32_t ip)
{
	struct dhcp_lease *e = find_mac(mac), *old = dhcp_lease_by_ip(ip);
	uint32_t i;

	generation++;

	if (old && old != e)
		recycle((uint32_t)(old - tab));
	if (e == NULL) {
		i = new_entry();
		memcpy(tab[i].mac, mac, 6);
		tab[i].has_mac = true;
		link_mac(i);
	} else
		i = (uint32_t)(e - tab);
	if (tab[i].ip != ip) {
		if (tab[i].ip)
			unlink_ip(i);
		tab[i].ip = ip;
		link_ip(i);
	}
	return &tab[i];
}

void
dhcp_lease_offer(const uint8_t mac[6], uint32_t ip, int64_t until_ms)
{
	struct dhcp_lease *e = find_mac(mac);

	/* Re-offering a client its own live lease must not shorten it. */
	if (e && e->ip == ip && e->state == LS_BOUND && e->until_ms > until_ms)
		return;
	e = set_ip(mac, ip);
	e->state = LS_OFFERED;
	e->until_ms = until_ms;
}

static int
journal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
journal(const char *fmt, ...)
{
	char line[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (jfd < 0 || n <= 0 || (size_t)n >= sizeof line)
		return -1;
	/* One write per record with O_APPEND: a crash tears at most the last. */
	if (write(jfd, line, (size_t)n) != n) {
		log_err("dhcp: %s: %s", jpath, strerror(errno));
		return -1;
	}
	dirty = true;
	jrecs++;
	return 0;
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
dhcp_lease_bind(const uint8_t mac[6], uint32_t ip, int64_t until_ms, const char *hostname)
{
	struct dhcp_lease *e = set_ip(mac, ip);
	char m12[13], ips[16];

	e->state = LS_BOUND;
	e->until_ms = until_ms;
	host_token(hostname, e->hostname, sizeof e->hostname);
	mac_hex(mac, m12);
	ip_format(ip, ips);
	return journal("B %s %s %" PRId64 " %s\n", m12, ips, until_ms / 1000,
	    e->hostname[0] ? e->hostname : "-");
}

void
dhcp_lease_release(const uint8_t mac[6])
{
	struct dhcp_lease *e = find_mac(mac);
	char m12[13];

	if (e == NULL || e->state != LS_BOUND)
		return;
	e->state = LS_FREE;
	e->until_ms = 0;
	generation++;
	mac_hex(mac, m12);
	journal("F %s\n", m12);
}

void
dhcp_lease_decline(uint32_t ip, int64_t until_ms)
{
	struct dhcp_lease *e = dhcp_lease_by_ip(ip);
	char ips[16];
	uint32_t i;

	generation++;

	if (e && e->has_mac) {
		recycle((uint32_t)(e - tab));
		e = NULL;
	}
	if (e == NULL) {
		i = new_entry();
		tab[i].ip = ip;
		link_ip(i);
		e = &tab[i];
	}
	e->state = LS_DECLINED;
	e->until_ms = until_ms;
	ip_format(ip, ips);
	journal("D %s %" PRId64 "\n", ips, until_ms / 1000);
}

/* Applies one journal line; false if it is not a valid record. */
static bool
replay_line(char *line)
{
	char a[32], b[32], host[40];
	long long t;
	uint8_t mac[6];
	uint32_t ip;

	if (sscanf(line, "B %31s %31s %lld %39s", a, b, &t, host) == 4 &&
	    mac_parse(a, mac) && ip_parse(b, &ip) && ip != 0) {
		struct dhcp_lease *e = set_ip(mac, ip);
		e->state = LS_BOUND;
		e->until_ms = t * 1000;
		/* "-" stands for no name in the journal only. */
		str_copy(e->hostname, strcmp(host, "-") == 0 ? "" : host, sizeof e->hostname);
		return true;
	}
	if (sscanf(line, "F %31s", a) == 1 && line[0] == 'F' && mac_parse(a, mac)) {
		struct dhcp_lease *e = find_mac(mac);
		if (e) {
			e->state = LS_FREE;
			e->until_ms = 0;
		}
		return true;
	}
	if (sscanf(line, "D %31s %lld", a, &t) == 2 && ip_parse(a, &ip) && ip != 0) {
		dhcp_lease_decline(ip, t * 1000);
		return true;
	}
	return false;
}

static void
replay(char *text, size_t len)
{
	unsigned long bad = 0;
	char *p = text, *nl;

	while ((size_t)(p - text) < len && (nl = memchr(p, '\n', len - (size_t)(p - text)))) {
		*nl = '\0';
		if (!replay_line(p))
			bad++;
		p = nl + 1;
	}
	if ((size_t)(p - text) < len)
		log_warn("dhcp: %s: ignoring a torn last record (%zu bytes)", jpath,
		    len - (size_t)(p - text));
	if (bad)
		log_warn("dhcp: %s: ignored %lu unreadable record(s)", jpath, bad);
}

/* Rewrites the journal as one record per live binding. */
static int
compact(void)
{
	size_t cap = 4096 + (size_t)ntab * 96, n = 0;
	char *buf = emalloc(cap), m12[13], ips[16];
	int64_t now = wall_ms();
	unsigned long recs = 0;

	for (uint32_t i = 0; i < ntab; i++) {
		struct dhcp_lease *e = &tab[i];
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
	int rc = write_file_atomic(jpath, buf, n);
	free(buf);
	if (rc < 0) {
		log_err("dhcp: rewriting %s: %s", jpath, strerror(errno));
		return -1;
	}
	if (jfd >= 0)
		close(jfd);
	jfd = open(jpath, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (jfd < 0) {
		log_err("dhcp: %s: %s", jpath, strerror(errno));
		return -1;
	}
	jrecs = recs;
	dirty = false;
	return 0;
}

int
dhcp_lease_open(const char *statedir)
{
	size_t len = 0;
	char *text;

	if (mkdir_p(statedir, 0750) < 0) {
		log_err("dhcp: %s: %s", statedir, strerror(errno));
		return -1;
	}
	generation++;
	jpath = esprintf("%s/dhcp.leases", statedir);
	text = read_file(jpath, &len, (size_t)1 << 30);
	if (text == NULL && errno != ENOENT) {
		log_err("dhcp: %s: %s", jpath, strerror(errno));
		free(jpath);
		jpath = NULL;
		return -1;
	}
	if (text) {
		replay(text, len);
		free(text);
	}
	return compact();
}

void
dhcp_lease_close(void)
{
	if (jfd >= 0) {
		if (dirty)
			fdatasync(jfd);
		close(jfd);
	}
	jfd = -1;
	free(tab);
	free(spare);
	free(bmac);
	free(bip);
	free(jpath);
	tab = NULL;
	spare = NULL;
	nspare = capspare = 0;
	bmac = bip = NULL;
	jpath = NULL;
	ntab = captab = nbuck = 0;
	dirty = false;
	jrecs = 0;
}

bool
dhcp_lease_dirty(void)
{
	return dirty;
}

int
dhcp_lease_sync(void)
{
	if (dirty) {
		if (fdatasync(jfd) < 0) {
			log_err("dhcp: fdatasync %s: %s", jpath, strerror(errno));
			return -1;
		}
		dirty = false;
	}
	/* Compact once the journal is mostly history. */
	if (jrecs > 4096 && jrecs > 4 * dhcp_lease_count())
		compact();
	return 0;
}

void
dhcp_lease_foreach(void (*fn)(const struct dhcp_lease *, void *), void *arg)
{
	for (uint32_t i = 0; i < ntab; i++)
		if (tab[i].ip || tab[i].has_mac)
			fn(&tab[i], arg);
}

void
dhcp_lease_withdraw(struct dhcp_lease *e)
{
	e->state = LS_FREE;
	generation++;
}

unsigned long
dhcp_lease_generation(void)
{
	return generation;
}

unsigned long
dhcp_lease_count(void)
{
	return ntab - nspare;
}
