/* What the DHCPv6 server answers to one parsed message (RFC 8415 section
 * 18.3) in full mode (addresses from the pool or a reservation, boot
 * options) and proxy mode (boot options only, next to a site server). No
 * sockets: dhcp6.c receives, picks the network, calls dhcp6_handle, and
 * sends what it returns. */
#ifndef GRIDBOOT_DHCP6_HANDLE_H
#define GRIDBOOT_DHCP6_HANDLE_H

#include "boot/bootdecide.h"
#include "config/inventory.h"
#include "dhcp6/dhcp6_packet.h"

struct dhcp6_leases;

struct dhcp6_ctx {
	struct dhcp6_leases *leases;
	const struct inventory *inv;
	const struct network *net;  /* by arrival interface or relay link-address */
	const char *host6;          /* our address for boot URLs, NULL if unknown */
	const uint8_t *sid;         /* our DUID */
	size_t sid_len;
	int64_t now_ms;             /* wall clock */
};

struct dhcp6_out {
	bool send;
	bool commit;                /* a binding was journaled: send after the sync */
	const char *why;            /* why silent, or a note for the timeline */
	struct d6_reply reply;
	struct boot_answer boot;
	const struct machine *m;
};

void dhcp6_handle(const struct dhcp6_ctx *c, const struct d6_msg *req, struct dhcp6_out *o);
/* The machine a client is: its DUID's reservation, else its MAC's. */
const struct machine *dhcp6_machine(const struct inventory *inv, const struct d6_msg *req);
/* A MAC from a modified EUI-64 interface identifier (fe80::5054:ff:fe..). */
bool dhcp6_mac_from_eui64(const uint8_t addr[16], uint8_t mac[6]);
/* The boot decision's query for a client (also for explain). */
void dhcp6_boot_query(const struct inventory *inv, const struct d6_msg *req,
    const struct machine *m, const char *host6, struct boot_query *q);

#define D6_OFFER_HOLD_MS    60000   /* an advertised address is kept this long */
#define D6_DECLINE_MS       600000  /* a declined address rests this long */
#define D6_MAX_PER_CLIENT   4       /* addresses one DUID may hold at once */
#define D6_POOL_PROBES      4096    /* addresses looked at per IA before giving up */

#endif
