#include "config/discovered.h"
#include "core/limiter.h"
#include "core/store.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The store. One per process, deliberately: it is one file in the state
 * directory, which one daemon owns, opened and closed by daemon_serve;
 * DHCP, DHCPv6, the API and the grid tree all record into the same one
 * through this file's functions. Its state is this one struct. */
static struct {
	struct discovered *table;
	size_t ntable, captable;
	size_t nenrolled;           /* records with facts */
	size_t facts_total;         /* bytes of facts text over all records */
	char *store_path;
	bool dirty;                 /* last_seen moved: flush within a minute */
	bool changed_pending;       /* a new machine or new facts: flush within a second */
	uint64_t last_save_ms;
	struct ratelimit rl_evict;
} S;

static struct discovered *
find(const uint8_t mac[6])
{
	for (size_t i = 0; i < S.ntable; i++)
		if (memcmp(S.table[i].mac, mac, 6) == 0)
			return &S.table[i];
	return NULL;
}

/* One record as a line of JSON. The facts are spliced in as the text
 * they were stored as (compact JSON from jansson), never parsed again:
 * a save costs the bytes it writes, not a parse of every record. */
static char *
record_text(const struct discovered *d)
{
	char mac[18];

	mac_format(d->mac, mac);
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:I, s:I}",
	    "mac", mac, "client_arch", d->client_arch,
	    "vendor_class", d->vendor_class, "uuid", d->uuid,
	    "first_seen_ms", (json_int_t)d->first_seen_ms,
	    "last_seen_ms", (json_int_t)d->last_seen_ms);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL || d->facts_json == NULL)
		return text;
	size_t n = strlen(text);        /* ends in '}' */
	char *out = esprintf("%.*s,\"facts\":%s}", (int)(n - 1), text, d->facts_json);
	free(text);
	return out;
}

static int
save(void)
{
	size_t cap = 4096, len = 0;
	char *buf = emalloc(cap);

	buf[len++] = '[';
	for (size_t i = 0; i < S.ntable; i++) {
		char *rec = record_text(&S.table[i]);
		size_t n = rec ? strlen(rec) : 0;
		if (len + n + 4 > cap) {
			cap = MAX(cap * 2, len + n + 4);
			buf = erealloc(buf, cap);
		}
		if (i)
			buf[len++] = ',';
		buf[len++] = '\n';
		memcpy(buf + len, rec, n);
		len += n;
		free(rec);
	}
	buf[len++] = '\n';
	buf[len++] = ']';
	buf[len++] = '\n';
	int rc = S.store_path ? write_file_atomic(S.store_path, buf, len) : 0;
	if (rc < 0)
		log_err("%s: %s", S.store_path, strerror(errno));
	free(buf);
	S.dirty = S.changed_pending = false;
	S.last_save_ms = mono_ms();
	return rc;
}

static void
drop_facts(struct discovered *d)
{
	if (d->facts_json == NULL)
		return;
	S.facts_total -= strlen(d->facts_json);
	S.nenrolled--;
	free(d->facts_json);
	d->facts_json = NULL;
}

static void
remove_at(size_t i)
{
	drop_facts(&S.table[i]);
	S.ntable--;
	S.table[i] = S.table[S.ntable];
}

/* Room for one more, or NULL: when full, the oldest record that never
 * enrolled gives way (a MAC-spraying host must not grow us forever).
 * Enrolled records are capped far below the table's size
 * (DISCOVERED_MAX_ENROLLED), so there is always such a record. */
static struct discovered *
add(const uint8_t mac[6])
{
	if (S.ntable >= DISCOVERED_MAX) {
		size_t victim = S.ntable;
		for (size_t i = 0; i < S.ntable; i++)
			if (S.table[i].facts_json == NULL &&
			    (victim == S.ntable || S.table[i].last_seen_ms < S.table[victim].last_seen_ms))
				victim = i;
		if (victim == S.ntable)
			return NULL;
		remove_at(victim);
	}
	if (S.ntable == S.captable) {
		S.captable = S.captable ? S.captable * 2 : 64;
		S.table = erealloc(S.table, S.captable * sizeof *S.table);
	}
	struct discovered *d = &S.table[S.ntable++];
	memset(d, 0, sizeof *d);
	memcpy(d->mac, mac, 6);
	d->client_arch = -1;
	return d;
}

int
discovered_facts_depth(const json_t *j)
{
	int deepest = 0;

	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)j, k, v) {
			int n = discovered_facts_depth(v);
			deepest = n > deepest ? n : deepest;
			if (deepest > DISCOVERED_MAX_DEPTH)
				break;
		}
		return deepest + 1;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			int n = discovered_facts_depth(v);
			deepest = n > deepest ? n : deepest;
			if (deepest > DISCOVERED_MAX_DEPTH)
				break;
		}
		return deepest + 1;
	}
	return 0;
}

