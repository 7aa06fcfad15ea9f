/* The machine indexes: open addressing over machine numbers, one table
 * per key (MAC, address, name, IPv6 address, DUID), so a lookup per
 * packet does not grow with the inventory; and the lookups through them. */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "core/hash.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
hash_bytes(const void *p, size_t n)
{
	uint64_t h = fnv64(p, n);

	/* FNV alone leaves neighbouring MACs and addresses (a rack's) in
	 * neighbouring slots, and linear probes run long: mix (splitmix64). */
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static uint64_t
key_hash(const struct machine *m, enum inv_key k)
{
	switch (k) {
	case KEY_MAC: return hash_bytes(m->mac, 6);
	case KEY_IP: return hash_bytes(&m->ip, sizeof m->ip);
	case KEY_IP6: return hash_bytes(m->v6->ip6, 16);
	case KEY_DUID: return hash_bytes(m->v6->duid, m->v6->duid_len);
	default: return hash_bytes(m->name, strlen(m->name));
	}
}

static bool
key_present(const struct machine *m, enum inv_key k)
{
	static const uint8_t zero[6];

	switch (k) {
	case KEY_MAC: return memcmp(m->mac, zero, 6) != 0;
	case KEY_IP: return m->ip != 0;
	case KEY_IP6: return m->v6 && m->v6->has_ip6;
	case KEY_DUID: return m->v6 && m->v6->duid_len > 0;
	default: return m->name != NULL;
	}
}

static bool
key_equal(const struct machine *a, const struct machine *b, enum inv_key k)
{
	switch (k) {
	case KEY_MAC: return memcmp(a->mac, b->mac, 6) == 0;
	case KEY_IP: return a->ip == b->ip;
	case KEY_IP6: return memcmp(a->v6->ip6, b->v6->ip6, 16) == 0;
	case KEY_DUID: return a->v6->duid_len == b->v6->duid_len &&
	    memcmp(a->v6->duid, b->v6->duid, a->v6->duid_len) == 0;
	default: return strcmp(a->name, b->name) == 0;
	}
}

/* Slots hold machine number + 1; 0 is empty. Sized at twice the machine
 * count rounded up to a power of two, so probes stay short. Beside each
 * slot, a byte of the key's hash: a probe past another machine's slot
 * reads that byte, not the machine (a cache miss per probe at a million
 * machines). A key no machine has gets no table. */
static uint8_t
hash_tag(uint64_t h)
{
	return (uint8_t)(h >> 56);
}

void
index_reset(struct inventory *inv)
{
	size_t cap = 16;

	while (cap < 2 * inv->nmachines)
		cap *= 2;
	for (int k = 0; k < KEY_COUNT; k++) {
		free(inv->index[k]);
		free(inv->index_tag[k]);
		inv->index[k] = ecalloc(cap, sizeof *inv->index[k]);
		inv->index_tag[k] = emalloc(cap);
	}
	inv->index_cap = cap;
}

/* Frees the tables of keys no machine has (most inventories: DUIDs and
 * IPv6 addresses; 8 MB each at a million machines). */
void
index_trim(struct inventory *inv)
{
	for (int k = 0; k < KEY_COUNT; k++) {
		bool used = false;
		for (size_t i = 0; i < inv->nmachines && !used; i++)
			used = key_present(&inv->machines[i], k);
		if (!used) {
			free(inv->index[k]);
			free(inv->index_tag[k]);
			inv->index[k] = NULL;
			inv->index_tag[k] = NULL;
		}
	}
}

/* The first machine with the same key as probe, or NULL. */
static struct machine *
index_find(const struct inventory *inv, const struct machine *probe, enum inv_key k)
{
	size_t mask = inv->index_cap - 1;
	uint64_t h;

	if (inv->index[k] == NULL || !key_present(probe, k))
		return NULL;
	h = key_hash(probe, k);
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		uint32_t v = inv->index[k][i];
		if (v == 0)
			return NULL;
		if (inv->index_tag[k][i] == hash_tag(h) && key_equal(&inv->machines[v - 1], probe, k))
			return &inv->machines[v - 1];
	}
}

/* Adds machine i under each key it has, unless an earlier one holds it
 * (lookups answer the first, as a scan would): one probe sequence per
 * key finds the holder or the free slot. Returns the keys (1 << k) an
 * earlier machine holds; -1 when a key of it has no table (trimmed:
 * inv_index_add then rebuilds). */
int
index_add(struct inventory *inv, size_t i)
{
	const struct machine *m = &inv->machines[i];
	size_t mask = inv->index_cap - 1;
	int held = 0;

	for (int k = 0; k < KEY_COUNT; k++) {
		if (!key_present(m, k))
			continue;
		if (inv->index[k] == NULL)
			return -1;
		uint64_t h = key_hash(m, k);
		size_t j = h & mask;
		for (; inv->index[k][j] != 0; j = (j + 1) & mask)
			if (inv->index_tag[k][j] == hash_tag(h) &&
			    key_equal(&inv->machines[inv->index[k][j] - 1], m, k))
				break;
		if (inv->index[k][j] != 0) {
			held |= 1 << k;
			continue;
		}
		inv->index[k][j] = (uint32_t)i + 1;
		inv->index_tag[k][j] = hash_tag(h);
	}
	return held;
}

void
inv_index(struct inventory *inv)
{
	index_reset(inv);
	for (size_t i = 0; i < inv->nmachines; i++)
		index_add(inv, i);
	index_trim(inv);
}

void
inv_index_add(struct inventory *inv, size_t i)
{
	if (2 * inv->nmachines > inv->index_cap || index_add(inv, i) < 0)
		inv_index(inv);
}

struct machine *
inv_machine_by_mac(const struct inventory *inv, const uint8_t mac[6])
{
	struct machine probe = { 0 };

	memcpy(probe.mac, mac, 6);
	return index_find(inv, &probe, KEY_MAC);
}

struct machine *
inv_machine_by_name(const struct inventory *inv, const char *name)
{
	struct machine probe = { .name = (char *)name };

	return index_find(inv, &probe, KEY_NAME);
}

struct machine *
inv_machine_by_ip(const struct inventory *inv, uint32_t ip)
{
	struct machine probe = { .ip = ip };

	/* Machines without a reserved address have ip 0: never found. */
	return index_find(inv, &probe, KEY_IP);
}

struct machine *
inv_machine_by_ip6(const struct inventory *inv, const uint8_t ip6[16])
{
	struct machine6 p6 = { .has_ip6 = true };
	struct machine probe = { .v6 = &p6 };

	memcpy(p6.ip6, ip6, 16);
	return index_find(inv, &probe, KEY_IP6);
}

struct machine *
inv_machine_by_duid(const struct inventory *inv, const uint8_t *duid, size_t len)
{
	union { struct machine6 v6; uint8_t bytes[sizeof(struct machine6) + DUID_MAX]; } p6;
	struct machine probe = { .v6 = &p6.v6 };

	if (len == 0 || len > DUID_MAX)
		return NULL;
	memset(&p6, 0, sizeof p6);
	memcpy(p6.v6.duid, duid, len);
	p6.v6.duid_len = (uint8_t)len;
	return index_find(inv, &probe, KEY_DUID);
}

struct machine *
inv_machine_lookup(const struct inventory *inv, const char *s)
{
	uint8_t mac[6];
	struct machine *m = inv_machine_by_name(inv, s);

	if (m == NULL && mac_parse(s, mac))
		m = inv_machine_by_mac(inv, mac);
	return m;
}
