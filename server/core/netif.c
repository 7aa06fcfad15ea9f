/* The interface table (see netif.h).
 *
 * Refresh policy: the kernel's news, read in the event loop. A netlink
 * socket joined to RTMGRP_LINK, RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR
 * wakes the loop when a link or an address comes, goes or changes, and the
 * table is then read again whole with getifaddrs(3). Why not a timer: the
 * three modules each polled every 30 s, so a bridge, VLAN or tap that came
 * up after the start waited up to 30 s for DHCPv6's ff02::1:2 join or its
 * first RA, while an idle daemon still woke to re-read an unchanged list.
 * The news' bytes are never parsed: a message is only a doorbell (a
 * forged or garbled one costs a re-read), and the re-read is one code path
 * whatever the news said. Bursts (a link coming up sends several) make one
 * re-read, and re-reads are at least MIN_GAP_MS apart. A lookup that
 * misses also re-reads, at most once a second, because a packet on a new
 * link can be read before the news of that link. Without a netlink socket
 * (a kernel or sandbox that refuses it) a timer re-reads every
 * FALLBACK_MS, the old modules' period. */
#include "core/netif.h"
#include "core/evloop.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MIN_GAP_MS   200        /* between two re-reads on news */
#define MISS_GAP_MS  1000       /* between two re-reads on a lookup's miss */
#define FALLBACK_MS  30000      /* without netlink */
#define DRAIN_MAX    64         /* messages read per wake-up */

struct netif {
	int refs;
	struct evloop *loop;
	int nl;                     /* netlink socket, or -1 */
	struct ev_timer t_read;     /* a deferred re-read, or the fallback */
	uint64_t read_at;
	bool notifying;
	struct netif_link *links;
	size_t nlinks;
	struct netif_addr4 *a4;
	uint8_t (*a6)[16];
	struct netif_listener *listeners;
};

static struct netif_link *
find(struct netif_link *links, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(links[i].name, name) == 0)
			return &links[i];
	return NULL;
}

/* The link an address entry belongs to: glibc names an IPv4 address by
 * its label ("eth0:1"), so the part before ':' is tried too; a link that
 * had no AF_PACKET entry is added by its name. */
static struct netif_link *
link_of(struct netif_link *links, size_t *n, const struct ifaddrs *a)
{
	char base[IF_NAMESIZE];
	struct netif_link *l = find(links, *n, a->ifa_name);

	if (l == NULL) {
		str_copy(base, a->ifa_name, sizeof base);
		base[strcspn(base, ":")] = '\0';
		l = find(links, *n, base);
	}
	if (l == NULL) {
		unsigned index = if_nametoindex(a->ifa_name);
		if (index == 0)
			return NULL;
		l = &links[(*n)++];
		memset(l, 0, sizeof *l);
		l->index = (int)index;
		l->flags = a->ifa_flags;
		str_copy(l->name, a->ifa_name, sizeof l->name);
	}
	return l;
}

static bool
is_family(const struct ifaddrs *a, int family)
{
	return a->ifa_addr && a->ifa_addr->sa_family == family &&
	    (family != AF_INET || a->ifa_netmask);
}

/* Hands each link its slice of the flat address arrays: n4/n6 hold the
 * counts on entry and are filled again by the caller. */
static void
slice(struct netif *t)
{
	size_t o4 = 0, o6 = 0;

	for (size_t i = 0; i < t->nlinks; i++) {
		struct netif_link *l = &t->links[i];
		l->a4 = t->a4 + o4;
		l->a6 = (const uint8_t (*)[16])(t->a6 + o6);
		o4 += l->n4;
		o6 += l->n6;
		l->n4 = l->n6 = 0;
	}
}

