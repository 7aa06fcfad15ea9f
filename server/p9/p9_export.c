/* A host directory as a 9P backend (see p9_export.h for the rules). */
#include "p9/p9_export.h"
#include "p9/p9_owner.h"
#include "core/log.h"
#include "core/hash.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ID_CACHE 16

struct id_name {
	bool used;
	unsigned id;
	char name[P9_UNAMEMAX];
};

/* One open file's descriptor, shared by every fid that opened the same
 * inode for the same access (reads and writes are positional, pread and
 * pwrite, so nothing else is per fid): a client that opens one file 4 000
 * times holds one descriptor, not 4 000. */
struct shared_fd {
	int fd;
	dev_t dev;
	ino_t ino;
	int acc;                        /* O_RDONLY, O_WRONLY, O_RDWR */
	unsigned refs;
	struct shared_fd *next;
};

struct p9_export {
	int rootfd;                     /* O_PATH | O_DIRECTORY */
	struct shared_fd *fds;          /* the open files, each once */
	struct listing *listings;       /* the directory listings fids hold */
	struct p9_fdcount *count;       /* every export's, with its cap; or NULL */
	char **writable;                /* clean relative prefixes */
	int nwritable;
	char owner[P9_UNAMEMAX];
	uid_t self_uid;
	gid_t self_gid;
	struct id_name users[ID_CACHE], groups[ID_CACHE];
	int next_user, next_group;
	struct p9_overlay *overlays;    /* paths copied, clean */
	int noverlays;
	/* The export's adm/users as last read, and what it was then. */
	struct p9_users *groupfile;
	struct stat users_st;
	uint64_t users_checked_ms;
	bool untaggable;                /* the filesystem said ENOTSUP: logged once */
};

/* One entry of a directory listing, taken when a read starts at 0. */
struct listed {
	char *name;
	struct stat st;
	struct p9_owner *tag;           /* NULL: untagged */
};

/* A directory's listing, shared by the fids that start reading the same
 * directory, unchanged (same mtime and ctime), within LISTING_SHARE_MS of
 * its taking: 400 fids reading one 3 000-entry directory hold one listing
 * (each is still charged its bytes: p9_hold). */
#define LISTING_SHARE_MS 1000
struct listing {
	unsigned refs;
	dev_t dev;
	ino_t ino;
	struct timespec mtim, ctim;
	uint64_t taken_ms;
	struct listed *v;
	size_t n, bytes;
	struct listing *next;
};

struct xnode {
	char *path;                     /* relative, no leading '/', "" = root */
	int fd;                         /* open file or directory (sfd's), -1 */
	struct shared_fd *sfd;
	struct listing *ls;             /* an open directory's, once read */
	struct p9_held held;            /* list and text, charged to the session */
	const struct p9_overlay *ov;    /* a generated file laid over path */
	char *text;                     /* its text, made at open */
	size_t len;
};

/* ---- resolving beneath the root ---- */

