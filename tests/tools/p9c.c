/* p9c: the project's own 9P client, for tests and benchmarks. It speaks
 * 9P2000 or 9P2000.L through the server's codec (server/proto/p9_fcall.h)
 * over TCP, one connection per worker, and prints what it did.
 *
 * usage: p9c [-L] [-m MSIZE] [-a ANAME] [-u UNAME] [-c CONNS] [-n COUNT]
 *            [-A AUTHHOST:PORT [-P PASSWORD_FILE] [-U ATTACH_UNAME]]
 *            [-M MODE] [-G GROUP] [-S SOURCE_ADDRESS]
 *            HOST PORT COMMAND [PATH]
 * commands:
 *   ls PATH        names in a directory, one a line
 *   cat PATH       a file's bytes to stdout
 *   put PATH       stdin into PATH (created when missing, truncated)
 *   stat PATH      COUNT stats (Tstat, or Tgetattr with -L), then the rate
 *   walkopen PATH  COUNT walk+open+clunk, then the rate
 *   read PATH      read the whole file COUNT times, then MiB/s
 *   rawfile FILE   send FILE's bytes as they are, print each reply frame's
 *                  type and error, until the server closes or 2 s pass
 *   hold PATH      open PATH COUNT times on new fids (a "%d" in PATH is
 *                  the fid's number from 0, for distinct files), reading
 *                  the first block of each; stops at the first refusal
 *                  ("p9c: refused after N: TEXT"), prints "held N" and
 *                  keeps them open until stdin ends (limit tests)
 *   auths          COUNT Tauth on new afids before any attach; stops at
 *                  the first refusal, prints "authed N" (limit tests)
 *   mkdir PATH     create a directory (perm -M, default 0775)
 *   rm PATH        remove
 *   dir PATH       one stat: "MODE UID GID MUID NAME" (mode in octal)
 *   chmod PATH     Twstat of the mode to -M's
 *   chgrp PATH     Twstat of the group to -G's
 * put's new files get perm -M (default 0644). mkdir, rm, dir, chmod and
 * chgrp speak 9P2000 only.
 * With -c N, N workers (processes) run the command at once and the rates
 * add up. A 9P error is printed as "p9c: error: TEXT" and exits 1.
 *
 * With -A, the attach is authenticated: Tauth(afid 1, UNAME, ANAME), then
 * the client side of p9any with dp9ik over the afid (the server side is
 * server/auth/afid.c, rcpu's steps; see server/auth/rcpu.h):
 *
 *   afid -> "v.2 dp9ik@DOM\0"            read the offer
 *   afid <- "dp9ik DOM\0"                our choice
 *   afid -> "OK\0"
 *   afid <- cchal[8]
 *   afid -> Ticketreq(AuthPAK, authid, DOM, schal) + Y(authid) (56)
 *   AUTHHOST: Ticketreq(AuthPAK, hostid = uid = UNAME) + that Y + our
 *             own Y (client role, UNAME's key from the password)
 *          -> AuthOK + Y(authid) + Y(UNAME); our PAK key from the second
 *   AUTHHOST: Ticketreq(AuthTreq) -> AuthOK + Tc + Ts (form 1)
 *   Tc must open under our PAK key (else the password is wrong or the
 *   user unknown: the auth server cannot tell us which)
 *   afid <- Y(authid) + Ts + Ac(schal, rand)
 *   afid -> As: must open under the ticket key and carry our cchal
 *
 * then Tattach(fid 0, afid 1, UNAME or -U's name, ANAME) and Tclunk(afid).
 * The password is the first line of -P's file, or $P9C_PASSWORD. */
#include "auth/authkey.h"
#include "auth/authmsg.h"
#include "auth/authpak.h"
#include "proto/p9_fcall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))

struct client {
	int fd;
	enum p9_dialect dialect;
	uint32_t msize;
	uint8_t *tx, *rx;
	struct p9_fcall r;          /* the last reply, pointing into rx */
	uint16_t tag;
};

static const char *opt_aname = "", *opt_uname = "glenda";
static const char *opt_authsrv, *opt_passfile, *opt_attach_uname, *opt_group;
static long opt_mode = -1;
static uint32_t opt_msize = 8192 + 24;
static long opt_count = 1;
static bool opt_linux;

static void __attribute__((noreturn))
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "p9c: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

