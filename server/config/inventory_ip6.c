/* IPv6 in the inventory (docs/dhcp6.md): a network's subnet6, pool6,
 * dns6 and dhcp6; a machine's ip6 and DUID, kept out of line in struct
 * machine6 only when set; which network holds an IPv6 address. */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "core/util.h"

#include <libconfig.h>
#include <stdio.h>
#include <string.h>

bool
get_ip6(struct ctx *c, config_setting_t *group, const char *path, const char *key,
    uint8_t out[16])
{
	const char *v = get_str(c, group, path, key, false);
	char kp[256];

	if (v == NULL)
		return false;
	if (!ip6_parse(v, out)) {
		keypath(kp, sizeof kp, path, key);
		bad(c, config_setting_get_member(group, key), kp, "\"%s\" is not an IPv6 address", v);
		return false;
	}
	return true;
}

static void
parse_pool6(struct ctx *c, config_setting_t *n, const char *path, struct network *net)
{
	config_setting_t *ps = config_setting_get_member(n, "pool6");
	char kp[128], lo[96];
	const char *hi, *s = get_range(c, n, path, "pool6", lo, sizeof lo, &hi);

	if (s == NULL)
		return;
	keypath(kp, sizeof kp, path, "pool6");
	if (!ip6_parse(lo, net->pool6_lo) || !ip6_parse(hi, net->pool6_hi))
		bad(c, ps, kp, "\"%s\" is not a range of IPv6 addresses FIRST-LAST", s);
	else if (memcmp(net->pool6_lo, net->pool6_hi, 16) > 0)
		bad(c, ps, kp, "\"%s\": the first address is after the last", s);
	else if (!net->has_subnet6)
		bad(c, ps, kp, "needs subnet6");
	else if (!ip6_in(net->pool6_lo, net->subnet6, net->prefix6) ||
	    !ip6_in(net->pool6_hi, net->subnet6, net->prefix6))
		bad(c, ps, kp, "\"%s\" is not inside subnet6", s);
	else if (memcmp(net->pool6_lo, net->subnet6, 16) == 0)
		bad(c, ps, kp, "\"%s\" includes the subnet-router anycast address", s);
	/* The server hands out addresses by walking the low 32 bits: a wider
	 * pool would only cost memory an attacker could claim. */
	else if (memcmp(net->pool6_lo, net->pool6_hi, 12) != 0)
		bad(c, ps, kp, "\"%s\": at most 2^32 addresses (the first 96 bits must match)", s);
	else
		return;
	memset(net->pool6_lo, 0, 16);
	memset(net->pool6_hi, 0, 16);
}

void
parse_network6(struct ctx *c, config_setting_t *n, const char *path, struct network *net)
{
	config_setting_t *d;
	const char *s;
	char kp[128];

	if ((s = get_str(c, n, path, "subnet6", false)) != NULL) {
		net->line6 = src_line(c, config_setting_get_member(n, "subnet6"));
		if (!cidr6_parse(s, net->subnet6, &net->prefix6) || net->prefix6 < 16 ||
		    net->prefix6 > 120)
			bad(c, config_setting_get_member(n, "subnet6"), kpath(kp, path, "subnet6"),
			    "\"%s\" is not an IPv6 network with a prefix length 16..120, like fd99::/64", s);
		else
			net->has_subnet6 = true;
	}
	/* A bad subnet6 was reported; a pool6 inside it cannot be judged. */
	if (net->has_subnet6 || s == NULL)
		parse_pool6(c, n, path, net);
	if ((d = config_setting_get_member(n, "dns6")) != NULL) {
		keypath(kp, sizeof kp, path, "dns6");
		if (config_setting_type(d) == CONFIG_TYPE_STRING)
			net->ndns6 = get_ip6(c, n, path, "dns6", net->dns6[0]) ? 1 : 0;
		else if (!config_setting_is_aggregate(d) || config_setting_is_group(d) ||
		    config_setting_length(d) > MAXADDRS)
			bad(c, d, kp, "must be an address or a list of at most %d", MAXADDRS);
		else
			for (int i = 0; i < config_setting_length(d); i++) {
				const char *v = config_setting_get_string_elem(d, i);
				if (v == NULL || !ip6_parse(v, net->dns6[net->ndns6]))
					bad(c, d, kp, "element %d is not an IPv6 address in quotes", i + 1);
				else
					net->ndns6++;
			}
	}
	net->dhcp6 = net->has_subnet6 ? DHCP_FULL : DHCP_OFF;
	if (get_dhcpmode(c, n, path, "dhcp6", &net->dhcp6) &&
	    net->dhcp6 != DHCP_OFF && !net->has_subnet6)
		bad(c, config_setting_get_member(n, "dhcp6"), kpath(kp, path, "dhcp6"), "needs subnet6");
	if (net->dhcp6 == DHCP_PROXY && !ip6_zero(net->pool6_lo))
		bad(c, config_setting_get_member(n, "pool6"), kpath(kp, path, "pool6"),
		    "a proxy network hands out no addresses (dhcp6 = \"proxy\")");
}

