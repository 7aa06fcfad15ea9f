#include "modules.h"
#include "power/power.h"
#include "boot/bootfiles.h"
#include "boot/ipxe.h"
#include "config/loader.h"
#include "core/util.h"

/* Started in this order and shut down in reverse: auth comes before p9
 * because 9P sessions hold afids on the auth module's key client, so p9
 * must close its sessions before auth stops the key process; power comes
 * first, so it stops last, after the API and the grid tree that ask it. */
const struct module *const gridboot_modules[] = {
	&power_module, &dhcp_module, &tftp_module, &http_module, &auth_module, &p9_module,
	&ra_module,
	&dhcp6_module,
};
const size_t gridboot_nmodules = nelem(gridboot_modules);

/* The boot layer's checks (files every protocol serves), then each
 * module's own. */
static const struct loader_check boot_checks[] = {
	{ "ipxe", ipxe_check },
	{ "bootfiles", bootfiles_check },
};

struct inventory *
gridboot_load(const char *path, struct errlist *errs)
{
	struct loader_check checks[nelem(boot_checks) + nelem(gridboot_modules)];
	size_t n = 0;

	for (size_t i = 0; i < nelem(boot_checks); i++)
		checks[n++] = boot_checks[i];
	for (size_t i = 0; i < gridboot_nmodules; i++)
		if (gridboot_modules[i]->check)
			checks[n++] = (struct loader_check){ gridboot_modules[i]->name,
			    gridboot_modules[i]->check };
	return loader_load(path, checks, n, errs);
}
