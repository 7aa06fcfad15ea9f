/* What the DHCP server answers to one parsed request: the protocol's
 * state machine (RFC 2131 section 4.3) for full and proxy mode, with the
 * lease table and the boot decision. No sockets here: dhcp.c receives,
 * picks the network, calls dhcp_handle, and sends what it returns. */
#ifndef GRIDBOOT_DHCP_HANDLE_H
#define GRIDBOOT_DHCP_HANDLE_H

#include "boot/bootdecide.h"
#include "dhcp/dhcp_packet.h"
#include "config/inventory.h"

struct dhcp_leases;

/* What dhcp_handle remembers about the pools between requests, by
 * network slot (the network's index in the inventory, modulo 16): the
 * next-fit cursor and the "pool full" memo (see pool_pick). It lives in
 * the DHCP server's state beside the lease table it describes, zeroed
 * when that table is opened. */
struct dhcp_pools {
	uint32_t cursor[16];
	struct dhcp_pool_full {
		const struct network *net;
		unsigned long serial, gen;
		int64_t until_ms;
	} full[16];
};

struct dhcp_ctx {
	struct dhcp_leases *leases; /* the server's table (dhcp_lease.h) */
	struct dhcp_pools *pools;   /* and what it remembers about its pools */
	const struct inventory *inv;
	const struct network *net;  /* the client's network (by interface or giaddr) */
	uint32_t server_id;         /* our address the client or relay reached */
	bool proxy_port;            /* arrived on grid.proxy_port (4011) */
	int64_t now_ms;             /* wall clock */
	uint32_t src;               /* the packet's IP source address (host order) */
	bool store_down;            /* the shared store is away (core/store.h) */
	uint32_t share_n, share_me; /* the pool's shares (instances), this one's */
};

struct dhcp_out {
	bool send;                  /* false: stay silent */
	bool commit;                /* a binding was journaled: send after the sync */
	const char *why;            /* why silent, or a note for the timeline */
	uint32_t lease_left;        /* lease time to give if not the network's */
	struct dhcp_reply reply;
	struct boot_answer boot;
	const struct machine *m;
};

void dhcp_handle(const struct dhcp_ctx *c, const struct dhcp_msg *req, struct dhcp_out *o);
/* Network-wide defaults (also for explain). */
#define DHCP_OFFER_HOLD_MS  60000       /* an offered address is kept this long */
#define DHCP_DECLINE_MS     600000      /* a declined address rests this long */

#endif
