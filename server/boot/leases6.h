/* What the DHCPv6 server knows about IPv6 addresses, for the other
 * modules (the API lists leases; TFTP and HTTP over IPv6 map a client's
 * source address to its MAC). Reservations (machines' ip6) come from the
 * inventory (boot/leases6.c), dynamic leases from the source the DHCPv6
 * module registered at its init (dhcp6/leases6.c): no call runs up. */
#ifndef GRIDBOOT_LEASES6_H
#define GRIDBOOT_LEASES6_H

#include <stdbool.h>
#include <stdint.h>

#include "config/inventory.h"

struct lease6_info {
	uint8_t ip6[16];
	bool has_mac;
	uint8_t mac[6];
	const uint8_t *duid;        /* NULL for a reservation matched by MAC */
	size_t duid_len;
	uint32_t iaid;
	int64_t expires_ms;         /* wall clock; 0 for a static reservation */
	bool reserved;
	const char *hostname;       /* the machine's name, or NULL */
};

/* The DHCPv6 module's live leases (bound, unexpired), handed down at its
 * init; self is its table. */
struct lease6_source {
	bool (*mac_for_ip6)(void *self, const uint8_t ip6[16], uint8_t mac[6]);
	void (*foreach)(void *self, void (*fn)(const struct lease6_info *, void *), void *arg);
};
/* Set at the DHCPv6 module's init, cleared (src NULL) at its shutdown. */
void leases6_register(const struct lease6_source *src, void *self);

/* The MAC that holds ip6 (a reservation or a live lease with a MAC). */
bool leases6_mac_for_ip6(const struct inventory *inv, const uint8_t ip6[16], uint8_t mac[6]);
void leases6_foreach(const struct inventory *inv,
    void (*fn)(const struct lease6_info *, void *), void *arg);

#endif
