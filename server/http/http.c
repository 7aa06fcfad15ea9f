/* http: libmicrohttpd, its threads or the daemon's event loop, and the router.
 *
 * With grid.http_workers = N > 0 (the default: one per core), MHD runs a
 * pool of N threads, each with its own epoll, sharing the listening
 * socket. Every callback into this module takes the loop's big lock
 * (core/evloop.h: http_enter/http_leave), so handlers still run one at a
 * time and read the inventory and the stores as on the loop; what runs in
 * parallel is MHD's part: accept, recv, parsing, send and sendfile, which
 * is most of a small request's cost (docs/http.md has the profile).
 * The socket is bound at init, as root; the threads start at the first
 * loop turn, after the detaching fork, the key process's fork and the
 * privilege drop, so none of those meets a thread.
 *
 * With grid.http_workers = 0, MHD runs in "external epoll" mode: no
 * thread of its own. Its epoll descriptor sits in our loop; when it is
 * readable, or when the timer MHD asks for expires, we call MHD_run and
 * re-arm the timer from MHD_get_timeout.
 *
 * Namespace:
 *   /boot.ipxe, /ipxe/, /plan9.ini/, /cfg/pxe/, /boot.scr.uimg, /uboot/
 *                      generated boot files (http_boot.c, bootfiles*.c)
 *   /files/...         the kernel tree, grid.files (http_files.c)
 *   /api/v1/...        JSON API (http_api.c); /api/v1/events is SSE
 *   /metrics           Prometheus text
 *   /, /app.js, ...    the web page, grid.web (http_files.c) */
#include "http/http.h"
#include "boot/leases.h"
#include "boot/leases6.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static void restart(void *arg);
static const char *const route_names[RT_COUNT] = {
	"boot", "files", "api", "events", "metrics", "web", "other",
};

/* ---- replies ---- */

static void
count(struct http_req *r, unsigned status)
{
	unsigned cls = status / 100;

	if (r == NULL)
		return;     /* never: every route has its request (and r->h) */
	if (cls > 5)
		cls = 0;
	if (r->h->requests[r->route][cls])
		(*r->h->requests[r->route][cls])++;
}

enum MHD_Result
http_reply_shared(struct MHD_Connection *c, struct http_req *r, unsigned status,
    struct MHD_Response *resp)
{
	if (resp == NULL)
		return MHD_NO;
	count(r, status);
	if (r)
		r->rejected = status >= 400;
	return MHD_queue_response(c, status, resp);
}

enum MHD_Result
http_reply(struct MHD_Connection *c, struct http_req *r, unsigned status,
    struct MHD_Response *resp)
{
	enum MHD_Result ret = http_reply_shared(c, r, status, resp);

	if (resp)
		MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result
http_reply_text(struct MHD_Connection *c, struct http_req *r, unsigned status,
    const char *ctype, char *data, size_t len)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);

	if (resp == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r && r->h->bytes[r->route])
		*r->h->bytes[r->route] += len;
	return http_reply(c, r, status, resp);
}

enum MHD_Result
http_reply_json(struct MHD_Connection *c, struct http_req *r, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	size_t len;

	json_decref(j);
	if (text == NULL)
		return MHD_NO;
	/* One trailing newline: friendlier for curl in a terminal. */
	len = strlen(text);
	text = erealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	return http_reply_text(c, r, status, "application/json", text, len);
}

enum MHD_Result
http_error(struct MHD_Connection *c, struct http_req *r, unsigned status,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (status >= 400 && status < 500) {
		(*r->h->rejected_input)++;
		log_limited(&r->h->rl_bad, LOG_INFO, "http: %u %s", status, msg);
	}
	json_t *j = json_pack("{s:s}", "error", msg);
	if (status == 401) {
		char *text = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text),
		    text, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
		return http_reply(c, r, status, resp);
	}
	return http_reply_json(c, r, status, j);
}

/* ---- request facts ---- */

const char *
http_header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

const char *
http_arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

bool
http_client_ip(struct MHD_Connection *c, uint32_t *ip)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	if (ci == NULL || ci->client_addr == NULL)
		return false;
	if (ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
		*ip = ntohl(sin->sin_addr.s_addr);
		return true;
	}
	/* The dual-stack listener shows IPv4 clients as ::ffff:a.b.c.d. */
	if (ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			uint32_t a;
			memcpy(&a, &s6->sin6_addr.s6_addr[12], 4);
			*ip = ntohl(a);
			return true;
		}
	}
	return false;
}

