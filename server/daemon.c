/* gridbootd serve: load the inventory, start the modules, then run the one
 * event loop until SIGTERM. SIGHUP re-reads the inventory and swaps it in
 * whole, or logs why not and keeps serving the old one.
 *
 * A reload is parsed and validated in a thread of its own (a 100 000-
 * machine inventory takes half a second): the thread gets the path and
 * returns an inventory or an error list, and touches nothing the loop
 * uses. It says it is done through an eventfd; the loop then joins it and
 * swaps the result in at the end of that turn, as a reload always was.
 *
 * Under systemd (Type=notify) it says READY=1 once it serves, RELOADING=1
 * and READY=1 around each load, STOPPING=1 on SIGTERM, through
 * libsystemd's sd_notify, which does nothing where NOTIFY_SOCKET is not
 * set (a terminal, another init, the tests). */
#include "daemon.h"
#include "core/privdrop.h"
#include "core/store.h"
#include "core/limiter.h"
#include "config/assignments.h"
#include "config/discovered.h"
#include "core/events.h"
#include "core/log.h"
#include "core/metrics.h"
#include "modules.h"
#include "boot/machstate.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define modules gridboot_modules

/* One load in its thread. The thread writes result, errs and load_ms and
 * then the eventfd; the loop reads them only after the eventfd, and
 * after joining the thread. */
struct reload_job {
	pthread_t thread;
	char *path;
	int efd;
	unsigned delay_ms;
	struct reload_waiter *waiters;  /* told when this load is swapped in */
	struct inventory *result;
	struct errlist errs;
	uint64_t load_ms;
};

/* The loop's view of reloads: eventfd, the test knob, metrics. The
 * daemon's own, on daemon_serve's stack, reached through d->reloader. */
struct reloader {
	int efd;
	bool done;                  /* the eventfd fired for d->job */
	unsigned delay_ms;          /* GRIDBOOT_TEST_RELOAD_DELAY_MS (tests) */
	uint64_t *m_derived, *m_ok, *m_failed, *m_coalesced, *m_running, *m_started, *m_ended,
	    *m_load_ms, *m_swap_us, *m_machines;
};

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

/* Swaps in what a load gave, or keeps the old inventory if it had errors. */
static bool
apply(struct daemon *d, struct inventory *next, struct errlist *errs)
{
	struct reloader *R = d->reloader;
	struct inventory *old;

	if (next == NULL) {
		d->failed_reloads++;
		(*R->m_failed)++;
		log_err("reload: %s has %zu error(s); still serving the previous inventory",
		    d->config_path, errs->n);
		for (size_t i = 0; i < errs->n; i++)
			log_err("%s", errs->msg[i]);
		events_emit(NULL, EVK_SYSTEM, "reload failed: %zu error(s)", errs->n);
		return false;
	}
	if (errs)           /* a derived inventory's are the current ones */
		log_warnings(next);
	const char *was = d->inv->grid.user, *now = next->grid.user;
	if ((was == NULL) != (now == NULL) || (was && strcmp(was, now) != 0))
		log_warn("reload: grid.user changed; it takes effect at the next start");
	old = d->inv;
	d->inv = next;
	for (size_t i = 0; i < gridboot_nmodules; i++)
		if (modules[i]->reload)
			modules[i]->reload(d->state[i], d, old);
	inv_unref_later(old);
	machstate_prune();
	d->reloads++;
	(*R->m_ok)++;
	*R->m_machines = next->nmachines;
	log_info("reload: %s OK: %zu machines", d->config_path, next->nmachines);
	events_emit(NULL, EVK_SYSTEM, "inventory reloaded: %zu machines", next->nmachines);
	return true;
}

/* A word to systemd; a failure to say it never stops the daemon. */
static void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
notify(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int err = sd_notify(0, msg);
	if (err < 0)
		log_warn("sd_notify: %s", strerror(-err));
}

static void
tell(struct reload_waiter *w, bool ok)
{
	struct reload_waiter *next;

	for (; w; w = next) {
		next = w->next;     /* done may free w with its owner */
		w->done(ok, w->arg);
	}
}

