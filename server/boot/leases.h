/* What the DHCP server knows about addresses, for the other modules (TFTP
 * and HTTP map a client's source address to its MAC; the API lists
 * leases). Reservations come from the inventory (boot/leases.c), dynamic
 * leases from whatever the DHCP module registered at its init: this layer
 * holds the table of its functions, so no call runs up into dhcp/. */
#ifndef GRIDBOOT_LEASES_H
#define GRIDBOOT_LEASES_H

#include <stdbool.h>
#include <stdint.h>

#include "config/inventory.h"

struct lease_info {
	uint8_t mac[6];
	uint32_t ip;
	int64_t expires_ms;         /* wall clock; 0 for a static reservation */
	bool reserved;              /* from the inventory */
	const char *hostname;       /* may be NULL */
};

/* The live dynamic leases, as the DHCP module hands them down. self is its
 * table; both see only bound, unexpired leases with a MAC. */
struct lease_source {
	bool (*mac_for_ip)(void *self, uint32_t ip, uint8_t mac[6]);
	void (*foreach)(void *self, void (*fn)(const struct lease_info *, void *), void *arg);
};
/* The DHCP module registers at init and clears (src NULL) at shutdown;
 * while none is registered only the inventory's reservations are known. */
void leases_register(const struct lease_source *src, void *self);

/* The MAC that holds ip (a reservation or a live lease). */
bool leases_mac_for_ip(const struct inventory *inv, uint32_t ip, uint8_t mac[6]);
void leases_foreach(const struct inventory *inv,
    void (*fn)(const struct lease_info *, void *), void *arg);

#endif
