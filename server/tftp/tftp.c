/* tftp: the TFTP module. One socket on grid.tftp_port takes requests (and
 * a second, IPv6-only, on [::] for IPv6 clients); each
 * accepted read gets its own transfer (tftp_xfer.c) with its own socket.
 * A request is answered from the generated files first (bootfiles.h:
 * cfg/pxe/<mac>, boot.ipxe, ...) and otherwise from the static tree under
 * grid.files (fileroot.h), never from anywhere else. Writes are refused:
 * gridboot serves boot files, it does not collect them. */
#include "boot/bootfiles.h"
#include "core/module.h"
#include "core/events.h"
#include "core/fileroot.h"
#include "boot/leases.h"
#include "boot/leases6.h"
#include "core/log.h"
#include "core/metrics.h"
#include "tftp/tftp_packet.h"
#include "tftp/tftp_xfer.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_BURST 32            /* requests read per wakeup */
#define MAX_TRANSFERS 10000
/* One address cannot take every slot by asking from many ports: a machine
 * boots a handful of files at a time, a lab behind NAT a few dozen. */
#define MAX_PER_ADDRESS 64

/* The module's state: tftp_init allocates it, every later hook gets it
 * back, tftp_shutdown frees it. */
struct tftp_server {
	struct daemon *d;
	int fd;                     /* IPv4 */
	int fd6;                    /* IPv6 (V6ONLY), -1 on a host without IPv6 */
	int port;
	struct fileroot *root;
	struct tftp_xfers *xfers;   /* every transfer in flight (tftp_xfer.c) */
	uint64_t *m_requests, *m_bad;
	struct ratelimit rl_bad, rl_refuse;
};

/* Answers a request we will not serve, from the listening socket, and puts
 * the refusal on the machine's timeline (unless path is NULL: garbage is
 * not worth a timeline entry, and a flood of it would push real ones out). */
static void
refuse(struct tftp_server *srv, const union tftp_sa *peer, const uint8_t *mac, const char *path,
    const char *outcome, int code, const char *msg)
{
	struct wr w;
	uint8_t buf[600];
	char ip[INET6_ADDRSTRLEN];

	w = wr_make(buf, sizeof buf);
	tftp_put_error(&w, code, msg);
	if (!w.err)
		(void)sendto(peer->sa.sa_family == AF_INET6 ? srv->fd6 : srv->fd, buf, wr_len(&w), 0,
		    &peer->sa, tftp_sa_len(peer));
	tftp_xfer_count_outcome(srv->xfers, outcome);
	if (path == NULL)
		return;
	tftp_sa_format(peer, ip);
	log_limited(&srv->rl_refuse, LOG_INFO, "tftp: %s:%u %s: refused: %s", ip,
	    tftp_sa_port(peer), path, msg);
	events_emit(mac, EVK_TFTP, "%s %s refused: %s", ip, path, msg);
}

/* Finds what to send for path: a generated file or one from the tree.
 * Returns 0, or -1 with the ERROR *code, *msg and *outcome set. */
static int
resolve(const struct tftp_server *srv, const char *path, const uint8_t *mac, struct xfer_src *src,
    int *code, const char **msg, const char **outcome)
{
	struct genfile g;
	int rc;

	memset(src, 0, sizeof *src);
	switch (bootfiles_generate(srv->d->inv, path, mac, &g)) {
	case GEN_OK:
		src->mem = g.data;      /* the transfer owns it now */
		src->size = g.len;
		return 0;
	case GEN_NOT_FOUND:
	case GEN_BAD_NAME:
		*msg = "File not found";
		*outcome = "not_found";
		*code = TERR_NOTFOUND;
		return -1;
	case GEN_NOT_GENERATED:
		break;
	}
	rc = fileroot_open(srv->root, path, &src->file);
	if (rc == 0) {
		src->size = src->file->size;
		return 0;
	}
	switch (-rc) {
	case ENOENT:
	case ENAMETOOLONG:
		*msg = "File not found";
		*outcome = "not_found";
		*code = TERR_NOTFOUND;
		return -1;
	case EACCES:
		*msg = "Access violation";
		*outcome = "denied";
		*code = TERR_ACCESS;
		return -1;
	default:
		*msg = "Cannot open file";
		*outcome = "error";
		*code = TERR_UNDEF;
		return -1;
	}
}

/* The MAC of the host at peer: its DHCPv4 lease or reservation, or over
 * IPv6 its DHCPv6 one (boot/leases6.h), so generated files and the
 * timeline know a client over either family. */
