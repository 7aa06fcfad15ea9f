/* The inventory's machines: each one's settings, its IPv4 address against
 * its network, uniqueness of names, MACs and addresses (through the
 * index, so a load stays linear), and a large list read a slice at a
 * time (config/cfgscan.h). */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "config/cfgscan.h"
#include "core/util.h"

#include <libconfig.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const machine_keys[] = {
	"name", "mac", "ip", "arch", "firmware", "role", "kernel", "boot",
	"plan9ini", "ip6", "duid", "power", NULL,
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
	parse_machine_power(c, m, path, ma);
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

/* Names, MACs and addresses are unique: each machine is added to the
 * index of the ones before it, which says which of its keys an earlier
 * one holds (one probe per key), so the check is linear; the holder is
 * looked up only for the message. */
static void
check_machine_unique(struct ctx *c, config_setting_t *m, struct machine *ma, size_t i)
{
	struct inventory *inv = c->inv;
	static const uint8_t zero[6];
	const struct machine *o;
	char kp[96];
	int held = index_add(inv, i);  /* every table exists while parsing */

	if (held <= 0)
		return;
	/* The holder is found under this machine's key: it is the earlier. */
	if ((held & (1 << KEY_NAME)) && (o = inv_machine_by_name(inv, ma->name)) != NULL) {
		snprintf(kp, sizeof kp, "machines[%s]", ma->name);
		bad(c, config_setting_get_member(m, "name"), kp,
		    "name \"%s\" is already used on line %d", ma->name, o->line);
	}
	if ((held & (1 << KEY_MAC)) && memcmp(ma->mac, zero, 6) &&
	    (o = inv_machine_by_mac(inv, ma->mac)) != NULL) {
		char mac[18];
		mac_format(ma->mac, mac);
		snprintf(kp, sizeof kp, "machines[%s].mac", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "mac"), kp,
		    "%s is already used by %s on line %d", mac, o->name ? o->name : "?", o->line);
	}
	if ((held & (1 << KEY_IP)) && (o = inv_machine_by_ip(inv, ma->ip)) != NULL) {
		char ip[16];
		ip_format(ma->ip, ip);
		snprintf(kp, sizeof kp, "machines[%s].ip", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "ip"), kp,
		    "%s is already used by %s on line %d", ip, o->name ? o->name : "?", o->line);
	}
	if ((held & (1 << KEY_IP6)) && (o = inv_machine_by_ip6(inv, ma->v6->ip6)) != NULL) {
		char ip[46];
		ip6_format(ma->v6->ip6, ip);
		snprintf(kp, sizeof kp, "machines[%s].ip6", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "ip6"), kp,
		    "%s is already used by %s on line %d", ip, o->name ? o->name : "?", o->line);
	}
	if ((held & (1 << KEY_DUID)) &&
	    (o = inv_machine_by_duid(inv, ma->v6->duid, ma->v6->duid_len)) != NULL) {
		snprintf(kp, sizeof kp, "machines[%s].duid", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "duid"), kp,
		    "already used by %s on line %d", o->name ? o->name : "?", o->line);
	}
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

/* The slices are read by libconfig in a thread of their own, a few ahead
 * of the checks, which run in file order on the caller's thread: about a
 * third of a large load is libconfig's, and this way it overlaps the
 * rest (a second core's worth at a million machines). The reader touches
 * nothing but the file's text and its own config_t's, lent to the checker
 * one slice at a time. The reader also destroys them, as it reuses a slot:
 * libconfig's many small blocks freed in the thread that allocated them
 * (freed in the other, each free waits on the reader's malloc arena, and
 * the load took twice as long). */
#define SLICES_AHEAD 4

struct slice_reader {
	const char *text;
	const struct cfg_list *l;
	size_t slice;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	config_t cfg[SLICES_AHEAD];
	bool ok[SLICES_AHEAD];
	size_t produced, consumed;  /* slices read, slices taken */
	bool stop;                  /* the checker gave up: read no more */
};

static size_t
nslices(const struct slice_reader *r)
{
	return (r->l->n + r->slice - 1) / r->slice;
}

/* One slice as `m = ( ... )`: false if libconfig refuses it or it does
 * not hold the machines cfgscan found. */
