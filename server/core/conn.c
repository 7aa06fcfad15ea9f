/* conn: TCP listeners and framed, bounded connections (see conn.h).
 *
 * A connection is a socket, a read buffer holding at most one partial
 * frame after each pass, a write queue (wbuf[woff..wlen) unsent) and one
 * timer. The timer is lazy: it is armed for the earliest deadline, a
 * deadline that moves later (idle after every frame, stall after every
 * write that made progress) leaves it alone, and when it fires it checks
 * what is really due and re-arms for the next. So a busy connection does
 * not touch the timer heap per frame.
 *
 * `busy` counts the layer's callbacks running for this connection; a close
 * inside one frees nothing until the outermost returns, which is what
 * makes conn_close safe from a frame handler. Errors found inside
 * conn_send set `doomed` and arm the timer for now, so the close happens
 * from the loop and never under a service that is still using the
 * connection. */
#include "core/conn.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Accepts per wakeup: the socket is level-triggered, so what is left is
 * taken next turn, after the other descriptors had theirs. */
#define ACCEPT_BURST 512
/* Bytes read from one connection per wakeup, for the same fairness. */
#define READ_BURST (256 * 1024)
/* A drained write queue bigger than this is given back. */
#define WBUF_KEEP (64 * 1024)

struct conn {
	struct conn *next, *prev;       /* the listener's open connections */
	struct conn_listener *l;
	int fd;
	struct sockaddr_in peer;
	char peerstr[24];
	void *user;
	size_t max_frame;
	uint8_t *rbuf;
	size_t rcap, rlen;
	uint8_t *wbuf;
	size_t wcap, woff, wlen;
	uint32_t mask;                  /* epoll events registered now */
	bool paused;                    /* reading stopped: queue over high water */
	bool closed;                    /* on_close has run */
	bool doomed;                    /* to be closed from the timer */
	enum conn_reason doom_reason;
	int busy;
	uint64_t hs_at, idle_at, stall_at;      /* deadlines, 0: none */
	uint32_t idle_ms;               /* the listener's, or conn_set_idle's */
	struct ev_timer timer;
};

struct conn_listener {
	struct evloop *loop;
	char *name;
	int fd;
	uint16_t port;
	struct conn_ops ops;
	struct conn_limits lim;
	void *arg;
	struct conn *conns;
	struct conn_stats st;
	struct ev_timer resume;         /* accepting again after EMFILE */
	struct ratelimit rl;
	uint64_t *m_accepted, *m_refused_total, *m_refused_addr, *m_accept_paused,
	    *m_read_paused, *m_open, *m_closed[CONN_NREASONS];
};

static const struct {
	const char *label;      /* for metrics */
	const char *text;       /* for on_close and the log */
} reasons[CONN_NREASONS] = {
	[CONN_PEER] = { "peer", "peer closed" },
	[CONN_ERROR] = { "error", "error" },
	[CONN_BAD_FRAME] = { "bad_frame", "bad frame" },
	[CONN_TOO_BIG] = { "too_big", "frame too large" },
	[CONN_HANDSHAKE] = { "handshake_timeout", "handshake timeout" },
	[CONN_IDLE] = { "idle_timeout", "idle timeout" },
	[CONN_STALL] = { "write_stall", "write stall" },
	[CONN_OVERFLOW] = { "overflow", "write queue overflow" },
	[CONN_SERVICE] = { "service", "closed by service" },
	[CONN_SHUTDOWN] = { "shutdown", "shutdown" },
};

const char *
conn_reason_name(enum conn_reason r)
{
	return r >= 0 && r < CONN_NREASONS ? reasons[r].text : "?";
}

static void
bump(uint64_t *stat, uint64_t *metric)
{
	(*stat)++;
	(*metric)++;
}

static void
set_open(struct conn_listener *l, int delta)
{
	l->st.open += (uint64_t)(int64_t)delta;
	*l->m_open = l->st.open;
}

static size_t
queued(const struct conn *c)
{
	return c->wlen - c->woff;
}