#include "tool_net.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
recv_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = read(fd, p, n);
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* One whole frame into c->rx; false when the server closed. */
static bool
recv_frame(struct client *c, size_t *lenp)
{
	uint32_t size;

	if (!recv_all(c->fd, c->rx, 4))
		return false;
	size = (uint32_t)c->rx[0] | (uint32_t)c->rx[1] << 8 | (uint32_t)c->rx[2] << 16 |
	    (uint32_t)c->rx[3] << 24;
	if (size < P9_HDRSZ || size > c->msize + 64)
		die("reply frame of %s bytes", size < P9_HDRSZ ? "too few" : "too many");
	if (!recv_all(c->fd, c->rx + 4, size - 4))
		return false;
	*lenp = size;
	return true;
}

/* Sends t, waits for its reply in c->r; returns false on Rerror/Rlerror
 * (the text in *err). */
static bool
rpc(struct client *c, struct p9_fcall *t, char *err, size_t errcap)
{
	struct wr w = wr_make(c->tx, c->msize + 64);
	const char *why;
	size_t len;

	t->tag = t->type == P9_TVERSION ? P9_NOTAG : (uint16_t)(++c->tag % 0xFFFF);
	len = p9_encode(&w, t, c->dialect);
	if (len == 0)
		die("cannot encode %s", p9_type_name(t->type));
	send_all(c->fd, c->tx, len);
	if (!recv_frame(c, &len))
		die("the server closed the connection after %s", p9_type_name(t->type));
	if (p9_decode(c->rx, len, c->dialect, &c->r, &why) < 0)
		die("bad reply: %s", why);
	if (c->r.tag != t->tag)
		die("reply for another tag after %s", p9_type_name(t->type));
	if (c->r.type == P9_RERROR) {
		snprintf(err, errcap, "%.*s", c->r.ename.len, c->r.ename.s);
		return false;
	}
	if (c->r.type == P9_RLERROR) {
		snprintf(err, errcap, "%s", strerror((int)c->r.ecode));
		return false;
	}
	if (c->r.type != t->type + 1)
		die("unexpected reply to %s", p9_type_name(t->type));
	return true;
}

static void
must(struct client *c, struct p9_fcall *t)
{
	char err[256];

	if (!rpc(c, t, err, sizeof err))
		die("error: %s", err);
}

static void clunk(struct client *c, uint32_t fid);

/* ---- authentication: the client side of p9any/dp9ik (see the top) ---- */

#define AFID 1u

/* The password: the first line of -P's file, else $P9C_PASSWORD. */
static void
password(char *pw, size_t cap)
{
	if (opt_passfile) {
		FILE *f = fopen(opt_passfile, "r");
		if (f == NULL)
			die("error: cannot open the password file %s", opt_passfile);
		if (fgets(pw, (int)cap, f) == NULL)
			pw[0] = 0;
		fclose(f);
		pw[strcspn(pw, "\r\n")] = 0;
	} else {
		const char *e = getenv("P9C_PASSWORD");
		if (e == NULL)
			die("error: -A needs a password: -P FILE or $P9C_PASSWORD%s", "");
		snprintf(pw, cap, "%s", e);
	}
}

/* Reads the afid until n bytes are in, or (nul) until a NUL arrives; a
 * Tread with nothing to say blocks on the server until our next write, so
 * we never ask for more than the step holds. */
static size_t
afid_read(struct client *c, uint8_t *p, size_t n, bool nul)
{
	size_t got = 0;
	char err[256];

	while (got < n) {
		struct p9_fcall t = { .type = P9_TREAD, .fid = AFID, .offset = 0,
		    .count = (uint32_t)MIN(n - got, c->msize - P9_IOHDRSZ) };
		if (!rpc(c, &t, err, sizeof err))
			die("error: reading the afid: %s", err);
		if (c->r.count == 0 || c->r.count > n - got)
			die("error: reading the afid: %s", c->r.count ? "too many bytes" : "end of file");
		memcpy(p + got, c->r.data, c->r.count);
		got += c->r.count;
		if (nul && memchr(p, 0, got))
			return got;
	}
	return got;
}

static void
afid_write(struct client *c, const uint8_t *p, size_t n)
{
	struct p9_fcall t = { .type = P9_TWRITE, .fid = AFID, .offset = 0,
	    .count = (uint32_t)n, .data = (uint8_t *)p };
	char err[256];

	if (!rpc(c, &t, err, sizeof err))
		die("error: authentication: %s", err);
	if (c->r.count != n)
		die("error: authentication: a short write on the afid%s", "");
}

