/* boot/leases.h: the inventory's reservations first, then the live
 * dynamic leases of the source the DHCP module registered. */
#include "boot/leases.h"

#include <string.h>

/* The registration. One per process as there is one daemon per process
 * and one DHCP module in it; set and cleared only on the loop thread. */
static struct {
	const struct lease_source *src;
	void *self;
} R;

void
leases_register(const struct lease_source *src, void *self)
{
	R.src = src;
	R.self = src ? self : NULL;
}

bool
leases_mac_for_ip(const struct inventory *inv, uint32_t ip, uint8_t mac[6])
{
	struct machine *m = inv_machine_by_ip(inv, ip);

	/* 0.0.0.0 is nobody (free lease entries hold it too). */
	if (ip == 0)
		return false;
	if (m != NULL) {
		memcpy(mac, m->mac, 6);
		return true;
	}
	return R.src != NULL && R.src->mac_for_ip(R.self, ip, mac);
}

void
leases_foreach(const struct inventory *inv,
    void (*fn)(const struct lease_info *, void *), void *arg)
{
	for (size_t i = 0; i < inv->nmachines; i++) {
		const struct machine *m = &inv->machines[i];
		struct lease_info l = { .ip = m->ip, .reserved = true, .hostname = m->name };
		if (m->ip == 0)
			continue;
		memcpy(l.mac, m->mac, 6);
		fn(&l, arg);
	}
	if (R.src)
		R.src->foreach(R.self, fn, arg);
}
