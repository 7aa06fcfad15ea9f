#include "core/events.h"
#include "core/log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXLISTENERS 64

static struct bootevent *ring;
static size_t ring_cap, ring_len, ring_head;   /* head: next slot to write */
static uint64_t next_seq = 1;

static struct listener {
	event_fn fn;
	void *arg;
} listeners[MAXLISTENERS];

void
events_init(size_t capacity)
{
	free(ring);
	ring_cap = capacity ? capacity : 1;
	ring = ecalloc(ring_cap, sizeof *ring);
	ring_len = ring_head = 0;
}

void
events_shutdown(void)
{
	free(ring);
	ring = NULL;
	ring_cap = ring_len = ring_head = 0;
	memset(listeners, 0, sizeof listeners);
}

const char *
events_kind_name(enum evkind k)
{
	static const char *const names[] = {
		[EVK_SYSTEM] = "system", [EVK_DHCP] = "dhcp", [EVK_TFTP] = "tftp",
		[EVK_HTTP] = "http", [EVK_ENROLL] = "enroll", [EVK_9P] = "9p",
		[EVK_AUTH] = "auth",
	};
	return (size_t)k < nelem(names) && names[k] ? names[k] : "?";
}

uint64_t
events_emit(const uint8_t *mac, enum evkind kind, const char *fmt, ...)
{
	struct bootevent *ev;
	va_list ap;

	if (ring == NULL)
		events_init(4096);
	ev = &ring[ring_head];
	memset(ev, 0, sizeof *ev);
	ev->seq = next_seq++;
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
	ring_head = (ring_head + 1) % ring_cap;
	if (ring_len < ring_cap)
		ring_len++;

	char m[18] = "-";
	if (mac)
		mac_format(mac, m);
	log_debug("event %s %s %s", events_kind_name(kind), m, ev->text);
	for (int i = 0; i < MAXLISTENERS; i++)
		if (listeners[i].fn)
			listeners[i].fn(ev, listeners[i].arg);
	return ev->seq;
}

size_t
events_since(uint64_t after, const uint8_t *mac, event_fn fn, void *arg)
{
	size_t n = 0;
	size_t start = (ring_head + ring_cap - ring_len) % (ring_cap ? ring_cap : 1);

	for (size_t i = 0; i < ring_len; i++) {
		const struct bootevent *ev = &ring[(start + i) % ring_cap];
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
	return next_seq - 1;
}

int
events_subscribe(event_fn fn, void *arg)
{
	for (int i = 0; i < MAXLISTENERS; i++)
		if (listeners[i].fn == NULL) {
			listeners[i].fn = fn;
			listeners[i].arg = arg;
			return i;
		}
	return -1;
}

void
events_unsubscribe(int id)
{
	if (id >= 0 && id < MAXLISTENERS)
		listeners[id].fn = NULL;
}
