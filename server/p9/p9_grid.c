/* The grid tree (see p9_grid.h). A node is a position in the tree named
 * by kind and, below machines/ and discovered/, by a machine's name or
 * MAC: nothing is built ahead, everything is looked up in the current
 * inventory and stores when a fid walks, opens or lists. */
#include "p9/p9_grid.h"
#include "boot/bootfiles.h"
#include "boot/leases.h"
#include "boot/machstate.h"
#include "boot/ndb.h"
#include "config/assignments.h"
#include "config/discovered.h"
#include "config/inventory.h"
#include "config/plan9ini.h"
#include "core/events.h"
#include "core/hash.h"
#include "core/util.h"
#include "power/power.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum gkind { GK_ROOT, GK_MACHINES, GK_MACHINE, GK_DISCOVERED, GK_DISC, GK_FILE };

/* Every file; the table below says where each lives and what it allows. */
enum gfile {
	GF_NDB, GF_LEASES, GF_EVENTS,
	GF_M_PLAN9INI, GF_M_ROLE, GF_M_STATE, GF_M_FACTS, GF_M_LEASE, GF_M_EVENTS,
	GF_D_FACTS, GF_D_ADOPT,
	GF_M_POWER, GF_M_CTL,
	GF_COUNT
};

static const struct gfile_info {
	const char *name;
	enum gkind dir;                 /* the directory it is in */
	uint32_t perm;
	bool stream;                    /* a blocking events file */
} files[GF_COUNT] = {
	[GF_NDB] = { "ndb", GK_ROOT, 0444, false },
	[GF_LEASES] = { "leases", GK_ROOT, 0444, false },
	[GF_EVENTS] = { "events", GK_ROOT, 0444, true },
	[GF_M_PLAN9INI] = { "plan9.ini", GK_MACHINE, 0444, false },
	[GF_M_ROLE] = { "role", GK_MACHINE, 0664, false },
	[GF_M_STATE] = { "state", GK_MACHINE, 0444, false },
	[GF_M_FACTS] = { "facts", GK_MACHINE, 0444, false },
	[GF_M_LEASE] = { "lease", GK_MACHINE, 0444, false },
	[GF_M_EVENTS] = { "events", GK_MACHINE, 0444, true },
	[GF_D_FACTS] = { "facts", GK_DISC, 0444, false },
	[GF_D_ADOPT] = { "adopt", GK_DISC, 0220, false },
	[GF_M_POWER] = { "power", GK_MACHINE, 0444, false },
	[GF_M_CTL] = { "ctl", GK_MACHINE, 0220, false },
};

static const char *const root_dirs[] = { "machines", "discovered" };

/* A file's text as an open made it, shared: the ndb of one inventory is
 * rendered once however many fids open it (the grid keeps the last). */
struct gtext {
	unsigned refs;
	unsigned long serial;           /* the inventory it was made from */
	size_t len;
	char *p;
};

struct p9_grid {
	struct daemon *d;
	struct gtext *ndb;              /* the current inventory's, or NULL */
};

struct gnode {
	enum gkind kind;
	enum gfile file;                /* GK_FILE */
	enum gkind parent;              /* GK_FILE: the directory kind it is in */
	char name[32];                  /* the machine's name (GK_MACHINE and below) */
	uint8_t mac[6];                 /* the machine's or discovered record's MAC */
	struct gtext *text;             /* the snapshot an open made */
	uint64_t cursor;                /* stream files: last event seq read */
	uint8_t (*list)[6];             /* discovered/: the MACs a listing started with */
	size_t nlist;
	struct p9_held held;            /* text or list, charged to the session */
};

static const struct inventory *
inv_of(struct p9_op *op)
{
	return ((struct p9_grid *)op->ctx)->d->inv;
}

/* ---- qids and stats ---- */

static uint64_t
name_hash(const struct gnode *n)
{
	if (n->kind == GK_DISC || (n->kind == GK_FILE && n->parent == GK_DISC))
		return fnv64(n->mac, 6);
	return fnv64(n->name, strlen(n->name));
}

/* Unique for a file's life: kind and file number in the low 16 bits, the
 * machine's name (or MAC) hashed above them. */
