/* Every module the daemon runs, in start-up order, and the inventory
 * loader with every module's check: the one place that knows them all. */
#ifndef GRIDBOOT_MODULES_H
#define GRIDBOOT_MODULES_H

#include <stddef.h>

#include "core/module.h"
#include "config/inventory.h"

extern const struct module dhcp_module;
extern const struct module dhcp6_module;
extern const struct module tftp_module;
extern const struct module http_module;
extern const struct module p9_module;
extern const struct module auth_module;
extern const struct module ra_module;

extern const struct module *const gridboot_modules[];
extern const size_t gridboot_nmodules;

/* loader_load with the boot layer's checks and every module's. */
struct inventory *gridboot_load(const char *path, struct errlist *errs);

#endif