static bool
peer_mac(struct tftp_server *srv, const union tftp_sa *peer, uint8_t mac[6])
{
	if (peer->sa.sa_family == AF_INET)
		return leases_mac_for_ip(srv->d->inv, ntohl(peer->in.sin_addr.s_addr), mac);
	if (peer->sa.sa_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&peer->in6.sin6_addr)) {
		uint32_t a;
		memcpy(&a, &peer->in6.sin6_addr.s6_addr[12], 4);
		return leases_mac_for_ip(srv->d->inv, ntohl(a), mac);
	}
	return leases6_mac_for_ip6(srv->d->inv, peer->in6.sin6_addr.s6_addr, mac);
}

static void
handle_request(struct tftp_server *srv, const uint8_t *pkt, size_t len, const union tftp_sa *peer,
    const union tftp_sa *local)
{
	struct tftp_req req;
	struct tftp_reject why;
	struct xfer_src src;
	uint8_t macbuf[6], *mac = NULL;
	const char *msg = NULL, *outcome = NULL;
	char ip[INET6_ADDRSTRLEN], toolarge[160];
	int code = 0;

	(*srv->m_requests)++;
	bool good = tftp_parse_request(pkt, len, &req, &why);
	/* Garbage does not cost a lookup; anything with a name does. */
	if ((good || req.path[0]) && peer_mac(srv, peer, macbuf))
		mac = macbuf;
	if (!good) {
		(*srv->m_bad)++;
		tftp_sa_format(peer, ip);
		log_limited(&srv->rl_bad, LOG_NOTICE, "tftp: bad request from %s:%u: %s", ip,
		    tftp_sa_port(peer), why.msg);
		if (why.code >= 0)
			refuse(srv, peer, mac, req.path[0] ? req.path : NULL, "bad_request",
			    why.code, why.msg);
		return;
	}
	if (req.op == TFTP_WRQ) {
		refuse(srv, peer, mac, req.path, "write_refused", TERR_ACCESS,
		    "Write requests are not accepted");
		return;
	}
	tftp_xfer_superseded_by(srv->xfers, peer);
	if (tftp_xfer_pending_for(srv->xfers, peer)) {
		/* The client repeated its RRQ before our first reply reached
		 * it; the transfer's timer resends, a second one would only
		 * fight it for the client's attention. */
		log_debug("tftp: repeated request for %s ignored", req.path);
		return;
	}
	if (tftp_xfer_count_for_addr(srv->xfers, peer) >= MAX_PER_ADDRESS) {
		refuse(srv, peer, mac, req.path, "busy", TERR_UNDEF,
		    "Too many transfers from this address");
		return;
	}
	const char *path = req.path;
	while (*path == '/')
		path++;
	memmove(req.path, path, strlen(path) + 1);
	if (resolve(srv, req.path, mac, &src, &code, &msg, &outcome) < 0) {
		refuse(srv, peer, mac, req.path, outcome, code, msg);
		return;
	}
	switch (tftp_xfer_start(srv->xfers, local, peer, &req, &src, mac, &why, toolarge, sizeof toolarge)) {
	case XFER_STARTED:
		return;
	case XFER_TOO_LARGE:
		outcome = "too_large";
		break;
	default:
		outcome = "busy";
		break;
	}
	refuse(srv, peer, mac, req.path, outcome, why.code, why.msg);
	fileroot_release(src.file);
	free(src.mem);
}

static void
on_listen(int fd, uint32_t events, void *arg)
{
	struct tftp_server *srv = arg;
	uint8_t pkt[TFTP_MAX_PATH + 1024];
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;

	(void)events;
	for (int i = 0; i < REQ_BURST; i++) {
		union tftp_sa peer, local;
		struct iovec iov = { pkt, sizeof pkt };
		struct msghdr mh = {
			.msg_name = &peer, .msg_namelen = sizeof peer,
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf,
		};
		ssize_t n = recvmsg(fd, &mh, 0);
		if (n < 0)
			return;
		if ((peer.sa.sa_family != AF_INET && peer.sa.sa_family != AF_INET6) ||
		    mh.msg_namelen != tftp_sa_len(&peer) || tftp_sa_port(&peer) == 0 ||
		    (mh.msg_flags & MSG_TRUNC)) {
			(*srv->m_bad)++;
			continue;
		}
		memset(&local, 0, sizeof local);
		local.sa.sa_family = peer.sa.sa_family;
		/* Reply from the address the client wrote to, so that a
		 * multi-homed server answers with the TID the client expects
		 * (ipi_spec_dst: the interface's own address even if the
		 * request was broadcast; IPv6: the destination, with its
		 * interface when it is link-local). */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof pi);
				local.in.sin_addr = pi.ipi_spec_dst;
			} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof pi);
				if (IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr))
					continue;   /* the kernel picks a source */
				local.in6.sin6_addr = pi.ipi6_addr;
				if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
					local.in6.sin6_scope_id = pi.ipi6_ifindex;
			}
		handle_request(srv, pkt, (size_t)n, &peer, &local);
	}
}

