/* /api/v1/events: the boot timeline as Server-Sent Events.
 *
 * One events subscription feeds every stream. Each client has a byte queue
 * of formatted events; MHD pulls from it through a content-reader callback.
 * When the queue is empty the callback suspends the connection (returning
 * 0 without suspending would make MHD poll it in a busy loop) and the next
 * event resumes it. A keepalive comment every 15 s keeps proxies from
 * timing the stream out and lets MHD notice clients that went away (MHD
 * cannot see a disconnect while a connection is suspended). A client that
 * lets its queue grow past SSE_MAX_QUEUE is dropped, never the daemon.
 *
 * Query: ?after=SEQ (or the Last-Event-ID header on reconnect) replays the
 * kept events after SEQ; without either the last SSE_BACKLOG are replayed.
 * ?mac=MAC limits the stream to one machine. */
#include "http/http.h"
#include "core/events.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define SSE_MAX_CLIENTS 64
#define SSE_MAX_PER_SOURCE 4
#define SSE_MAX_QUEUE (1024 * 1024)
#define SSE_BACKLOG 50
#define SSE_KEEPALIVE_MS 15000
/* A stream whose waiting bytes the peer has not acknowledged for this
 * long is stalled (on_watch) and closed, so a client that never reads
 * cannot keep its slot. */
#define SSE_STALL_MS 10000
#define SSE_WATCH_MS 1000

struct sse {
	struct http_sse_hub *hub;   /* the module's (struct http_state's sse) */
	struct sse *next, **pprev;
	struct MHD_Connection *conn;
	char *buf;
	size_t len, off, cap;
	bool suspended, closing;
	bool filter;
	uint8_t mac[6];
	uint8_t src[16];            /* the client's address, IPv4 as ::ffff:a.b.c.d */
	uint64_t progress_ms;       /* monotonic: the peer last acknowledged bytes, or none waited */
	uint64_t acked;             /* the peer's TCP acknowledged this many bytes */
	bool stalled;               /* being closed for it */
	/* buf, len, off, cap, closing and suspended, between the loop (or a
	 * handler) and MHD's reader. The reader runs with MHD's response
	 * lock held, so it takes this and never the loop's big lock (which
	 * a handler holds while it queues a response: the other order). */
	pthread_mutex_t mu;
};

