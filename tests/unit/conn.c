/* The TCP connection layer on real sockets over loopback, in one process:
 * clients are plain non-blocking sockets, the server side is driven with
 * ev_run_once in loops bounded in turns and in time. The service is an
 * echo of frames with a 4-byte little-endian size prefix (the size counts
 * the prefix, as in 9P); a few payloads ask it for something else. */
#include "core/conn.h"
#include "core/evloop.h"
#include "core/util.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOOPBACK 0x7f000001u
#define AMP (32 * 1024)         /* reply size of an "amp" request */

static struct evloop *loop;

/* What the service saw. */
static struct {
	int opens, closes, double_closes, frames;
	int send_after_close;   /* conn_send's answer after conn_close */
	char reason[64];        /* the last on_close reason */
	char copied[16];        /* read from the frame after closing it */
	struct conn *last;      /* the newest connection */
} S;

struct sess {
	bool closed;
};

static void
reset_seen(void)
{
	memset(&S, 0, sizeof S);
}

static int64_t
frame_le32(struct conn *c, const uint8_t *p, size_t len)
{
	(void)c;
	if (len < 4)
		return CONN_FRAME_MORE;
	uint32_t n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	return n < 4 ? CONN_FRAME_BAD : (int64_t)n;
}

static void
on_open(struct conn *c)
{
	S.opens++;
	S.last = c;
	conn_set_user(c, ecalloc(1, sizeof(struct sess)));
}

static bool
payload_is(const uint8_t *p, size_t len, const char *word)
{
	return len - 4 == strlen(word) && memcmp(p + 4, word, len - 4) == 0;
}

static void
on_frame(struct conn *c, const uint8_t *p, size_t len)
{
	S.frames++;
	if (payload_is(p, len, "close")) {
		conn_close(c, "asked to");
		S.send_after_close = conn_send(c, "x", 1);
		/* The frame stays readable until the handler returns. */
		memcpy(S.copied, p + 4, 5);
		return;
	}
	if (payload_is(p, len, "est")) {
		conn_established(c);
		conn_send(c, p, len);
		return;
	}
	if (payload_is(p, len, "amp")) {
		static uint8_t big[AMP];
		conn_send(c, big, sizeof big);
		return;
	}
	conn_send(c, p, len);
}

static void
on_close(struct conn *c, const char *reason)
{
	struct sess *s = conn_user(c);

	S.closes++;
	str_copy(S.reason, reason, sizeof S.reason);
	if (s->closed)
		S.double_closes++;
	s->closed = true;
	free(s);
	conn_set_user(c, NULL);
	if (S.last == c)
		S.last = NULL;
}

static const struct conn_ops echo_ops = { on_open, frame_le32, on_frame, on_close };

static struct conn_limits
limits(void)
{
	struct conn_limits lim = {
		.max_frame = 64 * 1024,
		.high_water = 256 * 1024,
		.low_water = 64 * 1024,
	};
	return lim;
}

static struct conn_listener *
listen_on(const char *name, const struct conn_limits *lim)
{
	struct conn_listener *l = conn_listen(loop, name, LOOPBACK, 0, &echo_ops, lim, NULL);
	if (l == NULL) {
		perror("conn_listen");
		exit(1);
	}
	return l;
}

/* Client side. */

static int
dial_from(uint16_t port, uint32_t src)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (src) {
		struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(src) };
		if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
			close(fd);
			return -1;
		}
	}
	/* Blocking connect: the kernel completes it from the backlog. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static int
dial(uint16_t port)
{
	return dial_from(port, 0);
}

static size_t
mkframe(uint8_t *out, const char *payload)
{
	size_t n = 4 + strlen(payload);
	out[0] = (uint8_t)n;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)(n >> 16);
	out[3] = (uint8_t)(n >> 24);
	memcpy(out + 4, payload, n - 4);
	return n;
}

static bool
send_all(int fd, const void *p, size_t n)
{
	return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/* Runs the loop for up to ms, or until done(arg) says so. */
static bool
pump(int ms, bool (*done)(void *), void *arg)
{
	uint64_t end = mono_ms() + (uint64_t)ms;

	for (int turns = 0; turns < 100000 && mono_ms() < end; turns++) {
		if (done && done(arg))
			return true;
		ev_run_once(loop, 5);
	}
	return done && done(arg);
}

