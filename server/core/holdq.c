/* Replies held until the journal is durable (see holdq.h). */
#include "core/holdq.h"
#include "core/evloop.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* At most this many replies wait for one sync. A turn reads at most 64
 * datagrams a socket, so a turn fills it only with many sockets busy;
 * then the sync comes early rather than the memory growing. The slots are
 * allocated as they are first used. */
#define HOLDQ_MAX 2048

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)
/* After a failed fdatasync the next waits this long: a dead disk must
 * not turn the loop into a spin of failing syncs. */
#define RETRY_MS 100
/* Slots each batch starts with: one turn's recvmmsg of requests. */
#define WARM_SLOTS 64

/* Held replies: each slot is len (size_t), dest, reply. */
struct batch {
	uint8_t *slots;
	size_t n, cap;
};

struct holdq {
	struct evloop *loop;
	const struct holdq_ops *ops;
	void *arg;
	uint64_t *syncs, *drops;
	size_t maxlen, destlen, stride;
	struct batch cur;           /* held this turn (or since the sync began) */
	struct batch fly;           /* waiting for the sync in flight */
	bool inflight;
	bool async;                 /* the flight is the owner's (HOLDQ_ASYNC) */
	/* The sync thread: one job at a time, the loop hands it over. */
	pthread_t thread;
	bool started, quit;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int job_fd;                 /* descriptor to fdatasync; -1: none */
	bool job_done;
	int job_err;
	int donefd;                 /* eventfd: the thread finished a job */
	struct ev_timer retry;      /* the next sync after a failed one */
	struct ev_timer start;      /* the thread's start, at the first loop turn */
};

static uint8_t *
at(const struct holdq *q, const struct batch *b, size_t i)
{
	return b->slots + i * q->stride;
}

/* Sends (or, after a failed sync, drops) every reply of b, in order. */
static void
release(struct holdq *q, struct batch *b, int rc)
{
	for (size_t i = 0; i < b->n; i++) {
		uint8_t *s = at(q, b, i);
		if (rc == 0)
			q->ops->send(q->arg, s + 16, s + 16 + ALIGN16(q->destlen), *(size_t *)s);
		else if (q->drops)
			(*q->drops)++;
	}
	b->n = 0;
}

static void *
sync_main(void *arg)
{
	struct holdq *q = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->quit && q->job_fd < 0)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->job_fd < 0)
			break;      /* quit, and nothing left to sync */
		int fd = q->job_fd;
		pthread_mutex_unlock(&q->mu);
		int err = fdatasync(fd) < 0 ? errno : 0;
		pthread_mutex_lock(&q->mu);
		q->job_fd = -1;
		q->job_err = err;
		q->job_done = true;
		pthread_cond_broadcast(&q->cv);
		if (write(q->donefd, &one, sizeof one) < 0 && errno != EAGAIN)
			break;
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* The sync in flight is over: its batch goes out (or is dropped). */
static void
finish_flight(struct holdq *q)
{
	int err;

	pthread_mutex_lock(&q->mu);
	err = q->job_err;
	q->job_done = false;
	pthread_mutex_unlock(&q->mu);
	q->inflight = false;
	int rc = q->ops->sync_end(q->arg, err);
	release(q, &q->fly, rc);
	if (rc < 0)
		ev_timer_arm(q->loop, &q->retry, RETRY_MS);
}

static void
wait_flight(struct holdq *q)
{
	if (!q->inflight)
		return;
	/* An owner's flight (a database's commit) cannot be waited for on
	 * the loop: its replies are dropped (the clients ask again), and its
	 * late holdq_sync_done is ignored. */
	if (q->async) {
		q->async = false;
		q->job_err = ECANCELED;
		finish_flight(q);
		return;
	}
	pthread_mutex_lock(&q->mu);
	while (!q->job_done)
		pthread_cond_wait(&q->cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
	finish_flight(q);
}

static bool
pending(struct holdq *q)
{
	return q->cur.n > 0 || q->ops->dirty(q->arg);
}

/* Syncs and releases the current batch on the loop's thread. */
static void
commit_inline(struct holdq *q)
{
	if (!pending(q))
		return;
	if (q->syncs)
		(*q->syncs)++;
	release(q, &q->cur, q->ops->sync(q->arg));
}

static void start_flight(struct holdq *q);

static void
on_done(int fd, uint32_t events, void *arg)
{
	struct holdq *q = arg;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		log_debug("holdq: %s", strerror(errno));
	pthread_mutex_lock(&q->mu);
	bool done = q->job_done;
	pthread_mutex_unlock(&q->mu);
	if (!q->inflight || !done)
		return;
	finish_flight(q);
	/* What was held meanwhile is written already: its sync starts now. */
	start_flight(q);
}

static bool
start_thread(struct holdq *q)
{
	if (q->started)
		return true;
	q->donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->donefd < 0)
		return false;
	if (ev_add_fd(q->loop, q->donefd, EPOLLIN, on_done, q) < 0 ||
	    pthread_create(&q->thread, NULL, sync_main, q) != 0) {
		ev_del_fd(q->loop, q->donefd);
		close(q->donefd);
		q->donefd = -1;
		return false;
	}
	q->started = true;
	return true;
}

