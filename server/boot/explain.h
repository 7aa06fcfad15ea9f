/* What `gridbootd explain` (DHCPv4) and `explain6` (DHCPv6) print alike:
 * loading the inventory, the "assumed:" line, the request, the boot
 * decision's steps, the files fetched next and where the address comes
 * from. A family (struct explain_family) says what differs: option
 * numbers, words, and how a machine's reserved address and a network's
 * pool are read. Each command keeps its own options and fields. */
#ifndef GRIDBOOT_EXPLAIN_H
#define GRIDBOOT_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "boot/bootdecide.h"
#include "config/inventory.h"
#include "core/module.h"

struct explain_family {
	const char *proto;          /* "DHCP", "DHCPv6" */
	int o_arch, o_vendor, o_user;   /* 93, 60, 77; 61, 16, 15 */
	const char *netbooter;      /* what --arch makes of a client: "a PXE client" */
	/* The arch option a machine's firmware ROM sends, or -1 for none;
	 * and its words for that ROM ("amd64 uefi firmware's PXE ROM"). */
	int (*rom_arch)(const struct machine *m);
	void (*rom_name)(const struct machine *m, char *out, size_t cap);
	const char *addr_field;     /* "yiaddr", "IA_NA" */
	const char *pool_word;      /* "pool", "pool6" */
	const char *no_pool;        /* appended when a network has none */
	/* The machine's reserved address as text and its network, or NULL. */
	const struct network *(*reservation)(const struct machine *m, char addr[46]);
	enum dhcpmode (*mode)(const struct network *n);
	/* The network's pool as text; false when it has none. */
	bool (*pool)(const struct network *n, char lo[46], char hi[46]);
};

/* The inventory at cfg through the daemon's loader; NULL after printing
 * its errors to stderr. */
struct inventory *explain_load(inventory_load_fn *load, const char *cfg);
/* The command line named no kind of client: prints what is assumed. A
 * machine whose firmware has a netboot ROM asks as that ROM: returns its
 * arch option and writes its vendor class to vendor; else -1 (a plain
 * client). */
int explain_assume(const struct explain_family *f, const struct machine *m,
    char *vendor, size_t cap);
void explain_request(const struct explain_family *f, int arch, const char *vendor,
    const char *uclass, bool ipxe);
/* Steps 1 and 2: the kind of client and the decision. */
void explain_decision(const struct boot_answer *a);
/* "next:": the files the client fetches after the answer. */
void explain_next(const struct boot_answer *a);
/* "address:": the reservation, else each served network's pool. */
void explain_address(const struct explain_family *f, const struct inventory *inv,
    const struct machine *m);

#endif
