/* The daemon's one table of this host's network interfaces: each link's
 * name, index, flags, hardware address and its IPv4 and IPv6 addresses.
 * DHCP, DHCPv6 and the RA module read it (which network is on a link is
 * config/onlink.h's question, asked of these entries); none of them keeps a
 * getifaddrs list of its own.
 *
 * One table per daemon, shared: the first user's netif_ref creates it in
 * a slot the daemon gives (struct daemon's netif), the last netif_unref
 * frees it. It is kept current by the kernel's own news (see netif.c);
 * a module that must act when links come and go (join a group, start
 * advertising) adds a listener. Loop thread only. */
#ifndef GRIDBOOT_NETIF_H
#define GRIDBOOT_NETIF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct netif;

struct netif_addr4 {
	uint32_t addr, mask;        /* host order */
};

struct netif_link {
	int index;
	char name[IF_NAMESIZE];
	unsigned flags;             /* IFF_UP, IFF_LOOPBACK, IFF_MULTICAST, ... */
	bool has_mac;
	uint8_t mac[6];
	const struct netif_addr4 *a4;   /* in the kernel's order (primary first) */
	size_t n4;
	const uint8_t (*a6)[16];
	size_t n6;
};

/* Someone to tell after every re-read (a link or an address may have come
 * or gone). Lives inside its owner; changed must not free the table. */
struct netif_listener {
	void (*changed)(void *arg);
	void *arg;
	struct netif_listener *next;
};

/* The table in *slot, created (and read) on the first call; every ref
 * wants its netif_unref, which frees the table with the last one. */
struct netif *netif_ref(struct netif **slot, struct evloop *loop);
void netif_unref(struct netif **slot);

void netif_listen(struct netif *t, struct netif_listener *l);
void netif_unlisten(struct netif *t, struct netif_listener *l);
/* What a module that follows the links does at init: netif_ref, and l
 * set to changed(arg) and listening (the caller then applies the table
 * once itself: changed may need the pointer returned here). */
struct netif *netif_follow(struct netif **slot, struct evloop *loop, struct netif_listener *l,
    void (*changed)(void *arg), void *arg);
/* ... and at shutdown: netif_unlisten and netif_unref. */
void netif_unfollow(struct netif **slot, struct netif_listener *l);

/* The link with this index, or NULL. A miss re-reads the table first (at
 * most once a second): a packet can arrive on a link before the kernel's
 * news of it was read. The pointer lasts until the next re-read. */
const struct netif_link *netif_by_index(struct netif *t, int index);
/* Every link, in the kernel's order; valid until the next re-read. */
size_t netif_count(const struct netif *t);
const struct netif_link *netif_at(const struct netif *t, size_t i);

#endif
