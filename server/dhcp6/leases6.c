/* The DHCPv6 module's live leases as boot/leases6.h's source: registered
 * by leases6_serve at the server's init, cleared at its shutdown. The
 * reservations are boot/leases6.c's. */
#include "boot/leases6.h"
#include "dhcp6/dhcp6_lease.h"
#include "core/util.h"

#include <string.h>

static bool
mac_for_ip6(void *self, const uint8_t ip6[16], uint8_t mac[6])
{
	struct d6_lease *e = dhcp6_lease_by_addr(self, ip6);

	if (e == NULL || !e->has_mac || e->state != L6_BOUND || e->until_ms <= wall_ms())
		return false;
	memcpy(mac, e->mac, 6);
	return true;
}

struct fe6 {
	void (*fn)(const struct lease6_info *, void *);
	void *arg;
	int64_t now;
};

static void
each_dynamic(const struct d6_lease *e, void *arg)
{
	struct fe6 *f = arg;
	struct lease6_info l = { .has_mac = e->has_mac, .duid = e->duid,
	    .duid_len = e->duid_len, .iaid = e->iaid, .expires_ms = e->until_ms };

	if (e->state != L6_BOUND || e->until_ms <= f->now)
		return;
	memcpy(l.ip6, e->addr, 16);
	memcpy(l.mac, e->mac, 6);
	f->fn(&l, f->arg);
}

static void
foreach(void *self, void (*fn)(const struct lease6_info *, void *), void *arg)
{
	struct fe6 f = { fn, arg, wall_ms() };

	dhcp6_lease_foreach(self, each_dynamic, &f);
}

static const struct lease6_source source = { mac_for_ip6, foreach };

void
leases6_serve(struct dhcp6_leases *lt)
{
	leases6_register(lt ? &source : NULL, lt);
}
