/* The 9P module: TCP grid.p9_port (564) on core/conn, one p9_session per
 * connection, and the backends the attach name picks: an export named in
 * the inventory ("" is the root diskless machines mount) or, for "grid",
 * the grid tree. A blocked read (an events file) is answered when the
 * timeline moves. docs/9p.md. */
#include "p9/p9_export.h"
#include "p9/p9_grid.h"
#include "p9/p9_srv.h"
#include "boot/leases.h"
#include "boot/ndb.h"
#include "config/inventory.h"
#include "core/authgate.h"
#include "core/conn.h"
#include "core/events.h"
#include "core/fileroot.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/module.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a generated ndb laid over an export is made from: the daemon (its
 * current inventory), the path it is laid at as the client sees it, and
 * the export's directory (has it a /lib/ndb/common of its own?). */
struct ndb_src {
	struct p9_server *srv;
	char *self, *dir;
};

/* One export as served: refcounted, since fids opened before a reload keep
 * the export they were walked in until they are clunked. */
struct served {
	int refs;
	char *name;
	struct p9_export *x;
	struct ndb_src ndb[16];
	size_t nndb;
};

struct p9_server;

/* A connection's session, on the list the event wake-ups walk. */
struct p9_conn {
	struct p9_server *srv;
	struct conn *c;
	struct p9_session *s;
	struct p9_conn *prev, *next;
	bool versioned;
};

struct p9_server {
	struct daemon *d;
	struct conn_listener *l;
	int port;
	struct p9_grid *grid;
	struct served **exports;
	size_t nexports;
	struct p9_conn *conns;
	int subscription;
	uint64_t *m_attach, *m_bad;
};

/* ---- the attach-name mux: a backend over the grid tree and exports ---- */

struct mnode {
	const struct p9_backend *be;
	void *ctx;
	void *node;
	struct served *sv;              /* held while the node lives; NULL: grid */
};

/* An inner call's op: the inner backend's context, the outer's user. */
static struct p9_op
inner_op(const struct p9_op *op, const struct mnode *m)
{
	struct p9_op in = { .ctx = m->ctx, .uname = op->uname, .dialect = op->dialect };
	return in;
}

static void
take_ename(struct p9_op *op, const struct p9_op *in)
{
	if (in->ename[0])
		str_copy(op->ename, in->ename, sizeof op->ename);
}

static void
served_unref(struct served *sv)
{
	if (sv && --sv->refs == 0) {
		p9_export_free(sv->x);
		for (size_t i = 0; i < sv->nndb; i++) {
			free(sv->ndb[i].self);
			free(sv->ndb[i].dir);
		}
		free(sv->name);
		free(sv);
	}
}

static int
m_attach(struct p9_op *op, const char *aname, void **node, struct p9_qid *qid)
{
	struct p9_server *srv = op->ctx;
	struct mnode *m = ecalloc(1, sizeof *m);

	if (strcmp(aname, "grid") == 0) {
		m->be = &p9_grid_backend;
		m->ctx = srv->grid;
	} else {
		for (size_t i = 0; i < srv->nexports && m->sv == NULL; i++)
			if (strcmp(srv->exports[i]->name, aname) == 0)
				m->sv = srv->exports[i];
		if (m->sv == NULL) {
			free(m);
			snprintf(op->ename, sizeof op->ename, "no export \"%s\" (the grid has: grid%s)",
			    aname, srv->nexports ? " and its exports" : "");
			return -ENOENT;
		}
		m->sv->refs++;
		m->be = &p9_export_backend;
		m->ctx = m->sv->x;
	}
	struct p9_op in = inner_op(op, m);
	int rc = m->be->attach(&in, aname, &m->node, qid);
	take_ename(op, &in);
	if (rc < 0) {
		served_unref(m->sv);
		free(m);
		return rc;
	}
	(*srv->m_attach)++;
	*node = m;
	return 0;
}

