/* dhcp6: the module. One UDP socket on port 547 joined to
 * All_DHCP_Relay_Agents_and_Servers (ff02::1:2) on the served interfaces;
 * the receive path (parse, pick the network by relay link-address or
 * arrival interface, dhcp6_handle) and the send path (back to the sender:
 * the client on 546 or the relay on 547). Replies announcing a binding
 * wait in core/holdq.h's queue until the journal is durable, as DHCPv4's;
 * links and our addresses come from the daemon's interface table
 * (core/netif.h), their networks from config/onlink.h. */
#include "core/module.h"
#include "dhcp6/dhcp6_explain.h"
#include "dhcp6/dhcp6_handle.h"
#include "dhcp6/dhcp6_lease.h"
#include "config/onlink.h"
#include "core/events.h"
#include "core/holdq.h"
#include "core/store.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/udpq.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_PORT 547
#define RX_BATCH    64
#define MAX_LEASES  (1u << 20)  /* the table's cap even for a huge pool6 */

/* Where a reply goes (the group commit's opaque destination). */
struct dest6 {
	struct sockaddr_in6 to;
	struct in6_pktinfo pi;
	/* The bindings it announces: sent only if the store kept them all
	 * (a database may give an address to another instance's client). */
	uint8_t duid[DUID_MAX];
	uint8_t duid_len, nia;
	uint32_t iaid[D6_MAX_IA];
	uint8_t addr[D6_MAX_IA][16];
};

struct dhcp6_server {
	struct daemon *d;
	int fd;
	struct udpq *tx;            /* this turn's replies (core/udpq.h) */
	bool hooked;                /* flush_turn is a turn hook */
	struct holdq *held;         /* Replies waiting for the journal's sync */
	struct netif *netif;        /* the daemon's interface table */
	struct netif_listener on_links; /* joins ff02::1:2 on links that appear later */
	uint8_t sid[DUID_MAX];
	size_t sid_len;
	struct dhcp6_leases *leases;
	uint64_t *msgs[D6_NTYPES], *replies[D6_NTYPES], *drops[D6P_NPERR], *drop_iface,
	    *drop_net, *drop_journal, *drop_send, *drop_invalid, *drop_refused, *other_instance,
	    *fsyncs, *silent, *bound, *relayed;
	struct ratelimit rl_bad, rl_send, rl_net;
	/* Scratch for one message at a time, here to keep ~6 KiB of relay
	 * layers and replies off the stack; nothing lives between calls. */
	struct d6_msg req;
	struct dhcp6_out out;
};

static void
register_counters(struct dhcp6_server *srv)
{
	for (int t = 1; t < D6_NTYPES; t++) {
		srv->msgs[t] = metric_counterf("gridboot_dhcp6_messages_total",
		    "DHCPv6 messages received, by type", "type=\"%s\"", dhcp6_type_name(t));
		srv->replies[t] = metric_counterf("gridboot_dhcp6_replies_total",
		    "DHCPv6 replies sent, by type", "type=\"%s\"", dhcp6_type_name(t));
	}
	for (int e = 1; e < D6P_NPERR; e++)
		srv->drops[e] = metric_counterf("gridboot_dhcp6_drops_total",
		    "DHCPv6 datagrams dropped, by reason", "reason=\"%s\"", dhcp6_perr_name[e]);
	const struct metric_def defs[] = {
		{ &srv->drop_iface, "gridboot_dhcp6_drops_total", "reason=\"interface\"" },
		{ &srv->drop_net, "gridboot_dhcp6_drops_total", "reason=\"no_network\"" },
		{ &srv->drop_journal, "gridboot_dhcp6_drops_total", "reason=\"journal\"" },
		{ &srv->drop_refused, "gridboot_dhcp6_drops_total", "reason=\"store_refused\"" },
		{ &srv->other_instance, "gridboot_dhcp6_other_instance_total", NULL,
		  "DHCPv6 clients left to another gridbootd sharing the store (their bucket)" },
		{ &srv->drop_send, "gridboot_dhcp6_drops_total", "reason=\"send\"" },
		{ &srv->drop_invalid, "gridboot_dhcp6_drops_total", "reason=\"invalid\"" },
		{ &srv->silent, "gridboot_dhcp6_unanswered_total", NULL,
		  "valid DHCPv6 messages that needed no reply" },
		{ &srv->relayed, "gridboot_dhcp6_relayed_total", NULL,
		  "DHCPv6 messages that came in Relay-Forw (counted by their inner type too)" },
		{ &srv->fsyncs, "gridboot_dhcp6_journal_syncs_total", NULL,
		  "fdatasync calls on the DHCPv6 lease journal" },
		{ &srv->bound, "gridboot_dhcp6_leases", NULL,
		  "DHCPv6 lease table entries (offers, bindings, declines)", true },
	};
	metrics_register(defs, nelem(defs));
}

