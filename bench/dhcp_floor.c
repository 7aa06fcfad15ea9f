/* The floor under bench/dhcp.sh: the least a DHCP server answering the
 * same client can do on this machine, measured in the same run as
 * gridbootd, Kea and dnsmasq, so their latencies can be read against it.
 *
 * It reads nothing but the message type, decides nothing (the address is
 * a counter's), keeps no table and builds the shortest reply the client
 * accepts, with the system calls a batching server needs: per turn one
 * recvmmsg of up to 64 datagrams and one sendmmsg of the OFFERs. ACKs:
 *   nosync  sent with the OFFERs: what this machine's network path costs
 *           a burst of clients before any server does any work;
 *   sync    held until their records are on disk, as gridbootd's
 *           (core/holdq.c): a line per REQUEST into a file padded ahead
 *           (core/journal.c), one fdatasync at a time in a thread while
 *           the loop goes on, the ACKs held meanwhile forming the next
 *           batch. gridbootd's design with none of its work.
 * Not a DHCP server: it answers any DISCOVER and REQUEST with an address
 * of its counter (an ACK's is not its OFFER's), which only
 * bench/dhcp_load.c, which does not look, accepts.
 *   dhcp_floor ADDR JOURNAL sync|nosync
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64                /* datagrams per recvmmsg, as gridbootd */
#define HOLD 256                /* ACKs held: the load keeps 64 in flight */
#define REPLY 300               /* the BOOTP minimum, as servers send */
#define PAD (1 << 20)

static uint8_t rx[BATCH][1500];
static struct sockaddr_in from[BATCH];
static struct mmsghdr rxm[BATCH];
static struct iovec rxv[BATCH];

/* Replies waiting to leave, each sent in one call. */
struct out {
	uint8_t buf[HOLD][REPLY];
	struct sockaddr_in to[HOLD];
	struct iovec iov[HOLD];
	struct mmsghdr m[HOLD];
	int n;
};
/* This turn's OFFERs; ACKs held this turn (or since the sync began);
 * ACKs whose sync is in flight (the two swap). */
static struct out offers, acks[2];
static struct out *held = &acks[0], *flying = &acks[1];

/* The sync thread: one fdatasync at a time, the loop hands it over. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int job_fd = -1, job_err, donefd;
static int inflight;

/* Option 53 of a request of len bytes, or 0. */
static int
msgtype(const uint8_t *p, size_t len)
{
	for (size_t k = 240; k < len && p[k] != 255;) {
		if (p[k] == 0) {
			k++;
			continue;
		}
		if (k + 1 >= len || k + 2 + p[k + 1] > len)
			return 0;
		if (p[k] == 53 && p[k + 1] == 1)
			return p[k + 2];
		k += 2 + p[k + 1];
	}
	return 0;
}

/* Builds the reply of type to request q (at least 240 bytes) into o;
 * false if o is full (the client asks again). */
static int
reply(struct out *o, const uint8_t *q, const struct sockaddr_in *to, int type,
    uint32_t yiaddr, const struct in_addr *me)
{
	if (o->n == HOLD)
		return 0;
	uint8_t *r = o->buf[o->n];
	size_t l = 240;
	uint32_t lease = htonl(3600);

	memcpy(r, q, 240);
	r[0] = 2;
	memcpy(r + 16, &yiaddr, 4);
	r[l++] = 53; r[l++] = 1; r[l++] = (uint8_t)type;
	r[l++] = 54; r[l++] = 4; memcpy(r + l, me, 4); l += 4;
	r[l++] = 51; r[l++] = 4; memcpy(r + l, &lease, 4); l += 4;
	r[l++] = 255;
	memset(r + l, 0, REPLY - l);
	o->to[o->n] = *to;
	o->iov[o->n] = (struct iovec){ r, REPLY };
	o->m[o->n] = (struct mmsghdr){ .msg_hdr = { .msg_name = &o->to[o->n],
	    .msg_namelen = sizeof o->to[0], .msg_iov = &o->iov[o->n], .msg_iovlen = 1 } };
	o->n++;
	return 1;
}

static void
send_all(int s, struct out *o)
{
	for (int k = 0; k < o->n;) {
		int n = sendmmsg(s, o->m + k, (unsigned)(o->n - k), 0);
		if (n <= 0) {
			perror("dhcp_floor: sendmmsg");     /* lost: the client resends */
			break;
		}
		k += n;
	}
	o->n = 0;
}

