/* conn: TCP listeners and framed, bounded connections on the event loop,
 * for the stream services (the 9P file server, the Plan 9 auth server).
 *
 * A listener accepts on an IPv4 address and hands each connection to its
 * service through four callbacks (struct conn_ops). The layer owns the
 * socket, the read buffer, the write queue and the timers; the service
 * owns only what it hangs on conn_set_user.
 *
 * Reading is framed. After every read the layer asks ops->frame about the
 * bytes buffered so far and the service answers
 *	CONN_FRAME_MORE (0)	cannot tell yet, read more;
 *	CONN_FRAME_BAD (-1)	these bytes never start a valid frame;
 *	n > 0			the frame starting here is n bytes long, as
 *				soon as its header says so (n may be more
 *				than is buffered: the layer reads the rest).
 * A frame of more than the connection's max frame size (conn_limits
 * max_frame, later conn_set_max_frame, e.g. after 9P Tversion fixes
 * msize) closes the connection before a byte of it is allocated, and so
 * does an undecided prefix that has reached that size. The read buffer is
 * never larger than max(max_frame, CONN_RBUF_MIN). ops->on_frame gets
 * each complete frame in order; the pointer is valid for that call only.
 *
 * Writing is queued. conn_send copies the bytes into the connection's
 * write queue and writes what the socket takes at once; the rest goes out
 * as the socket drains. Once more than high_water bytes wait, the layer
 * stops reading the connection (and stops handing it buffered frames)
 * until fewer than low_water wait, so a client that sends requests and
 * never reads the replies costs at most the read buffer plus high_water
 * plus what one frame's handler queues. A queue that would pass
 * queue_max closes the connection ("write queue overflow").
 *
 * Timeouts (0 disables one), all on the monotonic clock:
 *	handshake_ms	from accept until the service calls
 *			conn_established (9P Tversion, the auth exchange);
 *	idle_ms		no complete frame received and nothing queued for
 *			this long (a queue that drains restarts the count);
 *	stall_ms	queued bytes that make no progress for this long.
 *
 * Accepting drains the listening socket up to ACCEPT_BURST (512) per
 * wakeup; being level-triggered, the rest comes next turn, after the other
 * descriptors had theirs. Accepted sockets get TCP_NODELAY.
 *
 * Caps: max_conns connections on the listener and max_per_addr from one
 * source address. A connection over a cap is accepted and closed at once,
 * without any callback, and counted. When accept runs out of descriptors
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) the listener stops accepting for
 * CONN_ACCEPT_PAUSE_MS instead of spinning on the pending connection.
 *
 * Callbacks and closing. on_open, on_frame and on_close run from the event
 * loop, never from inside a conn_* call the service makes, with one
 * exception: conn_close itself calls on_close before it returns. on_close
 * runs exactly once for every connection the service saw (each that got
 * on_open, or would have had it been set), with a reason; after it the
 * service must drop its pointer to the connection. The layer frees
 * the connection (buffers, socket, epoll registration, timer) after
 * on_close; when conn_close is called from inside one of that
 * connection's callbacks the free waits until the callback returns, so a
 * handler may close its own connection and return normally (the frame it
 * was given stays readable until then). conn_send never closes
 * synchronously: an error or an overflow closes the connection from the
 * loop a moment later, and conn_send returns -1.
 *
 * Everything is single-threaded like the rest of the daemon. */
#ifndef GRIDBOOT_CONN_H
#define GRIDBOOT_CONN_H

#include "core/evloop.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONN_FRAME_MORE 0
#define CONN_FRAME_BAD (-1)

#define CONN_RBUF_MIN 8192          /* smallest read buffer, bytes */
#define CONN_ACCEPT_PAUSE_MS 100    /* accept pause after EMFILE and kin */

struct conn;
struct conn_listener;

/* Why a connection closed; each has a counter and a string for on_close
 * (conn_close passes the service's own string, counted as CONN_SERVICE). */
enum conn_reason {
	CONN_PEER,          /* "peer closed" */
	CONN_ERROR,         /* "error": a socket error */
	CONN_BAD_FRAME,     /* "bad frame": ops->frame said CONN_FRAME_BAD */
	CONN_TOO_BIG,       /* "frame too large" */
	CONN_HANDSHAKE,     /* "handshake timeout" */
	CONN_IDLE,          /* "idle timeout" */
	CONN_STALL,         /* "write stall" */
	CONN_OVERFLOW,      /* "write queue overflow" */
	CONN_SERVICE,       /* conn_close */
	CONN_SHUTDOWN,      /* "shutdown": conn_listener_close */
	CONN_NREASONS
};

