/* The 9P2000 and 9P2000.L message codec.
 *
 * A frame is size[4] type[1] tag[2] body, little-endian, size counting
 * itself. p9_decode reads one whole frame through the bounds-checked
 * `struct rd` into a flat struct p9_fcall (the Plan 9 Fcall shape: one
 * struct, the fields a type uses are set); strings and data point into the
 * frame, nothing is allocated. p9_encode writes any message, T or R, through
 * `struct wr` straight into the caller's buffer.
 *
 * Tauth and Tattach differ between the dialects (.L adds n_uname[4]), so
 * decoding and encoding take the dialect the session negotiated. Everything
 * else is keyed by the type byte alone. */
#ifndef GRIDBOOT_P9_FCALL_H
#define GRIDBOOT_P9_FCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum p9_type {
	/* 9P2000.L */
	P9_TLERROR = 6, P9_RLERROR,
	P9_TSTATFS = 8, P9_RSTATFS,
	P9_TLOPEN = 12, P9_RLOPEN,
	P9_TLCREATE = 14, P9_RLCREATE,
	P9_TSYMLINK = 16, P9_RSYMLINK,
	P9_TMKNOD = 18, P9_RMKNOD,
	P9_TRENAME = 20, P9_RRENAME,
	P9_TREADLINK = 22, P9_RREADLINK,
	P9_TGETATTR = 24, P9_RGETATTR,
	P9_TSETATTR = 26, P9_RSETATTR,
	P9_TXATTRWALK = 30, P9_RXATTRWALK,
	P9_TXATTRCREATE = 32, P9_RXATTRCREATE,
	P9_TREADDIR = 40, P9_RREADDIR,
	P9_TFSYNC = 50, P9_RFSYNC,
	P9_TLOCK = 52, P9_RLOCK,
	P9_TGETLOCK = 54, P9_RGETLOCK,
	P9_TLINK = 70, P9_RLINK,
	P9_TMKDIR = 72, P9_RMKDIR,
	P9_TRENAMEAT = 74, P9_RRENAMEAT,
	P9_TUNLINKAT = 76, P9_RUNLINKAT,
	/* 9P2000, shared by .L except Terror/Rerror/Topen/Tcreate/Tstat/Twstat */
	P9_TVERSION = 100, P9_RVERSION,
	P9_TAUTH = 102, P9_RAUTH,
	P9_TATTACH = 104, P9_RATTACH,
	P9_TERROR = 106, P9_RERROR,
	P9_TFLUSH = 108, P9_RFLUSH,
	P9_TWALK = 110, P9_RWALK,
	P9_TOPEN = 112, P9_ROPEN,
	P9_TCREATE = 114, P9_RCREATE,
	P9_TREAD = 116, P9_RREAD,
	P9_TWRITE = 118, P9_RWRITE,
	P9_TCLUNK = 120, P9_RCLUNK,
	P9_TREMOVE = 122, P9_RREMOVE,
	P9_TSTAT = 124, P9_RSTAT,
	P9_TWSTAT = 126, P9_RWSTAT,
};

enum p9_dialect { P9_2000, P9_2000L };

#define P9_NOTAG 0xFFFFu
#define P9_NOFID 0xFFFFFFFFu
#define P9_NONUNAME 0xFFFFFFFFu
#define P9_MAXWELEM 16
#define P9_HDRSZ 7              /* size[4] type[1] tag[2] */
#define P9_IOHDRSZ 24           /* what iounit leaves for a Twrite header */
#define P9_QIDSZ 13
#define P9_READHDRSZ 11         /* size type tag count[4]: where Rread data starts */

/* qid.type and the high bits of a 9P2000 mode */
#define P9_QTDIR 0x80
#define P9_QTAPPEND 0x40
#define P9_QTEXCL 0x20
#define P9_QTAUTH 0x08
#define P9_QTTMP 0x04
#define P9_QTFILE 0x00
#define P9_DMDIR 0x80000000u
#define P9_DMAPPEND 0x40000000u
#define P9_DMEXCL 0x20000000u
#define P9_DMAUTH 0x08000000u
#define P9_DMTMP 0x04000000u