/* Reads the auth server's one-byte answer; AuthErr's reason is fatal. */
static void
as_answer(int fd, uint8_t *p, size_t n, const char *what)
{
	uint8_t b, reason[AUTH_AERRLEN + 1];

	if (!recv_all(fd, &b, 1))
		die("error: the auth server closed the connection after %s", what);
	if (b == AuthErr) {
		memset(reason, 0, sizeof reason);
		if (!recv_all(fd, reason, AUTH_AERRLEN))
			die("error: the auth server closed the connection after %s", what);
		fprintf(stderr, "p9c: error: auth server: %s\n", (char *)reason);
		exit(1);
	}
	if (b != AuthOK)
		die("error: the auth server answered %s with an unknown reply", what);
	if (!recv_all(fd, p, n))
		die("error: the auth server closed the connection after %s", what);
}

static void
p9any(struct client *c)
{
	char offer[256], want[16 + AUTH_DOMLEN], dom[AUTH_DOMLEN], pw[256], host[64], *colon;
	uint8_t cchal[AUTH_CHALLEN], trb[AUTH_TICKREQLEN + AUTH_PAKYLEN], buf[1024];
	uint8_t ys[2 * AUTH_PAKYLEN], tickets[2 * AUTH_TICKETLEN1];
	struct auth_ticketreq tr;
	struct auth_ticket tc;
	struct auth_authenticator a;
	struct authpak_priv priv;
	struct authkey k;
	char err[256];
	size_t n;

	/* Tauth */
	struct p9_fcall t = { .type = P9_TAUTH, .afid = AFID, .n_uname = P9_NONUNAME };
	t.uname = p9_str_of(opt_uname);
	t.aname = p9_str_of(opt_aname);
	if (!rpc(c, &t, err, sizeof err))
		die("error: %s", err);

	/* the offer: "v.2 dp9ik@DOM"; we take the first dp9ik */
	n = afid_read(c, (uint8_t *)offer, sizeof offer - 1, true);
	offer[n] = 0;
	const char *p = strncmp(offer, "v.2 ", 4) == 0 ? strstr(offer, "dp9ik@") : NULL;
	if (p == NULL)
		die("error: p9any: the server offers no dp9ik (\"%s\")", offer);
	p += 6;
	size_t dl = strcspn(p, " ");
	if (dl == 0 || dl >= sizeof dom)
		die("error: p9any: a bad domain in the offer (\"%s\")", offer);
	memcpy(dom, p, dl);
	dom[dl] = 0;
	snprintf(want, sizeof want, "dp9ik %s", dom);
	afid_write(c, (const uint8_t *)want, strlen(want) + 1);
	n = afid_read(c, buf, 3, false);
	if (memcmp(buf, "OK", 3) != 0)
		die("error: p9any: the server did not say OK%s", "");
	if (RAND_bytes(cchal, sizeof cchal) != 1)
		die("error: no randomness%s", "");
	afid_write(c, cchal, sizeof cchal);
	afid_read(c, trb, sizeof trb, false);
	if (!authmsg_treq_decode(trb, AUTH_TICKREQLEN, &tr) || tr.type != AuthPAK)
		die("error: dp9ik: the server's ticket request is not AuthPAK%s", "");
	if (strlen(opt_uname) >= AUTH_ANAMELEN)
		die("error: dp9ik: the user name %s is longer than 27 bytes", opt_uname);

	/* the auth server: AuthPAK, then AuthTreq for (authid, us) */
	password(pw, sizeof pw);
	if (!authkey_from_password(&k, pw) || !authkey_pakhash(&k, opt_uname))
		die("error: key derivation failed%s", "");
	OPENSSL_cleanse(pw, sizeof pw);
	snprintf(host, sizeof host, "%s", opt_authsrv);
	if ((colon = strrchr(host, ':')) == NULL)
		die("error: -A wants HOST:PORT, not %s", opt_authsrv);
	*colon = 0;
	int as = dial(host, atoi(colon + 1));
	snprintf(tr.hostid, sizeof tr.hostid, "%s", opt_uname);
	snprintf(tr.uid, sizeof tr.uid, "%s", opt_uname);
	authmsg_treq_encode(&tr, buf);
	memcpy(buf + AUTH_TICKREQLEN, trb + AUTH_TICKREQLEN, AUTH_PAKYLEN);
	if (!authpak_new(&priv, &k, buf + AUTH_TICKREQLEN + AUTH_PAKYLEN, true))
		die("error: no randomness%s", "");
	send_all(as, buf, AUTH_TICKREQLEN + 2 * AUTH_PAKYLEN);
	as_answer(as, ys, sizeof ys, "AuthPAK");
	if (!authpak_finish(&priv, &k, ys + AUTH_PAKYLEN))
		die("error: dp9ik: the auth server's Y does not decode%s", "");
	tr.type = AuthTreq;
	authmsg_treq_encode(&tr, buf);
	send_all(as, buf, AUTH_TICKREQLEN);
	as_answer(as, tickets, sizeof tickets, "AuthTreq");
	close(as);
	if (authmsg_ticket_decode(tickets, AUTH_TICKETLEN1, k.pakkey, false, &tc) != AUTH_TICKETLEN1
	    || tc.num != AuthTc || memcmp(tc.chal, tr.chal, AUTH_CHALLEN) != 0)
		die("error: dp9ik: password mismatch with auth server (or unknown user %s)", opt_uname);
	authkey_wipe(&k);

	/* to the server: the auth server's Y for authid, Ts, our Ac */
	memcpy(buf, ys, AUTH_PAKYLEN);
	memcpy(buf + AUTH_PAKYLEN, tickets + AUTH_TICKETLEN1, AUTH_TICKETLEN1);
	memset(&a, 0, sizeof a);
	a.num = AuthAc;
	memcpy(a.chal, tr.chal, AUTH_CHALLEN);
	if (RAND_bytes(a.rand, AUTH_NONCELEN) != 1)
		die("error: no randomness%s", "");
	n = authmsg_auth_encode(&a, &tc, 0, buf + AUTH_PAKYLEN + AUTH_TICKETLEN1,
	    sizeof buf - AUTH_PAKYLEN - AUTH_TICKETLEN1);
	if (n != AUTH_AUTHENTLEN1)
		die("error: dp9ik: cannot make our authenticator%s", "");
	afid_write(c, buf, AUTH_PAKYLEN + AUTH_TICKETLEN1 + n);

	/* As: the server knew the ticket key, and answers our challenge */
	afid_read(c, buf, AUTH_AUTHENTLEN1, false);
	if (authmsg_auth_decode(buf, AUTH_AUTHENTLEN1, &tc, &a) != AUTH_AUTHENTLEN1
	    || a.num != AuthAs || memcmp(a.chal, cchal, AUTH_CHALLEN) != 0)
		die("error: dp9ik: the server's authenticator does not open with our ticket%s", "");
	OPENSSL_cleanse(&tc, sizeof tc);
	OPENSSL_cleanse(&a, sizeof a);
}

