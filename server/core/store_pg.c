/* The store's PostgreSQL backend (see store.h, docs/scale.md).
 *
 * One connection per daemon, driven by the event loop: libpq in
 * non-blocking mode and pipeline mode, so a loop turn's records go out
 * as one batch of queries followed by one sync point, and the replies
 * they guard wait (core/holdq.h) until that sync's result says the batch
 * is committed. No thread, no query waits for another's round trip.
 *
 * What the database decides: gridboot_put() (a PL/pgSQL function the
 * daemon creates) binds a key to an owner only if nobody else holds it
 * unexpired (one upsert, under the row's lock), and answers with the
 * holder when it refuses. The records it took are NOTIFYed to the other
 * instances in a transaction of their own, after the batch's commit,
 * with synchronous_commit off: PostgreSQL serializes the commits of
 * transactions that notify (one lock, held through the WAL flush), so a
 * NOTIFY inside the lease transactions would stop two instances' commits
 * from sharing a flush.
 * Each instance beats once a second in gridboot_instances; those seen
 * in the last 3 s share the 256 client buckets (store_serves).
 *
 * The connection comes up at the first loop turn (after the daemon
 * forked), then on loss again after 0.2 s, doubling to 5 s. While it is
 * away every put fails and every sync fails: the lease servers answer
 * only what needs no new commitment (core/store.h's store_up). */
#include "core/store_impl.h"
#include "core/evloop.h"
#include "core/events.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#define SCHEMA_VERSION 2
#define BEAT_MS 1000
#define STALL_MS 10000          /* no progress this long: the connection is dead */
#define RETRY_MIN_MS 200
#define RETRY_MAX_MS 5000
/* Queries sent and not yet answered: beyond this a put fails (the
 * database is slower than the clients; they ask again). */
#define MAX_PENDING 16384
/* One NOTIFY's payload (PostgreSQL allows 8000 bytes). */
#define MSG_MAX 7000

enum pgstate { PG_DOWN, PG_CONNECTING, PG_SETUP, PG_READY };
enum qkind { Q_PLAIN, Q_LOAD, Q_PUT, Q_SYNC, Q_BEAT };

struct pending {
	enum qkind kind;
	bool answered;              /* its result came; NULL next */
	struct store_tab *t;        /* Q_LOAD, Q_PUT */
	char rec[600];              /* Q_PUT: the record, as text */
	void (*done)(void *, int);  /* Q_SYNC */
	void *arg;
	int setup;                  /* Q_SYNC: 1 ends the schema, 2 the loads */
};

struct pg {
	struct store *st;
	char *conninfo;
	PGconn *conn;
	int fd;
	uint32_t events;
	enum pgstate state;
	struct ev_timer retry, beat;
	uint64_t retry_ms;
	bool segment_failed;        /* a query since the last sync failed */
	bool segment_puts;          /* ... and the segment had puts */
	size_t open;                /* queries sent since the last sync point */
	unsigned long fail_gen;     /* segments with puts that failed, so far */
	/* The records the database took, for the other instances: lines
	 * "TAB RECORD", NOTIFYed once no segment is open (flush_notes). */
	char *notes;
	size_t nlen, ncap;
	size_t ncommitted;          /* notes[0..ncommitted): their segment committed */
	uint64_t since_ms;          /* the connect began, or a result last came (or
	                             * the queue was last empty) */
	struct pending *q;          /* ring of queries awaiting results */
	size_t qhead, qn, qcap;
	char *peers;                /* live instances, sorted, " "-separated */
	char *livebuf;              /* peers split: live[] points into it */
	char **live;
	int nlive, me;              /* me: our index in live, -1 if absent */
	struct ratelimit rl, rl_dup;
	char token[17];             /* this process's, in its heartbeats */
	/* Syncs a lost connection failed, told from a timer: lost() can run
	 * inside a put, in the middle of the owner's reply. */
	struct failed { void (*done)(void *, int); void *arg; struct store_tab *t; } *fails;
	size_t nfails, capfails;
	struct ev_timer failt;
	/* store_publish's text of this turn: "INST line\nline..." */
	char msgbuf[MSG_MAX + 1];
	size_t msglen;
	uint64_t *m_dupname, *m_up, *m_connects, *m_losses, *m_refused, *m_puts, *m_syncs, *m_remote;
};

