/* ra: router advertisements that end iPXE's wait for IPv6.
 *
 * iPXE configures IPv6 beside DHCPv4 and fetches nothing until both are
 * done; with no router on the link its router solicitations go unanswered
 * until its retry timer gives up (Debian's 2019 ROM: RS at 0, 0.25, 0.75,
 * 1.75, 3.75, 7.75 s, failure at ~15.75 s; newer iPXE ~7 s). Any RA it
 * sees while soliciting ends that wait, and with M and O clear it does not
 * go on to DHCPv6 (iPXE net/ndp.c, ipv6conf_rx_router_advertisement).
 *
 * So on every interface of a network gridbootd serves, this module sends
 * RAs that disturb no host: router lifetime 0 (no default route), no
 * prefix to make an address from, every other field "unspecified"; M
 * and O, and subnet6 as on-link only (L=1, A=0), where gridbootd's own
 * DHCPv6 answers (ra_flags). In the default
 * mode (networks[].ra = "auto") only while no other router advertises on
 * that link: a real router's RAs may carry M/O flags or a prefix ours
 * would contradict. It solicits once when an interface appears, watches
 * every RA, goes quiet when another router's is seen, and speaks again
 * when that router has been silent for three of its longest observed
 * intervals (or its router lifetime, if longer; the whole cap until two
 * of its RAs gave an interval). One RA must not silence ours for its whole
 * router lifetime (up to 18 h, anyone on the link can forge one): the hold
 * is capped at HOLD_MAX_MS, and when it ends we solicit once (RS) and wait PROBE_MS
 * before speaking; a real router answers and renews the hold, a forged
 * RA's sender seldom does. The timeline names the router we yield to.
 * "on" always sends, "off" never.
 *
 * Solicited RAs (RFC 4861 6.2.6) wait a random 0..MAX_RA_DELAY_TIME and
 * go unicast to the soliciting address (RFC 7772), a few at a time per
 * interface; a solicitation from :: or a full queue gets one multicast
 * RA, never sooner than MIN_DELAY_BETWEEN_RAS after the last one.
 * Unsolicited RAs: the first three at most 16 s apart, then every
 * 200..600 s (RFC 4861 6.2.4, defaults of 6.2.1).
 *
 * The links and their addresses come from the daemon's interface table
 * (core/netif.h), which tells this module when they change, so a link
 * that comes up later is advertised on at once; which networks are on a
 * link is config/onlink.h's answer, as for DHCP and DHCPv6.
 *
 * The ICMPv6 raw socket is opened at start, as root; grid.user keeps it. */
#include "core/module.h"
#include "config/inventory.h"
#include "config/onlink.h"
#include "core/events.h"
#include "core/limiter.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include "ra/ra_packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_RA_DELAY_MS        500      /* RFC 4861 10: MAX_RA_DELAY_TIME */
#define MIN_DELAY_BETWEEN_MS   3000     /* MIN_DELAY_BETWEEN_RAS */
#define INITIAL_INTERVAL_MS    16000    /* MAX_INITIAL_RTR_ADVERT_INTERVAL */
#define INITIAL_COUNT          3        /* MAX_INITIAL_RTR_ADVERTISEMENTS */
#define MIN_INTERVAL_MS        200000   /* MinRtrAdvInterval default: 0.33 * Max */
#define MAX_INTERVAL_MS        600000   /* MaxRtrAdvInterval default */
#define HOLD_MAX_MS            300000   /* then re-checked with an RS */
#define PROBE_MS               1000     /* our RS at start: answers come within 0.5 s */
#define MAXPEND                8        /* solicited unicast RAs queued per interface */
#define UNICAST_PER_SEC        20       /* solicited unicast RAs per interface per second */
#define MAXIFS                 64
/* An interface that has just come up has no usable link-local address
 * until duplicate address detection ends (1-2 s by default), and a send
 * from it fails with EADDRNOTAVAIL. What could not go out then is tried
 * again every LL_RETRY_MS, for at most LL_WAIT_MS (a link that never gets
 * one must not keep a timer spinning). */
#define LL_RETRY_MS            250
#define LL_WAIT_MS             10000

struct ra_server;

