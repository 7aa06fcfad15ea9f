/* Stand-in for the DHCP module's lease table: inventory reservations only. */
#include "leases.h"

#include <string.h>

bool
lease_mac_for_ip(const struct inventory *inv, uint32_t ip, uint8_t mac[6])
{
	struct machine *m = inv_machine_by_ip(inv, ip);

	if (m == NULL)
		return false;
	memcpy(mac, m->mac, 6);
	return true;
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
}