static const char *const schema[] = {
	"select pg_advisory_xact_lock(7436105)",
	"create table if not exists gridboot_schema (version integer not null)",
	"insert into gridboot_schema select 0 where not exists (select 1 from gridboot_schema)",
	/* A newer gridbootd's schema: stop here, before anything of it is
	 * replaced (the error ends the setup's transaction). */
	"do $$ begin if (select max(version) from gridboot_schema) > 2 then"
	" raise exception 'the database''s schema is version %, newer than this gridbootd''s 2:"
	" not using it', (select max(version) from gridboot_schema); end if; end $$",
	"create table if not exists gridboot_claims ("
	" tab text not null, key text not null, owner text not null default '',"
	" until bigint not null, data text not null default '-', instance text not null,"
	" primary key (tab, key))",
	"create index if not exists gridboot_claims_owner on gridboot_claims (tab, owner)",
	"create table if not exists gridboot_instances (name text primary key,"
	" seen timestamptz not null)",
	/* The one place a key changes hands: bind only if nobody else holds
	 * it unexpired; answer "" or "HOLDER UNTIL". */
	/* Version 1 passed the instance's clock as an eighth argument; the
	 * database's own is the one all instances share. */
	"drop function if exists gridboot_put(text, text, text, text, text, bigint, text, bigint)",
	"create or replace function gridboot_put(p_inst text, p_tab text, p_op text,"
	" p_owner text, p_key text, p_until bigint, p_data text)"
	" returns text language plpgsql as $$\n"
	"declare h text; hu bigint;\n"
	"begin\n"
	" if p_op = 'B' then\n"
	"  insert into gridboot_claims as c (tab, key, owner, until, data, instance)"
	"   values (p_tab, p_key, p_owner, p_until, p_data, p_inst)"
	"   on conflict (tab, key) do update set owner = excluded.owner, until = excluded.until,"
	"   data = excluded.data, instance = excluded.instance"
	"   where c.owner = excluded.owner or c.until <= extract(epoch from clock_timestamp());\n"
	"  if not found then\n"
	"   select owner, until into h, hu from gridboot_claims where tab = p_tab and key = p_key;\n"
	"   return coalesce(nullif(h, ''), '-') || ' ' || coalesce(hu, 0);\n"
	"  end if;\n"
	"  delete from gridboot_claims where tab = p_tab and owner = p_owner and key <> p_key;\n"

	" elsif p_op = 'F' then\n"
	"  delete from gridboot_claims where tab = p_tab and owner = p_owner;\n"

	" elsif p_op = 'D' then\n"
	"  insert into gridboot_claims as c (tab, key, owner, until, instance)"
	"   values (p_tab, p_key, '', p_until, p_inst)"
	"   on conflict (tab, key) do update set owner = '', until = excluded.until,"
	"   data = '-', instance = excluded.instance;\n"

	" end if;\n"
	" return '';\n"
	"end $$",
	/* Version 2: each process beats with a token of its own, so two
	 * running with one name are seen ("!" before the names). */
	"alter table gridboot_instances add column if not exists token text not null default ''",
	"create or replace function gridboot_beat(p_inst text, p_token text) returns text"
	" language plpgsql as $$\n"
	"declare r text; dup boolean;\n"
	"begin\n"
	" select token <> p_token and seen > now() - interval '3 seconds' into dup"
	"  from gridboot_instances where name = p_inst;\n"
	" insert into gridboot_instances (name, seen, token) values (p_inst, now(), p_token)"
	"  on conflict (name) do update set seen = now(), token = p_token;\n"
	" select string_agg(name, ' ' order by name) into r from gridboot_instances"
	"  where seen > now() - interval '3 seconds';\n"
	" return case when coalesce(dup, false) then '!' else '' end || coalesce(r, '');\n"
	"end $$",
	"update gridboot_schema set version = 2 where version < 2",
	"listen gridboot",
	"listen gridboot_msg",
	NULL,
};

static void lost(struct pg *pg, const char *why);
static void note(struct pg *pg, struct store_tab *t, const char *rec);
static void flush_notes(struct pg *pg);
static void start_connect(void *arg);

/* ---- the queue of queries in flight ---- */

static struct pending *
push(struct pg *pg, enum qkind kind)
{
	if (pg->qn == pg->qcap) {
		size_t ncap = pg->qcap ? 2 * pg->qcap : 64;
		struct pending *nq = ecalloc(ncap, sizeof *nq);
		for (size_t i = 0; i < pg->qn; i++)
			nq[i] = pg->q[(pg->qhead + i) % pg->qcap];
		free(pg->q);
		pg->q = nq;
		pg->qcap = ncap;
		pg->qhead = 0;
	}
	if (pg->qn == 0)
		pg->since_ms = mono_ms();    /* the wait for an answer starts now */
	struct pending *p = &pg->q[(pg->qhead + pg->qn++) % pg->qcap];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	return p;
}

static struct pending *
head(struct pg *pg)
{
	return pg->qn ? &pg->q[pg->qhead] : NULL;
}