/* ---- interfaces ---- */

/* grid.interfaces, and never loopback unless it names it. */
static bool
if_allowed(const struct dhcp6_server *srv, const struct netif_link *l)
{
	if (srv->d->inv->grid.ninterfaces == 0 && strcmp(l->name, "lo") == 0)
		return false;
	return onlink_served(srv->d->inv, l);
}

/* After every re-read of the interface table (and a reload): joins
 * ff02::1:2 on every allowed link with an IPv6 address, which a client's
 * Solicit reaches only then. Joining twice only fails with EADDRINUSE. */
static void
join_links(void *arg)
{
	struct dhcp6_server *srv = arg;
	struct ipv6_mreq mr;

	inet_pton(AF_INET6, "ff02::1:2", &mr.ipv6mr_multiaddr);
	for (size_t i = 0; i < netif_count(srv->netif); i++) {
		const struct netif_link *l = netif_at(srv->netif, i);
		if (l->n6 == 0 || !if_allowed(srv, l))
			continue;
		mr.ipv6mr_interface = (unsigned)l->index;
		setsockopt(srv->fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mr, sizeof mr);
	}
}

static bool
link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* The network a multicast on ifindex belongs to (config/onlink.h); host
 * gets our address there (grid.server6 wins, later). */
static const struct network *
net_for_iface(struct dhcp6_server *srv, int ifindex, uint8_t host[16], bool *allowed)
{
	const struct netif_link *l = netif_by_index(srv->netif, ifindex);

	if (l == NULL)
		return NULL;
	*allowed = if_allowed(srv, l);
	return onlink_net6(srv->d->inv, l, host);
}

/* Any address of ours in n's subnet6 (for a relayed client). */
static bool
host_in(struct dhcp6_server *srv, const struct network *n, uint8_t host[16])
{
	for (size_t i = 0; i < netif_count(srv->netif); i++) {
		const struct netif_link *l = netif_at(srv->netif, i);
		for (size_t k = 0; k < l->n6; k++)
			if (ip6_in(l->a6[k], n->subnet6, n->prefix6)) {
				memcpy(host, l->a6[k], 16);
				return true;
			}
	}
	return false;
}

/* ---- sending and the group commit ---- */

/* Counts a reply sent, by the type of its innermost message. */
static void
count_reply(void *arg, const uint8_t *buf, size_t len)
{
	struct dhcp6_server *srv = arg;
	size_t at = 0;

	while (at + 38 <= len && buf[at] == D6_RELAY_REPL) {
		at += 34;
		size_t next = 0;
		while (at + 4 <= len) {
			uint16_t code = (uint16_t)(buf[at] << 8 | buf[at + 1]);
			uint16_t olen = (uint16_t)(buf[at + 2] << 8 | buf[at + 3]);
			if (code == D6O_RELAY_MSG) {
				next = at + 4;
				break;
			}
			at += 4 + (size_t)olen;
		}
		if (next == 0)
			return;
		at = next;
	}
	if (at < len && buf[at] < D6_NTYPES && buf[at] > 0)
		(*srv->replies[buf[at]])++;
}

static void
send_failed(void *arg, const struct sockaddr *to, int err)
{
	struct dhcp6_server *srv = arg;
	char a[46];

	(*srv->drop_send)++;
	ip6_format(((const struct sockaddr_in6 *)to)->sin6_addr.s6_addr, a);
	log_limited(&srv->rl_send, LOG_WARNING, "dhcp6: send to %s: %s", a, strerror(err));
}

static const struct udpq_ops tx_ops = { .sent = count_reply, .failed = send_failed };

/* Queued for the turn's end, to leave from the address its request
 * reached. */