static bool
read_slice(struct slice_reader *r, size_t k, config_t *cfg, struct strbuf *b)
{
	size_t at = k * r->slice;
	size_t n = MIN(r->slice, r->l->n - at), last = at + n - 1;
	size_t len = r->l->end[last] - r->l->start[at];

	if (b->cap < len + 8) {
		b->cap = len + 8;
		b->p = erealloc(b->p, b->cap);
	}
	memcpy(b->p, "m=(", 3);
	memcpy(b->p + 3, r->text + r->l->start[at], len);
	memcpy(b->p + 3 + len, ")", 2);
	config_init(cfg);
	config_setting_t *list = config_read_string(cfg, b->p) ? config_lookup(cfg, "m") : NULL;
	return list != NULL && config_setting_is_list(list) &&
	    (size_t)config_setting_length(list) == n;
}

static void *
reader_main(void *arg)
{
	struct slice_reader *r = arg;
	struct strbuf b = { 0 };

	for (size_t k = 0; k < nslices(r); k++) {
		pthread_mutex_lock(&r->mu);
		while (!r->stop && r->produced - r->consumed == SLICES_AHEAD)
			pthread_cond_wait(&r->cv, &r->mu);
		bool stop = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
		/* The checker is done with slice k - SLICES_AHEAD. */
		if (k >= SLICES_AHEAD)
			config_destroy(&r->cfg[k % SLICES_AHEAD]);
		bool ok = read_slice(r, k, &r->cfg[k % SLICES_AHEAD], &b);
		pthread_mutex_lock(&r->mu);
		r->ok[k % SLICES_AHEAD] = ok;
		r->produced++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (!ok)
			break;
	}
	free(b.p);
	return NULL;
}

/* Waits for slice k; false when it did not parse (its config_t is still
 * the checker's to destroy). */
static bool
take_slice(struct slice_reader *r, size_t k)
{
	bool ok;

	pthread_mutex_lock(&r->mu);
	while (r->produced <= k)
		pthread_cond_wait(&r->cv, &r->mu);
	ok = r->ok[k % SLICES_AHEAD];
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static void
done_slice(struct slice_reader *r, bool stop)
{
	pthread_mutex_lock(&r->mu);
	r->consumed++;
	r->stop = r->stop || stop;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* The machines list read a slice at a time (cfgscan.h). Each slice is
 * parsed as `m = ( ... )` whose first line is the line its first machine
 * starts on in the file, so every message keeps its file line. */
static void
parse_machines_sliced(struct ctx *c)
{
	struct inventory *inv = c->inv;
	struct slice_reader r = { .text = c->text, .l = c->slices,
	    .slice = inv_slicing.slice ? inv_slicing.slice : 1 };
	pthread_t tid;

	inv->nmachines = r.l->n;
	inv->machines = ecalloc(inv->nmachines, sizeof *inv->machines);
	index_reset(inv);
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	bool threaded = pthread_create(&tid, NULL, reader_main, &r) == 0;
	struct strbuf b = { 0 };

	for (size_t k = 0; k < nslices(&r); k++) {
		size_t at = k * r.slice, n = MIN(r.slice, r.l->n - at);
		bool ok = threaded ? take_slice(&r, k) : read_slice(&r, k, &r.cfg[0], &b);
		config_t *cfg = &r.cfg[threaded ? k % SLICES_AHEAD : 0];
		if (ok) {
			config_setting_t *list = config_lookup(cfg, "m");
			c->line_base = r.l->line[at] - 1;
			for (size_t i = 0; i < n; i++)
				parse_one_machine(c, config_setting_get_elem(list, (unsigned)i), at + i);
			c->line_base = 0;
		}
		if (threaded)
			done_slice(&r, !ok);
		else
			config_destroy(cfg);
		if (!ok) {
			c->resliced = true;
			break;
		}
	}
	if (threaded) {
		pthread_join(tid, NULL);
		/* The last slices read, which the reader had no turn to free. */
		for (size_t k = r.produced > SLICES_AHEAD ? r.produced - SLICES_AHEAD : 0;
		    k < r.produced; k++)
			config_destroy(&r.cfg[k % SLICES_AHEAD]);
	}
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
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
