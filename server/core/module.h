/* The module interface: what a service (DHCP, TFTP, HTTP, and those to
 * come) gives the daemon, and what the daemon gives it back.
 *
 * A module is a table of hooks; its state lives behind the pointer its
 * init returns, never in globals the daemon reaches into. The daemon
 * (server/daemon.c) runs the table in order; the loader (server/loader.c)
 * runs every module's check on each inventory it loads; main.c offers the
 * subcommands modules add. A module reaches another module only through a
 * narrow header in a lower layer (boot/leases.h), never its folder. */
#ifndef GRIDBOOT_MODULE_H
#define GRIDBOOT_MODULE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/evloop.h"

struct inventory;
struct errlist;
struct reload_job;
struct netif;
struct reloader;

/* The descriptor budget, shared by the services: TFTP sizes its transfer
 * table from what RLIMIT_NOFILE leaves after FD_RESERVE, which keeps room
 * for HTTP's connections (a socket, our duplicate of it when HTTP runs
 * in worker threads, and at most one open file each, for sendfile),
 * FD_9P_FILES for the files 9P clients hold open (9P refuses
 * an open beyond it, whatever its clients do) and FD_OTHERS for everything
 * else (listeners, epoll, timers, signalfd, logs, 9P and auth
 * connections). HTTP lowers its connection cap when the limit is too
 * small for HTTP_MAX_CONNS. */
#define HTTP_MAX_CONNS 1000
#define FD_OTHERS 256
#define FD_9P_FILES 2048
#define FD_RESERVE (3 * HTTP_MAX_CONNS + FD_OTHERS + FD_9P_FILES)

/* Someone waiting for an asked-for reload (an API call that answers with
 * the reloaded machine). Lives inside its owner; done runs once, at the
 * end of the loop turn in which the new inventory was swapped in (or
 * refused), with whether it worked. A waiter added while a load is
 * running waits for the next load, which reads what it stored. */
struct reload_waiter {
	void (*done)(bool ok, void *arg);
	void *arg;
	struct reload_waiter *next;
};

struct daemon;

/* What the top (server/daemon.c) hands the modules: its functions in a
 * table it sets in struct daemon before the first init, so that core
 * declares and no lower layer calls a function defined above it. The
 * calls below go through it. */
struct daemon_ops {
	void (*request_reload)(struct daemon *d, struct reload_waiter *w);
	void (*request_assignment)(struct daemon *d, const uint8_t mac[6],
	    struct reload_waiter *w);
};

struct daemon {
	struct evloop *loop;
	struct inventory *inv;      /* current; modules inv_ref what they keep */
	const char *config_path;
	bool foreground;
	unsigned reloads, failed_reloads;
	struct ev_timer tick;       /* once a second: flush stores */
	bool reload_wanted;         /* asked for; starts at the end of this turn */
	struct reload_waiter *waiters;  /* for the next load to start */
	struct reload_job *job;     /* the load running in its thread, or NULL */
	struct reloader *reloader;  /* the top's reload state (daemon.c) */
	struct inventory *ready;    /* derived by a role change, swapped at turn end */
	struct reload_waiter *ready_waiters;
	void *state[12];            /* each module's, by its index in the table */
	struct netif *netif;        /* the interface table (core/netif.h): netif_ref */
	struct store *store;        /* where durable claims live (core/store.h) */
	const struct daemon_ops *ops;   /* the top's, set before any module starts */
	bool fatal;                 /* a module stopped the loop on a fault: exit 1 */
};

/* How a subcommand loads an inventory: the daemon's own loader, with
 * every module's check (server/modules.c). */
typedef struct inventory *inventory_load_fn(const char *path, struct errlist *errs);

/* A command-line subcommand a module adds: `gridbootd NAME ...`. run gets
 * argv from NAME on and returns the exit code (2 for usage errors). */
struct subcommand {
	const char *name;
	const char *synopsis;       /* lines for `gridbootd --help`, each ending in \n */
	int (*run)(int argc, char **argv, inventory_load_fn *load);
};

struct module {
	const char *name;
	/* Checks the module's own settings in a freshly parsed inventory and
	 * may fill what it derives from them (templates read from disk).
	 * Errors go to errs as "FILE:LINE: key: why"; warnings to
	 * inv->warnings. Runs on every load, for `check` too: no sockets. */
	void (*check)(struct inventory *inv, struct errlist *errs);
	/* Binds and registers with d->loop; *self is the module's state,
	 * handed back to every later hook. < 0 fails start-up. */
	int (*init)(struct daemon *d, void **self);
	/* Start-up is done and the daemon has detached, still as root, just
	 * before the privilege drop: where a helper process is forked that
	 * must outlive the detaching fork (the auth module's key process).
	 * < 0 stops the daemon. May be NULL. */
	int (*started)(void *self, struct daemon *d);
	/* d->inv was just swapped for a valid new inventory; old is alive
	 * for the call. Runs on the loop thread, at the end of a turn, never
	 * from inside another module's callback. */
	void (*reload)(void *self, struct daemon *d, struct inventory *old);
	void (*shutdown)(void *self, struct daemon *d);
	const struct subcommand *commands;  /* ends with { NULL }; may be NULL */
};

/* Asks for the inventory to be re-read. The load starts at the end of this
 * loop turn in a thread of its own (server/daemon.c) and the result is
 * swapped in at the end of a later turn, outside any library callback:
 * serving never waits for a load. Several asks in one turn make one load;
 * asks while a load runs make one more load after it. w (may be NULL) is
 * told the outcome. Through d->ops (server/daemon.c's). */
static inline void
daemon_request_reload(struct daemon *d, struct reload_waiter *w)
{
	d->ops->request_reload(d, w);
}

/* After a role change for mac was stored (config/assignments.h): the new
 * inventory is derived from the current one, in proportion to the change,
 * and swapped in at the end of this turn; when only a full load can be
 * sure of the outcome, this is daemon_request_reload. */
static inline void
daemon_request_assignment(struct daemon *d, const uint8_t mac[6], struct reload_waiter *w)
{
	d->ops->request_assignment(d, mac, w);
}

#endif