/* With s->mu held. */
static void
wake(struct sse *s)
{
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

static void
close_stream(struct sse *s)
{
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	wake(s);
	pthread_mutex_unlock(&s->mu);
}

static void push_locked(struct sse *s, const char *text, size_t n);

static void
push(struct sse *s, const char *text, size_t n)
{
	pthread_mutex_lock(&s->mu);
	push_locked(s, text, n);
	pthread_mutex_unlock(&s->mu);
}

static void
push_locked(struct sse *s, const char *text, size_t n)
{
	if (s->closing)
		return;
	if (s->len - s->off + n > SSE_MAX_QUEUE) {
		(*s->hub->m_dropped)++;
		s->closing = true;      /* too slow: end its stream */
		wake(s);
		return;
	}
	if (s->off > 0 && s->off == s->len)
		s->off = s->len = 0;
	if (s->len + n > s->cap) {
		/* Compact before growing: the sent prefix is dead. */
		if (s->off > 0) {
			memmove(s->buf, s->buf + s->off, s->len - s->off);
			s->len -= s->off;
			s->off = 0;
		}
		if (s->len + n > s->cap) {
			s->cap = MAX(s->cap * 2, s->len + n);
			s->buf = erealloc(s->buf, s->cap);
		}
	}
	memcpy(s->buf + s->len, text, n);
	s->len += n;
	wake(s);
}

/* "id: SEQ\nevent: boot\ndata: {json}\n\n" */
static char *
format_event(const struct bootevent *ev, size_t *n)
{
	json_t *j = http_api_event_json(ev);
	char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (data == NULL)
		data = estrdup("{}");   /* never "data: (null)" */
	char *out = esprintf("id: %llu\nevent: boot\ndata: %s\n\n",
	    (unsigned long long)ev->seq, data);
	free(data);
	*n = strlen(out);
	return out;
}

static bool
wants(const struct sse *s, const struct bootevent *ev)
{
	return !s->filter || (ev->has_mac && memcmp(ev->mac, s->mac, 6) == 0);
}

static void
on_event(const struct bootevent *ev, void *arg)
{
	struct http_sse_hub *hub = arg;
	char *text = NULL;
	size_t n = 0;

	for (struct sse *s = hub->clients; s; s = s->next) {
		if (!wants(s, ev))
			continue;
		if (text == NULL)
			text = format_event(ev, &n);
		push(s, text, n);
		(*hub->m_events)++;
	}
	free(text);
}

static void
backlog_one(const struct bootevent *ev, void *arg)
{
	struct sse *s = arg;
	size_t n;
	char *text = format_event(ev, &n);

	push(s, text, n);
	free(text);
}

static void
on_keepalive(void *arg)
{
	static const char ping[] = ": keepalive\n\n";
	struct http_state *h = arg;

	for (struct sse *s = h->sse.clients; s; s = s->next)
		push(s, ping, sizeof ping - 1);
	ev_timer_arm(h->d->loop, &h->sse.keepalive, SSE_KEEPALIVE_MS);
}

static struct http_state *
state_of(struct http_sse_hub *hub)
{
	return (struct http_state *)(void *)((char *)hub - offsetof(struct http_state, sse));
}

static ssize_t
read_stream(struct sse *s, char *buf, size_t max)
{
	size_t n;

	if (s->off == s->len) {
		if (s->closing)     /* http_sse_shutdown sets it on every stream */
			return MHD_CONTENT_READER_END_OF_STREAM;
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		return 0;
	}
	n = MIN(max, s->len - s->off);
	memcpy(buf, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static ssize_t
reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&s->mu);
	n = read_stream(s, buf, max);
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Bytes of the stream the peer's TCP has acknowledged, and bytes still
 * in our socket's send queue; false if the socket cannot say. */
static bool
tcp_progress(struct sse *s, uint64_t *acked, int *outq)
{
	int fd = http_socket(s->conn);
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	memset(&ti, 0, sizeof ti);
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    ioctl(fd, SIOCOUTQ, outq) < 0)
		return false;
	*acked = ti.tcpi_bytes_acked;
	return true;
}

/* Closes a stream now: the queued bytes are dropped (RST, no lingering
 * orphan), the response ends and MHD's 1 s timeout closes what is left. */
static void
end_stalled(struct http_state *h, struct sse *s)
{
	int fd = http_socket(s->conn);
	struct linger lg = { 1, 0 };

	s->stalled = true;
	(*h->sse.m_stalled)++;
	log_limited(&h->rl_bad, LOG_INFO,
	    "http: an event stream's peer read nothing for %d s: closing it", SSE_STALL_MS / 1000);
	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	MHD_set_connection_option(s->conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)1);
	close_stream(s);
	http_run_now(h);     /* MHD sees it now */
}

/* A stream is stalled when bytes wait (in our queue or the socket's) and
 * the peer has acknowledged none of them for SSE_STALL_MS: it stopped
 * reading, and its window is shut. Progress is what the peer's TCP
 * acknowledges, not what MHD takes: the kernel's send buffer (megabytes)
 * takes everything long before MHD would block. */
static void
on_watch(void *arg)
{
	struct http_state *h = arg;
	uint64_t now = mono_ms(), acked = 0;
	int outq = 0;

	for (struct sse *s = h->sse.clients; s; s = s->next) {
		if (s->stalled)
			continue;
		pthread_mutex_lock(&s->mu);
		bool drained = s->off == s->len;
		pthread_mutex_unlock(&s->mu);
		if (!tcp_progress(s, &acked, &outq) || acked != s->acked ||
		    (outq == 0 && drained)) {
			s->acked = acked;
			s->progress_ms = now;
			continue;
		}
		if (now - s->progress_ms >= SSE_STALL_MS)
			end_stalled(h, s);
	}
	ev_timer_arm(h->d->loop, &h->sse.watch, SSE_WATCH_MS);
}

static void
release(void *cls)
{
	struct sse *s = cls;
	struct http_sse_hub *hub = s->hub;
	struct http_state *h = state_of(hub);
	bool locked = http_enter(h);

	if ((*s->pprev = s->next) != NULL)
		s->next->pprev = s->pprev;
	hub->nclients--;
	*hub->m_clients = (uint64_t)hub->nclients;
	pthread_mutex_destroy(&s->mu);
	free(s->buf);
	free(s);
	http_leave(h, locked);
}

