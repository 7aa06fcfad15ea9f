/* The inventory's networks: subnet, router, dns, pool, lease, DHCP and
 * RA modes, interface; overlapping subnets. The IPv6 half of a network
 * is in inventory_ip6.c. */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "core/util.h"

#include <libconfig.h>
#include <stdio.h>
#include <string.h>

static const char *const network_keys[] = {
	"subnet", "router", "dns", "pool", "lease", "dhcp", "interface", "ra",
	"subnet6", "pool6", "dns6", "dhcp6", NULL,
};

static void
parse_pool(struct ctx *c, config_setting_t *n, const char *path, struct network *net)
{
	config_setting_t *ps = config_setting_get_member(n, "pool");
	char kp[128], lo[32];
	const char *hi, *s = get_range(c, n, path, "pool", lo, sizeof lo, &hi);

	if (s == NULL)
		return;
	keypath(kp, sizeof kp, path, "pool");
	if (!ip_parse(lo, &net->pool_lo) || !ip_parse(hi, &net->pool_hi)) {
		bad(c, ps, kp, "\"%s\" is not a range of IPv4 addresses FIRST-LAST", s);
		net->pool_lo = net->pool_hi = 0;
		return;
	}
	if (net->pool_lo > net->pool_hi) {
		bad(c, ps, kp, "\"%s\": the first address is after the last", s);
		net->pool_lo = net->pool_hi = 0;
		return;
	}
	if ((net->pool_lo & net->mask) != net->subnet || (net->pool_hi & net->mask) != net->subnet) {
		bad(c, ps, kp, "\"%s\" is not inside the subnet", s);
		net->pool_lo = net->pool_hi = 0;
		return;
	}
	uint32_t bcast = net->subnet | ~net->mask;
	if (net->pool_lo == net->subnet || net->pool_hi == bcast) {
		bad(c, ps, kp, "\"%s\" includes the network or broadcast address", s);
		net->pool_lo = net->pool_hi = 0;
	}
}

static void
parse_network(struct ctx *c, config_setting_t *n, int idx, struct network *net)
{
	char path[64];
	const char *s;
	int lease = 3600;
	char kp[128];

	snprintf(path, sizeof path, "networks[%d]", idx);
	net->line = src_line(c, n);
	if (!config_setting_is_group(n)) {
		bad(c, n, path, "must be a group { subnet = ...; }");
		return;
	}
	check_keys(c, n, path, network_keys);
	/* An IPv6-only network (subnet6, no subnet) is valid: DHCPv4 and
	 * ndb leave it alone (mask stays 0, dhcp off). */
	bool v6only = config_setting_get_member(n, "subnet") == NULL &&
	    config_setting_get_member(n, "subnet6") != NULL;
	if (!v6only && config_setting_get_member(n, "subnet") == NULL)
		bad(c, n, kpath(kp, path, "subnet"), "missing (required; subnet6 alone makes an IPv6-only network)");
	if ((s = get_str(c, n, path, "subnet", false)) != NULL) {
		if (!cidr_parse(s, &net->subnet, &net->prefix) || net->prefix < 8 || net->prefix > 30) {
			c->bad_network = true;
			bad(c, config_setting_get_member(n, "subnet"), kpath(kp, path, "subnet"),
			    "\"%s\" is not a network address with a prefix length 8..30, like 10.0.0.0/24", s);
		} else
			net->mask = prefix_mask(net->prefix);
	}
	if (get_ip(c, n, path, "router", false, &net->router) && net->mask &&
	    (net->router & net->mask) != net->subnet)
		bad(c, config_setting_get_member(n, "router"), kpath(kp, path, "router"),
		    "is not inside the subnet");
	net->ndns = get_ip_list(c, n, path, "dns", net->dns, MAXADDRS);
	if (net->mask)
		parse_pool(c, n, path, net);
	get_int(c, n, path, "lease", 60, 365 * 86400, &lease);
	net->lease = (uint32_t)lease;
	net->dhcp = DHCP_FULL;
	get_dhcpmode(c, n, path, "dhcp", &net->dhcp);
	if ((s = get_str(c, n, path, "interface", false)) != NULL)
		net->interface = estrdup(s);
	net->ra = RA_AUTO;
	if ((s = get_str(c, n, path, "ra", false)) != NULL) {
		if (strcmp(s, "auto") == 0)
			net->ra = RA_AUTO;
		else if (strcmp(s, "on") == 0)
			net->ra = RA_ON;
		else if (strcmp(s, "off") == 0)
			net->ra = RA_OFF;
		else
			bad(c, config_setting_get_member(n, "ra"), kpath(kp, path, "ra"),
			    "\"%s\" is not one of auto, on, off", s);
	}
	parse_network6(c, n, path, net);
	if (v6only) {
		static const char *const v4keys[] = { "router", "dns", "pool", "dhcp", NULL };
		for (int i = 0; v4keys[i]; i++)
			if (config_setting_get_member(n, v4keys[i]) != NULL)
				bad(c, config_setting_get_member(n, v4keys[i]), kpath(kp, path, v4keys[i]),
				    "needs subnet (this network is IPv6 only)");
		net->dhcp = DHCP_OFF;
	}
}

void
parse_networks(struct ctx *c, config_setting_t *root)
{
	config_setting_t *l = config_setting_get_member(root, "networks");
	struct inventory *inv = c->inv;

	if (l == NULL)
		return;
	if (!config_setting_is_list(l)) {
		bad(c, l, "networks", "must be a list ( { ... }, { ... } )");
		return;
	}
	inv->nnetworks = (size_t)config_setting_length(l);
	inv->networks = ecalloc(inv->nnetworks, sizeof *inv->networks);
	for (size_t i = 0; i < inv->nnetworks; i++)
		parse_network(c, config_setting_get_elem(l, (unsigned)i), (int)i, &inv->networks[i]);
	for (size_t i = 0; i < inv->nnetworks; i++)
		for (size_t j = 0; j < i; j++) {
			struct network *a = &inv->networks[i], *b = &inv->networks[j];
			uint32_t m = a->mask & b->mask;
			if (a->mask && b->mask && (a->subnet & m) == (b->subnet & m))
			{
				char kp[64];
				snprintf(kp, sizeof kp, "networks[%zu].subnet", i);
				bad(c, config_setting_get_elem(l, (unsigned)i), kp,
				    "overlaps the network on line %d", b->line);
			}
		}
	check_networks6(c, l);
}
