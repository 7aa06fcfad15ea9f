/* p9c: the project's own 9P client, for tests and benchmarks. It speaks
 * 9P2000 or 9P2000.L through the server's codec (server/p9/p9_fcall.h)
 * over TCP, one connection per worker, and prints what it did.
 *
 * usage: p9c [-L] [-m MSIZE] [-a ANAME] [-u UNAME] [-c CONNS] [-n COUNT]
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
 * With -c N, N workers (processes) run the command at once and the rates
 * add up. A 9P error is printed as "p9c: error: TEXT" and exits 1. */
#include "p9/p9_fcall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dial(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("bad address %s", host);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("connect: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void
send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k <= 0)
			die("write: %s", k < 0 ? strerror(errno) : "closed");
		p += k;
		n -= (size_t)k;
	}
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

static void
start(struct client *c, const char *host, int port)
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
	t = (struct p9_fcall){ .type = P9_TATTACH, .fid = 0, .afid = P9_NOFID,
	    .n_uname = P9_NONUNAME };
	t.uname = p9_str_of(opt_uname);
	t.aname = p9_str_of(opt_aname);
	must(c, &t);
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
		struct p9_fcall t = { .fid = 1, .perm = 0644 };
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

	start(&c, host, port);
	if (strcmp(cmd, "stat") == 0)
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
	else
		die("unknown command %s", cmd);
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

	while ((ch = getopt(argc, argv, "La:c:m:n:u:")) != -1) {
		switch (ch) {
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
	    "HOST PORT ls|cat|put|stat|walkopen|read|rawfile [PATH]\n");
	return 2;
}
