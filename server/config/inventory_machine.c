/* The inventory's machines: each one's settings, its IPv4 address against
 * its network, uniqueness of names, MACs and addresses (through the
 * index, so a load stays linear), and a large list read a slice at a
 * time (config/cfgscan.h). */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "config/cfgscan.h"
#include "core/util.h"

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const machine_keys[] = {
	"name", "mac", "ip", "arch", "firmware", "role", "kernel", "boot",
	"plan9ini", "ip6", "duid", NULL,
};

static void
parse_machine(struct ctx *c, config_setting_t *m, int idx, struct machine *ma)
{
	char path[96];
	const char *s;

	ma->line = src_line(c, m);
	{
		char num[24];
		size_t at = 0;
		utoa_dec(num, (unsigned long)idx);
		path[0] = '\0';
		cat_trunc(path, sizeof path, &at, "machines[");
		cat_trunc(path, sizeof path, &at, num);
		cat_trunc(path, sizeof path, &at, "]");
	}
	if (!config_setting_is_group(m)) {
		bad(c, m, path, "must be a group { name = ...; mac = ...; }");
		return;
	}
	if ((s = get_str(c, m, path, "name", true)) != NULL) {
		if (!name_ok(s))
			bad(c, config_setting_get_member(m, "name"), "machines[].name",
			    "\"%s\": use letters, digits, '-', '_' or '.', at most 27", s);
		ma->name = estrdup(s);
		size_t at = 0;
		path[0] = '\0';
		cat_trunc(path, sizeof path, &at, "machines[");
		cat_trunc(path, sizeof path, &at, s);
		cat_trunc(path, sizeof path, &at, "]");
	}
	check_keys(c, m, path, machine_keys);
	if ((s = get_str(c, m, path, "mac", true)) != NULL && !mac_parse(s, ma->mac)) {
		char kp[128];
		keypath(kp, sizeof kp, path, "mac");
		bad(c, config_setting_get_member(m, "mac"), kp,
		    "\"%s\" is not a MAC address like 52:54:00:00:00:11", s);
	} else if (s != NULL && ((ma->mac[0] & 1) ||
	    memcmp(ma->mac, "\0\0\0\0\0\0", 6) == 0)) {
		/* No NIC has one: a DHCP client's chaddr is its own unicast MAC. */
		char kp[128];
		keypath(kp, sizeof kp, path, "mac");
		bad(c, config_setting_get_member(m, "mac"), kp,
		    "\"%s\" is a %s address, not a machine's", s,
		    ma->mac[0] & 1 ? (memcmp(ma->mac, "\xff\xff\xff\xff\xff\xff", 6) == 0 ?
		    "broadcast" : "multicast") : "zero");
	}
	get_ip(c, m, path, "ip", false, &ma->ip);
	ma->arch = ARCH_AMD64;
	get_arch(c, m, path, false, &ma->arch);
	ma->firmware = default_firmware(ma->arch);
	if ((s = get_str(c, m, path, "firmware", false)) != NULL) {
		char kp[128];
		keypath(kp, sizeof kp, path, "firmware");
		if (!firmware_parse(s, &ma->firmware))
			bad(c, config_setting_get_member(m, "firmware"), kp,
			    "\"%s\" is not one of bios, uefi, uboot", s);
		else if (!firmware_runs_on(ma->firmware, ma->arch))
			bad(c, config_setting_get_member(m, "firmware"), kp,
			    "%s firmware does not run on %s", s, arch_name(ma->arch));
	}
	if ((s = get_str(c, m, path, "role", true)) != NULL) {
		char kp[128];
		keypath(kp, sizeof kp, path, "role");
		if ((ma->role = inv_role(c->inv, s)) == NULL)
			bad(c, config_setting_get_member(m, "role"), kp,
			    "\"%s\" is not defined in roles", s);
	}
	ma->kernel = get_kernel_ref(c, m, path, false);
	if (ma->kernel == NULL && ma->role)
		ma->kernel = ma->role->kernel;
	ma->boot = ma->role ? ma->role->boot : BOOT_AUTO;
	get_boot(c, m, path, &ma->boot);
	if (ma->kernel && ma->kernel->arch != ARCH_NONE && ma->kernel->arch != ma->arch) {
		config_setting_t *at = config_setting_get_member(m, "kernel");
		bad(c, at ? at : m, path, "kernel %s is for %s but the machine is %s",
		    ma->kernel->name, arch_name(ma->kernel->arch), arch_name(ma->arch));
	}
	get_plan9ini(c, m, path, &ma->plan9ini);
	parse_machine6(c, m, path, ma);
}

static void
check_machine_address(struct ctx *c, config_setting_t *m, struct machine *ma)
{
	char kp[96], ip[16];

	if (ma->ip == 0 || ma->name == NULL)
		return;
	ma->network = inv_network_for(c->inv, ma->ip);
	struct network *n = ma->network;
	if (n && !(n->pool_lo && ma->ip >= n->pool_lo && ma->ip <= n->pool_hi) &&
	    ma->ip != n->subnet && ma->ip != (n->subnet | ~n->mask) &&
	    ma->ip != n->router && ma->ip != c->inv->grid.server)
		return;     /* the usual case, without formatting a message */
	snprintf(kp, sizeof kp, "machines[%s].ip", ma->name);
	ip_format(ma->ip, ip);
	config_setting_t *at = config_setting_get_member(m, "ip");
	if (ma->network == NULL) {
		if (c->inv->nnetworks > 0 && !c->bad_network)
			bad(c, at, kp, "%s is not inside any network", ip);
		return;
	}
	if (n->pool_lo && ma->ip >= n->pool_lo && ma->ip <= n->pool_hi)
		bad(c, at, kp, "%s is inside the dynamic pool of the network on line %d",
		    ip, n->line);
	else if (ma->ip == n->subnet || ma->ip == (n->subnet | ~n->mask))
		bad(c, at, kp, "%s is the network or broadcast address", ip);
	else if (ma->ip == n->router || ma->ip == c->inv->grid.server)
		bad(c, at, kp, "%s is the router's or the server's address", ip);
}

