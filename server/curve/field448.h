/* Arithmetic modulo p = 2^448 - 2^224 - 1, the field of Ed448-Goldilocks.
 *
 * This folder depends on nothing outside itself (not even core/): it is the
 * curve arithmetic 9front's dp9ik needs and that no library exposes.
 *
 * An element is 8 limbs of 56 bits, little-endian by limb. Every function
 * leaves its result "weakly reduced" (each limb at most 2^56, the value
 * congruent mod p but not necessarily below p); fe448_tobytes gives the
 * canonical form. Nothing branches on or indexes by element values, so the
 * time taken depends only on public data (the exponents in fe448_pow are
 * public constants). */
#ifndef GRIDBOOT_FIELD448_H
#define GRIDBOOT_FIELD448_H

#include <stdint.h>

#define FE448_BYTES 56

typedef struct {
	uint64_t l[8];
} fe448;

void fe448_zero(fe448 *r);
void fe448_one(fe448 *r);
void fe448_small(fe448 *r, uint32_t v);
/* Big-endian bytes, as 9front's mptober/betomp write them. Any 448-bit
 * value is accepted (p and above reduce as arithmetic goes on). */
void fe448_frombytes(fe448 *r, const uint8_t in[FE448_BYTES]);
/* Canonical (fully reduced) big-endian bytes. */
void fe448_tobytes(uint8_t out[FE448_BYTES], const fe448 *a);

void fe448_add(fe448 *r, const fe448 *a, const fe448 *b);
void fe448_sub(fe448 *r, const fe448 *a, const fe448 *b);
void fe448_neg(fe448 *r, const fe448 *a);
void fe448_mul(fe448 *r, const fe448 *a, const fe448 *b);
void fe448_sqr(fe448 *r, const fe448 *a);
void fe448_mul_small(fe448 *r, const fe448 *a, uint32_t k);

/* 1/a (a^(p-2)); the inverse of 0 is 0. */
void fe448_inv(fe448 *r, const fe448 *a);
/* a^((p-3)/4): 9front's misqrt, 1/sqrt(a) when a is a square. */
void fe448_isqrt(fe448 *r, const fe448 *a);
/* r = a^((p+1)/4), the square root 9front's msqrt picks; returns 1 when
 * r^2 == a (a is a square or zero), else 0. */
int fe448_sqrt(fe448 *r, const fe448 *a);

/* Constant-time predicates: 1 or 0. */
int fe448_iszero(const fe448 *a);
int fe448_eq(const fe448 *a, const fe448 *b);
/* 9front's (and Hamburg's) sign: a is "negative" when its canonical value
 * exceeds (p-1)/2. RFC 9496 uses the low bit instead; see tests/unit/curve.c. */
int fe448_isneg(const fe448 *a);
/* r = cond ? a : r, cond 0 or 1. */
void fe448_cmov(fe448 *r, const fe448 *a, int cond);
/* r = cond ? -r : r. */
void fe448_cneg(fe448 *r, int cond);

/* Big-endian byte strings: 1 when a > b as integers, constant time. */
int fe448_bytes_gt(const uint8_t a[FE448_BYTES], const uint8_t b[FE448_BYTES]);

#endif
