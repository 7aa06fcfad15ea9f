/* What core/store.c and its PostgreSQL backend (core/store_pg.c) share;
 * nothing else includes it. */
#ifndef GRIDBOOT_STORE_IMPL_H
#define GRIDBOOT_STORE_IMPL_H

#include "core/log.h"
#include "core/store.h"

struct journal;
struct pg;

struct store_tab {
	struct store *st;
	struct store_tab *next;     /* the store's tables */
	char *name;
	const char *tag;
	const struct store_tab_ops *ops;
	void *arg;
	struct journal *j;          /* files */
	/* compaction's text (files) */
	char *cbuf;
	size_t clen, ccap;
	unsigned long crecs;
	bool pg_dirty;              /* written since the last sync began */
	unsigned long fail_seen;    /* the store's failed segments, at our last sync */
	struct ratelimit rl;
};

struct store {
	struct evloop *loop;
	char *statedir;
	char *instance;
	struct pg *pg;              /* NULL: files */
	struct store_tab *tabs;
	void (*on_msg)(void *arg, const char *instance, const char *line);
	void *msg_arg;
};


/* core/store_pg.c */
struct pg *pg_new(struct store *st, const char *conninfo);
void pg_free(struct pg *pg);
bool pg_up(const struct pg *pg);
bool pg_serves(const struct pg *pg, const uint8_t *id, size_t len);
void pg_share(const struct pg *pg, uint32_t *n, uint32_t *me);
const char *pg_peers(const struct pg *pg, int *n);
void pg_tab_opened(struct pg *pg, struct store_tab *t);
void pg_tab_closed(struct pg *pg, struct store_tab *t);
int pg_put(struct pg *pg, struct store_tab *t, const struct store_rec *r);
int pg_sync(struct pg *pg, struct store_tab *t, void (*done)(void *, int), void *arg);
void pg_publish(struct pg *pg, const char *line);
int pg_probe(const char *conninfo, char *why, size_t whylen);

#endif
