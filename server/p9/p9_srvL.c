/* 9P2000.L's handlers (p9_srvpriv.h): Linux v9fs's messages mapped onto
 * the same backend calls as 9P2000 (open modes from open(2) flags, renames
 * through wstat within one directory, getattr/setattr from stat/wstat). */
#include "p9/p9_srvpriv.h"

#include <errno.h>
#include <string.h>

/* ---- 9P2000.L ---- */

static uint8_t
lflags_to_mode(uint32_t flags)
{
	uint8_t mode = (uint8_t)(flags & P9_L_ACCMODE);

	if (mode == 3)
		mode = P9_ORDWR;
	if (flags & P9_L_TRUNC)
		mode |= P9_OTRUNC;
	return mode;
}

const char *
h_lopen(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	uint8_t mode = lflags_to_mode(r->in->flags);
	if (f->qid.type & P9_QTDIR)
		mode &= (uint8_t)~P9_OTRUNC;    /* Linux opens directories O_RDONLY anyway */
	return open_fid(r, f, mode, P9_RLOPEN);
}

const char *
h_lcreate(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	return create_in(r, f, r->in->name, r->in->perm & 0777, lflags_to_mode(r->in->flags),
	    P9_RLCREATE);
}

/* A scratch node: a clone of dir's node, walked to name when given. */
static const char *
scratch_node(struct req *r, struct fid *dir, struct p9_str name, void **node,
    struct p9_qid *qid)
{
	char nbuf[P9_NAMEMAX + 1];
	const struct p9_backend *be = r->s->be;

	if (!(dir->qid.type & P9_QTDIR))
		return fail(r, ENOTDIR, Enotdir);
	if (name.s && !name_copy(name, nbuf, false))
		return fail(r, EINVAL, Ebadname);
	int rc = be->clone(&r->op, dir->node, node);
	if (rc < 0)
		return fail_be(r, rc);
	*qid = dir->qid;
	if (name.s && (rc = be->walk1(&r->op, *node, nbuf, qid)) < 0) {
		be->clunk(&r->op, *node);
		return fail_be(r, rc);
	}
	return NULL;
}

const char *
h_mkdir(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	char nbuf[P9_NAMEMAX + 1];
	void *node;
	struct p9_qid qid;

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	if (!name_copy(r->in->name, nbuf, false))
		return fail(r, EINVAL, Ebadname);
	const char *err = scratch_node(r, f, (struct p9_str){ NULL, 0 }, &node, &qid);
	if (err)
		return err;
	int rc = r->s->be->create(&r->op, node, nbuf, P9_DMDIR | (r->in->perm & 0777),
	    P9_OREAD, &qid);
	r->s->be->clunk(&r->op, node);
	if (rc < 0)
		return fail_be(r, rc);
	struct p9_fcall out = { .type = P9_RMKDIR, .qid = qid };
	return reply(r, &out);
}

const char *
h_unlinkat(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	void *node;
	struct p9_qid qid;

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	const char *err = scratch_node(r, f, r->in->name, &node, &qid);
	if (err)
		return err;
	bool isdir = (qid.type & P9_QTDIR) != 0;
	bool want_dir = (r->in->flags & P9_L_AT_REMOVEDIR) != 0;
	int rc = isdir == want_dir ? r->s->be->remove(&r->op, node) : isdir ? -EISDIR : -ENOTDIR;
	r->s->be->clunk(&r->op, node);
	if (rc < 0)
		return fail_be(r, rc);
	return reply_empty(r);
}

/* Renames within one directory only: the backend interface renames a node
 * in place (as 9P2000 wstat does). Across directories: EXDEV, which Linux's
 * mv answers by copying. */