struct reader {
	int fd;
	uint8_t *buf;
	size_t want, got;
	bool eof;
};

static bool
read_some(void *arg)
{
	struct reader *r = arg;
	uint8_t sink[4096];

	while (r->got < r->want || r->buf == NULL) {
		uint8_t *dst = r->buf ? r->buf + r->got : sink;
		size_t room = r->buf ? r->want - r->got : sizeof sink;
		ssize_t n = recv(r->fd, dst, room, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			r->eof = true;
			return true;
		}
		if (n < 0)
			return false;
		r->got += (size_t)n;
		if (r->buf == NULL && r->got >= r->want)
			return true;
	}
	return true;
}

/* Reads exactly want bytes into buf while the server runs. */
static bool
expect(int fd, void *buf, size_t want)
{
	struct reader r = { fd, buf, want, 0, false };
	return pump(2000, read_some, &r) && r.got == want;
}

/* Waits for the server to close fd (EOF or reset), discarding data. */
static bool
closed_by_server(int fd, int ms)
{
	struct reader r = { fd, NULL, SIZE_MAX, 0, false };
	pump(ms, read_some, &r);
	return r.eof;
}

static bool
closes_at_least(void *arg)
{
	return S.closes >= *(int *)arg;
}

static bool
wait_closes(int n, int ms)
{
	return pump(ms, closes_at_least, &n);
}

static bool
frames_at_least(void *arg)
{
	return S.frames >= *(int *)arg;
}

/* The tests. */

static void
test_echo(void)
{
	struct conn_limits lim = limits();
	struct conn_listener *l = listen_on("echo", &lim);
	uint8_t f[64], got[64];
	size_t n;
	int fd;

	reset_seen();
	CHECK(conn_listener_port(l) != 0, "port 0 binds and reports a port");
	fd = dial(conn_listener_port(l));
	n = mkframe(f, "hello");
	CHECK(fd >= 0 && send_all(fd, f, n), "client connects and sends");
	CHECK(expect(fd, got, n) && memcmp(got, f, n) == 0, "a frame comes back whole");
	CHECK(S.opens == 1 && S.frames == 1, "one open, one frame");
	CHECK(S.last && strcmp(conn_peer_str(S.last), "") != 0 &&
	    conn_peer(S.last)->sin_addr.s_addr == htonl(LOOPBACK), "peer address known");
	CHECK(S.last && conn_now(S.last) == ev_now(loop) && conn_loop(S.last) == loop,
	    "loop time through the connection");

	/* One byte at a time, the loop running between bytes. */
	n = mkframe(f, "split into bytes");
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		ok = ok && send_all(fd, f + i, 1);
		pump(2, NULL, NULL);
	}
	CHECK(ok && expect(fd, got, n) && memcmp(got, f, n) == 0 && S.frames == 2,
	    "a frame sent a byte at a time is assembled");

	/* Three frames in one write. */
	uint8_t three[64];
	size_t m = 0;
	m += mkframe(three + m, "one");
	m += mkframe(three + m, "two");
	m += mkframe(three + m, "three");
	CHECK(send_all(fd, three, m) && expect(fd, got, m) && memcmp(got, three, m) == 0 &&
	    S.frames == 5, "several frames in one write all delivered, in order");

	/* A frame of exactly the max passes. */
	size_t max = lim.max_frame;
	uint8_t *big = ecalloc(1, max), *back = emalloc(max);
	big[0] = (uint8_t)max;
	big[1] = (uint8_t)(max >> 8);
	big[2] = (uint8_t)(max >> 16);
	CHECK(send_all(fd, big, max) && expect(fd, back, max) &&
	    memcmp(big, back, max) == 0, "a frame of exactly max_frame is served");
	free(big);
	free(back);

	close(fd);
	CHECK(wait_closes(1, 1000) && strcmp(S.reason, "peer closed") == 0 &&
	    conn_listener_stats(l)->closed[CONN_PEER] == 1, "client close seen as peer closed");
	CHECK(conn_listener_stats(l)->accepted == 1 && conn_listener_stats(l)->open == 0,
	    "accepted and open counters");
	conn_listener_close(l);
}