static void
start_version(struct client *c, const char *host, int port)
{
	struct p9_fcall t = { .type = P9_TVERSION, .msize = opt_msize };
	const char *want = opt_linux ? "9P2000.L" : "9P2000";

	c->fd = dial(host, port);
	c->dialect = opt_linux ? P9_2000L : P9_2000;
	c->msize = opt_msize;
	c->tx = malloc(opt_msize + 64);
	c->rx = malloc(opt_msize + 64);
	t.version = p9_str_of(want);
	must(c, &t);
	if (!p9_str_eq(c->r.version, want))
		die("the server answered version %s", "other");
	if (c->r.msize < c->msize)
		c->msize = c->r.msize;
}

static void
start(struct client *c, const char *host, int port)
{
	start_version(c, host, port);
	if (opt_authsrv)
		p9any(c);
	struct p9_fcall t = { .type = P9_TATTACH, .fid = 0,
	    .afid = opt_authsrv ? AFID : P9_NOFID, .n_uname = P9_NONUNAME };
	t.uname = p9_str_of(opt_attach_uname ? opt_attach_uname : opt_uname);
	t.aname = p9_str_of(opt_aname);
	must(c, &t);
	if (opt_authsrv)
		clunk(c, AFID);
}

/* Walks fid 0 to newfid along PATH's elements (at most 16). */
static bool
walk(struct client *c, uint32_t newfid, const char *path, char *err, size_t errcap)
{
	struct p9_fcall t = { .type = P9_TWALK, .fid = 0, .newfid = newfid };
	char buf[1024], *save, *e;

	snprintf(buf, sizeof buf, "%s", path);
	for (e = strtok_r(buf, "/", &save); e && t.nwname < P9_MAXWELEM; e = strtok_r(NULL, "/", &save))
		t.wname[t.nwname++] = p9_str_of(e);
	if (!rpc(c, &t, err, errcap))
		return false;
	if (c->r.nwqid != t.nwname) {
		snprintf(err, errcap, "walk stopped after %u of %u names", c->r.nwqid, t.nwname);
		return false;
	}
	return true;
}

