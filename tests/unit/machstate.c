/* Machine states (server/boot/machstate.c): only known machines are
 * tracked, however many MACs send events; states follow the last event;
 * a prune drops machines no longer known. */
#include "unit.h"
#include "boot/machstate.h"
#include "core/events.h"

static uint8_t known_mac[6] = { 0x52, 0x54, 0, 0, 0, 0x11 };
static bool forget;

static bool
known(const uint8_t mac[6], void *arg)
{
	(void)arg;
	return !forget && memcmp(mac, known_mac, 6) == 0;
}

int
main(void)
{
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0 };
	int64_t last = 0;

	events_init(64);
	machstate_init(known, NULL);
	for (int i = 0; i < 5000; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		events_emit(mac, EVK_DHCP, "discover");
	}
	CHECK(machstate_count() == 0, "5000 events from unknown MACs track nothing (%zu)",
	    machstate_count());
	CHECK(machstate_get(mac, NULL) == NULL, "an unknown MAC has no state");
	events_emit(known_mac, EVK_DHCP, "discover");
	CHECK_STR(machstate_get(known_mac, &last), "booting", "a known machine's DHCP: booting");
	CHECK(last > 0, "with the time of its last event");
	events_emit(known_mac, EVK_9P, "attach");
	CHECK_STR(machstate_get(known_mac, NULL), "up", "its 9P attach: up");
	CHECK(machstate_count() == 1, "one machine tracked");
	forget = true;
	machstate_prune();
	CHECK(machstate_count() == 0 && machstate_get(known_mac, NULL) == NULL,
	    "a prune after it left the grid drops it");
	machstate_shutdown();
	events_shutdown();
	return UNIT_DONE();
}