static void
test_bad_frames(void)
{
	struct conn_limits lim = limits();
	struct conn_listener *l = listen_on("bad", &lim);
	const struct conn_stats *st = conn_listener_stats(l);
	uint8_t hdr[4] = { 0, 0, 0, 0x40 };     /* 1 GiB announced */
	int fd;

	reset_seen();
	fd = dial(conn_listener_port(l));
	CHECK(send_all(fd, hdr, sizeof hdr), "huge size sent");
	CHECK(closed_by_server(fd, 1000), "frame over the max: connection closed");
	CHECK(st->closed[CONN_TOO_BIG] == 1 && strcmp(S.reason, "frame too large") == 0,
	    "counted as too large, on_close told so");
	CHECK(st->rbuf_peak <= CONN_RBUF_MIN, "no buffer beyond the first (%llu bytes)",
	    (unsigned long long)st->rbuf_peak);
	close(fd);

	/* max+1 after conn_set_max_frame lowered it. */
	fd = dial(conn_listener_port(l));
	pump(50, NULL, NULL);
	CHECK(S.last != NULL, "second connection open");
	if (S.last)
		conn_set_max_frame(S.last, 100);
	uint8_t f[101] = { 101 };
	CHECK(send_all(fd, f, sizeof f) && closed_by_server(fd, 1000) &&
	    st->closed[CONN_TOO_BIG] == 2, "lowered max frame enforced (max + 1 refused)");
	close(fd);

	uint8_t bad[4] = { 2, 0, 0, 0 };        /* shorter than its own prefix */
	fd = dial(conn_listener_port(l));
	CHECK(send_all(fd, bad, sizeof bad) && closed_by_server(fd, 1000) &&
	    st->closed[CONN_BAD_FRAME] == 1 && strcmp(S.reason, "bad frame") == 0,
	    "a bad frame closes, counted as bad frame");
	close(fd);
	CHECK(S.opens == 3 && S.closes == 3 && S.double_closes == 0, "on_close once each");
	conn_listener_close(l);
}

static void
test_close_in_handler(void)
{
	struct conn_limits lim = limits();
	struct conn_listener *l = listen_on("selfclose", &lim);
	uint8_t two[64];
	size_t m = 0;
	int fd;

	reset_seen();
	fd = dial(conn_listener_port(l));
	m += mkframe(two + m, "close");
	m += mkframe(two + m, "after");
	CHECK(send_all(fd, two, m) && closed_by_server(fd, 1000), "closed from its handler");
	CHECK(S.frames == 1, "no frame delivered after the close");
	CHECK(S.closes == 1 && S.double_closes == 0 && strcmp(S.reason, "asked to") == 0,
	    "on_close once, with the service's reason");
	CHECK(S.send_after_close == -1, "conn_send after conn_close refused");
	CHECK(memcmp(S.copied, "close", 5) == 0, "frame readable after closing in the handler");
	CHECK(conn_listener_stats(l)->closed[CONN_SERVICE] == 1, "counted as closed by service");
	close(fd);

	/* Closed from outside any callback, and by the listener. */
	fd = dial(conn_listener_port(l));
	pump(50, NULL, NULL);
	if (S.last)
		conn_close(S.last, "from outside");
	CHECK(S.closes == 2 && closed_by_server(fd, 1000), "closed from outside a callback");
	close(fd);
	fd = dial(conn_listener_port(l));
	pump(50, NULL, NULL);
	conn_listener_close(l);
	CHECK(S.opens == 3 && S.closes == 3 && strcmp(S.reason, "shutdown") == 0,
	    "listener close closes its connections");
	CHECK(closed_by_server(fd, 500), "client sees the shutdown");
	close(fd);
}

static bool
paused_conn(void *arg)
{
	(void)arg;
	return S.last && !conn_reading(S.last);
}