static struct p9_qid
qid_of(const struct p9_op *op, const struct gnode *n)
{
	struct p9_qid q = { 0 };
	bool per_machine = n->kind == GK_MACHINE || n->kind == GK_DISC ||
	    (n->kind == GK_FILE && (n->parent == GK_MACHINE || n->parent == GK_DISC));

	q.type = n->kind == GK_FILE ? P9_QTFILE : P9_QTDIR;
	q.path = (uint64_t)n->kind << 8 | (n->kind == GK_FILE ? (uint64_t)n->file : 0);
	if (per_machine)
		q.path |= name_hash(n) << 16;
	/* A change of inventory may change any file: caching clients look again. */
	q.vers = (uint32_t)((const struct p9_grid *)op->ctx)->d->inv->serial;
	return q;
}

static const char *
node_name(const struct gnode *n, char hex[13])
{
	switch (n->kind) {
	case GK_ROOT: return "/";
	case GK_MACHINES: return "machines";
	case GK_DISCOVERED: return "discovered";
	case GK_MACHINE: return n->name;
	case GK_DISC: mac_hex(n->mac, hex); return hex;
	default: return files[n->file].name;
	}
}

static void
fill_dir(struct p9_op *op, const struct gnode *n, struct p9_dir *d)
{
	bool dir = n->kind != GK_FILE;
	uint32_t perm = dir ? 0555 : files[n->file].perm;

	memset(d, 0, sizeof *d);
	d->qid = qid_of(op, n);
	d->mode = perm | (dir ? P9_DMDIR : 0);
	d->length = 0;          /* generated: the size is known only when read */
	char hex[13];
	str_copy(d->name, node_name(n, hex), sizeof d->name);
	str_copy(d->uid, "gridboot", sizeof d->uid);
	str_copy(d->gid, "gridboot", sizeof d->gid);
	str_copy(d->muid, "gridboot", sizeof d->muid);
	d->unix_mode = perm | (dir ? S_IFDIR : S_IFREG);
	d->nlink = 1;
	d->atime_ns = d->mtime_ns = d->ctime_ns = wall_ns();
}

/* ---- walking ---- */

/* Whether the machine or record a node names is still there. */
static bool
still_there(struct p9_op *op, const struct gnode *n)
{
	enum gkind k = n->kind == GK_FILE ? n->parent : n->kind;

	if (k == GK_MACHINE)
		return inv_machine_by_name(inv_of(op), n->name) != NULL;
	if (k == GK_DISC)
		return discovered_find(n->mac) != NULL;
	return true;
}

static bool
walk_file(struct gnode *n, const char *name)
{
	for (int f = 0; f < GF_COUNT; f++)
		if (files[f].dir == n->kind && strcmp(files[f].name, name) == 0) {
			n->parent = n->kind;
			n->kind = GK_FILE;
			n->file = (enum gfile)f;
			return true;
		}
	return false;
}

static int
walk_down(struct p9_op *op, struct gnode *n, const char *name)
{
	const struct machine *m;
	uint8_t mac[6];

	switch (n->kind) {
	case GK_ROOT:
		if (strcmp(name, "machines") == 0)
			n->kind = GK_MACHINES;
		else if (strcmp(name, "discovered") == 0)
			n->kind = GK_DISCOVERED;
		else if (!walk_file(n, name))
			return -ENOENT;
		return 0;
	case GK_MACHINES:
		if ((m = inv_machine_by_name(inv_of(op), name)) == NULL)
			return -ENOENT;
		n->kind = GK_MACHINE;
		str_copy(n->name, m->name, sizeof n->name);
		memcpy(n->mac, m->mac, 6);
		return 0;
	case GK_DISCOVERED:
		if ((!bootfiles_mac12_parse(name, mac) && !mac_parse(name, mac)) ||
		    discovered_find(mac) == NULL)
			return -ENOENT;
		n->kind = GK_DISC;
		memcpy(n->mac, mac, 6);
		return 0;
	case GK_MACHINE:
	case GK_DISC:
		return walk_file(n, name) ? 0 : -ENOENT;
	default:
		return -ENOTDIR;
	}
}

static void
walk_up(struct gnode *n)
{
	switch (n->kind) {
	case GK_MACHINE: n->kind = GK_MACHINES; n->name[0] = 0; break;
	case GK_DISC: n->kind = GK_DISCOVERED; break;
	default: n->kind = GK_ROOT; break;      /* the root stays the root */
	}
}

static int
g_walk1(struct p9_op *op, void *node, const char *name, struct p9_qid *qid)
{
	struct gnode *n = node;
	int rc = 0;

	if (n->kind == GK_FILE)
		return -ENOTDIR;
	if (!still_there(op, n))
		return -ENOENT;
	if (strcmp(name, "..") == 0)
		walk_up(n);
	else if ((rc = walk_down(op, n, name)) < 0)
		return rc;
	*qid = qid_of(op, n);
	return 0;
}

