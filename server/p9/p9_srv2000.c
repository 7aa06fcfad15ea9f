/* 9P2000's own handlers (p9_srvpriv.h): open and create, directory reads
 * as whole stat entries with continuing offsets, stat, and wstat with its
 * "don't touch" values. 9P2000.L's lopen and lcreate reuse open_fid and
 * create_in. */
#include "p9/p9_srvpriv.h"

#include <errno.h>
#include <string.h>

/* ---- open, create ---- */

/* The fid is open now (by open or create): its mode, and the reply. */
static const char *
opened(struct req *r, struct fid *f, uint8_t mode, uint8_t rtype)
{
	f->omode = mode & 3;
	r->s->nopen++;
	f->orclose = (mode & P9_ORCLOSE) != 0;
	f->dir_offset = f->dir_index = 0;
	struct p9_fcall out = { .type = rtype, .qid = f->qid, .iounit = iounit(r->s) };
	return reply(r, &out);
}

const char *
open_fid(struct req *r, struct fid *f, uint8_t mode, uint8_t rtype)
{
	if (f->omode != -1)
		return fail(r, EBUSY, Eopen);
	if (r->s->nopen >= P9_MAXOPEN)
		return fail(r, EMFILE, Etoomanyopen);
	if ((f->qid.type & P9_QTDIR) && ((mode & 3) != P9_OREAD || (mode & P9_OTRUNC)))
		return fail(r, EISDIR, Eisdir);
	if (f->guest && ((mode & 3) != P9_OREAD || (mode & (P9_OTRUNC | P9_ORCLOSE))))
		return fail(r, EROFS, Eguest);
	int rc = r->s->be->open(&r->op, f->node, mode & (3 | P9_OTRUNC), &f->qid);
	if (rc < 0)
		return fail_be(r, rc);
	return opened(r, f, mode, rtype);
}

const char *
h_open(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	return open_fid(r, f, r->in->mode, P9_ROPEN);
}

const char *
create_in(struct req *r, struct fid *f, struct p9_str name, uint32_t perm, uint8_t mode,
    uint8_t rtype)
{
	char nbuf[P9_NAMEMAX + 1];

	if (f->omode != -1)
		return fail(r, EBUSY, Eopen);
	if (r->s->nopen >= P9_MAXOPEN)
		return fail(r, EMFILE, Etoomanyopen);
	if (!(f->qid.type & P9_QTDIR))
		return fail(r, ENOTDIR, Ecreatenondir);
	if (!name_copy(name, nbuf, false))
		return fail(r, EINVAL, Ebadname);
	if ((perm & P9_DMDIR) && ((mode & 3) != P9_OREAD || (mode & P9_OTRUNC)))
		return fail(r, EISDIR, Eisdir);
	int rc = r->s->be->create(&r->op, f->node, nbuf, perm, mode & (3 | P9_OTRUNC), &f->qid);
	if (rc < 0)
		return fail_be(r, rc);
	return opened(r, f, mode, rtype);
}

const char *
h_create(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	return create_in(r, f, r->in->name, r->in->perm, r->in->mode, P9_RCREATE);
}

static void
dir_to_stat(const struct p9_dir *d, struct p9_stat *st)
{
	memset(st, 0, sizeof *st);
	st->qid = d->qid;
	st->mode = d->mode;
	st->atime = (uint32_t)(d->atime_ns / 1000000000);
	st->mtime = (uint32_t)(d->mtime_ns / 1000000000);
	st->length = (d->qid.type & P9_QTDIR) ? 0 : d->length;
	st->name = p9_str_of(d->name);
	st->uid = p9_str_of(d->uid);
	st->gid = p9_str_of(d->gid);
	st->muid = p9_str_of(d->muid);
}

/* 9P2000 directory read: whole stat entries, offsets continuing from the
 * previous read (or 0 to start over). */