static int
m_clone(struct p9_op *op, void *node, void **copy)
{
	struct mnode *m = node, *c = emalloc(sizeof *c);
	struct p9_op in = inner_op(op, m);

	*c = *m;
	int rc = m->be->clone(&in, m->node, &c->node);
	take_ename(op, &in);
	if (rc < 0) {
		free(c);
		return rc;
	}
	if (c->sv)
		c->sv->refs++;
	*copy = c;
	return 0;
}

/* Each forwarder: the inner call with the inner op, its reason kept. */
#define FORWARD(call) do { \
	struct mnode *m = node; \
	struct p9_op in = inner_op(op, m); \
	__typeof__(call) rc_ = call; \
	take_ename(op, &in); \
	return rc_; \
} while (0)

static int
m_walk1(struct p9_op *op, void *node, const char *name, struct p9_qid *qid)
{
	FORWARD(m->be->walk1(&in, m->node, name, qid));
}

static int
m_open(struct p9_op *op, void *node, uint8_t mode, struct p9_qid *qid)
{
	FORWARD(m->be->open(&in, m->node, mode, qid));
}

static int
m_create(struct p9_op *op, void *node, const char *name, uint32_t perm, uint8_t mode,
    struct p9_qid *qid)
{
	FORWARD(m->be->create(&in, m->node, name, perm, mode, qid));
}

static ssize_t
m_read(struct p9_op *op, void *node, uint64_t off, void *buf, uint32_t count)
{
	FORWARD(m->be->read(&in, m->node, off, buf, count));
}

static ssize_t
m_write(struct p9_op *op, void *node, uint64_t off, const void *buf, uint32_t count)
{
	FORWARD(m->be->write(&in, m->node, off, buf, count));
}

static int
m_stat(struct p9_op *op, void *node, struct p9_dir *d)
{
	FORWARD(m->be->stat(&in, m->node, d));
}

static int
m_wstat(struct p9_op *op, void *node, const struct p9_wstat *ws)
{
	FORWARD(m->be->wstat(&in, m->node, ws));
}

static int
m_remove(struct p9_op *op, void *node)
{
	FORWARD(m->be->remove(&in, m->node));
}

static int
m_readdir(struct p9_op *op, void *node, uint64_t index, struct p9_dir *d)
{
	FORWARD(m->be->readdir(&in, m->node, index, d));
}

static int
m_statfs(struct p9_op *op, void *node, struct p9_statfs *sf)
{
	if (((struct mnode *)node)->be->statfs == NULL) {
		memset(sf, 0, sizeof *sf);
		sf->type = 0x01021997;  /* V9FS_MAGIC */
		sf->bsize = 4096;
		sf->namelen = P9_NAMEMAX;
		return 0;
	}
	FORWARD(m->be->statfs(&in, m->node, sf));
}

static void
m_clunk(struct p9_op *op, void *node)
{
	struct mnode *m = node;
	struct p9_op in = inner_op(op, m);

	m->be->clunk(&in, m->node);
	served_unref(m->sv);
	free(m);
}

static const struct p9_backend mux_backend = {
	.attach = m_attach,
	.clone = m_clone,
	.walk1 = m_walk1,
	.open = m_open,
	.create = m_create,
	.read = m_read,
	.write = m_write,
	.stat = m_stat,
	.wstat = m_wstat,
	.remove = m_remove,
	.clunk = m_clunk,
	.readdir = m_readdir,
	.statfs = m_statfs,
};

/* ---- exports from the inventory ---- */

/* Looked up at each render: the site may add or remove it. */
static bool
has_ndb_common(const char *dir)
{
	struct stat st;
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = dfd < 0 ? -1 : fileroot_open_regular(dfd, "lib/ndb/common", &st);

	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return fd >= 0;
}

static char *
make_ndb(void *arg, size_t *len)
{
	struct ndb_src *ns = arg;

	return ndb_render_root(ns->srv->d->inv, ns->self, !has_ndb_common(ns->dir), len);
}

