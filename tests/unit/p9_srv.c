/* The 9P request engine (server/p9/p9_srv.c) driven with encoded
 * T-messages, against an export of a temporary directory and against a
 * tiny synthetic tree. */
#include "p9/p9_export.h"
#include "p9/p9_srv.h"
#include "p9/p9_synth.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a little client ---- */

static struct p9_session *S;
static enum p9_dialect D;
static struct p9_fcall R;               /* the last reply, decoded */
static struct p9_reply REP;
static uint8_t tbuf[70000], rbuf[70000];
static char top[64], root[128];

static uint8_t
rpc_raw(const uint8_t *frame, size_t n)
{
	const char *why;

	memset(&R, 0, sizeof R);
	if (!p9_session_handle(S, frame, n, &REP))
		return 0;
	memcpy(rbuf, REP.data, REP.len);
	if (p9_decode(rbuf, REP.len, D, &R, &why) != 0 && REP.fd < 0)
		return 0;
	return R.type;
}

static uint8_t
rpc(struct p9_fcall *t)
{
	struct wr w = wr_make(tbuf, sizeof tbuf);

	if (t->tag == 0)
		t->tag = 7;
	size_t n = p9_encode(&w, t, D);
	return n ? rpc_raw(tbuf, n) : 0;
}

/* The Rerror text, or "" when the reply was no error. */
static const char *
err(void)
{
	static char buf[256];

	if (R.type != P9_RERROR)
		return "";
	memcpy(buf, R.ename.s, R.ename.len);
	buf[R.ename.len] = 0;
	return buf;
}

static uint8_t
version(uint32_t msize, const char *v)
{
	struct p9_fcall t = { .type = P9_TVERSION, .tag = P9_NOTAG, .msize = msize,
		.version = p9_str_of(v) };
	uint8_t r = rpc(&t);
	if (r == P9_RVERSION && p9_str_eq(R.version, "9P2000.L"))
		D = P9_2000L;
	else
		D = P9_2000;
	return r;
}

static uint8_t
attach(uint32_t fid, const char *uname)
{
	struct p9_fcall t = { .type = P9_TATTACH, .fid = fid, .afid = P9_NOFID,
		.uname = p9_str_of(uname), .aname = p9_str_of(""), .n_uname = 1000 };
	return rpc(&t);
}

/* Walks fid to newfid through the '/'-separated names ("" for a clone). */
static uint8_t
walk(uint32_t fid, uint32_t newfid, const char *path)
{
	struct p9_fcall t = { .type = P9_TWALK, .fid = fid, .newfid = newfid };
	static char copy[512];

	strncpy(copy, path, sizeof copy - 1);
	for (char *p = copy, *tok; (tok = strsep(&p, "/")) != NULL;)
		if (*tok && t.nwname < P9_MAXWELEM)
			t.wname[t.nwname++] = p9_str_of(tok);
	return rpc(&t);
}

static uint8_t
clunk(uint32_t fid)
{
	struct p9_fcall t = { .type = P9_TCLUNK, .fid = fid };
	return rpc(&t);
}

static uint8_t
fid_open(uint32_t fid, uint8_t mode)
{
	struct p9_fcall t = { .type = P9_TOPEN, .fid = fid, .mode = mode };
	return rpc(&t);
}

static uint8_t
create(uint32_t fid, const char *name, uint32_t perm, uint8_t mode)
{
	struct p9_fcall t = { .type = P9_TCREATE, .fid = fid, .name = p9_str_of(name),
		.perm = perm, .mode = mode };
	return rpc(&t);
}

static uint8_t
fid_read(uint32_t fid, uint64_t off, uint32_t count)
{
	struct p9_fcall t = { .type = P9_TREAD, .fid = fid, .offset = off, .count = count };
	return rpc(&t);
}

/* The last Rread's data as a string. */
static const char *
data(void)
{
	static char buf[70000];

	memcpy(buf, R.data, R.count);
	buf[R.count] = 0;
	return buf;
}

static uint8_t
fid_write(uint32_t fid, uint64_t off, const char *s)
{
	struct p9_fcall t = { .type = P9_TWRITE, .fid = fid, .offset = off,
		.count = (uint32_t)strlen(s), .data = (const uint8_t *)s };
	return rpc(&t);
}

static uint8_t
fid_remove(uint32_t fid)
{
	struct p9_fcall t = { .type = P9_TREMOVE, .fid = fid };
	return rpc(&t);
}

static bool
fid_stat(uint32_t fid, struct p9_stat *st)
{
	struct p9_fcall t = { .type = P9_TSTAT, .fid = fid };
	if (rpc(&t) != P9_RSTAT)
		return false;
	struct rd r = rd_make(R.stat, R.nstat);
	return p9_stat_decode(&r, st) && rd_left(&r) == 0;
}

/* A stat that touches nothing; callers set what they change. */
static struct p9_stat
dont_touch(void)
{
	struct p9_stat st = { .type = 0xFFFF, .dev = 0xFFFFFFFF,
		.qid = { 0xFF, 0xFFFFFFFF, ~0ULL }, .mode = 0xFFFFFFFF, .atime = 0xFFFFFFFF,
		.mtime = 0xFFFFFFFF, .length = ~0ULL, .name = p9_str_of(""),
		.uid = p9_str_of(""), .gid = p9_str_of(""), .muid = p9_str_of("") };
	return st;
}