static void
send_one(struct dhcp6_server *srv, const struct dest6 *p, const uint8_t *buf, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))] __attribute__((aligned(8)));
	struct msghdr mh = { .msg_control = cbuf, .msg_controllen = sizeof cbuf };

	memset(cbuf, 0, sizeof cbuf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
	memcpy(CMSG_DATA(cm), &p->pi, sizeof p->pi);
	udpq_add(srv->tx, (const struct sockaddr *)&p->to, sizeof p->to, cbuf, sizeof cbuf, buf, len);
}

/* The end of every loop turn (after the group commit's hook, which may
 * have released replies): this turn's replies leave. */
static void
flush_turn(void *arg)
{
	struct dhcp6_server *srv = arg;

	udpq_flush(srv->tx);
}

static int
held_sync(void *arg)
{
	struct dhcp6_server *srv = arg;

	return dhcp6_lease_sync(srv->leases);
}

static bool
held_dirty(void *arg)
{
	struct dhcp6_server *srv = arg;

	return dhcp6_lease_dirty(srv->leases);
}

static void
held_send(void *arg, const void *dest, const uint8_t *buf, size_t len)
{
	struct dhcp6_server *srv = arg;
	const struct dest6 *p = dest;

	for (int i = 0; i < p->nia; i++) {
		struct d6_lease *e = dhcp6_lease_find(srv->leases, p->duid, p->duid_len, p->iaid[i]);
		if (e == NULL || e->state != L6_BOUND || memcmp(e->addr, p->addr[i], 16) != 0) {
			(*srv->drop_refused)++;
			return;
		}
	}
	send_one(arg, dest, buf, len);
}

/* The database's commit of the batch is over (core/store.h). */
static void
store_synced(void *arg, int err)
{
	struct dhcp6_server *srv = arg;

	holdq_sync_done(srv->held, err);
}

static int
held_sync_begin(void *arg)
{
	struct dhcp6_server *srv = arg;

	return dhcp6_lease_sync_begin(srv->leases, store_synced, srv);
}

static int
held_sync_end(void *arg, int err)
{
	struct dhcp6_server *srv = arg;

	return dhcp6_lease_sync_end(srv->leases, err);
}

static const struct holdq_ops held_ops = {
	held_sync, held_dirty, held_send, held_sync_begin, held_sync_end,
};

/* ---- receiving ---- */

static void
timeline(const struct d6_msg *req, const struct dhcp6_out *o)
{
	const uint8_t *mac = req->has_mac ? req->mac : NULL;
	char a[46] = "(no address)";

	for (int i = 0; i < o->reply.nia; i++)
		if (o->reply.ia[i].has_addr) {
			ip6_format(o->reply.ia[i].addr, a);
			break;
		}
	if (!o->send) {
		log_debug("dhcp6: %s: no reply (%s)", dhcp6_type_name(req->type), o->why ? o->why : "-");
		if (req->type == D6_SOLICIT || req->type == D6_REQUEST)
			events_emit(mac, EVK_DHCP, "DHCPv6 %s: no reply: %s", dhcp6_type_name(req->type),
			    o->why ? o->why : "-");
		return;
	}
	events_emit(mac, EVK_DHCP, "DHCPv6 %s -> %s %s%s%s%s%s", dhcp6_type_name(req->type),
	    dhcp6_type_name(o->reply.type), a, o->reply.url ? " url " : "",
	    o->reply.url ? o->reply.url : "", o->why ? ": " : "", o->why ? o->why : "");
	log_debug("dhcp6: %s -> %s %s (%s; %s)", dhcp6_type_name(req->type),
	    dhcp6_type_name(o->reply.type), a, boot_client_name(o->boot.client), o->boot.why);
}

/* The network of a relayed message: the link-address of the relay
 * nearest the client that has one (RFC 8415 19.1.1). */
static const struct network *
net_for_relay(struct dhcp6_server *srv, const struct d6_msg *req)
{
	for (int i = req->nrelay - 1; i >= 0; i--)
		if (!ip6_zero(req->relay[i].link))
			return inv_network_for6(srv->d->inv, req->relay[i].link);
	return NULL;
}

