/* What power.c gives a driver and gets back: one operation on one BMC,
 * on a power thread, with the settings copied out of the inventory (a
 * driver never touches the daemon's state) and the password read from
 * its file for this call only. Nothing outside power/ includes this. */
#ifndef GRIDBOOT_POWER_DRIVER_H
#define GRIDBOOT_POWER_DRIVER_H

#include <limits.h>
#include <stdbool.h>

#include "config/inventory.h"
#include "power/power.h"

struct power_target {
	enum power_driver driver;
	bool uefi;                  /* IPMI's boot flags: EFI boot type */
	char address[256];
	char user[65];
	char password_file[PATH_MAX];
	char system[201];
	char ca_file[PATH_MAX];     /* "": none */
	char pin[56];               /* "": none */
	int timeout_ms;
	unsigned workarounds;       /* IPMI: PW_* */
};

/* How an attempt failed: whether another could help. */
enum power_err {
	PERR_OK,
	PERR_UNREACHED,             /* nothing reached the BMC: safe to try again */
	PERR_TIMEOUT,               /* it may have acted: again only if idempotent */
	PERR_REFUSED,               /* authentication, pin, the BMC said no: final */
};

struct power_result {
	enum power_err err;
	enum power_state state;     /* after the operation, when it told */
	char msg[200];              /* the outcome in words (the timeline's) */
};

/* One attempt. password is NUL-terminated, wiped by the caller. */
void power_ipmi_run(const struct power_target *t, const char *password, enum power_op op,
    struct power_result *r);
void power_redfish_run(const struct power_target *t, const char *password, enum power_op op,
    struct power_result *r);
int power_redfish_global_init(void);
void power_redfish_global_cleanup(void);

#endif
