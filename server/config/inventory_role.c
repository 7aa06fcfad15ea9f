/* The inventory's kernels and roles, and the words machines and roles
 * share with them: arch (and DHCP option 93's codes), firmware, boot
 * method, a kernel named by reference. */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "core/util.h"

#include <libconfig.h>
#include <stdio.h>
#include <string.h>

bool
arch_parse(const char *s, enum arch *a)
{
	if (s == NULL)
		return false;
	if (strcmp(s, "amd64") == 0)
		*a = ARCH_AMD64;
	else if (strcmp(s, "386") == 0)
		*a = ARCH_386;
	else if (strcmp(s, "arm64") == 0)
		*a = ARCH_ARM64;
	else
		return false;
	return true;
}

bool
arch_from_option93(int code, enum arch *arch, enum firmware *fw)
{
	switch (code) {
	case 0:  *arch = ARCH_AMD64; *fw = FW_BIOS; return true;   /* x86 BIOS */
	case 6:  *arch = ARCH_386;   *fw = FW_UEFI; return true;   /* x86 UEFI */
	case 7:                                                    /* x64 UEFI */
	case 9:                                                    /* EBC, seen from x64 */
	case 16: *arch = ARCH_AMD64; *fw = FW_UEFI; return true;   /* x64 UEFI HTTP */
	case 11:                                                   /* arm64 UEFI */
	case 19: *arch = ARCH_ARM64; *fw = FW_UEFI; return true;   /* arm64 UEFI HTTP */
	case 22: *arch = ARCH_ARM64; *fw = FW_UBOOT; return true;  /* arm64 U-Boot */
	default: return false;
	}
}

bool
firmware_parse(const char *s, enum firmware *f)
{
	for (enum firmware x = FW_BIOS; x <= FW_UBOOT; x++)
		if (s && strcmp(s, firmware_name(x)) == 0) {
			*f = x;
			return true;
		}
	return false;
}

enum firmware
default_firmware(enum arch a)
{
	return a == ARCH_ARM64 ? FW_UBOOT : FW_BIOS;
}

bool
firmware_runs_on(enum firmware f, enum arch a)
{
	return !(f == FW_BIOS && a == ARCH_ARM64) && !(f == FW_UBOOT && a != ARCH_ARM64);
}

void
get_arch(struct ctx *c, config_setting_t *g, const char *path, bool required, enum arch *a)
{
	const char *s = get_str(c, g, path, "arch", required);
	char kp[128];

	keypath(kp, sizeof kp, path, "arch");
	if (s && !arch_parse(s, a))
		bad(c, config_setting_get_member(g, "arch"), kp,
		    "\"%s\" is not one of amd64, 386, arm64", s);
}

static const char *const kernel_keys[] = {
	"name", "arch", "file", "type", "initrd", "cmdline", NULL,
};

/* kernels and roles come as a group of named groups (name = { ... }) or,
 * for names libconfig cannot take as keys (9pc64 starts with a digit), as
 * a list of groups with a name member. */
static const char *
entry_name(struct ctx *c, config_setting_t *e, const char *what, int idx)
{
	const char *name = config_setting_name(e);
	char path[64];

	if (name != NULL)
		return name;
	snprintf(path, sizeof path, "%s[%d]", what, idx);
	if (!config_setting_is_group(e)) {
		bad(c, e, path, "must be a group { name = ...; ... }");
		return NULL;
	}
	name = get_str(c, e, path, "name", true);
	if (name && !name_ok(name)) {
		bad(c, config_setting_get_member(e, "name"), path,
		    "\"%s\": use letters, digits, '-', '_' or '.', at most 27", name);
		return NULL;
	}
	return name;
}

static bool
named_collection(struct ctx *c, config_setting_t *s, const char *what)
{
	if (config_setting_is_group(s) || config_setting_is_list(s))
		return true;
	bad(c, s, what, "must be a list ( { name = ...; ... }, ... ) or a group { name = { ... }; }");
	return false;
}

static bool
duplicate_name(struct ctx *c, config_setting_t *e, const char *what,
    const char *name, const char *prev, int prevline)
{
	if (prev == NULL || strcmp(prev, name) != 0)
		return false;
	bad(c, e, what, "\"%s\" is already defined on line %d", name, prevline);
	return true;
}

