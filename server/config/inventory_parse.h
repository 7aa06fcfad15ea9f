/* What the inventory's parse files share, and nothing outside config/
 * includes: the parse context, bad() for "FILE:LINE: key: why", the value
 * readers and each section's entry point. The files, one concern each:
 *
 *   inventory.c          one load: libconfig, the sections in order, the
 *                        result; inventories' lifetime (derive, refs, free)
 *   inventory_value.c    typed value readers, key paths, plan9.ini values
 *   inventory_grid.c     grid = { ... }
 *   inventory_net.c      networks (IPv4)
 *   inventory_ip6.c      IPv6: subnet6, pool6, a machine's ip6 and DUID
 *   inventory_role.c     kernels and roles; arch, firmware, boot method
 *   inventory_machine.c  machines, whole or in slices
 *   inventory_power.c    a machine's power driver (docs/power.md)
 *   inventory_index.c    the machine indexes and the lookups through them
 *   inventory_export.c   exports (9P)
 *   inventory_get.c      the other lookups, enum names, key=value lists */
#ifndef GRIDBOOT_INVENTORY_PARSE_H
#define GRIDBOOT_INVENTORY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "config/inventory.h"

struct cfg_list;

struct ctx {
	struct errlist *errs;
	const char *path;
	struct inventory *inv;
	size_t nerrs_at_start;
	bool bad_network;       /* a subnet failed: don't blame machines for it */
	int line_base;          /* added to libconfig's lines (a slice of the file) */
	const char *text;       /* the file, when machines are read in slices */
	const struct cfg_list *slices;
	bool resliced;          /* a slice did not parse: read the whole file */
};

#define bad(c, s, key, ...) \
	errlist_add((c)->errs, src_file((c), (s)), src_line((c), (s)), (key), __VA_ARGS__)

/* inventory_value.c: values, key paths, plan9.ini settings and templates, names and paths */
const char *src_file(struct ctx *c, const config_setting_t *s);
int src_line(const struct ctx *c, const config_setting_t *s);
void cat_trunc(char *out, size_t cap, size_t *at, const char *s);
void utoa_dec(char out[24], unsigned long v);
void keypath(char *out, size_t cap, const char *parent, const char *key);
const char *kpath(char *out, const char *parent, const char *key);
void check_keys(struct ctx *c, config_setting_t *group, const char *path,
    const char *const *allowed);
const char *get_str(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, bool required);
bool get_int(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, long lo, long hi, int *out);
void get_bool(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, bool *out);
bool get_ip(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, bool required, uint32_t *out);
int get_ip_list(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, uint32_t *out, int max);
const char *get_range(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, char *lo, size_t cap, const char **hi);
bool get_dhcpmode(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, enum dhcpmode *out);
char *abs_path(struct ctx *c, const char *p);
void get_plan9ini(struct ctx *c, config_setting_t *parent, const char *path,
    struct kvlist *out);
void load_template(struct ctx *c, const char *name, struct kvlist *out);
bool path_ok(const char *p);

/* inventory_grid.c: grid = { ... } */
void parse_grid(struct ctx *c, config_setting_t *root);
void resolve_unknown(struct ctx *c, config_setting_t *root);

/* inventory_net.c: networks */
void parse_networks(struct ctx *c, config_setting_t *root);

/* inventory_ip6.c: IPv6 networks and reservations */
bool get_ip6(struct ctx *c, config_setting_t *group, const char *path, const char *key,
    uint8_t out[16]);
void parse_network6(struct ctx *c, config_setting_t *n, const char *path, struct network *net);
void check_networks6(struct ctx *c, config_setting_t *l);
void parse_machine6(struct ctx *c, config_setting_t *m, const char *path, struct machine *ma);
void check_machine_address6(struct ctx *c, config_setting_t *m, struct machine *ma);

/* inventory_role.c: kernels, roles and the words they share with machines */
void get_arch(struct ctx *c, config_setting_t *g, const char *path, bool required, enum arch *a);
void parse_kernels(struct ctx *c, config_setting_t *root);
void get_boot(struct ctx *c, config_setting_t *g, const char *path, enum bootmethod *b);
struct kernel *get_kernel_ref(struct ctx *c, config_setting_t *g, const char *path, bool required);
void parse_roles(struct ctx *c, config_setting_t *root);

/* inventory_machine.c: machines */
void parse_machines(struct ctx *c, config_setting_t *root);

/* inventory_power.c: a machine's power driver, grid.power_* */
void parse_machine_power(struct ctx *c, config_setting_t *m, const char *path,
    struct machine *ma);
void parse_grid_power(struct ctx *c, config_setting_t *g, struct grid *gr);

/* inventory_index.c: the machine indexes */
void index_reset(struct inventory *inv);
int index_add(struct inventory *inv, size_t i);
void index_trim(struct inventory *inv);

/* inventory_export.c: exports */
void parse_exports(struct ctx *c, config_setting_t *root);

#endif