static int
g_attach(struct p9_op *op, const char *aname, void **node, struct p9_qid *qid)
{
	struct gnode *n = ecalloc(1, sizeof *n);

	(void)aname;
	n->kind = GK_ROOT;
	*node = n;
	*qid = qid_of(op, n);
	return 0;
}

static int
g_clone(struct p9_op *op, void *node, void **copy)
{
	struct gnode *n = emalloc(sizeof *n), *o = node;

	(void)op;
	*n = *o;
	n->text = NULL;         /* an open fid is never cloned (walk(5)) */
	n->list = NULL;
	n->nlist = 0;
	n->held = (struct p9_held){ 0 };
	*copy = n;
	return 0;
}

/* ---- the files' texts ---- */

struct lease_match {
	const uint8_t *mac;
	struct strbuf *t;
	bool all;
};

static void
put_lease(const struct lease_info *l, void *arg)
{
	struct lease_match *lm = arg;
	char mac[18], ip[16];

	if (!lm->all && memcmp(l->mac, lm->mac, 6) != 0)
		return;
	mac_format(l->mac, mac);
	ip_format(l->ip, ip);
	if (l->reserved)
		strbuf_printf(lm->t, "%s %s reserved %s\n", mac, ip, l->hostname ? l->hostname : "-");
	else
		strbuf_printf(lm->t, "%s %s expires %lld %s\n", mac, ip, (long long)(l->expires_ms / 1000),
		    l->hostname ? l->hostname : "-");
}

static void
put_facts(struct strbuf *t, const uint8_t mac[6])
{
	const struct discovered *d = discovered_find(mac);

	if (d && d->facts_json)
		strbuf_printf(t, "%s\n", d->facts_json);
}

/* machines/NAME/power: one "key value" a line; "driver none" alone for
 * a machine without one. Never the BMC's address or credentials. */
static void
put_power(struct strbuf *t, const struct machine *m)
{
	struct power_view v;

	if (!power_view(m, &v)) {
		strbuf_printf(t, "driver none\n");
		return;
	}
	strbuf_printf(t, "state %s\ndriver %s\nchecked %lld\n", power_state_name(v.state),
	    v.driver, (long long)v.checked_ms);
	if (v.busy)
		strbuf_printf(t, "running %s\n", power_op_name(v.busy_op));
	if (v.has_last)
		strbuf_printf(t, "last %s %s %lld\n", power_op_name(v.last_op),
		    v.last_ok ? "ok" : "failed", (long long)v.last_ms);
	if (v.last_error[0])
		strbuf_printf(t, "error %s\n", v.last_error);
}

/* The text of a file that is not a stream, made at open. */
static int
make_text(struct p9_op *op, struct gnode *n, struct strbuf *t)
{
	const struct inventory *inv = inv_of(op);
	const struct machine *m = n->parent == GK_MACHINE ? inv_machine_by_name(inv, n->name) : NULL;
	struct lease_match lm = { n->mac, t, false };
	char why[256];

	switch (n->file) {
	case GF_NDB:
		t->p = ndb_render(inv, &t->len);
		t->cap = t->len;
		return 0;
	case GF_LEASES:
		lm.all = true;
		leases_foreach(inv, put_lease, &lm);
		return 0;
	case GF_M_PLAN9INI:
		if ((t->p = plan9ini_render(inv, m, why, sizeof why)) == NULL) {
			snprintf(op->ename, sizeof op->ename, "plan9.ini: %s", why);
			return -EIO;
		}
		t->len = t->cap = strlen(t->p);
		return 0;
	case GF_M_ROLE:
		strbuf_printf(t, "%s\n", m->role ? m->role->name : "");
		return 0;
	case GF_M_STATE: {
		const char *s = machstate_get(m->mac, NULL);
		strbuf_printf(t, "%s\n", s ? s : "idle");
		return 0;
	}
	case GF_M_FACTS:
	case GF_D_FACTS:
		put_facts(t, n->mac);
		return 0;
	case GF_M_LEASE:
		leases_foreach(inv, put_lease, &lm);
		return 0;
	case GF_M_POWER:
		put_power(t, m);
		return 0;
	default:
		return 0;
	}
}

