/* The store: where the daemon's durable claims live (docs/scale.md).
 *
 * A claim says that an owner holds a key until a time: a MAC holds an
 * IPv4 address (DHCPv4's leases), or nobody holds a key that is blocked
 * (a declined address). A table of claims is what a lease server needs
 * to survive a crash and, with a shared store, to share its addresses
 * with other gridbootd without handing one out twice. Nothing here
 * knows what the keys are.
 *
 * Two backends behind the one interface, chosen by grid.store:
 *   files       (the default) each table is an append-only journal in
 *               the state directory (core/journal.h), synced once per
 *               loop turn in the holding queue's thread (core/holdq.h);
 *   postgresql  every table is rows of one PostgreSQL table
 *               (core/store_pg.c), written through libpq's non-blocking
 *               pipeline on the event loop; the database decides who
 *               holds a key, so two instances never bind one key to two
 *               owners; a change made by another instance arrives by
 *               LISTEN/NOTIFY and is applied here as if replayed.
 *
 * The owner of a table (dhcp/dhcp_lease.c) writes records with
 * store_put, keeps its reply until the table's sync says they are
 * durable (store_sync_begin/end), and learns with refused() when the
 * database gave a key to someone else. */
#ifndef GRIDBOOT_STORE_H
#define GRIDBOOT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct store;
struct store_tab;

/* One record. Strings are tokens: no space, no newline; owner and key at
 * most 300 bytes together with the rest. */
struct store_rec {
	char op;                    /* 'B' owner holds key until; 'F' owner frees
	                             * its key; 'D' key blocked until, no owner */
	const char *owner;          /* B, F */
	const char *key;            /* B, D */
	int64_t until;              /* B, D: seconds since the epoch */
	const char *data;           /* B: a token ("-": none) */
	const char *rest;           /* parsed from text: what followed, or "" (an
	                             * owner's older line format) */
};

/* A record's parse from its text form ("B owner key until data", "F
 * owner", "D key until"; the journal's lines, NOTIFY's payloads): the
 * fields point into line, which is cut. false if it is not one. */
bool store_rec_parse(char *line, struct store_rec *r);

struct store_tab_ops {
	/* A record read at open, or written by another instance: false if
	 * it cannot be read (counted, not fatal). */
	bool (*apply)(void *arg, const struct store_rec *r);
	/* The database refused r (a bind): key is held by holder until. */
	void (*refused)(void *arg, const struct store_rec *r, const char *holder,
	    int64_t until);
	/* Before a database's rows are read again (a reconnect): what the
	 * table believed durable may have changed meanwhile (may be NULL). */
	void (*reload)(void *arg);
	/* Compaction (files): emit every live record through emit. */
	void (*each_live)(void *arg, struct store_tab *t,
	    void (*emit)(struct store_tab *t, const struct store_rec *r));
};

/* What grid.store names. spec is "files" (or NULL) or a PostgreSQL URI
 * ("postgresql://..."); statedir holds the files; instance names this
 * daemon among several sharing a database. NULL on a bad spec (logged).
 * A database is connected to on the loop, from its first turn. */
struct store *store_new(struct evloop *loop, const char *spec, const char *statedir,
    const char *instance);
void store_free(struct store *st);
/* True for a spec that names a database (checked by config/). */
bool store_spec_is_pg(const char *spec);
/* For `check`: can the database be reached (0), or why not (-1, why). */
int store_probe(const char *spec, char *why, size_t whylen);

/* Shared by several instances (a database), not files of our own. */
bool store_shared(const struct store *st);
/* Writes can be made durable now (files: always; a database: connected). */
bool store_up(const struct store *st);
/* store_up of t's store. */
bool store_tab_up(const struct store_tab *t);
/* Should this instance answer the client whose id is id[0..len)? Every
 * client is one of 256 buckets (a hash of its id, as in RFC 3074); the
 * instances whose heartbeat the database saw in the last 3 s share the
 * buckets in the order of their names. Files, or no database: true. */
bool store_serves(const struct store *st, const uint8_t *id, size_t len);
/* This instance's share of a pool: *n shares (the instances alive), *me
 * its own; 1 and 0 for files or while the database is away. */
void store_share(const struct store *st, uint32_t *n, uint32_t *me);
/* The instances seen alive (" "-separated, this one included) and their
 * count; "" and 0 for files. */
const char *store_peers(const struct store *st, int *n);

/* Messages between instances (a database's LISTEN/NOTIFY; nothing with
 * files): a line published this turn reaches every other instance's
 * on_msg with the publisher's name, once the turn ends. A line has no
 * newline and at most ~7000 bytes. */
void store_publish(struct store *st, const char *line);
void store_on_message(struct store *st,
    void (*fn)(void *arg, const char *instance, const char *line), void *arg);
/* Commits what t has written, with no reply waiting for it (a role
 * change); files: syncs inline. */
void store_commit(struct store_tab *t);

/* A datum with spaces or newlines (JSON) as a record's token, and back:
 * base64, malloc'd; decode returns NULL on bad input. */
char *store_data_encode(const char *text);
char *store_data_decode(const char *token);

/* Opens table name (files: STATE/name), replaying it through ops->apply.
 * tag prefixes log lines. NULL on error (logged). */
struct store_tab *store_tab_open(struct store *st, const char *name, const char *tag,
    const struct store_tab_ops *ops, void *arg);
/* Syncs what is dirty (files) and frees t (NULL is fine). */
void store_tab_close(struct store_tab *t);

/* Writes one record. -1 if it was not written (the store is away, or a
 * file write failed): the caller must not announce it. */
int store_put(struct store_tab *t, const struct store_rec *r);
bool store_dirty(const struct store_tab *t);
/* Makes every written record durable, inline (files only; a database
 * returns -1 unless nothing is dirty). */
int store_sync(struct store_tab *t);

/* The sync in two halves. begin returns a descriptor for another thread
 * to fdatasync (files), or STORE_ASYNC: the database will call
 * done(arg, err) on the loop when every record written before it is
 * committed (err 0) or may not be (err != 0); or -1 if it cannot start.
 * end takes that err and returns 0 or -1 as the sync did. */
#define STORE_ASYNC (-2)
int store_sync_begin(struct store_tab *t, void (*done)(void *arg, int err), void *arg);
int store_sync_end(struct store_tab *t, int err);

/* Files: rewrites the journal as its live records (ops->each_live) when
 * it is mostly history (more than 4096 records and live*4). */
void store_compact(struct store_tab *t, unsigned long live);

#endif