static struct pending *
head_last(struct pg *pg)
{
	return &pg->q[(pg->qhead + pg->qn - 1) % pg->qcap];
}

static void
pop(struct pg *pg)
{
	pg->qhead = (pg->qhead + 1) % pg->qcap;
	pg->qn--;
}

/* ---- writing ---- */

static void
want(struct pg *pg, uint32_t events)
{
	if (pg->fd >= 0 && events != pg->events && ev_mod_fd(pg->st->loop, pg->fd, events) == 0)
		pg->events = events;
}

static void
flush(struct pg *pg)
{
	int r = PQflush(pg->conn);

	if (r < 0)
		lost(pg, PQerrorMessage(pg->conn));
	else
		want(pg, r > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static int
send_query(struct pg *pg, const char *sql, int n, const char *const *vals)
{
	if (PQsendQueryParams(pg->conn, sql, n, NULL, vals, NULL, NULL, 0) == 0) {
		lost(pg, PQerrorMessage(pg->conn));
		return -1;
	}
	pg->open++;
	return 0;
}

static int
send_sync(struct pg *pg, void (*done)(void *, int), void *arg, int setup)
{
	if (PQpipelineSync(pg->conn) == 0) {
		lost(pg, PQerrorMessage(pg->conn));
		return -1;
	}
	pg->open = 0;
	struct pending *p = push(pg, Q_SYNC);
	p->done = done;
	p->arg = arg;
	p->setup = setup;
	return 0;
}

static void
send_load(struct pg *pg, struct store_tab *t)
{
	const char *v[1] = { t->name };

	if (t->ops->reload)
		t->ops->reload(t->arg);

	if (send_query(pg, "select owner, key, until, data from gridboot_claims where tab = $1",
	    1, v) == 0)
		push(pg, Q_LOAD)->t = t;
}

/* ---- reading ---- */

static void
apply_row(struct store_tab *t, const char *owner, const char *key, const char *until,
    const char *data)
{
	struct store_rec r = { .owner = owner, .key = key, .data = data };

	r.op = owner[0] ? 'B' : 'D';
	r.until = strtoll(until, NULL, 10);
	if (!t->ops->apply(t->arg, &r))
		log_limited(&t->rl, LOG_WARNING, "%s: unreadable row %s %s in the database",
		    t->tag, owner, key);
}

static void
set_peers(struct pg *pg, const char *text)
{
	if (pg->peers && strcmp(pg->peers, text) == 0)
		return;
	free(pg->peers);
	free(pg->live);
	free(pg->livebuf);
	pg->peers = estrdup(text);
	pg->live = NULL;
	pg->nlive = 0;
	pg->me = -1;
	/* names have no spaces */
	char *copy = pg->livebuf = estrdup(text), *save = NULL;
	size_t cap = 0;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if ((size_t)pg->nlive == cap) {
			cap = cap ? 2 * cap : 4;
			pg->live = erealloc(pg->live, cap * sizeof *pg->live);
		}
		if (strcmp(w, pg->st->instance) == 0)
			pg->me = pg->nlive;
		pg->live[pg->nlive++] = w;
	}
	log_info("store: instances alive: %s", text[0] ? text : "(none)");
	events_emit(NULL, EVK_SYSTEM, "store: instances alive: %s", text[0] ? text : "(none)");
}

static void
refused(struct pg *pg, struct pending *p, const char *answer)
{
	char rec[600], holder[320] = "";
	long long until = 0;
	struct store_rec r;

	(*pg->m_refused)++;
	str_copy(rec, p->rec, sizeof rec);
	if (sscanf(answer, "%319s %lld", holder, &until) < 1 || !store_rec_parse(rec, &r))
		return;
	p->t->ops->refused(p->t->arg, &r, holder, until);
}

static void
result(struct pg *pg, struct pending *p, PGresult *res)
{
	ExecStatusType s = PQresultStatus(res);

	p->answered = true;
	pg->segment_puts |= p->kind == Q_PUT;
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		if (!pg->segment_failed)
			log_limited(&pg->rl, LOG_WARNING, "store: postgresql: %s",
			    s == PGRES_PIPELINE_ABORTED ? "a query after a failed one was skipped"
			    : PQresultErrorMessage(res));
		pg->segment_failed = true;
		return;
	}
	switch (p->kind) {
	case Q_LOAD:
		for (int i = 0; i < PQntuples(res); i++)
			apply_row(p->t, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
		break;
	case Q_PUT:
		if (PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0])
			refused(pg, p, PQgetvalue(res, 0, 0));
		else if (p->t)
			note(pg, p->t, p->rec);
		break;
	case Q_BEAT:
		if (PQntuples(res) != 1)
			break;
		const char *peers = PQgetvalue(res, 0, 0);
		if (*peers == '!') {
			peers++;
			(*pg->m_dupname)++;
			log_limited(&pg->rl_dup, LOG_ERR, "store: another gridbootd beats as %s too: "
			    "give each instance its own grid.instance", pg->st->instance);
		}
		set_peers(pg, peers);
		break;
	case Q_PLAIN:
		break;
	case Q_SYNC:
		break;
	}
}

