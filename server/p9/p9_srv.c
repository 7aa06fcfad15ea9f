/* The 9P request engine (see p9_srv.h): the session, its fid table and
 * the dispatcher (p9_srvpriv.h says which file holds which handlers).
 *
 * p9_session_handle decodes a frame and calls one handler. A handler either
 * encodes its R-message into the session's reply buffer and returns NULL,
 * or returns an error text (with r->ecode set) and writes nothing that
 * counts: the dispatcher then rewinds the writer and encodes Rerror (or
 * Rlerror for .L). So every request gets exactly one reply, by
 * construction. */
#include "p9/p9_srvpriv.h"
#include "core/authgate.h"
#include "core/util.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Error texts of the protocol itself, after lib9p and the Plan 9 kernel. */
const char Eunknownfid[] = "fid unknown or out of range";
const char Edupfid[] = "duplicate fid";
const char Etoomanyfids[] = "too many fids";
#define STR_(x) #x
#define STR(x) STR_(x)
const char Etoomanyopen[] = "too many open files in this session (9P limit " STR(P9_MAXOPEN) ")";
const char Etoomanyafids[] = "too many authentication fids in this session (9P limit "
    STR(P9_MAXAFIDS) ")";
const char Enoauth[] = "authentication not required";
const char Enoversion[] = "version not negotiated";
const char Etoobig[] = "message larger than msize";
const char Ebadmsg[] = "bad message";
const char Eopen[] = "fid already open";
const char Eguest[] = "none without authentication may only read";
const char Ecloneopen[] = "cannot clone open fid";
const char Ewalknodir[] = "walk in non-directory";
const char Ewalktoolong[] = "too many names in walk";
const char Enotexist[] = "file does not exist";
const char Eisdir[] = "is a directory";
const char Enotdir[] = "not a directory";
const char Ecreatenondir[] = "create in non-directory";
const char Ebadname[] = "bad character in file name";
const char Enotread[] = "file not open for reading";
const char Enotwrite[] = "file not open for writing";
const char Ebadoffset[] = "bad offset in directory read";
const char Ecountsmall[] = "read count too small for a directory entry";
const char Ewstatfixed[] = "wstat can't change type, dev, qid or directory bit";
const char Ewstatuid[] = "wstat can't change owner";
const char Ebadstat[] = "bad stat entry in wstat";
const char Exdev[] = "rename across directories";
const char Enotsup[] = "operation not supported";
const char Emsize[] = "msize too small";
const char Etoolarge[] = "reply larger than msize";

/* ---- errors ---- */

const char *
p9_errno_text(int err)
{
	switch (err) {
	case ENOENT: return Enotexist;
	case EACCES:
	case EPERM: return "permission denied";
	case EEXIST: return "file already exists";
	case ENOTDIR: return Enotdir;
	case EISDIR: return Eisdir;
	case ENOTEMPTY: return "directory not empty";
	case ENAMETOOLONG: return "file name too long";
	case EROFS: return "read-only file system";
	case ENOSPC: return "file system full";
	case EXDEV: return Exdev;
	case EBADF: return Eunknownfid;
	case EINVAL: return "bad argument";
	case ELOOP: return "symbolic link refused";
	case EMFILE:
	case ENFILE: return "too many open files";
	case ENOMEM: return "out of memory";
	case EFBIG: return "file too large";
	case EOPNOTSUPP: return Enotsup;
	case EBUSY: return "file is busy";
	default: return "i/o error";
	}
}

ssize_t
p9_read_text(const char *text, size_t len, uint64_t off, void *buf, uint32_t count)
{
	if (off >= len)
		return 0;
	size_t k = MIN((size_t)count, len - (size_t)off);
	memcpy(buf, text + off, k);
	return (ssize_t)k;
}

/* ---- the byte budget ---- */

static void
budget_add(struct p9_budget *b, size_t n, bool refund)
{
	b->held = refund ? b->held - MIN(n, b->held) : b->held + n;
	if (b->gauge)
		*b->gauge = b->held;
}