static void
handle(struct dhcp6_server *srv, const uint8_t *buf, size_t len,
    const struct sockaddr_in6 *from, const struct in6_pktinfo *pi)
{
	struct d6_msg *req = &srv->req;
	struct dhcp6_out *out = &srv->out;
	enum d6_perr e = dhcp6_parse(buf, len, req);
	uint8_t host[16] = { 0 };
	char hosttext[46], src[46];
	bool allowed = true;

	ip6_format(from->sin6_addr.s6_addr, src);
	if (e != D6P_OK) {
		(*srv->drops[e])++;
		log_limited(&srv->rl_bad, LOG_INFO, "dhcp6: dropped a malformed datagram from %s (%s, %zu bytes)",
		    src, dhcp6_perr_name[e], len);
		return;
	}
	(*srv->msgs[req->type])++;
	/* Several instances on one store: a Solicit is answered by the one
	 * its DUID's bucket belongs to (docs/scale.md). */
	if (req->type == D6_SOLICIT && !store_serves(srv->d->store, req->duid, req->duid_len)) {
		(*srv->other_instance)++;
		return;
	}
	/* Without a MAC in the DUID or option 79, the client's EUI-64
	 * link-local address still names its NIC (iPXE's does). */
	if (!req->has_mac) {
		const uint8_t *ll = req->nrelay ? req->relay[req->nrelay - 1].peer : from->sin6_addr.s6_addr;
		req->has_mac = link_local(ll) && dhcp6_mac_from_eui64(ll, req->mac);
	}
	const struct network *net;
	if (req->nrelay > 0) {
		const struct netif_link *l = netif_by_index(srv->netif, pi->ipi6_ifindex);
		(*srv->relayed)++;
		/* grid.interfaces holds for relays too: a Relay-Forw that
		 * arrived on a link we do not serve is dropped, as a direct
		 * Solicit there is. */
		allowed = l != NULL && if_allowed(srv, l);
		net = net_for_relay(srv, req);
		if (net && !host_in(srv, net, host) && !link_local(pi->ipi6_addr.s6_addr) &&
		    pi->ipi6_addr.s6_addr[0] != 0xff)
			memcpy(host, pi->ipi6_addr.s6_addr, 16);
	} else {
		net = net_for_iface(srv, pi->ipi6_ifindex, host, &allowed);
		/* Sent to one of our addresses (not the group): that address's
		 * network, when the interface carries several. */
		const struct network *byaddr = pi->ipi6_addr.s6_addr[0] == 0xff ? NULL :
		    inv_network_for6(srv->d->inv, pi->ipi6_addr.s6_addr);
		if (net && byaddr && byaddr != net) {
			net = byaddr;
			memcpy(host, pi->ipi6_addr.s6_addr, 16);
		}
	}
	if (!allowed) {
		(*srv->drop_iface)++;
		return;
	}
	if (net == NULL || net->dhcp6 == DHCP_OFF) {
		(*srv->drop_net)++;
		log_limited(&srv->rl_net, LOG_INFO, "dhcp6: %s from %s: no network with subnet6 and dhcp6 for it",
		    dhcp6_type_name(req->type), src);
		return;
	}
	if (!ip6_zero(srv->d->inv->grid.server6))
		memcpy(host, srv->d->inv->grid.server6, 16);
	ip6_format(host, hosttext);
	struct dhcp6_ctx c = { .leases = srv->leases, .inv = srv->d->inv, .net = net,
	    .host6 = ip6_zero(host) ? NULL : hosttext, .sid = srv->sid, .sid_len = srv->sid_len,
	    .now_ms = wall_ms() };
	dhcp6_handle(&c, req, out);
	*srv->bound = dhcp6_lease_count(srv->leases);
	timeline(req, out);
	if (!out->send) {
		if (out->why && strncmp(out->why, "proxy", 5) != 0 && req->type != D6_CONFIRM)
			(*srv->drop_invalid)++;
		else
			(*srv->silent)++;
		return;
	}
	/* Built in the queue's next slot: held there when it announces a
	 * binding (sent after the journal's sync), else sent from it now. */
	void *dest;
	uint8_t *rbuf = holdq_slot(srv->held, &dest);
	struct dest6 *p = dest;
	p->to = *from;
	memset(&p->pi, 0, sizeof p->pi);
	p->pi.ipi6_ifindex = pi->ipi6_ifindex;
	/* From the address the message reached, unless that was a group. */
	if (pi->ipi6_addr.s6_addr[0] != 0xff)
		p->pi.ipi6_addr = pi->ipi6_addr;
	size_t rlen = dhcp6_build(req, &out->reply, srv->sid, srv->sid_len, rbuf, D6_MAXREPLY);
	if (rlen == 0)
		return;
	if (out->commit) {
		memcpy(p->duid, req->duid, req->duid_len);
		p->duid_len = (uint8_t)req->duid_len;
		p->nia = 0;
		for (int i = 0; i < out->reply.nia; i++)
			if (out->reply.ia[i].has_addr) {
				p->iaid[p->nia] = out->reply.ia[i].iaid;
				memcpy(p->addr[p->nia++], out->reply.ia[i].addr, 16);
			}
		holdq_hold(srv->held, rlen);
	} else
		send_one(srv, p, rbuf, rlen);
}