static void
synced(struct pg *pg, struct pending p)
{
	int err = pg->segment_failed ? EIO : 0;

	/* A failed segment's puts are all undone, those answered before the
	 * failure too, and an owner's sync may close a segment another sync
	 * (a heartbeat's) began: every table's next owner sync reports it. */
	if (pg->segment_failed && pg->segment_puts) {
		pg->fail_gen++;
		pg->nlen = pg->ncommitted;  /* nothing of it to tell the others */
	}
	pg->ncommitted = pg->nlen;
	pg->segment_failed = pg->segment_puts = false;
	if (p.t && p.done) {
		if (p.t->fail_seen != pg->fail_gen)
			err = EIO;
		p.t->fail_seen = pg->fail_gen;
	}
	if (p.setup) {
		if (err) {
			lost(pg, p.setup == 1 ? "creating the schema failed" : "loading the tables failed");
			return;
		}
		if (p.setup == 1)
			return;
		pg->state = PG_READY;
		pg->retry_ms = 0;
		/* Syncs the loss failed were reported then: a table starts
		 * afresh with this connection. */
		for (struct store_tab *t = pg->st->tabs; t; t = t->next)
			t->fail_seen = pg->fail_gen;
		*pg->m_up = 1;
		(*pg->m_connects)++;
		log_info("store: postgresql ready (instance %s)", pg->st->instance);
		events_emit(NULL, EVK_SYSTEM, "store: postgresql connected (instance %s)",
		    pg->st->instance);
		return;
	}
	if (p.done) {
		(*pg->m_syncs)++;
		p.done(p.arg, err);
	}
	flush_notes(pg);
}

static void
send_fetch(struct pg *pg, struct store_tab *t, const char *key)
{
	const char *v[2] = { t->name, key };

	if (send_query(pg, "select owner, key, until, data from gridboot_claims"
	    " where tab = $1 and key = $2", 2, v) == 0) {
		push(pg, Q_LOAD)->t = t;
		if (send_sync(pg, NULL, NULL, 0) == 0)
			flush(pg);
	}
}

/* Another instance's records ("INST" then lines "TAB RECORD"), or
 * messages ("INST TEXT" then more lines of text, on gridboot_msg). */
static void
notified(struct pg *pg, const char *channel, const char *payload)
{
	char *buf = estrdup(payload), *p = buf, *inst, *line, *tab;
	bool msg = strcmp(channel, "gridboot_msg") == 0;
	struct store_rec r;

	inst = strsep(&p, msg ? " " : "\n");
	if (p == NULL || strcmp(inst, pg->st->instance) == 0)
		goto out;
	while ((line = strsep(&p, "\n")) != NULL) {
		if (*line == '\0')
			continue;
		if (msg) {
			if (pg->st->on_msg)
				pg->st->on_msg(pg->st->msg_arg, inst, line);
			continue;
		}
		tab = strsep(&line, " ");
		if (line == NULL)
			continue;
		for (struct store_tab *t = pg->st->tabs; t; t = t->next)
			if (strcmp(t->name, tab) == 0) {
				(*pg->m_remote)++;
				if (!store_rec_parse(line, &r))
					break;
				if (r.op == 'B' && strcmp(r.data, "*") == 0)
					send_fetch(pg, t, r.key);
				else
					t->ops->apply(t->arg, &r);
				break;
			}
	}
out:
	free(buf);
}

/* A record the database took, for the other instances. Bounded: past
 * 1 MiB unsent (no sync point for that long) the rest are not told, and
 * the others learn them at their next reconnect's load. */
static void
note(struct pg *pg, struct store_tab *t, const char *rec)
{
	size_t n = strlen(t->name) + 1 + strlen(rec) + 1;

	if (pg->nlen + n > (1u << 20)) {
		log_limited(&pg->rl, LOG_WARNING, "store: too many records to tell the other instances");
		return;
	}
	if (pg->nlen + n > pg->ncap) {
		pg->ncap = (pg->ncap + n) * 2;
		pg->notes = erealloc(pg->notes, pg->ncap);
	}
	pg->nlen += (size_t)snprintf(pg->notes + pg->nlen, pg->ncap - pg->nlen, "%s %s\n",
	    t->name, rec);
}

