/* The IPMI driver: IPMI 2.0 over LAN (RMCP+) through libfreeipmi, one
 * session per operation, on a power thread (libfreeipmi blocks).
 *
 *   status  Get Chassis Status: current power state
 *   on/off  Chassis Control: power up / power down (hard)
 *   cycle   power cycle; a machine that is off is powered up instead
 *           (the spec lets a BMC refuse a cycle of a machine that is off)
 *   pxe     Set System Boot Options, boot flags: force PXE, valid for the
 *           next boot only, EFI boot type for a UEFI machine
 *
 * Every operation ends with the power state read in the same session.
 * The session's own timeout is the attempt's; libfreeipmi retransmits
 * within it (a quarter of it apart). */
#include "power/power_driver.h"

#include <freeipmi/freeipmi.h>
#include <stdio.h>
#include <string.h>

/* Cipher suite 3: HMAC-SHA1 authentication and integrity, AES-CBC-128:
 * what every IPMI 2.0 BMC must offer. */
#define CIPHER_SUITE 3

static void
fail(struct power_result *r, enum power_err err, const struct power_target *t,
    const char *what, const char *why)
{
	r->err = err;
	snprintf(r->msg, sizeof r->msg, "ipmi %s: %s: %s", t->address, what, why);
}

/* The library's error as whether to try again, and in words. */
static void
ctx_fail(struct power_result *r, ipmi_ctx_t ctx, const struct power_target *t,
    const char *what, bool opened)
{
	int e = ipmi_ctx_errnum(ctx);
	enum power_err err = PERR_REFUSED;
	char why[160];

	switch (e) {
	case IPMI_ERR_CONNECTION_TIMEOUT:
	case IPMI_ERR_SESSION_TIMEOUT:
	case IPMI_ERR_MESSAGE_TIMEOUT:
		/* Before the session was open nothing was asked of the BMC. */
		err = opened ? PERR_TIMEOUT : PERR_UNREACHED;
		snprintf(why, sizeof why, "no answer from the BMC within %d ms (%s)",
		    t->timeout_ms, ipmi_ctx_errormsg(ctx));
		break;
	case IPMI_ERR_USERNAME_INVALID:
		snprintf(why, sizeof why, "the BMC refused user %s (%s)", t->user,
		    ipmi_ctx_errormsg(ctx));
		break;
	case IPMI_ERR_PASSWORD_INVALID:
		snprintf(why, sizeof why, "the BMC refused the password of %s (%s)", t->user,
		    ipmi_ctx_errormsg(ctx));
		break;
	case IPMI_ERR_BMC_BUSY:
		err = PERR_UNREACHED;   /* it did nothing: say so and try again */
		snprintf(why, sizeof why, "%s", ipmi_ctx_errormsg(ctx));
		break;
	default:
		snprintf(why, sizeof why, "%s", ipmi_ctx_errormsg(ctx));
		break;
	}
	fail(r, err, t, what, why);
}

static bool
get_state(ipmi_ctx_t ctx, const struct power_target *t, struct power_result *r)
{
	fiid_obj_t rs = fiid_obj_create(tmpl_cmd_get_chassis_status_rs);
	uint64_t on = 0;
	bool ok = false;

	if (rs == NULL) {
		fail(r, PERR_REFUSED, t, "chassis status", "out of memory");
		return false;
	}
	if (ipmi_cmd_get_chassis_status(ctx, rs) < 0)
		ctx_fail(r, ctx, t, "chassis status", true);
	else if (fiid_obj_get(rs, "current_power_state.power_is_on", &on) < 0)
		fail(r, PERR_REFUSED, t, "chassis status", "the reply has no power state");
	else {
		r->state = on ? PST_ON : PST_OFF;
		ok = true;
	}
	fiid_obj_destroy(rs);
	return ok;
}

static bool
chassis_control(ipmi_ctx_t ctx, const struct power_target *t, uint8_t what,
    const char *name, struct power_result *r)
{
	fiid_obj_t rs = fiid_obj_create(tmpl_cmd_chassis_control_rs);
	bool ok;

	if (rs == NULL) {
		fail(r, PERR_REFUSED, t, name, "out of memory");
		return false;
	}
	if (!(ok = ipmi_cmd_chassis_control(ctx, what, rs) >= 0))
		ctx_fail(r, ctx, t, name, true);
	fiid_obj_destroy(rs);
	return ok;
}