struct raif {
	struct ra_server *srv;
	int index;
	char name[IF_NAMESIZE];
	enum ramode mode;
	bool managed, other;        /* the M and O flags we announce */
	bool has_onlink;            /* announce onlink/onlink_len as on-link only */
	uint8_t onlink[16];
	int onlink_len;
	bool has_mac;
	uint8_t mac[6];
	bool seen;                  /* found again by the last refresh */
	bool joined;                /* in ff02::2 on this interface */
	/* another router on the link */
	bool quiet;
	uint64_t other_last, other_gap, other_until;
	int other_count;
	uint32_t other_lifetime_ms;
	struct in6_addr other_addr;
	bool rechecking;            /* hold over: our RS went out, answers awaited */
	/* what we send */
	uint64_t probe_until;       /* our start-up RS's answers are awaited until then */
	uint64_t last_mcast;
	int initial_left;
	struct ev_timer t_unsol;
	struct ev_timer t_resp;
	uint64_t ll_since;          /* sends failing for want of a link-local, since; 0: not */
	bool ll_gave_up;            /* ... for LL_WAIT_MS: said once, no more retries */
	bool rs_pending;            /* the start-up RS is still to go out */
	bool resp_mcast;
	struct in6_addr resp_to[MAXPEND];
	int nresp;
	struct lim_window unicast;  /* UNICAST_PER_SEC (core/limiter.h) */
};

struct ra_server {
	struct daemon *d;
	int fd;
	struct raif *ifs[MAXIFS];
	int nifs;
	struct ev_timer t_tick;     /* once a second: other routers age out */
	struct netif *netif;        /* the daemon's interface table */
	struct netif_listener on_links;
	uint64_t hold_max_ms;       /* HOLD_MAX_MS; tests shorten it */
	uint64_t *m_sent_sol, *m_sent_unsol, *m_rs, *m_other, *m_quiet, *m_drop[RAP_NPERR],
	    *m_drop_iface, *m_send_err;
	struct ratelimit rl_bad, rl_send;
};

static const struct in6_addr all_nodes = { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } } };
static const struct in6_addr all_routers = { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } } };

static uint64_t
rand_ms(uint64_t lo, uint64_t hi)
{
	uint32_t r;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint32_t)mono_ms() * 2654435761u;
	return lo + (hi > lo ? r % (hi - lo + 1) : 0);
}

/* The flags announced on a network follow gridbootd's DHCPv6 there:
 * M=1 when it hands out addresses (dhcp6 full), O=1 when it answers boot
 * options only (dhcp6 proxy), both clear without DHCPv6. M=1 with nobody
 * answering DHCPv6 would send iPXE on to wait for a reply that never
 * comes, so the flags promise only what the inventory serves. */
struct raflags {
	bool managed, other;
	bool has_onlink;            /* subnet6, announced on-link only */
	uint8_t onlink[16];
	int onlink_len;
};

static void
ra_flags(const struct network *n, struct raflags *fl)
{
	bool v6 = n->has_subnet6 && n->dhcp6 != DHCP_OFF;

	fl->managed = v6 && n->dhcp6 == DHCP_FULL;
	fl->other = v6 && n->dhcp6 == DHCP_PROXY;
	/* Where our DHCPv6 serves, subnet6 is on the link (L=1, A=0): a
	 * DHCPv6 address comes without a prefix length, and a client that
	 * heard this RA has a route to the server (UEFI's PXE polls 10 s for
	 * one before it assumes it on-link). No address is made from it. */
	fl->has_onlink = v6;
	if (v6) {
		memcpy(fl->onlink, n->subnet6, 16);
		fl->onlink_len = n->prefix6;
	}
}

static bool
active(const struct raif *f, uint64_t now)
{
	if (f->mode == RA_OFF)
		return false;
	if (f->mode == RA_ON)
		return true;
	return !f->quiet && now >= f->probe_until;
}

/* ---- sending ---- */

static bool
send_to(struct raif *f, const struct in6_addr *to, const uint8_t *buf, size_t len)
{
	struct ra_server *srv = f->srv;
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6, .sin6_addr = *to,
	    .sin6_scope_id = (uint32_t)f->index };
	char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = &dst, .msg_namelen = sizeof dst, .msg_iov = &iov,
	    .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };

	memset(cbuf, 0, sizeof cbuf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
	struct in6_pktinfo *pi = (struct in6_pktinfo *)CMSG_DATA(cm);
	pi->ipi6_ifindex = (unsigned)f->index;   /* source: the kernel's link-local there */
	if (sendmsg(srv->fd, &mh, 0) < 0) {
		int err = errno;
		(*srv->m_send_err)++;
		/* Said once per wait, not per retry (four a second). */
		if (err == EADDRNOTAVAIL && f->ll_since == 0)
			log_info("ra: %s: no usable link-local address yet (duplicate address detection): "
			    "sending when there is", f->name);
		else if (err != EADDRNOTAVAIL)
			log_limited(&srv->rl_send, LOG_WARNING, "ra: %s: send: %s", f->name, strerror(err));
		errno = err;
		return false;
	}
	f->ll_since = 0;
	f->ll_gave_up = false;
	return true;
}