int
p9_charge(struct p9_op *op, size_t n)
{
	struct p9_budget *b = op->budget;

	if (b == NULL)
		return 0;
	if (b->max && b->held + n > b->max) {
		snprintf(op->ename, sizeof op->ename, "out of 9P memory for this session "
		    "(limit %zu MiB)", b->max >> 20);
		return -ENOMEM;
	}
	if (b->total && b->total->max && b->total->held + n > b->total->max) {
		snprintf(op->ename, sizeof op->ename, "out of 9P memory on this server "
		    "(limit %zu MiB)", b->total->max >> 20);
		return -ENOMEM;
	}
	budget_add(b, n, false);
	if (b->total)
		budget_add(b->total, n, false);
	return 0;
}

void
p9_refund(struct p9_budget *b, size_t n)
{
	if (b == NULL)
		return;
	budget_add(b, n, true);
	if (b->total)
		budget_add(b->total, n, true);
}

int
p9_hold(struct p9_op *op, struct p9_held *h, size_t n)
{
	if (h->n && h->b != op->budget)
		p9_unhold(h);           /* never two budgets in one hold */
	int rc = p9_charge(op, n);
	if (rc == 0) {
		h->b = op->budget;
		h->n += n;
	}
	return rc;
}

void
p9_unhold(struct p9_held *h)
{
	p9_refund(h->b, h->n);
	h->b = NULL;
	h->n = 0;
}

/* ---- names ---- */

bool
p9_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > P9_NAMEMAX || memchr(s, '/', len) || memchr(s, 0, len))
		return false;
	return !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

/* ---- the fid table ---- */

static struct fid **
fid_slot(struct p9_session *s, uint32_t num)
{
	struct fid **pp = &s->fids[(num ^ num >> 8 ^ num >> 16) % FID_BUCKETS];

	while (*pp && (*pp)->num != num)
		pp = &(*pp)->next;
	return pp;
}

struct fid *
fid_get(struct p9_session *s, uint32_t num)
{
	return *fid_slot(s, num);
}

/* A new fid, or NULL with the error when it is in use or the table full. */
static struct fid *
fid_new(struct req *r, uint32_t num, const char **err)
{
	struct p9_session *s = r->s;
	struct fid **pp = fid_slot(s, num);

	if (*pp) {
		*err = fail(r, EBADF, Edupfid);
		return NULL;
	}
	if (num == P9_NOFID) {
		*err = fail(r, EBADF, Eunknownfid);
		return NULL;
	}
	if (s->nfids >= P9_MAXFIDS) {
		*err = fail(r, EMFILE, Etoomanyfids);
		return NULL;
	}
	struct fid *f = ecalloc(1, sizeof *f);
	f->num = num;
	f->omode = -1;
	*pp = f;
	s->nfids++;
	return f;
}

static void
op_init(struct p9_op *op, struct p9_session *s, const char *uname)
{
	op->ctx = s->ctx;
	op->uname = uname;
	op->dialect = s->dialect;
	op->ename[0] = 0;
	op->budget = &s->budget;
}

/* Takes the fid out of the table, removing its file first when it was
 * opened ORCLOSE; returns what the remove said (0 when none). */
static int
fid_clunk(struct p9_session *s, struct fid *f)
{
	struct fid **pp = fid_slot(s, f->num);
	struct p9_op op;
	int rc = 0;

	op_init(&op, s, f->uname);
	for (int i = 0; i < s->npend; i++)
		if (s->pend[i].fid == f->num)
			s->pend[i].dead = true;
	if (f->auth) {
		s->gate->end(f->auth);
		s->nafids--;
	} else if (f->node) {           /* NULL: an afid whose exchange never started */
		if (f->omode != -1)
			s->nopen--;
		if (f->orclose)
			rc = s->be->remove(&op, f->node);
		s->be->clunk(&op, f->node);
	}
	*pp = f->next;
	s->nfids--;
	free(f);
	return rc;
}

static void
clunk_all(struct p9_session *s)
{
	for (int b = 0; b < FID_BUCKETS; b++)
		while (s->fids[b])
			(void)fid_clunk(s, s->fids[b]);
}

/* The fid a request names, with r->op set up for its user. */
struct fid *
req_fid(struct req *r, uint32_t num)
{
	struct fid *f = fid_get(r->s, num);
	uint8_t t = r->in->type;

	/* An afid carries the authentication exchange and nothing else. */
	if (f && f->auth && t != P9_TREAD && t != P9_TWRITE && t != P9_TCLUNK)
		return NULL;

	if (f)
		op_init(&r->op, r->s, f->uname);
	return f;
}

