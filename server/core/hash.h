/* FNV-1a, the one non-cryptographic hash of the tree: the hash tables
 * (leases, the inventory's indexes, machine states), qids that must be
 * stable per name, and the DHCPv6 pool's starting point. Inline, so a fuzz
 * target that compiles one codec needs nothing else. The values are fixed:
 * a qid or a pool start must not move between versions. */
#ifndef GRIDBOOT_HASH_H
#define GRIDBOOT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV32_INIT 2166136261u
#define FNV64_INIT 1469598103934665603ull

/* Continues h over n more bytes (start from FNV32_INIT / FNV64_INIT). */
static inline uint32_t
fnv32_add(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static inline uint64_t
fnv64_add(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 1099511628211ull;
	return h;
}

static inline uint32_t
fnv32(const void *p, size_t n)
{
	return fnv32_add(FNV32_INIT, p, n);
}

static inline uint64_t
fnv64(const void *p, size_t n)
{
	return fnv64_add(FNV64_INIT, p, n);
}

#endif