static int
open_beneath(const struct p9_export *x, const char *path, uint64_t flags, uint64_t mode)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC | (flags & O_PATH ? 0 : O_NOCTTY),
		.mode = mode,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1;

	/* EAGAIN: the kernel saw a concurrent rename it could not rule out. */
	for (int i = 0; i < 3; i++) {
		fd = (int)syscall(SYS_openat2, x->rootfd, path[0] ? path : ".", &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

/* A symlink, a ".." that would leave, or a magic link: refused alike. */
static int
resolve_errno(int e)
{
	switch (e) {
	case EXDEV:
	case ELOOP:
		return -EACCES;
	case 0:
		return -EIO;
	default:
		return -e;
	}
}

static int
stat_path(const struct p9_export *x, const char *path, struct stat *st)
{
	int fd = open_beneath(x, path, O_PATH, 0);

	if (fd < 0)
		return resolve_errno(errno);
	int rc = fstat(fd, st) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static bool
served_type(mode_t m)
{
	return S_ISDIR(m) || S_ISREG(m);
}

/* ---- paths ---- */

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* The parent's path, allocated ("" for a top-level name). */
static char *
parent_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *p = estrdup(path);

	p[slash ? (size_t)(slash - path) : 0] = 0;
	return p;
}

static char *
child_path(const char *dir, const char *name)
{
	return dir[0] ? esprintf("%s/%s", dir, name) : estrdup(name);
}

/* path is prefix or lies beneath it. */
static bool
path_within(const char *path, const char *prefix, bool strictly)
{
	size_t n = strlen(prefix);

	if (n == 0)
		return !strictly || path[0] != 0;
	if (strncmp(path, prefix, n) != 0)
		return false;
	return path[n] == '/' || (!strictly && path[n] == 0);
}

static bool
writable_path(const struct p9_export *x, const char *path, bool strictly)
{
	for (int i = 0; i < x->nwritable; i++)
		if (path_within(path, x->writable[i], strictly))
			return true;
	return false;
}

/* Plan 9's "permission denied"; the debug log says who, where and why
 * (which of the export's rules refused), so a client that fails at boot
 * can be traced to the file. */
static int
refuse(struct p9_op *op, const char *path, const char *why)
{
	log_debug("9p: %s: /%s: permission denied (%s)", op->uname, path, why);
	str_copy(op->ename, "permission denied", sizeof op->ename);
	return -EACCES;
}

/* ---- owners ---- */

static const char *
id_name(struct id_name *cache, int *next, unsigned id, bool group)
{
	for (int i = 0; i < ID_CACHE; i++)
		if (cache[i].used && cache[i].id == id)
			return cache[i].name;
	struct id_name *e = &cache[*next];
	*next = (*next + 1) % ID_CACHE;
	char buf[4096];
	const char *name = NULL;
	if (group) {
		struct group g, *gp = NULL;
		if (getgrgid_r((gid_t)id, &g, buf, sizeof buf, &gp) == 0 && gp)
			name = gp->gr_name;
	} else {
		struct passwd p, *pp = NULL;
		if (getpwuid_r((uid_t)id, &p, buf, sizeof buf, &pp) == 0 && pp)
			name = pp->pw_name;
	}
	e->used = true;
	e->id = id;
	str_copy(e->name, name ? name : "none", sizeof e->name);
	return e->name;
}

static const char *
owner_name(struct p9_export *x, uid_t uid)
{
	return uid == x->self_uid ? x->owner : id_name(x->users, &x->next_user, uid, false);
}

static const char *
group_name(struct p9_export *x, gid_t gid)
{
	return gid == x->self_gid ? x->owner : id_name(x->groups, &x->next_group, gid, true);
}

/* An untagged file's Plan 9 owner: as the host ids show (p9_export.h). */
static void
owner_untagged(struct p9_export *x, const struct stat *st, struct p9_owner *o)
{
	str_copy(o->uid, owner_name(x, st->st_uid), sizeof o->uid);
	str_copy(o->gid, group_name(x, st->st_gid), sizeof o->gid);
	str_copy(o->muid, o->uid, sizeof o->muid);
}

static void
owner_of_fd(struct p9_export *x, int fd, const struct stat *st, struct p9_owner *o)
{
	if (!p9_owner_get(fd, o))
		owner_untagged(x, st, o);
}

/* The file at path: its stat and its Plan 9 owner. */
static int
inspect(struct p9_export *x, const char *path, struct stat *st, struct p9_owner *o)
{
	int fd = open_beneath(x, path, O_PATH, 0);

	if (fd < 0)
		return resolve_errno(errno);
	int rc = fstat(fd, st) < 0 ? -errno : 0;
	if (rc == 0)
		owner_of_fd(x, fd, st, o);
	close(fd);
	return rc;
}

/* Tags fd; a filesystem without user attributes leaves files untagged
 * (said once: ownership then shows as for untagged files). */
static void
owner_tag(struct p9_export *x, int fd, const struct p9_owner *o)
{
	int rc = p9_owner_set(fd, o);

	if (rc == -ENOTSUP || rc == -EOPNOTSUPP) {
		if (!x->untaggable)
			log_warn("9p: the export's filesystem keeps no user.* attributes: "
			    "files stay untagged (owned by the export's owner)");
		x->untaggable = true;
	} else if (rc < 0) {
		log_debug("9p: tagging an owner: %s", strerror(-rc));
	}
}

/* The export's adm/users, re-read when it changed, looked at no more than
 * once a second; NULL when it has none (each user is its own group). */
#define USERS_RECHECK_MS 1000
#define USERS_MAX_BYTES (256 * 1024)
static const struct p9_users *
users_of(struct p9_export *x)
{
	uint64_t now = mono_ms();
	struct stat st;

	if (x->users_checked_ms && now - x->users_checked_ms < USERS_RECHECK_MS)
		return x->groupfile;
	x->users_checked_ms = now;
	int fd = open_beneath(x, "adm/users", O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		p9_users_free(x->groupfile);
		x->groupfile = NULL;
		return NULL;
	}
	if (x->groupfile && st.st_ino == x->users_st.st_ino && st.st_dev == x->users_st.st_dev &&
	    st.st_size == x->users_st.st_size &&
	    st.st_mtim.tv_sec == x->users_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == x->users_st.st_mtim.tv_nsec) {
		close(fd);
		return x->groupfile;
	}
	size_t len = 0;
	char *text = read_fd_close(fd, &len, USERS_MAX_BYTES);
	p9_users_free(x->groupfile);
	x->groupfile = NULL;
	if (text == NULL) {
		log_warn("9p: adm/users: unreadable or over %d bytes; groups are users alone",
		    USERS_MAX_BYTES);
		return NULL;
	}
	int bad = 0;
	x->groupfile = p9_users_parse(text, len, &bad);
	free(text);
	if (bad)
		log_warn("9p: adm/users: %d malformed lines skipped", bad);
	x->users_st = st;
	return x->groupfile;
}

/* May op's user have want on a file of owner o and mode m? Refuses with
 * Plan 9's "permission denied" when not. */
static int
check_access(struct p9_op *op, const char *path, const struct p9_owner *o, mode_t m, int want)
{
	struct p9_export *x = op->ctx;
	char why[160];

	if (p9_may(users_of(x), op->uname, o, (uint32_t)(m & 0777), want))
		return 0;
	snprintf(why, sizeof why, "wants %s%s%s; %s:%s %03o",
	    want & P9_MAY_READ ? "r" : "", want & P9_MAY_WRITE ? "w" : "",
	    want & P9_MAY_EXEC ? "x" : "", o->uid, o->gid, (unsigned)(m & 0777));
	return refuse(op, path, why);
}

/* ---- qids and stats ---- */

static int64_t
ts_ns(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* path: the inode, with the device folded into the top bits so that a
 * mount inside the export does not collide; vers: mtime in ns plus size,
 * so a write, truncate or replace shows (the -C cache relies on it). */
static struct p9_qid
qid_of(const struct stat *st)
{
	struct p9_qid q;

	q.type = S_ISDIR(st->st_mode) ? P9_QTDIR : P9_QTFILE;
	q.path = (uint64_t)st->st_ino ^ ((uint64_t)st->st_dev << 48);
	q.vers = (uint32_t)((uint64_t)ts_ns(st->st_mtim) + (uint64_t)st->st_size);
	return q;
}

static void
fill_dir(const struct stat *st, const struct p9_owner *o, const char *name, struct p9_dir *d)
{
	d->qid = qid_of(st);
	d->mode = (uint32_t)(st->st_mode & 0777) | (S_ISDIR(st->st_mode) ? P9_DMDIR : 0);
	d->length = S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size;
	str_copy(d->name, name, sizeof d->name);
	str_copy(d->uid, o->uid, sizeof d->uid);
	str_copy(d->gid, o->gid, sizeof d->gid);
	str_copy(d->muid, o->muid, sizeof d->muid);
	d->unix_mode = st->st_mode;
	d->n_uid = st->st_uid;
	d->n_gid = st->st_gid;
	d->nlink = st->st_nlink;
	d->blocks = (uint64_t)st->st_blocks;
	d->atime_ns = ts_ns(st->st_atim);
	d->mtime_ns = ts_ns(st->st_mtim);
	d->ctime_ns = ts_ns(st->st_ctim);
}

/* ---- generated files laid over the tree ---- */

static const struct p9_overlay *
overlay_at(const struct p9_export *x, const char *path)
{
	for (int i = 0; i < x->noverlays; i++)
		if (strcmp(x->overlays[i].path, path) == 0)
			return &x->overlays[i];
	return NULL;
}

/* Outside the inode space (the top bit), stable per path; the version is
 * the generator's, so a caching client sees a change. */
static struct p9_qid
overlay_qid(const struct p9_overlay *ov)
{
	uint64_t h = fnv64(ov->path, strlen(ov->path));
	struct p9_qid q = { P9_QTFILE, ov->version(ov->arg), h | 1ull << 63 };
	return q;
}

static void
overlay_dir(struct p9_export *x, const struct p9_overlay *ov, struct p9_dir *d)
{
	size_t len = 0;
	char *text = ov->make(ov->arg, &len);
	struct stat st = { .st_mode = S_IFREG | 0444, .st_uid = x->self_uid,
	    .st_gid = x->self_gid, .st_nlink = 1, .st_size = (off_t)len };

	free(text);
	clock_gettime(CLOCK_REALTIME, &st.st_mtim);
	st.st_atim = st.st_ctim = st.st_mtim;
	struct p9_owner o;
	owner_untagged(x, &st, &o);
	fill_dir(&st, &o, base_name(ov->path), d);
	d->qid = overlay_qid(ov);
}

/* ---- nodes ---- */

static struct xnode *
node_new(const char *path)
{
	struct xnode *n = ecalloc(1, sizeof *n);

	n->path = estrdup(path);
	n->fd = -1;
	return n;
}

static void
listing_unref(struct p9_export *x, struct listing *l)
{
	if (l == NULL || --l->refs > 0)
		return;
	struct listing **pp = &x->listings;
	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].tag);
	}
	free(l->v);
	free(l);
}