const char *
read_dir(struct req *r, struct fid *f)
{
	const struct p9_fcall *in = r->in;
	uint32_t room = read_room(r, in->count);
	uint8_t *start, *countp, *data;
	uint32_t used = 0;
	struct p9_dir d;
	struct p9_stat st;

	if (in->offset != 0 && in->offset != f->dir_offset)
		return fail(r, EINVAL, Ebadoffset);
	uint64_t index = in->offset == 0 ? 0 : f->dir_index;
	data = rread_begin(r, P9_RREAD, room, &start, &countp);
	if (data == NULL)
		return fail(r, EIO, Etoolarge);
	for (;;) {
		memset(&d, 0, sizeof d);
		int rc = r->s->be->readdir(&r->op, f->node, index, &d);
		if (rc < 0)
			return fail_be(r, rc);
		if (rc == 0)
			break;
		dir_to_stat(&d, &st);
		size_t need = p9_stat_size(&st);
		if (need > room - used) {
			if (used == 0)
				return fail(r, EINVAL, Ecountsmall);
			break;
		}
		struct wr ew = wr_make(data + used, room - used);
		used += (uint32_t)p9_stat_encode(&ew, &st);
		index++;
	}
	f->dir_offset = in->offset + used;
	f->dir_index = index;
	rread_end(r, start, countp, data, used);
	return NULL;
}
/* ---- stat, wstat ---- */

const char *
h_stat(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	struct p9_dir d;
	struct p9_stat st;

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	memset(&d, 0, sizeof d);
	int rc = r->s->be->stat(&r->op, f->node, &d);
	if (rc < 0)
		return fail_be(r, rc);
	dir_to_stat(&d, &st);
	uint8_t *start = p9_frame_begin(&r->w, P9_RSTAT, r->in->tag);
	wr_le16(&r->w, (uint16_t)p9_stat_size(&st));
	(void)p9_stat_encode(&r->w, &st);
	(void)p9_frame_end(&r->w, start);
	return NULL;
}

static bool
qid_untouched(const struct p9_qid *q)
{
	return q->type == 0xFF && q->vers == 0xFFFFFFFFu && q->path == ~0ULL;
}

/* Turns a Twstat entry into a change, refusing what 9P does not allow:
 * type, dev and qid can't change, nor the directory bit, nor the owner. */
static const char *
wstat_from_stat(struct req *r, const struct p9_stat *st, const struct fid *f,
    struct p9_wstat *ws, char name[P9_NAMEMAX + 1], char gid[P9_UNAMEMAX])
{
	memset(ws, 0, sizeof *ws);
	if (st->type != 0xFFFF || st->dev != 0xFFFFFFFFu || !qid_untouched(&st->qid))
		return fail(r, EPERM, Ewstatfixed);
	if (st->mode != 0xFFFFFFFFu) {
		bool isdir = (f->qid.type & P9_QTDIR) != 0;
		if (((st->mode & P9_DMDIR) != 0) != isdir)
			return fail(r, EPERM, Ewstatfixed);
		ws->valid |= P9_WS_MODE;
		ws->perm = st->mode & 0777;
	}
	if (st->atime != 0xFFFFFFFFu) {
		ws->valid |= P9_WS_ATIME;
		ws->atime_ns = (int64_t)st->atime * 1000000000;
	}
	if (st->mtime != 0xFFFFFFFFu) {
		ws->valid |= P9_WS_MTIME;
		ws->mtime_ns = (int64_t)st->mtime * 1000000000;
	}
	if (st->length != ~0ULL) {
		if (f->qid.type & P9_QTDIR)
			return fail(r, EISDIR, Eisdir);
		ws->valid |= P9_WS_LENGTH;
		ws->length = st->length;
	}
	if (st->name.len) {
		if (!name_copy(st->name, name, false))
			return fail(r, EINVAL, Ebadname);
		ws->valid |= P9_WS_NAME;
		ws->name = name;
	}
	if (st->uid.len)
		return fail(r, EPERM, Ewstatuid);
	if (st->gid.len) {
		if (st->gid.len >= P9_UNAMEMAX || memchr(st->gid.s, 0, st->gid.len))
			return fail(r, EINVAL, Ebadname);
		memcpy(gid, st->gid.s, st->gid.len);
		gid[st->gid.len] = 0;
		ws->valid |= P9_WS_GID;
		ws->gid = gid;
	}
	return NULL;
}

const char *
h_wstat(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	struct rd rd = rd_make(r->in->stat, r->in->nstat);
	struct p9_stat st;
	struct p9_wstat ws;
	char name[P9_NAMEMAX + 1], gid[P9_UNAMEMAX];

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	if (!p9_stat_decode(&rd, &st) || rd_left(&rd) != 0)
		return fail(r, EINVAL, Ebadstat);
	const char *err = wstat_from_stat(r, &st, f, &ws, name, gid);
	if (err)
		return err;
	if (ws.valid) {         /* all "don't touch": a sync request, nothing to do */
		int rc = r->s->be->wstat(&r->op, f->node, &ws);
		if (rc < 0)
			return fail_be(r, rc);
	}
	return reply_empty(r);
}