/* The records taken and the messages published so far, NOTIFYed in a
 * segment of their own with synchronous_commit off: only when no
 * segment is open (a NOTIFY among the lease puts would serialize the
 * commits, and the setting would make theirs asynchronous). */
static void
flush_notes(struct pg *pg)
{
	char *payload;
	const char *v[1];
	size_t head = strlen(pg->st->instance) + 1, at = 0;

	if (pg->state != PG_READY || pg->open || (pg->ncommitted == 0 && pg->msglen == 0))
		return;
	if (send_query(pg, "select set_config('synchronous_commit', 'off', true)", 0, NULL) < 0)
		return;
	push(pg, Q_PLAIN);
	payload = emalloc(head + MSG_MAX + 1);
	while (pg->conn && at < pg->ncommitted) {
		/* Whole lines, at most MSG_MAX bytes after "INST\n". */
		size_t end = at, n;
		while (end < pg->ncommitted) {
			char *nl = memchr(pg->notes + end, '\n', pg->ncommitted - end);
			size_t next = nl ? (size_t)(nl - pg->notes) + 1 : pg->ncommitted;
			if (next - at > MSG_MAX && end > at)
				break;
			end = next;
		}
		n = end - at;
		memcpy(payload, pg->st->instance, head - 1);
		payload[head - 1] = '\n';
		memcpy(payload + head, pg->notes + at, n > MSG_MAX ? MSG_MAX : n);
		payload[head + (n > MSG_MAX ? MSG_MAX : n)] = '\0';
		v[0] = payload;
		if (send_query(pg, "select pg_notify('gridboot', $1)", 1, v) == 0)
			push(pg, Q_PLAIN);
		at = end;
	}
	free(payload);
	/* What a segment still open wrote stays for its sync. */
	if (pg->nlen > pg->ncommitted)
		memmove(pg->notes, pg->notes + pg->ncommitted, pg->nlen - pg->ncommitted);
	pg->nlen -= pg->ncommitted;
	pg->ncommitted = 0;
	if (pg->conn && pg->msglen) {
		pg->msgbuf[pg->msglen] = '\0';
		v[0] = pg->msgbuf;
		if (send_query(pg, "select pg_notify('gridboot_msg', $1)", 1, v) == 0)
			push(pg, Q_PLAIN);
	}
	pg->msglen = 0;
	if (pg->conn && send_sync(pg, NULL, NULL, 0) == 0)
		flush(pg);
}

/* At the end of a turn: what waits to be told, if no segment is open. */
static void
publish_turn(void *arg)
{
	flush_notes(arg);
}

/* Every result that has fully arrived, then the notifications. */
static void
drain(struct pg *pg)
{
	PGnotify *n;

	while (pg->conn && !PQisBusy(pg->conn)) {
		struct pending *p = head(pg);
		PGresult *res = PQgetResult(pg->conn);
		if (res == NULL) {
			if (p && p->answered) {
				pop(pg);
				continue;
			}
			break;
		}
		pg->since_ms = mono_ms();
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			if (p == NULL || p->kind != Q_SYNC) {
				lost(pg, "a sync point out of order");
				return;
			}
			struct pending copy = *p;
			pop(pg);
			synced(pg, copy);
			continue;
		}
		if (p == NULL || p->kind == Q_SYNC) {
			PQclear(res);
			lost(pg, "a result nobody asked for");
			return;
		}
		result(pg, p, res);
		PQclear(res);
	}
	while (pg->conn && (n = PQnotifies(pg->conn)) != NULL) {
		notified(pg, n->relname, n->extra);
		PQfreemem(n);
	}
}

/* ---- the connection ---- */

static void
begin_setup(struct pg *pg)
{
	pg->state = PG_SETUP;
	if (PQsetnonblocking(pg->conn, 1) != 0 || PQenterPipelineMode(pg->conn) == 0) {
		lost(pg, PQerrorMessage(pg->conn));
		return;
	}
	for (const char *const *s = schema; *s; s++)
		if (send_query(pg, *s, 0, NULL) == 0)
			push(pg, Q_PLAIN);
		else
			return;
	if (send_sync(pg, NULL, NULL, 1) < 0)
		return;
	/* After LISTEN is committed, so no change falls between. */
	for (struct store_tab *t = pg->st->tabs; t && pg->conn; t = t->next)
		send_load(pg, t);
	if (pg->conn && send_sync(pg, NULL, NULL, 2) == 0)
		flush(pg);
}