static void
test_backpressure(void)
{
	struct conn_limits lim = limits();
	lim.stall_ms = 300;
	struct conn_listener *l = listen_on("slow", &lim);
	const struct conn_stats *st = conn_listener_stats(l);
	int small = 4096;
	uint8_t reqs[8 * 4000];
	size_t m = 0;
	int fd;

	reset_seen();
	/* 4000 requests of 8 bytes asking for 128 MiB of replies. */
	for (int i = 0; i < 4000; i++)
		m += mkframe(reqs + m, "amp");
	fd = dial(conn_listener_port(l));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	CHECK(send_all(fd, reqs, m), "4000 requests sent, no reply read");
	CHECK(pump(3000, paused_conn, NULL), "server stops reading the connection");
	CHECK(st->read_paused >= 1, "read_paused counted");
	int frames = S.frames;
	pump(100, NULL, NULL);
	CHECK(S.frames == frames && S.frames < 4000,
	    "no frames handled while paused (%d of 4000)", S.frames);
	CHECK(S.last && conn_queued(S.last) <= lim.high_water + AMP,
	    "queue bounded by high water plus one reply (%zu)",
	    S.last ? conn_queued(S.last) : 0);
	CHECK(st->queued_peak <= lim.high_water + AMP && st->rbuf_peak <= CONN_RBUF_MIN,
	    "peak queue %llu, read buffer %llu", (unsigned long long)st->queued_peak,
	    (unsigned long long)st->rbuf_peak);
	uint64_t t0 = mono_ms();
	CHECK(wait_closes(1, 2000) && st->closed[CONN_STALL] == 1 &&
	    strcmp(S.reason, "write stall") == 0, "write stall closes it");
	CHECK(mono_ms() - t0 < 1000, "within the stall deadline");
	close(fd);

	/* A client that reads late gets everything: reading resumes. */
	reset_seen();
	fd = dial(conn_listener_port(l));
	m = 0;
	for (int i = 0; i < 400; i++)
		m += mkframe(reqs + m, "amp");
	CHECK(send_all(fd, reqs, m), "400 requests sent");
	pump(100, NULL, NULL);      /* let it pause */
	uint64_t paused = st->read_paused;
	struct reader r = { fd, NULL, (size_t)400 * AMP, 0, false };
	pump(5000, read_some, &r);
	CHECK(r.got == (size_t)400 * AMP && !r.eof, "all %zu reply bytes arrive (%zu)",
	    r.want, r.got);
	CHECK(paused >= 2 && S.frames == 400 && S.last && conn_reading(S.last),
	    "paused, then resumed and served every frame");
	close(fd);
	wait_closes(1, 1000);
	conn_listener_close(l);
}

static void
test_timeouts(void)
{
	struct conn_limits lim = limits();
	lim.handshake_ms = 60;
	struct conn_listener *hs = listen_on("handshake", &lim);
	lim.handshake_ms = 0;
	lim.idle_ms = 60;
	struct conn_listener *idle = listen_on("idle", &lim);
	uint8_t f[64], got[64];
	size_t n;

	reset_seen();
	int a = dial(conn_listener_port(hs));
	int b = dial(conn_listener_port(hs));
	uint64_t t0 = mono_ms();
	n = mkframe(f, "est");
	CHECK(send_all(b, f, n) && expect(b, got, n), "one client completes the handshake");
	CHECK(closed_by_server(a, 1000) && strcmp(S.reason, "handshake timeout") == 0 &&
	    conn_listener_stats(hs)->closed[CONN_HANDSHAKE] == 1,
	    "handshake timeout closes the other");
	CHECK(mono_ms() - t0 >= 55, "not before its time (%llu ms)",
	    (unsigned long long)(mono_ms() - t0));
	pump(150, NULL, NULL);
	CHECK(conn_listener_stats(hs)->open == 1, "the established one stays open");
	close(a);
	close(b);

	int c = dial(conn_listener_port(idle));
	bool ok = true;
	/* Frames every 20 ms keep it alive for 200 ms. */
	for (int i = 0; i < 10; i++) {
		pump(20, NULL, NULL);
		n = mkframe(f, "ping");
		ok = ok && send_all(c, f, n) && expect(c, got, n);
	}
	t0 = mono_ms();     /* the last frame was just handled */
	CHECK(ok && conn_listener_stats(idle)->closed[CONN_IDLE] == 0,
	    "an active connection outlives the idle timeout");
	CHECK(closed_by_server(c, 1000) && conn_listener_stats(idle)->closed[CONN_IDLE] == 1,
	    "idle connection closed");
	CHECK(mono_ms() - t0 >= 55 && mono_ms() - t0 < 500, "after about idle_ms (%llu)",
	    (unsigned long long)(mono_ms() - t0));
	close(c);
	conn_listener_close(hs);
	conn_listener_close(idle);
	CHECK(S.opens == 3 && S.closes == 3 && S.double_closes == 0, "on_close once each");
}