/* Topen/Tcreate modes */
#define P9_OREAD 0
#define P9_OWRITE 1
#define P9_ORDWR 2
#define P9_OEXEC 3
#define P9_OTRUNC 0x10
#define P9_ORCLOSE 0x40

struct p9_qid {
	uint8_t type;
	uint32_t vers;
	uint64_t path;
};

/* A counted string inside a frame: not NUL-terminated, may contain NUL. */
struct p9_str {
	const char *s;
	uint16_t len;
};

/* One 9P2000 stat entry, decoded or to encode. Strings as above. */
struct p9_stat {
	uint16_t type;
	uint32_t dev;
	struct p9_qid qid;
	uint32_t mode;
	uint32_t atime, mtime;
	uint64_t length;
	struct p9_str name, uid, gid, muid;
};

/* Tgetattr/Rgetattr (request_mask / valid bits as in Linux's 9p.h). */
#define P9_GETATTR_BASIC 0x000007ffULL
#define P9_GETATTR_ALL 0x00003fffULL
struct p9_attr {
	uint64_t valid;
	struct p9_qid qid;
	uint32_t mode, uid, gid;
	uint64_t nlink, rdev, size, blksize, blocks;
	uint64_t atime_sec, atime_nsec, mtime_sec, mtime_nsec;
	uint64_t ctime_sec, ctime_nsec, btime_sec, btime_nsec;
	uint64_t gen, data_version;
};

/* Tsetattr valid bits */
#define P9_SETATTR_MODE 0x001
#define P9_SETATTR_UID 0x002
#define P9_SETATTR_GID 0x004
#define P9_SETATTR_SIZE 0x008
#define P9_SETATTR_ATIME 0x010
#define P9_SETATTR_MTIME 0x020
#define P9_SETATTR_CTIME 0x040
#define P9_SETATTR_ATIME_SET 0x080
#define P9_SETATTR_MTIME_SET 0x100
struct p9_setattr {
	uint32_t valid, mode, uid, gid;
	uint64_t size, atime_sec, atime_nsec, mtime_sec, mtime_nsec;
};

struct p9_statfs {
	uint32_t type, bsize;
	uint64_t blocks, bfree, bavail, files, ffree, fsid;
	uint32_t namelen;
};

struct p9_lock {
	uint8_t type;
	uint32_t flags;                 /* Tlock only */
	uint64_t start, length;
	uint32_t proc_id;
	struct p9_str client_id;
};

/* Linux open flags as .L carries them (generic values). */
#define P9_L_ACCMODE 03
#define P9_L_CREATE 0100
#define P9_L_EXCL 0200
#define P9_L_TRUNC 01000
#define P9_L_APPEND 02000
#define P9_L_AT_REMOVEDIR 0x200

/* Which fields a type uses is noted beside them; .L field names follow
 * Linux's and diod's protocol descriptions. */
