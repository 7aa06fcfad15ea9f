/* iPXE scripts: boot.ipxe (the entry every iPXE client is pointed at) and
 * ipxe/<mac12>.ipxe, rendered per machine from a template.
 *
 * Templates are plain iPXE scripts with ${name} for the variables listed
 * in ipxe-scripts/README.md. Only those names are replaced; iPXE's own
 * settings (${mac:hexraw}, ${platform}, ${net0/ip}) pass through, so a
 * template can use both. The built-in texts below are the same as the
 * files in ipxe-scripts/ (a unit test keeps them equal); grid.ipxe_scripts
 * points at a directory whose files replace them. */
#include "boot/bootfiles.h"
#include "boot/ipxe.h"
#include "boot/uboot.h"
#include "core/errlist.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_MAX (16 * 1024)

static const struct builtin {
	const char *name;
	const char *text;
} builtins[] = {
	{ "boot",
	  "#!ipxe\n"
	  "# gridboot entry script: every iPXE client is sent here first and\n"
	  "# chains to the script gridboot renders for its own MAC address.\n"
	  "chain ${server}/ipxe/${mac:hexraw}.ipxe || goto failed\n"
	  "exit\n"
	  ":failed\n"
	  "echo gridboot: no boot script for ${mac}; leaving iPXE\n"
	  "exit\n" },
	{ "plan9-bios",
	  "#!ipxe\n"
	  "# ${name} (${macaddr}): Plan 9 kernel ${kernel}, role ${role}.\n"
	  "# Multiboot over HTTP: the kernel reads the first module as plan9.ini.\n"
	  "echo gridboot: ${name}: Plan 9 ${kernel} by multiboot\n"
	  "kernel ${kernel_url}\n"
	  "module ${plan9ini_url}\n"
	  "boot\n" },
	{ "plan9-efi",
	  "#!ipxe\n"
	  "# ${name} (${macaddr}): Plan 9 kernel ${kernel}, role ${role}.\n"
	  "# UEFI: 9front's EFI loader reads cfg/pxe/${mac12} and the kernel by TFTP.\n"
	  "echo gridboot: ${name}: Plan 9 ${kernel} through the EFI loader\n"
	  "chain ${loader_url}\n" },
	{ "plan9-9bootpxe",
	  "#!ipxe\n"
	  "# ${name} (${macaddr}): Plan 9 kernel ${kernel}, role ${role}, boot \"9boot\".\n"
	  "# BIOS: 9front's 9bootpxe runs on iPXE's PXE API and reads\n"
	  "# cfg/pxe/${mac12} and the kernel by TFTP.\n"
	  "echo gridboot: ${name}: Plan 9 ${kernel} through 9bootpxe\n"
	  "chain ${loader_url}\n" },
	{ "linux",
	  "#!ipxe\n"
	  "# ${name} (${macaddr}): Linux kernel ${kernel}, role ${role}.\n"
	  "echo gridboot: ${name}: Linux ${kernel}\n"
	  "kernel ${kernel_url} ${kernel_args}\n"
	  "${initrd_cmd}\n"
	  "boot\n" },
	{ "exit",
	  "#!ipxe\n"
	  "# ${macaddr}: nothing to boot from gridboot.\n"
	  "echo gridboot: ${reason}\n"
	  "exit\n" },
};

const char *
ipxe_builtin(const char *name)
{
	for (size_t i = 0; i < nelem(builtins); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return builtins[i].text;
	return NULL;
}

void
ipxe_templates_load(const char *dir, struct kvlist *out, struct errlist *errs)
{
	for (size_t i = 0; i < nelem(builtins); i++) {
		char *path = esprintf("%s/%s.ipxe", dir, builtins[i].name);
		size_t len;
		char *text = read_file(path, &len, TEMPLATE_MAX);
		if (text == NULL) {
			if (errno != ENOENT)
				errlist_add(errs, path, 0, "grid.ipxe_scripts", "%s", strerror(errno));
		} else if (!str_has_prefix(text, "#!ipxe\n") || strlen(text) != len)
			errlist_add(errs, path, 1, "grid.ipxe_scripts",
			    "an iPXE template must be text starting with #!ipxe");
		else
			kv_set(out, builtins[i].name, text, 0);
		free(text);
		free(path);
	}
}

static const char *
template_text(const struct inventory *inv, const char *name)
{
	const char *t = kv_get(&inv->grid.ipxe, name);
	return t ? t : ipxe_builtin(name);
}

char *
ipxe_subst(const char *t, const struct kvlist *vars)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	while (*t) {
		const char *end, *val = NULL;
		if (t[0] != '$') {      /* the text up to the next '$' at once */
			size_t n = strcspn(t, "$");
			fwrite(t, 1, n, f);
			t += n;
			continue;
		}
		if (t[1] == '{' && (end = strchr(t + 2, '}')) != NULL) {
			for (size_t i = 0; i < vars->n && !val; i++)
				if (strlen(vars->v[i].key) == (size_t)(end - t - 2) &&
				    memcmp(vars->v[i].key, t + 2, (size_t)(end - t - 2)) == 0)
					val = vars->v[i].val;
			if (val) {
				fputs(val, f);
				t = end + 1;
				continue;
			}
		}
		fputc(*t++, f);
	}
	fclose(f);
	return buf;
}

/* Values come from the inventory; a newline in one must not become a
 * second script command. */