static void
parse_kernel(struct ctx *c, config_setting_t *k, const char *name, struct kernel *kn)
{
	char path[128];
	const char *s;

	char kp[128];

	kn->name = estrdup(name);
	kn->line = src_line(c, k);
	snprintf(path, sizeof path, "kernels.%s", kn->name);
	if (!config_setting_is_group(k)) {
		bad(c, k, path, "must be a group { arch = ...; file = ...; }");
		return;
	}
	check_keys(c, k, path, kernel_keys);
	get_arch(c, k, path, true, &kn->arch);
	kn->payload = PAYLOAD_PLAN9;
	if ((s = get_str(c, k, path, "type", false)) != NULL) {
		if (strcmp(s, "linux") == 0)
			kn->payload = PAYLOAD_LINUX;
		else if (strcmp(s, "plan9") != 0)
			bad(c, config_setting_get_member(k, "type"), kpath(kp, path, "type"),
			    "\"%s\" is not one of plan9, linux", s);
	}
	if ((s = get_str(c, k, path, "file", true)) != NULL) {
		if (!path_ok(s))
			bad(c, config_setting_get_member(k, "file"), kpath(kp, path, "file"),
			    "\"%s\" must be a relative path under grid.files without ..", s);
		kn->file = estrdup(s);
	}
	if ((s = get_str(c, k, path, "initrd", false)) != NULL) {
		if (kn->payload != PAYLOAD_LINUX)
			bad(c, config_setting_get_member(k, "initrd"), kpath(kp, path, "initrd"),
			    "only a linux kernel takes an initrd");
		else if (!path_ok(s))
			bad(c, config_setting_get_member(k, "initrd"), kpath(kp, path, "initrd"),
			    "\"%s\" must be a relative path under grid.files without ..", s);
		kn->initrd = estrdup(s);
	}
	if ((s = get_str(c, k, path, "cmdline", false)) != NULL)
		kn->cmdline = estrdup(s);
}

void
parse_kernels(struct ctx *c, config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "kernels");
	struct inventory *inv = c->inv;

	if (g == NULL)
		return;
	if (!named_collection(c, g, "kernels"))
		return;
	int n = config_setting_length(g);
	inv->kernels = ecalloc((size_t)n, sizeof *inv->kernels);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *name = entry_name(c, e, "kernels", i);
		bool dup = false;
		if (name == NULL)
			continue;
		for (size_t j = 0; j < inv->nkernels && !dup; j++)
			dup = duplicate_name(c, e, "kernels", name, inv->kernels[j].name,
			    inv->kernels[j].line);
		if (!dup)
			parse_kernel(c, e, name, &inv->kernels[inv->nkernels++]);
	}
}

static bool
boot_parse(const char *s, enum bootmethod *b)
{
	if (strcmp(s, "auto") == 0)
		*b = BOOT_AUTO;
	else if (strcmp(s, "ipxe") == 0)
		*b = BOOT_IPXE;
	else if (strcmp(s, "9boot") == 0)
		*b = BOOT_9BOOT;
	else
		return false;
	return true;
}

void
get_boot(struct ctx *c, config_setting_t *g, const char *path, enum bootmethod *b)
{
	const char *s = get_str(c, g, path, "boot", false);
	char kp[128];

	keypath(kp, sizeof kp, path, "boot");
	if (s && !boot_parse(s, b))
		bad(c, config_setting_get_member(g, "boot"), kp,
		    "\"%s\" is not one of auto, ipxe, 9boot", s);
}

struct kernel *
get_kernel_ref(struct ctx *c, config_setting_t *g, const char *path, bool required)
{
	const char *s = get_str(c, g, path, "kernel", required);
	struct kernel *k;
	char kp[128];

	if (s == NULL)
		return NULL;
	keypath(kp, sizeof kp, path, "kernel");
	if ((k = inv_kernel(c->inv, s)) == NULL)
		bad(c, config_setting_get_member(g, "kernel"), kp,
		    "\"%s\" is not defined in kernels", s);
	return k;
}

static const char *const role_keys[] = { "name", "kernel", "boot", "plan9ini", NULL };

void
parse_roles(struct ctx *c, config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "roles");
	struct inventory *inv = c->inv;

	if (g == NULL)
		return;
	if (!named_collection(c, g, "roles"))
		return;
	int n = config_setting_length(g);
	inv->roles = ecalloc((size_t)n, sizeof *inv->roles);
	for (int i = 0; i < n; i++) {
		config_setting_t *r = config_setting_get_elem(g, (unsigned)i);
		const char *name = entry_name(c, r, "roles", i);
		bool dup = false;
		char path[128];

		if (name == NULL)
			continue;
		for (size_t j = 0; j < inv->nroles && !dup; j++)
			dup = duplicate_name(c, r, "roles", name, inv->roles[j].name,
			    inv->roles[j].line);
		if (dup)
			continue;
		struct role *ro = &inv->roles[inv->nroles++];
		ro->name = estrdup(name);
		ro->line = src_line(c, r);
		snprintf(path, sizeof path, "roles.%s", ro->name);
		if (!config_setting_is_group(r)) {
			bad(c, r, path, "must be a group { kernel = ...; }");
			continue;
		}
		check_keys(c, r, path, role_keys);
		ro->kernel = get_kernel_ref(c, r, path, true);
		get_boot(c, r, path, &ro->boot);
		load_template(c, ro->name, &ro->plan9ini);
		get_plan9ini(c, r, path, &ro->plan9ini);
	}
}