static void
list_free(struct p9_export *x, struct xnode *n)
{
	listing_unref(x, n->ls);
	n->ls = NULL;
	p9_unhold(&n->held);            /* a node holds a listing or a text */
}

/* ---- shared descriptors ---- */

static bool
fds_full(const struct p9_export *x)
{
	return x->count && x->count->max && x->count->open >= x->count->max;
}

static int
too_many_files(struct p9_op *op, const struct p9_export *x)
{
	snprintf(op->ename, sizeof op->ename, "too many files open on this server "
	    "(9P limit %u)", x->count ? x->count->max : 0);
	return -ENFILE;
}

static void
count_fds(struct p9_export *x, int by)
{
	if (x->count == NULL)
		return;
	x->count->open = (unsigned)((int)x->count->open + by);
	if (x->count->gauge)
		*x->count->gauge = x->count->open;
}

/* Gives n the descriptor fd (just opened, st its fstat), or the one already
 * open for the same inode and access, closing fd; refused when the
 * module's cap on open files is reached. Takes fd in every case. */
static int
fd_share(struct p9_op *op, struct p9_export *x, struct xnode *n, int fd,
    const struct stat *st, int flags)
{
	int acc = flags & O_ACCMODE;
	struct shared_fd *e;

	for (e = x->fds; e; e = e->next)
		if (e->dev == st->st_dev && e->ino == st->st_ino && e->acc == acc)
			break;
	if (e) {
		close(fd);
	} else {
		if (fds_full(x)) {
			close(fd);
			return too_many_files(op, x);
		}
		e = ecalloc(1, sizeof *e);
		*e = (struct shared_fd){ fd, st->st_dev, st->st_ino, acc, 0, x->fds };
		x->fds = e;
		count_fds(x, 1);
	}
	e->refs++;
	n->sfd = e;
	n->fd = e->fd;
	return 0;
}