/* ipmitool's "chassis bootdev pxe" (options=efiboot for UEFI). */
static bool
boot_pxe(ipmi_ctx_t ctx, const struct power_target *t, struct power_result *r)
{
	fiid_obj_t rs = fiid_obj_create(tmpl_cmd_set_system_boot_options_rs);
	bool ok;

	if (rs == NULL) {
		fail(r, PERR_REFUSED, t, "boot flags", "out of memory");
		return false;
	}
	ok = ipmi_cmd_set_system_boot_options_boot_flags(ctx,
	    IPMI_SYSTEM_BOOT_OPTIONS_PARAMETER_VALID_UNLOCKED,
	    t->uefi ? IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_EFI :
	        IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_PC_COMPATIBLE,
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID_FOR_NEXT_BOOT,
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID,
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,   /* lock out reset button */
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,   /* screen blank */
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_PXE,
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,   /* lock keyboard */
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,   /* CMOS clear */
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_CONSOLE_REDIRECTION_DEFAULT,
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,   /* lock out sleep button */
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,   /* user password bypass */
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,   /* force progress event traps */
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_FIRMWARE_BIOS_VERBOSITY_DEFAULT,
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,   /* lock out via power button */
	    0, 0, 0,                           /* mux, shared mode, instance */
	    rs) >= 0;
	if (!ok)
		ctx_fail(r, ctx, t, "boot flags (pxe)", true);
	fiid_obj_destroy(rs);
	return ok;
}

static bool
do_op(ipmi_ctx_t ctx, const struct power_target *t, enum power_op op,
    struct power_result *r)
{
	switch (op) {
	case POP_STATUS:
		return get_state(ctx, t, r);
	case POP_ON:
		return chassis_control(ctx, t, IPMI_CHASSIS_CONTROL_POWER_UP, "power up", r);
	case POP_OFF:
		return chassis_control(ctx, t, IPMI_CHASSIS_CONTROL_POWER_DOWN, "power down", r);
	case POP_CYCLE:
		if (!get_state(ctx, t, r))
			return false;
		if (r->state == PST_OFF)
			return chassis_control(ctx, t, IPMI_CHASSIS_CONTROL_POWER_UP,
			    "power up (it was off)", r);
		return chassis_control(ctx, t, IPMI_CHASSIS_CONTROL_POWER_CYCLE, "power cycle", r);
	case POP_PXE:
		return boot_pxe(ctx, t, r);
	default:
		fail(r, PERR_REFUSED, t, "?", "no such operation");
		return false;
	}
}

/* The inventory's workarounds as libfreeipmi's flags. */
static unsigned
workaround_flags(unsigned w)
{
	static const struct { unsigned ours, theirs; } map[] = {
		{ PW_AUTHCAP, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_AUTHENTICATION_CAPABILITIES },
		{ PW_INTEL20, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_INTEL_2_0_SESSION },
		{ PW_SUPERMICRO20, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUPERMICRO_2_0_SESSION },
		{ PW_SUN20, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUN_2_0_SESSION },
		{ PW_OPENSESSPRIV, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE },
		{ PW_INTEGRITYCHECKVALUE,
		    IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NON_EMPTY_INTEGRITY_CHECK_VALUE },
	};
	unsigned f = 0;

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (w & map[i].ours)
			f |= map[i].theirs;
	return f;
}

void
power_ipmi_run(const struct power_target *t, const char *password, enum power_op op,
    struct power_result *r)
{
	ipmi_ctx_t ctx = ipmi_ctx_create();
	unsigned session = (unsigned)t->timeout_ms;
	unsigned retransmit = session / 4 < 250 ? 250 : session / 4;

	r->state = PST_UNKNOWN;
	if (ctx == NULL) {
		fail(r, PERR_REFUSED, t, "session", "out of memory");
		return;
	}
	/* The address may be host:port (libfreeipmi reads the port). */
	if (ipmi_ctx_open_outofband_2_0(ctx, t->address, t->user, password, NULL, 0,
	    IPMI_PRIVILEGE_LEVEL_ADMIN, CIPHER_SUITE, session, retransmit,
	    workaround_flags(t->workarounds), IPMI_FLAGS_DEFAULT) < 0) {
		ctx_fail(r, ctx, t, "session", false);
		ipmi_ctx_destroy(ctx);
		return;
	}
	if (do_op(ctx, t, op, r)) {
		enum power_state before = r->state;
		struct power_result after = { 0 };
		/* It acted; a state that cannot be read after is unknown. */
		if (op != POP_STATUS)
			r->state = get_state(ctx, t, &after) ? after.state : PST_UNKNOWN;
		r->err = PERR_OK;
		snprintf(r->msg, sizeof r->msg, "ipmi %s: %s", t->address,
		    op == POP_STATUS ? "chassis status" :
		    op == POP_CYCLE && before == PST_OFF ? "was off: powered up" :
		    op == POP_PXE ? "next boot from the network (once)" :
		    op == POP_ON ? "powered up" : op == POP_OFF ? "powered down" :
		    "power cycled");
	}
	ipmi_ctx_close(ctx);
	ipmi_ctx_destroy(ctx);
}
