#include "boot/machstate.h"
#include "core/events.h"
#include "core/hash.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* An open-addressing table MAC -> last event, so the state of thousands
 * of machines costs one lookup. */
struct entry {
	uint8_t mac[6];
	bool used;
	enum evkind kind;
	int64_t when;
};

/* The states: one table per process, deliberately, as the timeline it
 * follows is (core/events.c); set up by machstate_init, freed by
 * machstate_shutdown. */
static struct {
	struct entry *tab;
	size_t cap, n;
	int subscription;
	machstate_known_fn *known;
	void *arg;
} M = { .subscription = -1 };

static size_t
mac_hash(const uint8_t mac[6])
{
	uint64_t h = fnv64(mac, 6);

	return (size_t)(h ^ (h >> 29));
}

static struct entry *
slot(const uint8_t mac[6], bool add)
{
	if (M.cap == 0)
		return NULL;
	for (size_t i = mac_hash(mac) & (M.cap - 1);; i = (i + 1) & (M.cap - 1)) {
		struct entry *e = &M.tab[i];
		if (!e->used) {
			if (!add)
				return NULL;
			e->used = true;
			memcpy(e->mac, mac, 6);
			M.n++;
			return e;
		}
		if (memcmp(e->mac, mac, 6) == 0)
			return e;
	}
}

/* Rebuilds the table at cap slots, keeping the entries keep() accepts. */
static void
rehash(size_t cap, bool prune)
{
	struct entry *old = M.tab;
	size_t oldcap = M.cap;

	M.cap = cap;
	M.tab = ecalloc(cap, sizeof *M.tab);
	M.n = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].used && (!prune || M.known(old[i].mac, M.arg)))
			*slot(old[i].mac, true) = old[i];
	free(old);
}

static void
on_event(const struct bootevent *ev, void *arg)
{
	struct entry *e;

	(void)arg;
	/* A power event says what the BMC did, not what the machine booted. */
	if (!ev->has_mac || ev->kind == EVK_SYSTEM || ev->kind == EVK_POWER)
		return;
	if ((e = slot(ev->mac, false)) == NULL) {
		if (!M.known(ev->mac, M.arg))
			return;
		if ((M.n + 1) * 10 > M.cap * 7)
			rehash(M.cap * 2, false);
		e = slot(ev->mac, true);
	}
	e->kind = ev->kind;
	e->when = ev->time_ms;
}

void
machstate_init(machstate_known_fn *known, void *arg)
{
	M.known = known;
	M.arg = arg;
	if (M.tab == NULL)
		rehash(256, false);
	if (M.subscription < 0)
		M.subscription = events_subscribe(on_event, NULL);
}

void
machstate_shutdown(void)
{
	events_unsubscribe(M.subscription);
	M.subscription = -1;
	free(M.tab);
	M.tab = NULL;
	M.cap = M.n = 0;
}

void
machstate_prune(void)
{
	if (M.tab)
		rehash(M.cap, true);
}

static const char *
state_name(const struct entry *e)
{
	switch (e->kind) {
	case EVK_DHCP:
	case EVK_TFTP:
	case EVK_HTTP:
		return "booting";
	default:
		return "up";
	}
}

const char *
machstate_get(const uint8_t mac[6], int64_t *last_ms)
{
	struct entry *e = slot(mac, false);

	if (e == NULL)
		return NULL;
	if (last_ms)
		*last_ms = e->when;
	return state_name(e);
}

void
machstate_foreach(machstate_each_fn *fn, void *arg)
{
	for (size_t i = 0; i < M.cap; i++)
		if (M.tab[i].used)
			fn(M.tab[i].mac, state_name(&M.tab[i]), arg);
}

size_t
machstate_count(void)
{
	return M.n;
}

static bool
running(enum evkind k)
{
	return k == EVK_9P || k == EVK_AUTH || k == EVK_ENROLL;
}

static void
step_event(const struct bootevent *ev, void *arg)
{
	int64_t *ms = arg;
	bool fetch = ev->kind == EVK_TFTP || ev->kind == EVK_HTTP;
	bool started = ms[STEP_DHCP] || ms[STEP_KERNEL];

	/* A boot starts with DHCP, or with a fetch where another server
	 * answered DHCP; after a running system, either starts the next. */
	if ((ev->kind == EVK_DHCP || fetch) && (!started || ms[STEP_UP] != 0)) {
		for (int i = 0; i < STEP_COUNT; i++)
			ms[i] = 0;
		ms[fetch ? STEP_KERNEL : STEP_DHCP] = ev->time_ms;
		return;
	}
	if (!started)
		return;
	if (fetch && ms[STEP_ROOT] == 0 && ms[STEP_UP] == 0)
		ms[STEP_KERNEL] = ev->time_ms;
	if (ev->kind == EVK_9P && ms[STEP_ROOT] == 0)
		ms[STEP_ROOT] = ev->time_ms;
	if (running(ev->kind) && ms[STEP_UP] == 0)
		ms[STEP_UP] = ev->time_ms;
}

void
machstate_steps(const uint8_t mac[6], int64_t ms[STEP_COUNT])
{
	for (int i = 0; i < STEP_COUNT; i++)
		ms[i] = 0;
	events_since(0, mac, step_event, ms);
}

const char *
machstate_step_name(enum machstep s)
{
	static const char *const names[STEP_COUNT] = { "dhcp", "kernel", "root", "up" };

	return s < STEP_COUNT ? names[s] : "?";
}