static void
conn_free(struct conn *c)
{
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

/* The one way a connection ends. Frees it unless a callback of its own is
 * still running; then the outermost one does (see settle). */
static void
shut(struct conn *c, enum conn_reason r, const char *why)
{
	struct conn_listener *l = c->l;

	if (c->closed)
		return;
	c->closed = true;
	bump(&l->st.closed[r], l->m_closed[r]);
	ev_del_fd(l->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	ev_timer_stop(l->loop, &c->timer);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	set_open(l, -1);
	if (r == CONN_PEER || r == CONN_SERVICE || r == CONN_SHUTDOWN)
		log_debug("%s: %s: closed: %s", l->name, c->peerstr, why);
	else
		log_limited(&l->rl, LOG_INFO, "%s: %s: closed: %s", l->name,
		    c->peerstr, why);
	c->busy++;
	l->ops.on_close(c, why);
	c->busy--;
	if (c->busy == 0)
		conn_free(c);
}

static void
fail(struct conn *c, enum conn_reason r)
{
	shut(c, r, reasons[r].text);
}

void
conn_close(struct conn *c, const char *reason)
{
	shut(c, CONN_SERVICE, reason ? reason : reasons[CONN_SERVICE].text);
}

/* Deadlines. */

static void
arm_at(struct conn *c, uint64_t at)
{
	struct evloop *loop = c->l->loop;
	uint64_t now = mono_ms();

	if (at == 0 || (ev_timer_armed(&c->timer) && c->timer.when <= at))
		return;
	ev_timer_arm(loop, &c->timer, at > now ? at - now : 0);
}

static uint64_t
after(const struct conn *c, uint32_t ms)
{
	return ms ? ev_now(c->l->loop) + ms : 0;
}

static void
doom(struct conn *c, enum conn_reason r)
{
	if (c->doomed)
		return;
	c->doomed = true;
	c->doom_reason = r;
	ev_timer_arm(c->l->loop, &c->timer, 0);
}

static void
on_timer(void *arg)
{
	struct conn *c = arg;
	uint64_t now = ev_now(c->l->loop);
	uint64_t next = 0;

	if (c->doomed)
		fail(c, c->doom_reason);
	else if (c->hs_at && now >= c->hs_at)
		fail(c, CONN_HANDSHAKE);
	else if (c->stall_at && now >= c->stall_at)
		fail(c, CONN_STALL);
	else if (c->idle_at && queued(c) == 0 && now >= c->idle_at)
		fail(c, CONN_IDLE);
	else {
		/* Idle does not run while replies wait: stall covers that. */
		uint64_t d[3] = { c->hs_at, c->stall_at, queued(c) ? 0 : c->idle_at };
		for (int i = 0; i < 3; i++)
			if (d[i] && (next == 0 || d[i] < next))
				next = d[i];
		arm_at(c, next);
	}
}

/* Epoll interest follows the state: read unless paused, write while
 * something waits. */
static void
update_mask(struct conn *c)
{
	uint32_t want = (c->paused ? 0 : EPOLLIN) | (queued(c) ? EPOLLOUT : 0);

	if (c->closed || want == c->mask)
		return;
	if (ev_mod_fd(c->l->loop, c->fd, want) < 0)
		doom(c, CONN_ERROR);
	else
		c->mask = want;
}

/* After a callback: the outermost frees a connection closed inside it. */
static void
settle(struct conn *c)
{
	if (c->closed) {
		if (c->busy == 0)
			conn_free(c);
		return;
	}
	update_mask(c);
}

/* Writing. */

static void
drained(struct conn *c)
{
	c->woff = c->wlen = 0;
	c->stall_at = 0;
	c->idle_at = after(c, c->idle_ms);
	arm_at(c, c->idle_at);
	if (c->wcap > WBUF_KEEP) {
		free(c->wbuf);
		c->wbuf = NULL;
		c->wcap = 0;
	}
}

/* Sends from p; returns the bytes the socket took, or -1 on an error. */
static ssize_t
put(struct conn *c, const uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(c->fd, p + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		done += (size_t)n;
	}
	if (done > 0 && c->stall_at)
		c->stall_at = after(c, c->l->lim.stall_ms);   /* progress */
	return (ssize_t)done;
}

static void
append(struct conn *c, const void *data, size_t len)
{
	if (c->wcap - c->wlen < len && c->woff > 0) {
		memmove(c->wbuf, c->wbuf + c->woff, queued(c));
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if (c->wcap - c->wlen < len) {
		size_t cap = MAX(MAX(c->wcap * 2, c->wlen + len), (size_t)4096);
		c->wbuf = erealloc(c->wbuf, cap);
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, data, len);
	c->wlen += len;
}

int
conn_send(struct conn *c, const void *data, size_t len)
{
	const struct conn_limits *lim = &c->l->lim;
	size_t q = queued(c);
	ssize_t n = 0;

	if (c->closed || c->doomed)
		return -1;
	if (len > lim->queue_max - MIN(q, lim->queue_max)) {
		doom(c, CONN_OVERFLOW);
		return -1;
	}
	if (q == 0) {
		/* Nothing ahead of it: try the socket before copying. */
		n = put(c, data, len);
		if (n < 0) {
			doom(c, CONN_ERROR);
			return -1;
		}
		if ((size_t)n == len)
			return 0;
		c->stall_at = after(c, lim->stall_ms);
		arm_at(c, c->stall_at);
	}
	append(c, (const uint8_t *)data + n, len - (size_t)n);
	q = queued(c);
	c->l->st.queued_peak = MAX(c->l->st.queued_peak, (uint64_t)q);
	if (q > lim->high_water && !c->paused) {
		c->paused = true;
		bump(&c->l->st.read_paused, c->l->m_read_paused);
	}
	if (c->busy == 0)
		update_mask(c);
	return 0;
}

/* Reading. */

static void deliver(struct conn *c);

static void
on_writable(struct conn *c)
{
	ssize_t n = put(c, c->wbuf + c->woff, queued(c));

	if (n < 0) {
		fail(c, CONN_ERROR);
		return;
	}
	c->woff += (size_t)n;
	if (queued(c) == 0)
		drained(c);
	if (c->paused && queued(c) <= c->l->lim.low_water) {
		c->paused = false;
		deliver(c);     /* frames that waited in the buffer */
	}
}

static bool
too_big(struct conn *c, uint64_t n)
{
	log_limited(&c->l->rl, LOG_INFO, "%s: %s: frame of %llu bytes, max %zu",
	    c->l->name, c->peerstr, (unsigned long long)n, c->max_frame);
	fail(c, CONN_TOO_BIG);
	return false;
}

/* Hands every complete buffered frame to the service, then keeps only
 * the partial one. Stops early when the connection pauses or closes. */
static void
deliver(struct conn *c)
{
	size_t off = 0;

	while (!c->closed && !c->doomed && !c->paused && off < c->rlen) {
		const uint8_t *p = c->rbuf + off;
		size_t avail = c->rlen - off;
		int64_t n = c->l->ops.frame(c, p, avail);

		if (n < 0) {
			fail(c, CONN_BAD_FRAME);
			return;
		}
		if ((uint64_t)n > c->max_frame || (n == 0 && avail >= c->max_frame)) {
			too_big(c, n ? (uint64_t)n : avail);
			return;
		}
		if (n == 0 || (size_t)n > avail)
			break;
		off += (size_t)n;
		c->idle_at = after(c, c->idle_ms);
		c->l->ops.on_frame(c, p, (size_t)n);
	}
	if (c->closed || off == 0)
		return;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	if (c->rlen == 0 && c->rcap > CONN_RBUF_MIN) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
}

/* Room for at least one more byte. The buffer doubles as bytes arrive,
 * never past max(max_frame, CONN_RBUF_MIN): a header announcing a big
 * frame costs nothing until the bytes come. deliver has already refused
 * anything that would not fit. */
static bool
make_room(struct conn *c)
{
	size_t limit = MAX(c->max_frame, (size_t)CONN_RBUF_MIN);
	size_t cap;

	if (c->rlen < c->rcap)
		return true;
	cap = MIN(c->rcap ? c->rcap * 2 : (size_t)CONN_RBUF_MIN, limit);
	if (cap <= c->rlen)
		return too_big(c, c->rlen);
	c->rbuf = erealloc(c->rbuf, cap);
	c->rcap = cap;
	c->l->st.rbuf_peak = MAX(c->l->st.rbuf_peak, (uint64_t)cap);
	return true;
}

static void
on_readable(struct conn *c)
{
	size_t got = 0;

	while (!c->closed && !c->doomed && !c->paused && got < READ_BURST) {
		if (!make_room(c))
			return;
		size_t room = c->rcap - c->rlen;
		ssize_t n = read(c->fd, c->rbuf + c->rlen, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fail(c, CONN_ERROR);
			return;
		}
		if (n == 0) {
			fail(c, CONN_PEER);
			return;
		}
		c->rlen += (size_t)n;
		got += (size_t)n;
		deliver(c);
		if ((size_t)n < room)
			return;         /* drained: no need to hear EAGAIN */
	}
}

static void
on_io(int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	c->busy++;
	if (events & EPOLLERR)
		fail(c, CONN_ERROR);
	if (!c->closed && (events & EPOLLOUT))
		on_writable(c);
	if (!c->closed && (events & (EPOLLIN | EPOLLHUP))) {
		if (!c->paused)
			on_readable(c);
		else if (events & EPOLLHUP)
			fail(c, CONN_PEER);
	}
	c->busy--;
	settle(c);
}

/* Accepting. */

static unsigned
count_addr(const struct conn_listener *l, in_addr_t a)
{
	unsigned n = 0;

	/* Linear: bounded by max_conns, and cheap beside the accept. */
	for (const struct conn *c = l->conns; c; c = c->next)
		n += c->peer.sin_addr.s_addr == a;
	return n;
}

static bool
over_cap(struct conn_listener *l, const struct sockaddr_in *peer)
{
	const struct conn_limits *lim = &l->lim;
	char ip[16];

	if (lim->max_conns && l->st.open >= lim->max_conns) {
		bump(&l->st.refused_total, l->m_refused_total);
	} else if (lim->max_per_addr &&
	    count_addr(l, peer->sin_addr.s_addr) >= lim->max_per_addr) {
		bump(&l->st.refused_addr, l->m_refused_addr);
	} else
		return false;
	ip_format(ntohl(peer->sin_addr.s_addr), ip);
	log_limited(&l->rl, LOG_INFO, "%s: %s: refused: too many connections",
	    l->name, ip);
	return true;
}

static void
admit(struct conn_listener *l, int fd, const struct sockaddr_in *peer)
{
	struct conn *c;
	char ip[16];
	int one = 1;

	if (over_cap(l, peer)) {
		close(fd);
		return;
	}
	/* Request and reply protocols: no waiting for an ACK to coalesce. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c = ecalloc(1, sizeof *c);
	c->l = l;
	c->fd = fd;
	c->peer = *peer;
	ip_format(ntohl(peer->sin_addr.s_addr), ip);
	snprintf(c->peerstr, sizeof c->peerstr, "%s:%u", ip, ntohs(peer->sin_port));
	c->max_frame = l->lim.max_frame;
	c->mask = EPOLLIN;
	if (ev_add_fd(l->loop, fd, c->mask, on_io, c) < 0) {
		log_limited(&l->rl, LOG_WARNING, "%s: epoll: %s", l->name, strerror(errno));
		close(fd);
		free(c);
		return;
	}
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	set_open(l, 1);
	bump(&l->st.accepted, l->m_accepted);
	ev_timer_init(&c->timer, on_timer, c);
	c->hs_at = after(c, l->lim.handshake_ms);
	c->idle_ms = l->lim.idle_ms;
	c->idle_at = after(c, c->idle_ms);
	arm_at(c, c->hs_at);
	arm_at(c, c->idle_at);
	if (l->ops.on_open) {
		c->busy++;
		l->ops.on_open(c);
		c->busy--;
	}
	settle(c);
}

static void
on_resume(void *arg)
{
	struct conn_listener *l = arg;

	if (ev_mod_fd(l->loop, l->fd, EPOLLIN) < 0)
		ev_timer_arm(l->loop, &l->resume, CONN_ACCEPT_PAUSE_MS);
}

/* Out of descriptors (or an error we do not know): the pending connection
 * stays pending and would wake us at once, so stop listening for a while
 * rather than spin. */
static void
pause_accept(struct conn_listener *l, int err)
{
	log_limited(&l->rl, LOG_WARNING, "%s: accept: %s; pausing %d ms", l->name,
	    strerror(err), CONN_ACCEPT_PAUSE_MS);
	bump(&l->st.accept_paused, l->m_accept_paused);
	(void)ev_mod_fd(l->loop, l->fd, 0);
	ev_timer_arm(l->loop, &l->resume, CONN_ACCEPT_PAUSE_MS);
}

static void
on_accept(int fd, uint32_t events, void *arg)
{
	struct conn_listener *l = arg;

	(void)events;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_in peer;
		socklen_t len = sizeof peer;
		int cfd = accept4(fd, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				pause_accept(l, errno);
			return;
		}
		admit(l, cfd, &peer);
	}
}

static void
register_metrics(struct conn_listener *l)
{
	char lab[160];

	snprintf(lab, sizeof lab, "listener=\"%s\"", l->name);
	const struct metric_def defs[] = {
		{ &l->m_accepted, "gridboot_conn_accepted_total", lab,
		  "TCP connections accepted and handed to a service" },
		{ &l->m_accept_paused, "gridboot_conn_accept_paused_total", lab,
		  "Times accepting paused for lack of descriptors or memory" },
		{ &l->m_read_paused, "gridboot_conn_read_paused_total", lab,
		  "Times a connection stopped being read because its replies were not" },
		{ &l->m_open, "gridboot_conn_open", lab, "TCP connections open", true },
	};
	metrics_register(defs, nelem(defs));
	l->m_refused_total = metric_counterf("gridboot_conn_refused_total",
	    "TCP connections closed at once for a connection cap",
	    "listener=\"%s\",cap=\"total\"", l->name);
	l->m_refused_addr = metric_counterf("gridboot_conn_refused_total", NULL,
	    "listener=\"%s\",cap=\"address\"", l->name);
	for (int r = 0; r < CONN_NREASONS; r++)
		l->m_closed[r] = metric_counterf("gridboot_conn_closed_total",
		    "TCP connections closed, by reason", "listener=\"%s\",reason=\"%s\"",
		    l->name, reasons[r].label);
}

static int
bind_listen(uint32_t addr, uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(addr) };
	socklen_t salen = sizeof sa;
	int one = 1, err;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

struct conn_listener *
conn_listen(struct evloop *loop, const char *name, uint32_t addr, uint16_t port,
    const struct conn_ops *ops, const struct conn_limits *lim, void *arg)
{
	struct conn_listener *l;
	uint16_t bound = 0;
	int fd, err;

	if (ops->frame == NULL || ops->on_frame == NULL || ops->on_close == NULL ||
	    lim->max_frame == 0 || lim->high_water == 0 ||
	    lim->low_water > lim->high_water) {
		errno = EINVAL;
		return NULL;
	}
	if ((fd = bind_listen(addr, port, &bound)) < 0)
		return NULL;
	l = ecalloc(1, sizeof *l);
	l->loop = loop;
	l->name = estrdup(name);
	l->fd = fd;
	l->port = bound;
	l->ops = *ops;
	l->lim = *lim;
	if (l->lim.queue_max == 0)
		l->lim.queue_max = 4 * l->lim.high_water;
	l->arg = arg;
	ev_timer_init(&l->resume, on_resume, l);
	if (ev_add_fd(loop, fd, EPOLLIN, on_accept, l) < 0) {
		err = errno;
		close(fd);
		free(l->name);
		free(l);
		errno = err;
		return NULL;
	}
	register_metrics(l);
	return l;
}

void
conn_listener_close(struct conn_listener *l)
{
	if (l == NULL)
		return;
	while (l->conns)
		shut(l->conns, CONN_SHUTDOWN, reasons[CONN_SHUTDOWN].text);
	ev_timer_stop(l->loop, &l->resume);
	ev_del_fd(l->loop, l->fd);
	close(l->fd);
	free(l->name);
	free(l);
}

/* Accessors. */

uint16_t
conn_listener_port(const struct conn_listener *l)
{
	return l->port;
}

void *
conn_listener_arg(const struct conn_listener *l)
{
	return l->arg;
}

const struct conn_stats *
conn_listener_stats(const struct conn_listener *l)
{
	return &l->st;
}

void
conn_established(struct conn *c)
{
	c->hs_at = 0;       /* the timer finds nothing due and re-arms */
}

void
conn_set_idle(struct conn *c, uint32_t ms)
{
	c->idle_ms = ms;
	c->idle_at = after(c, ms);
	if (!c->closed)
		arm_at(c, c->idle_at);
}

void
conn_set_max_frame(struct conn *c, size_t max)
{
	c->max_frame = max ? max : 1;
}

void
conn_set_user(struct conn *c, void *user)
{
	c->user = user;
}

void *
conn_user(const struct conn *c)
{
	return c->user;
}

struct conn_listener *
conn_listener_of(const struct conn *c)
{
	return c->l;
}

const struct sockaddr_in *
conn_peer(const struct conn *c)
{
	return &c->peer;
}

const char *
conn_peer_str(const struct conn *c)
{
	return c->peerstr;
}

size_t
conn_queued(const struct conn *c)
{
	return queued(c);
}

bool
conn_reading(const struct conn *c)
{
	return (c->mask & EPOLLIN) != 0;
}

uint64_t
conn_now(const struct conn *c)
{
	return ev_now(c->l->loop);
}

struct evloop *
conn_loop(const struct conn *c)
{
	return c->l->loop;
}