static void *
load_thread(void *arg)
{
	struct reload_job *j = arg;
	uint64_t t0 = mono_ms(), one = 1;

	j->result = gridboot_load(j->path, &j->errs);
	if (j->delay_ms)
		usleep(j->delay_ms * 1000u);
	j->load_ms = mono_ms() - t0;
	while (write(j->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
	return NULL;
}

static void
job_free(struct reload_job *j)
{
	errlist_free(&j->errs);
	free(j->path);
	free(j);
}

/* Starts the load asked for; the waiters so far go with it. */
static void
start_load(struct daemon *d)
{
	struct reloader *R = d->reloader;
	struct reload_job *j = ecalloc(1, sizeof *j);

	j->path = estrdup(d->config_path);
	j->efd = R->efd;
	j->delay_ms = R->delay_ms;
	j->waiters = d->waiters;
	d->waiters = NULL;
	d->reload_wanted = false;
	d->job = j;
	R->done = false;
	*R->m_running = 1;
	*R->m_started = (uint64_t)wall_ms();
	log_info("reload: loading %s", d->config_path);
	notify("RELOADING=1\nSTATUS=loading %s", d->config_path);
	int err = pthread_create(&j->thread, NULL, load_thread, j);
	if (err != 0) {
		log_err("reload: no thread (%s): loading on the loop", strerror(err));
		j->thread = pthread_self();
		load_thread(j);
	}
}

/* The thread is done: join it, swap, tell the waiters. */
static void
finish_load(struct daemon *d)
{
	struct reloader *R = d->reloader;
	struct reload_job *j = d->job;
	uint64_t t0 = mono_us();

	if (!pthread_equal(j->thread, pthread_self()))
		pthread_join(j->thread, NULL);
	d->job = NULL;
	bool ok = apply(d, j->result, &j->errs);
	notify("READY=1\nSTATUS=serving %s: %zu machines%s", d->config_path, d->inv->nmachines,
	    ok ? "" : " (the last reload failed)");
	*R->m_swap_us = mono_us() - t0;
	*R->m_load_ms = j->load_ms;
	*R->m_ended = (uint64_t)wall_ms();
	*R->m_running = 0;
	tell(j->waiters, ok);
	job_free(j);
}

static void
request_reload(struct daemon *d, struct reload_waiter *w)
{
	struct reloader *R = d->reloader;
	if (d->job || d->reload_wanted)
		(*R->m_coalesced)++;
	d->reload_wanted = true;
	if (w) {
		w->next = d->waiters;
		d->waiters = w;
	}
}

static void
request_assignment(struct daemon *d, const uint8_t mac[6], struct reload_waiter *w)
{
	struct reloader *R = d->reloader;
	struct inventory *next = NULL;

	if (d->job == NULL && !d->reload_wanted)
		next = assignments_derive(d->ready ? d->ready : d->inv, mac);
	if (next == NULL) {
		request_reload(d, w);
		return;
	}
	inv_unref(d->ready);
	d->ready = next;
	(*R->m_derived)++;
	if (w) {
		w->next = d->ready_waiters;
		d->ready_waiters = w;
	}
}

static void
on_reload_done(int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	uint64_t n;

	(void)events;
	while (read(fd, &n, sizeof n) < 0 && errno == EINTR)
		;
	d->reloader->done = true;
}

/* End of a loop turn, out of every library callback (MHD may not be
 * stopped from inside its own): swap in a finished load; start the one
 * asked for if none is running. */
static void
on_turn_end(void *arg)
{
	struct daemon *d = arg;
	struct reloader *R = d->reloader;

	if (d->ready) {
		struct reload_waiter *w = d->ready_waiters;
		struct inventory *next = d->ready;
		uint64_t t0 = mono_us();
		d->ready = NULL;
		d->ready_waiters = NULL;
		apply(d, next, NULL);
		*R->m_swap_us = mono_us() - t0;
		tell(w, true);
	}
	if (d->job && R->done)
		finish_load(d);
	if (d->reload_wanted && d->job == NULL)
		start_load(d);
}

static int
reloads_init(struct daemon *d)
{
	struct reloader *R = d->reloader;
	const char *delay = getenv("GRIDBOOT_TEST_RELOAD_DELAY_MS");

	R->delay_ms = delay ? (unsigned)strtoul(delay, NULL, 10) : 0;
	const struct metric_def defs[] = {
		{ &R->m_derived, "gridboot_inventory_role_changes_derived_total", NULL,
		  "Role changes swapped in without a full load" },
		{ &R->m_ok, "gridboot_inventory_reloads_total", "result=\"ok\"",
		  "Inventory reloads by outcome" },
		{ &R->m_failed, "gridboot_inventory_reloads_total", "result=\"failed\"" },
		{ &R->m_coalesced, "gridboot_inventory_reload_requests_coalesced_total", NULL,
		  "Reload requests folded into a load already running or asked for" },
		{ &R->m_running, "gridboot_inventory_reload_running", NULL,
		  "1 while a load runs in its thread", true },
		{ &R->m_started, "gridboot_inventory_reload_started_ms", NULL,
		  "Wall clock (ms) when the last load started", true },
		{ &R->m_ended, "gridboot_inventory_reload_ended_ms", NULL,
		  "Wall clock (ms) when the last load was swapped in or refused", true },
		{ &R->m_load_ms, "gridboot_inventory_load_ms", NULL,
		  "How long the last load took in its thread", true },
		{ &R->m_swap_us, "gridboot_inventory_swap_us", NULL,
		  "How long the last swap held the loop (modules' reload hooks), microseconds", true },
		{ &R->m_machines, "gridboot_inventory_machines", NULL,
		  "Machines in the inventory being served", true },
	};
	metrics_register(defs, nelem(defs));
	*R->m_machines = d->inv->nmachines;
	R->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (R->efd < 0)
		return -1;
	return ev_add_fd(d->loop, R->efd, EPOLLIN, on_reload_done, d);
}

static void
reloads_shutdown(struct daemon *d)
{
	struct reloader *R = d->reloader;
	inv_unref(d->ready);
	d->ready = NULL;
	if (d->job) {
		struct reload_job *j = d->job;
		if (!pthread_equal(j->thread, pthread_self()))
			pthread_join(j->thread, NULL);
		inv_unref(j->result);
		job_free(j);
		d->job = NULL;
	}
	if (R->efd >= 0) {
		if (d->loop)
			ev_del_fd(d->loop, R->efd);
		close(R->efd);
		R->efd = -1;
	}
}

/* Housekeeping once a second: persist what the stores have pending. */
/* ---- instances sharing a store (core/store.h, docs/scale.md) ----
 *
 * Role changes and discovered machines are kept in the state directory
 * as with one instance, and also written to the store's tables
 * "assignments" and "discovered"; another instance's change arrives as
 * a record and is merged into the local files (a role change then
 * reloads). The timeline's events are published to the others and shown
 * there with the instance's name in front. */

#define RELAY_PER_SEC 1000      /* events sent to the others, at most */

static struct shared {
	struct daemon *d;
	struct store_tab *assign, *disc;
	int sub;
	bool relaying;              /* emitting another instance's event */
	struct lim_window budget;
	uint64_t *relayed, *unrelayed;
} shared;

static bool
take_assignment(void *arg, const struct store_rec *r)
{
	struct daemon *d = arg;

	if (!assignments_take(d->inv->grid.state, r))
		return true;
	log_info("store: a role change for %s from another instance", r->owner);
	request_reload(d, NULL);
	return true;
}

static bool
take_discovered(void *arg, const struct store_rec *r)
{
	(void)arg;
	return discovered_take(r);
}

static void
never_refused(void *arg, const struct store_rec *r, const char *holder, int64_t until)
{
	/* Keys are the owners' own MACs: nobody else can hold them. */
	(void)arg, (void)r, (void)holder, (void)until;
}

static const struct store_tab_ops assign_ops = { .apply = take_assignment, .refused = never_refused };
static const struct store_tab_ops disc_ops = { .apply = take_discovered, .refused = never_refused };

/* Our event, to the others (take_message). */
static void
relay_event(const struct bootevent *ev, void *arg)
{
	struct daemon *d = arg;
	char line[320], m12[13] = "-";

	if (shared.relaying || (ev->kind == EVK_SYSTEM && strncmp(ev->text, "store:", 6) == 0))
		return;
	if (!lim_window_take(&shared.budget, RELAY_PER_SEC, 1000, (uint64_t)mono_ms())) {
		(*shared.unrelayed)++;
		return;
	}
	if (ev->has_mac)
		mac_hex(ev->mac, m12);
	snprintf(line, sizeof line, "E %d %s %s", (int)ev->kind, m12, ev->text);
	store_publish(d->store, line);
	(*shared.relayed)++;
}

/* Another instance's message: "E KIND MAC12|- TEXT", one of its events;
 * "K", a password changed through its auth server in the key file the
 * instances share (a reload reads it again). */
static void
take_message(void *arg, const char *instance, const char *line)
{
	struct daemon *d = arg;
	int kind, n = 0;
	char m12[13];
	uint8_t mac[6];

	if (strcmp(line, "K") == 0) {
		log_info("store: %s changed a password: reading the key file again", instance);
		request_reload(d, NULL);
		return;
	}
	if (sscanf(line, "E %d %12s %n", &kind, m12, &n) != 2 || n == 0 || kind < EVK_SYSTEM ||
	    kind > EVK_AUTH)
		return;
	shared.relaying = true;
	events_emit(mac_parse(m12, mac) ? mac : NULL, (enum evkind)kind, "%s: %s", instance,
	    line + n);
	shared.relaying = false;
}

static int
share_open(struct daemon *d)
{
	const struct metric_def defs[] = {
		{ &shared.relayed, "gridboot_store_events_relayed_total", NULL,
		  "timeline events sent to the other instances" },
		{ &shared.unrelayed, "gridboot_store_events_unrelayed_total", NULL,
		  "timeline events not sent: over the relay's budget" },
	};

	if (!store_shared(d->store))
		return 0;
	metrics_register(defs, nelem(defs));
	shared.d = d;
	shared.assign = store_tab_open(d->store, "assignments", "assignments", &assign_ops, d);
	shared.disc = store_tab_open(d->store, "discovered", "discovered", &disc_ops, d);
	if (shared.assign == NULL || shared.disc == NULL)
		return -1;
	assignments_share(shared.assign);
	discovered_share(shared.disc);
	store_on_message(d->store, take_message, d);
	shared.sub = events_subscribe(relay_event, d);
	return 0;
}

static void
share_close(void)
{
	if (shared.d == NULL)
		return;
	events_unsubscribe(shared.sub);
	assignments_share(NULL);
	discovered_share(NULL);
	store_tab_close(shared.assign);
	store_tab_close(shared.disc);
	shared = (struct shared){ 0 };
}

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
			notify("STOPPING=1");
			ev_stop(d->loop);
			break;
		}
	}
}