/* Names, MACs and addresses are unique: each machine is looked up in the
 * index of the ones before it, then added, so the check is linear. */
static void
check_machine_unique(struct ctx *c, config_setting_t *m, struct machine *ma, size_t i)
{
	struct inventory *inv = c->inv;
	static const uint8_t zero[6];
	const struct machine *o;
	char kp[96];

	if (ma->name && (o = inv_machine_by_name(inv, ma->name)) != NULL) {
		snprintf(kp, sizeof kp, "machines[%s]", ma->name);
		bad(c, config_setting_get_member(m, "name"), kp,
		    "name \"%s\" is already used on line %d", ma->name, o->line);
	}
	if (memcmp(ma->mac, zero, 6) && (o = inv_machine_by_mac(inv, ma->mac)) != NULL) {
		char mac[18];
		mac_format(ma->mac, mac);
		snprintf(kp, sizeof kp, "machines[%s].mac", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "mac"), kp,
		    "%s is already used by %s on line %d", mac, o->name ? o->name : "?", o->line);
	}
	if (ma->ip && (o = inv_machine_by_ip(inv, ma->ip)) != NULL) {
		char ip[16];
		ip_format(ma->ip, ip);
		snprintf(kp, sizeof kp, "machines[%s].ip", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "ip"), kp,
		    "%s is already used by %s on line %d", ip, o->name ? o->name : "?", o->line);
	}
	if (ma->v6 && ma->v6->has_ip6 && (o = inv_machine_by_ip6(inv, ma->v6->ip6)) != NULL) {
		char ip[46];
		ip6_format(ma->v6->ip6, ip);
		snprintf(kp, sizeof kp, "machines[%s].ip6", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "ip6"), kp,
		    "%s is already used by %s on line %d", ip, o->name ? o->name : "?", o->line);
	}
	if (ma->v6 && ma->v6->duid_len &&
	    (o = inv_machine_by_duid(inv, ma->v6->duid, ma->v6->duid_len)) != NULL) {
		snprintf(kp, sizeof kp, "machines[%s].duid", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "duid"), kp,
		    "already used by %s on line %d", o->name ? o->name : "?", o->line);
	}
	(void)index_add(inv, i);   /* every table exists while parsing */
}

static void
parse_one_machine(struct ctx *c, config_setting_t *m, size_t i)
{
	struct machine *ma = &c->inv->machines[i];

	parse_machine(c, m, (int)i, ma);
	check_machine_address(c, m, ma);
	check_machine_address6(c, m, ma);
	check_machine_unique(c, m, ma, i);
}

/* Machines handed to libconfig 512 at a time: its tree for a slice stays
 * in the cache and its memory is reused by the next one. */
struct inv_slicing inv_slicing = { 64 * 1024, 512, 512 };

_Atomic unsigned long inv_sliced_loads;

/* The machines list read a slice at a time (cfgscan.h). Each slice is
 * parsed as `m = ( ... )` whose first line is the line its first machine
 * starts on in the file, so every message keeps its file line. */
static void
parse_machines_sliced(struct ctx *c)
{
	const struct cfg_list *l = c->slices;
	struct inventory *inv = c->inv;
	struct strbuf b = { 0 };

	inv->nmachines = l->n;
	inv->machines = ecalloc(inv->nmachines, sizeof *inv->machines);
	index_reset(inv);
	size_t slice = inv_slicing.slice ? inv_slicing.slice : 1;

	for (size_t at = 0; at < l->n; at += slice) {
		size_t n = MIN(slice, l->n - at), last = at + n - 1;
		config_t cfg;
		size_t len = l->end[last] - l->start[at];
		if (b.cap < len + 8) {
			b.cap = len + 8;
			b.p = erealloc(b.p, b.cap);
		}
		memcpy(b.p, "m=(", 3);
		memcpy(b.p + 3, c->text + l->start[at], len);
		memcpy(b.p + 3 + len, ")", 2);
		config_init(&cfg);
		config_setting_t *list = config_read_string(&cfg, b.p) ?
		    config_lookup(&cfg, "m") : NULL;
		if (list == NULL || !config_setting_is_list(list) ||
		    (size_t)config_setting_length(list) != n) {
			config_destroy(&cfg);
			c->resliced = true;
			break;
		}
		c->line_base = l->line[at] - 1;
		for (size_t i = 0; i < n; i++)
			parse_one_machine(c, config_setting_get_elem(list, (unsigned)i), at + i);
		c->line_base = 0;
		config_destroy(&cfg);
	}
	free(b.p);
	index_trim(inv);
}

void
parse_machines(struct ctx *c, config_setting_t *root)
{
	config_setting_t *l = config_setting_get_member(root, "machines");
	struct inventory *inv = c->inv;

	if (c->slices) {
		parse_machines_sliced(c);
		return;
	}
	if (l == NULL)
		return;
	if (!config_setting_is_list(l)) {
		bad(c, l, "machines", "must be a list ( { ... }, { ... } )");
		return;
	}
	inv->nmachines = (size_t)config_setting_length(l);
	inv->machines = ecalloc(inv->nmachines, sizeof *inv->machines);
	index_reset(inv);
	for (size_t i = 0; i < inv->nmachines; i++)
		parse_one_machine(c, config_setting_get_elem(l, (unsigned)i), i);
	index_trim(inv);
}