static const char *
rename_in_dir(struct req *r, struct fid *olddir, struct p9_str oldname,
    const struct p9_qid *newdir, struct p9_str newname)
{
	char nbuf[P9_NAMEMAX + 1];
	void *node;
	struct p9_qid qid;

	if (!name_copy(newname, nbuf, false))
		return fail(r, EINVAL, Ebadname);
	if (newdir->path != olddir->qid.path)
		return fail(r, EXDEV, Exdev);
	const char *err = scratch_node(r, olddir, oldname, &node, &qid);
	if (err)
		return err;
	struct p9_wstat ws = { .valid = P9_WS_NAME, .name = nbuf, .replace = true };
	int rc = r->s->be->wstat(&r->op, node, &ws);
	r->s->be->clunk(&r->op, node);
	return rc < 0 ? fail_be(r, rc) : reply_empty(r);
}

const char *
h_renameat(struct req *r)
{
	struct fid *od = req_fid(r, r->in->fid);
	struct fid *nd = fid_get(r->s, r->in->newfid);

	if (od == NULL || nd == NULL)
		return fail(r, EBADF, Eunknownfid);
	return rename_in_dir(r, od, r->in->name, &nd->qid, r->in->name2);
}

/* Trename fid dfid name: fid's parent must be dfid. */
const char *
h_rename(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	struct fid *nd = fid_get(r->s, r->in->newfid);
	void *node;
	struct p9_qid parent;

	if (f == NULL || nd == NULL)
		return fail(r, EBADF, Eunknownfid);
	int rc = r->s->be->clone(&r->op, f->node, &node);
	if (rc < 0)
		return fail_be(r, rc);
	rc = r->s->be->walk1(&r->op, node, "..", &parent);
	r->s->be->clunk(&r->op, node);
	if (rc < 0)
		return fail_be(r, rc);
	if (parent.path != nd->qid.path)
		return fail(r, EXDEV, Exdev);
	char nbuf[P9_NAMEMAX + 1];
	if (!name_copy(r->in->name, nbuf, false))
		return fail(r, EINVAL, Ebadname);
	struct p9_wstat ws = { .valid = P9_WS_NAME, .name = nbuf, .replace = true };
	rc = r->s->be->wstat(&r->op, f->node, &ws);
	return rc < 0 ? fail_be(r, rc) : reply_empty(r);
}

const char *
h_getattr(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	struct p9_dir d;

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	memset(&d, 0, sizeof d);
	int rc = r->s->be->stat(&r->op, f->node, &d);
	if (rc < 0)
		return fail_be(r, rc);
	struct p9_fcall out = { .type = P9_RGETATTR };
	struct p9_attr *a = &out.attr;
	a->valid = P9_GETATTR_BASIC;
	a->qid = d.qid;
	a->mode = d.unix_mode;
	a->uid = d.n_uid;
	a->gid = d.n_gid;
	a->nlink = d.nlink ? d.nlink : 1;
	a->size = d.length;
	a->blksize = 4096;
	a->blocks = d.blocks;
	a->atime_sec = (uint64_t)(d.atime_ns / 1000000000);
	a->atime_nsec = (uint64_t)(d.atime_ns % 1000000000);
	a->mtime_sec = (uint64_t)(d.mtime_ns / 1000000000);
	a->mtime_nsec = (uint64_t)(d.mtime_ns % 1000000000);
	a->ctime_sec = (uint64_t)(d.ctime_ns / 1000000000);
	a->ctime_nsec = (uint64_t)(d.ctime_ns % 1000000000);
	return reply(r, &out);
}

