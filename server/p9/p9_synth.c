/* The synthetic file tree (see p9_synth.h). */
#include "p9/p9_synth.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct p9_synth_node {
	char *name;
	bool isdir;
	uint32_t perm;
	uint64_t path;                  /* qid.path: unique in the tree */
	uint32_t vers;
	int64_t mtime_ns;
	struct p9_synth_node *parent;   /* the root is its own parent */
	struct p9_synth_node *child, *last, *next;
	p9_synth_read_fn *read;
	p9_synth_write_fn *write;
	void *arg;
};

struct p9_synth {
	struct p9_synth_node *root;
	uint64_t next_path;
	char owner[P9_UNAMEMAX];
};

/* One fid's view: where it is and, once opened, the text it reads. */
struct sfid {
	struct p9_synth_node *n;
	char *text;
	size_t len;
};

static struct p9_synth_node *
node_add(struct p9_synth *t, struct p9_synth_node *parent, const char *name, bool isdir)
{
	struct p9_synth_node *n = ecalloc(1, sizeof *n);

	n->name = estrdup(name);
	n->isdir = isdir;
	n->path = t->next_path++;
	n->mtime_ns = wall_ns();
	n->parent = parent ? parent : n;
	if (parent) {
		if (parent->last)
			parent->last->next = n;
		else
			parent->child = n;
		parent->last = n;
	}
	return n;
}