/* ---- version, auth, attach, flush ---- */

/* "9P2000.L" is .L; anything else whose part before the first '.' is
 * "9P2000" is plain 9P2000 (so "9P2000.u" gets "9P2000"); the rest is
 * "unknown" (version(5)). */
static const char *
pick_version(struct p9_str v, enum p9_dialect *d)
{
	if (p9_str_eq(v, "9P2000.L")) {
		*d = P9_2000L;
		return "9P2000.L";
	}
	const char *dot = memchr(v.s, '.', v.len);
	size_t base = dot ? (size_t)(dot - v.s) : v.len;
	if (base == 6 && memcmp(v.s, "9P2000", 6) == 0) {
		*d = P9_2000;
		return "9P2000";
	}
	return NULL;
}

static const char *
h_version(struct req *r)
{
	struct p9_session *s = r->s;
	enum p9_dialect d = P9_2000;
	const char *v = pick_version(r->in->version, &d);

	if (r->in->msize < P9_MIN_MSIZE)
		return fail(r, EINVAL, Emsize);
	clunk_all(s);           /* a new version aborts the old session, */
	s->npend = 0;           /* its blocked reads unanswered (version(5)) */
	s->versioned = v != NULL;
	s->dialect = d;
	s->msize = MIN(r->in->msize, s->max_msize);
	struct p9_fcall f = { .type = P9_RVERSION, .msize = s->msize,
		.version = p9_str_of(v ? v : "unknown") };
	return reply(r, &f);
}

static void
uname_copy(char dst[P9_UNAMEMAX], const struct p9_fcall *in)
{
	if (in->uname.len > 0) {
		size_t n = MIN((size_t)in->uname.len, (size_t)P9_UNAMEMAX - 1);
		memcpy(dst, in->uname.s, n);
		dst[n] = 0;
		if (strlen(dst) > 0)
			return;
	}
	if (in->n_uname != P9_NONUNAME)
		snprintf(dst, P9_UNAMEMAX, "%" PRIu32, in->n_uname);
	else
		str_copy(dst, "none", P9_UNAMEMAX);
}

/* With an auth gate (core/authgate.h), the afid runs the server side of
 * p9any; attach then names it and must be the user it proved to be. */
static const char *
h_auth(struct req *r)
{
	struct p9_session *s = r->s;
	const char *err = NULL;

	if (s->gate == NULL)
		return s->auth_required ?
		    fail(r, EACCES, "authentication required, but the auth server has no keys") :
		    fail(r, EOPNOTSUPP, Enoauth);
	/* Each exchange costs memory and, later, a key step: one client
	 * needs one afid at a time, a second covers a retry. */
	if (s->nafids >= P9_MAXAFIDS)
		return fail(r, EMFILE, Etoomanyafids);
	struct fid *f = fid_new(r, r->in->afid, &err);
	if (f == NULL)
		return err;
	uname_copy(f->uname, r->in);
	if ((f->auth = s->gate->start(s->gate_arg)) == NULL) {
		fid_clunk(s, f);
		return fail(r, EPERM, "the auth server has no key for this server's host owner");
	}
	s->nafids++;
	f->omode = P9_ORDWR;
	f->qid = (struct p9_qid){ P9_QTAUTH, 0, ++s->next_authpath };
	struct p9_fcall out = { .type = P9_RAUTH, .qid = f->qid };
	return reply(r, &out);
}

