#include "core/events.h"
#include "core/log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXLISTENERS 64

struct listener {
	event_fn fn;
	void *arg;
};

/* The timeline. One per process, deliberately: every module emits into
 * the one timeline the API, SSE and the grid tree read, and events_emit is
 * called from places that hold no daemon (the stores, the boot layer). Its
 * state is this one struct, set up by events_init and cleared by
 * events_shutdown. */
static struct {
	struct bootevent *ring;
	size_t ring_cap, ring_len, ring_head;   /* head: next slot to write */
	uint64_t next_seq;
	struct listener listeners[MAXLISTENERS];
} E = { .next_seq = 1 };

void
events_init(size_t capacity)
{
	free(E.ring);
	E.ring_cap = capacity ? capacity : 1;
	E.ring = ecalloc(E.ring_cap, sizeof *E.ring);
	/* Mapped now: filled as clients come, each new page of the ring
	 * was a fault in the middle of a burst. */
	prefault(E.ring, E.ring_cap * sizeof *E.ring);
	E.ring_len = E.ring_head = 0;
}

void
events_shutdown(void)
{
	free(E.ring);
	E.ring = NULL;
	E.ring_cap = E.ring_len = E.ring_head = 0;
	memset(E.listeners, 0, sizeof E.listeners);
}

const char *
events_kind_name(enum evkind k)
{
	static const char *const names[] = {
		[EVK_SYSTEM] = "system", [EVK_DHCP] = "dhcp", [EVK_TFTP] = "tftp",
		[EVK_HTTP] = "http", [EVK_ENROLL] = "enroll", [EVK_9P] = "9p",
		[EVK_AUTH] = "auth", [EVK_POWER] = "power",
	};
	return (size_t)k < nelem(names) && names[k] ? names[k] : "?";
}

uint64_t
events_emit(const uint8_t *mac, enum evkind kind, const char *fmt, ...)
{
	struct bootevent *ev;
	va_list ap;

	if (E.ring == NULL)
		events_init(4096);
	ev = &E.ring[E.ring_head];
	memset(ev, 0, sizeof *ev);
	ev->seq = E.next_seq++;
	ev->time_ms = wall_ms();
	ev->kind = kind;
	if (mac) {
		memcpy(ev->mac, mac, 6);
		ev->has_mac = true;
	}
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof ev->text, fmt, ap);
	va_end(ap);
	/* Text from clients (paths, facts) may hold newlines or bytes that
	 * are not UTF-8: the API and the event stream would lose the event
	 * (jansson refuses it) or send "data: (null)". */
	str_sanitize(ev->text);
	E.ring_head = (E.ring_head + 1) % E.ring_cap;
	if (E.ring_len < E.ring_cap)
		E.ring_len++;

	char m[18] = "-";
	if (mac)
		mac_format(mac, m);
	log_debug("event %s %s %s", events_kind_name(kind), m, ev->text);
	for (int i = 0; i < MAXLISTENERS; i++)
		if (E.listeners[i].fn)
			E.listeners[i].fn(ev, E.listeners[i].arg);
	return ev->seq;
}

size_t
events_since(uint64_t after, const uint8_t *mac, event_fn fn, void *arg)
{
	size_t n = 0;
	size_t start = (E.ring_head + E.ring_cap - E.ring_len) % (E.ring_cap ? E.ring_cap : 1);

	for (size_t i = 0; i < E.ring_len; i++) {
		const struct bootevent *ev = &E.ring[(start + i) % E.ring_cap];
		if (ev->seq <= after)
			continue;
		if (mac && (!ev->has_mac || memcmp(ev->mac, mac, 6) != 0))
			continue;
		fn(ev, arg);
		n++;
	}
	return n;
}

uint64_t
events_last_seq(void)
{
	return E.next_seq - 1;
}

int
events_subscribe(event_fn fn, void *arg)
{
	for (int i = 0; i < MAXLISTENERS; i++)
		if (E.listeners[i].fn == NULL) {
			E.listeners[i].fn = fn;
			E.listeners[i].arg = arg;
			return i;
		}
	return -1;
}

void
events_unsubscribe(int id)
{
	if (id >= 0 && id < MAXLISTENERS)
		E.listeners[id].fn = NULL;
}