/* n lets go of its descriptor; the last fid of a file closes it. */
static void
fd_release(struct p9_export *x, struct xnode *n)
{
	struct shared_fd *e = n->sfd, **pp;

	n->sfd = NULL;
	n->fd = -1;
	if (e == NULL || --e->refs > 0)
		return;
	for (pp = &x->fds; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	close(e->fd);
	free(e);
	count_fds(x, -1);
}

static int
x_attach(struct p9_op *op, const char *aname, void **node, struct p9_qid *qid)
{
	struct stat st;

	(void)aname;            /* every aname attaches the export's root */
	if (fstat(((struct p9_export *)op->ctx)->rootfd, &st) < 0)
		return -errno;
	*node = node_new("");
	*qid = qid_of(&st);
	return 0;
}

static int
x_clone(struct p9_op *op, void *node, void **copy)
{
	struct xnode *c = node_new(((struct xnode *)node)->path);

	(void)op;
	c->ov = ((struct xnode *)node)->ov;
	*copy = c;
	return 0;
}

static int
x_walk1(struct p9_op *op, void *node, const char *name, struct p9_qid *qid)
{
	struct xnode *n = node;
	struct stat st;
	char *path = strcmp(name, "..") == 0 ? parent_path(n->path) : child_path(n->path, name);
	const struct p9_overlay *ov = n->ov ? NULL : overlay_at(op->ctx, path);

	if (n->ov && strcmp(name, "..") != 0) {
		free(path);
		return -ENOTDIR;
	}
	n->ov = ov;
	if (ov) {
		free(n->path);
		n->path = path;
		*qid = overlay_qid(ov);
		return 0;
	}
	int rc = stat_path(op->ctx, path, &st);

	if (rc == 0 && !served_type(st.st_mode))
		rc = -EACCES;
	if (rc < 0) {
		free(path);
		return rc;
	}
	free(n->path);
	n->path = path;
	*qid = qid_of(&st);
	return 0;
}

static int
open_flags(uint8_t mode, bool isdir)
{
	if (isdir)
		return O_RDONLY | O_DIRECTORY;
	int acc = (mode & 3) == P9_OWRITE ? O_WRONLY : (mode & 3) == P9_ORDWR ? O_RDWR : O_RDONLY;
	/* O_NONBLOCK: a FIFO swapped in after the walk must not hang us. */
	return acc | O_NONBLOCK | (mode & P9_OTRUNC ? O_TRUNC : 0);
}

static bool
wants_write(uint8_t mode)
{
	return (mode & 3) == P9_OWRITE || (mode & 3) == P9_ORDWR || (mode & P9_OTRUNC);
}

/* What an open asks of the permission bits, as Plan 9's: OREAD read,
 * OWRITE write, ORDWR both, OEXEC execute (read, for a directory),
 * OTRUNC write. */
static int
open_wants(uint8_t mode, bool isdir)
{
	int want = 0;

	switch (mode & 3) {
	case P9_OREAD: want = P9_MAY_READ; break;
	case P9_OWRITE: want = P9_MAY_WRITE; break;
	case P9_ORDWR: want = P9_MAY_READ | P9_MAY_WRITE; break;
	default: want = isdir ? P9_MAY_READ : P9_MAY_EXEC; break;
	}
	if (mode & P9_OTRUNC)
		want |= P9_MAY_WRITE;
	return want;
}

/* Opens the node's file, checking that it is still a directory or regular
 * file of the kind the fid was walked to. */
static int
x_open(struct p9_op *op, void *node, uint8_t mode, struct p9_qid *qid)
{
	struct p9_export *x = op->ctx;
	struct xnode *n = node;
	struct stat st;

	if (n->ov) {
		if (wants_write(mode))
			return refuse(op, n->ov->path, "a generated file");
		free(n->text);
		p9_unhold(&n->held);
		n->text = n->ov->make(n->ov->arg, &n->len);
		int rc = p9_hold(op, &n->held, n->len);
		if (rc < 0) {
			free(n->text);
			n->text = NULL;
			return rc;
		}
		*qid = overlay_qid(n->ov);
		return 0;
	}
	struct p9_owner o;
	int rc = inspect(x, n->path, &st, &o);
	if (rc < 0)
		return rc;
	bool isdir = S_ISDIR(st.st_mode);
	if (wants_write(mode) && (isdir || !writable_path(x, n->path, false)))
		return refuse(op, n->path, isdir ? "opening a directory to write" : "not below a writable path");
	if ((rc = check_access(op, n->path, &o, st.st_mode, open_wants(mode, isdir))) < 0)
		return rc;
	int flags = open_flags(mode, isdir);
	int fd = open_beneath(x, n->path, (uint64_t)flags, 0);
	if (fd < 0)
		return errno == EMFILE || errno == ENFILE ? too_many_files(op, x) :
		    resolve_errno(errno);
	if (fstat(fd, &st) < 0 || !served_type(st.st_mode) || S_ISDIR(st.st_mode) != isdir) {
		close(fd);
		return -EACCES;
	}
	/* The last modifier: who opened it for writing (once per open, not
	 * per write). */
	if (wants_write(mode) && strcmp(o.muid, op->uname) != 0) {
		str_copy(o.muid, op->uname, sizeof o.muid);
		owner_tag(x, fd, &o);
	}
	fd_release(x, n);
	if ((rc = fd_share(op, x, n, fd, &st, flags)) < 0)
		return rc;
	*qid = qid_of(&st);
	return 0;
}

/* Plan 9's rule: a new file's permissions are limited by its directory's. */
static mode_t
create_perm(uint32_t perm, const struct stat *dir)
{
	if (perm & P9_DMDIR)
		return (mode_t)(perm & (~0777u | (dir->st_mode & 0777)) & 0777);
	return (mode_t)(perm & (~0666u | (dir->st_mode & 0666)) & 0777);
}

static int
x_create(struct p9_op *op, void *node, const char *name, uint32_t perm, uint8_t mode,
    struct p9_qid *qid)
{
	struct p9_export *x = op->ctx;
	struct xnode *n = node;
	struct stat dst, st;
	char *path = child_path(n->path, name);
	int dirfd = -1, fd = -1, rc = 0;

	if (!writable_path(x, path, true) || overlay_at(x, path)) {
		rc = refuse(op, path, "creating: not below a writable path, or a generated file");
		goto out;
	}
	if (fds_full(x)) {              /* a new file would need a descriptor */
		rc = too_many_files(op, x);
		goto out;
	}
	dirfd = open_beneath(x, n->path, O_PATH | O_DIRECTORY, 0);
	if (dirfd < 0 || fstat(dirfd, &dst) < 0) {
		rc = resolve_errno(errno);
		goto out;
	}
	struct p9_owner dir_owner, o;
	owner_of_fd(x, dirfd, &dst, &dir_owner);
	if ((rc = check_access(op, n->path, &dir_owner, dst.st_mode, P9_MAY_WRITE)) < 0)
		goto out;
	mode_t m = create_perm(perm, &dst);
	if (perm & P9_DMDIR) {
		if (mkdirat(dirfd, name, m) < 0) {
			rc = -errno;
			goto out;
		}
		fd = open_beneath(x, path, O_RDONLY | O_DIRECTORY, 0);
	} else {
		fd = open_beneath(x, path, (uint64_t)(open_flags(mode, false) | O_CREAT | O_EXCL), m);
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = resolve_errno(errno);
		goto out;
	}
	/* mkdirat and O_CREAT take the daemon's umask off m (022: a Plan 9
	 * terminal's 0666 file in a 0777 tmp came out 0644); the rule above
	 * is the whole rule, so set m itself. */
	if ((st.st_mode & 0777) != m && (fchmod(fd, m) < 0 || fstat(fd, &st) < 0)) {
		rc = -errno;
		goto out;
	}
	/* Plan 9's rule: the creator owns it, in the directory's group. */
	str_copy(o.uid, op->uname, sizeof o.uid);
	str_copy(o.gid, dir_owner.gid, sizeof o.gid);
	str_copy(o.muid, op->uname, sizeof o.muid);
	owner_tag(x, fd, &o);
	fd_release(x, n);
	rc = fd_share(op, x, n, fd, &st, (perm & P9_DMDIR) ? O_RDONLY : open_flags(mode, false));
	fd = -1;
	if (rc < 0)
		goto out;
	free(n->path);
	n->path = path;
	path = NULL;
	*qid = qid_of(&st);
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(path);
	return rc;
}

static ssize_t
x_read(struct p9_op *op, void *node, uint64_t off, void *buf, uint32_t count)
{
	struct xnode *n = node;

	(void)op;
	if (n->ov && n->text)
		return p9_read_text(n->text, n->len, off, buf, count);
	if (n->fd < 0)
		return -EBADF;
	if (off > INT64_MAX)
		return 0;
	ssize_t r = pread(n->fd, buf, count, (off_t)off);
	return r < 0 ? -errno : r;
}

static ssize_t
x_read_fd(struct p9_op *op, void *node, uint64_t off, uint32_t count, int *fd,
    uint64_t *fdoff)
{
	struct xnode *n = node;
	struct stat st;

	(void)op;
	if (n->fd < 0 || fstat(n->fd, &st) < 0)
		return -EBADF;
	uint64_t size = (uint64_t)st.st_size;
	*fd = n->fd;
	*fdoff = off;
	return off >= size ? 0 : (ssize_t)MIN((uint64_t)count, size - off);
}

static ssize_t
x_write(struct p9_op *op, void *node, uint64_t off, const void *buf, uint32_t count)
{
	struct xnode *n = node;

	(void)op;
	if (n->fd < 0)
		return -EBADF;
	if (off > INT64_MAX - (uint64_t)count)
		return -EFBIG;
	ssize_t w = pwrite(n->fd, buf, count, (off_t)off);
	return w < 0 ? -errno : w;
}

static int
x_stat(struct p9_op *op, void *node, struct p9_dir *d)
{
	struct xnode *n = node;
	struct stat st;

	if (n->ov) {
		overlay_dir(op->ctx, n->ov, d);
		return 0;
	}
	struct p9_owner o;
	int rc = inspect(op->ctx, n->path, &st, &o);
	if (rc < 0)
		return rc;
	fill_dir(&st, &o, n->path[0] ? base_name(n->path) : "/", d);
	return 0;
}

/* Changes go through the node's own O_PATH descriptor, named by its
 * /proc/self/fd link (which is the inode itself, not a path that could be
 * swapped for a symlink meanwhile). */
static int
proc_fd_path(int fd, char buf[64])
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
	return 0;
}

