/* The closed loop the DHCP load generators share (bench/dhcp_load.c and
 * bench/dhcp6_load.c): N clients, each a two-step exchange (DISCOVER then
 * REQUEST, Solicit then Request), W of them in flight at once; a step not
 * answered within a second is sent again, and after three resends the
 * client has failed. Each generator writes and reads its own protocol
 * through two callbacks; the loop keeps time, the window, the retries and
 * the statistics (whole-exchange latencies, the longest wait between two
 * replies), so two servers are measured by the same client. */
#ifndef GRIDBOOT_BENCH_LOAD_COMMON_H
#define GRIDBOOT_BENCH_LOAD_COMMON_H

#include <stddef.h>
#include <stdint.h>

enum { LOAD_IDLE, LOAD_STEP1, LOAD_STEP2, LOAD_DONE, LOAD_FAILED };

struct load_client {
	uint8_t state, tries;
	double start, sent;         /* when the exchange and its last message began */
};

struct load {
	/* set by the caller */
	int fd, nclients, window;
	double give_up_s;           /* the whole run's bound */
	int poll_ms;                /* the longest wait for a reply, between retry checks */
	void (*send)(int i, int step);                  /* step 1 or 2 of client i */
	void (*reply)(const uint8_t *buf, size_t n);    /* one datagram from the server */
	/* kept by the loop */
	struct load_client *cl;
	double *lat;                /* seconds, one per finished exchange, sorted at the end */
	int nlat, done, failed;
	/* The same without the first window's exchanges: those meet a
	 * server that has served nobody yet (first touches, first sync), a
	 * cost paid once per start, which is 1.3 % of 5 000 clients and so
	 * would be the whole p99. Reported beside it, never instead. */
	double *steady;
	int nsteady;
	double seconds, max_gap, last_reply;
	int gave_up;                /* the bound ran out before every client ended */
};

double load_now(void);
/* Allocates the clients and latencies for l->nclients. */
void load_init(struct load *l);
/* Writes a byte of every page of p[0..n), so the first window does not
 * pay the client's page faults. */
void load_touch(void *p, size_t n);
/* Called by send: client i's message went now. */
void load_sent(struct load *l, int i);
/* Called by send instead of sendto: the datagram leaves with the others
 * of this pass of the loop, in one sendmmsg (one system call for a
 * window's messages, where a sendto each made the client's own work a
 * large part of the latency it measured, on the server's two cores). */
void load_send(struct load *l, const void *to, size_t tolen, const void *buf, size_t len);
/* Called by reply: client i moves to step 2 (and its message is sent),
 * finishes, or fails (a NAK). Ignored unless the client waits. */
void load_step2(struct load *l, int i);
void load_finish(struct load *l, int i);
void load_fail(struct load *l, int i);
/* Runs every client to its end (or the bound), then sorts the latencies. */
void load_run(struct load *l);
/* The latency at percentile pct (0..99) of the finished exchanges, in ms. */
double load_pct_ms(const struct load *l, int pct);
double load_steady_pct_ms(const struct load *l, int pct);

#endif