/* After a send failed: if it failed for want of a link-local address and
 * the wait is not over, t fires again LL_RETRY_MS from now and the caller
 * keeps what it could not send. */
static bool
retry_later(struct raif *f, struct ev_timer *t)
{
	struct evloop *loop = f->srv->d->loop;
	uint64_t now = ev_now(loop);

	if (errno != EADDRNOTAVAIL)
		return false;
	if (f->ll_since == 0)
		f->ll_since = now;
	if (now - f->ll_since >= LL_WAIT_MS) {
		if (!f->ll_gave_up)
			log_warn("ra: %s: still no usable link-local address after %d s: nothing is sent "
			    "on this link until it has one", f->name, LL_WAIT_MS / 1000);
		f->ll_gave_up = true;
		return false;
	}
	ev_timer_arm(loop, t, LL_RETRY_MS);
	return true;
}

/* Sends one RA; false (errno set) if it did not go out. */
static bool
send_ra(struct raif *f, const struct in6_addr *to, bool solicited)
{
	uint8_t buf[96];
	size_t len = ra_build(buf, sizeof buf, f->managed, f->other, f->has_onlink ? f->onlink : NULL,
	    f->onlink_len, f->has_mac ? f->mac : NULL);

	if (len == 0) {
		errno = EMSGSIZE;
		return false;
	}
	if (!send_to(f, to, buf, len))
		return false;
	(*(solicited ? f->srv->m_sent_sol : f->srv->m_sent_unsol))++;
	if (IN6_IS_ADDR_MULTICAST(to))
		f->last_mcast = ev_now(f->srv->d->loop);
	return true;
}

static bool
send_rs(struct raif *f)
{
	uint8_t buf[32];
	size_t len = rs_build(buf, sizeof buf, f->has_mac ? f->mac : NULL);

	if (len == 0) {
		errno = EMSGSIZE;
		return false;
	}
	return send_to(f, &all_routers, buf, len);
}

static void
arm_unsolicited(struct raif *f)
{
	struct evloop *loop = f->srv->d->loop;
	uint64_t now = ev_now(loop), delay;

	if (f->initial_left > 0)
		delay = rand_ms(MIN_DELAY_BETWEEN_MS, INITIAL_INTERVAL_MS);
	else
		delay = rand_ms(MIN_INTERVAL_MS, MAX_INTERVAL_MS);
	if (now < f->probe_until && f->probe_until - now > delay)
		delay = f->probe_until - now;
	ev_timer_arm(loop, &f->t_unsol, delay);
}

/* The start-up probe (auto mode): our RS, then PROBE_MS for other
 * routers' answers before we advertise. An RS that could not go out
 * (no link-local yet) is sent again from t_unsol when it can, and the
 * probe waits from then: a router already on the link must be heard
 * before we speak. */
static void
probe(struct raif *f)
{
	f->probe_until = ev_now(f->srv->d->loop) + PROBE_MS;
	f->rs_pending = !send_rs(f) && retry_later(f, &f->t_unsol);
	if (!f->rs_pending)
		arm_unsolicited(f);
}

static void
on_unsolicited(void *arg)
{
	struct raif *f = arg;
	struct evloop *loop = f->srv->d->loop;
	uint64_t now = ev_now(loop);

	if (f->rs_pending && f->mode == RA_AUTO) {
		probe(f);
		return;
	}
	f->rs_pending = false;
	if (active(f, now) && now - f->last_mcast >= MIN_DELAY_BETWEEN_MS) {
		if (send_ra(f, &all_nodes, false)) {
			if (f->initial_left > 0)
				f->initial_left--;
		} else if (retry_later(f, &f->t_unsol)) {
			return;     /* not sent: it still counts as to come */
		}
	}
	arm_unsolicited(f);
}

