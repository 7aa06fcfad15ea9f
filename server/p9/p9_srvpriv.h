/* The 9P request engine's inside, shared by its three files (not for
 * other callers: they use p9_srv.h):
 *   p9_srv.c      the session, the fid table, version/auth/attach/flush,
 *                 walk, read/write, clunk/remove, dispatch (one reply per
 *                 request, asserted there)
 *   p9_srv2000.c  9P2000's open, create, directory reads, stat and wstat
 *   p9_srvL.c     9P2000.L's handlers (most are built on the 9P2000 ones)
 * A handler encodes its R-message into r->w and returns NULL, or returns
 * an error text with r->ecode set (fail/fail_be) and the dispatcher
 * replaces whatever it began with the one error reply. */
#ifndef GRIDBOOT_P9_SRVPRIV_H
#define GRIDBOOT_P9_SRVPRIV_H

#include "p9/p9_srv.h"
#include "core/util.h"

#include <errno.h>
#include <string.h>

/* Error texts of the protocol itself, after lib9p and the Plan 9 kernel
 * (defined in p9_srv.c). */
/* Error texts of the protocol itself, after lib9p and the Plan 9 kernel. */
extern const char Eunknownfid[];
extern const char Edupfid[];
extern const char Etoomanyfids[];
extern const char Etoomanyopen[];
extern const char Etoomanyafids[];
extern const char Enoauth[];
extern const char Enoversion[];
extern const char Etoobig[];
extern const char Ebadmsg[];
extern const char Eopen[];
extern const char Eguest[];
extern const char Ecloneopen[];
extern const char Ewalknodir[];
extern const char Ewalktoolong[];
extern const char Enotexist[];
extern const char Eisdir[];
extern const char Enotdir[];
extern const char Ecreatenondir[];
extern const char Ebadname[];
extern const char Enotread[];
extern const char Enotwrite[];
extern const char Ebadoffset[];
extern const char Ecountsmall[];
extern const char Ewstatfixed[];
extern const char Ewstatuid[];
extern const char Ebadstat[];
extern const char Exdev[];
extern const char Enotsup[];
extern const char Emsize[];
extern const char Etoolarge[];

struct fid {
	uint32_t num;
	struct fid *next;               /* hash chain */
	void *node;                     /* the backend's */
	struct p9_qid qid;
	int omode;                      /* -1: not open */
	bool orclose;
	uint64_t dir_offset;            /* 9P2000 directory reads: next offset */
	uint64_t dir_index;             /* ... and the entry it starts at */
	char uname[P9_UNAMEMAX];
	void *auth;                     /* an afid: its exchange (core/authgate.h) */
	bool guest;                     /* none without authentication: reads only */
};

#define FID_BUCKETS 256
#define MAXPENDING 16           /* blocked reads per session */

/* A read the backend could not answer yet (-EAGAIN: an events file with
 * nothing new). It is answered by p9_session_resume once it can be, with
 * an error once its fid is clunked, or never when flushed. */
struct pending {
	uint16_t tag;
	uint32_t fid, count;
	uint64_t offset;
	bool dead;                      /* its fid was clunked: answer an error */
};

#define P9_NUMBERED_MAX 4

struct p9_session {
	const struct p9_backend *be;
	void *ctx;
	uint32_t max_msize, msize;
	enum p9_dialect dialect;
	bool versioned;
	uint32_t zero_copy_min;
	struct fid *fids[FID_BUCKETS];
	unsigned nfids;
	unsigned nopen;                 /* fids open (afids aside): P9_MAXOPEN */
	unsigned nafids;                /* P9_MAXAFIDS */
	struct p9_budget budget;        /* bytes its fids hold */
	struct pending pend[MAXPENDING];
	int npend;
	const struct authgate_ops *gate;        /* NULL: Tauth is refused */
	void *gate_arg;
	bool auth_required;
	bool guest_none;                /* with auth_required: none may attach unproved */
	bool authenticated;             /* an afid here proved someone */
	uint64_t next_authpath;
	/* .L: the names attaches gave with a numeric n_uname, for later
	 * attaches that give only the number (numbered_name). */
	struct { uint32_t n; char name[P9_UNAMEMAX]; } numbered[P9_NUMBERED_MAX];
	int nnumbered;
	uint8_t *out;                   /* max_msize bytes: every reply goes here */
};

/* One request in flight. */
struct req {
	struct p9_session *s;
	const struct p9_fcall *in;
	struct wr w;
	struct p9_reply *reply;
	struct p9_op op;
	int ecode;                      /* errno for Rlerror */
	bool deferred;                  /* no reply now: a pending read */
};

typedef const char *handler(struct req *r);

/* ---- small helpers every handler uses ---- */

static inline const char *
fail(struct req *r, int ecode, const char *text)
{
	r->ecode = ecode;
	return text;
}

/* A backend failure: its own reason if it gave one. */
static inline const char *
fail_be(struct req *r, long rc)
{
	int e = rc < 0 && rc > -4096 ? (int)-rc : EIO;

	r->ecode = e;
	return r->op.ename[0] ? r->op.ename : p9_errno_text(e);
}

/* Copies a valid name (or, for walks, "..") into buf. */
static inline bool
name_copy(struct p9_str n, char buf[P9_NAMEMAX + 1], bool dotdot_ok)
{
	bool dotdot = n.len == 2 && n.s[0] == '.' && n.s[1] == '.';

	if (!(dotdot && dotdot_ok) && !p9_name_ok(n.s, n.len))
		return false;
	memcpy(buf, n.s, n.len);
	buf[n.len] = 0;
	return true;
}

static inline const char *
reply(struct req *r, struct p9_fcall *f)
{
	f->tag = r->in->tag;
	(void)p9_encode(&r->w, f, r->s->dialect);
	return NULL;
}

static inline const char *
reply_empty(struct req *r)
{
	struct p9_fcall f = { .type = (uint8_t)(r->in->type + 1) };
	return reply(r, &f);
}

static inline uint32_t
iounit(const struct p9_session *s)
{
	return s->msize - P9_IOHDRSZ;
}

static inline bool
readable(int omode)
{
	return omode >= 0 && (omode & 3) != P9_OWRITE;
}

static inline bool
writable(int omode)
{
	return omode >= 0 && ((omode & 3) == P9_OWRITE || (omode & 3) == P9_ORDWR);
}

static inline uint32_t
read_room(const struct req *r, uint32_t count)
{
	return MIN(count, r->s->msize - P9_READHDRSZ);
}

/* ---- p9_srv.c ---- */

struct fid *fid_get(struct p9_session *s, uint32_t num);
struct fid *req_fid(struct req *r, uint32_t num);
uint8_t *rread_begin(struct req *r, uint8_t type, uint32_t count, uint8_t **start,
    uint8_t **countp);
void rread_end(struct req *r, uint8_t *start, uint8_t *countp, uint8_t *data, uint32_t n);

/* ---- p9_srv2000.c ---- */

const char *open_fid(struct req *r, struct fid *f, uint8_t mode, uint8_t rtype);
const char *create_in(struct req *r, struct fid *f, struct p9_str name, uint32_t perm,
    uint8_t mode, uint8_t rtype);
const char *read_dir(struct req *r, struct fid *f);
handler h_open, h_create, h_stat, h_wstat;

/* ---- p9_srvL.c ---- */

handler h_lopen, h_lcreate, h_mkdir, h_unlinkat, h_renameat, h_rename, h_getattr,
    h_setattr, h_readdir, h_statfs, h_fsync, h_lock, h_getlock, h_unsupported,
    h_readlink;

#endif
