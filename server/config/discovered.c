#include "config/discovered.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct discovered *table;
static json_t **facts_obj;      /* parsed facts, parallel to table: saves never re-parse */
static size_t ntable, captable;
static char *store_path;
static bool dirty;              /* last_seen moved: flush within a minute */
static bool changed_pending;    /* a new machine or new facts: flush within a second */
static uint64_t last_save_ms;

static struct discovered *
find(const uint8_t mac[6])
{
	for (size_t i = 0; i < ntable; i++)
		if (memcmp(table[i].mac, mac, 6) == 0)
			return &table[i];
	return NULL;
}

static int
save(void)
{
	json_t *arr = json_array();
	char mac[18];

	for (size_t i = 0; i < ntable; i++) {
		struct discovered *d = &table[i];
		mac_format(d->mac, mac);
		json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:I, s:I}",
		    "mac", mac, "client_arch", d->client_arch,
		    "vendor_class", d->vendor_class, "uuid", d->uuid,
		    "first_seen_ms", (json_int_t)d->first_seen_ms,
		    "last_seen_ms", (json_int_t)d->last_seen_ms);
		if (facts_obj[i])
			json_object_set(o, "facts", facts_obj[i]);
		json_array_append_new(arr, o);
	}
	char *text = json_dumps(arr, JSON_INDENT(1));
	json_decref(arr);
	int rc = store_path ? write_file_atomic(store_path, text, strlen(text)) : 0;
	if (rc < 0)
		log_err("%s: %s", store_path, strerror(errno));
	free(text);
	dirty = changed_pending = false;
	last_save_ms = mono_ms();
	return rc;
}

static void
remove_at(size_t i)
{
	free(table[i].facts_json);
	json_decref(facts_obj[i]);
	ntable--;
	table[i] = table[ntable];
	facts_obj[i] = facts_obj[ntable];
}

/* Room for one more, or NULL: when full, the oldest record that never
 * enrolled gives way (a MAC-spraying host must not grow us forever). */
static struct discovered *
add(const uint8_t mac[6])
{
	if (ntable >= DISCOVERED_MAX) {
		size_t victim = ntable;
		for (size_t i = 0; i < ntable; i++)
			if (table[i].facts_json == NULL &&
			    (victim == ntable || table[i].last_seen_ms < table[victim].last_seen_ms))
				victim = i;
		if (victim == ntable)
			return NULL;
		remove_at(victim);
	}
	if (ntable == captable) {
		captable = captable ? captable * 2 : 64;
		table = erealloc(table, captable * sizeof *table);
		facts_obj = erealloc(facts_obj, captable * sizeof *facts_obj);
	}
	facts_obj[ntable] = NULL;
	struct discovered *d = &table[ntable++];
	memset(d, 0, sizeof *d);
	memcpy(d->mac, mac, 6);
	d->client_arch = -1;
	return d;
}

static void
load(void)
{
	json_error_t err;
	json_t *arr = json_load_file(store_path, 0, &err);
	size_t i;
	json_t *o;

	if (arr == NULL) {
		if (errno != ENOENT && access(store_path, F_OK) == 0)
			log_err("%s:%d: %s (starting with no discovered machines)",
			    store_path, err.line, err.text);
		return;
	}
	json_array_foreach(arr, i, o) {
		const char *macs = json_string_value(json_object_get(o, "mac"));
		uint8_t mac[6];
		if (macs == NULL || !mac_parse(macs, mac) || find(mac))
			continue;
		struct discovered *d = add(mac);
		json_t *v;
		if (d == NULL)
			break;
		if ((v = json_object_get(o, "client_arch")) && json_is_integer(v))
			d->client_arch = (int)json_integer_value(v);
		if ((v = json_object_get(o, "vendor_class")) && json_is_string(v))
			str_copy(d->vendor_class, json_string_value(v), sizeof d->vendor_class);
		if ((v = json_object_get(o, "uuid")) && json_is_string(v))
			str_copy(d->uuid, json_string_value(v), sizeof d->uuid);
		d->first_seen_ms = json_integer_value(json_object_get(o, "first_seen_ms"));
		d->last_seen_ms = json_integer_value(json_object_get(o, "last_seen_ms"));
		if ((v = json_object_get(o, "facts")) && json_is_object(v)) {
			d->facts_json = json_dumps(v, JSON_COMPACT);
			facts_obj[d - table] = json_incref(v);
		}
	}
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
	store_path = esprintf("%s/discovered.json", statedir);
	load();
	return 0;
}

void
discovered_close(void)
{
	if (dirty || changed_pending)
		save();
	for (size_t i = 0; i < ntable; i++) {
		free(table[i].facts_json);
		json_decref(facts_obj[i]);
	}
	free(table);
	free(facts_obj);
	table = NULL;
	facts_obj = NULL;
	captable = 0;
	ntable = 0;
	free(store_path);
	store_path = NULL;
}

const struct discovered *
discovered_find(const uint8_t mac[6])
{
	return find(mac);
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
	if (changed)
		changed_pending = true;
	else
		dirty = true;
	return d;
}

int
discovered_set_facts(const uint8_t mac[6], const char *json)
{
	struct discovered *d = find(mac);
	json_t *obj;

	if (strlen(json) > DISCOVERED_MAX_FACTS || (obj = json_loads(json, 0, NULL)) == NULL)
		return -1;
	if (d == NULL) {
		if ((d = add(mac)) == NULL) {
			json_decref(obj);
			return -1;
		}
		d->first_seen_ms = wall_ms();
	}
	d->last_seen_ms = wall_ms();
	free(d->facts_json);
	d->facts_json = estrdup(json);
	json_decref(facts_obj[d - table]);
	facts_obj[d - table] = obj;
	/* Written by the next tick, not inside the request: a burst of
	 * enrolls costs one rewrite a second, not one each. */
	changed_pending = true;
	return 0;
}

bool
discovered_forget(const uint8_t mac[6])
{
	struct discovered *d = find(mac);

	if (d == NULL)
		return false;
	remove_at((size_t)(d - table));
	changed_pending = true;
	return true;
}

const struct json_t *
discovered_facts(const struct discovered *d)
{
	return facts_obj[d - table];
}

void
discovered_foreach(void (*fn)(const struct discovered *, void *), void *arg)
{
	for (size_t i = 0; i < ntable; i++)
		fn(&table[i], arg);
}

void
discovered_flush(void)
{
	if (changed_pending || (dirty && mono_ms() - last_save_ms >= 60000))
		save();
}