/* The afid's exchange proved uname; NULL, or why not. */
static const char *
attach_auth(struct req *r, const char *uname, bool *guest)
{
	struct p9_session *s = r->s;
	const struct p9_fcall *in = r->in;

	/* A connection that has authenticated may also attach as "none",
	 * the user who owns nothing, as 9front's file servers allow:
	 * aux/listen becomes none and mounts the root again before it
	 * announces a cpu server's services. */
	bool as_none = strcmp(uname, "none") == 0 && s->authenticated;

	if (in->afid == P9_NOFID) {
		if (!s->auth_required || as_none)
			return NULL;
		/* As 9front's cwfs without nonone: none, unproved, may look
		 * (the lab's Linux discovery image mounts as none); h_attach
		 * marks the fid a guest, and guests change nothing. */
		if (s->guest_none && strcmp(uname, "none") == 0) {
			*guest = true;
			return NULL;
		}
		return fail(r, EACCES, "authentication required");
	}
	if (s->gate == NULL)
		return fail(r, EOPNOTSUPP, Enoauth);
	struct fid *a = fid_get(s, in->afid);
	if (a == NULL || a->auth == NULL)
		return fail(r, EBADF, "not an authentication fid");
	const char *who = s->gate->user(a->auth);
	if (who == NULL || (strcmp(who, uname) != 0 && !(as_none || strcmp(uname, "none") == 0)))
		return fail(r, EACCES, "authentication failed");
	s->authenticated = true;
	return NULL;
}


/* Linux's client (access=user, 9P2000.L's default) attaches first with
 * the mount's uname (uname=, and no number), then once per local uid with
 * the number alone. A number-only attach is taken as the name an earlier
 * attach on this connection gave with that number, else as the name the
 * mount gave without one: the Linux machine's users act as the user its
 * mount named, as with access=any. With grid.p9_auth the name must still
 * be proved by the attach's own afid, so this grants nothing there. */
static void
numbered_name(struct p9_session *s, const struct p9_fcall *in, char uname[P9_UNAMEMAX])
{
	const char *mount_name = NULL;

	if (in->uname.len > 0 || in->n_uname == P9_NONUNAME)
		return;
	for (int i = 0; i < s->nnumbered; i++) {
		if (s->numbered[i].n == in->n_uname) {
			str_copy(uname, s->numbered[i].name, P9_UNAMEMAX);
			return;
		}
		if (s->numbered[i].n == P9_NONUNAME)
			mount_name = s->numbered[i].name;
	}
	if (mount_name)
		str_copy(uname, mount_name, P9_UNAMEMAX);
}

/* Remembers the name a named attach gave (with its number or none); the
 * first P9_NUMBERED_MAX numbers only. */
static void
numbered_learn(struct p9_session *s, const struct p9_fcall *in, const char *uname)
{
	int i;

	if (in->uname.len == 0)
		return;
	for (i = 0; i < s->nnumbered && s->numbered[i].n != in->n_uname; i++)
		;
	if (i == s->nnumbered) {
		if (s->nnumbered == P9_NUMBERED_MAX)
			return;
		s->nnumbered++;
	}
	s->numbered[i].n = in->n_uname;
	str_copy(s->numbered[i].name, uname, sizeof s->numbered[i].name);
}

static const char *
h_attach(struct req *r)
{
	const struct p9_fcall *in = r->in;
	const char *err = NULL;
	char aname[P9_NAMEMAX + 1];

	char uname[P9_UNAMEMAX];

	if (in->aname.len > P9_NAMEMAX || memchr(in->aname.s, 0, in->aname.len))
		return fail(r, EINVAL, "unknown specifier in attach");
	memcpy(aname, in->aname.s, in->aname.len);
	aname[in->aname.len] = 0;
	uname_copy(uname, in);
	numbered_name(r->s, in, uname);
	bool guest = false;
	if ((err = attach_auth(r, uname, &guest)) != NULL)
		return err;
	struct fid *f = fid_new(r, in->fid, &err);
	if (f == NULL)
		return err;
	str_copy(f->uname, uname, sizeof f->uname);
	f->guest = guest;
	op_init(&r->op, r->s, f->uname);
	int rc = r->s->be->attach(&r->op, aname, &f->node, &f->qid);
	if (rc < 0) {
		err = fail_be(r, rc);
		struct fid **pp = fid_slot(r->s, f->num);
		*pp = f->next;
		r->s->nfids--;
		free(f);
		return err;
	}
	numbered_learn(r->s, in, uname);
	struct p9_fcall out = { .type = P9_RATTACH, .qid = f->qid };
	return reply(r, &out);
}

static void
pend_drop(struct p9_session *s, int i)
{
	memmove(&s->pend[i], &s->pend[i + 1], (size_t)(s->npend - i - 1) * sizeof s->pend[0]);
	s->npend--;
}

