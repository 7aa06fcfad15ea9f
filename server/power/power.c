/* Power (see power.h, docs/power.md): the machines with a power driver,
 * the bounded queue of operations, the threads that run them, the slow
 * poll of every machine's state, and what a finished operation becomes
 * on the loop (state, timeline event, counters).
 *
 * The loop's side (the table, requests, results, the poll) runs under the
 * big lock, from the loop thread or an HTTP worker holding it. The power
 * threads share only the queue with it, under the queue's own mutex: a
 * job carries a copy of the settings, so a thread never reads the
 * inventory, and comes back through the done list and an eventfd. */
#include "power/power.h"
#include "power/power_driver.h"
#include "config/inventory.h"
#include "core/events.h"
#include "core/evloop.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* At most this many operations wait or run at once (each ~9 KiB). A poll
 * round fills at most half of it, so an operator's request finds room
 * while every machine is being polled. */
#define QUEUE_MAX 64
#define POLL_SHARE (QUEUE_MAX / 2)
#define MAX_WORKERS 16
/* Between the poll's slices while a round is under way. */
#define POLL_SLICE_MS 1000
#define PASSWORD_MAX 64

struct pjob {
	struct pjob *next;
	uint8_t mac[6];
	char name[32];
	enum power_op op;
	bool poll;
	struct power_target t;
	int retries;
	/* filled by the thread */
	struct power_result res;
	int attempts;
	uint64_t took_ms;
};

/* One machine with a driver. Kept across reloads by MAC. */
struct pmach {
	uint8_t mac[6];
	enum power_driver driver;
	enum power_state state;
	int64_t checked_ms;
	bool busy;
	enum power_op busy_op;
	bool has_last, last_ok;
	enum power_op last_op;
	int64_t last_ms;
	char last_error[200];
};

/* Process-wide on purpose, like machstate: the API and the grid tree
 * reach it from their own modules without a pointer of ours, under the
 * big lock (docs/ARCHITECTURE.md, "State in file scope"). */
static struct power {
	bool running;
	struct daemon *d;
	struct pmach *tab;          /* sorted by MAC */
	size_t n;
	size_t poll_cursor;
	struct ev_timer start, poll;
	int donefd;
	/* the queue, shared with the threads under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pjob *head, *tail;   /* waiting */
	struct pjob *done;          /* finished, for the loop */
	size_t inflight;            /* queued + running + done not yet taken */
	size_t polls;               /* of which are polls */
	bool quit;
	pthread_t threads[MAX_WORKERS];
	int nthreads;
	/* counters */
	uint64_t *ops[POP_COUNT][2];    /* [op][ok] */
	uint64_t *refused_busy, *refused_full, *retries;
	uint64_t *g_on, *g_off, *g_unknown, *g_queue;
} P = { .donefd = -1 };

static const char *const op_names[POP_COUNT] = {
	[POP_STATUS] = "status", [POP_ON] = "on", [POP_OFF] = "off",
	[POP_CYCLE] = "cycle", [POP_PXE] = "pxe",
};

const char *
power_op_name(enum power_op op)
{
	return (size_t)op < POP_COUNT ? op_names[op] : "?";
}

bool
power_op_parse(const char *s, enum power_op *op)
{
	for (int i = 0; i < POP_COUNT; i++)
		if (strcmp(s, op_names[i]) == 0) {
			*op = (enum power_op)i;
			return true;
		}
	return false;
}

const char *
power_state_name(enum power_state s)
{
	return s == PST_ON ? "on" : s == PST_OFF ? "off" : "unknown";
}

/* ---- the table ---- */