static void
clunk(struct client *c, uint32_t fid)
{
	struct p9_fcall t = { .type = P9_TCLUNK, .fid = fid };

	must(c, &t);
}

static void
open_fid(struct client *c, uint32_t fid, int mode)
{
	struct p9_fcall t = { .fid = fid };

	if (opt_linux) {
		t.type = P9_TLOPEN;
		t.flags = (uint32_t)(mode == P9_OREAD ? 0 : mode == P9_OWRITE ? 1 : 2) |
		    (mode & P9_OTRUNC ? P9_L_TRUNC : 0);
	} else {
		t.type = P9_TOPEN;
		t.mode = (uint8_t)mode;
	}
	must(c, &t);
}

static void
walk_must(struct client *c, uint32_t fid, const char *path)
{
	char err[256];

	if (!walk(c, fid, path, err, sizeof err))
		die("error: %s", err);
}

/* Reads fid from offset 0 to the end; each chunk to fn. */
static uint64_t
read_all(struct client *c, uint32_t fid, bool dir, void (*fn)(const uint8_t *, size_t, void *),
    void *arg)
{
	struct p9_fcall t = { .fid = fid, .count = c->msize - P9_IOHDRSZ };
	uint64_t off = 0;

	t.type = dir && opt_linux ? P9_TREADDIR : P9_TREAD;
	for (;;) {
		t.offset = off;
		must(c, &t);
		if (c->r.count == 0)
			return off;
		if (fn)
			fn(c->r.data, c->r.count, arg);
		if (dir && opt_linux) {
			/* .L: the next offset is the last entry's. */
			struct rd r = rd_make(c->r.data, c->r.count);
			struct p9_dirent de;
			while (rd_left(&r) > 0 && p9_dirent_decode(&r, &de))
				off = de.offset;
		} else
			off += c->r.count;
	}
}

static void
print_names(const uint8_t *p, size_t n, void *arg)
{
	struct rd r = rd_make(p, n);

	(void)arg;
	while (rd_left(&r) > 0) {
		if (opt_linux) {
			struct p9_dirent de;
			if (!p9_dirent_decode(&r, &de))
				die("bad directory entry%s", "");
			if (!p9_str_eq(de.name, ".") && !p9_str_eq(de.name, ".."))
				printf("%.*s\n", de.name.len, de.name.s);
		} else {
			struct p9_stat st;
			if (!p9_stat_decode(&r, &st))
				die("bad directory entry%s", "");
			printf("%.*s\n", st.name.len, st.name.s);
		}
	}
}

static void
print_bytes(const uint8_t *p, size_t n, void *arg)
{
	(void)arg;
	fwrite(p, 1, n, stdout);
}

static void
cmd_ls(struct client *c, const char *path)
{
	walk_must(c, 1, path);
	open_fid(c, 1, P9_OREAD);
	read_all(c, 1, true, print_names, NULL);
	clunk(c, 1);
}

static void
cmd_cat(struct client *c, const char *path)
{
	walk_must(c, 1, path);
	open_fid(c, 1, P9_OREAD);
	read_all(c, 1, false, print_bytes, NULL);
	clunk(c, 1);
}

/* Walks to the parent; opens PATH truncated, or creates it there. */
static void
cmd_put(struct client *c, const char *path)
{
	char err[256], parent[1024];
	const char *base = strrchr(path, '/');
	uint8_t buf[65536];
	uint64_t off = 0;
	size_t n;

	if (walk(c, 1, path, err, sizeof err))
		open_fid(c, 1, P9_OWRITE | P9_OTRUNC);
	else {
		snprintf(parent, sizeof parent, "%.*s", base ? (int)(base - path) : 0, path);
		walk_must(c, 1, parent);
		struct p9_fcall t = { .fid = 1, .perm = opt_mode >= 0 ? (uint32_t)opt_mode : 0644 };
		t.name = p9_str_of(base ? base + 1 : path);
		if (opt_linux) {
			t.type = P9_TLCREATE;
			t.flags = 1;
			t.gid = 0;
		} else {
			t.type = P9_TCREATE;
			t.mode = P9_OWRITE;
		}
		must(c, &t);
	}
	while ((n = fread(buf, 1, MIN(sizeof buf, c->msize - P9_IOHDRSZ), stdin)) > 0) {
		struct p9_fcall t = { .type = P9_TWRITE, .fid = 1, .offset = off,
		    .count = (uint32_t)n, .data = buf };
		must(c, &t);
		off += c->r.count;
	}
	clunk(c, 1);
}

