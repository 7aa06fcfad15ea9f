/* The store (see store.h): its files backend, and the dispatch to the
 * PostgreSQL one (store_pg.c). */
#include "core/store_impl.h"
#include "core/journal.h"
#include "core/log.h"
#include "core/util.h"
#include <errno.h>
#include <openssl/evp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
store_spec_is_pg(const char *spec)
{
	return spec && (strncmp(spec, "postgresql://", 13) == 0 ||
	    strncmp(spec, "postgres://", 11) == 0);
}

struct store *
store_new(struct evloop *loop, const char *spec, const char *statedir, const char *instance)
{
	struct store *st;

	if (spec && strcmp(spec, "files") != 0 && !store_spec_is_pg(spec)) {
		log_err("store: \"%s\": use \"files\" or a postgresql:// URI", spec);
		return NULL;
	}
	st = ecalloc(1, sizeof *st);
	st->loop = loop;
	st->statedir = estrdup(statedir);
	st->instance = estrdup(instance && *instance ? instance : "gridbootd");
	if (store_spec_is_pg(spec) && (st->pg = pg_new(st, spec)) == NULL) {
		store_free(st);
		return NULL;
	}
	return st;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	pg_free(st->pg);
	free(st->statedir);
	free(st->instance);
	free(st);
}

int
store_probe(const char *spec, char *why, size_t whylen)
{
	if (!store_spec_is_pg(spec))
		return 0;
	return pg_probe(spec, why, whylen);
}

bool
store_shared(const struct store *st)
{
	return st->pg != NULL;
}

bool
store_up(const struct store *st)
{
	return st->pg == NULL || pg_up(st->pg);
}

bool
store_tab_up(const struct store_tab *t)
{
	return store_up(t->st);
}

bool
store_serves(const struct store *st, const uint8_t *id, size_t len)
{
	return st->pg == NULL || pg_serves(st->pg, id, len);
}

void
store_share(const struct store *st, uint32_t *n, uint32_t *me)
{
	*n = 1;
	*me = 0;
	if (st->pg)
		pg_share(st->pg, n, me);
}

const char *
store_peers(const struct store *st, int *n)
{
	if (st->pg == NULL) {
		*n = 0;
		return "";
	}
	return pg_peers(st->pg, n);
}

void
store_publish(struct store *st, const char *line)
{
	if (st->pg)
		pg_publish(st->pg, line);
}

void
store_on_message(struct store *st, void (*fn)(void *, const char *, const char *), void *arg)
{
	st->on_msg = fn;
	st->msg_arg = arg;
}

void
store_commit(struct store_tab *t)
{
	if (t->st->pg)
		pg_sync(t->st->pg, t, NULL, NULL);
	else
		journal_sync(t->j);
}

char *
store_data_encode(const char *text)
{
	size_t n = strlen(text);
	char *out = emalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
	return out;
}

char *
store_data_decode(const char *token)
{
	size_t n = strlen(token);
	char *out;
	int len;

	if (n == 0 || n % 4 != 0 || n > (1u << 24))
		return NULL;
	out = emalloc(n / 4 * 3 + 1);
	len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)token, (int)n);
	if (len < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding's zero bytes. */
	while (n > 0 && token[--n] == '=')
		len--;
	out[len] = '\0';
	if (strlen(out) != (size_t)len) {     /* a NUL inside: not text */
		free(out);
		return NULL;
	}
	return out;
}

/* ---- records as text: the journal's lines ---- */

static char *
token(char **p)
{
	char *s = *p, *e;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return NULL;
	e = s + strcspn(s, " ");
	if (*e)
		*e++ = '\0';
	*p = e;
	return s;
}

static bool
parse_time(const char *s, int64_t *t)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return false;
	*t = v;
	return true;
}

bool
store_rec_parse(char *line, struct store_rec *r)
{
	char *p = line, *op = token(&p), *a, *b, *c, *d;

	memset(r, 0, sizeof *r);
	if (op == NULL || op[1] != '\0')
		return false;
	r->op = op[0];
	a = token(&p);
	b = token(&p);
	c = token(&p);
	d = token(&p);
	while (*p == ' ')
		p++;
	r->rest = p;
	switch (r->op) {
	case 'B':
		if (!a || !b || !c || !parse_time(c, &r->until))
			return false;
		r->owner = a;
		r->key = b;
		r->data = d ? d : "-";
		return true;
	case 'F':
		r->owner = a;
		return a != NULL;
	case 'D':
		if (!a || !b || !parse_time(b, &r->until))
			return false;
		r->key = a;
		return true;
	}
	return false;
}