/* Up to RX_BATCH datagrams per wake-up, with one recvmmsg. Static: the
 * loop has one thread and nothing survives the call. */
static uint8_t rx_buf[RX_BATCH][4096];
static char rx_cbuf[RX_BATCH][CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];

static void
on_readable(int fd, uint32_t events, void *arg)
{
	struct dhcp6_server *srv = arg;
	struct mmsghdr m[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_in6 from[RX_BATCH];

	(void)events;
	memset(m, 0, sizeof m);
	for (int i = 0; i < RX_BATCH; i++) {
		iov[i] = (struct iovec){ rx_buf[i], sizeof rx_buf[i] };
		m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof from[i],
		    .msg_iov = &iov[i], .msg_iovlen = 1, .msg_control = rx_cbuf[i],
		    .msg_controllen = sizeof rx_cbuf[i] };
	}
	int n = recvmmsg(fd, m, RX_BATCH, 0, NULL);
	for (int i = 0; i < n; i++) {
		struct msghdr *mh = &m[i].msg_hdr;
		struct in6_pktinfo pi = { 0 };
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
			if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO)
				memcpy(&pi, CMSG_DATA(cm), sizeof pi);
		handle(srv, rx_buf[i], m[i].msg_len, &from[i], &pi);
	}
}

/* ---- module ---- */

/* Our DUID-UUID (RFC 6355), made once and kept in STATE/dhcp6.duid so
 * clients renewing after a restart still find the server they know. */
static int
load_duid(struct dhcp6_server *srv, const char *state)
{
	char *path = esprintf("%s/dhcp6.duid", state), *text;
	size_t len;
	int n = -1;

	if ((text = read_state_file(path, &len, 1024)) != NULL) {
		text[strcspn(text, "\n")] = '\0';
		n = hex_bytes_parse(text, srv->sid, sizeof srv->sid);
		free(text);
	}
	if (n < 3) {
		uint8_t r[16];
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
			if (fd >= 0)
				close(fd);
			free(path);
			return -1;
		}
		close(fd);
		srv->sid[0] = 0;
		srv->sid[1] = 4;
		memcpy(srv->sid + 2, r, 16);
		n = 18;
		char hex[3 * DUID_MAX + 2];
		hex_bytes_format(srv->sid, (size_t)n, hex, sizeof hex);
		strcat(hex, "\n");
		if (mkdir_p(state, 0750) < 0 || write_file_atomic(path, hex, strlen(hex)) < 0)
			log_warn("dhcp6: %s: %s (the server DUID changes at every start)", path,
			    strerror(errno));
	}
	srv->sid_len = (size_t)n;
	free(path);
	return 0;
}

/* What the lease table may hold: every pool address and every reserved
 * one, never more than MAX_LEASES. */
static size_t
lease_cap(const struct inventory *inv)
{
	uint64_t n = 16;

	for (size_t i = 0; i < inv->nnetworks; i++) {
		const struct network *net = &inv->networks[i];
		if (net->dhcp6 == DHCP_FULL && !ip6_zero(net->pool6_lo)) {
			uint32_t lo = (uint32_t)net->pool6_lo[12] << 24 | (uint32_t)net->pool6_lo[13] << 16 |
			    (uint32_t)net->pool6_lo[14] << 8 | net->pool6_lo[15];
			uint32_t hi = (uint32_t)net->pool6_hi[12] << 24 | (uint32_t)net->pool6_hi[13] << 16 |
			    (uint32_t)net->pool6_hi[14] << 8 | net->pool6_hi[15];
			n += (uint64_t)hi - lo + 1;
		}
	}
	n += inv->nmachines;
	return n > MAX_LEASES ? MAX_LEASES : (size_t)n;
}