static int
cmp_mac(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static struct pmach *
find(const uint8_t mac[6])
{
	return P.n ? bsearch(mac, P.tab, P.n, sizeof *P.tab, cmp_mac) : NULL;
}

/* The machines of inv with a driver, keeping what was known of each. */
static void
rebuild(const struct inventory *inv)
{
	size_t n = 0;
	for (size_t i = 0; i < inv->nmachines; i++)
		n += inv->machines[i].power != NULL;
	struct pmach *tab = n ? ecalloc(n, sizeof *tab) : NULL;
	size_t k = 0;
	for (size_t i = 0; i < inv->nmachines; i++) {
		const struct machine *m = &inv->machines[i];
		if (m->power == NULL)
			continue;
		struct pmach *old = find(m->mac);
		if (old)
			tab[k] = *old;
		else
			memcpy(tab[k].mac, m->mac, 6);
		if (old && old->driver != m->power->driver)
			tab[k].state = PST_UNKNOWN;     /* another BMC now */
		tab[k].driver = m->power->driver;
		k++;
	}
	if (n)
		qsort(tab, n, sizeof *tab, cmp_mac);
	free(P.tab);
	P.tab = tab;
	P.n = n;
	if (P.poll_cursor >= n)
		P.poll_cursor = 0;
}

static void
count_states(void)
{
	uint64_t on = 0, off = 0;
	for (size_t i = 0; i < P.n; i++) {
		on += P.tab[i].state == PST_ON;
		off += P.tab[i].state == PST_OFF;
	}
	*P.g_on = on;
	*P.g_off = off;
	*P.g_unknown = P.n - on - off;
}

/* ---- the threads ---- */

/* The password from its file, for one call: at most PASSWORD_MAX bytes,
 * one line, its newline dropped. */
static bool
read_password(const char *path, char out[PASSWORD_MAX + 1], char *why, size_t cap)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		snprintf(why, cap, "cannot read the password file %s: %s", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, cap, "the password file %s is not a regular file", path);
		return false;
	}
	n = read(fd, out, PASSWORD_MAX + 1);
	close(fd);
	if (n < 0 || n > PASSWORD_MAX) {
		snprintf(why, cap, "the password file %s %s", path,
		    n < 0 ? strerror(errno) : "is longer than 64 bytes");
		explicit_bzero(out, PASSWORD_MAX + 1);
		return false;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return true;
}

/* Whether another attempt may help, and may do no harm: an operation
 * that may have reached the BMC is repeated only if repeating it is the
 * same as doing it once (a cycle is not). */
static bool
try_again(const struct pjob *j)
{
	if (j->res.err == PERR_UNREACHED)
		return true;
	return j->res.err == PERR_TIMEOUT && j->op != POP_CYCLE;
}

static void
run_job(struct pjob *j)
{
	char pw[PASSWORD_MAX + 1];
	uint64_t t0 = mono_ms();

	if (!read_password(j->t.password_file, pw, j->res.msg, sizeof j->res.msg)) {
		j->res.err = PERR_REFUSED;
		j->attempts = 0;
		j->took_ms = mono_ms() - t0;
		return;
	}
	for (j->attempts = 1;; j->attempts++) {
		memset(&j->res, 0, sizeof j->res);
		if (j->t.driver == POWER_IPMI)
			power_ipmi_run(&j->t, pw, j->op, &j->res);
		else
			power_redfish_run(&j->t, pw, j->op, &j->res);
		if (j->res.err == PERR_OK || j->attempts > j->retries || !try_again(j))
			break;
		pthread_mutex_lock(&P.mu);
		bool quit = P.quit;
		pthread_mutex_unlock(&P.mu);
		if (quit)
			break;
	}
	explicit_bzero(pw, sizeof pw);
	j->took_ms = mono_ms() - t0;
}

static void *
worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&P.mu);
	for (;;) {
		while (!P.quit && P.head == NULL)
			pthread_cond_wait(&P.cv, &P.mu);
		if (P.quit)
			break;
		struct pjob *j = P.head;
		if ((P.head = j->next) == NULL)
			P.tail = NULL;
		pthread_mutex_unlock(&P.mu);
		run_job(j);
		pthread_mutex_lock(&P.mu);
		j->next = P.done;
		P.done = j;
		uint64_t one = 1;
		if (write(P.donefd, &one, sizeof one) < 0) {
			/* the counter is full: the loop reads it anyway */
		}
	}
	pthread_mutex_unlock(&P.mu);
	return NULL;
}