static int
open_listener(struct tftp_server *srv, int port, int family)
{
	union tftp_sa a;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, rcvbuf = 1 << 20;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sa.sa_family = (sa_family_t)family;
	if (family == AF_INET6) {
		a.in6.sin6_port = htons((uint16_t)port);
		a.in6.sin6_addr = in6addr_any;
		/* IPv4 stays on its own socket, exactly as before. */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
	} else {
		a.in.sin_port = htons((uint16_t)port);
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (bind(fd, &a.sa, tftp_sa_len(&a)) < 0 ||
	    ev_add_fd(srv->d->loop, fd, EPOLLIN, on_listen, srv) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
close_listener(struct tftp_server *srv, int fd)
{
	if (fd >= 0) {
		ev_del_fd(srv->d->loop, fd);
		close(fd);
	}
}

/* The IPv6 listener is a bonus: a host without IPv6 serves IPv4 alone. */
static int
open_listener6(struct tftp_server *srv, int port)
{
	int fd = open_listener(srv, port, AF_INET6);

	if (fd < 0)
		log_warn("tftp: no IPv6 listener on udp port %d: %s; IPv4 only", port, strerror(errno));
	return fd;
}

/* Each transfer holds a socket: let the daemon use every descriptor it
 * may, and keep FD_RESERVE back for HTTP and the rest (core/module.h). */
static unsigned
transfer_budget(void)
{
	struct rlimit rl;
	unsigned n;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 256;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : MIN(rl.rlim_max, 65536);
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur <= FD_RESERVE + 64)
		n = 64;
	else
		n = (unsigned)MIN(rl.rlim_cur - FD_RESERVE, (rlim_t)MAX_TRANSFERS);
	log_info("tftp: up to %u transfers (descriptor limit %llu, %d kept for HTTP and the rest)",
	    n, (unsigned long long)rl.rlim_cur, FD_RESERVE);
	return n;
}

/* Closes what srv holds and frees it: tftp_shutdown, or a failed init. */
static void
server_free(struct tftp_server *srv)
{
	tftp_xfer_free(srv->xfers);
	close_listener(srv, srv->fd);
	close_listener(srv, srv->fd6);
	fileroot_free(srv->root);
	free(srv);
}

static int
tftp_init(struct daemon *d, void **self)
{
	struct tftp_server *srv = ecalloc(1, sizeof *srv);

	*self = NULL;
	srv->d = d;
	const struct metric_def defs[] = {
		{ &srv->m_requests, "gridboot_tftp_requests_total", NULL,
		  "TFTP requests received on the server port" },
		{ &srv->m_bad, "gridboot_tftp_bad_requests_total", NULL, "Malformed TFTP requests" },
	};
	metrics_register(defs, nelem(defs));
	srv->xfers = tftp_xfer_new(d->loop, transfer_budget());
	srv->port = d->inv->grid.tftp_port;
	srv->fd6 = -1;
	srv->fd = open_listener(srv, srv->port, AF_INET);
	if (srv->fd < 0) {
		log_err("tftp: udp port %d: %s", srv->port, strerror(errno));
		server_free(srv);
		return -1;
	}
	srv->fd6 = open_listener6(srv, srv->port);
	srv->root = fileroot_new(d->inv->grid.files, d->loop);
	*self = srv;
	log_info("tftp: serving %s on udp port %d (%s)", d->inv->grid.files, srv->port,
	    srv->fd6 >= 0 ? "IPv4 and IPv6" : "IPv4");
	return 0;
}

static void
tftp_reload(void *self, struct daemon *d, struct inventory *old)
{
	struct tftp_server *srv = self;

	(void)old;
	if (strcmp(fileroot_dir(srv->root), d->inv->grid.files) != 0) {
		/* Running transfers keep their files; new ones use the new tree. */
		fileroot_free(srv->root);
		srv->root = fileroot_new(d->inv->grid.files, d->loop);
		log_info("tftp: now serving %s", d->inv->grid.files);
	}
	if (d->inv->grid.tftp_port != srv->port) {
		int fd = open_listener(srv, d->inv->grid.tftp_port, AF_INET);
		if (fd < 0) {
			log_err("tftp: udp port %d: %s; still on port %d",
			    d->inv->grid.tftp_port, strerror(errno), srv->port);
			return;
		}
		close_listener(srv, srv->fd);
		close_listener(srv, srv->fd6);
		srv->fd = fd;
		srv->fd6 = open_listener6(srv, d->inv->grid.tftp_port);
		srv->port = d->inv->grid.tftp_port;
		log_info("tftp: now on udp port %d", srv->port);
	}
}

static void
tftp_shutdown(void *self, struct daemon *d)
{
	(void)d;
	server_free(self);
}

/* Declared in server/modules.h, the table of every module. */
extern const struct module tftp_module;
const struct module tftp_module = {
	.name = "tftp",
	.init = tftp_init,
	.reload = tftp_reload,
	.shutdown = tftp_shutdown,
};
