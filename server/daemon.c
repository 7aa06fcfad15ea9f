/* gridbootd serve: load the inventory, start the modules, then run the one
 * event loop until SIGTERM. SIGHUP re-reads the inventory and swaps it in
 * whole, or logs why not and keeps serving the old one. */
#include "daemon.h"
#include "core/privdrop.h"
#include "config/discovered.h"
#include "core/events.h"
#include "core/log.h"
#include "modules.h"
#include "boot/machstate.h"
#include "core/util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define modules gridboot_modules

static void
log_warnings(const struct inventory *inv)
{
	for (size_t i = 0; i < inv->warnings.n; i++)
		log_warn("%s", inv->warnings.msg[i]);
}

/* Machine states are kept only for machines the grid knows. */
static bool
machine_known(const uint8_t mac[6], void *arg)
{
	struct daemon *d = arg;

	return inv_machine_by_mac(d->inv, mac) != NULL || discovered_find(mac) != NULL;
}

/* Re-reads the inventory; keeps the old one if the new one has errors. */
static bool
reload(struct daemon *d)
{
	struct errlist errs = { 0 };
	struct inventory *next = gridboot_load(d->config_path, &errs), *old;

	if (next == NULL) {
		d->failed_reloads++;
		log_err("reload: %s has %zu error(s); still serving the previous inventory",
		    d->config_path, errs.n);
		for (size_t i = 0; i < errs.n; i++)
			log_err("%s", errs.msg[i]);
		events_emit(NULL, EVK_SYSTEM, "reload failed: %zu error(s)", errs.n);
		errlist_free(&errs);
		return false;
	}
	log_warnings(next);
	const char *was = d->inv->grid.user, *now = next->grid.user;
	if ((was == NULL) != (now == NULL) || (was && strcmp(was, now) != 0))
		log_warn("reload: grid.user changed; it takes effect at the next start");
	old = d->inv;
	d->inv = next;
	for (size_t i = 0; i < gridboot_nmodules; i++)
		if (modules[i]->reload)
			modules[i]->reload(d->state[i], d, old);
	inv_unref(old);
	machstate_prune();
	d->reloads++;
	log_info("reload: %s OK: %zu machines", d->config_path, next->nmachines);
	events_emit(NULL, EVK_SYSTEM, "inventory reloaded: %zu machines", next->nmachines);
	return true;
}

void
daemon_request_reload(struct daemon *d, struct reload_waiter *w)
{
	d->reload_wanted = true;
	if (w) {
		w->next = d->waiters;
		d->waiters = w;
	}
}

/* End of a loop turn: the reload asked for during it, out of every
 * library callback (MHD may not be stopped from inside its own). */
static void
on_turn_end(void *arg)
{
	struct daemon *d = arg;
	struct reload_waiter *w, *next;

	if (!d->reload_wanted)
		return;
	d->reload_wanted = false;
	bool ok = reload(d);
	w = d->waiters;
	d->waiters = NULL;
	for (; w; w = next) {
		next = w->next;     /* done may free w with its owner */
		w->done(ok, w->arg);
	}
}

/* Housekeeping once a second: persist what the stores have pending. */
static void
on_tick(void *arg)
{
	struct daemon *d = arg;

	discovered_flush();
	ev_timer_arm(d->loop, &d->tick, 1000);
}

static void
on_signal(int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: re-reading %s", d->config_path);
			daemon_request_reload(d, NULL);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: shutting down", (int)si.ssi_signo);
			ev_stop(d->loop);
			break;
		}
	}
}

static int
setup_signals(struct daemon *d)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	return ev_add_fd(d->loop, fd, EPOLLIN, on_signal, d) < 0 ? -1 : fd;
}

static void
write_pidfile(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());

	if (path && write_file_atomic(path, buf, (size_t)n) < 0)
		log_warn("%s: %s", path, strerror(errno));
}

int
daemon_serve(const char *config_path, bool foreground, int loglevel,
    const char *pidfile)
{
	struct daemon d = { .config_path = config_path, .foreground = foreground };
	struct errlist errs = { 0 };
	size_t started = 0;
	int sigfd = -1, rc = 1;

	log_init("gridbootd", foreground, loglevel);
	/* Until it detaches, the terminal that started it hears why it failed. */
	log_also_stderr(!foreground);
	if (gridboot_nmodules > nelem(d.state)) {
		log_err("%zu modules, room for %zu", gridboot_nmodules, nelem(d.state));
		return 1;
	}
	d.inv = gridboot_load(config_path, &errs);
	if (d.inv == NULL) {
		errlist_print(&errs, stderr);
		errlist_free(&errs);
		return 1;
	}
	log_warnings(d.inv);
	events_init(8192);
	machstate_init(machine_known, &d);
	if (discovered_open(d.inv->grid.state) < 0)
		goto out;
	d.loop = ev_new();
	if (d.loop == NULL) {
		log_err("event loop: %s", strerror(errno));
		goto out;
	}
	ev_add_turn_hook(d.loop, on_turn_end, &d);
	for (; started < gridboot_nmodules; started++) {
		if (modules[started]->init && modules[started]->init(&d, &d.state[started]) < 0) {
			log_err("%s: failed to start", modules[started]->name);
			goto out;
		}
	}
	/* Sockets are bound and errors were seen: now leave the terminal. */
	if (!foreground && daemon(0, 0) < 0) {
		log_err("daemon: %s", strerror(errno));
		goto out;
	}
	log_also_stderr(false);
	/* After the fork: a signalfd's epoll wake-up belongs to the process
	 * that registered it, so the detached child must make its own. */
	if ((sigfd = setup_signals(&d)) < 0) {
		log_err("signals: %s", strerror(errno));
		goto out;
	}
	ev_timer_init(&d.tick, on_tick, &d);
	ev_timer_arm(d.loop, &d.tick, 1000);
	write_pidfile(pidfile);
	/* Last, once everything that needs root (ports, the pidfile) is done. */
	if (privdrop(d.inv->grid.user, d.inv->grid.state, pidfile) < 0)
		goto out;
	log_info("serving %s: %zu machines", config_path, d.inv->nmachines);
	events_emit(NULL, EVK_SYSTEM, "gridbootd started: %zu machines", d.inv->nmachines);
	rc = ev_run(d.loop) < 0 ? 1 : 0;
out:
	if (sigfd >= 0)
		close(sigfd);
	while (started-- > 0)
		if (modules[started]->shutdown)
			modules[started]->shutdown(d.state[started], &d);
	/* After grid.user the directory may forbid removing it: empty it. */
	if (pidfile && rc == 0 && unlink(pidfile) < 0 && truncate(pidfile, 0) < 0)
		log_warn("%s: %s", pidfile, strerror(errno));
	ev_free(d.loop);
	discovered_close();
	machstate_shutdown();
	inv_unref(d.inv);
	events_shutdown();
	log_info("stopped");
	return rc;
}
