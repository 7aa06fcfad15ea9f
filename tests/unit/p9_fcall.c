/* The 9P codec (server/proto/p9_fcall.c): every message round-trips, known
 * layouts are byte-exact, and malformed frames are refused. */
#include "proto/p9_fcall.h"
#include "unit.h"

static uint8_t frame[8192], again[8192];

static struct p9_str
S(const char *s)
{
	return p9_str_of(s);
}

/* Encodes f, decodes it, encodes the decoded copy: both frames must be the
 * same bytes, and the decoded header must match. Returns the frame length. */
static size_t
roundtrip(const struct p9_fcall *f, enum p9_dialect d, struct p9_fcall *out)
{
	struct wr w = wr_make(frame, sizeof frame);
	size_t n = p9_encode(&w, f, d);
	const char *why = NULL;

	if (n == 0 || p9_decode(frame, n, d, out, &why) != 0)
		return 0;
	struct wr w2 = wr_make(again, sizeof again);
	size_t n2 = p9_encode(&w2, out, d);
	if (n2 != n || memcmp(frame, again, n) != 0 || out->type != f->type ||
	    out->tag != f->tag)
		return 0;
	return n;
}

static struct p9_fcall
msg(uint8_t type)
{
	static const uint8_t payload[] = "hello, world";
	static uint8_t statbuf[256];
	struct p9_fcall f;
	struct p9_stat st = { .type = 1, .dev = 2, .qid = { P9_QTDIR, 3, 4 },
		.mode = P9_DMDIR | 0755, .atime = 5, .mtime = 6, .length = 7,
		.name = S("lib"), .uid = S("glenda"), .gid = S("sys"), .muid = S("") };
	struct wr sw = wr_make(statbuf, sizeof statbuf);
	size_t nst = p9_stat_encode(&sw, &st);

	memset(&f, 0, sizeof f);
	f.type = type;
	f.tag = 0x1234;
	f.fid = 0xdeadbeef;
	f.newfid = 77;
	f.afid = P9_NOFID;
	f.msize = 8192;
	f.version = S("9P2000");
	f.oldtag = 9;
	f.ename = S("file does not exist");
	f.ecode = 2;
	f.uname = S("glenda");
	f.aname = S("other");
	f.n_uname = 1000;
	f.qid = (struct p9_qid){ P9_QTFILE, 0x11223344, 0x0102030405060708ULL };
	f.iounit = 8168;
	f.nwname = 3;
	f.wname[0] = S("usr");
	f.wname[1] = S("glenda");
	f.wname[2] = S("lib");
	f.nwqid = 2;
	f.wqid[0] = f.qid;
	f.wqid[1] = (struct p9_qid){ P9_QTDIR, 1, 2 };
	f.mode = P9_ORDWR | P9_OTRUNC;
	f.perm = 0644;
	f.name = S("profile");
	f.name2 = S("target");
	f.flags = P9_L_CREATE | 2;
	f.gid = 100;
	f.major = 1;
	f.minor = 3;
	f.offset = 0x123456789ULL;
	f.count = sizeof payload - 1;
	f.data = payload;
	f.nstat = (uint16_t)nst;
	f.stat = statbuf;
	f.mask = P9_GETATTR_ALL;
	f.attr = (struct p9_attr){ .valid = P9_GETATTR_BASIC, .qid = f.qid, .mode = 0100644,
		.uid = 1, .gid = 2, .nlink = 3, .size = 4, .blksize = 4096, .blocks = 8,
		.mtime_sec = 10, .mtime_nsec = 11, .data_version = 12 };
	f.setattr = (struct p9_setattr){ .valid = P9_SETATTR_SIZE, .size = 99 };
	f.statfs = (struct p9_statfs){ .type = 0x01021997, .bsize = 4096, .blocks = 10,
		.namelen = 255 };
	f.xsize = 5;
	f.datasync = 1;
	f.lock = (struct p9_lock){ 1, 2, 3, 4, 5, S("host") };
	f.status = 1;
	return f;
}

static const uint8_t all_types[] = {
	P9_RLERROR, P9_TSTATFS, P9_RSTATFS, P9_TLOPEN, P9_RLOPEN, P9_TLCREATE,
	P9_RLCREATE, P9_TSYMLINK, P9_RSYMLINK, P9_TMKNOD, P9_RMKNOD, P9_TRENAME,
	P9_RRENAME, P9_TREADLINK, P9_RREADLINK, P9_TGETATTR, P9_RGETATTR,
	P9_TSETATTR, P9_RSETATTR, P9_TXATTRWALK, P9_RXATTRWALK, P9_TXATTRCREATE,
	P9_RXATTRCREATE, P9_TREADDIR, P9_RREADDIR, P9_TFSYNC, P9_RFSYNC, P9_TLOCK,
	P9_RLOCK, P9_TGETLOCK, P9_RGETLOCK, P9_TLINK, P9_RLINK, P9_TMKDIR, P9_RMKDIR,
	P9_TRENAMEAT, P9_RRENAMEAT, P9_TUNLINKAT, P9_RUNLINKAT,
	P9_TVERSION, P9_RVERSION, P9_TAUTH, P9_RAUTH, P9_TATTACH, P9_RATTACH,
	P9_RERROR, P9_TFLUSH, P9_RFLUSH, P9_TWALK, P9_RWALK, P9_TOPEN, P9_ROPEN,
	P9_TCREATE, P9_RCREATE, P9_TREAD, P9_RREAD, P9_TWRITE, P9_RWRITE, P9_TCLUNK,
	P9_RCLUNK, P9_TREMOVE, P9_RREMOVE, P9_TSTAT, P9_RSTAT, P9_TWSTAT, P9_RWSTAT,
};