/* Hands the current batch's sync to the thread; inline if it cannot. */
static void
start_flight(struct holdq *q)
{
	int fd;

	if (q->inflight || ev_timer_armed(&q->retry) || !pending(q))
		return;
	if (q->ops->sync_begin == NULL) {
		commit_inline(q);
		return;
	}
	errno = 0;
	if ((fd = q->ops->sync_begin(q->arg)) < 0 && fd != HOLDQ_ASYNC) {
		/* The records could not even be written (the owner logged
		 * why): the batch is dropped, and the next try waits, as
		 * after a failed fdatasync. */
		int err = errno ? errno : EIO;
		release(q, &q->cur, q->ops->sync_end(q->arg, err));
		ev_timer_arm(q->loop, &q->retry, RETRY_MS);
		return;
	}
	if (fd >= 0 && !start_thread(q)) {
		int err = fdatasync(fd) < 0 ? errno : 0;
		if (q->syncs)
			(*q->syncs)++;
		release(q, &q->cur, q->ops->sync_end(q->arg, err));
		return;
	}
	if (q->syncs)
		(*q->syncs)++;
	struct batch t = q->fly;    /* empty: swap the buffers */
	q->fly = q->cur;
	q->cur = t;
	q->inflight = true;
	if (fd == HOLDQ_ASYNC) {
		q->async = true;
		return;
	}
	pthread_mutex_lock(&q->mu);
	q->job_fd = fd;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void
turn(void *arg)
{
	start_flight(arg);
}

static void
on_retry(void *arg)
{
	start_flight(arg);
}

/* The sync thread starts at the first loop turn, as HTTP's and power's
 * threads do: after the detaching fork (which keeps only the calling
 * thread) and the privilege drop (which no thread may meet), and before
 * the first client, who would otherwise wait for the clone. */
static void
on_start(void *arg)
{
	struct holdq *q = arg;

	if (!start_thread(q))
		log_debug("holdq: no sync thread yet (the first sync tries again): %s",
		    strerror(errno));
}

struct holdq *
holdq_new(struct evloop *loop, size_t maxlen, size_t destlen, const struct holdq_ops *ops,
    void *arg, uint64_t *syncs, uint64_t *drops)
{
	struct holdq *q = ecalloc(1, sizeof *q);

	q->loop = loop;
	q->ops = ops;
	q->arg = arg;
	q->syncs = syncs;
	q->drops = drops;
	q->maxlen = maxlen;
	q->destlen = destlen;
	q->stride = 16 + ALIGN16(destlen) + ALIGN16(maxlen);
	q->job_fd = q->donefd = -1;
	ev_timer_init(&q->retry, on_retry, q);
	ev_timer_init(&q->start, on_start, q);
	if (ops->sync_begin)
		ev_timer_arm(loop, &q->start, 0);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	ev_add_turn_hook(loop, turn, q);
	/* Room for a turn's worth of replies in both batches, mapped before
	 * the first client (who otherwise waited for a page fault per slot). */
	struct batch *both[] = { &q->cur, &q->fly };
	for (size_t i = 0; i < nelem(both); i++) {
		struct batch *b = both[i];
		b->cap = WARM_SLOTS;
		b->slots = emalloc(b->cap * q->stride);
		prefault(b->slots, b->cap * q->stride);
	}
	return q;
}

void
holdq_free(struct holdq *q)
{
	if (q == NULL)
		return;
	holdq_commit(q);
	if (q->started) {
		pthread_mutex_lock(&q->mu);
		q->quit = true;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->thread, NULL);
		ev_del_fd(q->loop, q->donefd);
		close(q->donefd);
	}
	ev_del_turn_hook(q->loop, turn, q);
	ev_timer_stop(q->loop, &q->retry);
	ev_timer_stop(q->loop, &q->start);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->cur.slots);
	free(q->fly.slots);
	free(q);
}

void
holdq_sync_done(struct holdq *q, int err)
{
	if (!q->inflight || !q->async)
		return;
	q->async = false;
	pthread_mutex_lock(&q->mu);
	q->job_err = err;
	pthread_mutex_unlock(&q->mu);
	finish_flight(q);
	start_flight(q);
}

uint8_t *
holdq_slot(struct holdq *q, void **dest)
{
	struct batch *b = &q->cur;

	/* Full with no commit out (a failed one's retry delay, say): start
	 * it now rather than sync inline, which a database cannot do. */
	if (b->n == HOLDQ_MAX && !q->inflight && q->ops->sync_begin) {
		ev_timer_stop(q->loop, &q->retry);
		start_flight(q);
	}
	/* Full while the owner's commit is out: these wait no longer (a
	 * database slower than the clients must not grow the queue). */
	if (b->n == HOLDQ_MAX && q->async)
		release(q, b, -1);
	else if (b->n == HOLDQ_MAX)
		holdq_commit(q);
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->slots = erealloc(b->slots, b->cap * q->stride);
	}
	*dest = at(q, b, b->n) + 16;
	return at(q, b, b->n) + 16 + ALIGN16(q->destlen);
}

void
holdq_hold(struct holdq *q, size_t len)
{
	*(size_t *)at(q, &q->cur, q->cur.n) = len;
	q->cur.n++;
}

void
holdq_commit(struct holdq *q)
{
	wait_flight(q);
	commit_inline(q);
}
