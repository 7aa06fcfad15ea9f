/* The 9P codec (see p9_fcall.h).
 *
 * Each message body is described once, by a function that runs in either
 * direction over a `struct codec`: decoding reads the fields through the
 * bounds-checked reader, encoding writes the same fields in the same order.
 * One description per message means encode and decode cannot drift apart. */
#include "proto/p9_fcall.h"

#include <string.h>

struct codec {
	bool enc;
	struct rd *r;
	struct wr *w;
	bool bad;               /* a field broke a limit (e.g. 17 walk names) */
	enum p9_dialect d;
};

static void
c_u8(struct codec *c, uint8_t *v)
{
	if (c->enc)
		wr_u8(c->w, *v);
	else
		*v = rd_u8(c->r);
}

static void
c_u16(struct codec *c, uint16_t *v)
{
	if (c->enc)
		wr_le16(c->w, *v);
	else
		*v = rd_le16(c->r);
}

static void
c_u32(struct codec *c, uint32_t *v)
{
	if (c->enc)
		wr_le32(c->w, *v);
	else
		*v = rd_le32(c->r);
}

static void
c_u64(struct codec *c, uint64_t *v)
{
	if (c->enc)
		wr_le64(c->w, *v);
	else
		*v = rd_le64(c->r);
}

static void
c_str(struct codec *c, struct p9_str *s)
{
	if (c->enc)
		p9_put_str(c->w, *s);
	else
		*s = p9_get_str(c->r);
}

static void
c_qid(struct codec *c, struct p9_qid *q)
{
	if (c->enc)
		p9_put_qid(c->w, q);
	else
		*q = p9_get_qid(c->r);
}

/* n bytes of payload whose length was coded just before. */
static void
c_data(struct codec *c, size_t n, const uint8_t **data)
{
	if (c->enc)
		wr_bytes(c->w, *data, n);
	else
		*data = rd_bytes(c->r, n);
}

/* count[4] data[count] */
static void
c_counted(struct codec *c, uint32_t *count, const uint8_t **data)
{
	c_u32(c, count);
	c_data(c, *count, data);
}

void
p9_put_qid(struct wr *w, const struct p9_qid *q)
{
	wr_u8(w, q->type);
	wr_le32(w, q->vers);
	wr_le64(w, q->path);
}

struct p9_qid
p9_get_qid(struct rd *r)
{
	struct p9_qid q;

	q.type = rd_u8(r);
	q.vers = rd_le32(r);
	q.path = rd_le64(r);
	return q;
}

void
p9_put_str(struct wr *w, struct p9_str s)
{
	wr_le16(w, s.len);
	if (s.len)
		wr_bytes(w, s.s, s.len);
}

struct p9_str
p9_get_str(struct rd *r)
{
	struct p9_str s;

	s.len = rd_le16(r);
	s.s = (const char *)rd_bytes(r, s.len);
	if (s.s == NULL) {
		s.s = "";
		s.len = 0;
	}
	return s;
}

struct p9_str
p9_str_of(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	struct p9_str r = { s ? s : "", (uint16_t)(n > 0xFFFF ? 0xFFFF : n) };
	return r;
}

bool
p9_str_eq(struct p9_str a, const char *b)
{
	size_t n = strlen(b);
	return a.len == n && memcmp(a.s, b, n) == 0;
}

static void
c_stat_fields(struct codec *c, struct p9_stat *st)
{
	c_u16(c, &st->type);
	c_u32(c, &st->dev);
	c_qid(c, &st->qid);
	c_u32(c, &st->mode);
	c_u32(c, &st->atime);
	c_u32(c, &st->mtime);
	c_u64(c, &st->length);
	c_str(c, &st->name);
	c_str(c, &st->uid);
	c_str(c, &st->gid);
	c_str(c, &st->muid);
}

/* size[2] type[2] dev[4] qid[13] mode[4] atime[4] mtime[4] length[8] and
 * four strings: 2+39 fixed bytes, 2 per string. */
size_t
p9_stat_size(const struct p9_stat *st)
{
	return 2 + 39 + 4 * 2 + (size_t)st->name.len + st->uid.len + st->gid.len +
	    st->muid.len;
}

