/* boot/leases6.h: the inventory's reservations first, then the live
 * dynamic leases of the source the DHCPv6 module registered. */
#include "boot/leases6.h"

#include <string.h>

/* The registration: one DHCPv6 module in the one daemon of a process; set
 * and cleared only on the loop thread. */
static struct {
	const struct lease6_source *src;
	void *self;
} R;

void
leases6_register(const struct lease6_source *src, void *self)
{
	R.src = src;
	R.self = src ? self : NULL;
}

bool
leases6_mac_for_ip6(const struct inventory *inv, const uint8_t ip6[16], uint8_t mac[6])
{
	struct machine *m = inv_machine_by_ip6(inv, ip6);

	if (m != NULL) {
		memcpy(mac, m->mac, 6);
		return true;
	}
	return R.src != NULL && R.src->mac_for_ip6(R.self, ip6, mac);
}

struct fe6 {
	const struct inventory *inv;
	void (*fn)(const struct lease6_info *, void *);
	void *arg;
};

static void
each_dynamic(const struct lease6_info *l, void *arg)
{
	struct fe6 *f = arg;

	/* A reserved address bound through DHCPv6 is listed once, as reserved. */
	if (inv_machine_by_ip6(f->inv, l->ip6) != NULL)
		return;
	f->fn(l, f->arg);
}

void
leases6_foreach(const struct inventory *inv,
    void (*fn)(const struct lease6_info *, void *), void *arg)
{
	struct fe6 f = { inv, fn, arg };

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
	if (R.src)
		R.src->foreach(R.self, each_dynamic, &f);
}