static void
read_table(struct netif *t)
{
	struct ifaddrs *all, *a;
	size_t n = 0, n4 = 0, n6 = 0;

	t->read_at = mono_ms();
	if (getifaddrs(&all) < 0) {
		log_warn("netif: getifaddrs: %s", strerror(errno));
		return;
	}
	for (a = all; a; a = a->ifa_next) {
		n++;
		n4 += is_family(a, AF_INET);
		n6 += is_family(a, AF_INET6);
	}
	free(t->links);
	free(t->a4);
	free(t->a6);
	t->links = ecalloc(n + 1, sizeof *t->links);
	t->a4 = ecalloc(n4 + 1, sizeof *t->a4);
	t->a6 = ecalloc(n6 + 1, sizeof *t->a6);
	t->nlinks = 0;
	for (a = all; a; a = a->ifa_next) {
		if (!is_family(a, AF_PACKET))
			continue;
		const struct sockaddr_ll *ll = (const struct sockaddr_ll *)a->ifa_addr;
		struct netif_link *l = &t->links[t->nlinks++];
		l->index = ll->sll_ifindex;
		l->flags = a->ifa_flags;
		str_copy(l->name, a->ifa_name, sizeof l->name);
		if (ll->sll_halen == 6) {
			memcpy(l->mac, ll->sll_addr, 6);
			l->has_mac = true;
		}
	}
	/* Twice over the addresses: count each link's, then fill the slices. */
	for (int fill = 0; fill < 2; fill++) {
		if (fill)
			slice(t);
		for (a = all; a; a = a->ifa_next) {
			bool v4 = is_family(a, AF_INET), v6 = is_family(a, AF_INET6);
			struct netif_link *l = v4 || v6 ? link_of(t->links, &t->nlinks, a) : NULL;
			if (l == NULL)
				continue;
			if (v4 && fill) {
				struct netif_addr4 *x = (struct netif_addr4 *)&l->a4[l->n4];
				x->addr = ntohl(((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr);
				x->mask = ntohl(((struct sockaddr_in *)a->ifa_netmask)->sin_addr.s_addr);
			}
			if (v6 && fill)
				memcpy((uint8_t *)l->a6[l->n6], &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, 16);
			l->n4 += v4;
			l->n6 += v6;
		}
	}
	freeifaddrs(all);
}

/* Re-reads and tells the listeners. Not again from inside a listener. */
static void
refresh(struct netif *t)
{
	if (t->notifying)
		return;
	read_table(t);
	t->notifying = true;
	for (struct netif_listener *l = t->listeners; l; l = l->next)
		l->changed(l->arg);
	t->notifying = false;
}

static void
on_timer(void *arg)
{
	struct netif *t = arg;

	refresh(t);
	if (t->nl < 0)
		ev_timer_arm(t->loop, &t->t_read, FALLBACK_MS);
}

/* News: drain it (its content is not needed) and re-read, now or when
 * MIN_GAP_MS has passed since the last re-read. */
static void
on_news(int fd, uint32_t events, void *arg)
{
	struct netif *t = arg;
	uint8_t buf[8192];

	(void)events;
	for (int i = 0; i < DRAIN_MAX; i++)
		if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno != ENOBUFS)
			break;          /* ENOBUFS: news was lost; the re-read covers it */
	uint64_t since = mono_ms() - t->read_at;
	if (since >= MIN_GAP_MS)
		refresh(t);
	else if (!ev_timer_armed(&t->t_read))
		ev_timer_arm(t->loop, &t->t_read, MIN_GAP_MS - since);
}

static int
open_news(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
	    .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct netif *
netif_ref(struct netif **slot, struct evloop *loop)
{
	struct netif *t = *slot;

	if (t) {
		t->refs++;
		return t;
	}
	t = ecalloc(1, sizeof *t);
	t->refs = 1;
	t->loop = loop;
	ev_timer_init(&t->t_read, on_timer, t);
	t->nl = open_news();
	if (t->nl >= 0 && ev_add_fd(loop, t->nl, EPOLLIN, on_news, t) < 0) {
		close(t->nl);
		t->nl = -1;
	}
	if (t->nl < 0) {
		log_warn("netif: no netlink news of interfaces (%s): re-read every %d s",
		    strerror(errno), FALLBACK_MS / 1000);
		ev_timer_arm(loop, &t->t_read, FALLBACK_MS);
	}
	read_table(t);
	*slot = t;
	return t;
}

void
netif_unref(struct netif **slot)
{
	struct netif *t = *slot;

	if (t == NULL || --t->refs > 0)
		return;
	ev_timer_stop(t->loop, &t->t_read);
	if (t->nl >= 0) {
		ev_del_fd(t->loop, t->nl);
		close(t->nl);
	}
	free(t->links);
	free(t->a4);
	free(t->a6);
	free(t);
	*slot = NULL;
}

void
netif_listen(struct netif *t, struct netif_listener *l)
{
	l->next = t->listeners;
	t->listeners = l;
}

void
netif_unlisten(struct netif *t, struct netif_listener *l)
{
	for (struct netif_listener **p = &t->listeners; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			return;
		}
}

struct netif *
netif_follow(struct netif **slot, struct evloop *loop, struct netif_listener *l,
    void (*changed)(void *arg), void *arg)
{
	struct netif *t = netif_ref(slot, loop);

	*l = (struct netif_listener){ .changed = changed, .arg = arg };
	netif_listen(t, l);
	return t;
}

void
netif_unfollow(struct netif **slot, struct netif_listener *l)
{
	netif_unlisten(*slot, l);
	netif_unref(slot);
}

const struct netif_link *
netif_by_index(struct netif *t, int index)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < t->nlinks; i++)
			if (t->links[i].index == index)
				return &t->links[i];
		if (pass == 0 && mono_ms() - t->read_at > MISS_GAP_MS)
			refresh(t);
		else
			break;
	}
	return NULL;
}

size_t
netif_count(const struct netif *t)
{
	return t->nlinks;
}

const struct netif_link *
netif_at(const struct netif *t, size_t i)
{
	return &t->links[i];
}
