/* Which network is on a link: the one answer DHCP, DHCPv6 and the RA
 * module give, asked of an entry of the interface table (core/netif.h).
 *
 * A network that names an interface (networks[].interface) is on that
 * link and no other; one that names none is on every link holding an
 * address in its subnet, or in its subnet6 (so an IPv6-only network
 * finds its link too). Whether a link is served at all is grid.interfaces
 * (inv_interface_served); each module adds only what is its own (DHCPv6
 * joins no group on loopback, RA needs a multicast link that is up). */
#ifndef GRIDBOOT_ONLINK_H
#define GRIDBOOT_ONLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "config/inventory.h"
#include "core/netif.h"

bool onlink_served(const struct inventory *inv, const struct netif_link *l);
bool onlink_has(const struct network *n, const struct netif_link *l);

/* The network DHCPv4 serves on l (one with a subnet) and our address on
 * it: walking l's addresses in the kernel's order, the first network on
 * l that holds the address, or names l (then that address). NULL: none. */
const struct network *onlink_net4(const struct inventory *inv, const struct netif_link *l,
    uint32_t *addr);
/* The same for DHCPv6 (a network with subnet6): our address in subnet6,
 * or, where the network names l, any address of l that is not
 * link-local. */
const struct network *onlink_net6(const struct inventory *inv, const struct netif_link *l,
    uint8_t addr[16]);

#endif