static uint8_t
wstat(uint32_t fid, const struct p9_stat *st)
{
	static uint8_t sb[512];
	struct wr w = wr_make(sb, sizeof sb);
	struct p9_fcall t = { .type = P9_TWSTAT, .fid = fid };

	t.nstat = (uint16_t)p9_stat_encode(&w, st);
	t.stat = sb;
	return rpc(&t);
}

/* ---- the temporary tree ---- */

static void
put(const char *rel, const char *text)
{
	char p[256];

	snprintf(p, sizeof p, "%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		close(fd);
	}
}

static bool
exists(const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static unsigned
mode_of(const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	return lstat(p, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 01000000;
}

static off_t
size_of(const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	return stat(p, &st) == 0 ? st.st_size : -1;
}

static void
make_tree(void)
{
	char p[256];

	strcpy(top, "/tmp/p9srv.XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(root, sizeof root, "%s/root", top);
	mkdir(root, 0755);
	snprintf(p, sizeof p, "%s/outside.txt", top);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	close(fd);
	put("hello.txt", "hello, world\n");
	snprintf(p, sizeof p, "%s/dir", root);
	mkdir(p, 0755);
	for (int i = 0; i < 40; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "dir/file%02d-with-a-longish-name", i);
		put(rel, "x");
	}
	snprintf(p, sizeof p, "%s/tmp", root);
	mkdir(p, 0777);
	snprintf(p, sizeof p, "%s/ro", root);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/escape", root);
	if (symlink("/etc", p) < 0)
		perror("symlink");
	snprintf(p, sizeof p, "%s/inner", root);
	if (symlink("hello.txt", p) < 0)
		perror("symlink");
	snprintf(p, sizeof p, "%s/up", root);
	if (symlink("../outside.txt", p) < 0)
		perror("symlink");
}

static void
remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
}

/* ---- 9P2000 against the export ---- */

static void
test_version(void)
{
	struct p9_fcall t = { .type = P9_TATTACH, .fid = 1, .afid = P9_NOFID };

	CHECK(rpc(&t) == P9_RERROR && strcmp(err(), "version not negotiated") == 0,
	    "attach before Tversion refused");
	CHECK(version(65536, "9P2000") == P9_RVERSION && R.msize == 8192 + 24 &&
	    p9_str_eq(R.version, "9P2000"), "msize clamped to our max");
	CHECK(version(4096, "9P2000") == P9_RVERSION && R.msize == 4096,
	    "smaller client msize kept");
	CHECK(version(8216, "9P2000.u") == P9_RVERSION && p9_str_eq(R.version, "9P2000"),
	    "9P2000.u answered with 9P2000");
	CHECK(version(8216, "9P1999") == P9_RVERSION && p9_str_eq(R.version, "unknown"),
	    "unknown version answered \"unknown\"");
	CHECK(attach(1, "glenda") == P9_RERROR, "no attach after an unknown version");
	CHECK(version(100, "9P2000") == P9_RERROR, "msize 100 refused");
	CHECK(version(8216, "9P2000.L") == P9_RVERSION && p9_str_eq(R.version, "9P2000.L") &&
	    p9_session_dialect(S) == P9_2000L, "9P2000.L accepted");
	CHECK(version(8216, "9P2000") == P9_RVERSION && p9_session_msize(S) == 8216,
	    "back to 9P2000, msize 8216");
}

static struct p9_qid rootqid;

static void
test_attach_walk(void)
{
	struct p9_fcall t = { .type = P9_TAUTH, .afid = 9, .uname = p9_str_of("glenda"),
		.aname = p9_str_of("") };

	CHECK(rpc(&t) == P9_RERROR && strcmp(err(), "authentication not required") == 0,
	    "Tauth: authentication not required");
	CHECK(attach(1, "glenda") == P9_RATTACH && (R.qid.type & P9_QTDIR), "attach");
	rootqid = R.qid;
	CHECK(attach(1, "glenda") == P9_RERROR && strcmp(err(), "duplicate fid") == 0,
	    "attach on a fid in use refused");
	CHECK(walk(1, 2, "dir") == P9_RWALK && R.nwqid == 1 && (R.wqid[0].type & P9_QTDIR),
	    "walk to dir");
	CHECK(walk(1, 3, "dir/nonexistent/x") == P9_RWALK && R.nwqid == 1,
	    "partial walk: one qid");
	CHECK(clunk(3) == P9_RERROR && strcmp(err(), "fid unknown or out of range") == 0,
	    "partial walk left newfid unset");
	CHECK(walk(1, 3, "nonexistent") == P9_RERROR && strcmp(err(), "file does not exist") == 0,
	    "first name fails: Rerror");
	CHECK(walk(1, 3, "..") == P9_RWALK && R.wqid[0].path == rootqid.path, ".. at the root stays");
	clunk(3);
	CHECK(walk(2, 3, "../../..") == P9_RWALK && R.nwqid == 3 &&
	    R.wqid[2].path == rootqid.path, "../../.. from dir ends at the root");
	clunk(3);
	CHECK(walk(1, 3, "escape") == P9_RERROR && strcmp(err(), "permission denied") == 0,
	    "symlink to /etc refused");
	CHECK(walk(1, 3, "escape/passwd") == P9_RERROR, "walk through the symlink refused");
	CHECK(walk(1, 3, "up") == P9_RERROR, "symlink to ../outside.txt refused");
	CHECK(walk(1, 3, "inner") == P9_RERROR, "even an inner symlink is not served");
	CHECK(walk(1, 3, "../outside.txt") == P9_RWALK && R.nwqid == 1 &&
	    R.wqid[0].path == rootqid.path, "../outside.txt: .. stays at the root, no outside.txt");
	CHECK(walk(1, 3, "hello.txt") == P9_RWALK && R.wqid[0].type == P9_QTFILE, "walk to a file");
	CHECK(walk(3, 4, "x") == P9_RERROR && strcmp(err(), "walk in non-directory") == 0,
	    "walk from a file refused");
	CHECK(walk(1, 3, "dir") == P9_RERROR && strcmp(err(), "duplicate fid") == 0,
	    "newfid in use refused");
	CHECK(walk(2, 2, "file00-with-a-longish-name") == P9_RWALK, "newfid == fid moves the fid");
	CHECK(walk(2, 5, "..") == P9_RERROR, "the moved fid is a file now");
	clunk(2);
	CHECK(walk(1, 2, "") == P9_RWALK && R.nwqid == 0, "clone with no names");
	clunk(2);
	CHECK(walk(1, 2, "../../../../../../../../../../../../../../../..") == P9_RWALK &&
	    R.nwqid == 16, "16 names accepted");
	clunk(2);

	/* 17 names: the codec will not build it, so append one by hand. */
	struct p9_fcall w = { .type = P9_TWALK, .tag = 3, .fid = 1, .newfid = 2, .nwname = 16 };
	for (int i = 0; i < 16; i++)
		w.wname[i] = p9_str_of("..");
	struct wr wr = wr_make(tbuf, sizeof tbuf);
	size_t n = p9_encode(&wr, &w, D);
	memcpy(tbuf + n, "\2\0..", 4);
	n += 4;
	tbuf[0] = (uint8_t)n;
	tbuf[15] = 17;
	CHECK(rpc_raw(tbuf, n) == P9_RERROR && R.tag == 3, "17 names: Rerror with the tag");
	CHECK(!p9_session_handle(S, tbuf, 3, &REP), "3-byte frame: no reply, hang up");
	CHECK(clunk(3) == P9_RCLUNK, "clunk");
}

static void
test_read(void)
{
	CHECK(walk(1, 2, "hello.txt") == P9_RWALK, "walk hello.txt");
	CHECK(fid_read(2, 0, 10) == P9_RERROR && strcmp(err(), "file not open for reading") == 0,
	    "read before open refused");
	CHECK(fid_open(2, P9_OREAD) == P9_ROPEN && R.iounit == 8216 - 24, "open, iounit msize-24");
	CHECK(fid_open(2, P9_OREAD) == P9_RERROR && strcmp(err(), "fid already open") == 0,
	    "second open refused");
	CHECK(walk(2, 3, "") == P9_RERROR && strcmp(err(), "cannot clone open fid") == 0,
	    "walk from an open fid refused");
	CHECK(fid_read(2, 0, 100) == P9_RREAD && strcmp(data(), "hello, world\n") == 0, "read");
	CHECK(fid_read(2, 7, 5) == P9_RREAD && strcmp(data(), "world") == 0, "read at offset");
	CHECK(fid_read(2, 100, 5) == P9_RREAD && R.count == 0, "read past the end: 0");
	CHECK(fid_write(2, 0, "x") == P9_RERROR && strcmp(err(), "file not open for writing") == 0,
	    "write on OREAD refused");

	p9_session_set_zero_copy(S, 1);
	uint8_t t = fid_read(2, 7, 100);
	char got[16] = { 0 };
	CHECK(t == P9_RREAD && REP.fd >= 0 && REP.fd_len == 6 && REP.len == 11 &&
	    rbuf[0] == 17 && rbuf[7] == 6 && pread(REP.fd, got, REP.fd_len, (off_t)REP.fd_off) == 6 &&
	    strcmp(got, "world\n") == 0, "zero-copy read: header counts the fd's bytes");
	p9_session_set_zero_copy(S, 0);
	CHECK(fid_read(2, 0, 100) == P9_RREAD && REP.fd < 0, "copying again");

	struct p9_stat st;
	CHECK(fid_stat(2, &st) && p9_str_eq(st.name, "hello.txt") && st.length == 13 &&
	    p9_str_eq(st.uid, "glenda") && p9_str_eq(st.gid, "glenda") && st.qid.type == 0 &&
	    (st.mode & 0777) == 0644, "stat: name, length, daemon-owned shown as glenda");
	CHECK(fid_stat(1, &st) && p9_str_eq(st.name, "/") && (st.mode & P9_DMDIR) &&
	    st.length == 0, "root's stat is named /");
	clunk(2);
	CHECK(walk(1, 2, "") == P9_RWALK && fid_open(2, P9_OWRITE) == P9_RERROR &&
	    strcmp(err(), "is a directory") == 0, "directory opened for writing refused");
	clunk(2);
}

/* Reads the whole of directory fid 2 in count-byte pieces; returns how
 * many entries came, checking each piece holds whole stat entries. */
static int
read_dir(uint32_t count, bool *whole)
{
	uint64_t off = 0;
	int n = 0;

	*whole = true;
	for (int guard = 0; guard < 100; guard++) {
		if (fid_read(2, off, count) != P9_RREAD) {
			*whole = false;
			return -1;
		}
		if (R.count == 0)
			return n;
		if (R.count > count)
			*whole = false;
		struct rd r = rd_make(R.data, R.count);
		struct p9_stat st;
		while (rd_left(&r) > 0) {
			if (!p9_stat_decode(&r, &st)) {
				*whole = false;
				break;
			}
			n++;
		}
		off += R.count;
	}
	return -1;
}

static void
test_dirread(void)
{
	bool whole;

	CHECK(walk(1, 2, "dir") == P9_RWALK && fid_open(2, P9_OREAD) == P9_ROPEN, "open dir");
	CHECK(read_dir(300, &whole) == 40 && whole, "40 entries in 300-byte reads, whole entries");
	CHECK(fid_read(2, 0, 300) == P9_RREAD && R.count > 0 && R.count <= 300, "offset 0 starts over");
	uint32_t first = R.count;
	CHECK(fid_read(2, 5, 300) == P9_RERROR && strcmp(err(), "bad offset in directory read") == 0,
	    "offset not the previous end refused");
	CHECK(fid_read(2, first, 10) == P9_RERROR, "count too small for one entry refused");
	CHECK(fid_read(2, first, 300) == P9_RREAD && R.count > 0, "still continues after errors");
	CHECK(read_dir(8192, &whole) == 40 && whole, "one big read");
	clunk(2);
	CHECK(walk(1, 2, "") == P9_RWALK && fid_open(2, P9_OREAD) == P9_ROPEN, "open root");
	CHECK(read_dir(8000, &whole) == 4 && whole, "root lists dir, hello.txt, ro, tmp; no symlinks");
	clunk(2);
}

static void
test_create_write(void)
{
	struct p9_stat st;

	CHECK(walk(1, 2, "tmp") == P9_RWALK, "walk tmp");
	CHECK(create(2, "new.txt", 0644, P9_ORDWR) == P9_RCREATE && R.qid.type == P9_QTFILE,
	    "create in a writable path");
	struct p9_qid q0 = R.qid;
	CHECK(fid_write(2, 0, "abc") == P9_RWRITE && R.count == 3, "write");
	CHECK(fid_read(2, 0, 10) == P9_RREAD && strcmp(data(), "abc") == 0, "read it back");
	CHECK(size_of("tmp/new.txt") == 3, "on disk");
	CHECK(fid_stat(2, &st) && st.qid.vers != q0.vers && st.qid.path == q0.path,
	    "qid.vers moved with the write, qid.path stable");
	clunk(2);
	CHECK(walk(1, 2, "tmp") == P9_RWALK &&
	    create(2, "new.txt", 0644, P9_OWRITE) == P9_RERROR &&
	    strcmp(err(), "file already exists") == 0, "create over an existing name refused");
	CHECK(create(2, "a/b", 0644, P9_OWRITE) == P9_RERROR &&
	    strcmp(err(), "bad character in file name") == 0, "name with / refused");
	CHECK(create(2, "..", 0644, P9_OWRITE) == P9_RERROR, "name .. refused");
	CHECK(create(2, ".", 0644, P9_OWRITE) == P9_RERROR, "name . refused");
	CHECK(create(2, "sub", P9_DMDIR | 0755, P9_OREAD) == P9_RCREATE && (R.qid.type & P9_QTDIR),
	    "mkdir through create");
	clunk(2);
	/* Plan 9's rule alone decides a new file's mode, not the daemon's
	 * umask: 0666 in a 0777 directory is 0666, 0777|DMDIR is 0777, and
	 * a 0755 directory still takes group and other write away. */
	mode_t um = umask(022);
	char tmpdir[300];
	snprintf(tmpdir, sizeof tmpdir, "%s/tmp", root);
	unsigned tmpmode = mode_of("tmp");
	chmod(tmpdir, 0777);
	CHECK(walk(1, 2, "tmp") == P9_RWALK &&
	    create(2, "open", P9_DMDIR | 0777, P9_OREAD) == P9_RCREATE &&
	    mode_of("tmp/open") == 0777, "mkdir 0777 under umask 022: 0%o", mode_of("tmp/open"));
	clunk(2);
	CHECK(walk(1, 2, "tmp/open") == P9_RWALK && create(2, "f", 0666, P9_OWRITE) == P9_RCREATE &&
	    mode_of("tmp/open/f") == 0666,
	    "create 0666 in a 0777 directory under umask 022: 0%o", mode_of("tmp/open/f"));
	clunk(2);
	CHECK(walk(1, 2, "tmp/open") == P9_RWALK &&
	    create(2, "sub", P9_DMDIR | 0755, P9_OREAD) == P9_RCREATE, "mkdir 0755");
	clunk(2);
	CHECK(walk(1, 2, "tmp/open/sub") == P9_RWALK && create(2, "g", 0666, P9_OWRITE) == P9_RCREATE &&
	    mode_of("tmp/open/sub/g") == 0644,
	    "create 0666 in a 0755 directory: 0%o", mode_of("tmp/open/sub/g"));
	clunk(2);
	chmod(tmpdir, tmpmode);
	umask(um);
	CHECK(walk(1, 2, "ro") == P9_RWALK && create(2, "x", 0644, P9_OWRITE) == P9_RERROR &&
	    strcmp(err(), "permission denied") == 0 && !exists("ro/x"),
	    "create in a read-only path: permission denied");
	clunk(2);
	CHECK(walk(1, 2, "") == P9_RWALK && create(2, "x", 0644, P9_OWRITE) == P9_RERROR,
	    "create at the root refused");
	clunk(2);
	CHECK(walk(1, 2, "hello.txt") == P9_RWALK && fid_open(2, P9_OWRITE) == P9_RERROR &&
	    strcmp(err(), "permission denied") == 0, "writing a read-only file refused");
	CHECK(fid_open(2, P9_OREAD | P9_OTRUNC) == P9_RERROR && size_of("hello.txt") == 13,
	    "OTRUNC on a read-only file refused");
	clunk(2);

	/* wstat */
	struct p9_stat ws = dont_touch();
	CHECK(walk(1, 2, "tmp/new.txt") == P9_RWALK, "walk tmp/new.txt");
	ws.name = p9_str_of("renamed.txt");
	CHECK(wstat(2, &ws) == P9_RWSTAT && exists("tmp/renamed.txt") && !exists("tmp/new.txt"),
	    "wstat renames");
	CHECK(fid_stat(2, &st) && p9_str_eq(st.name, "renamed.txt"), "the fid follows the rename");
	ws = dont_touch();
	ws.mode = 0600;
	CHECK(wstat(2, &ws) == P9_RWSTAT, "wstat mode");
	CHECK(fid_stat(2, &st) && (st.mode & 0777) == 0600, "mode changed");
	ws = dont_touch();
	ws.uid = p9_str_of("bootes");
	CHECK(wstat(2, &ws) == P9_RERROR && strcmp(err(), "wstat can't change owner") == 0,
	    "owner change refused");
	ws = dont_touch();
	ws.qid.path = 5;
	CHECK(wstat(2, &ws) == P9_RERROR, "qid change refused");
	ws = dont_touch();
	ws.mode = P9_DMDIR | 0755;
	CHECK(wstat(2, &ws) == P9_RERROR, "directory bit change refused");
	ws = dont_touch();
	ws.name = p9_str_of("a/b");
	CHECK(wstat(2, &ws) == P9_RERROR && exists("tmp/renamed.txt"), "rename to a/b refused");
	clunk(2);
	ws = dont_touch();
	CHECK(walk(1, 2, "hello.txt") == P9_RWALK && wstat(2, &ws) == P9_RWSTAT,
	    "all don't-touch wstat is a no-op, even read-only");
	ws.name = p9_str_of("bye.txt");
	CHECK(wstat(2, &ws) == P9_RERROR && strcmp(err(), "permission denied") == 0 &&
	    exists("hello.txt"), "rename in a read-only path refused");
	clunk(2);

	/* OTRUNC, ORCLOSE, remove */
	CHECK(walk(1, 2, "tmp/renamed.txt") == P9_RWALK &&
	    fid_open(2, P9_OWRITE | P9_OTRUNC) == P9_ROPEN && size_of("tmp/renamed.txt") == 0,
	    "OTRUNC truncates");
	clunk(2);
	CHECK(walk(1, 2, "tmp") == P9_RWALK &&
	    create(2, "gone.txt", 0644, P9_OWRITE | P9_ORCLOSE) == P9_RCREATE &&
	    exists("tmp/gone.txt"), "create ORCLOSE");
	CHECK(clunk(2) == P9_RCLUNK && !exists("tmp/gone.txt"), "ORCLOSE removes on clunk");
	CHECK(walk(1, 2, "tmp/renamed.txt") == P9_RWALK && fid_remove(2) == P9_RREMOVE &&
	    !exists("tmp/renamed.txt"), "remove");
	CHECK(clunk(2) == P9_RERROR, "remove clunked the fid");
	CHECK(walk(1, 2, "hello.txt") == P9_RWALK && fid_remove(2) == P9_RERROR &&
	    strcmp(err(), "permission denied") == 0 && exists("hello.txt"),
	    "remove in a read-only path refused");
	CHECK(clunk(2) == P9_RERROR, "a failed remove clunked the fid too");
	CHECK(walk(1, 2, "tmp") == P9_RWALK && fid_remove(2) == P9_RERROR && exists("tmp"),
	    "the writable prefix itself can't be removed");
	CHECK(walk(1, 2, "tmp/sub") == P9_RWALK && fid_remove(2) == P9_RREMOVE && !exists("tmp/sub"),
	    "remove an empty directory");
}

static void
test_fids(void)
{
	struct p9_fcall t = { .type = P9_TFLUSH, .oldtag = 7 };

	CHECK(rpc(&t) == P9_RFLUSH, "Tflush answered Rflush");
	CHECK(walk(1, 5, "dir") == P9_RWALK && clunk(5) == P9_RCLUNK && walk(1, 5, "ro") == P9_RWALK,
	    "fid reused after clunk");
	clunk(5);
	unsigned before = p9_session_nfids(S);
	int ok = 0, refused = 0;
	for (uint32_t i = 0; i < 10000; i++) {
		uint8_t r = walk(1, 1000 + i, "");
		if (r == P9_RWALK)
			ok++;
		else if (r == P9_RERROR && strcmp(err(), "too many fids") == 0)
			refused++;
	}
	CHECK(ok == (int)(P9_MAXFIDS - before) && refused == 10000 - ok &&
	    p9_session_nfids(S) == P9_MAXFIDS, "10000 fids: %d taken, the rest refused", ok);
	CHECK(attach(99999, "glenda") == P9_RERROR, "attach over the cap refused");
	CHECK(version(8216, "9P2000") == P9_RVERSION && p9_session_nfids(S) == 0,
	    "Tversion clunks every fid");
	CHECK(attach(1, "glenda") == P9_RATTACH, "attach again");
}

/* Issue 21, faults 1 and 4: open fids per session, and the byte budget
 * the listings are charged to. */
static void
test_limits(void)
{
	int ok = 0;
	for (uint32_t i = 0; i < P9_MAXOPEN + 10; i++)
		if (walk(1, 2000 + i, "hello.txt") == P9_RWALK && fid_open(2000 + i, P9_OREAD) == P9_ROPEN)
			ok++;
	CHECK(ok == P9_MAXOPEN, "%d of %d opens taken", ok, P9_MAXOPEN + 10);
	CHECK(walk(1, 9000, "hello.txt") == P9_RWALK && fid_open(9000, P9_OREAD) == P9_RERROR &&
	    strcmp(err(), "too many open files in this session (9P limit 512)") == 0,
	    "the next open is refused: %s", err());
	CHECK(clunk(2000) == P9_RCLUNK && fid_open(9000, P9_OREAD) == P9_ROPEN,
	    "a clunk gives an open back");
	for (uint32_t i = 0; i < P9_MAXOPEN + 10; i++)
		clunk(2000 + i);
	clunk(9000);
	/* a budget smaller than one listing refuses the directory read */
	p9_session_set_budget(S, 16, NULL);
	CHECK(walk(1, 3, "dir") == P9_RWALK && fid_open(3, P9_OREAD) == P9_ROPEN &&
	    fid_read(3, 0, 8192) == P9_RERROR &&
	    strcmp(err(), "out of 9P memory for this session (limit 0 MiB)") == 0,
	    "a listing over the session's budget is refused: %s", err());
	clunk(3);
	p9_session_set_budget(S, P9_SESSION_BYTES, NULL);
	CHECK(walk(1, 3, "dir") == P9_RWALK && fid_open(3, P9_OREAD) == P9_ROPEN &&
	    fid_read(3, 0, 8192) == P9_RREAD, "and read within it");
	clunk(3);
}

/* ---- 9P2000.L ---- */

static uint8_t
lopen(uint32_t fid, uint32_t flags)
{
	struct p9_fcall t = { .type = P9_TLOPEN, .fid = fid, .flags = flags };
	return rpc(&t);
}

static int
readdir_all(uint32_t fid, uint32_t count, int *calls)
{
	uint64_t off = 0;
	int n = 0;

	*calls = 0;
	for (;;) {
		struct p9_fcall t = { .type = P9_TREADDIR, .fid = fid, .offset = off, .count = count };
		if (rpc(&t) != P9_RREADDIR)
			return -1;
		++*calls;
		if (R.count == 0)
			return n;
		struct rd r = rd_make(R.data, R.count);
		struct p9_dirent de;
		while (rd_left(&r) > 0 && p9_dirent_decode(&r, &de)) {
			n++;
			off = de.offset;
		}
		if (*calls > 100)
			return -1;
	}
}

static void
test_dotl(void)
{
	struct p9_fcall t;
	int calls;

	CHECK(version(8216, "9P2000.L") == P9_RVERSION && D == P9_2000L, ".L session");
	t = (struct p9_fcall){ .type = P9_TATTACH, .fid = 1, .afid = P9_NOFID,
		.uname = p9_str_of(""), .aname = p9_str_of(""), .n_uname = 1000 };
	CHECK(rpc(&t) == P9_RATTACH, ".L attach with n_uname");
	CHECK(walk(1, 2, "nonexistent") == P9_RLERROR && R.ecode == ENOENT,
	    "errors are Rlerror ENOENT");
	walk(1, 2, "hello.txt");
	t = (struct p9_fcall){ .type = P9_TGETATTR, .fid = 2, .mask = P9_GETATTR_ALL };
	CHECK(rpc(&t) == P9_RGETATTR && R.attr.size == 13 && S_ISREG(R.attr.mode) &&
	    (R.attr.mode & 0777) == 0644 && R.attr.uid == geteuid() && R.attr.nlink == 1,
	    "getattr");
	CHECK(lopen(2, O_RDONLY) == P9_RLOPEN && fid_read(2, 0, 5) == P9_RREAD &&
	    strcmp(data(), "hello") == 0, "lopen and read");
	clunk(2);
	walk(1, 2, "dir");
	CHECK(lopen(2, O_RDONLY | O_DIRECTORY) == P9_RLOPEN, "lopen a directory");
	CHECK(readdir_all(2, 200, &calls) == 40 && calls > 5, "readdir in %d calls, offsets resume",
	    calls);
	t = (struct p9_fcall){ .type = P9_TREADDIR, .fid = 2, .offset = 38, .count = 8000 };
	CHECK(rpc(&t) == P9_RREADDIR && R.count > 0, "readdir from offset 38");
	struct rd r = rd_make(R.data, R.count);
	struct p9_dirent de;
	int n = 0;
	while (rd_left(&r) > 0 && p9_dirent_decode(&r, &de))
		n++;
	CHECK(n == 2 && de.offset == 40 && de.type == DT_REG, "the last two entries");
	t = (struct p9_fcall){ .type = P9_TREADDIR, .fid = 2, .offset = 0, .count = 10 };
	CHECK(rpc(&t) == P9_RLERROR && R.ecode == EINVAL, "readdir count too small");
	clunk(2);

	walk(1, 2, "tmp");
	t = (struct p9_fcall){ .type = P9_TLCREATE, .fid = 2, .name = p9_str_of("l.txt"),
		.flags = O_RDWR | O_CREAT, .perm = 0640 };
	CHECK(rpc(&t) == P9_RLCREATE && fid_write(2, 0, "dotl") == P9_RWRITE &&
	    size_of("tmp/l.txt") == 4, "lcreate and write");
	clunk(2);
	walk(1, 2, "tmp");
	t = (struct p9_fcall){ .type = P9_TMKDIR, .fid = 2, .name = p9_str_of("d"), .perm = 0755 };
	CHECK(rpc(&t) == P9_RMKDIR && (R.qid.type & P9_QTDIR) && exists("tmp/d"), "mkdir");
	t = (struct p9_fcall){ .type = P9_TRENAMEAT, .fid = 2, .name = p9_str_of("l.txt"),
		.newfid = 2, .name2 = p9_str_of("m.txt") };
	CHECK(rpc(&t) == P9_RRENAMEAT && exists("tmp/m.txt") && !exists("tmp/l.txt"), "renameat");
	t = (struct p9_fcall){ .type = P9_TUNLINKAT, .fid = 2, .name = p9_str_of("d"),
		.flags = 0 };
	CHECK(rpc(&t) == P9_RLERROR && R.ecode == EISDIR && exists("tmp/d"),
	    "unlinkat a directory without AT_REMOVEDIR refused");
	t.flags = P9_L_AT_REMOVEDIR;
	CHECK(rpc(&t) == P9_RUNLINKAT && !exists("tmp/d"), "unlinkat AT_REMOVEDIR");
	t = (struct p9_fcall){ .type = P9_TUNLINKAT, .fid = 2, .name = p9_str_of("m.txt") };
	CHECK(rpc(&t) == P9_RUNLINKAT && !exists("tmp/m.txt"), "unlinkat a file");
	clunk(2);
	walk(1, 2, "ro");
	t = (struct p9_fcall){ .type = P9_TMKDIR, .fid = 2, .name = p9_str_of("d"), .perm = 0755 };
	CHECK(rpc(&t) == P9_RLERROR && R.ecode == EACCES && !exists("ro/d"),
	    "mkdir in a read-only path: EACCES");
	clunk(2);
	t = (struct p9_fcall){ .type = P9_TSTATFS, .fid = 1 };
	CHECK(rpc(&t) == P9_RSTATFS && R.statfs.bsize > 0 && R.statfs.blocks > 0, "statfs");
	t = (struct p9_fcall){ .type = P9_TXATTRWALK, .fid = 1, .newfid = 9,
		.name = p9_str_of("security.selinux") };
	CHECK(rpc(&t) == P9_RLERROR && R.ecode == EOPNOTSUPP, "xattrwalk: EOPNOTSUPP");
	walk(1, 2, "tmp");
	t = (struct p9_fcall){ .type = P9_TSETATTR, .fid = 2,
		.setattr = { .valid = P9_SETATTR_MODE, .mode = 0700 } };
	CHECK(rpc(&t) == P9_RLERROR && R.ecode == EACCES, "setattr on the prefix itself refused");
	clunk(2);
	t = (struct p9_fcall){ .type = P9_TFSYNC, .fid = 1 };
	CHECK(rpc(&t) == P9_RFSYNC, "fsync");
}

/* ---- the synthetic tree ---- */

static size_t
gen_version(void *arg, char *buf, size_t cap)
{
	(void)arg;
	return (size_t)snprintf(buf, cap, "gridboot 1\n");
}

static char role[16] = "terminal";

static size_t
gen_role(void *arg, char *buf, size_t cap)
{
	(void)arg;
	return (size_t)snprintf(buf, cap, "%s\n", role);
}

static int
set_role(void *arg, const char *d, size_t len, char *e, size_t ecap)
{
	(void)arg;
	while (len > 0 && d[len - 1] == '\n')
		len--;
	if ((len == 3 && memcmp(d, "cpu", 3) == 0) || (len == 8 && memcmp(d, "terminal", 8) == 0)) {
		memcpy(role, d, len);
		role[len] = 0;
		return 0;
	}
	snprintf(e, ecap, "role must be cpu or terminal");
	return -1;
}

static size_t
gen_big(void *arg, char *buf, size_t cap)
{
	(void)arg;
	for (size_t i = 0; i < cap && i < 10000; i++)
		buf[i] = (char)('a' + i % 26);
	return 10000;
}

static void
test_synth(void)
{
	struct p9_synth *t = p9_synth_new(NULL);
	struct p9_synth_node *m = p9_synth_mkdir(t, p9_synth_root(t), "machines");
	struct p9_synth_node *a = p9_synth_mkdir(t, m, "a");
	bool whole;

	p9_synth_mkfile(t, p9_synth_root(t), "version", 0444, gen_version, NULL, NULL);
	struct p9_synth_node *rn = p9_synth_mkfile(t, a, "role", 0644, gen_role, set_role, NULL);
	p9_synth_mkfile(t, a, "big", 0444, gen_big, NULL, NULL);
	CHECK(p9_synth_mkdir(t, m, "a") == NULL && p9_synth_mkfile(t, a, "x/y", 0, 0, 0, 0) == NULL,
	    "duplicate and bad names refused");

	p9_session_free(S);
	S = p9_session_new(&p9_synth_backend, t, 8192 + 24);
	version(8192 + 24, "9P2000");
	CHECK(attach(1, "glenda") == P9_RATTACH, "synth attach");
	CHECK(walk(1, 2, "version") == P9_RWALK && fid_open(2, P9_OREAD) == P9_ROPEN &&
	    fid_read(2, 0, 100) == P9_RREAD && strcmp(data(), "gridboot 1\n") == 0,
	    "read a generated file");
	CHECK(fid_open(2, P9_OREAD) == P9_RERROR, "opened once");
	clunk(2);
	CHECK(walk(1, 2, "version") == P9_RWALK && fid_open(2, P9_OWRITE) == P9_RERROR &&
	    strcmp(err(), "permission denied") == 0, "read-only file refuses writing");
	clunk(2);
	CHECK(walk(1, 2, "machines/a/role") == P9_RWALK && fid_open(2, P9_ORDWR) == P9_ROPEN,
	    "open role read-write");
	struct p9_qid before = R.qid;
	CHECK(fid_write(2, 0, "mainframe\n") == P9_RWRITE ? false :
	    strcmp(err(), "role must be cpu or terminal") == 0, "bad write refused with its reason");
	CHECK(fid_write(2, 0, "cpu\n") == P9_RWRITE && R.count == 4 && strcmp(role, "cpu") == 0,
	    "good write taken");
	p9_synth_touch(rn);
	clunk(2);
	struct p9_stat st;
	CHECK(walk(1, 2, "machines/a/role") == P9_RWALK && fid_stat(2, &st) &&
	    st.qid.vers != before.vers && p9_str_eq(st.uid, "glenda"), "touch moves qid.vers");
	CHECK(fid_open(2, P9_OREAD) == P9_ROPEN && fid_read(2, 0, 100) == P9_RREAD &&
	    strcmp(data(), "cpu\n") == 0, "reads the new text");
	clunk(2);
	CHECK(walk(1, 2, "machines/a/big") == P9_RWALK && fid_open(2, P9_OREAD) == P9_ROPEN &&
	    fid_read(2, 9990, 100) == P9_RREAD && strcmp(data(), "ghijklmnop") == 0,
	    "a text larger than the first buffer");
	clunk(2);
	CHECK(walk(1, 2, "machines") == P9_RWALK && create(2, "b", P9_DMDIR | 0755, 0) == P9_RERROR &&
	    strcmp(err(), "permission denied") == 0, "create refused");
	clunk(2);
	CHECK(walk(1, 2, "machines/a/../../machines/a/..") == P9_RWALK && R.nwqid == 7 &&
	    walk(1, 3, "..") == P9_RWALK && R.wqid[0].path == 1, ".. walks, root stays root");
	clunk(2);
	clunk(3);
	CHECK(walk(1, 2, "") == P9_RWALK && fid_open(2, P9_OREAD) == P9_ROPEN &&
	    read_dir(100, &whole) == 2 && whole, "root lists machines and version");
	clunk(2);
	CHECK(walk(1, 2, "machines/a") == P9_RWALK && fid_remove(2) == P9_RERROR,
	    "remove refused");
	p9_session_free(S);
	S = NULL;
	p9_synth_free(t);
}

int
main(void)
{
	char e[256];
	const char *writable[] = { "tmp", NULL };

	make_tree();
	struct p9_export_opts o = { .dir = root, .writable = writable };
	struct p9_export *x = p9_export_new(&o, e, sizeof e);
	CHECK(x != NULL, "export of %s", root);
	const char *bad[] = { "tmp/../..", NULL };
	o.writable = bad;
	CHECK(p9_export_new(&o, e, sizeof e) == NULL, "writable prefix with .. refused");
	if (x) {
		S = p9_session_new(&p9_export_backend, x, 8192 + 24);
		test_version();
		test_attach_walk();
		test_read();
		test_dirread();
		test_create_write();
		test_fids();
		test_limits();
		test_dotl();
		p9_session_free(S);
		S = NULL;
		p9_export_free(x);
	}
	test_synth();
	remove_tree();
	return UNIT_DONE();
}