static void
on_respond(void *arg)
{
	struct raif *f = arg;
	struct evloop *loop = f->srv->d->loop;
	uint64_t now = ev_now(loop);

	if (!active(f, now)) {
		if (f->mode == RA_AUTO && !f->quiet && now < f->probe_until) {
			ev_timer_arm(loop, &f->t_resp, f->probe_until - now);
			return;
		}
		f->nresp = 0;              /* the other router answers them */
		f->resp_mcast = false;
		return;
	}
	if (f->resp_mcast) {
		if (now - f->last_mcast < MIN_DELAY_BETWEEN_MS) {
			ev_timer_arm(loop, &f->t_resp, MIN_DELAY_BETWEEN_MS - (now - f->last_mcast));
			return;
		}
		if (!send_ra(f, &all_nodes, true) && retry_later(f, &f->t_resp))
			return;
	} else
		for (int i = 0; i < f->nresp; i++)
			if (!send_ra(f, &f->resp_to[i], true) && retry_later(f, &f->t_resp)) {
				/* These solicitations are answered when we can. */
				memmove(f->resp_to, f->resp_to + i, (size_t)(f->nresp - i) * sizeof f->resp_to[0]);
				f->nresp -= i;
				return;
			}
	f->nresp = 0;
	f->resp_mcast = false;
}

/* ---- receiving ---- */

static void
on_rs(struct raif *f, const struct in6_addr *src)
{
	struct evloop *loop = f->srv->d->loop;
	uint64_t now = ev_now(loop);

	(*f->srv->m_rs)++;
	if (f->mode == RA_OFF || (f->mode == RA_AUTO && f->quiet))
		return;
	bool queued = false;
	for (int i = 0; i < f->nresp; i++)
		queued |= IN6_ARE_ADDR_EQUAL(&f->resp_to[i], src);
	if (!queued && !f->resp_mcast) {
		if (IN6_IS_ADDR_UNSPECIFIED(src) || f->nresp == MAXPEND ||
		    !lim_window_take(&f->unicast, UNICAST_PER_SEC, 1000, now))
			f->resp_mcast = true;
		else
			f->resp_to[f->nresp++] = *src;
	}
	/* One delay from the first solicitation covers those that follow. */
	if (!ev_timer_armed(&f->t_resp))
		ev_timer_arm(loop, &f->t_resp, rand_ms(0, MAX_RA_DELAY_MS));
}

/* Another gridbootd on the link sends what we send (lifetime 0, no
 * prefix or just the on-link one, the same flags): if both went quiet on seeing the other, the
 * link would have no advertisement at all. The one with the lower MAC
 * keeps advertising; the other yields to it as to any router. */
static bool
yields_to_us(const struct raif *f, const struct ra_msg *m)
{
	bool like_ours = m->router_lifetime == 0 && m->nprefixes == (f->has_onlink ? 1 : 0) &&
	    m->cur_hop_limit == 0 && m->managed == f->managed && m->other == f->other;
	return like_ours && f->has_mac && m->has_slla && memcmp(f->mac, m->slla, 6) < 0;
}

static void
on_other_ra(struct raif *f, const struct in6_addr *src, const struct ra_msg *m)
{
	struct ra_server *srv = f->srv;
	uint64_t now = ev_now(srv->d->loop);
	char a[INET6_ADDRSTRLEN];

	(*srv->m_other)++;
	if (f->other_count > 0 && now - f->other_last > f->other_gap)
		f->other_gap = now - f->other_last;
	f->other_count++;
	f->other_last = now;
	f->other_lifetime_ms = (uint32_t)m->router_lifetime * 1000;
	f->other_addr = *src;
	if (yields_to_us(f, m))
		return;
	/* Seen once, its interval is unknown: held for the whole cap. */
	uint64_t hold = f->other_count >= 2 ? 3 * f->other_gap : srv->hold_max_ms;
	if (f->other_lifetime_ms > hold)
		hold = f->other_lifetime_ms;
	if (hold > srv->hold_max_ms)
		hold = srv->hold_max_ms;
	f->other_until = now + hold;
	f->rechecking = false;
	if (f->quiet || f->mode != RA_AUTO)
		return;
	f->quiet = true;
	(*srv->m_quiet)++;
	f->nresp = 0;
	f->resp_mcast = false;
	ev_timer_stop(srv->d->loop, &f->t_resp);
	inet_ntop(AF_INET6, src, a, sizeof a);
	char mac[18] = "no MAC";
	if (m->has_slla)
		mac_format(m->slla, mac);
	log_info("ra: %s: router %s (%s) advertises (lifetime %u s, %d prefixes%s%s); not advertising "
	    "here for %llu s, then re-checking", f->name, a, mac, m->router_lifetime, m->nprefixes,
	    m->managed ? ", M" : "", m->other ? ", O" : "", (unsigned long long)(hold / 1000));
	events_emit(NULL, EVK_SYSTEM, "ra: %s: yielding to router %s (%s, lifetime %u s): gridbootd's "
	    "router advertisements stop for %llu s, then it re-checks", f->name, a, mac,
	    m->router_lifetime, (unsigned long long)(hold / 1000));
}

