/* The 9P server core: a request engine with no sockets.
 *
 * One struct p9_session per connection. The glue reads one whole frame
 * (size[4] little-endian first, at most p9_session_msize bytes), hands it to
 * p9_session_handle and sends the one reply it gets back before reading on:
 * requests are answered synchronously, in order. The one exception is a
 * read the backend cannot answer yet (it returns -EAGAIN: a file that
 * blocks until the next event): it is kept, at most 16 per session, and
 * answered later by p9_session_resume; Tflush of it drops it (no reply),
 * a clunk of its fid turns it into an error.
 *
 * Files come from a backend, a table of callbacks in the shape of 9front's
 * lib9p Srv: p9_export.c serves a host directory, p9_synth.c an in-memory
 * tree of generated files. The session owns the fid table (at most
 * P9_MAXFIDS per session) and checks the protocol rules (open modes, walk
 * limits, directory read offsets, wstat's "don't touch" values) so that a
 * backend only does file operations. */
#ifndef GRIDBOOT_P9_SRV_H
#define GRIDBOOT_P9_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/p9_fcall.h"

#define P9_MAXFIDS 4096
#define P9_MAXOPEN 512          /* open fids per session (afids aside) */
#define P9_MAXAFIDS 2           /* authentication fids per session */
#define P9_SESSION_BYTES (32u << 20)    /* listings and texts a session's fids hold */
#define P9_MIN_MSIZE 256
#define P9_DEFAULT_MSIZE (65536 + P9_IOHDRSZ)
#define P9_ERRMAX 128
#define P9_NAMEMAX 255
#define P9_UNAMEMAX 64

/* Bytes held by fids between requests (directory listings, generated
 * texts made at open): a session's budget, and the total every session's
 * charges also go to. A backend charges before it keeps bytes and
 * refunds the same budget when it lets them go (at clunk). */
struct p9_budget {
	size_t held, max;               /* max 0: no limit */
	struct p9_budget *total;        /* a session's: the module's, or NULL */
	uint64_t *gauge;                /* set to held, or NULL */
};

/* Passed to every backend call. A backend that fails returns a negative
 * errno and may put a human-readable reason into ename (9P2000 clients see
 * it; 9P2000.L clients get the errno). Without one the errno's standard
 * 9P text is used ("file does not exist", "permission denied", ...). */
struct p9_op {
	void *ctx;                      /* the backend's context */
	const char *uname;              /* who attached the fid's tree */
	enum p9_dialect dialect;
	char ename[P9_ERRMAX];
	struct p9_budget *budget;       /* the session's, or NULL: no limit */
};

/* Charges n bytes to op's session and the total: 0, or -ENOMEM with the
 * reason in op->ename ("out of 9P memory for this session (limit 32 MiB)")
 * and nothing charged. p9_refund gives back what a p9_charge took (b is
 * op->budget at the time; NULL does nothing). */
int p9_charge(struct p9_op *op, size_t n);
void p9_refund(struct p9_budget *b, size_t n);

/* What one node holds, charged: p9_hold charges n more (0 or -ENOMEM as
 * p9_charge), p9_unhold gives all of it back. */
struct p9_held {
	struct p9_budget *b;
	size_t n;
};
int p9_hold(struct p9_op *op, struct p9_held *h, size_t n);
void p9_unhold(struct p9_held *h);

/* One file as a backend describes it, for both dialects. */
struct p9_dir {
	struct p9_qid qid;
	uint32_t mode;                  /* 9P2000: P9_DM* bits | 0777 perm */
	uint64_t length;
	char name[P9_NAMEMAX + 1];      /* "/" for the root */
	char uid[P9_UNAMEMAX], gid[P9_UNAMEMAX], muid[P9_UNAMEMAX];
	/* 9P2000.L extras */
	uint32_t unix_mode;             /* S_IFREG | 0644 ... */
	uint32_t n_uid, n_gid;
	uint64_t nlink, blocks;
	int64_t atime_ns, mtime_ns, ctime_ns;   /* since the epoch */
};

/* A change to one file; a field counts only when its bit is set. Built by
 * the session from Twstat (leaving out the "don't touch" values) or from
 * .L Tsetattr/Trenameat. */
#define P9_WS_MODE 0x01         /* perm bits (0777) */
#define P9_WS_LENGTH 0x02
#define P9_WS_ATIME 0x04
#define P9_WS_MTIME 0x08
#define P9_WS_NAME 0x10         /* rename within the same directory */
#define P9_WS_GID 0x20
struct p9_wstat {
	unsigned valid;
	uint32_t perm;
	uint64_t length;
	int64_t atime_ns, mtime_ns;
	const char *name;               /* NUL-terminated, already a valid name */
	bool replace;                   /* rename may replace an existing name (.L) */
	const char *gid;
};

/* Node handles are the backend's: attach and clone make one, clunk frees
 * it; the session keeps one per fid. All calls return 0 (or a count) on
 * success and a negative errno on failure. */