struct conn_ops {
	/* A new connection (optional). Set the user pointer, the max frame,
	 * maybe send a greeting; may close it. */
	void (*on_open)(struct conn *c);
	/* Framing, as above. Must not call conn_* functions that change
	 * the connection; it only looks at bytes. */
	int64_t (*frame)(struct conn *c, const uint8_t *p, size_t len);
	/* One complete frame; p is valid for this call only. */
	void (*on_frame)(struct conn *c, const uint8_t *p, size_t len);
	/* The end, exactly once; reason is valid for this call only. */
	void (*on_close)(struct conn *c, const char *reason);
};

struct conn_limits {
	size_t max_frame;       /* initial max frame size; must be > 0 */
	size_t high_water;      /* stop reading above this many queued bytes */
	size_t low_water;       /* read again below this many */
	size_t queue_max;       /* queued bytes that close; 0: 4 * high_water */
	uint32_t handshake_ms;
	uint32_t idle_ms;
	uint32_t stall_ms;
	unsigned max_conns;     /* 0: no cap */
	unsigned max_per_addr;  /* 0: no cap */
};

/* Plain counters, also exported as gridboot_conn_* metrics labelled with
 * the listener's name. */
struct conn_stats {
	uint64_t accepted;          /* connections handed to the service */
	uint64_t refused_total;     /* closed at once: listener full */
	uint64_t refused_addr;      /* closed at once: source address full */
	uint64_t accept_paused;     /* pauses after EMFILE and kin */
	uint64_t read_paused;       /* times reading stopped for backpressure */
	uint64_t closed[CONN_NREASONS];
	uint64_t open;              /* connections now */
	uint64_t queued_peak;       /* most bytes any connection had queued */
	uint64_t rbuf_peak;         /* largest read buffer allocated */
};

/* Listens on addr:port (addr in host byte order, port 0 for any). name
 * labels the metrics and the log lines and is copied. lim is copied; arg
 * is the service's, returned by conn_listener_arg. NULL with errno set
 * when the socket cannot be bound. */
struct conn_listener *conn_listen(struct evloop *loop, const char *name,
    uint32_t addr, uint16_t port, const struct conn_ops *ops,
    const struct conn_limits *lim, void *arg);
/* Closes every connection (reason "shutdown") and the socket, and frees
 * the listener. Not from inside one of its connections' callbacks. */
void conn_listener_close(struct conn_listener *l);
uint16_t conn_listener_port(const struct conn_listener *l);   /* the bound port */
void *conn_listener_arg(const struct conn_listener *l);
const struct conn_stats *conn_listener_stats(const struct conn_listener *l);
const char *conn_reason_name(enum conn_reason r);

/* Queues len bytes (copied). 0, or -1 when the connection is closed or
 * closing (see above). */
int conn_send(struct conn *c, const void *data, size_t len);
/* Closes now: on_close(c, reason) runs before this returns. Safe from the
 * connection's own callbacks; a second call does nothing. */
void conn_close(struct conn *c, const char *reason);
/* The handshake is over: stops the handshake timeout. */
void conn_established(struct conn *c);
/* Changes this connection's idle timeout (0: none) from now on, e.g. while
 * a person types at the other end. */
void conn_set_idle(struct conn *c, uint32_t ms);
/* Changes the max frame size, e.g. to the negotiated msize. Bytes already
 * buffered are checked against it with the next frame. */
void conn_set_max_frame(struct conn *c, size_t max);

void conn_set_user(struct conn *c, void *user);
void *conn_user(const struct conn *c);
struct conn_listener *conn_listener_of(const struct conn *c);
const struct sockaddr_in *conn_peer(const struct conn *c);
const char *conn_peer_str(const struct conn *c);   /* "10.0.0.5:41234" */
size_t conn_queued(const struct conn *c);           /* bytes not yet sent */
bool conn_reading(const struct conn *c);            /* EPOLLIN registered */
uint64_t conn_now(const struct conn *c);            /* the loop's ev_now */
struct evloop *conn_loop(const struct conn *c);

#endif