struct p9_fcall {
	uint8_t type;
	uint16_t tag;
	uint32_t fid;           /* most T-messages; Tmknod/Tmkdir/Tunlinkat: dfid;
	                         * Trenameat: olddirfid; Tlink: dfid */
	uint32_t msize;         /* Tversion Rversion */
	struct p9_str version;  /* Tversion Rversion */
	uint16_t oldtag;        /* Tflush */
	struct p9_str ename;    /* Rerror */
	uint32_t ecode;         /* Rlerror */
	uint32_t afid;          /* Tauth Tattach */
	struct p9_str uname, aname;     /* Tauth Tattach */
	uint32_t n_uname;       /* Tauth Tattach in .L */
	struct p9_qid qid;      /* Rauth Rattach Ropen Rcreate Rlopen Rlcreate
	                         * Rsymlink Rmknod Rmkdir */
	uint32_t iounit;        /* Ropen Rcreate Rlopen Rlcreate */
	uint32_t newfid;        /* Twalk Txattrwalk; Trename/Trenameat/Tlink:
	                         * the (new) directory fid */
	uint16_t nwname;        /* Twalk */
	struct p9_str wname[P9_MAXWELEM];
	uint16_t nwqid;         /* Rwalk */
	struct p9_qid wqid[P9_MAXWELEM];
	uint8_t mode;           /* Topen Tcreate */
	uint32_t perm;          /* Tcreate; .L: Tlcreate/Tmkdir/Tmknod mode */
	struct p9_str name;     /* Tcreate Tlcreate Tsymlink Tmknod Trename
	                         * Txattrwalk Txattrcreate Tlink Tmkdir
	                         * Tunlinkat; Trenameat: oldname */
	struct p9_str name2;    /* Tsymlink: symtgt; Trenameat: newname;
	                         * Rreadlink: target */
	uint32_t flags;         /* Tlopen Tlcreate Tunlinkat Txattrcreate */
	uint32_t gid;           /* Tlcreate Tsymlink Tmknod Tmkdir */
	uint32_t major, minor;  /* Tmknod */
	uint64_t offset;        /* Tread Twrite Treaddir */
	uint32_t count;         /* Tread Twrite Rread Rwrite Treaddir Rreaddir */
	const uint8_t *data;    /* Twrite Rread Rreaddir (count bytes) */
	uint16_t nstat;         /* Rstat Twstat: bytes of stat */
	const uint8_t *stat;    /* one stat entry, its own size[2] first */
	uint64_t mask;          /* Tgetattr request_mask */
	struct p9_attr attr;    /* Rgetattr */
	struct p9_setattr setattr;      /* Tsetattr */
	struct p9_statfs statfs;        /* Rstatfs */
	uint64_t xsize;         /* Rxattrwalk, Txattrcreate attr_size */
	uint32_t datasync;      /* Tfsync (newer Linux sends it; optional) */
	struct p9_lock lock;    /* Tlock Tgetlock Rgetlock */
	uint8_t status;         /* Rlock */
};

/* Decodes exactly one frame of len bytes. Returns 0, or -1 with *why set to
 * a constant reason (short frame, size field disagreeing with len, unknown
 * type, string or data past the end, more than 16 walk names, trailing
 * bytes). On -1 the tag is still filled in when the header was readable. */
int p9_decode(const void *frame, size_t len, enum p9_dialect d,
    struct p9_fcall *f, const char **why);

/* Encodes f as one frame at the writer's position. Returns the frame's
 * length, or 0 (and w->err) when it did not fit or the type is unknown. */
size_t p9_encode(struct wr *w, const struct p9_fcall *f, enum p9_dialect d);

/* The frame header alone, for callers that fill a body in place: writes
 * size (patched by p9_frame_end), type and tag; returns the frame start. */
uint8_t *p9_frame_begin(struct wr *w, uint8_t type, uint16_t tag);
size_t p9_frame_end(struct wr *w, uint8_t *start);

void p9_put_qid(struct wr *w, const struct p9_qid *q);
struct p9_qid p9_get_qid(struct rd *r);
void p9_put_str(struct wr *w, struct p9_str s);
struct p9_str p9_get_str(struct rd *r);
struct p9_str p9_str_of(const char *s);        /* strlen, clamped to 65535 */
bool p9_str_eq(struct p9_str a, const char *b);

/* A 9P2000 stat entry with both size fields: Rstat's nstat[2] is written by
 * p9_encode; this writes the entry's own size[2] and body. Returns its
 * length (size[2] included) or 0 when it did not fit. */
size_t p9_stat_encode(struct wr *w, const struct p9_stat *st);
/* Decodes one entry (its size[2] first) and moves r past it. False when
 * short, or the size field disagrees with the fields. */
bool p9_stat_decode(struct rd *r, struct p9_stat *st);
/* Bytes p9_stat_encode would write. */
size_t p9_stat_size(const struct p9_stat *st);

/* A .L readdir entry: qid[13] offset[8] type[1] name[s]. */
struct p9_dirent {
	struct p9_qid qid;
	uint64_t offset;
	uint8_t type;
	struct p9_str name;
};
size_t p9_dirent_encode(struct wr *w, const struct p9_dirent *de);
bool p9_dirent_decode(struct rd *r, struct p9_dirent *de);

const char *p9_type_name(uint8_t type);        /* "Twalk", or NULL */

#endif