static void
server_free(struct dhcp6_server *srv)
{
	if (srv == NULL)
		return;
	holdq_free(srv->held);      /* sends what waits, while the socket is open */
	if (srv->fd >= 0)
		udpq_flush(srv->tx);
	if (srv->hooked)
		ev_del_turn_hook(srv->d->loop, flush_turn, srv);
	udpq_free(srv->tx);
	if (srv->netif)
		netif_unfollow(&srv->d->netif, &srv->on_links);
	if (srv->fd >= 0) {
		ev_del_fd(srv->d->loop, srv->fd);
		close(srv->fd);
	}
	leases6_serve(NULL);
	dhcp6_lease_close(srv->leases);
	free(srv);
}

static int
open_socket(struct dhcp6_server *srv)
{
	int one = 1, big = 4 << 20;
	struct sockaddr_in6 sin = { .sin6_family = AF_INET6, .sin6_port = htons(SERVER_PORT),
	    .sin6_addr = IN6ADDR_ANY_INIT };

	srv->fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0)
		return -1;
	setsockopt(srv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (setsockopt(srv->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
		setsockopt(srv->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (setsockopt(srv->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0 ||
	    setsockopt(srv->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) < 0 ||
	    bind(srv->fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		log_err("dhcp6: port %d: %s", SERVER_PORT, strerror(errno));
		return -1;
	}
	srv->tx = udpq_new(srv->fd, D6_MAXREPLY, &tx_ops, srv);
	return ev_add_fd(srv->d->loop, srv->fd, EPOLLIN, on_readable, srv);
}

static int
dhcp6_init(struct daemon *d, void **self)
{
	const struct inventory *inv = d->inv;
	bool any = false;

	*self = NULL;
	for (size_t i = 0; i < inv->nnetworks; i++)
		any |= inv->networks[i].dhcp6 != DHCP_OFF;
	if (!any)
		return 0;
	struct dhcp6_server *srv = ecalloc(1, sizeof *srv);
	srv->d = d;
	srv->fd = -1;
	register_counters(srv);
	prefault(rx_buf, sizeof rx_buf);
	prefault(rx_cbuf, sizeof rx_cbuf);
	if (load_duid(srv, inv->grid.state) < 0 ||
	    (srv->leases = dhcp6_lease_open(d->store, lease_cap(inv))) == NULL) {
		server_free(srv);
		return -1;
	}
	leases6_serve(srv->leases);
	*srv->bound = dhcp6_lease_count(srv->leases);
	srv->held = holdq_new(d->loop, D6_MAXREPLY, sizeof(struct dest6), &held_ops, srv,
	    srv->fsyncs, srv->drop_journal);
	ev_add_turn_hook(d->loop, flush_turn, srv);     /* after the queue's own */
	srv->hooked = true;
	if (open_socket(srv) < 0) {
		server_free(srv);
		return -1;
	}
	/* A client multicasts to ff02::1:2, which a link hears only once we
	 * have joined it there: a served interface that comes up after the
	 * start (a bridge, a VLAN, a recreated tap) is joined when the
	 * interface table hears of it. */
	srv->netif = netif_follow(&d->netif, d->loop, &srv->on_links, join_links, srv);
	join_links(srv);
	*self = srv;
	log_info("dhcp6: listening on port %d; %lu lease record(s)", SERVER_PORT,
	    dhcp6_lease_count(srv->leases));
	return 0;
}

/* grid.interfaces may name new links to join. */
static void
dhcp6_reload(void *self, struct daemon *d, struct inventory *old)
{
	(void)old, (void)d;
	if (self)
		join_links(self);
}

static void
dhcp6_shutdown(void *self, struct daemon *d)
{
	(void)d;
	server_free(self);
}

extern const struct module dhcp6_module;
static const struct subcommand dhcp6_commands[] = {
	{ "explain6", DHCP6_EXPLAIN_SYNOPSIS, dhcp6_explain_cmd },
	{ NULL, NULL, NULL },
};

const struct module dhcp6_module = {
	.name = "dhcp6",
	.init = dhcp6_init,
	.reload = dhcp6_reload,
	.shutdown = dhcp6_shutdown,
	.commands = dhcp6_commands,
};