enum MHD_Result
http_sse(struct MHD_Connection *c, struct http_req *r)
{
	const char *macs = http_arg(c, "mac");
	const char *last = http_header(c, "Last-Event-ID");
	const char *after = http_arg(c, "after");
	uint64_t seq = events_last_seq();
	uint64_t from = seq > SSE_BACKLOG ? seq - SSE_BACKLOG : 0;
	struct http_sse_hub *hub = &r->h->sse;
	struct sse *s;
	char *end;

	uint8_t src[16];
	int mine = 0;

	if (hub->nclients >= SSE_MAX_CLIENTS)
		return http_error(c, r, 503, "too many event streams open");
	/* One source: an IPv4 address or an IPv6 /64 (core/limiter.h). */
	if (http_client_addr(c, src)) {
		uint8_t key[LIM_KEYLEN], okey[LIM_KEYLEN];
		lim_key_addr(key, src);
		for (struct sse *o = hub->clients; o; o = o->next) {
			lim_key_addr(okey, o->src);
			mine += memcmp(okey, key, LIM_KEYLEN) == 0;
		}
	} else
		memset(src, 0, sizeof src);
	if (mine >= SSE_MAX_PER_SOURCE)
		return http_error(c, r, 429, "at most %d event streams from one address "
		    "(an IPv6 source counts by its /64)", SSE_MAX_PER_SOURCE);
	s = ecalloc(1, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	s->hub = hub;
	s->conn = c;
	memcpy(s->src, src, sizeof s->src);
	s->progress_ms = mono_ms();
	if (macs) {
		if (!mac_parse(macs, s->mac)) {
			pthread_mutex_destroy(&s->mu);
			free(s);
			return http_error(c, r, 400, "mac=%s is not a MAC address", macs);
		}
		s->filter = true;
	}
	if (after == NULL)
		after = last;
	if (after) {
		unsigned long long v = strtoull(after, &end, 10);
		if (*after < '0' || *after > '9' || *end) {
			free(s);
			return http_error(c, r, 400, "after=%s is not an event number", after);
		}
		from = v;
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
	    4096, reader, s, release);
	if (resp == NULL) {
		free(s);
		return http_error(c, r, 500, "cannot create a response");
	}
	if ((s->next = hub->clients) != NULL)
		hub->clients->pprev = &s->next;
	hub->clients = s;
	s->pprev = &hub->clients;
	hub->nclients++;
	*hub->m_clients = (uint64_t)hub->nclients;
	push(s, "retry: 2000\n\n", 13);
	events_since(from, s->filter ? s->mac : NULL, backlog_one, s);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* Streams live long; the keepalive proves the peer is there, and
	 * on_watch ends those whose peer stopped reading. */
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)0);
	return http_reply(c, r, 200, resp);
}

void
http_sse_init(struct http_state *h)
{
	struct http_sse_hub *hub = &h->sse;

	const struct metric_def defs[] = {
		{ &hub->m_clients, "gridboot_http_event_streams", NULL,
		  "Server-Sent Event streams open", true },
		{ &hub->m_events, "gridboot_http_events_sent_total", NULL,
		  "Boot events queued to event streams" },
		{ &hub->m_dropped, "gridboot_http_event_streams_dropped_total", NULL,
		  "Event streams ended because the client read too slowly" },
		{ &hub->m_stalled, "gridboot_http_event_streams_stalled_total", NULL,
		  "Event streams closed because the client stopped reading" },
	};
	metrics_register(defs, nelem(defs));
	if (hub->subscription < 0)
		hub->subscription = events_subscribe(on_event, hub);
	ev_timer_init(&hub->keepalive, on_keepalive, h);
	ev_timer_arm(h->d->loop, &hub->keepalive, SSE_KEEPALIVE_MS);
	ev_timer_init(&hub->watch, on_watch, h);
	ev_timer_arm(h->d->loop, &hub->watch, SSE_WATCH_MS);
}

/* Ends every stream and lets MHD see the resumed connections once, since
 * MHD must not be stopped while any connection is suspended. */
void
http_sse_shutdown(struct http_state *h)
{
	struct http_sse_hub *hub = &h->sse;

	for (struct sse *s = hub->clients; s; s = s->next) {
		close_stream(s);
	}
	if (h->mhd && h->workers == 0)
		MHD_run(h->mhd);
	ev_timer_stop(h->d->loop, &hub->keepalive);
	ev_timer_stop(h->d->loop, &hub->watch);
	events_unsubscribe(hub->subscription);
	hub->subscription = -1;
}