static int
set_times(int fd, const struct p9_wstat *ws)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	char p[64];

	if (ws->valid & P9_WS_ATIME)
		ts[0] = (struct timespec){ ws->atime_ns / 1000000000, ws->atime_ns % 1000000000 };
	if (ws->valid & P9_WS_MTIME)
		ts[1] = (struct timespec){ ws->mtime_ns / 1000000000, ws->mtime_ns % 1000000000 };
	proc_fd_path(fd, p);
	return utimensat(AT_FDCWD, p, ts, 0) < 0 ? -errno : 0;
}

static int
apply_wstat(struct p9_export *x, struct xnode *n, int fd, const struct p9_wstat *ws)
{
	char p[64];
	int rc = 0;

	proc_fd_path(fd, p);
	if (ws->valid & P9_WS_LENGTH) {
		int wfd = open_beneath(x, n->path, O_WRONLY | O_NONBLOCK, 0);
		if (wfd < 0)
			return resolve_errno(errno);
		rc = ftruncate(wfd, (off_t)MIN(ws->length, (uint64_t)INT64_MAX)) < 0 ? -errno : 0;
		close(wfd);
		if (rc < 0)
			return rc;
	}
	if ((ws->valid & P9_WS_MODE) && chmod(p, (mode_t)ws->perm) < 0)
		return -errno;
	if (ws->valid & (P9_WS_ATIME | P9_WS_MTIME))
		rc = set_times(fd, ws);
	return rc;
}

