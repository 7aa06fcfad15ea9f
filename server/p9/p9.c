/* The 9P module: TCP grid.p9_port (564) on core/conn, one p9_session per
 * connection over the attach-name multiplexer (p9_mux.c: an export named
 * in the inventory, "" the root diskless machines mount, or "grid", the
 * grid tree). A blocked read (an events file) is answered when the
 * timeline moves. docs/9p.md. */
#include "p9/p9_grid.h"
#include "p9/p9_mux.h"
#include "p9/p9_srv.h"
#include "boot/leases.h"
#include "config/inventory.h"
#include "core/authgate.h"
#include "core/conn.h"
#include "core/events.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/module.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct p9_server;

/* A connection's session, on the list the event wake-ups walk. */
struct p9_conn {
	struct p9_server *srv;
	struct conn *c;
	struct p9_session *s;
	struct p9_conn *prev, *next;
	bool versioned;
	bool attached;                  /* the handshake is over */
	bool auth, nonone;              /* the policy the session was given */
	uint32_t idle_ms;               /* what conn_set_idle was last told */
};

/* A session that holds no fid (it never attached, or clunked them all)
 * is closed after this long without a frame; one that holds fids (a
 * mounted root, idle for hours) is not. */
#define FIDLESS_IDLE_MS 10000

/* Every session together holds at most this many bytes of listings and
 * generated texts (each P9_SESSION_BYTES): past it, "out of 9P memory on
 * this server". */
#define P9_TOTAL_BYTES (128u << 20)

struct p9_server {
	struct daemon *d;
	struct conn_listener *l;
	int port;
	struct p9_mux mux;              /* the sessions' backend context */
	struct p9_budget total;         /* bytes every session's fids hold */
	struct p9_conn *conns;
	int subscription;
	uint64_t *m_bad;
};

/* ---- connections ---- */

static void
send_reply(struct p9_conn *pc, const struct p9_reply *out)
{
	if (out->len > 0)
		conn_send(pc->c, out->data, out->len);
}

/* Blocked reads that can be answered now. */
static void
resume(struct p9_conn *pc)
{
	struct p9_reply out;

	while (p9_session_resume(pc->s, &out))
		send_reply(pc, &out);
}

static int64_t
p9_frame(struct conn *c, const uint8_t *p, size_t len)
{
	(void)c;
	if (len < 4)
		return CONN_FRAME_MORE;
	uint32_t size = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	return size < P9_HDRSZ ? CONN_FRAME_BAD : (int64_t)size;
}

/* The inventory's authentication policy, onto the session. */
static void
set_policy(struct p9_conn *pc)
{
	const struct grid *gr = &pc->srv->d->inv->grid;

	pc->auth = gr->p9_auth;
	pc->nonone = gr->p9_nonone;
	if (!gr->p9_auth) {
		p9_session_set_auth(pc->s, NULL, NULL, false);
		return;
	}
	void *arg;
	const struct authgate_ops *gate = authgate_get(&arg);
	p9_session_set_auth(pc->s, gate, arg, true);
	p9_session_set_guest_none(pc->s, !gr->p9_nonone);
	if (gate == NULL)
		log_warn("9p: grid.p9_auth is set but the auth server has no keys: "
		    "every attach is refused");
}

/* After a reload: a session let in under a looser policy than the new
 * one (p9_auth turned on, or p9_nonone with a session that never proved
 * anyone) is closed, so that no fid outlives the rule that would refuse
 * it; the others take the new policy. */
static void
recheck_sessions(struct p9_server *srv)
{
	const struct grid *gr = &srv->d->inv->grid;

	for (struct p9_conn *pc = srv->conns, *next; pc; pc = next) {
		next = pc->next;
		bool tighter = (gr->p9_auth && !pc->auth) ||
		    (gr->p9_auth && gr->p9_nonone && !pc->nonone &&
		    !p9_session_authenticated(pc->s));
		if (tighter)
			conn_close(pc->c, "9P authentication policy changed by reload");
		else if (pc->auth != gr->p9_auth || pc->nonone != gr->p9_nonone)
			set_policy(pc);
	}
}

static void
p9_on_open(struct conn *c)
{
	struct p9_server *srv = conn_listener_arg(conn_listener_of(c));
	struct p9_conn *pc = ecalloc(1, sizeof *pc);

	pc->srv = srv;
	pc->c = c;
	pc->s = p9_session_new(&p9_mux_backend, &srv->mux, 0);
	p9_session_set_budget(pc->s, P9_SESSION_BYTES, &srv->total);
	set_policy(pc);
	pc->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = pc;
	srv->conns = pc;
	conn_set_user(c, pc);
	conn_set_max_frame(c, p9_session_msize(pc->s));
}

/* A machine that attached is up: the step goes on its timeline (found by
 * its address through DHCP's leases). */
static void
attached(struct p9_conn *pc, const uint8_t *p, size_t len)
{
	struct p9_fcall f;
	const char *why;
	uint8_t mac[6];
	uint32_t ip = ntohl(conn_peer(pc->c)->sin_addr.s_addr);

	if (p9_decode(p, len, p9_session_dialect(pc->s), &f, &why) < 0 ||
	    !leases_mac_for_ip(pc->srv->d->inv, ip, mac))
		return;
	events_emit(mac, EVK_9P, "9P attach \"%.*s\" as %.*s", f.aname.len, f.aname.s,
	    f.uname.len, f.uname.s);
}

