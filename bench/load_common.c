/* The closed loop and statistics of the DHCP load generators
 * (load_common.h). */
#define _GNU_SOURCE
#include "load_common.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* The datagrams of one pass, sent by flush. One process, one loop. */
#define QMAX 256
#define QMSG 1024
static uint8_t qbuf[QMAX][QMSG];
static struct sockaddr_storage qto[QMAX];
static struct mmsghdr qm[QMAX];
static struct iovec qiov[QMAX];
static int nq;
/* Replies, up to RX per recvmmsg. */
#define RX 64
static uint8_t rxbuf[RX][4096];

double
load_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
load_init(struct load *l)
{
	l->cl = calloc((size_t)l->nclients, sizeof *l->cl);
	l->lat = calloc((size_t)l->nclients, sizeof *l->lat);
	if (l->cl == NULL || l->lat == NULL)
		abort();
	/* Written once now: the first window's latencies must not include
	 * the client's own page faults (a fault per buffer page, costly in
	 * a VM, in the first sends and receives). */
	load_touch(l->cl, (size_t)l->nclients * sizeof *l->cl);
	load_touch(l->lat, (size_t)l->nclients * sizeof *l->lat);
	load_touch(qbuf, sizeof qbuf);
	load_touch(qm, sizeof qm);
	load_touch(rxbuf, sizeof rxbuf);
}

void
load_touch(void *p, size_t n)
{
	/* Volatile: a memset of zeros after calloc is one the compiler may
	 * drop. */
	volatile uint8_t *b = p;

	for (size_t i = 0; i < n; i += 4096)
		b[i] = b[i];
}

void
load_sent(struct load *l, int i)
{
	l->cl[i].sent = load_now();
}


static void
flush(struct load *l)
{
	for (int k = 0; k < nq;) {
		int n = sendmmsg(l->fd, qm + k, (unsigned)(nq - k), 0);
		if (n <= 0) {
			/* Lost, as a datagram may be: the resend covers it. */
			perror("load: sendmmsg");
			break;
		}
		k += n;
	}
	nq = 0;
}

void
load_send(struct load *l, const void *to, size_t tolen, const void *buf, size_t len)
{
	if (len > QMSG || tolen > sizeof qto[0])
		abort();
	if (nq == QMAX)
		flush(l);
	memcpy(qbuf[nq], buf, len);
	memcpy(&qto[nq], to, tolen);
	qiov[nq] = (struct iovec){ qbuf[nq], len };
	qm[nq] = (struct mmsghdr){ .msg_hdr = { .msg_name = &qto[nq], .msg_namelen = (socklen_t)tolen,
	    .msg_iov = &qiov[nq], .msg_iovlen = 1 } };
	nq++;
}

void
load_step2(struct load *l, int i)
{
	if (l->cl[i].state != LOAD_STEP1)
		return;
	l->cl[i].state = LOAD_STEP2;
	l->cl[i].tries = 0;
	l->send(i, 2);
}

void
load_finish(struct load *l, int i)
{
	struct load_client *c = &l->cl[i];
	if (c->state != LOAD_STEP1 && c->state != LOAD_STEP2)
		return;
	c->state = LOAD_DONE;
	l->lat[l->nlat++] = load_now() - c->start;
	l->done++;
}

void
load_fail(struct load *l, int i)
{
	struct load_client *c = &l->cl[i];
	if (c->state != LOAD_STEP1 && c->state != LOAD_STEP2)
		return;
	c->state = LOAD_FAILED;
	l->failed++;
}

/* Retires the ended clients of the window; sends a late step again, or
 * fails its client after three resends. */
static void
tend(struct load *l, int *fl, int *inflight)
{
	double t = load_now();

	for (int s = 0; s < *inflight;) {
		struct load_client *c = &l->cl[fl[s]];
		if (c->state == LOAD_STEP1 || c->state == LOAD_STEP2) {
			if (t - c->sent <= 1.0) {
				s++;
				continue;
			}
			if (++c->tries <= 3) {
				l->send(fl[s], c->state == LOAD_STEP1 ? 1 : 2);
				s++;
				continue;
			}
			load_fail(l, fl[s]);
		}
		fl[s] = fl[--*inflight];
	}
}

/* Every datagram waiting, to the protocol, up to 64 per recvmmsg; the
 * gap between two batches kept. What the replies make the client send
 * leaves at the end, together. */
static void
receive(struct load *l)
{
	struct mmsghdr m[RX];
	struct iovec iov[RX];
	struct pollfd pfd = { l->fd, POLLIN, 0 };
	int n;

	if (poll(&pfd, 1, l->poll_ms) <= 0)
		return;
	do {
		memset(m, 0, sizeof m);
		for (int i = 0; i < RX; i++) {
			iov[i] = (struct iovec){ rxbuf[i], sizeof rxbuf[i] };
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(l->fd, m, RX, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		double t = load_now();
		if (l->last_reply > 0 && t - l->last_reply > l->max_gap)
			l->max_gap = t - l->last_reply;
		l->last_reply = t;
		for (int i = 0; i < n; i++)
			l->reply(rxbuf[i], m[i].msg_len);
	} while (n == RX);
	flush(l);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void
load_run(struct load *l)
{
	int *fl = calloc((size_t)l->window, sizeof *fl);
	int next = 0, inflight = 0;
	double t0 = load_now();

	if (fl == NULL)
		abort();
	while (l->done + l->failed < l->nclients) {
		if (load_now() - t0 > l->give_up_s) {
			l->gave_up = 1;
			break;
		}
		tend(l, fl, &inflight);
		while (inflight < l->window && next < l->nclients) {
			l->cl[next].state = LOAD_STEP1;
			l->cl[next].start = load_now();
			fl[inflight++] = next;
			l->send(next++, 1);
		}
		flush(l);
		if (l->done + l->failed >= l->nclients)
			break;
		receive(l);
	}
	l->seconds = load_now() - t0;
	/* In finish order still: everything after the first window. */
	l->nsteady = l->nlat > l->window ? l->nlat - l->window : 0;
	l->steady = malloc(((size_t)l->nsteady + 1) * sizeof *l->steady);
	if (l->steady == NULL)
		abort();
	memcpy(l->steady, l->lat + (l->nlat - l->nsteady), (size_t)l->nsteady * sizeof *l->steady);
	qsort(l->steady, (size_t)l->nsteady, sizeof *l->steady, cmp);
	qsort(l->lat, (size_t)l->nlat, sizeof *l->lat, cmp);
	free(fl);
}

double
load_pct_ms(const struct load *l, int pct)
{
	return l->nlat ? l->lat[l->nlat * pct / 100] * 1000 : 0;
}

double
load_steady_pct_ms(const struct load *l, int pct)
{
	return l->nsteady ? l->steady[l->nsteady * pct / 100] * 1000 : 0;
}