/* Renames the node within its directory; the old and new names are single
 * components beneath the parent's descriptor, and rename never follows a
 * symlink, so nothing outside can be touched. */
static int
rename_node(struct p9_export *x, struct xnode *n, const struct p9_wstat *ws)
{
	char *parent = parent_path(n->path);
	char *newpath = child_path(parent, ws->name);
	int dirfd = open_beneath(x, parent, O_PATH | O_DIRECTORY, 0);
	int rc = 0;

	if (dirfd < 0)
		rc = resolve_errno(errno);
	else if (strcmp(ws->name, base_name(n->path)) != 0 &&
	    renameat2(dirfd, base_name(n->path), dirfd, ws->name,
	    ws->replace ? 0 : RENAME_NOREPLACE) < 0)
		rc = -errno;
	if (dirfd >= 0)
		close(dirfd);
	free(parent);
	if (rc < 0) {
		free(newpath);
		return rc;
	}
	free(n->path);
	n->path = newpath;
	return 0;
}

/* Who may change what, as Plan 9's file servers decide: the length
 * needs write permission; the mode the owner or the group's leader; the
 * times the owner or a writer; the name write permission in the
 * directory; the group the owner going to a group they are in, or the
 * leader of both groups. */
static int
wstat_allowed(struct p9_op *op, struct xnode *n, const struct stat *st,
    const struct p9_owner *o, const struct p9_wstat *ws)
{
	struct p9_export *x = op->ctx;
	const struct p9_users *u = users_of(x);
	bool owner = strcmp(op->uname, "none") != 0 && strcmp(op->uname, o->uid) == 0;
	bool leader = strcmp(op->uname, "none") != 0 && p9_users_leader(u, op->uname, o->gid);
	bool writer = p9_may(u, op->uname, o, (uint32_t)(st->st_mode & 0777), P9_MAY_WRITE);
	int rc;

	if ((ws->valid & P9_WS_LENGTH) && !writer)
		return refuse(op, n->path, "wstat length: not a writer");
	if ((ws->valid & P9_WS_MODE) && !owner && !leader)
		return refuse(op, n->path, "wstat mode: neither owner nor group leader");
	if ((ws->valid & (P9_WS_ATIME | P9_WS_MTIME)) && !owner && !writer)
		return refuse(op, n->path, "wstat times: neither owner nor writer");
	if ((ws->valid & P9_WS_GID) && ws->gid && strcmp(ws->gid, o->gid) != 0) {
		bool to_own = owner && p9_users_member(u, op->uname, ws->gid);
		bool leads_both = leader && p9_users_leader(u, op->uname, ws->gid);
		if (strlen(ws->gid) >= P9_UNAMEMAX || strchr(ws->gid, ':') || !(to_own || leads_both))
			return refuse(op, n->path, "wstat group");
	}
	if (ws->valid & P9_WS_NAME) {
		char *parent = parent_path(n->path);
		struct stat dst;
		struct p9_owner dir_owner;
		rc = inspect(x, parent, &dst, &dir_owner);
		if (rc == 0)
			rc = check_access(op, parent, &dir_owner, dst.st_mode, P9_MAY_WRITE);
		free(parent);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
x_wstat(struct p9_op *op, void *node, const struct p9_wstat *ws)
{
	struct p9_export *x = op->ctx;
	struct xnode *n = node;
	unsigned meta = ws->valid & (unsigned)~P9_WS_LENGTH;

	if (n->ov)
		return refuse(op, n->path, "wstat of a generated file");
	if ((ws->valid & P9_WS_LENGTH) && !writable_path(x, n->path, false))
		return refuse(op, n->path, "wstat length: not below a writable path");
	if (meta && !writable_path(x, n->path, true))
		return refuse(op, n->path, "wstat: not below a writable path");
	int fd = open_beneath(x, n->path, O_PATH, 0);
	if (fd < 0)
		return resolve_errno(errno);
	struct stat st;
	struct p9_owner o;
	int rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (rc == 0) {
		owner_of_fd(x, fd, &st, &o);
		rc = wstat_allowed(op, n, &st, &o, ws);
	}
	if (rc == 0)
		rc = apply_wstat(x, n, fd, ws);
	if (rc == 0 && (ws->valid & P9_WS_GID)) {
		str_copy(o.gid, ws->gid, sizeof o.gid);
		if (p9_owner_set(fd, &o) < 0) {
			str_copy(op->ename, "wstat can't change group on this filesystem",
			    sizeof op->ename);
			rc = -EPERM;
		}
	}
	close(fd);
	if (rc == 0 && (ws->valid & P9_WS_NAME))
		rc = rename_node(x, n, ws);
	return rc;
}

static int
x_remove(struct p9_op *op, void *node)
{
	struct p9_export *x = op->ctx;
	struct xnode *n = node;
	struct stat st;

	if (n->ov || !writable_path(x, n->path, true))
		return refuse(op, n->path, "remove: not below a writable path, or a generated file");
	char *parent = parent_path(n->path);
	int dirfd = open_beneath(x, parent, O_PATH | O_DIRECTORY, 0);
	int rc = 0;
	if (dirfd < 0) {
		free(parent);
		return resolve_errno(errno);
	}
	const char *base = base_name(n->path);
	struct stat dst;
	struct p9_owner dir_owner;
	if (fstat(dirfd, &dst) < 0) {
		rc = -errno;
		close(dirfd);
		free(parent);
		return rc;
	}
	owner_of_fd(x, dirfd, &dst, &dir_owner);
	rc = check_access(op, parent, &dir_owner, dst.st_mode, P9_MAY_WRITE);
	free(parent);
	if (rc < 0)
		;       /* removing is writing the directory, as in Plan 9 */
	else if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	else if (unlinkat(dirfd, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		rc = -errno;
	close(dirfd);
	return rc;
}

static void
x_clunk(struct p9_op *op, void *node)
{
	struct xnode *n = node;

	fd_release(op->ctx, n);
	list_free(op->ctx, n);
	free(n->text);
	free(n->path);
	free(n);
}

static int
name_order(const void *a, const void *b)
{
	return strcmp(((const struct listed *)a)->name, ((const struct listed *)b)->name);
}

/* Lists the open directory: names and stats of its directories and
 * regular files, sorted so that listings are stable. */
static bool
same_dir(const struct listing *l, const struct stat *st)
{
	return l->dev == st->st_dev && l->ino == st->st_ino &&
	    l->mtim.tv_sec == st->st_mtim.tv_sec && l->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	    l->ctim.tv_sec == st->st_ctim.tv_sec && l->ctim.tv_nsec == st->st_ctim.tv_nsec &&
	    mono_ms() - l->taken_ms < LISTING_SHARE_MS;
}

/* Reads the open directory: names and stats of its directories and regular
 * files, sorted so that listings are stable. */
static struct listing *
read_listing(struct xnode *n, const struct stat *dst, int *err)
{
	int dfd = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	size_t cap = 0;
	struct dirent *de;

	if (d == NULL) {
		*err = errno;
		if (dfd >= 0)
			close(dfd);
		return NULL;
	}
	struct listing *l = ecalloc(1, sizeof *l);
	*l = (struct listing){ .refs = 1, .dev = dst->st_dev, .ino = dst->st_ino,
	    .mtim = dst->st_mtim, .ctim = dst->st_ctim, .taken_ms = mono_ms() };
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !served_type(st.st_mode))
			continue;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 32;
			l->v = erealloc(l->v, cap * sizeof *l->v);
		}
		struct p9_owner o;
		struct listed *e = &l->v[l->n++];
		*e = (struct listed){ estrdup(de->d_name), st, NULL };
		l->bytes += sizeof *l->v + strlen(de->d_name) + 1;
		if (p9_owner_getat(dirfd(d), de->d_name, &o)) {
			e->tag = emalloc(sizeof o);
			*e->tag = o;
			l->bytes += sizeof o;
		}
	}
	closedir(d);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, name_order);
	return l;
}

