/* boot/leases6.h over the DHCPv6 module's table: reservations first, then
 * live dynamic leases. */
#include "boot/leases6.h"
#include "dhcp6/dhcp6_lease.h"
#include "core/util.h"

#include <string.h>

/* The running DHCPv6 server's table; NULL when it does not run. */
static struct dhcp6_leases *served;

void
leases6_serve(struct dhcp6_leases *lt)
{
	served = lt;
}

bool
leases6_mac_for_ip6(const struct inventory *inv, const uint8_t ip6[16], uint8_t mac[6])
{
	struct machine *m = inv_machine_by_ip6(inv, ip6);
	struct d6_lease *e;

	if (m != NULL) {
		memcpy(mac, m->mac, 6);
		return true;
	}
	e = served ? dhcp6_lease_by_addr(served, ip6) : NULL;
	if (e == NULL || !e->has_mac || e->state != L6_BOUND || e->until_ms <= wall_ms())
		return false;
	memcpy(mac, e->mac, 6);
	return true;
}

struct fe6 {
	const struct inventory *inv;
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
	/* A reserved address bound through DHCPv6 is listed once, as reserved. */
	if (inv_machine_by_ip6(f->inv, e->addr) != NULL)
		return;
	f->fn(&l, f->arg);
}

void
leases6_foreach(const struct inventory *inv,
    void (*fn)(const struct lease6_info *, void *), void *arg)
{
	struct fe6 f = { inv, fn, arg, wall_ms() };

	for (size_t i = 0; i < inv->nmachines; i++) {
		const struct machine *m = &inv->machines[i];
		struct lease6_info l = { .has_mac = true, .reserved = true, .hostname = m->name };
		if (m->v6 == NULL || !m->v6->has_ip6)
			continue;
		memcpy(l.ip6, m->v6->ip6, 16);
		memcpy(l.mac, m->mac, 6);
		if (m->v6->duid_len) {
			l.duid = m->v6->duid;
			l.duid_len = m->v6->duid_len;
		}
		fn(&l, arg);
	}
	if (served)
		dhcp6_lease_foreach(served, each_dynamic, &f);
}