static void
gtext_unref(struct gtext *t)
{
	if (t && --t->refs == 0) {
		free(t->p);
		free(t);
	}
}

/* n's text: the shared ndb when it is of the current inventory, else a
 * new one; charged to the session either way. */
static int
open_text(struct p9_op *op, struct gnode *n)
{
	struct p9_grid *g = op->ctx;
	unsigned long serial = g->d->inv->serial;
	struct gtext *t = NULL;

	if (n->file == GF_NDB && g->ndb && g->ndb->serial == serial) {
		t = g->ndb;
		t->refs++;
	} else {
		struct strbuf sb = { 0 };
		int rc = make_text(op, n, &sb);
		if (rc < 0) {
			free(sb.p);
			return rc;
		}
		t = ecalloc(1, sizeof *t);
		*t = (struct gtext){ 1, serial, sb.len, sb.p };
		if (n->file == GF_NDB) {
			gtext_unref(g->ndb);
			g->ndb = t;
			t->refs++;
		}
	}
	int rc = p9_hold(op, &n->held, t->len);
	if (rc < 0) {
		gtext_unref(t);
		return rc;
	}
	gtext_unref(n->text);
	n->text = t;
	return 0;
}

static int
g_open(struct p9_op *op, void *node, uint8_t mode, struct p9_qid *qid)
{
	struct gnode *n = node;
	int acc = mode & 3;

	if (!still_there(op, n))
		return -ENOENT;
	if (n->kind != GK_FILE) {
		if (acc != P9_OREAD && acc != P9_OEXEC)
			return -EISDIR;
	} else {
		uint32_t perm = files[n->file].perm;
		bool wants_read = acc == P9_OREAD || acc == P9_ORDWR || acc == P9_OEXEC;
		bool wants_write = acc == P9_OWRITE || acc == P9_ORDWR || (mode & P9_OTRUNC);
		if ((wants_read && !(perm & 0444)) || (wants_write && !(perm & 0222)))
			return -EACCES;
		if (files[n->file].stream)
			n->cursor = events_last_seq();
		else if (wants_read) {
			int rc = open_text(op, n);
			if (rc < 0)
				return rc;
		}
	}
	*qid = qid_of(op, n);
	return 0;
}

/* ---- reads ---- */

struct evread {
	struct strbuf t;
	size_t room;
	uint64_t last;
	bool full;
};

/* Whole lines only, as many as fit. */
static void
put_event(const struct bootevent *ev, void *arg)
{
	struct evread *er = arg;
	char line[400], mac[18] = "-";
	int k;

	if (er->full)
		return;
	if (ev->has_mac)
		mac_format(ev->mac, mac);
	k = snprintf(line, sizeof line, "%llu %lld %s %s %s\n", (unsigned long long)ev->seq,
	    (long long)ev->time_ms, mac, events_kind_name(ev->kind), ev->text);
	if (k < 0 || er->t.len + (size_t)k > er->room) {
		er->full = true;
		return;
	}
	strbuf_printf(&er->t, "%s", line);
	er->last = ev->seq;
}

static ssize_t
read_stream(struct gnode *n, void *buf, uint32_t count)
{
	struct evread er = { .room = count, .last = n->cursor };
	const uint8_t *mac = n->parent == GK_MACHINE ? n->mac : NULL;

	events_since(n->cursor, mac, put_event, &er);
	if (er.t.len == 0) {
		free(er.t.p);
		/* Nothing new: block, unless not even one line would fit. */
		return er.full ? -EINVAL : -EAGAIN;
	}
	memcpy(buf, er.t.p, er.t.len);
	free(er.t.p);
	n->cursor = er.last;
	return (ssize_t)er.t.len;
}

static ssize_t
g_read(struct p9_op *op, void *node, uint64_t off, void *buf, uint32_t count)
{
	struct gnode *n = node;

	if (!still_there(op, n))
		return -ENOENT;
	if (files[n->file].stream)
		return read_stream(n, buf, count);
	return n->text ? p9_read_text(n->text->p, n->text->len, off, buf, count) : 0;
}

/* ---- writes: role changes, adoption ---- */

/* The first one or two words of a write, without the newline echo adds. */
static int
words(const void *buf, uint32_t count, char w[2][64])
{
	char line[130];
	int n = 0;

	if (count >= sizeof line)
		return -1;
	memcpy(line, buf, count);
	line[count] = 0;
	for (char *save, *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 2 || strlen(t) >= 64)
			return -1;
		str_copy(w[n++], t, 64);
	}
	return n;
}