/* ---- the loop's side ---- */

static void
fill_target(struct power_target *t, const struct machine *m)
{
	const struct machine_power *p = m->power;

	memset(t, 0, sizeof *t);
	t->driver = p->driver;
	t->uefi = m->firmware == FW_UEFI;
	str_copy(t->address, p->address ? p->address : "", sizeof t->address);
	str_copy(t->user, p->user ? p->user : "", sizeof t->user);
	str_copy(t->password_file, p->password_file ? p->password_file : "",
	    sizeof t->password_file);
	str_copy(t->system, p->system ? p->system : "", sizeof t->system);
	str_copy(t->ca_file, p->ca_file ? p->ca_file : "", sizeof t->ca_file);
	str_copy(t->pin, p->pin ? p->pin : "", sizeof t->pin);
	t->timeout_ms = p->timeout_ms;
	t->workarounds = p->workarounds;
}

static void
enqueue(const struct machine *m, struct pmach *pm, enum power_op op, bool poll)
{
	struct pjob *j = ecalloc(1, sizeof *j);

	memcpy(j->mac, m->mac, 6);
	str_copy(j->name, m->name ? m->name : "?", sizeof j->name);
	j->op = op;
	j->poll = poll;
	j->retries = m->power->retries;
	fill_target(&j->t, m);
	pm->busy = true;
	pm->busy_op = op;
	pthread_mutex_lock(&P.mu);
	if (P.tail)
		P.tail->next = j;
	else
		P.head = j;
	P.tail = j;
	P.inflight++;
	P.polls += poll;
	pthread_cond_signal(&P.cv);
	pthread_mutex_unlock(&P.mu);
	*P.g_queue = P.inflight;
}

int
power_request(const struct machine *m, enum power_op op, const char *who, char *why, size_t cap)
{
	struct pmach *pm;

	if (m->power == NULL || (pm = find(m->mac)) == NULL) {
		snprintf(why, cap, "%s has no power driver (machines[].power)", m->name);
		return 404;
	}
	if (!P.running) {
		snprintf(why, cap, "power is not running");
		return 503;
	}
	if (pm->busy) {
		(*P.refused_busy)++;
		snprintf(why, cap, "%s: %s is already %s; try again when it has ended", m->name,
		    power_op_name(pm->busy_op), "queued or running");
		return 409;
	}
	if (P.inflight >= QUEUE_MAX) {
		(*P.refused_full)++;
		snprintf(why, cap, "the power queue is full (%d operations); try again later",
		    QUEUE_MAX);
		return 503;
	}
	enqueue(m, pm, op, false);
	events_emit(m->mac, EVK_POWER, "%s: asked by %s (%s)", power_op_name(op), who,
	    power_driver_name(m->power->driver));
	return 0;
}

bool
power_view(const struct machine *m, struct power_view *v)
{
	const struct pmach *pm;

	if (m->power == NULL || (pm = find(m->mac)) == NULL)
		return false;
	*v = (struct power_view){
		.driver = power_driver_name(pm->driver), .state = pm->state,
		.checked_ms = pm->checked_ms, .busy = pm->busy, .busy_op = pm->busy_op,
		.has_last = pm->has_last, .last_op = pm->last_op, .last_ok = pm->last_ok,
		.last_ms = pm->last_ms,
	};
	str_copy(v->last_error, pm->last_error, sizeof v->last_error);
	return true;
}

/* A finished job, on the loop: the machine's state, the timeline, the
 * counters. A poll says something on the timeline only when the state
 * or the failure changed, so a quiet machine costs no events. */