static void
on_io(int fd, uint32_t events, void *arg)
{
	struct pg *pg = arg;

	(void)fd;
	if (pg->state == PG_CONNECTING) {
		PostgresPollingStatusType st = PQconnectPoll(pg->conn);
		/* libpq may open another socket (the next address, or again
		 * without SSL): watch that one instead. */
		if (st != PGRES_POLLING_FAILED && PQsocket(pg->conn) != pg->fd) {
			ev_del_fd(pg->st->loop, pg->fd);
			pg->fd = PQsocket(pg->conn);
			pg->events = EPOLLOUT;
			if (pg->fd < 0 || ev_add_fd(pg->st->loop, pg->fd, EPOLLOUT, on_io, pg) < 0) {
				pg->fd = -1;
				lost(pg, "no socket");
				return;
			}
		}
		switch (st) {
		case PGRES_POLLING_FAILED:
			lost(pg, PQerrorMessage(pg->conn));
			return;
		case PGRES_POLLING_READING:
			want(pg, EPOLLIN);
			return;
		case PGRES_POLLING_WRITING:
			want(pg, EPOLLOUT);
			return;
		default:
			want(pg, EPOLLIN);
			begin_setup(pg);
			return;
		}
	}
	if (events & EPOLLOUT)
		flush(pg);
	if (pg->conn && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		if (PQconsumeInput(pg->conn) == 0) {
			lost(pg, PQerrorMessage(pg->conn));
			return;
		}
		drain(pg);
	}
}

static void
close_conn(struct pg *pg)
{
	if (pg->fd >= 0)
		ev_del_fd(pg->st->loop, pg->fd);
	pg->fd = -1;
	pg->events = 0;
	if (pg->conn)
		PQfinish(pg->conn);
	pg->conn = NULL;
}

/* The connection is gone: every sync waiting fails (its replies are
 * dropped and the clients ask again), and a new one is tried later. */
static void
lost(struct pg *pg, const char *why)
{
	char msg[256];
	bool was_up = pg->state == PG_READY;

	str_copy(msg, why && *why ? why : "connection lost", sizeof msg);
	msg[strcspn(msg, "\n")] = '\0';
	close_conn(pg);
	pg->state = PG_DOWN;
	*pg->m_up = 0;
	if (was_up) {
		(*pg->m_losses)++;
		log_err("store: postgresql: %s; answering only renewals of known leases until it is back",
		    msg);
		events_emit(NULL, EVK_SYSTEM, "store: postgresql lost: %s", msg);
	} else
		log_limited(&pg->rl, LOG_WARNING, "store: postgresql: %s", msg);
	pg->segment_failed = pg->segment_puts = false;
	pg->open = 0;
	pg->nlen = pg->ncommitted = 0;
	pg->msglen = 0;
	pg->fail_gen++;
	while (pg->qn) {
		struct pending p = *head(pg);
		pop(pg);
		if (p.kind != Q_SYNC || p.done == NULL)
			continue;
		if (pg->nfails == pg->capfails) {
			pg->capfails = pg->capfails ? 2 * pg->capfails : 8;
			pg->fails = erealloc(pg->fails, pg->capfails * sizeof *pg->fails);
		}
		pg->fails[pg->nfails++] = (struct failed){ p.done, p.arg, p.t };
	}
	if (pg->nfails)
		ev_timer_arm(pg->st->loop, &pg->failt, 0);
	set_peers(pg, "");
	pg->retry_ms = pg->retry_ms ? pg->retry_ms * 2 : RETRY_MIN_MS;
	if (pg->retry_ms > RETRY_MAX_MS)
		pg->retry_ms = RETRY_MAX_MS;
	ev_timer_arm(pg->st->loop, &pg->retry, pg->retry_ms);
}

/* The server's notices ("already exists, skipping") and libpq's own:
 * to the debug log, not to stderr. */
