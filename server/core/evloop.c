#include "core/evloop.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct fd_slot {
	ev_fd_fn fn;
	void *arg;
};

struct hook {
	ev_fn fn;
	void *arg;
};

struct evloop {
	int epfd;
	struct fd_slot *fds;       /* indexed by descriptor */
	int nfds;
	struct ev_timer **heap;
	int nheap, capheap;
	struct hook *hooks;
	int nhooks;
	uint64_t now;
	bool stop;
	/* The big lock (evloop.h): held by the loop's thread except while
	 * it waits in epoll_wait; taken by other threads around their
	 * callbacks into the daemon's state. */
	pthread_mutex_t big;
	pthread_t owner;
	int wakefd;             /* eventfd: another thread wants a turn */
};

static void
on_wake(int fd, uint32_t events, void *arg)
{
	uint64_t n;

	(void)events;
	(void)arg;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		log_debug("evloop: wake: %s", strerror(errno));
}

struct evloop *
ev_new(void)
{
	struct evloop *loop = ecalloc(1, sizeof *loop);

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wakefd < 0 || ev_add_fd(loop, loop->wakefd, EPOLLIN, on_wake, loop) < 0) {
		if (loop->wakefd >= 0)
			close(loop->wakefd);
		close(loop->epfd);
		free(loop->fds);
		free(loop);
		return NULL;
	}
	pthread_mutex_init(&loop->big, NULL);
	pthread_mutex_lock(&loop->big);
	loop->owner = pthread_self();
	loop->now = mono_ms();
	return loop;
}

void
ev_lock(struct evloop *loop)
{
	pthread_mutex_lock(&loop->big);
	/* The loop may have slept for a while: the time this caller's
	 * work sees is now, not the loop's last turn. */
	loop->now = mono_ms();
}

void
ev_unlock(struct evloop *loop)
{
	pthread_mutex_unlock(&loop->big);
}