static void
test_roundtrips(void)
{
	struct p9_fcall out;

	for (size_t i = 0; i < sizeof all_types; i++) {
		struct p9_fcall f = msg(all_types[i]);
		for (int d = P9_2000; d <= P9_2000L; d++)
			CHECK(roundtrip(&f, d, &out) > 0, "%s round-trips (%s)",
			    p9_type_name(all_types[i]), d == P9_2000 ? "9P2000" : ".L");
	}
	struct p9_fcall f = msg(P9_TWALK);
	roundtrip(&f, P9_2000, &out);
	CHECK(out.nwname == 3 && out.wname[2].len == 3 && memcmp(out.wname[2].s, "lib", 3) == 0 &&
	    out.fid == 0xdeadbeef && out.newfid == 77, "Twalk fields survive");
	f = msg(P9_TATTACH);
	roundtrip(&f, P9_2000L, &out);
	CHECK(out.n_uname == 1000 && p9_str_eq(out.aname, "other"), ".L Tattach carries n_uname");
	roundtrip(&f, P9_2000, &out);
	CHECK(out.n_uname == P9_NONUNAME, "9P2000 Tattach has no n_uname");
	f = msg(P9_RGETATTR);
	CHECK(roundtrip(&f, P9_2000L, &out) == 160 && out.attr.data_version == 12 &&
	    out.attr.mtime_nsec == 11, "Rgetattr is 160 bytes and keeps its fields");
	f = msg(P9_TWRITE);
	roundtrip(&f, P9_2000, &out);
	CHECK(out.count == 12 && memcmp(out.data, "hello, world", 12) == 0 &&
	    out.offset == 0x123456789ULL, "Twrite data points into the frame");
	f = msg(P9_RSTAT);
	roundtrip(&f, P9_2000, &out);
	struct rd r = rd_make(out.stat, out.nstat);
	struct p9_stat st;
	CHECK(p9_stat_decode(&r, &st) && rd_left(&r) == 0 && p9_str_eq(st.name, "lib") &&
	    p9_str_eq(st.uid, "glenda") && st.muid.len == 0 && st.qid.type == P9_QTDIR &&
	    st.mode == (P9_DMDIR | 0755) && st.length == 7, "Rstat's stat decodes");
	CHECK(out.nstat == p9_stat_size(&st) && st.qid.path == 4, "stat size computed");
	f = msg(P9_TFSYNC);
	uint8_t old_fsync[] = { 11, 0, 0, 0, P9_TFSYNC, 1, 0, 5, 0, 0, 0 };
	CHECK(p9_decode(old_fsync, sizeof old_fsync, P9_2000L, &out, &(const char *){ 0 }) == 0 &&
	    out.fid == 5 && out.datasync == 0, "Tfsync without datasync (older Linux)");
}

static void
test_layouts(void)
{
	struct wr w = wr_make(frame, sizeof frame);
	struct p9_fcall f = { .type = P9_TVERSION, .tag = P9_NOTAG, .msize = 8192,
		.version = S("9P2000") };
	static const uint8_t tversion[] = { 19, 0, 0, 0, 100, 0xff, 0xff, 0, 0x20, 0, 0,
		6, 0, '9', 'P', '2', '0', '0', '0' };

	CHECK(p9_encode(&w, &f, P9_2000) == sizeof tversion &&
	    memcmp(frame, tversion, sizeof tversion) == 0, "Tversion bytes");
	w = wr_make(frame, sizeof frame);
	f = (struct p9_fcall){ .type = P9_RERROR, .tag = 1, .ename = S("x") };
	static const uint8_t rerror[] = { 10, 0, 0, 0, 107, 1, 0, 1, 0, 'x' };
	CHECK(p9_encode(&w, &f, P9_2000) == 10 && memcmp(frame, rerror, 10) == 0,
	    "Rerror bytes");
	w = wr_make(frame, 20);
	f = msg(P9_RREAD);
	f.count = 100;
	CHECK(p9_encode(&w, &f, P9_2000) == 0 && w.err, "encode past the buffer fails");
	w = wr_make(frame, sizeof frame);
	f = msg(P9_TWALK);
	f.nwname = 17;
	CHECK(p9_encode(&w, &f, P9_2000) == 0, "encoding 17 walk names refused");

	struct p9_dirent de = { { P9_QTDIR, 0, 42 }, 3, 4, S("tmp") }, de2;
	w = wr_make(frame, sizeof frame);
	CHECK(p9_dirent_encode(&w, &de) == 13 + 8 + 1 + 2 + 3, "dirent size");
	struct rd r = rd_make(frame, wr_len(&w));
	CHECK(p9_dirent_decode(&r, &de2) && de2.offset == 3 && de2.qid.path == 42 &&
	    de2.type == 4 && p9_str_eq(de2.name, "tmp") && rd_left(&r) == 0, "dirent decodes");
}

