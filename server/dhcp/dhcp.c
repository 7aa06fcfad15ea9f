/* dhcp: the module. Sockets on grid.dhcp_port (and grid.proxy_port when a
 * network runs proxyDHCP), the receive path (parse, pick the network by
 * arrival interface or relay address, dhcp_handle), the send path (relay,
 * unicast, broadcast, or ARP-less unicast to a client without an address).
 * ACKs that announce a new binding wait in core/holdq.h's queue until the
 * lease journal is durable; the arrival interface's network comes from
 * the daemon's interface table (core/netif.h) through config/onlink.h. */
#include "core/module.h"
#include "dhcp/dhcp_explain.h"
#include "dhcp/dhcp_handle.h"
#include "dhcp/dhcp_lease.h"
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
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENT_PORT 68
#define SERVER_PORT 67
#define MAXSOCKS    17
#define RX_BATCH    64

struct dhcp_server;

struct dest {
	struct sockaddr_in to;
	int ifindex;
	uint32_t src;               /* our address, for IP_PKTINFO */
};

struct sock {
	int fd;
	bool proxy;                 /* bound to grid.proxy_port */
	struct dhcp_server *srv;    /* its owner, for the loop's callback */
	struct udpq *tx;            /* this turn's replies (core/udpq.h) */
};

/* Where a held ACK goes (the group commit's opaque destination). */
struct held {
	struct sock *s;
	struct dest d;
	uint8_t mac[6];             /* the binding it announces: sent only if */
	uint32_t ip;                /* the store kept it (a database may refuse) */
};

/* The module's state: dhcp_init allocates it, every later hook gets it
 * back, dhcp_shutdown frees it. */
struct dhcp_server {
	struct daemon *d;
	struct sock socks[MAXSOCKS];
	int nsocks;
	struct holdq *held;         /* ACKs waiting for the journal's sync */
	struct netif *netif;        /* the daemon's interface table */
	uint64_t *msgs[9], *replies[9], *drops[DP_NPERR], *drop_iface, *drop_net,
	    *drop_journal, *drop_send, *drop_hops, *drop_refused, *other_instance, *fsyncs,
	    *silent;
	struct ratelimit rl_bad, rl_send, rl_net;
	struct dhcp_leases *leases;
	struct dhcp_pools pools;    /* what dhcp_handle remembers of the pools */
	/* Scratch for one request at a time (the loop has one thread), here
	 * to keep about 2 KiB off the stack: no state between calls. */
	struct dhcp_msg req;
	struct dhcp_out out;
};

static void
register_counters(struct dhcp_server *srv)
{
	for (int t = 1; t <= 8; t++) {
		srv->msgs[t] = metric_counterf("gridboot_dhcp_messages_total",
		    "DHCP messages received, by type", "type=\"%s\"", dhcp_type_name(t));
		srv->replies[t] = metric_counterf("gridboot_dhcp_replies_total",
		    "DHCP replies sent, by type", "type=\"%s\"", dhcp_type_name(t));
	}
	for (int e = 1; e < DP_NPERR; e++)
		srv->drops[e] = metric_counterf("gridboot_dhcp_drops_total",
		    "DHCP packets dropped, by reason", "reason=\"%s\"", dhcp_perr_name[e]);
	const struct metric_def defs[] = {
		{ &srv->drop_iface, "gridboot_dhcp_drops_total", "reason=\"interface\"" },
		{ &srv->drop_net, "gridboot_dhcp_drops_total", "reason=\"no_network\"" },
		{ &srv->drop_journal, "gridboot_dhcp_drops_total", "reason=\"journal\"" },
		{ &srv->drop_send, "gridboot_dhcp_drops_total", "reason=\"send\"" },
		{ &srv->drop_hops, "gridboot_dhcp_drops_total", "reason=\"hops\"" },
		{ &srv->drop_refused, "gridboot_dhcp_drops_total", "reason=\"store_refused\"" },
		{ &srv->other_instance, "gridboot_dhcp_other_instance_total", NULL,
		  "DHCP clients left to another gridbootd sharing the store (their bucket)" },
		{ &srv->silent, "gridboot_dhcp_unanswered_total", NULL,
		  "valid DHCP messages that needed no reply" },
		{ &srv->fsyncs, "gridboot_dhcp_journal_syncs_total", NULL,
		  "fdatasync calls on the lease journal (one per loop turn with new bindings)" },
	};
	metrics_register(defs, nelem(defs));
}