static uint32_t
inventory_version(void *arg)
{
	return (uint32_t)((struct ndb_src *)arg)->srv->d->inv->serial;
}

static struct served *
serve_export(struct p9_server *srv, const struct export *e)
{
	struct p9_overlay ov[16];
	size_t nov = 0;
	char err[256];
	struct served *sv = ecalloc(1, sizeof *sv);

	sv->refs = 1;
	sv->name = estrdup(e->name);
	for (size_t i = 0; i < e->generated.n && nov < nelem(ov); i++)
		if (strcmp(e->generated.v[i].val, "ndb") == 0) {
			struct ndb_src *ns = &sv->ndb[sv->nndb++];
			*ns = (struct ndb_src){ srv, esprintf("/%s", e->generated.v[i].key),
			    estrdup(e->path) };
			ov[nov++] = (struct p9_overlay){ e->generated.v[i].key, make_ndb,
			    inventory_version, ns };
		}
	struct p9_export_opts o = { .dir = e->path, .writable = (const char *const *)e->writable,
	    .owner = e->owner, .overlays = ov, .noverlays = nov };
	sv->x = p9_export_new(&o, err, sizeof err);
	if (sv->x == NULL) {
		log_warn("9p: export \"%s\": %s; not served", e->name, err);
		served_unref(sv);
		return NULL;
	}
	return sv;
}

/* The inventory's exports, replacing the list (fids keep the old ones). */
static void
load_exports(struct p9_server *srv)
{
	const struct inventory *inv = srv->d->inv;

	for (size_t i = 0; i < srv->nexports; i++)
		served_unref(srv->exports[i]);
	free(srv->exports);
	srv->exports = ecalloc(inv->nexports + 1, sizeof *srv->exports);
	srv->nexports = 0;
	for (size_t i = 0; i < inv->nexports; i++) {
		struct served *sv = serve_export(srv, &inv->exports[i]);
		if (sv)
			srv->exports[srv->nexports++] = sv;
	}
}

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

static void
p9_on_open(struct conn *c)
{
	struct p9_server *srv = conn_listener_arg(conn_listener_of(c));
	struct p9_conn *pc = ecalloc(1, sizeof *pc);

	pc->srv = srv;
	pc->c = c;
	pc->s = p9_session_new(&mux_backend, srv, 0);
	if (srv->d->inv->grid.p9_auth) {
		void *arg;
		const struct authgate_ops *gate = authgate_get(&arg);
		p9_session_set_auth(pc->s, gate, arg, true);
		p9_session_set_guest_none(pc->s, !srv->d->inv->grid.p9_nonone);
		if (gate == NULL)
			log_warn("9p: grid.p9_auth is set but the auth server has no keys: "
			    "every attach is refused");
	}
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
	if (p[4] == P9_TATTACH && out.len > 4 && out.data[4] == P9_RATTACH)
		attached(pc, p, len);
	if (p[4] == P9_TVERSION) {
		/* Frames after Tversion are bounded by the msize it fixed. */
		conn_set_max_frame(c, p9_session_msize(pc->s));
		conn_established(c);
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

/* A mounted root stays idle for hours: no idle timeout. A client that
 * stops reading its replies is cut after a minute. */
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
	    srv->nexports);
	return 0;
}

static void p9_shutdown(void *self, struct daemon *d);

static int
p9_init(struct daemon *d, void **self)
{
	struct p9_server *srv = ecalloc(1, sizeof *srv);

	srv->d = d;
	srv->grid = p9_grid_new(d);
	srv->m_attach = metric_counter("gridboot_9p_attaches_total", NULL, "9P attaches");
	srv->m_bad = metric_counter("gridboot_9p_bad_frames_total", NULL,
	    "9P frames too broken to answer");
	load_exports(srv);
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
	load_exports(srv);
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
	for (size_t i = 0; i < srv->nexports; i++)
		served_unref(srv->exports[i]);
	free(srv->exports);
	p9_grid_free(srv->grid);
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
