/* Which network is on a link (see onlink.h). */
#include "config/onlink.h"
#include "core/util.h"

#include <string.h>

static bool
in4(const struct network *n, uint32_t a)
{
	return n->mask && (a & n->mask) == n->subnet;
}

static bool
in6(const struct network *n, const uint8_t a[16])
{
	return n->has_subnet6 && ip6_in(a, n->subnet6, n->prefix6);
}

static bool
link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

bool
onlink_served(const struct inventory *inv, const struct netif_link *l)
{
	return inv_interface_served(inv, l->name);
}

bool
onlink_has(const struct network *n, const struct netif_link *l)
{
	if (n->interface)
		return strcmp(n->interface, l->name) == 0;
	for (size_t i = 0; i < l->n4; i++)
		if (in4(n, l->a4[i].addr))
			return true;
	for (size_t i = 0; i < l->n6; i++)
		if (in6(n, l->a6[i]))
			return true;
	return false;
}

const struct network *
onlink_net4(const struct inventory *inv, const struct netif_link *l, uint32_t *addr)
{
	for (size_t i = 0; i < l->n4; i++)
		for (size_t k = 0; k < inv->nnetworks; k++) {
			const struct network *n = &inv->networks[k];
			/* An IPv6-only network (no subnet) is not DHCPv4's. */
			if (n->mask && onlink_has(n, l) && (n->interface || in4(n, l->a4[i].addr))) {
				*addr = l->a4[i].addr;
				return n;
			}
		}
	return NULL;
}

const struct network *
onlink_net6(const struct inventory *inv, const struct netif_link *l, uint8_t addr[16])
{
	for (size_t i = 0; i < l->n6; i++)
		for (size_t k = 0; k < inv->nnetworks; k++) {
			const struct network *n = &inv->networks[k];
			if (n->has_subnet6 && onlink_has(n, l) &&
			    (in6(n, l->a6[i]) || (n->interface && !link_local(l->a6[i])))) {
				memcpy(addr, l->a6[i], 16);
				return n;
			}
		}
	return NULL;
}