size_t
p9_stat_encode(struct wr *w, const struct p9_stat *st)
{
	size_t n = p9_stat_size(st);
	struct codec c = { .enc = true, .w = w };
	struct p9_stat copy = *st;

	if (n - 2 > 0xFFFF) {
		w->err = true;
		return 0;
	}
	wr_le16(w, (uint16_t)(n - 2));
	c_stat_fields(&c, &copy);
	return w->err ? 0 : n;
}

bool
p9_stat_decode(struct rd *r, struct p9_stat *st)
{
	uint16_t size = rd_le16(r);
	struct rd body = rd_sub(r, size);
	struct codec c = { .enc = false, .r = &body };

	c_stat_fields(&c, st);
	return !body.err && rd_left(&body) == 0 && !r->err;
}

size_t
p9_dirent_encode(struct wr *w, const struct p9_dirent *de)
{
	size_t before = wr_len(w);

	p9_put_qid(w, &de->qid);
	wr_le64(w, de->offset);
	wr_u8(w, de->type);
	p9_put_str(w, de->name);
	return w->err ? 0 : wr_len(w) - before;
}

bool
p9_dirent_decode(struct rd *r, struct p9_dirent *de)
{
	de->qid = p9_get_qid(r);
	de->offset = rd_le64(r);
	de->type = rd_u8(r);
	de->name = p9_get_str(r);
	return !r->err;
}

/* ---- message bodies, 9P2000 ---- */

static void
c_walk(struct codec *c, struct p9_fcall *f)
{
	c_u32(c, &f->fid);
	c_u32(c, &f->newfid);
	c_u16(c, &f->nwname);
	if (f->nwname > P9_MAXWELEM) {
		c->bad = true;
		return;
	}
	for (int i = 0; i < f->nwname; i++)
		c_str(c, &f->wname[i]);
}

static void
c_rwalk(struct codec *c, struct p9_fcall *f)
{
	c_u16(c, &f->nwqid);
	if (f->nwqid > P9_MAXWELEM) {
		c->bad = true;
		return;
	}
	for (int i = 0; i < f->nwqid; i++)
		c_qid(c, &f->wqid[i]);
}

static void
c_authattach(struct codec *c, struct p9_fcall *f, bool attach)
{
	if (attach)
		c_u32(c, &f->fid);
	c_u32(c, &f->afid);
	c_str(c, &f->uname);
	c_str(c, &f->aname);
	if (c->d == P9_2000L)
		c_u32(c, &f->n_uname);
	else if (!c->enc)
		f->n_uname = P9_NONUNAME;
}

static void
c_stat_blob(struct codec *c, struct p9_fcall *f)
{
	c_u16(c, &f->nstat);
	c_data(c, f->nstat, &f->stat);
}

static bool
c_body_9p2000(struct codec *c, struct p9_fcall *f)
{
	switch (f->type) {
	case P9_TVERSION:
	case P9_RVERSION:
		c_u32(c, &f->msize);
		c_str(c, &f->version);
		break;
	case P9_TAUTH:
		c_authattach(c, f, false);
		break;
	case P9_TATTACH:
		c_authattach(c, f, true);
		break;
	case P9_RAUTH:
	case P9_RATTACH:
		c_qid(c, &f->qid);
		break;
	case P9_RERROR:
		c_str(c, &f->ename);
		break;
	case P9_TFLUSH:
		c_u16(c, &f->oldtag);
		break;
	case P9_TWALK:
		c_walk(c, f);
		break;
	case P9_RWALK:
		c_rwalk(c, f);
		break;
	case P9_TOPEN:
		c_u32(c, &f->fid);
		c_u8(c, &f->mode);
		break;
	case P9_TCREATE:
		c_u32(c, &f->fid);
		c_str(c, &f->name);
		c_u32(c, &f->perm);
		c_u8(c, &f->mode);
		break;
	case P9_ROPEN:
	case P9_RCREATE:
		c_qid(c, &f->qid);
		c_u32(c, &f->iounit);
		break;
	case P9_TREAD:
		c_u32(c, &f->fid);
		c_u64(c, &f->offset);
		c_u32(c, &f->count);
		break;
	case P9_RREAD:
		c_counted(c, &f->count, &f->data);
		break;
	case P9_TWRITE:
		c_u32(c, &f->fid);
		c_u64(c, &f->offset);
		c_counted(c, &f->count, &f->data);
		break;
	case P9_RWRITE:
		c_u32(c, &f->count);
		break;
	case P9_TCLUNK:
	case P9_TREMOVE:
	case P9_TSTAT:
		c_u32(c, &f->fid);
		break;
	case P9_RSTAT:
		c_stat_blob(c, f);
		break;
	case P9_TWSTAT:
		c_u32(c, &f->fid);
		c_stat_blob(c, f);
		break;
	case P9_RFLUSH:
	case P9_RCLUNK:
	case P9_RREMOVE:
	case P9_RWSTAT:
		break;
	default:
		return false;
	}
	return true;
}