/* The listing a read from index 0 sees: one taken moments ago of the same
 * unchanged directory, or a new one; charged to the session. */
static int
take_listing(struct p9_op *op, struct xnode *n)
{
	struct p9_export *x = op->ctx;
	struct listing *l;
	struct stat dst;
	int err = 0;

	list_free(x, n);
	if (fstat(n->fd, &dst) < 0)
		return -errno;
	for (l = x->listings; l && !same_dir(l, &dst); l = l->next)
		;
	if (l)
		l->refs++;
	else if ((l = read_listing(n, &dst, &err)) == NULL)
		return -err;
	else {
		l->next = x->listings;
		x->listings = l;
	}
	n->ls = l;
	int rc = p9_hold(op, &n->held, l->bytes);
	if (rc < 0)
		list_free(x, n);
	return rc;
}

static int
x_readdir(struct p9_op *op, void *node, uint64_t index, struct p9_dir *d)
{
	struct xnode *n = node;

	if (n->fd < 0)
		return -EBADF;
	if (index == 0 || n->ls == NULL) {
		int rc = take_listing(op, n);
		if (rc < 0)
			return rc;
	}
	if (index >= n->ls->n)
		return 0;
	const struct listed *e = &n->ls->v[index];
	char *child = child_path(n->path, e->name);
	const struct p9_overlay *ov = overlay_at(op->ctx, child);
	free(child);
	if (ov) {
		overlay_dir(op->ctx, ov, d);
	} else {
		struct p9_owner o;
		if (e->tag)
			o = *e->tag;
		else
			owner_untagged(op->ctx, &e->st, &o);
		fill_dir(&e->st, &o, e->name, d);
	}
	return 1;
}