/* Every request but a pending read is answered already; a flushed pending
 * read is never answered (9P: the Rflush says it is gone). */
static const char *
h_flush(struct req *r)
{
	for (int i = 0; i < r->s->npend; i++)
		if (r->s->pend[i].tag == r->in->oldtag) {
			pend_drop(r->s, i);
			break;
		}
	return reply_empty(r);
}

/* ---- walk ---- */

/* Walks a clone of f's node through the names; *nqid is how many
 * succeeded. Returns the clone (NULL when cloning failed) and leaves the
 * first failure's text in *err. */
static void *
walk_clone(struct req *r, struct fid *f, struct p9_qid *wqid, int *nqid, const char **err)
{
	const struct p9_fcall *in = r->in;
	const struct p9_backend *be = r->s->be;
	void *node = NULL;
	struct p9_qid qid = f->qid;
	char name[P9_NAMEMAX + 1];
	int rc = be->clone(&r->op, f->node, &node);

	*nqid = 0;
	*err = NULL;
	if (rc < 0) {
		*err = fail_be(r, rc);
		return NULL;
	}
	for (int i = 0; i < in->nwname; i++) {
		if (!(qid.type & P9_QTDIR)) {
			*err = fail(r, ENOTDIR, Ewalknodir);
			break;
		}
		if (!name_copy(in->wname[i], name, true)) {
			*err = fail(r, ENOENT, Enotexist);
			break;
		}
		rc = be->walk1(&r->op, node, name, &qid);
		if (rc < 0) {
			*err = fail_be(r, rc);
			break;
		}
		wqid[(*nqid)++] = qid;
	}
	return node;
}

static const char *
h_walk(struct req *r)
{
	const struct p9_fcall *in = r->in;
	struct p9_session *s = r->s;
	struct fid *f = req_fid(r, in->fid);
	struct p9_fcall out = { .type = P9_RWALK };
	const char *err;
	int n;

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	if (f->omode != -1)
		return fail(r, EBUSY, Ecloneopen);
	if (in->nwname > P9_MAXWELEM)
		return fail(r, EINVAL, Ewalktoolong);
	if (in->newfid != in->fid) {
		if (fid_get(s, in->newfid))
			return fail(r, EBADF, Edupfid);
		if (in->newfid == P9_NOFID)
			return fail(r, EBADF, Eunknownfid);
		if (s->nfids >= P9_MAXFIDS)
			return fail(r, EMFILE, Etoomanyfids);
	}
	if (in->nwname > 0 && !(f->qid.type & P9_QTDIR))
		return fail(r, ENOTDIR, Ewalknodir);
	void *node = walk_clone(r, f, out.wqid, &n, &err);
	if (node == NULL)
		return err;
	if (n < in->nwname) {
		s->be->clunk(&r->op, node);
		if (n == 0)
			return err;
		out.nwqid = (uint16_t)n;        /* partial walk: newfid untouched */
		return reply(r, &out);
	}
	struct p9_qid qid = n ? out.wqid[n - 1] : f->qid;
	if (in->newfid == in->fid) {
		s->be->clunk(&r->op, f->node);
	} else {
		struct fid *nf = fid_new(r, in->newfid, &err);
		assert(nf != NULL);     /* checked above */
		memcpy(nf->uname, f->uname, sizeof nf->uname);
		nf->guest = f->guest;
		f = nf;
	}
	f->node = node;
	f->qid = qid;
	out.nwqid = (uint16_t)n;
	return reply(r, &out);
}

/* ---- read, write ---- */

/* Rread's header with room for count bytes; returns where data goes. */
uint8_t *
rread_begin(struct req *r, uint8_t type, uint32_t count, uint8_t **start, uint8_t **countp)
{
	*start = p9_frame_begin(&r->w, type, r->in->tag);
	*countp = wr_reserve(&r->w, 4);
	return wr_reserve(&r->w, count);
}

void
rread_end(struct req *r, uint8_t *start, uint8_t *countp, uint8_t *data, uint32_t n)
{
	struct wr cw = wr_make(countp, 4);

	r->w.p = data + n;
	wr_le32(&cw, n);
	(void)p9_frame_end(&r->w, start);
}