/* Once a second (on_tick): another router's advertisements age out. */
static void
age_out(struct raif *f, uint64_t now)
{
	if (!f->quiet || now < f->other_until)
		return;
	if (!f->rechecking) {
		/* Is it still there? A router answers an RS within 0.5 s. */
		f->rechecking = true;
		f->other_until = now + PROBE_MS;
		send_rs(f);
		return;
	}
	f->rechecking = false;
	f->quiet = false;
	f->other_count = 0;
	f->other_gap = 0;
	log_info("ra: %s: no other router advertisement for %llu s; advertising again", f->name,
	    (unsigned long long)((now - f->other_last) / 1000));
	events_emit(NULL, EVK_SYSTEM, "ra: %s: the other router's advertisements aged out; gridbootd advertises",
	    f->name);
	if (f->mode == RA_AUTO) {
		f->initial_left = INITIAL_COUNT;
		ev_timer_arm(f->srv->d->loop, &f->t_unsol, 0);
	}
}

static struct raif *
if_by_index(struct ra_server *srv, int index)
{
	for (int i = 0; i < srv->nifs; i++)
		if (srv->ifs[i]->index == index)
			return srv->ifs[i];
	return NULL;
}

static void
on_packet(struct ra_server *srv, const uint8_t *buf, size_t len, const struct sockaddr_in6 *from,
    int ifindex, int hoplimit)
{
	struct ra_msg m;
	char a[INET6_ADDRSTRLEN];
	struct raif *f = if_by_index(srv, ifindex);

	if (f == NULL) {
		(*srv->m_drop_iface)++;     /* an interface we do not serve */
		return;
	}
	enum ra_perr e = ra_parse(buf, len, from->sin6_addr.s6_addr, hoplimit, &m);
	if (e != RAP_OK) {
		(*srv->m_drop[e])++;
		inet_ntop(AF_INET6, &from->sin6_addr, a, sizeof a);
		log_limited(&srv->rl_bad, LOG_INFO, "ra: %s: dropped a malformed ICMPv6 message from %s (%s, %zu bytes)",
		    f->name, a, ra_perr_name[e], len);
		return;
	}
	if (m.type == ICMP6_RS)
		on_rs(f, &from->sin6_addr);
	else
		on_other_ra(f, &from->sin6_addr, &m);
}

static void
on_readable(int fd, uint32_t events, void *arg)
{
	struct ra_server *srv = arg;

	(void)events;
	for (int budget = 0; budget < 64; budget++) {
		uint8_t buf[1500];
		char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
		struct sockaddr_in6 from;
		struct iovec iov = { buf, sizeof buf };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
		    .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			return;
		int ifindex = 0, hop = -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != IPPROTO_IPV6)
				continue;
			if (c->cmsg_type == IPV6_PKTINFO)
				ifindex = (int)((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_ifindex;
			else if (c->cmsg_type == IPV6_HOPLIMIT)
				memcpy(&hop, CMSG_DATA(c), sizeof hop);
		}
		if (mh.msg_namelen != sizeof from || (mh.msg_flags & MSG_TRUNC)) {
			(*srv->m_drop[RAP_SHORT])++;
			continue;
		}
		on_packet(srv, buf, (size_t)n, &from, ifindex, hop);
	}
}

/* ---- interfaces ---- */

/* The mode the inventory gives a link: off wins over on, on over auto,
 * so a link two networks share is never advertised against one's "off".
 * Sets the flags from the network that decided. */
static bool
if_mode(const struct inventory *inv, const struct netif_link *l, enum ramode *mode,
    struct raflags *fl)
{
	bool found = false;

