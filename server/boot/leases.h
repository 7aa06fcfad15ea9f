/* What the DHCP server knows about addresses, for the other modules (TFTP
 * and HTTP map a client's source address to its MAC; the API lists
 * leases). Reservations come from the inventory, dynamic leases from the
 * DHCP module's table (server/dhcp_lease.h). */
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

/* The MAC that holds ip (a reservation or a live lease). */
bool leases_mac_for_ip(const struct inventory *inv, uint32_t ip, uint8_t mac[6]);
void leases_foreach(const struct inventory *inv,
    void (*fn)(const struct lease_info *, void *), void *arg);

#endif
