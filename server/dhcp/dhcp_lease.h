/* The DHCP lease table and its journal.
 *
 * In memory: one entry per address a client holds or last held (an entry
 * that loses its address to another client is recycled) plus
 * entries for declined addresses, indexed by MAC and by address. On disk:
 * STATE/dhcp.leases, an append-only text journal of bind / free / decline
 * records. A bind is appended when it is decided, but the ACK that
 * announces it leaves only after dhcp_lease_sync() made the journal durable
 * (group commit: one fdatasync per event-loop turn covers every ACK of that
 * turn). Replaying the journal after a crash therefore knows every address
 * any client was told it holds. When the journal grows well past the live
 * table it is rewritten whole with write_file_atomic. */
#ifndef GRIDBOOT_DHCP_LEASE_H
#define GRIDBOOT_DHCP_LEASE_H

#include <stdbool.h>
#include <stdint.h>

enum lstate { LS_FREE, LS_OFFERED, LS_BOUND, LS_DECLINED };

struct dhcp_lease {
	uint8_t mac[6];
	uint32_t ip;                /* host order; 0: none */
	enum lstate state;
	int64_t until_ms;           /* wall clock: end of the lease, offer or decline */
	char hostname[32];
	uint32_t next_mac, next_ip; /* hash chains: index + 1, 0 ends */
	bool has_mac;               /* false for a declined address */
	int64_t durable_ms;         /* the end of this binding known to be in the
	                             * store (read from it, or its bind's sync
	                             * succeeded); 0: none */
};

/* One lease table with its journal. The DHCP server owns it (dhcp.c);
 * every call below takes it. */
struct dhcp_leases;

struct store;
/* Opens the table "dhcp.leases" of st (core/store.h: with files,
 * STATE/dhcp.leases replayed and compacted). NULL on error (logged). */
struct dhcp_leases *dhcp_lease_open(struct store *st);
/* Syncs what is dirty and frees lt (NULL is fine). */
void dhcp_lease_close(struct dhcp_leases *lt);

struct dhcp_lease *dhcp_lease_by_mac(struct dhcp_leases *lt, const uint8_t mac[6]);
/* The entry currently holding ip in any state, or NULL. */
struct dhcp_lease *dhcp_lease_by_ip(struct dhcp_leases *lt, uint32_t ip);
/* True if ip is bound, offered or declined for someone other than mac
 * and that has not run out at now_ms. */
bool dhcp_lease_taken(struct dhcp_leases *lt, uint32_t ip, const uint8_t mac[6],
    int64_t now_ms);

/* Reserves ip for mac for a short while (not journaled: an offer promises
 * nothing that survives a restart). */
void dhcp_lease_offer(struct dhcp_leases *lt, const uint8_t mac[6], uint32_t ip,
    int64_t until_ms);
/* Binds ip to mac until until_ms and appends the record; the caller must
 * hold the ACK until dhcp_lease_sync() succeeds. Returns -1 if the write
 * failed (then send no ACK). */
int dhcp_lease_bind(struct dhcp_leases *lt, const uint8_t mac[6], uint32_t ip,
    int64_t until_ms, const char *hostname);
void dhcp_lease_release(struct dhcp_leases *lt, const uint8_t mac[6]);
void dhcp_lease_decline(struct dhcp_leases *lt, uint32_t ip, int64_t until_ms);

/* Makes every appended record durable; compacts when the journal is large.
 * Returns 0, or -1 if the data may not be on disk. */
int dhcp_lease_sync(struct dhcp_leases *lt);
/* The sync in two halves (core/holdq.h, core/store.h): begin gives the
 * descriptor for another thread's fdatasync, or STORE_ASYNC and later
 * done(arg, err) from the database; end takes that errno. */
int dhcp_lease_sync_begin(struct dhcp_leases *lt, void (*done)(void *, int), void *arg);
int dhcp_lease_sync_end(struct dhcp_leases *lt, int err);
bool dhcp_lease_dirty(const struct dhcp_leases *lt);

/* Frees an offer the client turned down (not journaled). */
void dhcp_lease_withdraw(struct dhcp_leases *lt, struct dhcp_lease *e);
/* Changes with every change to the table (offer, bind, release, decline,
 * withdrawal): a cached "pool full" is stale then. Counts per table, so a
 * cache must not outlive the table it was made from. */
unsigned long dhcp_lease_generation(const struct dhcp_leases *lt);

void dhcp_lease_foreach(const struct dhcp_leases *lt,
    void (*fn)(const struct dhcp_lease *, void *), void *arg);
/* Entries in use (for the start-up log, compaction and tests). */
unsigned long dhcp_lease_count(const struct dhcp_leases *lt);

/* The narrow door (dhcp/leases.c): registers lt's live leases with
 * boot/leases.h, which answers the other modules (they hold no DHCP
 * state). The DHCP server sets it in init and clears it (NULL) in
 * shutdown; while it is NULL only the inventory's reservations are known. */
void leases_serve(struct dhcp_leases *lt);

#endif