static void
notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("store: postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* One connection's parameters, the daemon's and check's alike: the URI
 * expanded (dbname), and a database that stops answering over TCP found
 * by keepalives and the watchdog (on_beat), not by the kernel's 15
 * minutes. */
static const char *const conn_keys[] = { "dbname", "connect_timeout", "application_name",
	"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
	"tcp_user_timeout", NULL };

static const char *const *
conn_vals(const char **vals, const char *conninfo, const char *name)
{
	const char *v[] = { conninfo, "3", name, "1", "5", "2", "3", "10000", NULL };

	memcpy(vals, v, sizeof v);
	return vals;
}

static void
start_connect(void *arg)
{
	struct pg *pg = arg;
	const char *vals[nelem(conn_keys)];

	pg->since_ms = mono_ms();
	pg->conn = PQconnectStartParams(conn_keys, conn_vals(vals, pg->conninfo, "gridbootd"), 1);
	if (pg->conn == NULL || PQstatus(pg->conn) == CONNECTION_BAD) {
		lost(pg, pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
		return;
	}
	PQsetNoticeProcessor(pg->conn, notice, pg);
	pg->fd = PQsocket(pg->conn);
	pg->state = PG_CONNECTING;
	pg->events = EPOLLOUT;
	if (pg->fd < 0 || ev_add_fd(pg->st->loop, pg->fd, EPOLLOUT, on_io, pg) < 0) {
		pg->fd = -1;
		lost(pg, "no socket");
	}
}

static void
on_fails(void *arg)
{
	struct pg *pg = arg;
	size_t n = pg->nfails;

	pg->nfails = 0;
	for (size_t i = 0; i < n; i++)
		if (pg->fails[i].done)
			pg->fails[i].done(pg->fails[i].arg, ECONNRESET);
}

static void
on_beat(void *arg)
{
	struct pg *pg = arg;
	const char *v[2] = { pg->st->instance, pg->token };

	ev_timer_arm(pg->st->loop, &pg->beat, BEAT_MS);
	/* The watchdog: libpq has no timeout of its own once a connection
	 * is started without blocking, nor for an answer. */
	if ((pg->state == PG_CONNECTING || pg->state == PG_SETUP) &&
	    mono_ms() - pg->since_ms > STALL_MS) {
		lost(pg, "no connection within 10 s");
		return;
	}
	if (pg->state == PG_READY && pg->qn && mono_ms() - pg->since_ms > STALL_MS) {
		lost(pg, "no answer for 10 s");
		return;
	}
	if (pg->state != PG_READY)
		return;
	if (send_query(pg, "select gridboot_beat($1, $2)", 2, v) < 0)
		return;
	push(pg, Q_BEAT);
	if (send_sync(pg, NULL, NULL, 0) == 0)
		flush(pg);
}

struct pg *
pg_new(struct store *st, const char *conninfo)
{
	struct pg *pg = ecalloc(1, sizeof *pg);
	const struct metric_def defs[] = {
		{ &pg->m_up, "gridboot_store_up", NULL,
		  "1 while the PostgreSQL store is connected and set up", true },
		{ &pg->m_connects, "gridboot_store_connects_total", NULL,
		  "connections to the PostgreSQL store made ready" },
		{ &pg->m_losses, "gridboot_store_losses_total", NULL,
		  "connections to the PostgreSQL store lost while ready" },
		{ &pg->m_refused, "gridboot_store_refused_total", NULL,
		  "binds the database refused: another instance holds the key" },
		{ &pg->m_puts, "gridboot_store_puts_total", NULL, "records sent to the database" },
		{ &pg->m_syncs, "gridboot_store_syncs_total", NULL,
		  "pipeline sync points that committed a batch of records" },
		{ &pg->m_remote, "gridboot_store_remote_total", NULL,
		  "records applied from other instances (LISTEN/NOTIFY)" },
		{ &pg->m_dupname, "gridboot_store_duplicate_name_total", NULL,
		  "heartbeats that found another process beating under this instance's name" },
	};

	metrics_register(defs, nelem(defs));
	uint64_t r = 0;
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = (uint64_t)mono_ms() ^ ((uint64_t)getpid() << 32);
	snprintf(pg->token, sizeof pg->token, "%016llx", (unsigned long long)r);
	pg->st = st;
	pg->conninfo = estrdup(conninfo);
	pg->fd = -1;
	pg->me = -1;
	ev_timer_init(&pg->retry, start_connect, pg);
	ev_timer_init(&pg->beat, on_beat, pg);
	ev_timer_init(&pg->failt, on_fails, pg);
	/* The first turn, after the daemon forked (a connection made before
	 * would be the parent's). */
	ev_timer_arm(st->loop, &pg->retry, 0);
	ev_timer_arm(st->loop, &pg->beat, 0);
	if (st->loop)
		ev_add_turn_hook(st->loop, publish_turn, pg);
	return pg;
}

void
pg_free(struct pg *pg)
{
	if (pg == NULL)
		return;
	ev_timer_stop(pg->st->loop, &pg->retry);
	ev_timer_stop(pg->st->loop, &pg->beat);
	ev_timer_stop(pg->st->loop, &pg->failt);
	ev_del_turn_hook(pg->st->loop, publish_turn, pg);
	/* The tables are closed: nothing waiting has an owner left. */
	close_conn(pg);
	free(pg->q);
	free(pg->fails);
	free(pg->notes);
	free(pg->livebuf);
	free(pg->live);
	free(pg->peers);
	free(pg->conninfo);
	free(pg);
}

bool
pg_up(const struct pg *pg)
{
	return pg->state == PG_READY;
}

bool
pg_serves(const struct pg *pg, const uint8_t *id, size_t len)
{
	if (pg->state != PG_READY || pg->nlive == 0 || pg->me < 0)
		return true;
	return (fnv32(id, len) & 255) % (uint32_t)pg->nlive == (uint32_t)pg->me;
}

void
pg_share(const struct pg *pg, uint32_t *n, uint32_t *me)
{
	if (pg->state == PG_READY && pg->nlive > 1 && pg->me >= 0) {
		*n = (uint32_t)pg->nlive;
		*me = (uint32_t)pg->me;
	}
}

const char *
pg_peers(const struct pg *pg, int *n)
{
	*n = pg->nlive;
	return pg->peers ? pg->peers : "";
}

void
pg_tab_opened(struct pg *pg, struct store_tab *t)
{
	/* Connecting: the setup loads every table then. */
	if (pg->state == PG_SETUP || pg->state == PG_READY) {
		send_load(pg, t);
		if (pg->conn && send_sync(pg, NULL, NULL, 0) == 0)
			flush(pg);
	}
}

void
pg_tab_closed(struct pg *pg, struct store_tab *t)
{
	/* Results still due for t, and its syncs' callbacks, must not reach
	 * its owner: their entries become plain queries. */
	for (size_t i = 0; i < pg->qn; i++) {
		struct pending *p = &pg->q[(pg->qhead + i) % pg->qcap];
		if (p->t != t)
			continue;
		p->t = NULL;
		p->done = NULL;
		if (p->kind != Q_SYNC)
			p->kind = Q_PLAIN;
	}
	for (size_t i = 0; i < pg->nfails; i++)
		if (pg->fails[i].t == t)
			pg->fails[i].done = NULL;
}

int
pg_put(struct pg *pg, struct store_tab *t, const struct store_rec *r)
{
	char until[24], op[2] = { r->op, 0 };
	const char *v[7];
	struct pending *p;

	if (pg->state != PG_READY || pg->qn >= MAX_PENDING)
		return -1;
	snprintf(until, sizeof until, "%" PRId64, r->until);
	v[0] = pg->st->instance;
	v[1] = t->name;
	v[2] = op;
	v[3] = r->owner ? r->owner : "";
	v[4] = r->key ? r->key : "";
	v[5] = until;
	v[6] = r->data && *r->data ? r->data : "-";
	if (send_query(pg, "select gridboot_put($1, $2, $3, $4, $5, $6::bigint, $7)", 7, v) < 0)
		return -1;
	p = push(pg, Q_PUT);
	p->t = t;
	/* NOTIFY's payload is small: a long datum is fetched by the others. */
	snprintf(p->rec, sizeof p->rec, "%c %s %s %" PRId64 " %s", r->op, v[3], v[4], r->until,
	    strlen(v[6]) > 200 ? "*" : v[6]);
	if (r->op == 'F')
		snprintf(p->rec, sizeof p->rec, "F %s", v[3]);
	else if (r->op == 'D')
		snprintf(p->rec, sizeof p->rec, "D %s %" PRId64, v[4], r->until);
	t->pg_dirty = true;
	(*pg->m_puts)++;
	return 0;
}

int
pg_sync(struct pg *pg, struct store_tab *t, void (*done)(void *, int), void *arg)
{
	if (pg->state != PG_READY)
		return -1;
	t->pg_dirty = false;
	if (send_sync(pg, done, arg, 0) < 0)
		return -1;
	head_last(pg)->t = t;
	flush_notes(pg);
	flush(pg);
	return STORE_ASYNC;
}

void
pg_publish(struct pg *pg, const char *line)
{
	size_t n = strlen(line), head = strlen(pg->st->instance) + 1;

	if (pg->state != PG_READY || n + head + 1 > MSG_MAX || strchr(line, '\n'))
		return;
	if (pg->msglen + n + 1 > MSG_MAX)
		flush_notes(pg);
	if (pg->msglen + n + 1 > MSG_MAX)
		return;         /* a segment is open: the rest of this turn's are lost */
	if (pg->msglen == 0) {
		memcpy(pg->msgbuf, pg->st->instance, head - 1);
		pg->msgbuf[head - 1] = ' ';
		pg->msglen = head;
	} else
		pg->msgbuf[pg->msglen++] = '\n';
	memcpy(pg->msgbuf + pg->msglen, line, n);
	pg->msglen += n;
}

int
pg_probe(const char *conninfo, char *why, size_t whylen)
{
	const char *vals[nelem(conn_keys)];
	PGconn *c = PQconnectdbParams(conn_keys, conn_vals(vals, conninfo, "gridbootd check"), 1);
	int rc = 0;

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		str_copy(why, c ? PQerrorMessage(c) : "out of memory", whylen);
		why[strcspn(why, "\n")] = '\0';
		rc = -1;
	}
	PQfinish(c);
	return rc;
}
