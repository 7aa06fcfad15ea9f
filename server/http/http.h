/* Internal to the HTTP module (server/http*.c): the shared state, the
 * reply helpers every route uses, and each route's entry point.
 *
 * libmicrohttpd runs either on the loop (grid.http_workers = 0: driven
 * through its epoll descriptor) or in grid.http_workers threads of its
 * own, which take the loop's big lock (core/evloop.h) around every call
 * into this module (http_enter/http_leave). Either way one thread at a
 * time runs the code here, so a route handler may read the inventory and
 * the stores directly; the threads' sockets and parsing run in parallel. */
#ifndef GRIDBOOT_HTTP_H
#define GRIDBOOT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <jansson.h>
#include <microhttpd.h>

#include "core/limiter.h"
#include "core/log.h"
#include "core/module.h"
#include "config/inventory.h"

#define HTTP_MAX_URL 1024           /* longer request targets get 414 */
#define HTTP_MAX_HEADERS 8192       /* more header bytes get 431 */
#define HTTP_MAX_BODY (64 * 1024)   /* larger request bodies get 413 */
/* MHD's memory per connection. It zeroes all of it after each request
 * (5-9 % of a small request at 64 KiB), but 32 KiB made MHD refuse an
 * oversized header while more of it was still arriving, and the reset
 * that closing with unread bytes sends could beat the 431 to the client
 * (http_bad.sh failed once in four runs). */
#define HTTP_CONN_POOL (64 * 1024)
#define HTTP_IDLE_S 30              /* no progress either way for this long: closed */
/* The whole request header, from accept (or from the end of the previous
 * request on a kept-alive connection) to its blank line: a client that
 * trickles header lines to keep its slot is closed after this long,
 * however often it speaks (MHD's timeout restarts at every byte). */
#define HTTP_HEADER_S 15

/* Which part of the server a request went to (a label on the counters). */
enum http_route {
	RT_BOOT, RT_FILES, RT_API, RT_EVENTS, RT_METRICS, RT_WEB, RT_OTHER, RT_COUNT
};

struct http_state;

/* One request in flight: kept in MHD's per-request pointer. */
struct http_req {
	struct http_state *h;       /* the module's state (MHD's cls) */
	enum http_route route;
	bool mutating;              /* POST/PUT/DELETE */
	bool head;                  /* HEAD: the headers only (MHD drops the body) */
	bool rejected;              /* a reply is queued already; drop the body */
	char *body;
	size_t len, cap;
	bool too_big;
	/* A role change waiting for the reload it asked for (http_api.c). */
	struct reload_waiter waiter;
	struct MHD_Connection *conn;
	uint8_t mac[6];
	bool reload_done, reload_ok;
	bool removed;               /* a DELETE of an assignment: answer ok */
	bool power_cycle;           /* a role change asked to power cycle into it */
	/* An enroll waiting for its facts to be on disk (http_api.c). */
	struct http_req *next_enroll;
	bool enroll_done, enroll_ok;
};


/* The event streams (http_sse.c): every open stream, the one events
 * subscription that feeds them, the keepalive timer. */
struct sse;
struct http_sse_hub {
	struct sse *clients;
	int nclients;
	int subscription;           /* -1: none */
	struct ev_timer keepalive;
	struct ev_timer watch;      /* stalled streams (http_sse.c) */
	uint64_t *m_clients, *m_events, *m_dropped, *m_stalled;
};

/* http_api.c's enroll limits (core/limiter.h): a bucket per source (an
 * IPv6 source by its /64) and one shared by the enrolls that pass the
 * lease check. */
struct http_enroll_limit {
	struct lim_bucket all;
	struct lim_slot src_v[256];
	struct lim_table src;
	uint64_t *refused;          /* 403 and 429 answers */
};

/* One open connection (MHD's socket context, http.c): its source key
 * (IPv6 by /64) for grid.http_per_source, and since when it has been
 * waiting for a request header (0: a request is in progress). */
struct http_conn {
	struct http_conn *next, *prev;
	struct MHD_Connection *c;
	uint8_t key[LIM_KEYLEN];
	uint64_t wait_since;        /* mono_ms */
	bool refused;               /* over the source's cap: being closed */
	/* With workers, our own duplicate of the socket: the loop shuts a
	 * connection down or reads its TCP state through it, never through
	 * MHD's descriptor, which a worker may close (and the kernel give to
	 * a new file) before MHD tells us the connection is gone. -1: none. */
	int fd;
};

/* The module's state: http_init allocates it and returns it as the
 * module's pointer; MHD's cls, the loop's callbacks and each request
 * (struct http_req's h) reach it from there. http_shutdown frees it. */