bool
http_client_addr(struct MHD_Connection *c, uint8_t addr[16])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	if (ci == NULL || ci->client_addr == NULL)
		return false;
	if (ci->client_addr->sa_family == AF_INET6) {
		memcpy(addr, ((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr.s6_addr, 16);
		return true;
	}
	if (ci->client_addr->sa_family == AF_INET) {
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
		memcpy(addr, mapped, 12);
		memcpy(addr + 12, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, 4);
		return true;
	}
	return false;
}

/* The client's MAC from the address it connects from: an IPv4 lease or
 * reservation, or over IPv6 a DHCPv6 one (boot/leases6.h), so iPXE over
 * IPv6 is the same machine as over IPv4. */
bool
http_client_mac(const struct http_state *h, struct MHD_Connection *c, uint8_t mac[6])
{
	uint32_t ip;
	uint8_t a6[16];

	if (http_client_ip(c, &ip))
		return leases_mac_for_ip(h->d->inv, ip, mac);
	return http_client_addr(c, a6) && leases6_mac_for_ip6(h->d->inv, a6, mac);
}

static enum MHD_Result
sum_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	size_t *sum = cls;

	(void)kind;
	*sum += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* ---- routing ---- */

static enum http_route
classify(const char *path)
{
	if (strcmp(path, "api/v1/events") == 0)
		return RT_EVENTS;
	if (str_has_prefix(path, "api/"))
		return RT_API;
	if (str_has_prefix(path, "files/"))
		return RT_FILES;
	if (strcmp(path, "metrics") == 0)
		return RT_METRICS;
	return RT_WEB;      /* or a boot path: http_boot relabels it */
}

static bool
method_is(const char *m, const char *want)
{
	return strcmp(m, want) == 0;
}

static enum MHD_Result
route(struct MHD_Connection *c, struct http_req *r, const char *method, const char *path)
{
	enum MHD_Result res;
	bool get = method_is(method, "GET") || method_is(method, "HEAD");

	if (r->route == RT_API) {
		/* Only api/v1 and what is below it: api/ or api/x is shorter
		 * than the prefix skipped here. */
		if (strcmp(path, "api/v1") != 0 && !str_has_prefix(path, "api/v1/"))
			return http_error(c, r, 404, "no such API call");
		return http_api(c, r, method, path + strlen("api/v1"));
	}
	if (!get)
		return http_error(c, r, 405, "%s is not allowed here", method);
	switch (r->route) {
	case RT_EVENTS:
		return http_sse(c, r);
	case RT_METRICS:
		return http_metrics(c, r);
	case RT_FILES:
		return http_files(c, r, r->h->filesfd, path + strlen("files/"), false);
	default:
		break;
	}
	if (http_boot(c, r, path, &res))
		return res;
	if (*path == '\0')
		path = "index.html";
	return http_files(c, r, r->h->webfd, path, true);
}

/* MHD calls this at least twice per request. The first call checks what
 * MHD cannot check for us and replies at once only to refuse (a reply
 * queued that early makes MHD close the connection, fine for a bad
 * request, wasteful for a good one). Later calls bring the body, if any;
 * the last one (no more body) routes the request. */
/* ---- connections: the per-source cap by /64, the header deadline ---- */

static struct http_conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

int
http_socket(struct MHD_Connection *c)
{
	struct http_conn *hc = conn_of(c);
	const union MHD_ConnectionInfo *ci;

	if (hc && hc->fd >= 0)
		return hc->fd;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

static bool
addr_of(const struct sockaddr *sa, uint8_t addr[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (sa->sa_family == AF_INET6) {
		memcpy(addr, ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr, 16);
		return true;
	}
	if (sa->sa_family == AF_INET) {
		memcpy(addr, mapped, 12);
		memcpy(addr + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return true;
	}
	return false;
}

/* At most grid.http_per_source connections from one source, an IPv6
 * source being its /64 (a host may use every address of its prefix;
 * MHD's own per-IP limit counts each apart). True when key has room. */
static bool
source_has_room(struct http_state *h, const uint8_t key[LIM_KEYLEN])
{
	int n = 0;
	char who[64];

	for (struct http_conn *hc = h->conns; hc; hc = hc->next)
		n += !hc->refused && memcmp(hc->key, key, LIM_KEYLEN) == 0;
	if (n < h->d->inv->grid.http_per_source)
		return true;
	(*h->m_refused_src)++;
	lim_key_format(key, who, sizeof who);
	log_limited(&h->rl_cap, LOG_NOTICE, "http: %s: refused: %d connections from that source "
	    "(grid.http_per_source)", who, n);
	return false;
}

/* MHD's accept policy, the cheap refusal. With workers two threads may
 * each admit a source's last free slot before either connection is in
 * h->conns: connection_event checks again as it adds one. */
static enum MHD_Result
accept_policy(struct http_state *h, const struct sockaddr *sa)
{
	uint8_t addr[16], key[LIM_KEYLEN];

	if (!addr_of(sa, addr))
		return MHD_YES;
	lim_key_addr(key, addr);
	return source_has_room(h, key) ? MHD_YES : MHD_NO;
}

static enum MHD_Result
on_accept(void *cls, const struct sockaddr *sa, socklen_t salen)
{
	struct http_state *h = cls;
	bool locked = http_enter(h);
	enum MHD_Result res = accept_policy(h, sa);

	(void)salen;
	http_leave(h, locked);
	return res;
}

static void header_check(void *arg);

static void
connection_event(struct http_state *h, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_conn *hc = *socket_context;
	uint8_t addr[16] = { 0 };

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		hc = ecalloc(1, sizeof *hc);
		hc->c = c;
		hc->fd = -1;
		if (h->workers > 0) {
			const union MHD_ConnectionInfo *ci =
			    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
			if (ci)
				hc->fd = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0);
		}
		http_client_addr(c, addr);
		lim_key_addr(hc->key, addr);
		hc->wait_since = mono_ms();
		if (!source_has_room(h, hc->key)) {
			/* Kept in the list, uncounted, until MHD closes it:
			 * the socket is shut down under it. */
			const union MHD_ConnectionInfo *ci =
			    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
			hc->refused = true;
			hc->wait_since = 0;
			if (ci)
				shutdown(ci->connect_fd, SHUT_RDWR);
		}
		hc->next = h->conns;
		if (h->conns)
			h->conns->prev = hc;
		h->conns = hc;
		*socket_context = hc;
		if (!ev_timer_armed(&h->header_timer))
			ev_timer_arm(h->d->loop, &h->header_timer, 1000);
		return;
	}
	if (hc == NULL)
		return;
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		h->conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	if (hc->fd >= 0)
		close(hc->fd);
	free(hc);
	*socket_context = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_state *h = cls;
	bool locked = http_enter(h);

	connection_event(h, c, socket_context, toe);
	http_leave(h, locked);
}

/* Each second while connections are open: a header that has taken more
 * than HTTP_HEADER_S closes its connection. MHD has no call to close one,
 * so the socket is shut down under it; MHD sees the end at its next read
 * and closes as for a peer that left. */
static void
header_check(void *arg)
{
	struct http_state *h = arg;
	uint64_t now = mono_ms();
	char who[64];

	for (struct http_conn *hc = h->conns; hc; hc = hc->next) {
		if (hc->wait_since == 0 || now - hc->wait_since < HTTP_HEADER_S * 1000)
			continue;
		int fd = http_socket(hc->c);
		hc->wait_since = 0;
		if (fd < 0)
			continue;
		shutdown(fd, SHUT_RDWR);
		(*h->m_header_timeouts)++;
		lim_key_format(hc->key, who, sizeof who);
		log_limited(&h->rl_cap, LOG_NOTICE, "http: %s: closed: no complete request header "
		    "within %d s", who, HTTP_HEADER_S);
	}
	if (h->conns)
		ev_timer_arm(h->d->loop, &h->header_timer, 1000);
}

/* Which worker thread serves a request, for its counter: numbered as
 * each first serves one, under the lock. */
static _Thread_local int worker_id = -1;

static void
count_worker(struct http_state *h)
{
	if (h->workers == 0)
		return;
	if (worker_id < 0 || worker_id >= h->nworker_ids) {
		if (h->nworker_ids >= (int)nelem(h->m_worker))
			return;
		worker_id = h->nworker_ids++;
		h->m_worker[worker_id] = metric_counterf("gridboot_http_worker_requests_total",
		    "HTTP requests by the worker thread that took them (grid.http_workers)",
		    "worker=\"%d\"", worker_id);
	}
	(*h->m_worker[worker_id])++;
}

static enum MHD_Result
handle_request(struct http_state *h, struct MHD_Connection *c, const char *url,
    const char *method, const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_req *r = *con_cls;

	while (*url == '/')
		url++;
	if (r == NULL) {
		size_t hdrs = 0;
		struct http_conn *hc = conn_of(c);
		if (hc)
			hc->wait_since = 0;     /* the header is complete */
		r = ecalloc(1, sizeof *r);
		*con_cls = r;
		r->h = h;
		count_worker(h);
		r->route = classify(url);
		r->head = method_is(method, "HEAD");
		r->mutating = !method_is(method, "GET") && !r->head;
		if (strlen(url) > HTTP_MAX_URL)
			return http_error(c, r, 414, "request target longer than %d bytes", HTTP_MAX_URL);
		MHD_get_connection_values(c, MHD_HEADER_KIND, sum_header, &hdrs);
		if (hdrs > HTTP_MAX_HEADERS)
			return http_error(c, r, 431, "request headers longer than %d bytes",
			    HTTP_MAX_HEADERS);
		if (r->mutating && r->route != RT_API)
			return http_error(c, r, 405, "%s is not allowed here", method);
		/* The token is checked before any body is read, so a client
		 * without one cannot make us buffer anything. */
		if (r->mutating && strcmp(url, "api/v1/enroll") != 0 && !http_api_authorized(r->h, c))
			return http_error(c, r, 401, "this call needs Authorization: Bearer <grid.api_token>");
		return MHD_YES;
	}
	if (r->reload_done)
		return http_api_reload_answer(c, r);
	if (r->enroll_done)
		return http_api_enroll_answer(c, r);
	if (r->rejected) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (r->len + *upload_size > HTTP_MAX_BODY)
			r->too_big = true;
		else {
			if (r->len + *upload_size + 1 > r->cap) {
				r->cap = MAX(r->cap * 2, r->len + *upload_size + 1);
				r->body = erealloc(r->body, r->cap);
			}
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		return http_error(c, r, 413, "request body larger than %d bytes", HTTP_MAX_BODY);
	if (h->stopping)    /* nothing may be suspended now */
		return http_error(c, r, 503, "the HTTP server is restarting");
	/* What a POST, PUT or DELETE changes may need the loop's turn (an
	 * enroll's commit, a role change's reload): a worker wakes the loop
	 * for it as it lets go of the lock, rather than wait for a timer. */
	if (r->mutating)
		h->want_turn = true;
	return route(c, r, method, url);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_state *h = cls;
	bool locked = http_enter(h);
	enum MHD_Result res = handle_request(h, c, url, method, upload, upload_size, con_cls);

	(void)version;
	http_leave(h, locked);
	return res;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_state *h = cls;
	struct http_req *r = *con_cls;
	bool locked = http_enter(h);
	struct http_conn *hc = conn_of(c);

	(void)toe;
	if (hc)
		hc->wait_since = mono_ms();     /* the next request's header */
	if (r) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
	http_leave(h, locked);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_state *h = cls;
	char msg[512];
	bool locked = http_enter(h);

	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	/* A client hanging up mid-transfer is normal (a boot loader that
	 * has what it needs, a benchmark ending): not a warning. */
	if (strstr(msg, "closed by remote peer") || strstr(msg, "Connection reset"))
		log_debug("http: libmicrohttpd: %s", msg);
	else
		log_limited(&h->rl_mhd, LOG_WARNING, "http: libmicrohttpd: %s", msg);
	http_leave(h, locked);
}

/* ---- MHD's threads, or MHD in our loop ---- */

bool
http_enter(struct http_state *h)
{
	/* On the loop's own thread (workers = 0, or MHD logging from a call
	 * the loop made) the lock is already held. */
	if (h->workers == 0 || ev_on_loop_thread(h->d->loop))
		return false;
	ev_lock(h->d->loop);
	return true;
}

void
http_leave(struct http_state *h, bool locked)
{
	bool wake;

	if (!locked)
		return;
	/* An enroll or a role change waits for the loop's end of turn. */
	wake = h->want_turn;
	h->want_turn = false;
	ev_unlock(h->d->loop);
	if (wake)
		ev_wake(h->d->loop);
}

static void arm_timer(struct http_state *h);

/* MHD handles one step per connection per MHD_run; a few rounds while it
 * says work is pending save a trip through epoll, bounded so the other
 * modules keep their turn. Only on the loop: workers drive themselves. */
static void
drive(struct http_state *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (h->mhd == NULL || h->workers > 0)
		return;
	for (int i = 0; i < 4; i++) {
		MHD_run(h->mhd);
		if (MHD_get_timeout(h->mhd, &t) != MHD_YES || t > 0)
			break;
	}
	arm_timer(h);
}

void
http_run_now(struct http_state *h)
{
	if (h->workers == 0)
		ev_timer_arm(h->d->loop, &h->timer, 0);
}

static void
on_epoll(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	drive(arg);
}

static void
on_timer(void *arg)
{
	drive(arg);
}

static void
arm_timer(struct http_state *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (h->mhd && h->workers == 0 && MHD_get_timeout(h->mhd, &t) == MHD_YES)
		ev_timer_arm(h->d->loop, &h->timer, t > 60000 ? 60000 : t);
	else
		ev_timer_stop(h->d->loop, &h->timer);
}

/* Resumed connections and new work queued from other modules' handlers
 * (an SSE client woken by a DHCP event) need MHD to run this turn. */
static void
on_turn(void *arg)
{
	struct http_state *h = arg;

	http_api_enrolls_sync(h);
	if (h->mhd && h->workers == 0 && !ev_timer_armed(&h->timer))
		arm_timer(h);
}

/* HTTP_MAX_CONNS, or fewer when RLIMIT_NOFILE cannot give each a socket
 * and a file besides FD_OTHERS (core/module.h). */
static unsigned
conn_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= FD_RESERVE)
		return HTTP_MAX_CONNS;
	if (rl.rlim_cur <= FD_OTHERS + 128)
		return 64;
	/* FD_RESERVE holds 9P's files too, so a limit below it may still
	 * give every HTTP connection its three */
	return (unsigned)MIN((rl.rlim_cur - FD_OTHERS) / 3, (rlim_t)HTTP_MAX_CONNS);
}

/* One listener for IPv4 and IPv6 ([::], IPv4 clients as mapped
 * addresses); on a host without IPv6, IPv4 only. Bound here, as root,
 * and handed to MHD, which closes it when it stops. */
static int
listen_socket(int port, bool *v6)
{
	int one = 1, zero = 0, err = 0;

	for (int fam6 = 1; fam6 >= 0; fam6--) {
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
		    .sin6_addr = IN6ADDR_ANY_INIT };
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		    .sin_addr.s_addr = htonl(INADDR_ANY) };
		int fd = socket(fam6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (fam6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
		/* A rack powered on at once connects at once: with a backlog
		 * of 512, a storm of 1000 machines overflowed the accept queue,
		 * and each dropped SYN cost its machine a second (the client's
		 * retransmit). 4096, which net.core.somaxconn caps (not
		 * SOMAXCONN: older C libraries say 128). */
		if ((fam6 ? bind(fd, (struct sockaddr *)&a6, sizeof a6) :
		    bind(fd, (struct sockaddr *)&a4, sizeof a4)) == 0 && listen(fd, 4096) == 0) {
			*v6 = fam6;
			return fd;
		}
		err = errno;
		close(fd);
	}
	errno = err;
	return -1;
}

static struct MHD_Daemon *
mhd_start(struct http_state *h, unsigned limit)
{
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
	    MHD_USE_ERROR_LOG;

	if (h->workers > 0)
		flags |= MHD_USE_INTERNAL_POLLING_THREAD;
	return MHD_start_daemon(flags, 0,
	    /* One host must not hold every connection: on_accept counts
	     * an IPv6 source by its /64. */
	    on_accept, h,
	    on_request, h,
	    /* First, or MHD logs its complaint about the order itself. */
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, h->listenfd,
	    /* 1 is no pool: MHD's one internal thread. */
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(h->workers > 1 ? h->workers : 0),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_CONNECTION_LIMIT, limit,
	    /* Idle or stalled (a peer that stopped reading makes no
	     * progress): closed after this long. */
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_POOL,
	    /* daemon.c ignores SIGPIPE; saying so lets MHD use sendfile
	     * for descriptor responses instead of pread + send. */
	    MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int)1,
	    MHD_OPTION_END);
}

