/* TFTP load generator for bench/tftp.sh: N reads of one file at once from
 * one process, each on its own socket, driven by one epoll loop, so that
 * what the bench measures is the server and not N client processes (50
 * atftp processes spent several times the CPU of either server they were
 * measuring, and the two cores are shared). Speaks RFC 1350 lock-step
 * (BLKSIZE 512 and WINDOW 1: no options at all, as 9boot asks) and RFC
 * 2348/7440 (blksize, windowsize: one ACK per window, the last in-order
 * block ACKed again when one is missing). Every byte is compared with the
 * file it should be, so a fast wrong server does not score.
 *   tftp_load SERVER PORT NAME LOCAL_COPY N BLKSIZE WINDOW
 * Prints one line: transfers, done, failed, seconds, MiB/s. Exit 1 if any
 * transfer failed or the bytes differ. Each transfer resends after 1, 2, ...
 * 5 s without progress and then gives up; the run ends after 120 s. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAXBLK   8192
#define RX_BATCH 16
#define RESEND_S 1.0
#define TRIES    5

enum { T_WAIT, T_DONE, T_FAILED };

struct xfer {
	int fd, state, tries;
	int started;                /* a reply came: connected to the server's TID */
	int bs, ws;                 /* what this transfer got: the OACK's, or 512 and 1 */
	uint16_t last;              /* last in-order block */
	int inwin;                  /* blocks since the last ACK */
	int gap_acked;              /* the last in-order ACK was resent for this gap */
	size_t got;                 /* bytes in order so far */
	double progress;            /* time of the last in-order block */
	uint8_t lastack[4];         /* resent on timeout (or the RRQ, before a reply) */
	size_t lastacklen;
};

static struct sockaddr_in server;
static const char *name;
static const uint8_t *want;     /* the file's bytes */
static size_t wantlen;
static int blksize = 512, window = 1, options;
static uint8_t rrq[600];
static size_t rrqlen;
static int mismatch;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static size_t
put_str(uint8_t *p, size_t off, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(p + off, s, n);
	return off + n;
}

static void
build_rrq(void)
{
	char v[16];
	size_t n = 2;

	rrq[0] = 0;
	rrq[1] = 1;
	n = put_str(rrq, n, name);
	n = put_str(rrq, n, "octet");
	if (options) {
		snprintf(v, sizeof v, "%d", blksize);
		n = put_str(rrq, n, "blksize");
		n = put_str(rrq, n, v);
		if (window > 1) {
			snprintf(v, sizeof v, "%d", window);
			n = put_str(rrq, n, "windowsize");
			n = put_str(rrq, n, v);
		}
	}
	rrqlen = n;
}

static void
send_ack(struct xfer *x, uint16_t block)
{
	x->lastack[0] = 0;
	x->lastack[1] = 4;
	x->lastack[2] = (uint8_t)(block >> 8);
	x->lastack[3] = (uint8_t)block;
	x->lastacklen = 4;
	send(x->fd, x->lastack, 4, 0);
	x->inwin = 0;
}

/* An OACK: the options the server took (one it left out is its default). */
static int
on_oack(struct xfer *x, const uint8_t *p, size_t n)
{
	int bs = 512, ws = 1;

	for (size_t k = 2; k < n;) {
		const char *opt = (const char *)p + k;
		size_t ol = strnlen(opt, n - k);
		if (k + ol + 1 >= n)
			return -1;
		const char *val = opt + ol + 1;
		size_t vl = strnlen(val, n - k - ol - 1);
		if (k + ol + 1 + vl >= n)
			return -1;
		if (strcasecmp(opt, "blksize") == 0)
			bs = atoi(val);
		else if (strcasecmp(opt, "windowsize") == 0)
			ws = atoi(val);
		k += ol + 1 + vl + 1;
	}
	if (bs < 8 || bs > MAXBLK || ws < 1 || ws > 64)
		return -1;
	x->bs = bs;
	x->ws = ws;
	send_ack(x, 0);
	return 0;
}

static void
on_data(struct xfer *x, const uint8_t *p, size_t n, double t)
{
	uint16_t b = (uint16_t)(p[2] << 8 | p[3]);
	size_t len = n - 4;

	if (b != (uint16_t)(x->last + 1)) {
		/* Out of order (a loss in the window) or a duplicate: ACK the
		 * last in-order block once, and the server sends on from it. */
		if (b != x->last && !x->gap_acked) {
			send_ack(x, x->last);
			x->gap_acked = 1;
		}
		return;
	}
	if (x->got + len > wantlen || memcmp(want + x->got, p + 4, len) != 0) {
		mismatch++;
		x->state = T_FAILED;
		return;
	}
	x->got += len;
	x->last = b;
	x->gap_acked = 0;
	x->progress = t;
	x->tries = 0;
	if (len < (size_t)x->bs) {
		send_ack(x, b);
		x->state = x->got == wantlen ? T_DONE : T_FAILED;
		if (x->state == T_FAILED)
			mismatch++;
		return;
	}
	if (++x->inwin >= x->ws)
		send_ack(x, b);
}