/* Walks fid 1 to PATH's parent; the last element's name in *base. */
static void
walk_parent(struct client *c, const char *path, const char **base)
{
	char parent[1024];
	const char *slash = strrchr(path, '/');

	snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - path) : 0, path);
	walk_must(c, 1, parent);
	*base = slash ? slash + 1 : path;
}

static void
cmd_mkdir(struct client *c, const char *path)
{
	const char *base;

	walk_parent(c, path, &base);
	struct p9_fcall t = { .type = P9_TCREATE, .fid = 1, .mode = P9_OREAD,
	    .perm = P9_DMDIR | (opt_mode >= 0 ? (uint32_t)opt_mode : 0775) };
	t.name = p9_str_of(base);
	must(c, &t);
	clunk(c, 1);
}

static void
cmd_rm(struct client *c, const char *path)
{
	walk_must(c, 1, path);
	struct p9_fcall t = { .type = P9_TREMOVE, .fid = 1 };
	must(c, &t);
}

static void
cmd_dir(struct client *c, const char *path)
{
	struct p9_stat st;

	walk_must(c, 1, path);
	struct p9_fcall t = { .type = P9_TSTAT, .fid = 1 };
	must(c, &t);
	struct rd r = rd_make(c->r.stat, c->r.nstat);
	if (!p9_stat_decode(&r, &st))
		die("bad stat%s", "");
	printf("%o %.*s %.*s %.*s %.*s\n", st.mode & 0777, st.uid.len, st.uid.s, st.gid.len,
	    st.gid.s, st.muid.len, st.muid.s, st.name.len, st.name.s);
	clunk(c, 1);
}

/* A Twstat that changes only what is given: every other field "don't
 * touch" (~0 numbers, empty strings). */
static void
wstat_one(struct client *c, const char *path, uint32_t mode, const char *gid)
{
	struct p9_stat st = { .type = 0xFFFF, .dev = ~0u, .mode = mode, .atime = ~0u,
	    .mtime = ~0u, .length = ~0ull };
	uint8_t buf[512];
	struct wr w = wr_make(buf, sizeof buf);

	st.qid = (struct p9_qid){ 0xFF, ~0u, ~0ull };
	st.gid = p9_str_of(gid ? gid : "");
	walk_must(c, 1, path);
	if (mode != ~0u) {      /* the type bits stay as they are (DMDIR) */
		struct p9_fcall q = { .type = P9_TSTAT, .fid = 1 };
		struct p9_stat cur;
		must(c, &q);
		struct rd r = rd_make(c->r.stat, c->r.nstat);
		if (!p9_stat_decode(&r, &cur))
			die("bad stat%s", "");
		st.mode = (cur.mode & ~0777u) | (mode & 0777);
	}
	size_t n = p9_stat_encode(&w, &st);
	if (n == 0)
		die("stat does not fit%s", "");
	struct p9_fcall t = { .type = P9_TWSTAT, .fid = 1, .nstat = (uint16_t)n, .stat = buf };
	must(c, &t);
	clunk(c, 1);
}

static void
cmd_stat(struct client *c, const char *path, long *ops)
{
	walk_must(c, 1, path);
	for (long i = 0; i < opt_count; i++) {
		struct p9_fcall t = { .fid = 1 };
		if (opt_linux) {
			t.type = P9_TGETATTR;
			t.mask = P9_GETATTR_BASIC;
		} else
			t.type = P9_TSTAT;
		must(c, &t);
		(*ops)++;
	}
	clunk(c, 1);
}

static void
cmd_walkopen(struct client *c, const char *path, long *ops)
{
	for (long i = 0; i < opt_count; i++) {
		walk_must(c, 1, path);
		open_fid(c, 1, P9_OREAD);
		clunk(c, 1);
		(*ops)++;
	}
}