/* ---- message bodies, 9P2000.L ---- */

static void
c_getattr(struct codec *c, struct p9_attr *a)
{
	c_u64(c, &a->valid);
	c_qid(c, &a->qid);
	c_u32(c, &a->mode);
	c_u32(c, &a->uid);
	c_u32(c, &a->gid);
	uint64_t *rest[] = { &a->nlink, &a->rdev, &a->size, &a->blksize, &a->blocks,
		&a->atime_sec, &a->atime_nsec, &a->mtime_sec, &a->mtime_nsec,
		&a->ctime_sec, &a->ctime_nsec, &a->btime_sec, &a->btime_nsec,
		&a->gen, &a->data_version };
	for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
		c_u64(c, rest[i]);
}

static void
c_setattr(struct codec *c, struct p9_setattr *s)
{
	c_u32(c, &s->valid);
	c_u32(c, &s->mode);
	c_u32(c, &s->uid);
	c_u32(c, &s->gid);
	c_u64(c, &s->size);
	c_u64(c, &s->atime_sec);
	c_u64(c, &s->atime_nsec);
	c_u64(c, &s->mtime_sec);
	c_u64(c, &s->mtime_nsec);
}

static void
c_statfs(struct codec *c, struct p9_statfs *s)
{
	c_u32(c, &s->type);
	c_u32(c, &s->bsize);
	c_u64(c, &s->blocks);
	c_u64(c, &s->bfree);
	c_u64(c, &s->bavail);
	c_u64(c, &s->files);
	c_u64(c, &s->ffree);
	c_u64(c, &s->fsid);
	c_u32(c, &s->namelen);
}

/* Tlock: fid type flags start length proc_id client_id; Tgetlock and
 * Rgetlock: the same without flags (and Rgetlock without fid). */
static void
c_lock(struct codec *c, struct p9_lock *l, bool with_flags)
{
	c_u8(c, &l->type);
	if (with_flags)
		c_u32(c, &l->flags);
	c_u64(c, &l->start);
	c_u64(c, &l->length);
	c_u32(c, &l->proc_id);
	c_str(c, &l->client_id);
}

/* Newer Linux clients send datasync[4]; older ones do not. */
static void
c_fsync(struct codec *c, struct p9_fcall *f)
{
	c_u32(c, &f->fid);
	if (c->enc)
		c_u32(c, &f->datasync);
	else if (rd_left(c->r) >= 4)
		f->datasync = rd_le32(c->r);
}