	if (!onlink_served(inv, l))
		return false;
	for (size_t k = 0; k < inv->nnetworks; k++) {
		const struct network *n = &inv->networks[k];
		if (!onlink_has(n, l))
			continue;
		if (!found || n->ra == RA_OFF || (n->ra == RA_ON && *mode == RA_AUTO)) {
			*mode = n->ra;
			ra_flags(n, fl);
		}
		found = true;
	}
	return found;
}

static void
if_free(struct ra_server *srv, struct raif *f)
{
	ev_timer_stop(srv->d->loop, &f->t_unsol);
	ev_timer_stop(srv->d->loop, &f->t_resp);
	if (f->joined) {
		struct ipv6_mreq mr = { .ipv6mr_multiaddr = all_routers, .ipv6mr_interface = (unsigned)f->index };
		setsockopt(srv->fd, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &mr, sizeof mr);
	}
	free(f);
}

static void
if_start(struct raif *f)
{
	struct ra_server *srv = f->srv;
	struct ipv6_mreq mr = { .ipv6mr_multiaddr = all_routers, .ipv6mr_interface = (unsigned)f->index };

	/* Solicitations go to all-routers (ff02::2). */
	if (setsockopt(srv->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr) == 0)
		f->joined = true;
	else
		log_warn("ra: %s: joining ff02::2: %s; router solicitations will go unseen", f->name,
		    strerror(errno));
	f->initial_left = INITIAL_COUNT;
	if (f->mode == RA_AUTO)
		probe(f);
	else
		arm_unsolicited(f);
	log_info("ra: %s: router advertisements %s", f->name,
	    f->mode == RA_ON ? "on" : f->mode == RA_OFF ? "off" : "auto (only while no other router advertises)");
}

/* What the interface table and the inventory say now (after every
 * re-read of the table, and a reload): new links start (auto ones with a
 * solicitation), gone ones stop, the mode and flags of the others follow
 * the inventory. */
static void
links_apply(void *arg)
{
	struct ra_server *srv = arg;
	const struct inventory *inv = srv->d->inv;

	for (int i = 0; i < srv->nifs; i++)
		srv->ifs[i]->seen = false;
	for (size_t i = 0; i < netif_count(srv->netif); i++) {
		const struct netif_link *l = netif_at(srv->netif, i);
		if ((l->flags & IFF_LOOPBACK) || !(l->flags & IFF_UP) || !(l->flags & IFF_MULTICAST))
			continue;
		enum ramode mode = RA_AUTO;
		struct raflags fl = { 0 };
		if (!if_mode(inv, l, &mode, &fl))
			continue;
		struct raif *f = if_by_index(srv, l->index);
		bool fresh = f == NULL;
		if (fresh) {
			if (srv->nifs == MAXIFS)
				continue;
			f = ecalloc(1, sizeof *f);
			f->srv = srv;
			f->index = l->index;
			str_copy(f->name, l->name, sizeof f->name);
			ev_timer_init(&f->t_unsol, on_unsolicited, f);
			ev_timer_init(&f->t_resp, on_respond, f);
			srv->ifs[srv->nifs++] = f;
			f->mode = mode;
			f->has_mac = l->has_mac;
			memcpy(f->mac, l->mac, 6);
		} else if (f->mode != mode) {
			log_info("ra: %s: router advertisements now %s", f->name,
			    mode == RA_ON ? "on" : mode == RA_OFF ? "off" : "auto");
			f->mode = mode;
			/* Other routers were watched in every mode: auto is
			 * quiet at once if one is still heard. */
			f->quiet = mode == RA_AUTO && f->other_count > 0 &&
			    ev_now(srv->d->loop) < f->other_until;
		}
		f->managed = fl.managed;
		f->other = fl.other;
		f->has_onlink = fl.has_onlink;
		memcpy(f->onlink, fl.onlink, 16);
		f->onlink_len = fl.onlink_len;
		f->seen = true;
		if (fresh)
			if_start(f);
	}
	for (int i = 0; i < srv->nifs;) {
		if (srv->ifs[i]->seen) {
			i++;
			continue;
		}
		log_info("ra: %s: gone or no longer served", srv->ifs[i]->name);
		if_free(srv, srv->ifs[i]);
		srv->ifs[i] = srv->ifs[--srv->nifs];
	}
}

