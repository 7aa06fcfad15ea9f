/* Per-machine iPXE scripts from the templates in ipxe-scripts/ (documented
 * in ipxe-scripts/README.md). */
#ifndef GRIDBOOT_IPXE_H
#define GRIDBOOT_IPXE_H

#include "boot/bootfiles.h"
#include "core/errlist.h"

/* Reads DIR/<name>.ipxe for each template gridboot knows into out (name ->
 * text); missing files fall back to the built-in text. */
void ipxe_templates_load(const char *dir, struct kvlist *out, struct errlist *errs);
/* The built-in text of a template, NULL for an unknown name. */
const char *ipxe_builtin(const char *name);
/* Replaces ${name} for the names in vars; any other ${...} is left for
 * iPXE itself (${mac:hexraw}, ${net0/ip}). malloc'd. */
char *ipxe_subst(const char *tmpl, const struct kvlist *vars);
/* The boot.ipxe entry script and the per-machine script for mac (known or
 * not: unknown machines get grid.unknown's or an exit script). */
/* base: http://SERVER[:PORT] the URLs in them start with; NULL for
 * grid.server's (bootfiles_base_url). */
enum genresult ipxe_entry(const struct inventory *inv, const char *base, struct genfile *out);
enum genresult ipxe_machine(const struct inventory *inv, const uint8_t mac[6],
    const char *base, struct genfile *out);
/* The template a machine's script is rendered from, and the variables. */
const char *ipxe_template_for(const struct inventory *inv, const struct machine *m,
    const struct role *role, struct kvlist *vars);

/* Loader check: reads grid.ipxe_scripts' templates into grid.ipxe. */
void ipxe_check(struct inventory *inv, struct errlist *errs);

#endif