static void
var(struct kvlist *vars, const char *key, const char *val)
{
	char *clean = estrdup(val ? val : "");
	for (char *p = clean; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	kv_set(vars, key, clean, 0);
	free(clean);
}

static void
file_url(struct kvlist *vars, const char *key, const char *base, const char *file)
{
	char *u = esprintf("%s/files/%s", base, file);
	var(vars, key, u);
	free(u);
}

static const char *
exit_with(struct kvlist *vars, const char *fmt, const char *arg)
{
	char reason[200];

	snprintf(reason, sizeof reason, fmt, arg);
	var(vars, "reason", reason);
	return "exit";
}

static const char *
efi_loader_kind(enum arch a)
{
	return a == ARCH_ARM64 ? "plan9_efi_arm64" : "plan9_efi_x64";
}

/* vars must already hold server, macaddr, mac12 and name. */
const char *
ipxe_template_for(const struct inventory *inv, const struct machine *m,
    const struct role *role, struct kvlist *vars)
{
	const struct kernel *k = m ? m->kernel : role ? role->kernel : NULL;
	const char *base = kv_get(vars, "server");
	enum firmware fw = m ? m->firmware : FW_BIOS;
	char *s;

	if (role == NULL)
		return exit_with(vars, "%s", m ? "this machine has no role" :
		    "unknown machine and grid.unknown is none");
	if (k == NULL)
		return exit_with(vars, "role %s has no kernel", role->name);
	var(vars, "role", role->name);
	var(vars, "kernel", k->name);
	var(vars, "arch", arch_name(k->arch));
	var(vars, "firmware", firmware_name(fw));
	file_url(vars, "kernel_url", base, k->file);
	if (k->payload == PAYLOAD_LINUX) {
		s = esprintf("%s%s%sgridboot.server=%s gridboot.mac=%s",
		    k->initrd ? "initrd=initrd " : "", k->cmdline ? k->cmdline : "",
		    k->cmdline ? " " : "", base, kv_get(vars, "macaddr"));
		var(vars, "kernel_args", s);
		free(s);
		if (k->initrd) {
			s = esprintf("initrd --name initrd %s/files/%s", base, k->initrd);
			var(vars, "initrd_cmd", s);
			free(s);
		} else
			var(vars, "initrd_cmd", "# no initrd");
		return "linux";
	}
	if (fw == FW_UBOOT)
		return exit_with(vars, "%s boots from U-Boot (boot.scr.uimg), not iPXE",
		    m->name);
	s = esprintf("%s/plan9.ini/%s", base, kv_get(vars, "mac12"));
	var(vars, "plan9ini_url", s);
	free(s);
	if (fw == FW_UEFI) {
		const char *ld = inv_loader(inv, efi_loader_kind(k->arch));
		if (ld == NULL)
			return exit_with(vars, "UEFI Plan 9 needs grid.loaders.%s",
			    efi_loader_kind(k->arch));
		file_url(vars, "loader_url", base, ld);
		return "plan9-efi";
	}
	/* boot = "9boot" on BIOS: what a plain PXE ROM would get from DHCP,
	 * for the iPXE ROM too (QEMU's, or a NIC flashed with iPXE). */
	if ((m ? machine_boot(m) : role->boot) == BOOT_9BOOT) {
		const char *ld = inv_loader(inv, "plan9_bios");
		if (ld == NULL)
			return exit_with(vars, "%s", "boot 9boot on BIOS needs grid.loaders.plan9_bios");
		file_url(vars, "loader_url", base, ld);
		return "plan9-9bootpxe";
	}
	return "plan9-bios";
}

static enum genresult
render(const struct inventory *inv, const char *tmpl, const struct kvlist *vars,
    struct genfile *out)
{
	out->data = ipxe_subst(template_text(inv, tmpl), vars);
	out->len = strlen(out->data);
	out->content_type = "text/plain; charset=utf-8";
	return GEN_OK;
}

enum genresult
ipxe_entry(const struct inventory *inv, const char *at, struct genfile *out)
{
	struct kvlist vars = { 0 };
	char base[80];

	if (at)
		str_copy(base, at, sizeof base);
	else
		bootfiles_base_url(inv, base, sizeof base);
	var(&vars, "server", base);
	render(inv, "boot", &vars, out);
	kv_free(&vars);
	return GEN_OK;
}

enum genresult
ipxe_machine(const struct inventory *inv, const uint8_t mac[6], const char *at,
    struct genfile *out)
{
	const struct machine *m = inv_machine_by_mac(inv, mac);
	const struct role *role = m ? m->role : inv->grid.unknown;
	struct kvlist vars = { 0 };
	char base[80], macs[18], hex[13];

	if (at)
		str_copy(base, at, sizeof base);
	else
		bootfiles_base_url(inv, base, sizeof base);
	mac_format(mac, macs);
	mac_hex(mac, hex);
	var(&vars, "server", base);
	var(&vars, "macaddr", macs);
	var(&vars, "mac12", hex);
	var(&vars, "name", m ? m->name : "unknown");
	const char *tmpl = ipxe_template_for(inv, m, role, &vars);
	render(inv, tmpl, &vars, out);
	kv_free(&vars);
	return GEN_OK;
}

void
ipxe_check(struct inventory *inv, struct errlist *errs)
{
	if (inv->grid.ipxe_scripts)
		ipxe_templates_load(inv->grid.ipxe_scripts, &inv->grid.ipxe, errs);
}