/* Once a second: other routers age out. */
static void
on_tick(void *arg)
{
	struct ra_server *srv = arg;
	uint64_t now = ev_now(srv->d->loop);

	for (int i = 0; i < srv->nifs; i++)
		age_out(srv->ifs[i], now);
	ev_timer_arm(srv->d->loop, &srv->t_tick, 1000);
}

/* ---- the module ---- */

static int
open_socket(void)
{
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	int on = 1, off = 0, hops = 255;
	struct icmp6_filter filt;

	if (fd < 0)
		return -1;
	ICMP6_FILTER_SETBLOCKALL(&filt);
	ICMP6_FILTER_SETPASS(ICMP6_RS, &filt);
	ICMP6_FILTER_SETPASS(ICMP6_RA, &filt);
	/* Hop limit 255 out (receivers check it) and the arrival hop limit
	 * and interface in; our own multicast does not come back to us. */
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof filt) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof off) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
register_counters(struct ra_server *srv)
{
	const struct metric_def defs[] = {
		{ &srv->m_sent_sol, "gridboot_ra_sent_total", "kind=\"solicited\"",
		  "router advertisements sent (router lifetime 0)" },
		{ &srv->m_sent_unsol, "gridboot_ra_sent_total", "kind=\"unsolicited\"" },
		{ &srv->m_rs, "gridboot_ra_solicitations_total", NULL,
		  "router solicitations received on served interfaces" },
		{ &srv->m_other, "gridboot_ra_other_router_total", NULL,
		  "router advertisements seen from other routers" },
		{ &srv->m_quiet, "gridboot_ra_quiet_total", NULL,
		  "times an interface went quiet because another router advertises" },
	};
	metrics_register(defs, nelem(defs));
	for (int e = 1; e < RAP_NPERR; e++)
		srv->m_drop[e] = metric_counterf("gridboot_ra_drops_total",
		    "ICMPv6 router discovery messages dropped, by reason", "reason=\"%s\"",
		    ra_perr_name[e]);
	const struct metric_def more[] = {
		{ &srv->m_drop_iface, "gridboot_ra_drops_total", "reason=\"interface\"" },
		{ &srv->m_send_err, "gridboot_ra_send_errors_total", NULL,
		  "router advertisements the kernel refused" },
	};
	metrics_register(more, nelem(more));
}

static int
ra_init(struct daemon *d, void **self)
{
	struct ra_server *srv = ecalloc(1, sizeof *srv);

	srv->d = d;
	const char *hm = getenv("GRIDBOOT_TEST_RA_HOLD_MAX_MS");
	srv->hold_max_ms = hm && atoi(hm) > 0 ? (uint64_t)atoi(hm) : HOLD_MAX_MS;
	register_counters(srv);
	srv->fd = open_socket();
	if (srv->fd < 0) {
		/* No IPv6 or no privilege: boots still work, iPXE only waits. */
		log_warn("ra: no ICMPv6 socket (%s): no router advertisements; iPXE may wait ~15 s for IPv6",
		    strerror(errno));
		*self = srv;
		return 0;
	}
	if (ev_add_fd(d->loop, srv->fd, EPOLLIN, on_readable, srv) < 0) {
		log_err("ra: epoll: %s", strerror(errno));
		close(srv->fd);
		free(srv);
		return -1;
	}
	ev_timer_init(&srv->t_tick, on_tick, srv);
	srv->netif = netif_follow(&d->netif, d->loop, &srv->on_links, links_apply, srv);
	links_apply(srv);
	ev_timer_arm(d->loop, &srv->t_tick, 1000);
	*self = srv;
	return 0;
}

static void
ra_reload(void *self, struct daemon *d, struct inventory *old)
{
	struct ra_server *srv = self;

	(void)d;
	(void)old;
	if (srv->fd >= 0)
		links_apply(srv);
}

static void
ra_shutdown(void *self, struct daemon *d)
{
	struct ra_server *srv = self;

	for (int i = 0; i < srv->nifs; i++)
		if_free(srv, srv->ifs[i]);
	if (srv->fd >= 0) {
		ev_timer_stop(d->loop, &srv->t_tick);
		netif_unfollow(&d->netif, &srv->on_links);
		ev_del_fd(d->loop, srv->fd);
		close(srv->fd);
	}
	free(srv);
}

/* Declared in server/modules.h, the table of every module. */
extern const struct module ra_module;
const struct module ra_module = {
	.name = "ra",
	.init = ra_init,
	.reload = ra_reload,
	.shutdown = ra_shutdown,
};