static int
x_statfs(struct p9_op *op, void *node, struct p9_statfs *sf)
{
	struct p9_export *x = op->ctx;
	struct statfs s;

	(void)node;
	if (fstatfs(x->rootfd, &s) < 0)
		return -errno;
	sf->type = (uint32_t)s.f_type;
	sf->bsize = (uint32_t)s.f_bsize;
	sf->blocks = s.f_blocks;
	sf->bfree = s.f_bfree;
	sf->bavail = s.f_bavail;
	sf->files = s.f_files;
	sf->ffree = s.f_ffree;
	sf->fsid = (uint64_t)(unsigned)s.f_fsid.__val[0] | (uint64_t)(unsigned)s.f_fsid.__val[1] << 32;
	sf->namelen = (uint32_t)MIN((long)s.f_namelen, (long)P9_NAMEMAX);
	return 0;
}

const struct p9_backend p9_export_backend = {
	.attach = x_attach,
	.clone = x_clone,
	.walk1 = x_walk1,
	.open = x_open,
	.create = x_create,
	.read = x_read,
	.read_fd = x_read_fd,
	.write = x_write,
	.stat = x_stat,
	.wstat = x_wstat,
	.remove = x_remove,
	.clunk = x_clunk,
	.readdir = x_readdir,
	.statfs = x_statfs,
};

/* ---- the export ---- */

/* "tmp", "usr/glenda": relative, no empty, "." or ".." components. */
static char *
clean_prefix(const char *p)
{
	while (*p == '/')
		p++;
	char *s = estrdup(p);
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = 0;
	for (char *c = s; *c;) {
		char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) {
			free(s);
			return NULL;
		}
		c += len + (slash ? 1 : 0);
	}
	return s;
}

struct p9_export *
p9_export_new(const struct p9_export_opts *o, char *err, size_t errcap)
{
	int fd = open(o->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errcap, "%s: %s", o->dir, strerror(errno));
		return NULL;
	}
	struct p9_export *x = ecalloc(1, sizeof *x);
	x->rootfd = fd;
	x->count = o->fds;
	x->self_uid = geteuid();
	x->self_gid = getegid();
	str_copy(x->owner, o->owner ? o->owner : "glenda", sizeof x->owner);
	for (size_t i = 0; i < o->noverlays; i++) {
		char *p = clean_prefix(o->overlays[i].path);
		if (p == NULL || *p == 0) {
			snprintf(err, errcap, "generated file %s: not a clean relative path",
			    o->overlays[i].path);
			free(p);
			p9_export_free(x);
			return NULL;
		}
		x->overlays = erealloc(x->overlays, (size_t)(x->noverlays + 1) * sizeof *x->overlays);
		x->overlays[x->noverlays] = o->overlays[i];
		x->overlays[x->noverlays++].path = p;
	}
	for (int i = 0; o->writable && o->writable[i]; i++) {
		char *p = clean_prefix(o->writable[i]);
		if (p == NULL) {
			snprintf(err, errcap, "writable path %s: not a clean relative path",
			    o->writable[i]);
			p9_export_free(x);
			return NULL;
		}
		x->writable = erealloc(x->writable, (size_t)(x->nwritable + 1) * sizeof *x->writable);
		x->writable[x->nwritable++] = p;
	}
	return x;
}

void
p9_export_free(struct p9_export *x)
{
	if (x == NULL)
		return;
	for (int i = 0; i < x->nwritable; i++)
		free(x->writable[i]);
	free(x->writable);
	for (int i = 0; i < x->noverlays; i++)
		free((char *)x->overlays[i].path);
	free(x->overlays);
	p9_users_free(x->groupfile);
	close(x->rootfd);
	free(x);
}
