/* The attach-name multiplexer (p9_mux.h): one backend in front of the grid
 * tree and the inventory's exports, so that a session has one backend and
 * each fid remembers which tree it was attached in. */
#include "p9/p9_mux.h"
#include "p9/p9_export.h"
#include "p9/p9_grid.h"
#include "boot/ndb.h"
#include "config/inventory.h"
#include "core/fileroot.h"
#include "core/log.h"
#include "core/module.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One export as served: refcounted, since fids opened before a reload keep
 * the export they were walked in until they are clunked. */
/* What a generated ndb laid over an export is made from: the mux (the
 * daemon's current inventory), the path it is laid at as the client sees
 * it, and the export's directory (has it a /lib/ndb/common of its own?). */
struct ndb_src {
	struct p9_mux *mx;
	char *self, *dir;
};

struct served {
	int refs;
	char *name;
	struct p9_export *x;
	struct ndb_src ndb[16];
	size_t nndb;
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
	struct p9_op in = { .ctx = m->ctx, .uname = op->uname, .dialect = op->dialect,
	    .budget = op->budget };
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
	struct p9_mux *mx = op->ctx;
	struct mnode *m = ecalloc(1, sizeof *m);

	if (strcmp(aname, "grid") == 0) {
		m->be = &p9_grid_backend;
		m->ctx = mx->grid;
	} else {
		for (size_t i = 0; i < mx->nexports && m->sv == NULL; i++)
			if (strcmp(mx->exports[i]->name, aname) == 0)
				m->sv = mx->exports[i];
		if (m->sv == NULL) {
			free(m);
			snprintf(op->ename, sizeof op->ename, "no export \"%s\" (the grid has: grid%s)",
			    aname, mx->nexports ? " and its exports" : "");
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
	(*mx->m_attach)++;
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

const struct p9_backend p9_mux_backend = {
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

	return ndb_render_root(ns->mx->d->inv, ns->self, !has_ndb_common(ns->dir), len);
}

static uint32_t
inventory_version(void *arg)
{
	return (uint32_t)((struct ndb_src *)arg)->mx->d->inv->serial;
}

static struct served *
serve_export(struct p9_mux *mx, const struct export *e)
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
			*ns = (struct ndb_src){ mx, esprintf("/%s", e->generated.v[i].key),
			    estrdup(e->path) };
			ov[nov++] = (struct p9_overlay){ e->generated.v[i].key, make_ndb,
			    inventory_version, ns };
		}
	struct p9_export_opts o = { .dir = e->path, .writable = (const char *const *)e->writable,
	    .owner = e->owner, .overlays = ov, .noverlays = nov, .fds = &mx->fds };
	sv->x = p9_export_new(&o, err, sizeof err);
	if (sv->x == NULL) {
		log_warn("9p: export \"%s\": %s; not served", e->name, err);
		served_unref(sv);
		return NULL;
	}
	return sv;
}

/* The inventory's exports, replacing the list (fids keep the old ones). */
void
p9_mux_load_exports(struct p9_mux *mx)
{
	const struct inventory *inv = mx->d->inv;

	for (size_t i = 0; i < mx->nexports; i++)
		served_unref(mx->exports[i]);
	free(mx->exports);
	mx->exports = ecalloc(inv->nexports + 1, sizeof *mx->exports);
	mx->nexports = 0;
	for (size_t i = 0; i < inv->nexports; i++) {
		struct served *sv = serve_export(mx, &inv->exports[i]);
		if (sv)
			mx->exports[mx->nexports++] = sv;
	}
}

void
p9_mux_free_exports(struct p9_mux *mx)
{
	for (size_t i = 0; i < mx->nexports; i++)
		served_unref(mx->exports[i]);
	free(mx->exports);
	mx->exports = NULL;
	mx->nexports = 0;
}
