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
	discovered_close();
	char *rm = esprintf("rm -rf %s", dir);
	CHECK(system(rm) == 0, "clean up");
	free(rm);
	return UNIT_DONE();
}