static int
block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	return sigprocmask(SIG_BLOCK, &set, NULL);
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
	if (block_signals() < 0)
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
	/* The table core/module.h's daemon_request_* calls go through. */
	static const struct daemon_ops ops = { request_reload, request_assignment };
	struct reloader reloader = { .efd = -1 };
	struct daemon d = { .config_path = config_path, .foreground = foreground, .ops = &ops,
	    .reloader = &reloader };
	struct errlist errs = { 0 };
	size_t started = 0;
	int sigfd = -1, rc = 1;

	log_init("gridbootd", foreground, loglevel);
	/* SIGHUP and SIGTERM wait, blocked, for the signalfd the loop reads
	 * (setup_signals): one arriving during start-up (a reload asked for
	 * as soon as a log line appears) must not kill the daemon */
	block_signals();
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
	d.store = store_new(d.loop, d.inv->grid.store, d.inv->grid.state, d.inv->grid.instance);
	if (d.store == NULL || share_open(&d) < 0)
		goto out;
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
	for (size_t i = 0; i < started; i++)
		if (modules[i]->started && d.state[i] && modules[i]->started(d.state[i], &d) < 0) {
			log_err("%s: failed to start", modules[i]->name);
			goto out;
		}
	/* After the fork: a signalfd's epoll wake-up belongs to the process
	 * that registered it, so the detached child must make its own. */
	if ((sigfd = setup_signals(&d)) < 0) {
		log_err("signals: %s", strerror(errno));
		goto out;
	}
	if (reloads_init(&d) < 0) {
		log_err("reloads: %s", strerror(errno));
		goto out;
	}
	ev_timer_init(&d.tick, on_tick, &d);
	ev_timer_arm(d.loop, &d.tick, 1000);
	write_pidfile(pidfile);
	/* Last, once everything that needs root (ports, the pidfile) is done. */
	if (privdrop(d.inv->grid.user, d.inv->grid.state, pidfile) < 0)
		goto out;
	log_info("serving %s: %zu machines", config_path, d.inv->nmachines);
	notify("READY=1\nSTATUS=serving %s: %zu machines", config_path, d.inv->nmachines);
	events_emit(NULL, EVK_SYSTEM, "gridbootd started: %zu machines", d.inv->nmachines);
	rc = ev_run(d.loop) < 0 || d.fatal ? 1 : 0;
out:
	reloads_shutdown(&d);
	if (sigfd >= 0)
		close(sigfd);
	while (started-- > 0)
		if (modules[started]->shutdown)
			modules[started]->shutdown(d.state[started], &d);
	/* After grid.user the directory may forbid removing it: empty it. */
	if (pidfile && rc == 0 && unlink(pidfile) < 0 && truncate(pidfile, 0) < 0)
		log_warn("%s: %s", pidfile, strerror(errno));
	share_close();
	store_free(d.store);
	ev_free(d.loop);
	discovered_close();
	machstate_shutdown();
	inv_unref(d.inv);
	events_shutdown();
	log_info("stopped");
	return rc;
}