static bool
try_zero_copy(struct req *r, struct fid *f, uint32_t room)
{
	struct p9_session *s = r->s;
	int fd = -1;
	uint64_t fdoff = 0;

	if (s->zero_copy_min == 0 || room < s->zero_copy_min || s->be->read_fd == NULL)
		return false;
	ssize_t n = s->be->read_fd(&r->op, f->node, r->in->offset, room, &fd, &fdoff);
	if (n < 0 || fd < 0)
		return false;   /* fall back to a copy, which reports the error */
	uint8_t *start, *countp;
	uint8_t *data = rread_begin(r, P9_RREAD, 0, &start, &countp);
	rread_end(r, start, countp, data, 0);
	/* The count and size fields include the bytes the glue sends. */
	struct wr cw = wr_make(countp, 4);
	wr_le32(&cw, (uint32_t)n);
	struct wr sw = wr_make(start, 4);
	wr_le32(&sw, (uint32_t)(P9_READHDRSZ + n));
	r->reply->fd = fd;
	r->reply->fd_off = fdoff;
	r->reply->fd_len = (uint32_t)n;
	return true;
}

/* The backend has nothing yet: keep the read to answer later. */
static const char *
defer_read(struct req *r)
{
	struct p9_session *s = r->s;

	for (int i = 0; i < s->npend; i++)
		if (s->pend[i].tag == r->in->tag)
			return fail(r, EBUSY, "tag in use by a blocked read");
	if (s->npend >= MAXPENDING)
		return fail(r, EBUSY, "too many blocked reads");
	s->pend[s->npend++] = (struct pending){ .tag = r->in->tag, .fid = r->in->fid,
	    .count = r->in->count, .offset = r->in->offset };
	r->deferred = true;
	return NULL;
}

/* Our side of the exchange; a read before we have anything to say waits
 * for the client's next write, like a blocked events read. */
static const char *
read_auth(struct req *r, struct fid *f)
{
	uint8_t *start, *countp;
	uint32_t room = read_room(r, r->in->count);
	uint8_t *data = rread_begin(r, P9_RREAD, room, &start, &countp);

	if (data == NULL)
		return fail(r, EIO, Etoolarge);
	size_t n = r->s->gate->read(f->auth, data, room);
	if (n == 0 && r->s->gate->user(f->auth) == NULL)
		return defer_read(r);
	rread_end(r, start, countp, data, (uint32_t)n);
	return NULL;
}

static const char *
h_read(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);
	uint8_t *start, *countp, *data;

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	if (!readable(f->omode))
		return fail(r, EBADF, Enotread);
	if (f->auth)
		return read_auth(r, f);
	if (f->qid.type & P9_QTDIR)
		return read_dir(r, f);
	uint32_t room = read_room(r, r->in->count);
	if (try_zero_copy(r, f, room))
		return NULL;
	data = rread_begin(r, P9_RREAD, room, &start, &countp);
	if (data == NULL)
		return fail(r, EIO, Etoolarge);
	ssize_t n = r->s->be->read(&r->op, f->node, r->in->offset, data, room);
	if (n == -EAGAIN)
		return defer_read(r);
	if (n < 0)
		return fail_be(r, n);
	rread_end(r, start, countp, data, (uint32_t)MIN((size_t)n, (size_t)room));
	return NULL;
}

static const char *
h_write(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	if (!writable(f->omode))
		return fail(r, EBADF, Enotwrite);
	if (f->auth) {
		const char *why;
		if (r->s->gate->write(f->auth, r->in->data, r->in->count, &why) < 0)
			return fail(r, EACCES, why ? why : "authentication failed");
		struct p9_fcall out = { .type = P9_RWRITE, .count = r->in->count };
		return reply(r, &out);
	}
	if (f->qid.type & P9_QTDIR)
		return fail(r, EISDIR, Eisdir);
	ssize_t n = r->s->be->write(&r->op, f->node, r->in->offset, r->in->data, r->in->count);
	if (n < 0)
		return fail_be(r, n);
	struct p9_fcall out = { .type = P9_RWRITE,
		.count = (uint32_t)MIN((size_t)n, (size_t)r->in->count) };
	return reply(r, &out);
}

/* ---- clunk, remove ---- */

static const char *
h_clunk(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	(void)fid_clunk(r->s, f);       /* an ORCLOSE failure is not reported */
	return reply_empty(r);
}