static void
finish(struct pjob *j)
{
	struct pmach *pm = find(j->mac);
	bool ok = j->res.err == PERR_OK;
	int64_t now = wall_ms();

	(*P.ops[j->op][ok])++;
	if (j->attempts > 1)
		*P.retries += (uint64_t)j->attempts - 1;
	if (pm == NULL)
		return;     /* the machine left the inventory meanwhile */
	pm->busy = false;
	enum power_state was = pm->state;
	bool had_error = pm->last_error[0] != '\0';
	bool error_changed = !ok && strcmp(pm->last_error, j->res.msg) != 0;
	if (ok && j->res.state != PST_UNKNOWN) {
		pm->state = j->res.state;
		pm->checked_ms = now;
	}
	if (!ok)
		str_copy(pm->last_error, j->res.msg, sizeof pm->last_error);
	else
		pm->last_error[0] = '\0';
	if (!j->poll) {
		pm->has_last = true;
		pm->last_op = j->op;
		pm->last_ok = ok;
		pm->last_ms = now;
	}
	char tries[32] = "";
	if (j->attempts > 1)
		snprintf(tries, sizeof tries, ", %d attempts", j->attempts);
	if (!j->poll || error_changed || (ok && (was != pm->state || had_error)))
		events_emit(j->mac, EVK_POWER, "%s %s: %s (%llu ms%s); %spower %s",
		    j->poll ? "poll" : power_op_name(j->op), ok ? "done" : "FAILED", j->res.msg,
		    (unsigned long long)j->took_ms, tries, ok ? "" : "last known ",
		    power_state_name(pm->state));
	if (!ok && !j->poll)
		log_warn("power %s %s: %s", j->name, power_op_name(j->op), j->res.msg);
}

static void
on_done(int fd, uint32_t events, void *arg)
{
	uint64_t v;
	struct pjob *list;

	(void)events;
	(void)arg;
	if (read(fd, &v, sizeof v) < 0) {
		/* EAGAIN: a result taken with an earlier wake-up */
	}
	pthread_mutex_lock(&P.mu);
	list = P.done;
	P.done = NULL;
	pthread_mutex_unlock(&P.mu);
	/* Oldest first: the list is newest first. */
	struct pjob *rev = NULL;
	while (list) {
		struct pjob *nx = list->next;
		list->next = rev;
		rev = list;
		list = nx;
	}
	for (struct pjob *j = rev, *nx; j; j = nx) {
		nx = j->next;
		pthread_mutex_lock(&P.mu);
		P.inflight--;
		P.polls -= j->poll;
		pthread_mutex_unlock(&P.mu);
		finish(j);
		free(j);
	}
	*P.g_queue = P.inflight;
	count_states();
}

/* One slice of a poll round: machines from the cursor on, as many as
 * the poll's share of the queue allows; the next slice a second later,
 * the next round grid.power_poll seconds after this one ended. */
static void
on_poll(void *arg)
{
	const struct inventory *inv = P.d->inv;
	int every = inv->grid.power_poll;

	(void)arg;
	if (every == 0 || P.n == 0)
		return;
	while (P.poll_cursor < P.n && P.polls < POLL_SHARE && P.inflight < QUEUE_MAX) {
		struct pmach *pm = &P.tab[P.poll_cursor++];
		const struct machine *m = inv_machine_by_mac(inv, pm->mac);
		if (m && m->power && !pm->busy)
			enqueue(m, pm, POP_STATUS, true);
	}
	if (P.poll_cursor < P.n) {
		ev_timer_arm(P.d->loop, &P.poll, POLL_SLICE_MS);
		return;
	}
	P.poll_cursor = 0;
	ev_timer_arm(P.d->loop, &P.poll, (uint64_t)every * 1000);
}

/* The threads start at the first turn: after the detaching fork and the
 * privilege drop, which no thread may meet (docs/ARCHITECTURE.md). */
static void
on_start(void *arg)
{
	int want = P.d->inv->grid.power_workers;

	(void)arg;
	for (int i = 0; i < want && i < MAX_WORKERS; i++) {
		if (pthread_create(&P.threads[P.nthreads], NULL, worker, NULL) != 0) {
			log_err("power: cannot start a thread: %s", strerror(errno));
			break;
		}
		P.nthreads++;
	}
	P.running = P.nthreads > 0;
	if (P.d->inv->grid.power_poll)
		ev_timer_arm(P.d->loop, &P.poll, 2000);     /* a first look soon after start */
}