static ssize_t
refused(struct p9_op *op, const char *what, const char *why)
{
	snprintf(op->ename, sizeof op->ename, "%s: %s", what, why);
	return -EINVAL;
}

static ssize_t
write_role(struct p9_op *op, struct gnode *n, const void *buf, uint32_t count)
{
	struct p9_grid *g = op->ctx;
	const struct machine *m = inv_machine_by_name(g->d->inv, n->name);
	char w[2][64], why[256];

	if (words(buf, count, w) != 1)
		return refused(op, "role", "write one role name");
	if (assignments_apply(g->d->inv, m->mac, w[0], m->line ? NULL : m->name, -1,
	    "the grid tree", why, sizeof why) != 0)
		return refused(op, "role", why);
	daemon_request_assignment(g->d, m->mac, NULL);
	return count;
}

static ssize_t
write_adopt(struct p9_op *op, struct gnode *n, const void *buf, uint32_t count)
{
	struct p9_grid *g = op->ctx;
	const struct discovered *d = discovered_find(n->mac);
	char w[2][64], why[256], defname[32], hex[13];
	int nw = words(buf, count, w);

	if (nw < 1)
		return refused(op, "adopt", "write ROLE or NAME ROLE");
	mac_hex(n->mac, hex);
	snprintf(defname, sizeof defname, "m-%s", hex);
	if (assignments_apply(g->d->inv, n->mac, w[nw - 1], nw == 2 ? w[0] : defname,
	    d->client_arch, "the grid tree", why, sizeof why) != 0)
		return refused(op, "adopt", why);
	daemon_request_assignment(g->d, n->mac, NULL);
	return count;
}

/* machines/NAME/ctl: on, off, cycle, pxe or status, queued for its BMC;
 * the outcome goes to its timeline (machines/NAME/events). */
static ssize_t
write_ctl(struct p9_op *op, struct gnode *n, const void *buf, uint32_t count)
{
	struct p9_grid *g = op->ctx;
	const struct machine *m = inv_machine_by_name(g->d->inv, n->name);
	char w[2][64], why[256], who[96];
	enum power_op pop;

	if (words(buf, count, w) != 1 || !power_op_parse(w[0], &pop))
		return refused(op, "ctl", "write one of on, off, cycle, pxe, status");
	snprintf(who, sizeof who, "the grid tree (%s)", op->uname);
	if (power_request(m, pop, who, why, sizeof why) != 0)
		return refused(op, "ctl", why);
	return count;
}

static bool
is_admin(const struct grid *gr, const char *uname)
{
	for (int i = 0; i < gr->nadmins; i++)
		if (strcmp(gr->admins[i], uname) == 0)
			return true;
	return false;
}

static ssize_t
g_write(struct p9_op *op, void *node, uint64_t off, const void *buf, uint32_t count)
{
	struct gnode *n = node;

	(void)off;              /* control files: each write is one command */
	if (!still_there(op, n))
		return -ENOENT;
	/* The API asks a token for this; here it takes a grid administrator
	 * (grid.admins) proved by an authenticated attach (grid.p9_auth), or
	 * a grid that says anyone may (a lab). */
	const struct grid *gr = &((struct p9_grid *)op->ctx)->d->inv->grid;
	if (!gr->p9_auth && !gr->p9_grid_open) {
		snprintf(op->ename, sizeof op->ename, "the grid tree is read-only: changes need "
		    "grid.p9_auth (an authenticated user) or grid.p9_grid_open");
		return -EACCES;
	}
	if (!gr->p9_grid_open && !is_admin(gr, op->uname)) {
		snprintf(op->ename, sizeof op->ename, "%s is not a grid administrator "
		    "(grid.admins): the grid tree is read-only to them", op->uname);
		return -EPERM;
	}
	if (n->file == GF_M_ROLE)
		return write_role(op, n, buf, count);
	if (n->file == GF_D_ADOPT)
		return write_adopt(op, n, buf, count);
	if (n->file == GF_M_CTL)
		return write_ctl(op, n, buf, count);
	return -EACCES;
}

/* ---- the rest ---- */

static int
g_stat(struct p9_op *op, void *node, struct p9_dir *d)
{
	if (!still_there(op, node))
		return -ENOENT;
	fill_dir(op, node, d);
	return 0;
}

