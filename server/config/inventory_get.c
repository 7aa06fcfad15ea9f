/* Lookups that need no index (roles, kernels, networks, loaders,
 * interfaces), the names of the inventory's enums, and key=value lists. */
#include "config/inventory.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

struct role *
inv_role(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nroles; i++)
		if (strcmp(inv->roles[i].name, name) == 0)
			return &inv->roles[i];
	return NULL;
}

struct kernel *
inv_kernel(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nkernels; i++)
		if (strcmp(inv->kernels[i].name, name) == 0)
			return &inv->kernels[i];
	return NULL;
}

struct network *
inv_network_for(const struct inventory *inv, uint32_t ip)
{
	for (size_t i = 0; i < inv->nnetworks; i++) {
		struct network *n = &inv->networks[i];
		if (n->mask && (ip & n->mask) == n->subnet)
			return n;
	}
	return NULL;
}

bool
inv_interface_served(const struct inventory *inv, const char *ifname)
{
	const struct grid *g = &inv->grid;

	if (g->ninterfaces == 0)
		return true;
	for (int i = 0; i < g->ninterfaces; i++)
		if (strcmp(g->interfaces[i], ifname) == 0)
			return true;
	return false;
}

const char *
inv_loader(const struct inventory *inv, const char *kind)
{
	return kv_get(&inv->grid.loaders, kind);
}

const char *
arch_name(enum arch a)
{
	switch (a) {
	case ARCH_AMD64: return "amd64";
	case ARCH_386: return "386";
	case ARCH_ARM64: return "arm64";
	default: return "none";
	}
}

const char *
firmware_name(enum firmware f)
{
	switch (f) {
	case FW_BIOS: return "bios";
	case FW_UEFI: return "uefi";
	case FW_UBOOT: return "uboot";
	default: return "none";
	}
}

const char *
boot_name(enum bootmethod b)
{
	switch (b) {
	case BOOT_IPXE: return "ipxe";
	case BOOT_9BOOT: return "9boot";
	default: return "auto";
	}
}

enum bootmethod
machine_boot(const struct machine *m)
{
	if (m->boot != BOOT_AUTO)
		return m->boot;
	/* iPXE's multiboot is BIOS-only; UEFI Plan 9 uses 9front's EFI loader. */
	if (m->firmware == FW_BIOS)
		return BOOT_IPXE;
	if (m->firmware == FW_UEFI && m->kernel && m->kernel->payload == PAYLOAD_PLAN9)
		return BOOT_9BOOT;
	return BOOT_IPXE;
}

const char *
kv_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].val;
	return NULL;
}

void
kv_set(struct kvlist *l, const char *key, const char *val, int line)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0) {
			free(l->v[i].val);
			l->v[i].val = estrdup(val);
			l->v[i].line = line;
			return;
		}
	l->v = erealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n].key = estrdup(key);
	l->v[l->n].val = estrdup(val);
	l->v[l->n].line = line;
	l->n++;
}

void
kv_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