static bool
c_body_dotl(struct codec *c, struct p9_fcall *f)
{
	switch (f->type) {
	case P9_RLERROR:
		c_u32(c, &f->ecode);
		break;
	case P9_TSTATFS:
	case P9_TREADLINK:
		c_u32(c, &f->fid);
		break;
	case P9_RSTATFS:
		c_statfs(c, &f->statfs);
		break;
	case P9_TLOPEN:
		c_u32(c, &f->fid);
		c_u32(c, &f->flags);
		break;
	case P9_RLOPEN:
	case P9_RLCREATE:
		c_qid(c, &f->qid);
		c_u32(c, &f->iounit);
		break;
	case P9_TLCREATE:
		c_u32(c, &f->fid);
		c_str(c, &f->name);
		c_u32(c, &f->flags);
		c_u32(c, &f->perm);
		c_u32(c, &f->gid);
		break;
	case P9_TSYMLINK:
		c_u32(c, &f->fid);
		c_str(c, &f->name);
		c_str(c, &f->name2);
		c_u32(c, &f->gid);
		break;
	case P9_TMKNOD:
		c_u32(c, &f->fid);
		c_str(c, &f->name);
		c_u32(c, &f->perm);
		c_u32(c, &f->major);
		c_u32(c, &f->minor);
		c_u32(c, &f->gid);
		break;
	case P9_RSYMLINK:
	case P9_RMKNOD:
	case P9_RMKDIR:
		c_qid(c, &f->qid);
		break;
	case P9_TRENAME:
		c_u32(c, &f->fid);
		c_u32(c, &f->newfid);
		c_str(c, &f->name);
		break;
	case P9_RREADLINK:
		c_str(c, &f->name2);
		break;
	case P9_TGETATTR:
		c_u32(c, &f->fid);
		c_u64(c, &f->mask);
		break;
	case P9_RGETATTR:
		c_getattr(c, &f->attr);
		break;
	case P9_TSETATTR:
		c_u32(c, &f->fid);
		c_setattr(c, &f->setattr);
		break;
	case P9_TXATTRWALK:
		c_u32(c, &f->fid);
		c_u32(c, &f->newfid);
		c_str(c, &f->name);
		break;
	case P9_RXATTRWALK:
		c_u64(c, &f->xsize);
		break;
	case P9_TXATTRCREATE:
		c_u32(c, &f->fid);
		c_str(c, &f->name);
		c_u64(c, &f->xsize);
		c_u32(c, &f->flags);
		break;
	case P9_TREADDIR:
		c_u32(c, &f->fid);
		c_u64(c, &f->offset);
		c_u32(c, &f->count);
		break;
	case P9_RREADDIR:
		c_counted(c, &f->count, &f->data);
		break;
	case P9_TFSYNC:
		c_fsync(c, f);
		break;
	case P9_TLOCK:
		c_u32(c, &f->fid);
		c_lock(c, &f->lock, true);
		break;
	case P9_RLOCK:
		c_u8(c, &f->status);
		break;
	case P9_TGETLOCK:
		c_u32(c, &f->fid);
		c_lock(c, &f->lock, false);
		break;
	case P9_RGETLOCK:
		c_lock(c, &f->lock, false);
		break;
	case P9_TLINK:
		c_u32(c, &f->fid);
		c_u32(c, &f->newfid);
		c_str(c, &f->name);
		break;
	case P9_TMKDIR:
		c_u32(c, &f->fid);
		c_str(c, &f->name);
		c_u32(c, &f->perm);
		c_u32(c, &f->gid);
		break;
	case P9_TRENAMEAT:
		c_u32(c, &f->fid);
		c_str(c, &f->name);
		c_u32(c, &f->newfid);
		c_str(c, &f->name2);
		break;
	case P9_TUNLINKAT:
		c_u32(c, &f->fid);
		c_str(c, &f->name);
		c_u32(c, &f->flags);
		break;
	case P9_RRENAME:
	case P9_RSETATTR:
	case P9_RXATTRCREATE:
	case P9_RFSYNC:
	case P9_RLINK:
	case P9_RRENAMEAT:
	case P9_RUNLINKAT:
		break;
	default:
		return false;
	}
	return true;
}

static bool
c_body(struct codec *c, struct p9_fcall *f)
{
	return c_body_9p2000(c, f) || c_body_dotl(c, f);
}

int
p9_decode(const void *frame, size_t len, enum p9_dialect d, struct p9_fcall *f,
    const char **why)
{
	struct rd r = rd_make(frame, len);
	struct codec c = { .enc = false, .r = &r, .d = d };

	memset(f, 0, sizeof *f);
	uint32_t size = rd_le32(&r);
	f->type = rd_u8(&r);
	f->tag = rd_le16(&r);
	if (r.err) {
		*why = "short frame";
		return -1;
	}
	if (size != len) {
		*why = "size field disagrees with the frame";
		return -1;
	}
	if (!c_body(&c, f)) {
		*why = "unknown message type";
		return -1;
	}
	if (c.bad) {
		*why = "too many walk elements";
		return -1;
	}
	if (r.err) {
		*why = "field past the end of the frame";
		return -1;
	}
	if (rd_left(&r) != 0) {
		*why = "trailing bytes after the message";
		return -1;
	}
	return 0;
}

uint8_t *
p9_frame_begin(struct wr *w, uint8_t type, uint16_t tag)
{
	uint8_t *start = w->p;

	wr_le32(w, 0);
	wr_u8(w, type);
	wr_le16(w, tag);
	return w->err ? NULL : start;
}