struct p9_backend {
	int (*attach)(struct p9_op *op, const char *aname, void **node, struct p9_qid *qid);
	int (*clone)(struct p9_op *op, void *node, void **copy);
	/* Moves node one step (name is a valid name or ".."; ".." at the
	 * root stays at the root) and reports the new qid. */
	int (*walk1)(struct p9_op *op, void *node, const char *name, struct p9_qid *qid);
	/* mode: P9_OREAD..P9_OEXEC | P9_OTRUNC; the session keeps ORCLOSE. */
	int (*open)(struct p9_op *op, void *node, uint8_t mode, struct p9_qid *qid);
	/* Creates name in the directory node and moves node to it, opened
	 * with mode (perm & P9_DMDIR makes a directory). */
	int (*create)(struct p9_op *op, void *node, const char *name, uint32_t perm,
	    uint8_t mode, struct p9_qid *qid);
	ssize_t (*read)(struct p9_op *op, void *node, uint64_t off, void *buf, uint32_t count);
	/* Optional, for sendfile: where count bytes at off live. Returns how
	 * many bytes (0 at the end) and sets *fd and *fdoff; the fd stays the
	 * backend's. NULL: the session always copies through read. */
	ssize_t (*read_fd)(struct p9_op *op, void *node, uint64_t off, uint32_t count,
	    int *fd, uint64_t *fdoff);
	ssize_t (*write)(struct p9_op *op, void *node, uint64_t off, const void *buf,
	    uint32_t count);
	int (*stat)(struct p9_op *op, void *node, struct p9_dir *d);
	int (*wstat)(struct p9_op *op, void *node, const struct p9_wstat *ws);
	int (*remove)(struct p9_op *op, void *node);    /* clunk follows */
	void (*clunk)(struct p9_op *op, void *node);
	/* Entry number index of the open directory node: 1 and *d, 0 at the
	 * end. Index 0 starts a new listing (a backend may snapshot there). */
	int (*readdir)(struct p9_op *op, void *node, uint64_t index, struct p9_dir *d);
	int (*statfs)(struct p9_op *op, void *node, struct p9_statfs *sf);  /* optional */
};

/* What to send for one request: data[0..len), then, when fd >= 0, fd_len
 * bytes of fd from fd_off (sendfile; the frame's size field already counts
 * them). data and fd stay valid until the next call on the session (a
 * clunk may close the fd): send the whole reply before handling more. */
struct p9_reply {
	const uint8_t *data;
	size_t len;
	int fd;
	uint64_t fd_off;
	uint32_t fd_len;
};

struct p9_session;

/* max_msize bounds the negotiated msize (0: P9_DEFAULT_MSIZE); the reply
 * buffer is allocated once, here. */
struct p9_session *p9_session_new(const struct p9_backend *be, void *ctx, uint32_t max_msize);
/* Clunks every fid (ORCLOSE files are removed) and frees the session. */
void p9_session_free(struct p9_session *s);

/* Handles one frame of len bytes. Returns true and the one reply (len 0
 * when the request is a blocked read: see p9_session_resume), or false
 * when the frame is too broken to answer (no readable header): the glue
 * should then close the connection. */
bool p9_session_handle(struct p9_session *s, const void *frame, size_t len,
    struct p9_reply *out);

/* A blocked read that can be answered now (or whose fid was clunked):
 * true with its reply, false when none. The glue calls it after every
 * handled frame and whenever a backend's data may have changed. */
bool p9_session_resume(struct p9_session *s, struct p9_reply *out);
unsigned p9_session_npending(const struct p9_session *s);

/* The largest frame either side may send now (before Tversion: the max). */
uint32_t p9_session_msize(const struct p9_session *s);
enum p9_dialect p9_session_dialect(const struct p9_session *s);
unsigned p9_session_nfids(const struct p9_session *s);

/* Authentication (core/authgate.h): with a gate, Tauth makes an afid that
 * runs the gate's exchange through Tread/Twrite, and Tattach naming it
 * must be the user it proved; with required, an attach without an afid
 * is refused ("authentication required"). Without a gate (the default)
 * Tauth is answered "authentication not required". */
struct authgate_ops;
void p9_session_set_auth(struct p9_session *s, const struct authgate_ops *gate, void *arg,
    bool required);
/* With auth required, whether "none" may attach without an afid, as a
 * guest whose fids only read (9front's cwfs allows it unless nonone). */
void p9_session_set_guest_none(struct p9_session *s, bool allow);
/* Whether an afid of this session proved a user (an attach named it). */
bool p9_session_authenticated(const struct p9_session *s);

/* Reads of at least min_count bytes from a backend with read_fd are
 * answered with an fd range instead of copied bytes. 0 (the default) turns
 * it off; the glue turns it on once it can sendfile. */
void p9_session_set_zero_copy(struct p9_session *s, uint32_t min_count);

/* The session's byte budget (P9_SESSION_BYTES unless told) and the total
 * it also charges (NULL: none). */
void p9_session_set_budget(struct p9_session *s, size_t max, struct p9_budget *total);

/* A read at off of a text a backend made (a generated file): copies what
 * there is, 0 at or past the end. */
ssize_t p9_read_text(const char *text, size_t len, uint64_t off, void *buf, uint32_t count);

/* The 9P text for an errno ("file does not exist" for ENOENT ...). */
const char *p9_errno_text(int err);

/* True for a name a client may create or rename to: 1..255 bytes, no '/'
 * or NUL, not "." or "..". */
bool p9_name_ok(const char *s, size_t len);

#endif