static void
on_datagram(struct xfer *x, const uint8_t *p, size_t n, const struct sockaddr_in *from, double t)
{
	if (n < 4)
		return;
	if (!x->started) {
		/* The server's TID: from now on only it is heard. */
		if (connect(x->fd, (const struct sockaddr *)from, sizeof *from) < 0) {
			x->state = T_FAILED;
			return;
		}
		x->started = 1;
		/* Options left unanswered (no OACK) are the defaults. */
		x->bs = 512;
		x->ws = 1;
	}
	int op = p[0] << 8 | p[1];
	if (op == 6 && x->got == 0 && x->last == 0) {
		if (on_oack(x, p, n) < 0)
			x->state = T_FAILED;
		x->progress = t;
	} else if (op == 3)
		on_data(x, p, n, t);
	else if (op == 5) {
		fprintf(stderr, "tftp_load: server error %d: %.*s\n", p[2] << 8 | p[3],
		    (int)(n > 4 ? n - 5 : 0), (const char *)p + 4);
		x->state = T_FAILED;
	}
}

static void
drain(struct xfer *x, double t)
{
	static uint8_t buf[RX_BATCH][MAXBLK + 4];
	struct mmsghdr m[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_in from[RX_BATCH];

	while (x->state == T_WAIT) {
		memset(m, 0, sizeof m);
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i] = (struct iovec){ buf[i], sizeof buf[i] };
			m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
			    .msg_namelen = sizeof from[i], .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		int n = recvmmsg(x->fd, m, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n && x->state == T_WAIT; i++)
			on_datagram(x, buf[i], m[i].msg_len, &from[i], t);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: tftp_load SERVER PORT NAME LOCAL_COPY N BLKSIZE WINDOW\n");
		return 2;
	}
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
		fprintf(stderr, "tftp_load: %s: not an IPv4 address\n", argv[1]);
		return 2;
	}
	name = argv[3];
	int ffd = open(argv[4], O_RDONLY);
	struct stat st;
	if (ffd < 0 || fstat(ffd, &st) < 0 || st.st_size == 0 ||
	    (want = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, ffd, 0)) == MAP_FAILED) {
		fprintf(stderr, "tftp_load: %s: cannot map it\n", argv[4]);
		return 2;
	}
	wantlen = (size_t)st.st_size;
	int nx = atoi(argv[5]);
	blksize = atoi(argv[6]);
	window = atoi(argv[7]);
	if (nx < 1 || nx > 1000 || blksize < 8 || blksize > MAXBLK || window < 1 || window > 64) {
		fprintf(stderr, "tftp_load: N 1..1000, BLKSIZE 8..%d, WINDOW 1..64\n", MAXBLK);
		return 2;
	}
	options = blksize != 512 || window > 1;
	build_rrq();

	int ep = epoll_create1(0);
	struct xfer *xs = calloc((size_t)nx, sizeof *xs);
	if (ep < 0 || xs == NULL)
		return 1;
	double t0 = now();
	for (int i = 0; i < nx; i++) {
		struct xfer *x = &xs[i];
		int big = 1 << 20;
		x->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (x->fd < 0) {
			perror("tftp_load: socket");
			return 1;
		}
		setsockopt(x->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, x->fd, &ev);
		x->progress = t0;
		sendto(x->fd, rrq, rrqlen, 0, (struct sockaddr *)&server, sizeof server);
	}

	int left = nx, done = 0;
	double resend_check = t0;
	while (left > 0 && now() - t0 < 120) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 100);
		double t = now();
		for (int i = 0; i < n; i++) {
			struct xfer *x = &xs[evs[i].data.u32];
			if (x->state != T_WAIT)
				continue;
			drain(x, t);
			if (x->state != T_WAIT) {
				left--;
				done += x->state == T_DONE;
				epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
			}
		}
		if (t - resend_check < 0.1)
			continue;
		resend_check = t;
		/* A silent server: the RRQ or the last ACK again, then give up. */
		for (int i = 0; i < nx; i++) {
			struct xfer *x = &xs[i];
			if (x->state != T_WAIT || t - x->progress < RESEND_S * (x->tries + 1))
				continue;
			if (++x->tries > TRIES) {
				x->state = T_FAILED;
				left--;
				epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
				continue;
			}
			if (!x->started)
				sendto(x->fd, rrq, rrqlen, 0, (struct sockaddr *)&server, sizeof server);
			else if (x->lastacklen)
				send(x->fd, x->lastack, x->lastacklen, 0);
		}
	}
	double secs = now() - t0;
	printf("transfers %d done %d failed %d seconds %.3f mib_per_s %.1f blksize %d window %d\n",
	    nx, done, nx - done, secs, done * (wantlen / 1048576.0) / secs, xs[0].bs, xs[0].ws);
	if (mismatch)
		fprintf(stderr, "tftp_load: %d transfer(s) got bytes that differ from %s\n", mismatch, argv[4]);
	return done == nx && !mismatch ? 0 : 1;
}