static void
register_metrics(void)
{
	for (int op = 0; op < POP_COUNT; op++)
		for (int ok = 0; ok < 2; ok++)
			P.ops[op][ok] = metric_counterf("gridboot_power_ops_total",
			    "Power operations ended, by operation and result (polls are status)",
			    "op=\"%s\",result=\"%s\"", op_names[op], ok ? "ok" : "error");
	const struct metric_def defs[] = {
		{ &P.refused_busy, "gridboot_power_refused_total", "reason=\"busy\"",
		    "Power requests refused: the machine had one queued or running (409), "
		    "the queue was full (503)", false },
		{ &P.refused_full, "gridboot_power_refused_total", "reason=\"queue_full\"", NULL, false },
		{ &P.retries, "gridboot_power_retries_total", NULL,
		    "Power attempts repeated after a BMC was not reached or timed out", false },
		{ &P.g_on, "gridboot_power_machines", "state=\"on\"",
		    "Machines with a power driver by their last known state", true },
		{ &P.g_off, "gridboot_power_machines", "state=\"off\"", NULL, true },
		{ &P.g_unknown, "gridboot_power_machines", "state=\"unknown\"", NULL, true },
		{ &P.g_queue, "gridboot_power_queue", NULL,
		    "Power operations queued or running", true },
	};
	metrics_register(defs, nelem(defs));
}

static int
power_init(struct daemon *d, void **self)
{
	P.d = d;
	P.quit = false;
	register_metrics();
	if (power_redfish_global_init() < 0) {
		log_err("power: libcurl did not initialise");
		return -1;
	}
	pthread_mutex_init(&P.mu, NULL);
	pthread_cond_init(&P.cv, NULL);
	P.donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (P.donefd < 0 || ev_add_fd(d->loop, P.donefd, EPOLLIN, on_done, NULL) < 0) {
		log_err("power: eventfd: %s", strerror(errno));
		return -1;
	}
	rebuild(d->inv);
	count_states();
	ev_timer_init(&P.start, on_start, NULL);
	ev_timer_init(&P.poll, on_poll, NULL);
	ev_timer_arm(d->loop, &P.start, 0);
	*self = &P;
	return 0;
}

static void
power_reload(void *self, struct daemon *d, struct inventory *old)
{
	(void)self;
	(void)old;
	rebuild(d->inv);
	count_states();
	/* A poll turned on, or its period changed: the next round follows it. */
	if (d->inv->grid.power_poll && P.running && !ev_timer_armed(&P.poll))
		ev_timer_arm(d->loop, &P.poll, 2000);
}

/* Waiting jobs are dropped; a running one ends within its attempt's
 * timeout (the threads look at quit between attempts). */
static void
power_shutdown(void *self, struct daemon *d)
{
	(void)self;
	ev_timer_stop(d->loop, &P.start);
	ev_timer_stop(d->loop, &P.poll);
	pthread_mutex_lock(&P.mu);
	P.quit = true;
	while (P.head) {
		struct pjob *j = P.head;
		P.head = j->next;
		free(j);
	}
	P.tail = NULL;
	pthread_cond_broadcast(&P.cv);
	pthread_mutex_unlock(&P.mu);
	/* The threads never take the big lock: joining under it is safe. */
	for (int i = 0; i < P.nthreads; i++)
		pthread_join(P.threads[i], NULL);
	P.nthreads = 0;
	P.running = false;
	while (P.done) {
		struct pjob *j = P.done;
		P.done = j->next;
		free(j);
	}
	P.inflight = P.polls = 0;
	if (P.donefd >= 0) {
		ev_del_fd(d->loop, P.donefd);
		close(P.donefd);
		P.donefd = -1;
	}
	pthread_cond_destroy(&P.cv);
	pthread_mutex_destroy(&P.mu);
	free(P.tab);
	P.tab = NULL;
	P.n = P.poll_cursor = 0;
	power_redfish_global_cleanup();
}

const struct module power_module = {
	.name = "power",
	.init = power_init,
	.reload = power_reload,
	.shutdown = power_shutdown,
};