/* Gives d the facts text (taking it), within the caps on enrolled
 * records and on facts bytes over all records: the records that enrolled
 * longest ago (by last sighting) lose their facts first, and are told in
 * the log. -1 (text not taken) if it could never fit. */
static int
set_facts_text(struct discovered *d, char *text)
{
	size_t n = strlen(text);

	if (n > DISCOVERED_MAX_FACTS)
		return -1;
	drop_facts(d);
	while (S.nenrolled >= DISCOVERED_MAX_ENROLLED || S.facts_total + n > DISCOVERED_MAX_FACTS_TOTAL) {
		struct discovered *old = NULL;
		for (size_t i = 0; i < S.ntable; i++)
			if (S.table[i].facts_json && &S.table[i] != d &&
			    (old == NULL || S.table[i].last_seen_ms < old->last_seen_ms))
				old = &S.table[i];
		if (old == NULL)
			return -1;
		char macs[18];
		mac_format(old->mac, macs);
		log_limited(&S.rl_evict, LOG_WARNING,
		    "discovered: %s's enrolled facts give way (at most %d records, %d bytes)",
		    macs, DISCOVERED_MAX_ENROLLED, DISCOVERED_MAX_FACTS_TOTAL);
		drop_facts(old);
	}
	d->facts_json = text;
	S.facts_total += n;
	S.nenrolled++;
	return 0;
}

/* One record as save() writes it, into the table (replacing what it
 * says of a machine already there). false when the table is full. */
static bool
take_object(json_t *o)
{
	const char *macs = json_string_value(json_object_get(o, "mac"));
	uint8_t mac[6];
	struct discovered *d;
	json_t *v;

	if (macs == NULL || !mac_parse(macs, mac))
		return true;
	if ((d = find(mac)) == NULL && (d = add(mac)) == NULL)
		return false;
	if ((v = json_object_get(o, "client_arch")) && json_is_integer(v))
		d->client_arch = (int)json_integer_value(v);
	if ((v = json_object_get(o, "vendor_class")) && json_is_string(v))
		str_copy(d->vendor_class, json_string_value(v), sizeof d->vendor_class);
	if ((v = json_object_get(o, "uuid")) && json_is_string(v))
		str_copy(d->uuid, json_string_value(v), sizeof d->uuid);
	d->first_seen_ms = json_integer_value(json_object_get(o, "first_seen_ms"));
	d->last_seen_ms = json_integer_value(json_object_get(o, "last_seen_ms"));
	if ((v = json_object_get(o, "facts")) && json_is_object(v) &&
	    discovered_facts_depth(v) <= DISCOVERED_MAX_DEPTH) {
		char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		if (text && set_facts_text(d, text) < 0)
			free(text);
	}
	return true;
}

static void
load(void)
{
	json_error_t err;
	size_t i, len = 0;
	json_t *o, *arr = NULL;
	/* By descriptor, refusing a link or a FIFO grid.user planted. */
	char *stored = read_state_file(S.store_path, &len, (size_t)1 << 30);
	int rerr = errno;
	bool readable = stored != NULL;

	if (!readable && rerr == ENOENT)
		return;
	if (readable)
		arr = json_loadb(stored, len, 0, &err);
	free(stored);
	if (arr == NULL || !json_is_array(arr)) {
		/* Kept for the operator, never overwritten by the next save
		 * (a link or a FIFO is moved by name, its target untouched). */
		char *to = move_aside(S.store_path);
		if (!readable)
			log_err("%s: %s; moved aside to %s, starting with no discovered machines",
			    S.store_path, state_strerror(rerr), to ? to : "(could not move it)");
		else
			log_err("%s:%d: %s; moved aside to %s, starting with no discovered machines",
			    S.store_path, arr ? 0 : err.line, arr ? "not a list" : err.text,
			    to ? to : "(could not move it)");
		free(to);
		json_decref(arr);
		return;
	}
	json_array_foreach(arr, i, o)
		if (!take_object(o))
			break;
	json_decref(arr);
}

int
discovered_open(const char *statedir)
{
	discovered_close();
	if (mkdir_p(statedir, 0750) < 0) {
		log_err("%s: %s", statedir, strerror(errno));
		return -1;
	}
	S.store_path = esprintf("%s/discovered.json", statedir);
	load();
	return 0;
}

void
discovered_close(void)
{
	if (S.dirty || S.changed_pending)
		save();
	for (size_t i = 0; i < S.ntable; i++)
		free(S.table[i].facts_json);
	free(S.table);
	S.table = NULL;
	S.captable = 0;
	S.ntable = 0;
	S.nenrolled = 0;
	S.facts_total = 0;
	free(S.store_path);
	S.store_path = NULL;
}

/* ---- sharing with other instances (core/store.h) ---- */

static struct store_tab *shared;

void
discovered_share(struct store_tab *t)
{
	shared = t;
	for (size_t i = 0; i < S.ntable; i++)
		S.table[i].share_due = false;
}

/* Sends the records that changed since the last call (new machines,
 * enroll facts): from the daemon's one-second timer. */