/* ---- interfaces ---- */

/* The network a broadcast on ifindex belongs to (config/onlink.h) and our
 * address there; allowed is false on an interface grid.interfaces leaves
 * out. */
static const struct network *
net_for_iface(struct dhcp_server *srv, int ifindex, uint32_t *server_id, bool *allowed)
{
	const struct netif_link *l = netif_by_index(srv->netif, ifindex);

	if (l == NULL)
		return NULL;
	*allowed = onlink_served(srv->d->inv, l);
	return onlink_net4(srv->d->inv, l, server_id);
}

/* ---- sending ---- */

/* Tells the kernel chaddr's address so a unicast reaches a client that
 * cannot answer ARP yet (what dnsmasq does). */
static bool
arp_inject(int fd, int ifindex, uint32_t ip, const uint8_t mac[6])
{
	struct arpreq req;
	struct sockaddr_in *sin = (struct sockaddr_in *)&req.arp_pa;

	memset(&req, 0, sizeof req);
	if (if_indextoname((unsigned)ifindex, req.arp_dev) == NULL)
		return false;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(ip);
	req.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(req.arp_ha.sa_data, mac, 6);
	req.arp_flags = ATF_COM;
	return ioctl(fd, SIOCSARP, &req) == 0;
}

static void
count_reply(void *arg, const uint8_t *buf, size_t len)
{
	struct sock *s = arg;
	uint8_t type = 0;

	if (len > 242 && buf[240] == 53)
		type = buf[242];
	if (type >= 1 && type <= 8)
		(*s->srv->replies[type])++;
}

static void
send_failed(void *arg, const struct sockaddr *to, int err)
{
	struct sock *s = arg;

	(*s->srv->drop_send)++;
	log_limited(&s->srv->rl_send, LOG_WARNING, "dhcp: send to %s: %s",
	    inet_ntoa(((const struct sockaddr_in *)to)->sin_addr), strerror(err));
}

static const struct udpq_ops tx_ops = { .sent = count_reply, .failed = send_failed };

static void
send_one(struct sock *s, const struct dest *d, const uint8_t *buf, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] __attribute__((aligned(8)));
	size_t clen = 0;

	/* Pin the interface and source so broadcasts leave where the
	 * client is. */
	if (d->ifindex > 0) {
		struct msghdr mh = { .msg_control = cbuf, .msg_controllen = sizeof cbuf };
		memset(cbuf, 0, sizeof cbuf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cm);
		pi->ipi_ifindex = d->ifindex;
		pi->ipi_spec_dst.s_addr = htonl(d->src);
		clen = sizeof cbuf;
	}
	udpq_add(s->tx, (const struct sockaddr *)&d->to, sizeof d->to, cbuf, clen, buf, len);
}

/* The end of every loop turn: this turn's replies leave. */
static void
flush_all(void *arg)
{
	struct dhcp_server *srv = arg;

	for (int i = 0; i < srv->nsocks; i++)
		udpq_flush(srv->socks[i].tx);
}

/* RFC 2131 4.1: relay, then ciaddr, then broadcast, then unicast to the
 * new address with the hardware address supplied by us. */
static void
pick_dest(struct sock *s, const struct dhcp_msg *req, const struct dhcp_reply *r,
    const struct sockaddr_in *from, int ifindex, uint32_t server_id, struct dest *d)
{
	memset(d, 0, sizeof *d);
	d->to.sin_family = AF_INET;
	d->src = server_id;
	if (s->proxy && from->sin_addr.s_addr != 0) {
		d->to = *from;                  /* port 4011: back to the asker */
		return;
	}
	if (req->giaddr) {
		d->to.sin_addr.s_addr = htonl(req->giaddr);
		d->to.sin_port = htons(SERVER_PORT);
		return;
	}
	d->to.sin_port = htons(CLIENT_PORT);
	d->ifindex = ifindex;
	if (req->ciaddr && r->type != DHCPNAK) {
		d->to.sin_addr.s_addr = htonl(req->ciaddr);
		d->ifindex = 0;
		return;
	}
	if (r->type == DHCPNAK || (r->flags & DHCP_FLAG_BCAST) || r->yiaddr == 0 ||
	    req->htype != 1 || !arp_inject(s->fd, ifindex, r->yiaddr, req->chaddr)) {
		d->to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
		return;
	}
	d->to.sin_addr.s_addr = htonl(r->yiaddr);
}

