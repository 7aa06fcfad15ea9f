/* The DHCPv6 lease table and its journal STATE/dhcp6.leases.
 *
 * One entry per address a client's IA holds, was offered, last held, or
 * that was declined; found by client (DUID, IAID) and by address. Every
 * entry holds an address, and an entry that loses its address to another
 * client is recycled, so the table never has more entries than addresses
 * were handed out, whatever number of DUIDs a flood makes up; a hard cap
 * (max entries, from the pools' sizes) bounds it too.
 *
 * Durability is DHCPv4's, through the same core/journal.h: a binding is
 * appended when decided and the Reply announcing it leaves only after
 * dhcp6_lease_sync() (one fdatasync per loop turn for all of them). */
#ifndef GRIDBOOT_DHCP6_LEASE_H
#define GRIDBOOT_DHCP6_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/inventory.h"

enum l6state { L6_FREE, L6_OFFERED, L6_BOUND, L6_DECLINED };

struct d6_lease {
	uint8_t addr[16];
	uint8_t duid[DUID_MAX];
	uint8_t duid_len;           /* 0 for a declined address */
	uint32_t iaid;
	enum l6state state;
	int64_t until_ms;           /* wall clock: end of the lease, offer or decline */
	bool has_mac;
	uint8_t mac[6];
	uint32_t chain[2];          /* hash chains (by client, by address): index + 1 */
};

struct dhcp6_leases;

/* Opens the table "dhcp6.leases" of st (core/store.h: with files,
 * STATE/dhcp6.leases replayed and compacted); at most max entries. NULL
 * on error (logged). */
struct store;
struct dhcp6_leases *dhcp6_lease_open(struct store *st, size_t max);
void dhcp6_lease_close(struct dhcp6_leases *lt);

struct d6_lease *dhcp6_lease_find(struct dhcp6_leases *lt, const uint8_t *duid,
    size_t duid_len, uint32_t iaid);
struct d6_lease *dhcp6_lease_by_addr(struct dhcp6_leases *lt, const uint8_t addr[16]);
/* True if addr is offered, bound or declined, unexpired at now, for any
 * client IA other than (duid, iaid). */
bool dhcp6_lease_taken(struct dhcp6_leases *lt, const uint8_t addr[16],
    const uint8_t *duid, size_t duid_len, uint32_t iaid, int64_t now_ms);
/* Unexpired offers and bindings of one DUID (a client's share of a pool). */
int dhcp6_lease_client_count(struct dhcp6_leases *lt, const uint8_t *duid,
    size_t duid_len, int64_t now_ms);

/* Who an offer or binding is for. */
struct d6_client {
	const uint8_t *duid;
	size_t duid_len;
	uint32_t iaid;
	const uint8_t *mac;         /* may be NULL */
};

/* Holds addr for the client for a while (not journaled). false when the
 * table is at its cap. */
bool dhcp6_lease_offer(struct dhcp6_leases *lt, const struct d6_client *c,
    const uint8_t addr[16], int64_t until_ms);
/* Binds and journals; -1 if the record was not written (send no Reply). */
int dhcp6_lease_bind(struct dhcp6_leases *lt, const struct d6_client *c,
    const uint8_t addr[16], int64_t until_ms);
void dhcp6_lease_release(struct dhcp6_leases *lt, struct d6_lease *e);
void dhcp6_lease_decline(struct dhcp6_leases *lt, const uint8_t addr[16], int64_t until_ms);

int dhcp6_lease_sync(struct dhcp6_leases *lt);
/* The sync in two halves (core/holdq.h, core/store.h): begin gives the
 * descriptor for another thread's fdatasync, or STORE_ASYNC and later
 * done(arg, err) from the database; end takes that errno. */
int dhcp6_lease_sync_begin(struct dhcp6_leases *lt, void (*done)(void *, int), void *arg);
int dhcp6_lease_sync_end(struct dhcp6_leases *lt, int err);
bool dhcp6_lease_dirty(const struct dhcp6_leases *lt);
void dhcp6_lease_foreach(const struct dhcp6_leases *lt,
    void (*fn)(const struct d6_lease *, void *), void *arg);
unsigned long dhcp6_lease_count(const struct dhcp6_leases *lt);

/* The narrow door (dhcp6/leases6.c): registers lt's live leases with
 * boot/leases6.h; set by the server's init, NULL after its shutdown. */
void leases6_serve(struct dhcp6_leases *lt);

#endif