static void
cmd_read(struct client *c, const char *path, long *bytes)
{
	for (long i = 0; i < opt_count; i++) {
		walk_must(c, 1, path);
		open_fid(c, 1, P9_OREAD);
		*bytes += (long)read_all(c, 1, false, NULL, NULL);
		clunk(c, 1);
	}
}

/* Holds COUNT open fids (2, 3, ...) until stdin ends; see the top. */
static void
cmd_hold(struct client *c, const char *path, long *held)
{
	char err[256], p[1024], sink[256];

	for (long i = 0; i < opt_count; i++) {
		uint32_t fid = (uint32_t)(2 + i);
		const char *pct = strstr(path, "%d");
		if (pct)
			snprintf(p, sizeof p, "%.*s%ld%s", (int)(pct - path), path, i, pct + 2);
		else
			snprintf(p, sizeof p, "%s", path);
		struct p9_fcall t = { .fid = fid, .count = c->msize - P9_IOHDRSZ };
		if (!walk(c, fid, p, err, sizeof err)) {
			printf("p9c: refused after %ld: %s\n", *held, err);
			break;
		}
		t.type = opt_linux ? P9_TLOPEN : P9_TOPEN;
		if (!rpc(c, &t, err, sizeof err)) {
			printf("p9c: refused after %ld: %s\n", *held, err);
			break;
		}
		t.type = opt_linux && (c->r.qid.type & P9_QTDIR) ? P9_TREADDIR : P9_TREAD;
		t.offset = 0;
		if (!rpc(c, &t, err, sizeof err)) {
			printf("p9c: refused after %ld: %s\n", *held, err);
			break;
		}
		(*held)++;
	}
	printf("held %ld\n", *held);
	fflush(stdout);
	while (read(0, sink, sizeof sink) > 0)
		;
}

/* COUNT Tauth before any attach; see the top. */
static void
cmd_auths(struct client *c, long *n)
{
	char err[256];

	for (long i = 0; i < opt_count; i++) {
		struct p9_fcall t = { .type = P9_TAUTH, .afid = (uint32_t)(100 + i),
		    .n_uname = P9_NONUNAME };
		t.uname = p9_str_of(opt_uname);
		t.aname = p9_str_of(opt_aname);
		if (!rpc(c, &t, err, sizeof err)) {
			printf("p9c: refused after %ld: %s\n", *n, err);
			break;
		}
		(*n)++;
	}
	printf("authed %ld\n", *n);
	fflush(stdout);
	while (read(0, err, sizeof err) > 0)
		;
}

/* Raw bytes in, one line per reply frame out; for malformed-input tests. */
static int
cmd_rawfile(const char *host, int port, const char *file)
{
	FILE *f = fopen(file, "rb");
	static uint8_t buf[1 << 20];
	size_t n, len;
	struct client c = { .dialect = opt_linux ? P9_2000L : P9_2000, .msize = 1 << 20 };

	if (f == NULL)
		die("cannot open %s", file);
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	c.fd = dial(host, port);
	c.rx = malloc(c.msize + 64);
	send_all(c.fd, buf, n);
	for (;;) {
		struct pollfd p = { c.fd, POLLIN, 0 };
		const char *why;
		if (poll(&p, 1, 2000) <= 0) {
			printf("no reply in 2 s\n");
			break;
		}
		if (!recv_frame(&c, &len)) {
			printf("closed\n");
			break;
		}
		if (p9_decode(c.rx, len, c.dialect, &c.r, &why) < 0) {
			printf("undecodable reply: %s\n", why);
			continue;
		}
		if (c.r.type == P9_RERROR)
			printf("%s tag %u: %.*s\n", p9_type_name(c.r.type), c.r.tag,
			    c.r.ename.len, c.r.ename.s);
		else if (c.r.type == P9_RVERSION)
			printf("Rversion %u %.*s\n", c.r.msize, c.r.version.len, c.r.version.s);
		else
			printf("%s tag %u\n", p9_type_name(c.r.type), c.r.tag);
		fflush(stdout);
	}
	free(c.rx);
	close(c.fd);
	return 0;
}

