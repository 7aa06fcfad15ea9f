/* The daemon's one event loop: epoll for descriptors, a binary heap of
 * monotonic timers, and hooks run at the end of every turn (where the DHCP
 * lease journal does its group commit). Nothing registered here may block. */
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
int ev_run(struct evloop *loop);        /* until ev_stop */
void ev_stop(struct evloop *loop);
/* One turn waiting at most timeout_ms (-1: until something happens). */
int ev_run_once(struct evloop *loop, int timeout_ms);

#endif