static int
g_wstat(struct p9_op *op, void *node, const struct p9_wstat *ws)
{
	struct gnode *n = node;

	/* Truncating a control file before writing it is what `echo x >f`
	 * does (Linux adds new times): allow that alone, and change nothing. */
	unsigned other = ws->valid & ~(unsigned)(P9_WS_LENGTH | P9_WS_ATIME | P9_WS_MTIME);
	if (n->kind == GK_FILE && (files[n->file].perm & 0222) && other == 0 &&
	    (!(ws->valid & P9_WS_LENGTH) || ws->length == 0))
		return 0;
	snprintf(op->ename, sizeof op->ename, "the grid tree changes only by writing its files");
	return -EPERM;
}

static int
g_remove(struct p9_op *op, void *node)
{
	(void)node;
	snprintf(op->ename, sizeof op->ename, "the grid tree changes only by writing its files");
	return -EPERM;
}

static int
g_create(struct p9_op *op, void *node, const char *name, uint32_t perm, uint8_t mode,
    struct p9_qid *qid)
{
	(void)node, (void)name, (void)perm, (void)mode, (void)qid;
	snprintf(op->ename, sizeof op->ename, "the grid tree changes only by writing its files");
	return -EPERM;
}

static void
g_clunk(struct p9_op *op, void *node)
{
	struct gnode *n = node;

	(void)op;
	p9_unhold(&n->held);
	gtext_unref(n->text);
	free(n->list);
	free(n);
}

static void
collect_mac(const struct discovered *d, void *arg)
{
	struct gnode *n = arg;

	n->list = erealloc(n->list, (n->nlist + 1) * sizeof *n->list);
	memcpy(n->list[n->nlist++], d->mac, 6);
}

/* Entry index of a directory: 1 and *d, or 0 past the end. */
static int
g_readdir(struct p9_op *op, void *node, uint64_t index, struct p9_dir *d)
{
	struct gnode *n = node, c = *n;
	const struct inventory *inv = inv_of(op);
	uint64_t i = 0;

	c.text = NULL;
	switch (n->kind) {
	case GK_ROOT:
		if (index < nelem(root_dirs)) {
			c.kind = index == 0 ? GK_MACHINES : GK_DISCOVERED;
			fill_dir(op, &c, d);
			return 1;
		}
		i = nelem(root_dirs);
		/* FALLTHROUGH */
	case GK_MACHINE:
	case GK_DISC:
		for (int f = 0; f < GF_COUNT; f++)
			if (files[f].dir == n->kind && i++ == index) {
				c.parent = n->kind;
				c.kind = GK_FILE;
				c.file = (enum gfile)f;
				fill_dir(op, &c, d);
				return 1;
			}
		return 0;
	case GK_MACHINES:
		/* Every machine of a loaded inventory has a name: entry i is
		 * machine i, without a walk over the ones before it (a listing
		 * of 100 000 machines would be quadratic). */
		(void)i;
		if ((size_t)index >= inv->nmachines || inv->machines[index].name == NULL)
			return 0;
		c.kind = GK_MACHINE;
		str_copy(c.name, inv->machines[index].name, sizeof c.name);
		fill_dir(op, &c, d);
		return 1;
	case GK_DISCOVERED:
		if (index == 0) {       /* a listing sees the records of its start */
			free(n->list);
			n->list = NULL;
			n->nlist = 0;
			p9_unhold(&n->held);
			discovered_foreach(collect_mac, n);
			int rc = p9_hold(op, &n->held, n->nlist * sizeof *n->list);
			if (rc < 0) {
				free(n->list);
				n->list = NULL;
				n->nlist = 0;
				return rc;
			}
		}
		if (index >= n->nlist)
			return 0;
		c.kind = GK_DISC;
		memcpy(c.mac, n->list[index], 6);
		fill_dir(op, &c, d);
		return 1;
	default:
		return -ENOTDIR;
	}
}

const struct p9_backend p9_grid_backend = {
	.attach = g_attach,
	.clone = g_clone,
	.walk1 = g_walk1,
	.open = g_open,
	.create = g_create,
	.read = g_read,
	.write = g_write,
	.stat = g_stat,
	.wstat = g_wstat,
	.remove = g_remove,
	.clunk = g_clunk,
	.readdir = g_readdir,
};

struct p9_grid *
p9_grid_new(struct daemon *d)
{
	struct p9_grid *g = ecalloc(1, sizeof *g);

	g->d = d;
	return g;
}

void
p9_grid_free(struct p9_grid *g)
{
	if (g)
		gtext_unref(g->ndb);
	free(g);
}