/* MHD on the bound socket: on the loop, or in its worker threads. */
static int
run_mhd(struct http_state *h)
{
	unsigned limit = conn_limit();

	h->stopping = false;
	h->nworker_ids = 0;
	h->mhd = mhd_start(h, limit);
	if (h->mhd == NULL) {
		log_err("http: cannot start libmicrohttpd on port %d: %s", h->port, strerror(errno));
		close(h->listenfd);
		h->listenfd = -1;
		return -1;
	}
	h->listenfd = -1;   /* MHD's now */
	if (h->workers == 0) {
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->mhd,
		    MHD_DAEMON_INFO_EPOLL_FD);
		h->epfd = di ? di->epoll_fd : -1;
		if (h->epfd < 0 || ev_add_fd(h->d->loop, h->epfd, EPOLLIN, on_epoll, h) < 0) {
			log_err("http: cannot add libmicrohttpd's epoll descriptor to the loop");
			ev_unlock(h->d->loop);
			MHD_stop_daemon(h->mhd);
			ev_lock(h->d->loop);
			h->mhd = NULL;
			return -1;
		}
		arm_timer(h);
	}
	log_info("http: serving on port %d %s (at most %u connections, %d per source)", h->port,
	    h->workers ? "from worker threads" : "on the event loop", limit,
	    h->d->inv->grid.http_per_source);
	if (h->workers)
		log_info("http: %d worker threads (grid.http_workers)", h->workers);
	return 0;
}