const char *
h_setattr(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	const struct p9_setattr *sa = &r->in->setattr;
	struct p9_wstat ws = { 0 };

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	if (sa->valid & (P9_SETATTR_UID | P9_SETATTR_GID))
		return fail(r, EPERM, Ewstatuid);
	if (sa->valid & P9_SETATTR_MODE) {
		ws.valid |= P9_WS_MODE;
		ws.perm = sa->mode & 0777;
	}
	if (sa->valid & P9_SETATTR_SIZE) {
		ws.valid |= P9_WS_LENGTH;
		ws.length = sa->size;
	}
	if (sa->valid & P9_SETATTR_ATIME) {
		ws.valid |= P9_WS_ATIME;
		ws.atime_ns = sa->valid & P9_SETATTR_ATIME_SET ?
		    (int64_t)(sa->atime_sec * 1000000000 + sa->atime_nsec % 1000000000) : wall_ns();
	}
	if (sa->valid & P9_SETATTR_MTIME) {
		ws.valid |= P9_WS_MTIME;
		ws.mtime_ns = sa->valid & P9_SETATTR_MTIME_SET ?
		    (int64_t)(sa->mtime_sec * 1000000000 + sa->mtime_nsec % 1000000000) : wall_ns();
	}
	if (ws.valid) {
		int rc = r->s->be->wstat(&r->op, f->node, &ws);
		if (rc < 0)
			return fail_be(r, rc);
	}
	return reply_empty(r);
}

static uint8_t
dirent_type(uint32_t unix_mode)
{
	return (uint8_t)((unix_mode >> 12) & 017);     /* DT_* == S_IFMT >> 12 */
}

/* .L directory read: offset is the index of the next entry (each entry
 * carries the index after it), so any earlier offset can be resumed. */
const char *
h_readdir(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	uint8_t *start, *countp, *data;
	uint32_t used = 0;
	struct p9_dir d;

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	if (!readable(f->omode))
		return fail(r, EBADF, Enotread);
	if (!(f->qid.type & P9_QTDIR))
		return fail(r, ENOTDIR, Enotdir);
	uint32_t room = read_room(r, r->in->count);
	data = rread_begin(r, P9_RREADDIR, room, &start, &countp);
	if (data == NULL)
		return fail(r, EIO, Etoolarge);
	for (uint64_t index = r->in->offset;; index++) {
		memset(&d, 0, sizeof d);
		int rc = r->s->be->readdir(&r->op, f->node, index, &d);
		if (rc < 0)
			return fail_be(r, rc);
		if (rc == 0)
			break;
		struct p9_dirent de = { d.qid, index + 1, dirent_type(d.unix_mode),
			p9_str_of(d.name) };
		struct wr ew = wr_make(data + used, room - used);
		size_t n = p9_dirent_encode(&ew, &de);
		if (n == 0) {
			if (used == 0)
				return fail(r, EINVAL, Ecountsmall);
			break;
		}
		used += (uint32_t)n;
	}
	rread_end(r, start, countp, data, used);
	return NULL;
}

const char *
h_statfs(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	struct p9_fcall out = { .type = P9_RSTATFS };

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	out.statfs.bsize = 4096;
	out.statfs.namelen = P9_NAMEMAX;
	if (r->s->be->statfs) {
		int rc = r->s->be->statfs(&r->op, f->node, &out.statfs);
		if (rc < 0)
			return fail_be(r, rc);
	}
	return reply(r, &out);
}

const char *
h_fsync(struct req *r)
{
	if (req_fid(r, r->in->fid) == NULL)
		return fail(r, EBADF, Eunknownfid);
	return reply_empty(r);  /* writes go straight to the backend */
}

/* No locking across clients: every lock is granted (advisory anyway). */
const char *
h_lock(struct req *r)
{
	if (req_fid(r, r->in->fid) == NULL)
		return fail(r, EBADF, Eunknownfid);
	struct p9_fcall out = { .type = P9_RLOCK, .status = 0 };
	return reply(r, &out);
}

const char *
h_getlock(struct req *r)
{
	if (req_fid(r, r->in->fid) == NULL)
		return fail(r, EBADF, Eunknownfid);
	struct p9_fcall out = { .type = P9_RGETLOCK, .lock = r->in->lock };
	out.lock.type = 2;      /* F_UNLCK: nobody holds it */
	return reply(r, &out);
}

const char *
h_unsupported(struct req *r)
{
	return fail(r, EOPNOTSUPP, Enotsup);
}

const char *
h_readlink(struct req *r)
{
	return fail(r, EINVAL, "not a symbolic link");  /* none are served */
}
