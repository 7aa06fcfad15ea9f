/* The daemon's one event loop: epoll for descriptors, a binary heap of
 * monotonic timers, and hooks run at the end of every turn (where the DHCP
 * lease journal does its group commit). Nothing registered here may block.
 *
 * The big lock: the thread that made the loop holds it from ev_new to
 * ev_free, except while ev_run_once waits in epoll_wait. A thread of
 * another module's own (HTTP's workers) takes it with ev_lock around each
 * call into the daemon's state, so all that state is still touched by one
 * thread at a time and needs no lock of its own; only the work outside
 * the daemon's state (a worker's socket I/O and parsing) runs in
 * parallel. Such a thread that leaves work for the loop (a timer armed,
 * a write to be committed) calls ev_wake; ev_timer_arm does it itself. */
#ifndef GRIDBOOT_EVLOOP_H
#define GRIDBOOT_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct evloop;

typedef void (*ev_fd_fn)(int fd, uint32_t events, void *arg);
typedef void (*ev_fn)(void *arg);

/* Timers live inside their owner (no allocation per timer). Zero-initialise
 * before first use. */
struct ev_timer {
	uint64_t when;      /* monotonic ms */
	ev_fn fn;
	void *arg;
	int slot;           /* index in the heap, -1 when not armed */
	bool inited;
};

struct evloop *ev_new(void);
void ev_free(struct evloop *loop);

int ev_add_fd(struct evloop *loop, int fd, uint32_t events, ev_fd_fn fn, void *arg);
int ev_mod_fd(struct evloop *loop, int fd, uint32_t events);
void ev_del_fd(struct evloop *loop, int fd);

void ev_timer_init(struct ev_timer *t, ev_fn fn, void *arg);
void ev_timer_arm(struct evloop *loop, struct ev_timer *t, uint64_t delay_ms);
void ev_timer_stop(struct evloop *loop, struct ev_timer *t);
bool ev_timer_armed(const struct ev_timer *t);

/* Called after every turn's events and timers, in registration order. */
void ev_add_turn_hook(struct evloop *loop, ev_fn fn, void *arg);
/* Removes the hook added with fn and arg (before arg is freed); not from
 * inside a hook. */
void ev_del_turn_hook(struct evloop *loop, ev_fn fn, void *arg);

uint64_t ev_now(struct evloop *loop);   /* cached monotonic ms of this turn */

/* For threads other than the loop's (above). ev_lock refreshes ev_now. */
void ev_lock(struct evloop *loop);
void ev_unlock(struct evloop *loop);
void ev_wake(struct evloop *loop);       /* any thread, no lock needed */
bool ev_on_loop_thread(const struct evloop *loop);
int ev_run(struct evloop *loop);        /* until ev_stop */
void ev_stop(struct evloop *loop);
/* One turn waiting at most timeout_ms (-1: until something happens). */
int ev_run_once(struct evloop *loop, int timeout_ms);

#endif