void
ev_wake(struct evloop *loop)
{
	uint64_t one = 1;

	if (write(loop->wakefd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_debug("evloop: wake: %s", strerror(errno));
}

bool
ev_on_loop_thread(const struct evloop *loop)
{
	return pthread_equal(loop->owner, pthread_self()) != 0;
}

void
ev_free(struct evloop *loop)
{
	if (loop == NULL)
		return;
	pthread_mutex_unlock(&loop->big);
	pthread_mutex_destroy(&loop->big);
	close(loop->wakefd);
	close(loop->epfd);
	free(loop->fds);
	free(loop->heap);
	free(loop->hooks);
	free(loop);
}

int
ev_add_fd(struct evloop *loop, int fd, uint32_t events, ev_fd_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (fd < 0)
		return -1;
	if (fd >= loop->nfds) {
		int n = MAX(fd + 1, loop->nfds * 2);
		loop->fds = erealloc(loop->fds, (size_t)n * sizeof *loop->fds);
		memset(loop->fds + loop->nfds, 0,
		    (size_t)(n - loop->nfds) * sizeof *loop->fds);
		loop->nfds = n;
	}
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	loop->fds[fd].fn = fn;
	loop->fds[fd].arg = arg;
	return 0;
}

int
ev_mod_fd(struct evloop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void
ev_del_fd(struct evloop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nfds)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->fds[fd].fn = NULL;
	loop->fds[fd].arg = NULL;
}

/* Timer heap: a min-heap on `when`, each timer knowing its slot so that
 * stop and re-arm are O(log n). */

static void
heap_set(struct evloop *loop, int i, struct ev_timer *t)
{
	loop->heap[i] = t;
	t->slot = i;
}

static void
heap_up(struct evloop *loop, int i)
{
	struct ev_timer *t = loop->heap[i];

	while (i > 0) {
		int parent = (i - 1) / 2;
		if (loop->heap[parent]->when <= t->when)
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void
heap_down(struct evloop *loop, int i)
{
	struct ev_timer *t = loop->heap[i];

	for (;;) {
		int c = 2 * i + 1;
		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap && loop->heap[c + 1]->when < loop->heap[c]->when)
			c++;
		if (loop->heap[c]->when >= t->when)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void
ev_timer_init(struct ev_timer *t, ev_fn fn, void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->slot = -1;
	t->when = 0;
	t->inited = true;
}

bool
ev_timer_armed(const struct ev_timer *t)
{
	return t->inited && t->slot >= 0;
}

void
ev_timer_stop(struct evloop *loop, struct ev_timer *t)
{
	int i = t->slot;

	if (!ev_timer_armed(t))
		return;
	t->slot = -1;
	loop->nheap--;
	if (i == loop->nheap)
		return;
	heap_set(loop, i, loop->heap[loop->nheap]);
	heap_up(loop, i);
	heap_down(loop, loop->heap[i]->slot);
}

void
ev_timer_arm(struct evloop *loop, struct ev_timer *t, uint64_t delay_ms)
{
	ev_timer_stop(loop, t);
	t->when = mono_ms() + delay_ms;
	if (loop->nheap == loop->capheap) {
		loop->capheap = loop->capheap ? loop->capheap * 2 : 64;
		loop->heap = erealloc(loop->heap,
		    (size_t)loop->capheap * sizeof *loop->heap);
	}
	heap_set(loop, loop->nheap++, t);
	heap_up(loop, t->slot);
	/* From another thread (under the big lock): the loop may be asleep
	 * with a deadline computed before this timer existed. */
	if (!ev_on_loop_thread(loop))
		ev_wake(loop);
}

void
ev_add_turn_hook(struct evloop *loop, ev_fn fn, void *arg)
{
	loop->hooks = erealloc(loop->hooks, (size_t)(loop->nhooks + 1) * sizeof *loop->hooks);
	loop->hooks[loop->nhooks].fn = fn;
	loop->hooks[loop->nhooks].arg = arg;
	loop->nhooks++;
}

void
ev_del_turn_hook(struct evloop *loop, ev_fn fn, void *arg)
{
	for (int i = 0; i < loop->nhooks; i++)
		if (loop->hooks[i].fn == fn && loop->hooks[i].arg == arg) {
			memmove(&loop->hooks[i], &loop->hooks[i + 1],
			    (size_t)(loop->nhooks - i - 1) * sizeof *loop->hooks);
			loop->nhooks--;
			return;
		}
}

uint64_t
ev_now(struct evloop *loop)
{
	return loop->now;
}

void
ev_stop(struct evloop *loop)
{
	loop->stop = true;
}

static int
next_timeout(struct evloop *loop, int cap)
{
	if (loop->nheap == 0)
		return cap;
	uint64_t now = mono_ms();
	uint64_t when = loop->heap[0]->when;
	int64_t wait = when > now ? (int64_t)(when - now) : 0;
	if (cap >= 0 && wait > cap)
		return cap;
	return (int)MIN(wait, 60000);
}

static void
run_timers(struct evloop *loop)
{
	/* Bounded: a timer re-armed with zero delay runs again next turn. */
	int budget = loop->nheap;

	while (loop->nheap > 0 && budget-- > 0) {
		struct ev_timer *t = loop->heap[0];
		if (t->when > loop->now)
			break;
		ev_timer_stop(loop, t);
		t->fn(t->arg);
	}
}

int
ev_run_once(struct evloop *loop, int timeout_ms)
{
	struct epoll_event evs[64];
	int timeout = next_timeout(loop, timeout_ms);

	pthread_mutex_unlock(&loop->big);
	int n = epoll_wait(loop->epfd, evs, (int)nelem(evs), timeout);
	int err = errno;
	pthread_mutex_lock(&loop->big);
	if (n < 0 && err != EINTR) {
		errno = err;
		return -1;
	}
	loop->now = mono_ms();
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		/* An earlier handler this turn may have closed this one. */
		if (fd < loop->nfds && loop->fds[fd].fn)
			loop->fds[fd].fn(fd, evs[i].events, loop->fds[fd].arg);
	}
	loop->now = mono_ms();
	run_timers(loop);
	for (int i = 0; i < loop->nhooks; i++)
		loop->hooks[i].fn(loop->hooks[i].arg);
	return 0;
}

int
ev_run(struct evloop *loop)
{
	loop->stop = false;
	while (!loop->stop)
		if (ev_run_once(loop, -1) < 0) {
			log_err("epoll_wait: %s", strerror(errno));
			return -1;
		}
	return 0;
}
