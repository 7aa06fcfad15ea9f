/* The DHCP module's live leases as boot/leases.h's source: registered by
 * leases_serve at the server's init, cleared at its shutdown. The
 * reservations are boot/leases.c's. */
#include "boot/leases.h"
#include "dhcp/dhcp_lease.h"
#include "core/util.h"

#include <string.h>

static bool
live(const struct dhcp_lease *e, int64_t now)
{
	return e->has_mac && e->state == LS_BOUND && e->until_ms > now;
}

static bool
mac_for_ip(void *self, uint32_t ip, uint8_t mac[6])
{
	struct dhcp_lease *e = dhcp_lease_by_ip(self, ip);

	if (e == NULL || !live(e, wall_ms()))
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

	if (!live(e, f->now))
		return;
	memcpy(l.mac, e->mac, 6);
	l.hostname = e->hostname[0] ? e->hostname : NULL;
	f->fn(&l, f->arg);
}

static void
foreach(void *self, void (*fn)(const struct lease_info *, void *), void *arg)
{
	struct fe f = { fn, arg, wall_ms() };

	dhcp_lease_foreach(self, each_dynamic, &f);
}

static const struct lease_source source = { mac_for_ip, foreach };

void
leases_serve(struct dhcp_leases *lt)
{
	leases_register(lt ? &source : NULL, lt);
}