/* Two subnet6s overlap when the shorter prefix holds the other's network. */
void
check_networks6(struct ctx *c, config_setting_t *l)
{
	struct inventory *inv = c->inv;

	for (size_t i = 0; i < inv->nnetworks; i++)
		for (size_t j = 0; j < i; j++) {
			struct network *a = &inv->networks[i], *b = &inv->networks[j];
			int p = MIN(a->prefix6, b->prefix6);
			if (a->has_subnet6 && b->has_subnet6 && ip6_in(a->subnet6, b->subnet6, p)) {
				char kp[64];
				snprintf(kp, sizeof kp, "networks[%zu].subnet6", i);
				bad(c, config_setting_get_elem(l, (unsigned)i), kp,
				    "overlaps the subnet6 on line %d", b->line6);
			}
		}
}

void
parse_machine6(struct ctx *c, config_setting_t *m, const char *path, struct machine *ma)
{
	const char *s;
	char kp[128];
	int n;

	uint8_t ip6[16], duid[DUID_MAX];
	size_t duid_len = 0;
	bool has_ip6 = get_ip6(c, m, path, "ip6", ip6);

	if ((s = get_str(c, m, path, "duid", false)) != NULL) {
		keypath(kp, sizeof kp, path, "duid");
		if ((n = hex_bytes_parse(s, duid, sizeof duid)) < 3)
			bad(c, config_setting_get_member(m, "duid"), kp,
			    "\"%s\" is not a DUID in hex like 00:03:00:01:52:54:00:00:00:11", s);
		else
			duid_len = (size_t)n;
	}
	if (!has_ip6 && duid_len == 0)
		return;
	ma->v6 = ecalloc(1, sizeof *ma->v6 + duid_len);
	ma->v6->has_ip6 = has_ip6;
	if (has_ip6)
		memcpy(ma->v6->ip6, ip6, 16);
	ma->v6->duid_len = (uint8_t)duid_len;
	memcpy(ma->v6->duid, duid, duid_len);
}

void
check_machine_address6(struct ctx *c, config_setting_t *m, struct machine *ma)
{
	char kp[96], ip[46];
	struct machine6 *v6 = ma->v6;

	if (v6 == NULL || !v6->has_ip6 || ma->name == NULL)
		return;
	snprintf(kp, sizeof kp, "machines[%s].ip6", ma->name);
	ip6_format(v6->ip6, ip);
	config_setting_t *at = config_setting_get_member(m, "ip6");
	if ((v6->network6 = inv_network_for6(c->inv, v6->ip6)) == NULL) {
		if (!c->bad_network)
			bad(c, at, kp, "%s is not inside any network's subnet6", ip);
		return;
	}
	struct network *n = v6->network6;
	if (!ip6_zero(n->pool6_lo) && memcmp(v6->ip6, n->pool6_lo, 16) >= 0 &&
	    memcmp(v6->ip6, n->pool6_hi, 16) <= 0)
		bad(c, at, kp, "%s is inside the pool6 of the network on line %d", ip, n->line);
	else if (memcmp(v6->ip6, n->subnet6, 16) == 0)
		bad(c, at, kp, "%s is the subnet-router anycast address", ip);
	else if (memcmp(v6->ip6, c->inv->grid.server6, 16) == 0)
		bad(c, at, kp, "%s is the server's address", ip);
}

struct network *
inv_network_for6(const struct inventory *inv, const uint8_t ip6[16])
{
	for (size_t i = 0; i < inv->nnetworks; i++) {
		struct network *n = &inv->networks[i];
		if (n->has_subnet6 && ip6_in(ip6, n->subnet6, n->prefix6))
			return n;
	}
	return NULL;
}
