/* plan9.ini generation: grid defaults (plan9ini/default.ini, then
 * grid.plan9ini), then the role's (plan9ini/<role>.ini, then
 * roles.<r>.plan9ini), then the machine's own, then the entries gridboot
 * computes (sysname, fs, auth, bootfile). Later keys replace earlier ones
 * in place. The result must fit what the Plan 9 loader and kernel take. */
#ifndef GRIDBOOT_PLAN9INI_H
#define GRIDBOOT_PLAN9INI_H

#include <stdbool.h>
#include <stddef.h>

#include "config/inventory.h"

#define P9INI_MAXBYTES 3520     /* BOOTARGSLEN in the kernel's CONFADDR page */
#define P9INI_MAXENTRIES 64     /* MAXCONF */
#define P9INI_BOOTFILE_BIOS 63  /* 9bootpxe's 64-byte buffer, no bounds check */
#define P9INI_BOOTFILE_EFI 127  /* the EFI loader's 128-byte buffer */

bool plan9ini_is_computed(const char *key);
bool plan9ini_key_ok(const char *key, const char **why);
bool plan9ini_val_ok(const char *val, const char **why);

/* Merges the entries for m (or, with m NULL, what unknown clients get from
 * /cfg/pxe/default). Returns the merged list; kv_free it. */
void plan9ini_merge(const struct inventory *inv, const struct machine *m, struct kvlist *out);

/* Renders "key=value\n" text, malloc'd. On a limit overrun returns NULL
 * and says why in why[]. */
char *plan9ini_render(const struct inventory *inv, const struct machine *m,
    char *why, size_t whycap);

/* Whether m's plan9.ini fits those limits (measured, not rendered); why
 * says how it does not. Machines without a name, role or kernel pass:
 * the parser has already said what is wrong with them. */
bool plan9ini_machine_ok(const struct inventory *inv, const struct machine *m,
    char *why, size_t whycap);

/* Loader check: every machine's plan9.ini renders within the limits. */
void plan9ini_check(struct inventory *inv, struct errlist *errs);

#endif