/* The fid is clunked whether or not the remove works (remove(5)). */
static const char *
h_remove(struct req *r)
{
	struct fid *f = req_fid(r, r->in->fid);

	if (f == NULL)
		return fail(r, EBADF, Eunknownfid);
	int rc = r->s->be->remove(&r->op, f->node);
	f->orclose = false;
	(void)fid_clunk(r->s, f);
	if (rc < 0)
		return fail_be(r, rc);
	return reply_empty(r);
}

/* ---- dispatch ---- */

static handler *
handler_for(uint8_t type, enum p9_dialect d)
{
	switch (type) {
	case P9_TVERSION: return h_version;
	case P9_TAUTH: return h_auth;
	case P9_TATTACH: return h_attach;
	case P9_TFLUSH: return h_flush;
	case P9_TWALK: return h_walk;
	case P9_TOPEN: return h_open;
	case P9_TCREATE: return h_create;
	case P9_TREAD: return h_read;
	case P9_TWRITE: return h_write;
	case P9_TCLUNK: return h_clunk;
	case P9_TREMOVE: return h_remove;
	case P9_TSTAT: return h_stat;
	case P9_TWSTAT: return h_wstat;
	default: break;
	}
	if (d != P9_2000L)
		return NULL;
	switch (type) {
	case P9_TSTATFS: return h_statfs;
	case P9_TLOPEN: return h_lopen;
	case P9_TLCREATE: return h_lcreate;
	case P9_TREADLINK: return h_readlink;
	case P9_TGETATTR: return h_getattr;
	case P9_TSETATTR: return h_setattr;
	case P9_TREADDIR: return h_readdir;
	case P9_TFSYNC: return h_fsync;
	case P9_TLOCK: return h_lock;
	case P9_TGETLOCK: return h_getlock;
	case P9_TMKDIR: return h_mkdir;
	case P9_TRENAME: return h_rename;
	case P9_TRENAMEAT: return h_renameat;
	case P9_TUNLINKAT: return h_unlinkat;
	case P9_TXATTRWALK:
	case P9_TXATTRCREATE:
	case P9_TSYMLINK:
	case P9_TMKNOD:
	case P9_TLINK: return h_unsupported;
	default: return NULL;
	}
}

/* Encodes the one error reply, over whatever the handler began. */
static void
reply_error(struct req *r, uint16_t tag, const char *text)
{
	struct p9_fcall f = { .tag = tag };

	r->w = wr_make(r->s->out, r->s->msize);
	r->reply->fd = -1;
	if (r->s->dialect == P9_2000L) {
		f.type = P9_RLERROR;
		f.ecode = (uint32_t)(r->ecode ? r->ecode : EIO);
	} else {
		f.type = P9_RERROR;
		f.ename = p9_str_of(text);
		if (f.ename.len > P9_ERRMAX)
			f.ename.len = P9_ERRMAX;
	}
	(void)p9_encode(&r->w, &f, r->s->dialect);
	assert(!r->w.err);      /* msize >= P9_MIN_MSIZE holds any error */
}

/* Requests that change the tree through in->fid (opens are checked by
 * their mode in open_fid). */
static bool
changes_tree(uint8_t type)
{
	switch (type) {
	case P9_TCREATE: case P9_TWRITE: case P9_TREMOVE: case P9_TWSTAT:
	case P9_TLCREATE: case P9_TSETATTR: case P9_TMKDIR: case P9_TRENAME:
	case P9_TRENAMEAT: case P9_TUNLINKAT: case P9_TSYMLINK: case P9_TMKNOD:
	case P9_TLINK: case P9_TXATTRCREATE:
		return true;
	default:
		return false;
	}
}

/* The request's handler, or the reason there is none. */
static const char *
run(struct req *r, size_t len)
{
	const struct p9_fcall *in = r->in;
	struct p9_session *s = r->s;

	if (in->type != P9_TVERSION && !s->versioned)
		return fail(r, EPROTO, Enoversion);
	if (in->type != P9_TVERSION && len > s->msize)
		return fail(r, EMSGSIZE, Etoobig);
	handler *h = handler_for(in->type, s->dialect);
	if (h == NULL)
		return fail(r, EOPNOTSUPP, Ebadmsg);
	if (changes_tree(in->type)) {
		struct fid *f = fid_get(s, in->fid);
		if (f && f->guest)
			return fail(r, EROFS, Eguest);
	}
	op_init(&r->op, s, "none");
	return h(r);
}