static struct p9_synth_node *
child_named(struct p9_synth_node *dir, const char *name)
{
	for (struct p9_synth_node *c = dir->child; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static bool
can_add(struct p9_synth_node *parent, const char *name)
{
	return parent && parent->isdir && p9_name_ok(name, strlen(name)) &&
	    child_named(parent, name) == NULL;
}

struct p9_synth *
p9_synth_new(const char *owner)
{
	struct p9_synth *t = ecalloc(1, sizeof *t);

	t->next_path = 1;
	str_copy(t->owner, owner ? owner : "glenda", sizeof t->owner);
	t->root = node_add(t, NULL, "/", true);
	t->root->perm = 0555;
	return t;
}

static void
node_free(struct p9_synth_node *n)
{
	struct p9_synth_node *c = n->child;

	while (c) {
		struct p9_synth_node *next = c->next;
		node_free(c);
		c = next;
	}
	free(n->name);
	free(n);
}

void
p9_synth_free(struct p9_synth *t)
{
	if (t == NULL)
		return;
	node_free(t->root);
	free(t);
}

struct p9_synth_node *
p9_synth_root(struct p9_synth *t)
{
	return t->root;
}

struct p9_synth_node *
p9_synth_mkdir(struct p9_synth *t, struct p9_synth_node *parent, const char *name)
{
	if (!can_add(parent, name))
		return NULL;
	struct p9_synth_node *n = node_add(t, parent, name, true);
	n->perm = 0555;
	return n;
}

struct p9_synth_node *
p9_synth_mkfile(struct p9_synth *t, struct p9_synth_node *parent, const char *name,
    uint32_t perm, p9_synth_read_fn *read, p9_synth_write_fn *write, void *arg)
{
	if (!can_add(parent, name))
		return NULL;
	struct p9_synth_node *n = node_add(t, parent, name, false);
	n->perm = perm & 0777;
	n->read = read;
	n->write = write;
	n->arg = arg;
	return n;
}

void
p9_synth_touch(struct p9_synth_node *n)
{
	n->vers++;
	n->mtime_ns = wall_ns();
}

static struct p9_qid
qid_of(const struct p9_synth_node *n)
{
	struct p9_qid q = { n->isdir ? P9_QTDIR : P9_QTFILE, n->vers, n->path };
	return q;
}

static struct sfid *
sfid_new(struct p9_synth_node *n)
{
	struct sfid *f = ecalloc(1, sizeof *f);

	f->n = n;
	return f;
}

static int
s_attach(struct p9_op *op, const char *aname, void **node, struct p9_qid *qid)
{
	struct p9_synth *t = op->ctx;

	(void)aname;
	*node = sfid_new(t->root);
	*qid = qid_of(t->root);
	return 0;
}

static int
s_clone(struct p9_op *op, void *node, void **copy)
{
	(void)op;
	*copy = sfid_new(((struct sfid *)node)->n);
	return 0;
}

static int
s_walk1(struct p9_op *op, void *node, const char *name, struct p9_qid *qid)
{
	struct sfid *f = node;
	struct p9_synth_node *n = strcmp(name, "..") == 0 ? f->n->parent : child_named(f->n, name);

	(void)op;
	if (n == NULL)
		return -ENOENT;
	f->n = n;
	*qid = qid_of(n);
	return 0;
}

/* Runs the read callback into a buffer that grows until the text fits. */
static void
generate(struct sfid *f)
{
	size_t cap = 4096;

	free(f->text);
	f->text = NULL;
	f->len = 0;
	if (f->n->read == NULL)
		return;
	for (;;) {
		f->text = erealloc(f->text, cap);
		size_t n = f->n->read(f->n->arg, f->text, cap);
		if (n < cap || cap >= P9_SYNTH_MAXTEXT) {
			f->len = MIN(n, cap);
			return;
		}
		cap = MIN((size_t)P9_SYNTH_MAXTEXT, n + 1);
	}
}

static int
s_open(struct p9_op *op, void *node, uint8_t mode, struct p9_qid *qid)
{
	struct sfid *f = node;
	bool wants_write = (mode & 3) == P9_OWRITE || (mode & 3) == P9_ORDWR;

	(void)op;
	if (wants_write && (f->n->isdir || f->n->write == NULL || !(f->n->perm & 0222)))
		return -EACCES;
	if (!f->n->isdir && (mode & 3) != P9_OWRITE)
		generate(f);
	*qid = qid_of(f->n);
	return 0;
}

static int
s_refuse(struct p9_op *op, void *node)
{
	(void)op;
	(void)node;
	return -EACCES;
}

static int
s_create(struct p9_op *op, void *node, const char *name, uint32_t perm, uint8_t mode,
    struct p9_qid *qid)
{
	(void)name;
	(void)perm;
	(void)mode;
	(void)qid;
	return s_refuse(op, node);
}

static ssize_t
s_read(struct p9_op *op, void *node, uint64_t off, void *buf, uint32_t count)
{
	struct sfid *f = node;

	(void)op;
	return p9_read_text(f->text, f->len, off, buf, count);
}

static ssize_t
s_write(struct p9_op *op, void *node, uint64_t off, const void *buf, uint32_t count)
{
	struct sfid *f = node;

	(void)off;
	if (f->n->write == NULL)
		return -EACCES;
	if (f->n->write(f->n->arg, buf, count, op->ename, sizeof op->ename) < 0) {
		if (op->ename[0] == 0)
			str_copy(op->ename, "write refused", sizeof op->ename);
		return -EINVAL;
	}
	return count;
}

static void
fill_dir(struct p9_synth *t, const struct p9_synth_node *n, struct p9_dir *d)
{
	d->qid = qid_of(n);
	d->mode = n->perm | (n->isdir ? P9_DMDIR : 0);
	d->length = 0;          /* generated: the size is known only when read */
	str_copy(d->name, n->name, sizeof d->name);
	str_copy(d->uid, t->owner, sizeof d->uid);
	str_copy(d->gid, t->owner, sizeof d->gid);
	str_copy(d->muid, t->owner, sizeof d->muid);
	d->unix_mode = n->perm | (n->isdir ? S_IFDIR : S_IFREG);
	d->nlink = 1;
	d->atime_ns = d->mtime_ns = d->ctime_ns = n->mtime_ns;
}

static int
s_stat(struct p9_op *op, void *node, struct p9_dir *d)
{
	fill_dir(op->ctx, ((struct sfid *)node)->n, d);
	return 0;
}

static int
s_wstat(struct p9_op *op, void *node, const struct p9_wstat *ws)
{
	/* Truncating a control file before writing it is what `echo x >f`
	 * does: allow that alone. */
	if (ws->valid == P9_WS_LENGTH && ws->length == 0 && ((struct sfid *)node)->n->write)
		return 0;
	return s_refuse(op, node);
}

static void
s_clunk(struct p9_op *op, void *node)
{
	struct sfid *f = node;

	(void)op;
	free(f->text);
	free(f);
}

static int
s_readdir(struct p9_op *op, void *node, uint64_t index, struct p9_dir *d)
{
	struct p9_synth_node *c = ((struct sfid *)node)->n->child;

	for (uint64_t i = 0; c && i < index; i++)
		c = c->next;
	if (c == NULL)
		return 0;
	fill_dir(op->ctx, c, d);
	return 1;
}

const struct p9_backend p9_synth_backend = {
	.attach = s_attach,
	.clone = s_clone,
	.walk1 = s_walk1,
	.open = s_open,
	.create = s_create,
	.read = s_read,
	.write = s_write,
	.stat = s_stat,
	.wstat = s_wstat,
	.remove = s_refuse,
	.clunk = s_clunk,
	.readdir = s_readdir,
};