static void *
sync_main(void *arg)
{
	uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (job_fd < 0)
			pthread_cond_wait(&cv, &mu);
		int fd = job_fd;
		pthread_mutex_unlock(&mu);
		int err = fdatasync(fd) < 0 ? errno : 0;
		pthread_mutex_lock(&mu);
		job_fd = -1;
		job_err = err;
		if (write(donefd, &one, sizeof one) < 0)
			perror("dhcp_floor: eventfd");
	}
	return NULL;
}

/* The journal: records of the held ACKs, written when their sync starts. */
static int jf;
static char journal[HOLD * 32];
static size_t jlen;
static off_t jend;

/* Hands the held ACKs' sync to the thread, if none is in flight. */
static void
start_sync(void)
{
	if (inflight || held->n == 0)
		return;
	if (jend + (off_t)jlen > PAD)
		jend = 0;           /* a floor, not a record: wrap */
	if (pwrite(jf, journal, jlen, jend) != (ssize_t)jlen) {
		perror("dhcp_floor: pwrite");
		held->n = 0;
		jlen = 0;
		return;
	}
	jend += (off_t)jlen;
	jlen = 0;
	struct out *t = flying;     /* empty */
	flying = held;
	held = t;
	inflight = 1;
	pthread_mutex_lock(&mu);
	job_fd = jf;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

/* The sync in flight is over: its ACKs leave (or, if it failed, are
 * dropped), and what was held meanwhile starts its own. */
static void
sync_done(int s)
{
	uint64_t n;

	if (read(donefd, &n, sizeof n) < 0)
		return;
	pthread_mutex_lock(&mu);
	int err = job_err;
	pthread_mutex_unlock(&mu);
	if (err) {
		fprintf(stderr, "dhcp_floor: fdatasync: %s\n", strerror(err));
		flying->n = 0;
	} else
		send_all(s, flying);
	inflight = 0;
	start_sync();
}

int
main(int argc, char **argv)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(67) };
	static char pad[PAD];
	uint32_t next = 0;
	pthread_t th;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &me.sin_addr) != 1 ||
	    (strcmp(argv[3], "sync") != 0 && strcmp(argv[3], "nosync") != 0)) {
		fprintf(stderr, "usage: dhcp_floor ADDR JOURNAL sync|nosync\n");
		return 2;
	}
	int sync = strcmp(argv[3], "sync") == 0;
	int s = socket(AF_INET, SOCK_DGRAM, 0), big = 4 << 20;
	/* gridbootd's buffers (dhcp/dhcp.c), so that neither drops first. */
	if (s >= 0) {
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	}
	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof me) < 0) {
		perror("dhcp_floor: bind");
		return 1;
	}
	jf = open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	memset(pad, ' ', sizeof pad);
	if (jf < 0 || pwrite(jf, pad, sizeof pad, 0) != (ssize_t)sizeof pad || fsync(jf) < 0) {
		perror(argv[2]);
		return 1;
	}
	donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (donefd < 0 || (sync && pthread_create(&th, NULL, sync_main, NULL) != 0)) {
		perror("dhcp_floor: sync thread");
		return 1;
	}
	for (;;) {
		struct pollfd p[2] = { { s, POLLIN, 0 }, { donefd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			sync_done(s);
		if (!p[0].revents)
			continue;
		for (int i = 0; i < BATCH; i++) {
			rxv[i] = (struct iovec){ rx[i], sizeof rx[i] };
			rxm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
			    .msg_namelen = sizeof from[i], .msg_iov = &rxv[i], .msg_iovlen = 1 } };
		}
		int n = recvmmsg(s, rxm, BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			const uint8_t *q = rx[i];
			size_t len = rxm[i].msg_len;
			int type = len >= 240 && q[0] == 1 ? msgtype(q, len) : 0;
			/* 10.92.1.1 on, never a .0 or the broadcast. */
			uint32_t host = 0x0a5c0101u + next++ % 0xfd00u;
			uint32_t yiaddr = htonl(host);
			if (type == 1)
				reply(&offers, q, &from[i], 2, yiaddr, &me.sin_addr);
			else if (type == 3 && reply(sync ? held : &offers, q, &from[i], 5, yiaddr,
			    &me.sin_addr) && sync)
				jlen += (size_t)snprintf(journal + jlen, sizeof journal - jlen,
				    "B %02x%02x%02x%02x%02x%02x %08x\n",
				    q[28], q[29], q[30], q[31], q[32], q[33], host);
		}
		send_all(s, &offers);
		start_sync();
	}
}