static void
on_start_timer(void *arg)
{
	struct http_state *h = arg;

	if (h->mhd == NULL && h->listenfd >= 0 && run_mhd(h) < 0)
		log_err("http: not serving until the next good reload");
}

/* Binds the port now; MHD starts now on the loop, or for worker threads
 * at the first loop turn (this module's header says why). */
static int
start_mhd(struct http_state *h, int port)
{
	bool v6 = false;

	h->listenfd = listen_socket(port, &v6);
	if (h->listenfd < 0) {
		log_err("http: cannot listen on port %d: %s", port, strerror(errno));
		return -1;
	}
	h->port = port;
	h->workers = h->d->inv->grid.http_workers;
	log_info("http: listening on port %d, %s", port, v6 ? "IPv4 and IPv6" : "IPv4 only");
	if (h->workers > 0) {
		ev_timer_arm(h->d->loop, &h->start_timer, 0);
		return 0;
	}
	return run_mhd(h);
}

static void
stop_mhd(struct http_state *h)
{
	ev_timer_stop(h->d->loop, &h->start_timer);
	if (h->listenfd >= 0) {     /* bound, MHD not started */
		close(h->listenfd);
		h->listenfd = -1;
	}
	if (h->mhd == NULL)
		return;
	if (h->epfd >= 0)
		ev_del_fd(h->d->loop, h->epfd);
	h->stopping = true;
	http_api_enrolls_sync(h);   /* resumes waiting enrolls (answered below) */
	ev_timer_stop(h->d->loop, &h->timer);
	http_sse_shutdown(h);       /* resumes suspended streams first */
	/* The workers finish their callbacks, which take the lock. */
	ev_unlock(h->d->loop);
	MHD_stop_daemon(h->mhd);
	ev_lock(h->d->loop);
	h->mhd = NULL;
	h->epfd = -1;
}

