/* The running daemon: its loop, its current inventory, and the modules
 * (one per protocol) that plug into both. */
#ifndef GRIDBOOT_DAEMON_H
#define GRIDBOOT_DAEMON_H

#include <stdbool.h>

#include "core/evloop.h"
#include "config/inventory.h"

struct daemon {
	struct evloop *loop;
	struct inventory *inv;      /* current; modules inv_ref what they keep */
	const char *config_path;
	bool foreground;
	unsigned reloads, failed_reloads;
	struct ev_timer tick;       /* once a second: flush stores */
};

/* A protocol module. init binds and registers with the loop (failing
 * start-up if it returns < 0); reload is called after d->inv was swapped
 * for a new, valid inventory (old is still alive for the call); shutdown
 * closes everything. Any hook may be NULL. */
struct module {
	const char *name;
	int (*init)(struct daemon *d);
	void (*reload)(struct daemon *d, struct inventory *old);
	void (*shutdown)(struct daemon *d);
};

/* pidfile may be NULL. */
int daemon_serve(const char *config_path, bool foreground, int loglevel,
    const char *pidfile);
/* Re-reads the inventory; keeps the old one if the new one has errors. */
bool daemon_reload(struct daemon *d);

#endif
