/* The boot decision: what a netbooting client gets, as one pure function
 * of what it said in its DHCP request and what the inventory says about
 * it. The DHCP server and `gridbootd explain` both call it, so the answer
 * to "why did machine X get that?" is the answer the server gave. */
#ifndef GRIDBOOT_BOOTDECIDE_H
#define GRIDBOOT_BOOTDECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/inventory.h"

enum boot_client {
	BC_PLAIN,       /* no sign of netbooting: an address only */
	BC_PXE,         /* a PXE ROM (BIOS or UEFI) fetching a loader by TFTP */
	BC_HTTP,        /* UEFI HTTP Boot */
	BC_IPXE,        /* iPXE itself: never chain it into iPXE again */
	BC_UBOOT,
	BC_PLAN9,       /* a booted Plan 9 kernel's ipconfig (plan9_*, p9-*) */
};

struct boot_query {
	const struct inventory *inv;
	const struct machine *m;    /* NULL: not in the inventory */
	const uint8_t *mac;         /* the client's MAC, for file names; may be NULL */
	int arch;                   /* option 93, -1 if absent */
	const char *vendor;         /* option 60, "" if absent */
	bool ipxe;                  /* user class iPXE or option 175 */
	uint32_t yiaddr, mask, router;  /* for the Plan 9 sub-options */
	/* DHCPv6 (option 61 in arch): the server's IPv6 address as text; the
	 * answer is then a URL (option 59): http://[host6]/..., tftp://[host6]/... */
	const char *host6;
};

struct boot_answer {
	enum boot_client client;
	bool boot;                  /* false: no boot fields at all */
	uint32_t siaddr;
	char file[128];             /* BOOTP file and option 67; DHCPv6: option 59's URL */
	char opt66[16];             /* TFTP server name as text, "" if none */
	bool http_client;           /* option 60 "HTTPClient" in the reply */
	uint8_t opt43[255];         /* Plan 9 vendor sub-options */
	size_t opt43_len;
	const char *firmware;       /* what option 93 / the vendor class says */
	char loader[24];            /* grid.loaders key used, or "" */
	char why[200];              /* one line: the reason for the answer */
	char next[4][200];          /* what the client fetches after DHCP */
	int nnext;
};

const char *boot_client_name(enum boot_client c);
enum boot_client boot_classify(int arch, const char *vendor, bool ipxe);
void boot_decide(const struct boot_query *q, struct boot_answer *a);

#endif