/* ---- group commit (core/holdq.h) ---- */

static int
held_sync(void *arg)
{
	struct dhcp_server *srv = arg;

	return dhcp_lease_sync(srv->leases);
}

static bool
held_dirty(void *arg)
{
	struct dhcp_server *srv = arg;

	return dhcp_lease_dirty(srv->leases);
}

static void
held_send(void *arg, const void *dest, const uint8_t *buf, size_t len)
{
	struct dhcp_server *srv = arg;
	const struct held *h = dest;
	struct dhcp_lease *e = dhcp_lease_by_mac(srv->leases, h->mac);

	/* The database gave the address to another instance's client
	 * between our bind and its commit: say nothing, the client's next
	 * DISCOVER gets another. */
	if (e == NULL || e->ip != h->ip || e->state != LS_BOUND) {
		(*srv->drop_refused)++;
		return;
	}
	send_one(h->s, &h->d, buf, len);
}

/* The database's commit of the batch is over (core/store.h). */
static void
store_synced(void *arg, int err)
{
	struct dhcp_server *srv = arg;

	holdq_sync_done(srv->held, err);
}

static int
held_sync_begin(void *arg)
{
	struct dhcp_server *srv = arg;

	return dhcp_lease_sync_begin(srv->leases, store_synced, srv);
}

static int
held_sync_end(void *arg, int err)
{
	struct dhcp_server *srv = arg;

	return dhcp_lease_sync_end(srv->leases, err);
}

static const struct holdq_ops held_ops = {
	held_sync, held_dirty, held_send, held_sync_begin, held_sync_end,
};

/* ---- receiving ---- */

static void
timeline(const struct dhcp_msg *req, const struct dhcp_out *o)
{
	char ip[16];

	if (!o->send) {
		log_debug("dhcp: %s from %02x:%02x:%02x:%02x:%02x:%02x: no reply (%s)",
		    dhcp_type_name(req->type), req->chaddr[0], req->chaddr[1], req->chaddr[2],
		    req->chaddr[3], req->chaddr[4], req->chaddr[5], o->why ? o->why : "-");
		if (req->type == DHCPDISCOVER || req->type == DHCPREQUEST)
			events_emit(req->chaddr, EVK_DHCP, "%s: no reply: %s",
			    dhcp_type_name(req->type), o->why ? o->why : "-");
		return;
	}
	ip_format(o->reply.yiaddr, ip);
	events_emit(req->chaddr, EVK_DHCP, "%s -> %s %s%s%s%s%s",
	    dhcp_type_name(req->type), dhcp_type_name(o->reply.type),
	    o->reply.yiaddr ? ip : "(no address)",
	    o->boot.file[0] ? " file " : "", o->boot.file,
	    o->why ? ": " : "", o->why ? o->why : "");
	log_debug("dhcp: %s -> %s %s (%s; %s)", dhcp_type_name(req->type),
	    dhcp_type_name(o->reply.type), ip, boot_client_name(o->boot.client), o->boot.why);
}