static int
rec_format(const struct store_rec *r, char *buf, size_t cap)
{
	int n = -1;

	switch (r->op) {
	case 'B':
		n = snprintf(buf, cap, "B %s %s %" PRId64 " %s\n", r->owner, r->key, r->until,
		    r->data && *r->data ? r->data : "-");
		break;
	case 'F':
		n = snprintf(buf, cap, "F %s\n", r->owner);
		break;
	case 'D':
		n = snprintf(buf, cap, "D %s %" PRId64 "\n", r->key, r->until);
		break;
	}
	return n > 0 && (size_t)n < cap ? n : -1;
}

/* ---- tables ---- */

static int compact_now(struct store_tab *t);

static bool
replay_line(void *arg, char *line)
{
	struct store_tab *t = arg;
	struct store_rec r;

	return store_rec_parse(line, &r) && t->ops->apply(t->arg, &r);
}

struct store_tab *
store_tab_open(struct store *st, const char *name, const char *tag,
    const struct store_tab_ops *ops, void *arg)
{
	struct store_tab *t = ecalloc(1, sizeof *t);

	t->st = st;
	t->name = estrdup(name);
	t->tag = tag;
	t->ops = ops;
	t->arg = arg;
	if (st->pg) {
		t->next = st->tabs;
		st->tabs = t;
		pg_tab_opened(st->pg, t);   /* rows come when it is connected */
		return t;
	}
	t->j = journal_open(st->statedir, name, tag, replay_line, t);
	if (t->j == NULL) {
		store_tab_close(t);
		return NULL;
	}
	/* Written compact once, which also opens it for appending. */
	if (compact_now(t) < 0) {
		store_tab_close(t);
		return NULL;
	}
	return t;
}

void
store_tab_close(struct store_tab *t)
{
	if (t == NULL)
		return;
	if (t->st->pg) {
		pg_tab_closed(t->st->pg, t);
		for (struct store_tab **p = &t->st->tabs; *p; p = &(*p)->next)
			if (*p == t) {
				*p = t->next;
				break;
			}
	}
	journal_close(t->j);
	free(t->cbuf);
	free(t->name);
	free(t);
}

int
store_put(struct store_tab *t, const struct store_rec *r)
{
	char line[600];

	if (t->st->pg)
		return pg_put(t->st->pg, t, r);
	if (rec_format(r, line, sizeof line) < 0)
		return -1;
	return journal_append(t->j, "%s", line);
}

bool
store_dirty(const struct store_tab *t)
{
	return t->st->pg ? t->pg_dirty : journal_dirty(t->j);
}

int
store_sync(struct store_tab *t)
{
	if (t->st->pg)
		return t->pg_dirty ? -1 : 0;
	return journal_sync(t->j);
}

int
store_sync_begin(struct store_tab *t, void (*done)(void *arg, int err), void *arg)
{
	if (t->st->pg)
		return pg_sync(t->st->pg, t, done, arg);
	return journal_sync_begin(t->j);
}

int
store_sync_end(struct store_tab *t, int err)
{
	if (t->st->pg) {
		if (err)
			log_limited(&t->rl, LOG_WARNING, "%s: the database did not commit a batch: %s",
			    t->tag, strerror(err));
		return err ? -1 : 0;
	}
	return journal_sync_end(t->j, err);
}

static void
emit(struct store_tab *t, const struct store_rec *r)
{
	char line[600];
	int n = rec_format(r, line, sizeof line);

	if (n < 0)
		return;
	if (t->clen + (size_t)n > t->ccap) {
		t->ccap = t->ccap ? 2 * t->ccap + (size_t)n : 4096;
		t->cbuf = erealloc(t->cbuf, t->ccap);
	}
	memcpy(t->cbuf + t->clen, line, (size_t)n);
	t->clen += (size_t)n;
	t->crecs++;
}

static int
compact_now(struct store_tab *t)
{
	int rc;

	t->clen = 0;
	t->crecs = 0;
	if (t->ops->each_live)
		t->ops->each_live(t->arg, t, emit);
	rc = journal_rewrite(t->j, t->cbuf ? t->cbuf : "", t->clen, t->crecs);
	free(t->cbuf);
	t->cbuf = NULL;
	t->ccap = 0;
	return rc;
}

void
store_compact(struct store_tab *t, unsigned long live)
{
	if (t->st->pg == NULL && journal_records(t->j) > 4096 &&
	    journal_records(t->j) > 4 * live)
		compact_now(t);
}
