/* boot/explain.h: the lines explain and explain6 share, with what
 * differs taken from the family. The text is what both printed before
 * they shared it; tests compare it byte for byte. */
#include "boot/explain.h"
#include "core/errlist.h"

#include <stdio.h>

struct inventory *
explain_load(inventory_load_fn *load, const char *cfg)
{
	struct errlist errs = { 0 };
	struct inventory *inv = load(cfg, &errs);

	if (inv == NULL) {
		errlist_print(&errs, stderr);
		errlist_free(&errs);
	}
	return inv;
}

int
explain_assume(const struct explain_family *f, const struct machine *m, char *vendor,
    size_t cap)
{
	int arch = m ? f->rom_arch(m) : -1;
	char rom[96];

	if (arch < 0) {
		printf("assumed: a plain %s client (no option %d, no vendor class); "
		    "give --arch or --vendor-class to ask as %s\n", f->proto, f->o_arch,
		    f->netbooter);
		return -1;
	}
	snprintf(vendor, cap, "PXEClient:Arch:%05d", arch);
	f->rom_name(m, rom, sizeof rom);
	printf("assumed: its %s (option %d %d, vendor class %s); "
	    "give --arch or --vendor-class to ask as another client\n", rom, f->o_arch, arch,
	    vendor);
	return arch;
}

void
explain_request(const struct explain_family *f, int arch, const char *vendor,
    const char *uclass, bool ipxe)
{
	printf("  request: option %d %s%d, option %d \"%s\", option %d \"%s\"%s\n", f->o_arch,
	    arch < 0 ? "absent " : "", arch, f->o_vendor, vendor, f->o_user, uclass,
	    ipxe ? " (iPXE)" : "");
}

void
explain_decision(const struct boot_answer *a)
{
	printf("  1. client: %s%s%s\n", boot_client_name(a->client),
	    a->firmware[0] ? ", firmware " : "", a->firmware);
	printf("  2. decision: %s\n", a->why);
}

void
explain_next(const struct boot_answer *a)
{
	printf("next:\n");
	if (a->nnext == 0)
		printf("  nothing from gridboot\n");
	for (int i = 0; i < a->nnext; i++)
		printf("  %d. %s\n", i + 1, a->next[i]);
}

void
explain_address(const struct explain_family *f, const struct inventory *inv,
    const struct machine *m)
{
	char a[46], b[46];
	const struct network *r = m ? f->reservation(m, a) : NULL;

	printf("address:\n");
	if (r) {
		printf("  %-10s%s (reservation, network line %d, %s)\n", f->addr_field, a, r->line,
		    f->mode(r) == DHCP_PROXY ? "proxy mode: no address from gridboot" : "full mode");
		return;
	}
	for (size_t i = 0; i < inv->nnetworks; i++) {
		const struct network *n = &inv->networks[i];
		if (f->mode(n) == DHCP_OFF)
			continue;
		if (f->mode(n) == DHCP_PROXY) {
			printf("  %-10snone on the proxy network (line %d): the site's %s server gives it\n",
			    f->addr_field, n->line, f->proto);
			continue;
		}
		if (f->pool(n, a, b))
			printf("  %-10sa %s address %s-%s (network line %d)\n", f->addr_field,
			    f->pool_word, a, b, n->line);
		else
			printf("  %-10snone: network line %d has no %s%s\n", f->addr_field, n->line,
			    f->pool_word, f->no_pool);
	}
}