static void
handle(struct sock *s, const uint8_t *buf, size_t len, const struct sockaddr_in *from,
    int ifindex, uint32_t local)
{
	struct dhcp_server *srv = s->srv;
	struct dhcp_msg *req = &srv->req;
	struct dhcp_out *out = &srv->out;
	struct dhcp_ctx c = { .leases = srv->leases, .pools = &srv->pools, .inv = srv->d->inv,
	    .proxy_port = s->proxy, .now_ms = wall_ms(), .src = ntohl(from->sin_addr.s_addr),
	    .store_down = !store_up(srv->d->store) };
	store_share(srv->d->store, &c.share_n, &c.share_me);
	enum dhcp_perr e = dhcp_parse(buf, len, req);
	bool allowed = true;

	if (e != DP_OK) {
		(*srv->drops[e])++;
		log_limited(&srv->rl_bad, LOG_INFO, "dhcp: dropped a malformed packet from %s (%s, %zu bytes)",
		    inet_ntoa(from->sin_addr), dhcp_perr_name[e], len);
		return;
	}
	(*srv->msgs[req->type])++;
	if (req->hops > 16) {
		(*srv->drop_hops)++;
		return;
	}
	/* Several instances on one store: a new client is answered by the
	 * one its bucket belongs to; a client naming a server, or renewing
	 * its address, by whoever hears it. */
	if ((req->type == DHCPDISCOVER || (req->type == DHCPREQUEST && !req->serverid &&
	    !req->ciaddr)) && !store_serves(srv->d->store, req->chaddr, 6)) {
		(*srv->other_instance)++;
		return;
	}
	if (req->giaddr) {
		c.net = inv_network_for(c.inv, req->giaddr);
		c.server_id = local;
	} else
		c.net = net_for_iface(srv, ifindex, &c.server_id, &allowed);
	/* A unicast renewal from a routed client names its network by ciaddr. */
	if (!req->giaddr && req->ciaddr && from->sin_addr.s_addr &&
	    (c.net == NULL || (req->ciaddr & c.net->mask) != c.net->subnet)) {
		c.net = inv_network_for(c.inv, req->ciaddr);
		c.server_id = local;
	}
	if (!allowed) {
		(*srv->drop_iface)++;
		return;
	}
	if (c.net == NULL) {
		(*srv->drop_net)++;
		log_limited(&srv->rl_net, LOG_INFO, "dhcp: %s from %s: no network in the inventory for it",
		    dhcp_type_name(req->type), inet_ntoa(from->sin_addr));
		return;
	}
	dhcp_handle(&c, req, out);
	timeline(req, out);
	if (!out->send) {
		(*srv->silent)++;
		return;
	}
	/* Built in the queue's next slot: held there when it announces a
	 * binding (sent after the journal's sync), else sent from it now. */
	void *dest;
	uint8_t *rbuf = holdq_slot(srv->held, &dest);
	struct held *h = dest;
	h->s = s;
	pick_dest(s, req, &out->reply, from, ifindex, c.server_id, &h->d);
	memcpy(h->mac, req->chaddr, 6);
	h->ip = out->reply.yiaddr;
	size_t rlen = dhcp_build(req, &out->reply, rbuf, DHCP_MAXREPLY);
	if (rlen == 0)
		return;
	if (out->commit)
		holdq_hold(srv->held, rlen);
	else
		send_one(s, &h->d, rbuf, rlen);
}

/* Up to RX_BATCH datagrams per wake-up, with one recvmmsg. Static: the
 * loop has one thread and nothing survives the call. */
static uint8_t rx_buf[RX_BATCH][4096];
static char rx_cbuf[RX_BATCH][CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];

static void
on_readable(int fd, uint32_t events, void *arg)
{
	struct sock *s = arg;
	struct mmsghdr m[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_in from[RX_BATCH];

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
		int ifindex = 0;
		uint32_t local = 0;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(cm), sizeof pi);
				ifindex = pi.ipi_ifindex;
				local = ntohl(pi.ipi_spec_dst.s_addr);
			}
		handle(s, rx_buf[i], m[i].msg_len, &from[i], ifindex, local);
	}
}

/* ---- module ---- */

static int
open_sock(struct dhcp_server *srv, int port, const char *dev, bool proxy)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* Room for a boot storm's worth of requests while a journal sync
	 * holds the loop (a slow disk can stall fdatasync for 100s of ms). */
	int big = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0 ||
	    (dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1) < 0) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		log_err("dhcp: port %d%s%s: %s", port, dev ? " on " : "", dev ? dev : "", strerror(errno));
		close(fd);
		return -1;
	}
	struct sock *s = &srv->socks[srv->nsocks++];
	s->fd = fd;
	s->proxy = proxy;
	s->srv = srv;
	s->tx = udpq_new(fd, DHCP_MAXREPLY, &tx_ops, s);
	if (ev_add_fd(srv->d->loop, fd, EPOLLIN, on_readable, s) < 0) {
		udpq_free(s->tx);
		s->tx = NULL;
		close(fd);
		srv->nsocks--;
		return -1;
	}
	return 0;
}

