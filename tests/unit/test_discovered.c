/* The discovered-machine store: bounded size (the oldest record that never
 * enrolled gives way; enrolled ones are kept), bounded facts, and what
 * discovered_flush() writes comes back after a restart. */
#include "config/discovered.h"
#include "core/util.h"
#include "unit.h"

#include <stdlib.h>

static void
mac_of(unsigned n, uint8_t mac[6])
{
	uint8_t m[6] = { 0x52, 0x54, 0, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	memcpy(mac, m, 6);
}

static int count;
static void counter(const struct discovered *d, void *arg) { (void)d; (void)arg; count++; }

static int
total(void)
{
	count = 0;
	discovered_foreach(counter, NULL);
	return count;
}

int
main(void)
{
	char dir[] = "/tmp/gridboot-disc.XXXXXX";
	uint8_t mac[6];

	CHECK(mkdtemp(dir) != NULL && discovered_open(dir) == 0, "open an empty store");
	mac_of(0, mac);
	CHECK(discovered_set_facts(mac, "{\"cpus\":2}") == 0, "enroll machine 0");
	CHECK(discovered_set_facts(mac, "not json") < 0, "facts must be JSON");
	char *big = emalloc(DISCOVERED_MAX_FACTS + 16);
	memset(big, ' ', DISCOVERED_MAX_FACTS + 15);
	big[0] = '{';
	big[DISCOVERED_MAX_FACTS + 14] = '}';
	big[DISCOVERED_MAX_FACTS + 15] = '\0';
	CHECK(discovered_set_facts(mac, big) < 0, "facts over the limit are refused");
	free(big);
	for (unsigned i = 1; i < DISCOVERED_MAX + 100; i++) {
		mac_of(i, mac);
		discovered_seen(mac, 0, "PXEClient", NULL);
	}
	CHECK(total() == DISCOVERED_MAX, "the table stops at DISCOVERED_MAX (%d)", total());
	mac_of(0, mac);
	CHECK(discovered_find(mac) && discovered_find(mac)->facts_json, "the enrolled machine was kept");
	mac_of(1, mac);
	CHECK(discovered_find(mac) == NULL, "the oldest unenrolled one gave way");
	mac_of(DISCOVERED_MAX + 99, mac);
	CHECK(discovered_find(mac) != NULL, "the newest is there");

	discovered_flush();
	discovered_close();
	CHECK(discovered_open(dir) == 0, "reopen");
	CHECK(total() == DISCOVERED_MAX, "all records came back");
	mac_of(0, mac);
	const struct discovered *d = discovered_find(mac);
	CHECK(d && d->facts_json && strstr(d->facts_json, "\"cpus\":2"), "facts came back");
	/* Enrolled records are capped on their own: made-up MACs that all
	 * enroll cannot fill the table, and new machines are still seen. */
	char facts[64];
	for (unsigned i = 0; i < DISCOVERED_MAX; i++) {
		mac_of(0x100000 + i, mac);
		snprintf(facts, sizeof facts, "{\"n\":%u}", i);
		discovered_set_facts(mac, facts);
	}
	size_t bytes = 0, enrolled = discovered_enrolled(&bytes);
	CHECK(enrolled <= DISCOVERED_MAX_ENROLLED, "%d enrolls keep at most %d records with facts (%zu)",
	    DISCOVERED_MAX, DISCOVERED_MAX_ENROLLED, enrolled);
	mac_of(0x100000 + DISCOVERED_MAX - 1, mac);
	CHECK(discovered_find(mac) && discovered_find(mac)->facts_json, "the newest enroll is kept");
	mac_of(0x200000, mac);
	CHECK(discovered_seen(mac, 0, "PXEClient", NULL) != NULL,
	    "after the enroll flood a new machine is still recorded");
	/* Facts bytes over all records are capped too. */
	char *fat = emalloc(DISCOVERED_MAX_FACTS);
	for (unsigned i = 0; i < 300; i++) {
		int n = snprintf(fat, DISCOVERED_MAX_FACTS, "{\"pad\":\"");
		memset(fat + n, 'x', DISCOVERED_MAX_FACTS - 100);
		snprintf(fat + n + DISCOVERED_MAX_FACTS - 100, 32, "%u\"}", i);
		mac_of(0x300000 + i, mac);
		discovered_set_facts(mac, fat);
	}
	free(fat);
	enrolled = discovered_enrolled(&bytes);
	CHECK(bytes <= DISCOVERED_MAX_FACTS_TOTAL, "300 enrolls of 16 KiB keep at most %d bytes of facts (%zu)",
	    DISCOVERED_MAX_FACTS_TOTAL, bytes);
	/* Deep nesting (cheap to send, dear to parse and keep) is refused. */
	char deep[64] = "{\"a\":";
	for (int i = 0; i < DISCOVERED_MAX_DEPTH; i++)
		strcat(deep, "[");
	for (int i = 0; i < DISCOVERED_MAX_DEPTH; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	mac_of(0x400000, mac);
	CHECK(discovered_set_facts(mac, deep) < 0, "facts nested %d deep are refused", DISCOVERED_MAX_DEPTH + 1);
	CHECK(discovered_set_facts(mac, "{\"a\":[[[[[[[1]]]]]]]}") == 0, "facts nested 8 deep are taken");
	CHECK(discovered_set_facts(mac, "[1]") < 0, "facts must be an object");
	discovered_flush();
	discovered_close();
	CHECK(discovered_open(dir) == 0, "reopen after the floods");
	size_t bytes2 = 0;
	CHECK(discovered_enrolled(&bytes2) == enrolled + 1 && bytes2 <= DISCOVERED_MAX_FACTS_TOTAL,
	    "the same enrolled records come back (%zu)", discovered_enrolled(NULL));
	/* One budget of new records a second for the store, whichever DHCP
	 * (v4 or v6) asks: a known MAC is always admitted. */
	int64_t t = 5000000;
	int admitted = 0;
	for (unsigned i = 0; i < 3 * DISCOVERED_NEW_PER_SEC; i++) {
		mac_of(0x500000 + i, mac);
		admitted += discovered_admit(mac, t + (i % 2));  /* both "protocols", one second */
	}
	CHECK(admitted == DISCOVERED_NEW_PER_SEC, "%d new MACs admitted in one second, not more (%d)",
	    DISCOVERED_NEW_PER_SEC, admitted);
	mac_of(0x500000, mac);      /* the first admitted, now recorded */
	CHECK(discovered_seen(mac, 7, "PXEClient", "") != NULL && discovered_admit(mac, t),
	    "a known machine is admitted over the budget");
	mac_of(0x5fffff, mac);
	CHECK(discovered_admit(mac, t + 1000), "the next second has a new budget");
	discovered_close();
	char *rm = esprintf("rm -rf %s", dir);
	CHECK(system(rm) == 0, "clean up");
	free(rm);
	return UNIT_DONE();
}
