/* The boot timeline: every step a machine takes (DHCP, TFTP, HTTP, enroll,
 * 9P, auth) is one event, kept in a bounded ring and offered to listeners
 * (the HTTP server's SSE stream). Events are keyed by MAC so the API can
 * show one machine's timeline. */
#ifndef GRIDBOOT_EVENTS_H
#define GRIDBOOT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum evkind { EVK_SYSTEM, EVK_DHCP, EVK_TFTP, EVK_HTTP, EVK_ENROLL, EVK_9P, EVK_AUTH, EVK_POWER };

struct bootevent {
	uint64_t seq;           /* 1, 2, 3, ... never reused in one run */
	int64_t time_ms;        /* wall clock */
	uint8_t mac[6];
	bool has_mac;
	enum evkind kind;
	char text[240];
};

typedef void (*event_fn)(const struct bootevent *ev, void *arg);

void events_init(size_t capacity);
void events_shutdown(void);
/* mac may be NULL for events about no machine in particular. */
uint64_t events_emit(const uint8_t *mac, enum evkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Calls fn for each kept event with seq > after (oldest first), only for
 * mac when it is not NULL. Returns how many. */
size_t events_since(uint64_t after, const uint8_t *mac, event_fn fn, void *arg);
uint64_t events_last_seq(void);
int events_subscribe(event_fn fn, void *arg);
void events_unsubscribe(int id);
const char *events_kind_name(enum evkind k);

#endif