struct http_state {
	struct daemon *d;
	struct MHD_Daemon *mhd;
	int port;
	int epfd;                   /* MHD's epoll descriptor, in our loop */
	struct ev_timer timer;      /* MHD's own timeouts */
	int filesfd;                /* O_PATH of grid.files, -1 if missing */
	int webfd;                  /* O_PATH of grid.web, -1 if missing */
	uint64_t *requests[RT_COUNT][6];    /* by route and status class */
	uint64_t *bytes[RT_COUNT];
	uint64_t *rejected_input;   /* bad requests of any kind */
	struct ratelimit rl_bad, rl_mhd;
	struct ev_timer restart_timer;  /* a new port: restart MHD outside its callbacks */
	struct http_sse_hub sse;
	struct http_enroll_limit enroll;
	struct http_req *enrolls;   /* answered once the discovered store is synced */
	struct http_conn *conns;    /* every open connection */
	struct ev_timer header_timer;   /* HTTP_HEADER_S, checked each second */
	uint64_t *m_refused_src, *m_header_timeouts;
	struct ratelimit rl_cap;
	/* Workers (http.c): 0 while MHD runs on the loop. Set only while
	 * MHD is stopped, so its threads read it without the lock. */
	int workers;
	int listenfd;               /* bound at init as root; MHD's once started */
	bool stopping;              /* MHD is being stopped: suspend nothing */
	bool want_turn;             /* a handler left work for the loop's turn */
	int nworker_ids;            /* worker threads that have served a request */
	struct ev_timer start_timer;    /* workers start after the privilege drop */
	uint64_t *m_worker[64];     /* requests by worker */
	struct http_small *small;   /* small files' responses (http_files.c) */
	uint64_t *m_small_hits;
};

/* Around every callback from libmicrohttpd into this module: the loop's
 * big lock when MHD runs in threads of its own (nothing on the loop). */
bool http_enter(struct http_state *h);
void http_leave(struct http_state *h, bool locked);
/* MHD on the loop must run this turn (a connection was resumed); a no-op
 * for workers, which MHD_resume_connection wakes itself. */
void http_run_now(struct http_state *h);

/* Reply helpers. Each queues a response on c and returns what the access
 * handler must return. They count the request by route and status. */
enum MHD_Result http_reply(struct MHD_Connection *c, struct http_req *r,
    unsigned status, struct MHD_Response *resp);
/* The same for a response kept (a cached file's): not destroyed. */
enum MHD_Result http_reply_shared(struct MHD_Connection *c, struct http_req *r,
    unsigned status, struct MHD_Response *resp);
/* Takes ownership of data (malloc'd). */
enum MHD_Result http_reply_text(struct MHD_Connection *c, struct http_req *r,
    unsigned status, const char *ctype, char *data, size_t len);
/* Takes the reference to j. */
enum MHD_Result http_reply_json(struct MHD_Connection *c, struct http_req *r,
    unsigned status, json_t *j);
/* {"error": "..."} with status; counts the request as bad input. */
enum MHD_Result http_error(struct MHD_Connection *c, struct http_req *r,
    unsigned status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The IPv4 address of the client (host order); false for another family. */
bool http_client_ip(struct MHD_Connection *c, uint32_t *ip);
/* The client's address as 16 bytes, an IPv4 one as ::ffff:a.b.c.d, for
 * per-source limits over both families. */
bool http_client_addr(struct MHD_Connection *c, uint8_t addr[16]);
/* The MAC of the machine asking, from its source address and the leases. */
bool http_client_mac(const struct http_state *h, struct MHD_Connection *c, uint8_t mac[6]);
const char *http_header(struct MHD_Connection *c, const char *name);
/* The connection's socket for the loop's own calls (shutdown, TCP_INFO):
 * our duplicate with workers (struct http_conn), else MHD's; -1 if none. */
int http_socket(struct MHD_Connection *c);
const char *http_arg(struct MHD_Connection *c, const char *name);

/* Routes. path has no leading slash. Each returns true when it handled the
 * request (and stores the handler's result in *res). */
bool http_boot(struct MHD_Connection *c, struct http_req *r, const char *path,
    enum MHD_Result *res);
enum MHD_Result http_files(struct MHD_Connection *c, struct http_req *r,
    int rootfd, const char *path, bool is_web);
/* Drops the small files' cache (a reload: the roots change). */
void http_files_flush(struct http_state *h);
enum MHD_Result http_api(struct MHD_Connection *c, struct http_req *r,
    const char *method, const char *path);
/* Authorization: Bearer <grid.api_token>, compared in constant time; never
 * true when the inventory sets no token. */
bool http_api_authorized(const struct http_state *hs, struct MHD_Connection *c);
/* Enrolls wait, suspended, for the end of the loop turn: one write of
 * the discovered store makes all of them durable, then each is answered
 * (http_api_enroll_answer), so a 200 survives a crash. */
void http_api_enrolls_sync(struct http_state *h);
enum MHD_Result http_api_enroll_answer(struct MHD_Connection *c, struct http_req *r);
/* Answers a role change once the reload it waited for has run. */
enum MHD_Result http_api_reload_answer(struct MHD_Connection *c, struct http_req *r);
enum MHD_Result http_metrics(struct MHD_Connection *c, struct http_req *r);

/* The event stream (http_sse.c). */
void http_sse_init(struct http_state *h);
void http_sse_shutdown(struct http_state *h);
enum MHD_Result http_sse(struct MHD_Connection *c, struct http_req *r);

/* One boot event as the API and the event stream show it. */
struct bootevent;
json_t *http_api_event_json(const struct bootevent *ev);



#endif