static int
open_dir(const char *path, const char *what)
{
	int fd;

	if (path == NULL)
		return -1;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		log_warn("http: %s %s: %s (nothing served from it)", what, path, strerror(errno));
	return fd;
}

static void
open_roots(struct http_state *h, const struct inventory *inv)
{
	http_files_flush(h);    /* its entries name files of the old roots */
	if (h->filesfd >= 0)
		close(h->filesfd);
	if (h->webfd >= 0)
		close(h->webfd);
	h->filesfd = open_dir(inv->grid.files, "grid.files");
	h->webfd = open_dir(inv->grid.web, "grid.web");
}

static void
register_metrics(struct http_state *h)
{
	static const char *const cls[6] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };

	for (int rt = 0; rt < RT_COUNT; rt++) {
		for (int k = 2; k < 6; k++)
			h->requests[rt][k] = metric_counterf("gridboot_http_requests_total",
			    "HTTP requests answered, by route and status class",
			    "route=\"%s\",code=\"%s\"", route_names[rt], cls[k]);
		h->bytes[rt] = metric_counterf("gridboot_http_response_bytes_total",
		    "HTTP response body bytes queued, by route", "route=\"%s\"", route_names[rt]);
	}
	const struct metric_def defs[] = {
		{ &h->rejected_input, "gridboot_http_bad_requests_total", NULL,
		  "HTTP requests refused with a 4xx (bad input, unknown machine, no token)" },
		{ &h->m_refused_src, "gridboot_http_refused_total", "cap=\"source\"",
		  "HTTP connections refused at accept: over grid.http_per_source (IPv6 by /64)" },
		{ &h->m_header_timeouts, "gridboot_http_header_timeouts_total", NULL,
		  "HTTP connections closed for a request header not complete within HTTP_HEADER_S" },
		{ &h->m_small_hits, "gridboot_http_small_file_hits_total", NULL,
		  "Files under 64 KiB answered from memory (a response built once a second at most)" },
		{ &h->enroll.refused, "gridboot_http_enroll_refused_total", NULL,
		  "Enrolls refused: over the rate limits, or from an address without a lease for the MAC" },
	};
	metrics_register(defs, nelem(defs));
}