static void
share_due(void)
{
	char m12[13];
	bool any = false;

	/* While the database is away they stay due, for when it is back. */
	if (shared == NULL || !store_tab_up(shared))
		return;
	for (size_t i = 0; i < S.ntable; i++) {
		struct discovered *d = &S.table[i];
		if (!d->share_due)
			continue;
		char *text = record_text(d), *data = text ? store_data_encode(text) : NULL;
		mac_hex(d->mac, m12);
		struct store_rec r = { 'B', m12, m12, INT64_C(1) << 40, data };
		if (data && store_put(shared, &r) == 0) {
			d->share_due = false;
			any = true;
		}
		free(data);
		free(text);
	}
	if (any)
		store_commit(shared);
}

bool
discovered_take(const struct store_rec *r)
{
	char *text;
	json_t *o;
	uint8_t owner[6], mac[6];
	const char *macs;
	bool ok;

	if (r->op != 'B' || !mac_parse(r->owner, owner) || (text = store_data_decode(r->data)) == NULL)
		return false;
	o = json_loads(text, 0, NULL);
	free(text);
	macs = json_string_value(json_object_get(o, "mac"));
	ok = json_is_object(o) && macs && mac_parse(macs, mac) && memcmp(mac, owner, 6) == 0;
	if (ok && take_object(o))
		S.changed_pending = true;
	json_decref(o);
	return ok;
}

const struct discovered *
discovered_find(const uint8_t mac[6])
{
	return find(mac);
}

bool
discovered_admit(const uint8_t mac[6], int64_t now_ms)
{
	static struct lim_window w; /* one budget for the one store */

	if (find(mac) != NULL)
		return true;
	return lim_window_take(&w, DISCOVERED_NEW_PER_SEC, 1000, (uint64_t)now_ms);
}

const struct discovered *
discovered_seen(const uint8_t mac[6], int client_arch, const char *vendor_class,
    const char *uuid)
{
	struct discovered *d = find(mac);
	bool changed = false;
	int64_t now = wall_ms();

	if (d == NULL) {
		if ((d = add(mac)) == NULL)
			return NULL;
		d->first_seen_ms = now;
		changed = true;
	}
	if (client_arch != d->client_arch && client_arch >= 0) {
		d->client_arch = client_arch;
		changed = true;
	}
	if (vendor_class && strncmp(d->vendor_class, vendor_class, sizeof d->vendor_class - 1)) {
		str_copy(d->vendor_class, vendor_class, sizeof d->vendor_class);
		changed = true;
	}
	if (uuid && *uuid && strncmp(d->uuid, uuid, sizeof d->uuid - 1)) {
		str_copy(d->uuid, uuid, sizeof d->uuid);
		changed = true;
	}
	d->last_seen_ms = now;
	/* Never in the DHCP reply's path: discovered_flush() writes it from a
	 * timer. A crash loses at most a second of sightings, and the client
	 * is seen again at its next DHCP. */
	if (changed) {
		S.changed_pending = true;
		d->share_due = shared != NULL;
	} else
		S.dirty = true;
	return d;
}

int
discovered_set_facts(const uint8_t mac[6], const char *json)
{
	struct discovered *d = find(mac);
	json_error_t err;
	json_t *obj;

	if (strlen(json) > DISCOVERED_MAX_FACTS ||
	    (obj = json_loads(json, JSON_REJECT_DUPLICATES, &err)) == NULL)
		return -1;
	bool fits = json_is_object(obj) && discovered_facts_depth(obj) <= DISCOVERED_MAX_DEPTH;
	/* Kept as compact text only: a parsed tree of 16 KiB can cost
	 * hundreds of KiB (nested empty arrays), text costs what it is. */
	char *text = fits ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(obj);
	if (text == NULL)
		return -1;
	if (d == NULL) {
		if ((d = add(mac)) == NULL) {
			free(text);
			return -1;
		}
		d->first_seen_ms = wall_ms();
	}
	d->last_seen_ms = wall_ms();
	if (set_facts_text(d, text) < 0) {
		free(text);
		return -1;
	}
	/* Written by the next tick, not inside the request: a burst of
	 * enrolls costs one rewrite a second, not one each. */
	S.changed_pending = true;
	d->share_due = shared != NULL;
	return 0;
}

size_t
discovered_enrolled(size_t *facts_bytes)
{
	if (facts_bytes)
		*facts_bytes = S.facts_total;
	return S.nenrolled;
}

void
discovered_foreach(void (*fn)(const struct discovered *, void *), void *arg)
{
	for (size_t i = 0; i < S.ntable; i++)
		fn(&S.table[i], arg);
}

void
discovered_flush(void)
{
	share_due();
	if (S.changed_pending || (S.dirty && mono_ms() - S.last_save_ms >= 60000))
		save();
}

int
discovered_flush_now(void)
{
	return S.changed_pending || S.dirty ? save() : 0;
}
