/* Machine states (server/boot/machstate.c): only known machines are
 * tracked, however many MACs send events; states follow the last event;
 * a prune drops machines no longer known. */
#include "unit.h"
#include "boot/machstate.h"
#include "core/events.h"
#include "core/util.h"

#include <time.h>

static void
pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };
	nanosleep(&ts, NULL);
}

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
	/* Boot steps: an earlier boot, then a whole one, read from the
	 * timeline: DHCP, the fetches, the kernel's own DHCP, the 9P attach. */
	uint8_t b[6] = { 0x52, 0x54, 0, 0, 0, 0x22 };
	int64_t ms[STEP_COUNT];
	machstate_steps(b, ms);
	CHECK(ms[STEP_DHCP] == 0 && ms[STEP_UP] == 0, "no events: no steps");
	events_emit(b, EVK_DHCP, "old boot");
	events_emit(b, EVK_ENROLL, "old up");
	pause_ms(5);
	int64_t t_ack = wall_ms();
	events_emit(b, EVK_DHCP, "ack");
	events_emit(b, EVK_HTTP, "boot.ipxe");
	pause_ms(5);
	int64_t t_kernel = wall_ms();
	events_emit(b, EVK_HTTP, "9pc64");
	pause_ms(5);
	int64_t t_own = wall_ms();
	events_emit(b, EVK_DHCP, "the kernel's own");
	pause_ms(5);
	int64_t t_attach = wall_ms();
	events_emit(b, EVK_9P, "attach");
	pause_ms(5);
	events_emit(b, EVK_9P, "attach other");
	machstate_steps(b, ms);
	CHECK(ms[STEP_DHCP] >= t_ack && ms[STEP_DHCP] < t_kernel,
	    "dhcp: the new boot's first DHCP, not the old boot's nor the kernel's own");
	CHECK(ms[STEP_KERNEL] >= t_kernel && ms[STEP_KERNEL] < t_own, "kernel: the last fetch");
	CHECK(ms[STEP_ROOT] >= t_attach && ms[STEP_UP] == ms[STEP_ROOT],
	    "root: the first attach, and up with it");
	CHECK_STR(machstate_step_name(STEP_ROOT), "root", "the steps are named");
	machstate_shutdown();
	events_shutdown();
	return UNIT_DONE();
}