/* Closes what h holds and frees it: http_shutdown, or a failed init. */
static void
state_free(struct http_state *h)
{
	ev_timer_stop(h->d->loop, &h->restart_timer);
	ev_timer_stop(h->d->loop, &h->header_timer);
	stop_mhd(h);
	/* Again, for when MHD was not running (a failed start or restart):
	 * the keepalive and the subscription point into h. */
	http_sse_shutdown(h);
	http_files_flush(h);
	free(h->small);
	if (h->filesfd >= 0)
		close(h->filesfd);
	if (h->webfd >= 0)
		close(h->webfd);
	free(h);
}

static int
http_init(struct daemon *d, void **self)
{
	struct http_state *h = ecalloc(1, sizeof *h);

	*self = NULL;
	h->d = d;
	h->epfd = h->filesfd = h->webfd = h->listenfd = -1;
	h->sse.subscription = -1;
	ev_timer_init(&h->timer, on_timer, h);
	ev_timer_init(&h->restart_timer, restart, h);
	ev_timer_init(&h->header_timer, header_check, h);
	ev_timer_init(&h->start_timer, on_start_timer, h);
	h->enroll.src = (struct lim_table){ .v = h->enroll.src_v, .n = nelem(h->enroll.src_v) };
	register_metrics(h);
	open_roots(h, d->inv);
	http_sse_init(h);
	if (start_mhd(h, d->inv->grid.http_port) < 0) {
		state_free(h);
		return -1;
	}
	ev_add_turn_hook(d->loop, on_turn, h);
	*self = h;
	return 0;
}