static void
test_caps(void)
{
	struct conn_limits lim = limits();
	lim.max_conns = 3;
	lim.max_per_addr = 2;
	struct conn_listener *l = listen_on("caps", &lim);
	const struct conn_stats *st = conn_listener_stats(l);
	uint16_t port = conn_listener_port(l);
	uint8_t f[64], got[64];
	size_t n = mkframe(f, "hi");
	int fds[5];

	reset_seen();
	fds[0] = dial_from(port, 0x7f000001);
	fds[1] = dial_from(port, 0x7f000001);
	pump(50, NULL, NULL);
	fds[2] = dial_from(port, 0x7f000001);       /* third from one address */
	CHECK(fds[2] >= 0 && closed_by_server(fds[2], 1000) && st->refused_addr == 1,
	    "per-address cap: third connection closed, counted");
	fds[3] = dial_from(port, 0x7f000002);
	pump(50, NULL, NULL);
	fds[4] = dial_from(port, 0x7f000003);       /* fourth in all */
	CHECK(fds[4] >= 0 && closed_by_server(fds[4], 1000) && st->refused_total == 1,
	    "total cap: fourth connection closed, counted");
	CHECK(st->accepted == 3 && st->open == 3 && S.opens == 3,
	    "refused ones never reach the service");
	bool ok = true;
	for (int i = 0; i < 4; i++)
		if (i != 2)
			ok = ok && send_all(fds[i], f, n) && expect(fds[i], got, n);
	CHECK(ok, "the admitted three are served");
	close(fds[0]);
	wait_closes(1, 1000);
	int again = dial_from(port, 0x7f000001);
	CHECK(again >= 0 && send_all(again, f, n) && expect(again, got, n),
	    "a freed slot is usable again");
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	close(again);
	wait_closes(4, 1000);
	conn_listener_close(l);
	CHECK(S.closes == S.opens && S.double_closes == 0, "on_close once each");
}

static void
open_and_close(struct conn *c)
{
	on_open(c);
	conn_close(c, "not today");
}

/* A line protocol cannot tell a frame's size before its end. */
static int64_t
frame_line(struct conn *c, const uint8_t *p, size_t len)
{
	const uint8_t *nl = memchr(p, '\n', len);
	(void)c;
	return nl ? (int64_t)(nl - p + 1) : CONN_FRAME_MORE;
}

static void
test_odd_services(void)
{
	static const struct conn_ops closer = { open_and_close, frame_le32, on_frame, on_close };
	static const struct conn_ops lines = { on_open, frame_line, on_frame, on_close };
	struct conn_limits lim = limits();
	struct conn_listener *l;
	uint8_t buf[300];
	int fd;

	reset_seen();
	l = conn_listen(loop, "closer", LOOPBACK, 0, &closer, &lim, NULL);
	fd = l ? dial(conn_listener_port(l)) : -1;
	CHECK(fd >= 0 && closed_by_server(fd, 1000) && S.opens == 1 && S.closes == 1 &&
	    strcmp(S.reason, "not today") == 0, "a connection closed from on_open");
	close(fd);
	conn_listener_close(l);

	reset_seen();
	lim.max_frame = 100;
	l = conn_listen(loop, "lines", LOOPBACK, 0, &lines, &lim, NULL);
	fd = l ? dial(conn_listener_port(l)) : -1;
	CHECK(send_all(fd, "short line\n", 11) && expect(fd, buf, 11) &&
	    memcmp(buf, "short line\n", 11) == 0, "line framing echoes a line");
	memset(buf, 'x', sizeof buf);
	CHECK(send_all(fd, buf, sizeof buf) && closed_by_server(fd, 1000) &&
	    conn_listener_stats(l)->closed[CONN_TOO_BIG] == 1,
	    "an undecided prefix reaching the max closes");
	close(fd);
	conn_listener_close(l);

	/* A queue cap below the high water mark: overflow, not pause. */
	reset_seen();
	lim = limits();
	lim.high_water = 4 * 1024 * 1024;
	lim.queue_max = 256 * 1024;
	l = listen_on("overflow", &lim);
	static uint8_t reqs[7 * 4000];
	size_t m = 0;
	for (int i = 0; i < 4000; i++)
		m += mkframe(reqs + m, "amp");
	fd = dial(conn_listener_port(l));
	CHECK(send_all(fd, reqs, m) && wait_closes(1, 3000) &&
	    conn_listener_stats(l)->closed[CONN_OVERFLOW] == 1 &&
	    strcmp(S.reason, "write queue overflow") == 0, "write queue overflow closes");
	CHECK(conn_listener_stats(l)->queued_peak <= lim.queue_max,
	    "queue never past queue_max (%llu)",
	    (unsigned long long)conn_listener_stats(l)->queued_peak);
	close(fd);
	conn_listener_close(l);
	CHECK(S.double_closes == 0, "on_close once each");
}