/* One socket per port, or one per interface when grid.interfaces names
 * them (SO_BINDTODEVICE keeps other interfaces' broadcasts out). */
static int
open_port(struct dhcp_server *srv, int port, bool proxy)
{
	const struct grid *g = &srv->d->inv->grid;

	if (g->ninterfaces == 0)
		return open_sock(srv, port, NULL, proxy);
	for (int i = 0; i < g->ninterfaces && srv->nsocks < MAXSOCKS; i++)
		if (open_sock(srv, port, g->interfaces[i], proxy) < 0)
			return -1;
	return 0;
}

/* Closes what srv holds and frees it: dhcp_shutdown, or a failed init. */
static void
server_free(struct dhcp_server *srv)
{
	if (srv == NULL)
		return;
	holdq_free(srv->held);      /* sends what waits, while the sockets are open */
	flush_all(srv);
	ev_del_turn_hook(srv->d->loop, flush_all, srv);
	for (int i = 0; i < srv->nsocks; i++) {
		ev_del_fd(srv->d->loop, srv->socks[i].fd);
		close(srv->socks[i].fd);
		udpq_free(srv->socks[i].tx);
	}
	leases_serve(NULL);
	dhcp_lease_close(srv->leases);
	if (srv->netif)
		netif_unref(&srv->d->netif);
	free(srv);
}

static int
dhcp_init(struct daemon *d, void **self)
{
	const struct inventory *inv = d->inv;
	bool any = false, proxy = false;

	*self = NULL;
	for (size_t i = 0; i < inv->nnetworks; i++) {
		any |= inv->networks[i].dhcp != DHCP_OFF;
		proxy |= inv->networks[i].dhcp == DHCP_PROXY;
	}
	if (!any)
		return 0;
	struct dhcp_server *srv = ecalloc(1, sizeof *srv);
	srv->d = d;
	register_counters(srv);
	prefault(rx_buf, sizeof rx_buf);
	prefault(rx_cbuf, sizeof rx_cbuf);
	if ((srv->leases = dhcp_lease_open(d->store)) == NULL) {
		server_free(srv);
		return -1;
	}
	leases_serve(srv->leases);
	srv->held = holdq_new(d->loop, DHCP_MAXREPLY, sizeof(struct held), &held_ops, srv,
	    srv->fsyncs, srv->drop_journal);
	ev_add_turn_hook(d->loop, flush_all, srv);
	srv->netif = netif_ref(&d->netif, d->loop);
	if (open_port(srv, inv->grid.dhcp_port, false) < 0 ||
	    (proxy && open_port(srv, inv->grid.proxy_port, true) < 0)) {
		server_free(srv);
		return -1;
	}
	*self = srv;
	log_info("dhcp: listening on port %d%s; %lu lease record(s)", inv->grid.dhcp_port,
	    proxy ? " and the proxy port" : "", dhcp_lease_count(srv->leases));
	return 0;
}

static void
dhcp_reload(void *self, struct daemon *d, struct inventory *old)
{
	if (self && (d->inv->grid.dhcp_port != old->grid.dhcp_port ||
	    d->inv->grid.proxy_port != old->grid.proxy_port))
		log_warn("dhcp: port changes take effect at the next restart");
}

static void
dhcp_shutdown(void *self, struct daemon *d)
{
	(void)d;
	server_free(self);
}

/* Declared in server/modules.h, the table of every module. */
extern const struct module dhcp_module;
static const struct subcommand dhcp_commands[] = {
	{ "explain", DHCP_EXPLAIN_SYNOPSIS, dhcp_explain_cmd },
	{ NULL, NULL, NULL },
};

const struct module dhcp_module = {
	.name = "dhcp",
	.init = dhcp_init,
	.reload = dhcp_reload,
	.shutdown = dhcp_shutdown,
	.commands = dhcp_commands,
};