size_t
p9_frame_end(struct wr *w, uint8_t *start)
{
	if (w->err || start == NULL)
		return 0;
	size_t n = (size_t)(w->p - start);
	if (n > 0xFFFFFFFFu) {
		w->err = true;
		return 0;
	}
	struct wr patch = wr_make(start, 4);
	wr_le32(&patch, (uint32_t)n);
	return n;
}

size_t
p9_encode(struct wr *w, const struct p9_fcall *f, enum p9_dialect d)
{
	struct p9_fcall copy = *f;      /* the codec takes non-const fields */
	struct codec c = { .enc = true, .w = w, .d = d };
	uint8_t *start = p9_frame_begin(w, f->type, f->tag);

	if (!c_body(&c, &copy) || c.bad) {
		w->err = true;
		return 0;
	}
	return p9_frame_end(w, start);
}

static const char *const type_names[] = {
	[P9_TLERROR] = "Tlerror", [P9_RLERROR] = "Rlerror",
	[P9_TSTATFS] = "Tstatfs", [P9_RSTATFS] = "Rstatfs",
	[P9_TLOPEN] = "Tlopen", [P9_RLOPEN] = "Rlopen",
	[P9_TLCREATE] = "Tlcreate", [P9_RLCREATE] = "Rlcreate",
	[P9_TSYMLINK] = "Tsymlink", [P9_RSYMLINK] = "Rsymlink",
	[P9_TMKNOD] = "Tmknod", [P9_RMKNOD] = "Rmknod",
	[P9_TRENAME] = "Trename", [P9_RRENAME] = "Rrename",
	[P9_TREADLINK] = "Treadlink", [P9_RREADLINK] = "Rreadlink",
	[P9_TGETATTR] = "Tgetattr", [P9_RGETATTR] = "Rgetattr",
	[P9_TSETATTR] = "Tsetattr", [P9_RSETATTR] = "Rsetattr",
	[P9_TXATTRWALK] = "Txattrwalk", [P9_RXATTRWALK] = "Rxattrwalk",
	[P9_TXATTRCREATE] = "Txattrcreate", [P9_RXATTRCREATE] = "Rxattrcreate",
	[P9_TREADDIR] = "Treaddir", [P9_RREADDIR] = "Rreaddir",
	[P9_TFSYNC] = "Tfsync", [P9_RFSYNC] = "Rfsync",
	[P9_TLOCK] = "Tlock", [P9_RLOCK] = "Rlock",
	[P9_TGETLOCK] = "Tgetlock", [P9_RGETLOCK] = "Rgetlock",
	[P9_TLINK] = "Tlink", [P9_RLINK] = "Rlink",
	[P9_TMKDIR] = "Tmkdir", [P9_RMKDIR] = "Rmkdir",
	[P9_TRENAMEAT] = "Trenameat", [P9_RRENAMEAT] = "Rrenameat",
	[P9_TUNLINKAT] = "Tunlinkat", [P9_RUNLINKAT] = "Runlinkat",
	[P9_TVERSION] = "Tversion", [P9_RVERSION] = "Rversion",
	[P9_TAUTH] = "Tauth", [P9_RAUTH] = "Rauth",
	[P9_TATTACH] = "Tattach", [P9_RATTACH] = "Rattach",
	[P9_RERROR] = "Rerror",
	[P9_TFLUSH] = "Tflush", [P9_RFLUSH] = "Rflush",
	[P9_TWALK] = "Twalk", [P9_RWALK] = "Rwalk",
	[P9_TOPEN] = "Topen", [P9_ROPEN] = "Ropen",
	[P9_TCREATE] = "Tcreate", [P9_RCREATE] = "Rcreate",
	[P9_TREAD] = "Tread", [P9_RREAD] = "Rread",
	[P9_TWRITE] = "Twrite", [P9_RWRITE] = "Rwrite",
	[P9_TCLUNK] = "Tclunk", [P9_RCLUNK] = "Rclunk",
	[P9_TREMOVE] = "Tremove", [P9_RREMOVE] = "Rremove",
	[P9_TSTAT] = "Tstat", [P9_RSTAT] = "Rstat",
	[P9_TWSTAT] = "Twstat", [P9_RWSTAT] = "Rwstat",
};

const char *
p9_type_name(uint8_t type)
{
	return type < sizeof type_names / sizeof type_names[0] ? type_names[type] : NULL;
}