static int
dec(const uint8_t *b, size_t n, const char **why)
{
	struct p9_fcall f;
	return p9_decode(b, n, P9_2000, &f, why);
}

static void
test_malformed(void)
{
	const char *why;
	struct p9_fcall f = msg(P9_TWALK);
	struct wr w = wr_make(frame, sizeof frame);

	f.nwname = 16;
	for (int i = 0; i < 16; i++)
		f.wname[i] = S("a");
	size_t n = p9_encode(&w, &f, P9_2000);
	CHECK(n > 0 && dec(frame, n, &why) == 0, "16 walk names accepted");
	/* Make it 17 by hand: one more name and a patched count and size. */
	frame[n] = 1; frame[n + 1] = 0; frame[n + 2] = 'b';
	frame[15] = 17;
	frame[0] = (uint8_t)(n + 3);
	CHECK(dec(frame, n + 3, &why) != 0 && strstr(why, "walk") != NULL,
	    "17 walk names refused (%s)", why);

	f = msg(P9_TCREATE);
	w = wr_make(frame, sizeof frame);
	n = p9_encode(&w, &f, P9_2000);
	int all_short_fail = 1;
	for (size_t cut = 0; cut < n; cut++) {
		/* Truncated frames whose size field is honest about the cut. */
		uint8_t t[64];
		memcpy(t, frame, cut);
		if (cut >= 4) {
			t[0] = (uint8_t)cut; t[1] = t[2] = t[3] = 0;
		}
		if (dec(t, cut, &why) == 0)
			all_short_fail = 0;
	}
	CHECK(all_short_fail, "every truncation of Tcreate refused");
	CHECK(dec(frame, n - 1, &why) != 0 && strstr(why, "size") != NULL,
	    "size field longer than the frame refused");
	frame[0] = (uint8_t)(n - 1);
	CHECK(dec(frame, n, &why) != 0, "size field shorter than the frame refused");
	frame[0] = (uint8_t)n;

	static const uint8_t longstr[] = { 17, 0, 0, 0, P9_TCREATE, 1, 0, 1, 0, 0, 0,
		0xff, 0x00, 'a', 'b', 'c', 'd' };
	CHECK(dec(longstr, sizeof longstr, &why) != 0 && strstr(why, "past") != NULL,
	    "string length past the end refused");
	static const uint8_t unknown[] = { 7, 0, 0, 0, 99, 0, 0 };
	CHECK(dec(unknown, 7, &why) != 0 && strstr(why, "unknown") != NULL, "type 99 refused");
	static const uint8_t terror[] = { 7, 0, 0, 0, P9_TERROR, 0, 0 };
	CHECK(dec(terror, 7, &why) != 0, "Terror is not a message");
	static const uint8_t tlerror[] = { 7, 0, 0, 0, P9_TLERROR, 0, 0 };
	CHECK(dec(tlerror, 7, &why) != 0, "Tlerror is not a message");
	static const uint8_t trailing[] = { 12, 0, 0, 0, P9_TCLUNK, 0, 0, 1, 0, 0, 0, 9 };
	CHECK(dec(trailing, sizeof trailing, &why) != 0, "trailing byte refused");
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, P9_TCLUNK, 0, 0, 1, 0, 0, 0 };
	CHECK(dec(huge, sizeof huge, &why) != 0, "4 GiB size field refused");
	static const uint8_t wcount[] = { 23, 0, 0, 0, P9_TWRITE, 0, 0, 1, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f };
	CHECK(dec(wcount, sizeof wcount, &why) != 0, "Twrite count past the end refused");

	uint8_t badstat[64];
	struct wr sw = wr_make(badstat, sizeof badstat);
	struct p9_stat st = { .name = S("x") };
	size_t sn = p9_stat_encode(&sw, &st);
	struct rd r = rd_make(badstat, sn);
	struct p9_stat got;
	CHECK(p9_stat_decode(&r, &got), "stat decodes");
	badstat[0]++;
	r = rd_make(badstat, sn);
	CHECK(!p9_stat_decode(&r, &got), "stat whose size field lies refused");
}

int
main(void)
{
	test_roundtrips();
	test_layouts();
	test_malformed();
	return UNIT_DONE();
}