#define MANY 1000

static void
test_many(void)
{
	struct conn_limits lim = limits();
	struct conn_listener *l = listen_on("many", &lim);
	struct rlimit rl;
	static int fds[MANY];
	uint8_t f[64];
	size_t n = mkframe(f, "many");
	int connected = 0, sent = 0, served = 0;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 2 * MANY + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	reset_seen();
	for (int i = 0; i < MANY; i++) {
		fds[i] = dial(conn_listener_port(l));
		connected += fds[i] >= 0;
		if (i % 100 == 99)
			pump(5, NULL, NULL);        /* keep the backlog short */
	}
	CHECK(connected == MANY, "%d connections made", connected);
	for (int i = 0; i < MANY; i++)
		sent += fds[i] >= 0 && send_all(fds[i], f, n);
	int want = MANY;
	pump(5000, frames_at_least, &want);
	for (int i = 0; i < MANY; i++) {
		uint8_t got[64];
		struct reader r = { fds[i], got, n, 0, false };
		read_some(&r);
		served += r.got == n && memcmp(got, f, n) == 0;
	}
	CHECK(sent == MANY && S.frames == MANY && served == MANY,
	    "%d connections all served (%d frames, %d replies)", MANY, S.frames, served);
	CHECK(conn_listener_stats(l)->open == MANY, "%llu open at once",
	    (unsigned long long)conn_listener_stats(l)->open);
	for (int i = 0; i < MANY; i++)
		close(fds[i]);
	wait_closes(MANY, 5000);
	CHECK(S.closes == MANY && S.double_closes == 0 &&
	    conn_listener_stats(l)->closed[CONN_PEER] == MANY, "all %d closed once", MANY);
	conn_listener_close(l);
}

static bool
opened_at_least(void *arg)
{
	return S.opens >= *(int *)arg;
}

/* Out of descriptors: accept pauses instead of spinning, then catches up. */
static void
test_emfile(void)
{
	struct conn_limits lim = limits();
	struct conn_listener *l = listen_on("emfile", &lim);
	struct rlimit saved, low;
	int fds[3];

	reset_seen();
	for (int i = 0; i < 3; i++)
		fds[i] = dial(conn_listener_port(l));
	/* The next descriptor number is the count in use; allow none more. */
	int probe = dup(0);
	getrlimit(RLIMIT_NOFILE, &saved);
	low = saved;
	low.rlim_cur = (rlim_t)probe;
	close(probe);
	setrlimit(RLIMIT_NOFILE, &low);
	int turns = 0;
	uint64_t end = mono_ms() + 60;
	while (mono_ms() < end && turns < 10000) {
		ev_run_once(loop, 5);
		turns++;
	}
	setrlimit(RLIMIT_NOFILE, &saved);
	CHECK(conn_listener_stats(l)->accept_paused >= 1 && S.opens == 0,
	    "EMFILE pauses accepting (%llu pauses)",
	    (unsigned long long)conn_listener_stats(l)->accept_paused);
	CHECK(turns < 100, "no spinning while paused (%d turns in 60 ms)", turns);
	int want = 3;
	CHECK(pump(1000, opened_at_least, &want), "accepting resumes after the pause");
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	wait_closes(3, 1000);
	conn_listener_close(l);
}

int
main(void)
{
	loop = ev_new();
	test_echo();
	test_bad_frames();
	test_close_in_handler();
	test_odd_services();
	test_backpressure();
	test_timeouts();
	test_caps();
	test_many();
	test_emfile();
	ev_free(loop);
	return UNIT_DONE();
}