static void
p9_on_frame(struct conn *c, const uint8_t *p, size_t len)
{
	struct p9_conn *pc = conn_user(c);
	struct p9_reply out;

	if (!p9_session_handle(pc->s, p, len, &out)) {
		(*pc->srv->m_bad)++;
		conn_close(c, "undecodable 9P frame");
		return;
	}
	send_reply(pc, &out);
	if (p[4] == P9_TATTACH && out.len > 4 && out.data[4] == P9_RATTACH) {
		attached(pc, p, len);
		if (!pc->attached)      /* the handshake ends at the first attach */
			conn_established(c);
		pc->attached = true;
	}
	if (p[4] == P9_TVERSION)        /* later frames: bounded by its msize */
		conn_set_max_frame(c, p9_session_msize(pc->s));
	uint32_t idle = p9_session_nfids(pc->s) == 0 ? FIDLESS_IDLE_MS : 0;
	if (idle != pc->idle_ms) {
		pc->idle_ms = idle;
		conn_set_idle(c, idle);
	}
	if (p9_session_npending(pc->s))
		resume(pc);
}

static void
p9_on_close(struct conn *c, const char *reason)
{
	struct p9_conn *pc = conn_user(c);

	(void)reason;
	if (pc == NULL)
		return;
	if (pc->prev)
		pc->prev->next = pc->next;
	else
		pc->srv->conns = pc->next;
	if (pc->next)
		pc->next->prev = pc->prev;
	p9_session_free(pc->s);
	free(pc);
}

static const struct conn_ops p9_ops = {
	.on_open = p9_on_open,
	.frame = p9_frame,
	.on_frame = p9_on_frame,
	.on_close = p9_on_close,
};

/* A new event may answer blocked reads of events files. */
static void
on_event(const struct bootevent *ev, void *arg)
{
	struct p9_server *srv = arg;

	(void)ev;
	for (struct p9_conn *pc = srv->conns, *next; pc; pc = next) {
		next = pc->next;
		if (p9_session_npending(pc->s))
			resume(pc);
	}
}

/* A mounted root stays idle for hours: no idle timeout while a session
 * holds fids (FIDLESS_IDLE_MS otherwise). The handshake (Tversion, the
 * auth exchange, the first attach) has 10 s. A client that stops reading
 * its replies is cut after a minute. */
static const struct conn_limits p9_limits = {
	.max_frame = P9_DEFAULT_MSIZE,
	.high_water = 4 * P9_DEFAULT_MSIZE,
	.low_water = P9_DEFAULT_MSIZE,
	.handshake_ms = 10000,
	.stall_ms = 60000,
	.max_conns = 1024,
	.max_per_addr = 64,
};

static int
listen_on(struct p9_server *srv, int port)
{
	srv->l = conn_listen(srv->d->loop, "9p", 0, (uint16_t)port, &p9_ops, &p9_limits, srv);
	if (srv->l == NULL) {
		log_err("9p: tcp port %d: %s", port, strerror(errno));
		return -1;
	}
	srv->port = port;
	log_info("9p: listening on tcp port %d; %zu export(s) and the grid tree", port,
	    srv->mux.nexports);
	return 0;
}

static void p9_shutdown(void *self, struct daemon *d);

static int
p9_init(struct daemon *d, void **self)
{
	struct p9_server *srv = ecalloc(1, sizeof *srv);

	srv->d = d;
	srv->mux.d = d;
	srv->mux.grid = p9_grid_new(d);
	const struct metric_def defs[] = {
		{ &srv->mux.m_attach, "gridboot_9p_attaches_total", NULL, "9P attaches" },
		{ &srv->m_bad, "gridboot_9p_bad_frames_total", NULL, "9P frames too broken to answer" },
	};
	metrics_register(defs, nelem(defs));
	srv->total.max = P9_TOTAL_BYTES;
	srv->total.gauge = metric_gauge("gridboot_9p_bytes_held", NULL,
	    "Bytes of directory listings and generated texts 9P fids hold");
	srv->mux.fds.max = FD_9P_FILES;
	srv->mux.fds.gauge = metric_gauge("gridboot_9p_open_files", NULL,
	    "Descriptors of files 9P clients hold open (one per file, shared by its fids)");
	p9_mux_load_exports(&srv->mux);
	srv->subscription = events_subscribe(on_event, srv);
	if (listen_on(srv, d->inv->grid.p9_port) < 0) {
		/* The daemon shuts down only modules that started. */
		p9_shutdown(srv, d);
		return -1;
	}
	*self = srv;
	return 0;
}

static void
p9_reload(void *self, struct daemon *d, struct inventory *old)
{
	struct p9_server *srv = self;

	(void)old;
	p9_mux_load_exports(&srv->mux);
	recheck_sessions(srv);
	if (d->inv->grid.p9_port != srv->port) {
		struct conn_listener *was = srv->l;
		int wasport = srv->port;
		if (listen_on(srv, d->inv->grid.p9_port) == 0)
			conn_listener_close(was);
		else {
			srv->l = was;
			srv->port = wasport;
		}
	}
}

static void
p9_shutdown(void *self, struct daemon *d)
{
	struct p9_server *srv = self;

	(void)d;
	if (srv == NULL)
		return;
	if (srv->l)
		conn_listener_close(srv->l);    /* closes every session */
	events_unsubscribe(srv->subscription);
	p9_mux_free_exports(&srv->mux);
	p9_grid_free(srv->mux.grid);
	free(srv);
}

/* Declared in server/modules.h, the table of every module. */
extern const struct module p9_module;
const struct module p9_module = {
	.name = "9p",
	.init = p9_init,
	.reload = p9_reload,
	.shutdown = p9_shutdown,
};
