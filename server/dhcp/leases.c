/* leases.h over the DHCP module's table: inventory reservations first,
 * then live dynamic leases. */
#include "boot/leases.h"
#include "dhcp/dhcp_lease.h"
#include "core/util.h"

#include <string.h>

/* The narrow door: the running DHCP server's lease table, the one piece
 * of its state other modules reach (only through boot/leases.h). Set by
 * the server's init, NULL after its shutdown or when it does not run. */
static struct dhcp_leases *served;

void
leases_serve(struct dhcp_leases *lt)
{
	served = lt;
}

bool
leases_mac_for_ip(const struct inventory *inv, uint32_t ip, uint8_t mac[6])
{
	struct machine *m = inv_machine_by_ip(inv, ip);
	struct dhcp_lease *e;

	/* 0.0.0.0 is nobody (free lease entries hold it too). */
	if (ip == 0)
		return false;
	if (m != NULL) {
		memcpy(mac, m->mac, 6);
		return true;
	}
	e = served ? dhcp_lease_by_ip(served, ip) : NULL;
	if (e == NULL || !e->has_mac || e->state != LS_BOUND || e->until_ms <= wall_ms())
		return false;
	memcpy(mac, e->mac, 6);
	return true;
}

struct fe {
	void (*fn)(const struct lease_info *, void *);
	void *arg;
	int64_t now;
};

static void
each_dynamic(const struct dhcp_lease *e, void *arg)
{
	struct fe *f = arg;
	struct lease_info l = { .ip = e->ip, .expires_ms = e->until_ms };

	if (!e->has_mac || e->state != LS_BOUND || e->until_ms <= f->now)
		return;
	memcpy(l.mac, e->mac, 6);
	l.hostname = e->hostname[0] ? e->hostname : NULL;
	f->fn(&l, f->arg);
}

void
leases_foreach(const struct inventory *inv,
    void (*fn)(const struct lease_info *, void *), void *arg)
{
	struct fe f = { fn, arg, wall_ms() };

	for (size_t i = 0; i < inv->nmachines; i++) {
		const struct machine *m = &inv->machines[i];
		struct lease_info l = { .ip = m->ip, .reserved = true, .hostname = m->name };
		if (m->ip == 0)
			continue;
		memcpy(l.mac, m->mac, 6);
		fn(&l, arg);
	}
	if (served)
		dhcp_lease_foreach(served, each_dynamic, &f);
}