/* A new port means a new MHD daemon. MHD may not be stopped while a
 * connection is suspended, and a role change's connection is resumed only
 * after the reload it waited for: the restart waits for a timer. */

static void
restart(void *arg)
{
	struct http_state *h = arg;

	log_info("http: (re)starting on port %d", h->d->inv->grid.http_port);
	stop_mhd(h);
	http_sse_init(h);
	if (start_mhd(h, h->d->inv->grid.http_port) < 0)
		log_err("http: not serving until the next good reload");
}

static void
http_reload(void *self, struct daemon *d, struct inventory *old)
{
	struct http_state *h = self;

	(void)old;
	open_roots(h, d->inv);
	/* Also when the last restart failed to listen: a reload that puts the
	 * old port back must bring HTTP back. */
	if (d->inv->grid.http_port != h->port || (h->mhd == NULL && h->listenfd < 0) ||
	    d->inv->grid.http_workers != h->workers)
		ev_timer_arm(d->loop, &h->restart_timer, 0);
}

static void
http_shutdown(void *self, struct daemon *d)
{
	ev_del_turn_hook(d->loop, on_turn, self);
	state_free(self);
}

/* Declared in server/modules.h, the table of every module. */
extern const struct module http_module;
const struct module http_module = {
	.name = "http",
	.init = http_init,
	.reload = http_reload,
	.shutdown = http_shutdown,
};