bool
p9_session_handle(struct p9_session *s, const void *frame, size_t len, struct p9_reply *out)
{
	struct p9_fcall in;
	const char *why;
	struct req r = { .s = s, .in = &in, .reply = out };

	memset(out, 0, sizeof *out);
	out->fd = -1;
	r.w = wr_make(s->out, s->msize);
	if (p9_decode(frame, len, s->dialect, &in, &why) != 0) {
		if (len < P9_HDRSZ)
			return false;
		reply_error(&r, in.tag, fail(&r, EINVAL, Ebadmsg));
	} else {
		const char *err = run(&r, len);
		if (err)
			reply_error(&r, in.tag, err);
		else if (r.deferred)
			return true;            /* out->len 0: answered by resume */
		else if (r.w.err)
			reply_error(&r, in.tag, fail(&r, EMSGSIZE, Etoolarge));
	}
	assert(wr_len(&r.w) >= P9_HDRSZ);      /* exactly one reply was built */
	out->data = s->out;
	out->len = wr_len(&r.w);
	return true;
}

bool
p9_session_resume(struct p9_session *s, struct p9_reply *out)
{
	/* Each pending read is tried once per call: one that blocks again
	 * goes to the back, so the loop ends. */
	for (int tries = s->npend; tries > 0; tries--) {
		struct pending p = s->pend[0];
		struct p9_fcall in = { .type = P9_TREAD, .tag = p.tag, .fid = p.fid,
		    .offset = p.offset, .count = p.count };
		struct req r = { .s = s, .in = &in, .reply = out };
		const char *err;

		pend_drop(s, 0);
		memset(out, 0, sizeof *out);
		out->fd = -1;
		r.w = wr_make(s->out, s->msize);
		op_init(&r.op, s, "none");
		err = p.dead ? fail(&r, EBADF, "fid clunked during a blocked read") : h_read(&r);
		if (r.deferred)
			continue;
		if (err)
			reply_error(&r, p.tag, err);
		out->data = s->out;
		out->len = wr_len(&r.w);
		return true;
	}
	return false;
}

unsigned
p9_session_npending(const struct p9_session *s)
{
	return (unsigned)s->npend;
}

/* ---- the session ---- */

struct p9_session *
p9_session_new(const struct p9_backend *be, void *ctx, uint32_t max_msize)
{
	struct p9_session *s = ecalloc(1, sizeof *s);

	s->be = be;
	s->ctx = ctx;
	s->max_msize = max_msize ? MAX(max_msize, (uint32_t)P9_MIN_MSIZE) : P9_DEFAULT_MSIZE;
	s->msize = s->max_msize;
	s->out = emalloc(s->max_msize);
	s->budget.max = P9_SESSION_BYTES;
	return s;
}

void
p9_session_free(struct p9_session *s)
{
	if (s == NULL)
		return;
	clunk_all(s);
	free(s->out);
	free(s);
}

uint32_t
p9_session_msize(const struct p9_session *s)
{
	return s->msize;
}

enum p9_dialect
p9_session_dialect(const struct p9_session *s)
{
	return s->dialect;
}

unsigned
p9_session_nfids(const struct p9_session *s)
{
	return s->nfids;
}

void
p9_session_set_auth(struct p9_session *s, const struct authgate_ops *gate, void *arg,
    bool required)
{
	s->gate = gate;
	s->gate_arg = arg;
	s->auth_required = required;    /* without a gate: nobody attaches */
}

bool
p9_session_authenticated(const struct p9_session *s)
{
	return s->authenticated;
}

void
p9_session_set_guest_none(struct p9_session *s, bool allow)
{
	s->guest_none = allow;
}

void
p9_session_set_budget(struct p9_session *s, size_t max, struct p9_budget *total)
{
	s->budget.max = max;
	s->budget.total = total;
}

void
p9_session_set_zero_copy(struct p9_session *s, uint32_t min_count)
{
	s->zero_copy_min = min_count;
}
