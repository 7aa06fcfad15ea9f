/* DHCP load generator for bench/dhcp.sh: acts as a relay (giaddr = its own
 * address, source port 67) and runs full DISCOVER-OFFER-REQUEST-ACK
 * exchanges for N distinct MACs, keeping W exchanges in flight (closed
 * loop). Prints exchanges per second and latency percentiles of whole
 * DORA exchanges, so two servers can be compared by the same client.
 *   dhcp_load SERVER_IP LOCAL_IP CLIENTS WINDOW [MAC_BYTE] */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { IDLE, WAIT_OFFER, WAIT_ACK, DONE, FAILED };

struct cl {
	uint8_t state, tries;
	uint32_t yiaddr, server;
	double start, sent;
};

static struct cl *cl;
static int fd, nclients;
static uint32_t giaddr, xidbase = 0x5a000000;
static struct sockaddr_in srv;
static uint8_t macbyte;
static double last_reply, max_gap;     /* the longest wait between two replies */

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
send_msg(int i, uint8_t type)
{
	uint8_t p[300];
	size_t n = 240;

	memset(p, 0, sizeof p);
	p[0] = 1; p[1] = 1; p[2] = 6; p[3] = 1;
	uint32_t xid = htonl(xidbase + (uint32_t)i);
	memcpy(p + 4, &xid, 4);
	memcpy(p + 24, &giaddr, 4);
	p[28] = 0x02; p[29] = macbyte; p[30] = (uint8_t)(i >> 24);
	p[31] = (uint8_t)(i >> 16); p[32] = (uint8_t)(i >> 8); p[33] = (uint8_t)i;
	memcpy(p + 236, "\x63\x82\x53\x63", 4);
	p[n++] = 53; p[n++] = 1; p[n++] = type;
	if (type == 3) {
		uint32_t a = cl[i].yiaddr, s = cl[i].server;
		p[n++] = 50; p[n++] = 4; memcpy(p + n, &a, 4); n += 4;
		p[n++] = 54; p[n++] = 4; memcpy(p + n, &s, 4); n += 4;
	}
	p[n++] = 55; p[n++] = 3; p[n++] = 1; p[n++] = 3; p[n++] = 6;
	p[n++] = 255;
	if (n < 300)
		n = 300;
	sendto(fd, p, n, 0, (struct sockaddr *)&srv, sizeof srv);
	cl[i].sent = now();
}

static void
on_reply(const uint8_t *p, ssize_t n)
{
	uint32_t xid;
	int type = 0;
	uint32_t sid = 0;

	if (n < 244 || p[0] != 2)
		return;
	double t = now();
	if (last_reply > 0 && t - last_reply > max_gap)
		max_gap = t - last_reply;
	last_reply = t;
	memcpy(&xid, p + 4, 4);
	long i = (long)ntohl(xid) - (long)xidbase;
	if (i < 0 || i >= nclients)
		return;
	for (ssize_t k = 240; k + 1 < n && p[k] != 255;) {
		if (p[k] == 0) { k++; continue; }
		if (p[k] == 53) type = p[k + 2];
		if (p[k] == 54 && p[k + 1] == 4) memcpy(&sid, p + k + 2, 4);
		k += 2 + p[k + 1];
	}
	struct cl *c = &cl[i];
	if (c->state == WAIT_OFFER && type == 2) {
		memcpy(&c->yiaddr, p + 16, 4);
		c->server = sid;
		c->state = WAIT_ACK;
		c->tries = 0;
		send_msg((int)i, 3);
	} else if (c->state == WAIT_ACK && type == 5) {
		c->state = DONE;
		c->sent = now() - c->start;     /* reuse: the latency */
	} else if (c->state == WAIT_ACK && type == 6)
		c->state = FAILED;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: dhcp_load SERVER LOCAL CLIENTS WINDOW [MAC_BYTE]\n");
		return 2;
	}
	srv.sin_family = AF_INET;
	srv.sin_port = htons(67);
	inet_pton(AF_INET, argv[1], &srv.sin_addr);
	inet_pton(AF_INET, argv[2], &giaddr);
	nclients = atoi(argv[3]);
	int window = atoi(argv[4]), next = 0, inflight = 0, done = 0, failed = 0;
	macbyte = argc > 5 ? (uint8_t)strtol(argv[5], NULL, 0) : 0x42;
	cl = calloc((size_t)nclients, sizeof *cl);
	int *fl = calloc((size_t)window, sizeof *fl);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(67) };
	me.sin_addr.s_addr = giaddr;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int big = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
		perror("bind");
		return 1;
	}
	double t0 = now(), last = t0;
	while (done + failed < nclients) {
		/* Refill the window; retire finished slots. */
		for (int s = 0; s < inflight;) {
			struct cl *c = &cl[fl[s]];
			if (c->state == DONE || c->state == FAILED) {
				done += c->state == DONE;
				failed += c->state == FAILED;
				fl[s] = fl[--inflight];
				continue;
			}
			if (now() - c->sent > 1.0) {            /* retransmit, then give up */
				if (++c->tries > 3)
					c->state = FAILED;
				else
					send_msg(fl[s], c->state == WAIT_OFFER ? 1 : 3);
			}
			s++;
		}
		while (inflight < window && next < nclients) {
			cl[next].state = WAIT_OFFER;
			cl[next].start = now();
			fl[inflight++] = next;
			send_msg(next++, 1);
		}
		if (done + failed >= nclients)
			break;
		struct pollfd pfd = { fd, POLLIN, 0 };
		poll(&pfd, 1, 5);
		uint8_t buf[1500];
		ssize_t n;
		while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
			on_reply(buf, n);
		if (now() - last > 120) {
			fprintf(stderr, "dhcp_load: giving up after 120 s without finishing\n");
			break;
		}
	}
	double el = now() - t0;
	double *lat = calloc((size_t)nclients, sizeof *lat);
	int k = 0;
	for (int i = 0; i < nclients; i++)
		if (cl[i].state == DONE)
			lat[k++] = cl[i].sent * 1000;
	qsort(lat, (size_t)k, sizeof *lat, cmp);
	printf("clients %d done %d failed %d seconds %.2f dora_per_s %.0f p50_ms %.2f p99_ms %.2f max_gap_ms %.1f\n",
	    nclients, k, nclients - k, el, k / el, k ? lat[k / 2] : 0, k ? lat[k * 99 / 100] : 0,
	    max_gap * 1000);
	return 0;
}