/* One worker: a connection, the command, its count on fd out. */
static void
worker(const char *host, int port, const char *cmd, const char *path, int out)
{
	struct client c = { 0 };
	long n = 0;

	if (strcmp(cmd, "auths") == 0) {
		start_version(&c, host, port);
		cmd_auths(&c, &n);
	} else
		start(&c, host, port);
	if (strcmp(cmd, "auths") == 0)
		;
	else if (strcmp(cmd, "hold") == 0)
		cmd_hold(&c, path, &n);
	else if (strcmp(cmd, "stat") == 0)
		cmd_stat(&c, path, &n);
	else if (strcmp(cmd, "walkopen") == 0)
		cmd_walkopen(&c, path, &n);
	else if (strcmp(cmd, "read") == 0)
		cmd_read(&c, path, &n);
	else if (strcmp(cmd, "ls") == 0)
		cmd_ls(&c, path);
	else if (strcmp(cmd, "cat") == 0)
		cmd_cat(&c, path);
	else if (strcmp(cmd, "put") == 0)
		cmd_put(&c, path);
	else if (strcmp(cmd, "mkdir") == 0)
		cmd_mkdir(&c, path);
	else if (strcmp(cmd, "rm") == 0)
		cmd_rm(&c, path);
	else if (strcmp(cmd, "dir") == 0)
		cmd_dir(&c, path);
	else if (strcmp(cmd, "chmod") == 0 && opt_mode >= 0)
		wstat_one(&c, path, (uint32_t)opt_mode, NULL);
	else if (strcmp(cmd, "chgrp") == 0 && opt_group)
		wstat_one(&c, path, ~0u, opt_group);
	else
		die("unknown command %s (or chmod without -M, chgrp without -G)", cmd);
	fflush(stdout);
	if (write(out, &n, sizeof n) != (ssize_t)sizeof n)
		die("pipe%s", "");
	close(c.fd);
	free(c.tx);
	free(c.rx);
}

int
main(int argc, char **argv)
{
	int ch, conns = 1, fds[2];
	long total = 0;

	while ((ch = getopt(argc, argv, "A:G:LM:P:S:U:a:c:m:n:u:")) != -1) {
		switch (ch) {
		case 'S': dial_source = optarg; break;
		case 'G': opt_group = optarg; break;
		case 'M': opt_mode = strtol(optarg, NULL, 8); break;
		case 'A': opt_authsrv = optarg; break;
		case 'P': opt_passfile = optarg; break;
		case 'U': opt_attach_uname = optarg; break;
		case 'L': opt_linux = true; break;
		case 'a': opt_aname = optarg; break;
		case 'c': conns = atoi(optarg); break;
		case 'm': opt_msize = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': opt_count = atol(optarg); break;
		case 'u': opt_uname = optarg; break;
		default: goto usage;
		}
	}
	if (argc - optind < 3 || conns < 1 || conns > 1000 || opt_msize < 256)
		goto usage;
	const char *host = argv[optind], *cmd = argv[optind + 2];
	const char *path = argc - optind > 3 ? argv[optind + 3] : "";
	int port = atoi(argv[optind + 1]);
	if (strcmp(cmd, "rawfile") == 0)
		return cmd_rawfile(host, port, path);
	if (pipe(fds) < 0)
		die("pipe: %s", strerror(errno));
	double t0 = now();
	for (int i = 0; i < conns; i++) {
		pid_t p = fork();
		if (p < 0)
			die("fork: %s", strerror(errno));
		if (p == 0) {
			close(fds[0]);
			worker(host, port, cmd, path, fds[1]);
			_exit(0);
		}
	}
	close(fds[1]);
	int failed = 0, st;
	for (long n; read(fds[0], &n, sizeof n) == (ssize_t)sizeof n;)
		total += n;
	while (wait(&st) > 0)
		failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	double dt = now() - t0;
	if (strcmp(cmd, "read") == 0)
		fprintf(stderr, "p9c: read %ld bytes in %.3f s: %.1f MiB/s\n", total, dt,
		    (double)total / dt / 1048576.0);
	else if (strcmp(cmd, "stat") == 0 || strcmp(cmd, "walkopen") == 0)
		fprintf(stderr, "p9c: %s %ld in %.3f s: %.0f/s\n", cmd, total, dt, (double)total / dt);
	return failed;
usage:
	fprintf(stderr, "usage: p9c [-L] [-m MSIZE] [-a ANAME] [-u UNAME] [-c CONNS] [-n COUNT] "
	    "[-A AUTHHOST:PORT [-P PASSWORD_FILE] [-U ATTACH_UNAME]] "
	    "[-M MODE] [-G GROUP] [-S SOURCE] "
	    "HOST PORT ls|cat|put|stat|walkopen|read|rawfile|hold|auths|mkdir|rm|dir|chmod|chgrp "
	    "[PATH]\n");
	return 2;
}
