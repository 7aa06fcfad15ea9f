/* Machines that PXE-booted without being in the inventory: recorded by
 * DHCP on first sight, enriched by the discovery image's enroll POST, kept
 * across restarts in STATE/discovered.json, rewritten atomically within
 * a second for enroll facts and new machines (from the daemon's timer,
 * never in a DHCP reply's path), within a minute for last_seen. */
#ifndef GRIDBOOT_DISCOVERED_H
#define GRIDBOOT_DISCOVERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISCOVERED_MAX 4096          /* records kept */
#define DISCOVERED_MAX_FACTS 16384   /* bytes of enroll facts per machine */
#define DISCOVERED_MAX_DEPTH 8       /* nesting of objects and arrays in facts */
/* Enrolled records and their facts are capped on their own, well below
 * DISCOVERED_MAX: the records that enrolled longest ago lose their facts
 * to new ones, and sightings of new machines always find room. */
#define DISCOVERED_MAX_ENROLLED 1024
#define DISCOVERED_MAX_FACTS_TOTAL (2 * 1024 * 1024)

struct discovered {
	uint8_t mac[6];
	int client_arch;            /* DHCP option 93, -1 if not sent */
	char vendor_class[64];      /* option 60 */
	char uuid[40];              /* option 97 as text, "" if not sent */
	int64_t first_seen_ms;      /* wall clock */
	int64_t last_seen_ms;
	char *facts_json;           /* the enroll POST body (a JSON object), or NULL */
	bool share_due;             /* changed: to the shared store at the next flush */
};

/* Loads STATE/discovered.json if present (creating STATE if needed). */
int discovered_open(const char *statedir);
void discovered_close(void);
const struct discovered *discovered_find(const uint8_t mac[6]);
/* Records a sighting; the next discovered_flush() persists it when the
 * machine is new or its arch/vendor/uuid changed. Returns the record, or
 * NULL when the table is full of enrolled machines. */
const struct discovered *discovered_seen(const uint8_t mac[6], int client_arch,
    const char *vendor_class, const char *uuid);
/* Whether a sighting of mac may be recorded now: always for a machine
 * already in the store, else at most DISCOVERED_NEW_PER_SEC new records a
 * second, whichever protocol saw them (the store holds 4096 and evicts
 * the oldest never-enrolled one: a flood of made-up MACs must not push
 * out real machines faster than people can see them). */
#define DISCOVERED_NEW_PER_SEC 20
bool discovered_admit(const uint8_t mac[6], int64_t now_ms);
/* Stores the enroll facts (JSON object text, at most DISCOVERED_MAX_FACTS
 * bytes, nested at most DISCOVERED_MAX_DEPTH deep), kept as compact text
 * (d->facts_json); the next discovered_flush() persists them. Over the
 * caps on enrolled records or facts bytes, the records that enrolled
 * longest ago lose their facts. -1 if they are too big, too deep or not a
 * JSON object. */
int discovered_set_facts(const uint8_t mac[6], const char *json);
/* How deep objects and arrays nest in j (a scalar is 0, {} is 1); stops
 * counting past DISCOVERED_MAX_DEPTH. */
struct json_t;
int discovered_facts_depth(const struct json_t *j);
/* Records with facts, and (if facts_bytes) the bytes of facts they hold. */
size_t discovered_enrolled(size_t *facts_bytes);
void discovered_foreach(void (*fn)(const struct discovered *, void *), void *arg);
/* With a shared store (docs/scale.md): new machines and enroll facts are
 * also written to table t at the next flush, and discovered_take reads
 * another instance's record from it (false if r is not one). */
struct store_tab;
struct store_rec;
void discovered_share(struct store_tab *t);
bool discovered_take(const struct store_rec *r);
/* Writes what is due (called every second from the daemon's timer). */
void discovered_flush(void);
/* Writes now if anything changed (enroll facts before they are
 * acknowledged); 0, or -1 if the write failed. */
int discovered_flush_now(void);

#endif
