/* Field arithmetic mod p = 2^448 - 2^224 - 1 (see field448.h).
 *
 * The reduction uses the shape of p: 2^448 = 2^224 + 1 (mod p), and 224 is
 * exactly 4 limbs of 56 bits, so a limb at position i >= 8 folds into
 * positions i-8 and i-4 with no shifting at all. */
#include "curve/field448.h"

#include <string.h>

#define M56 ((UINT64_C(1) << 56) - 1)

__extension__ typedef unsigned __int128 u128;

void
fe448_zero(fe448 *r)
{
	memset(r, 0, sizeof(*r));
}

void
fe448_small(fe448 *r, uint32_t v)
{
	fe448_zero(r);
	r->l[0] = v;
}

void
fe448_one(fe448 *r)
{
	fe448_small(r, 1);
}

/* Propagates carries so that every limb is at most 2^56 again. Two passes:
 * the first may push a small carry out of the top, which folds back into
 * limbs 0 and 4; the second leaves at most 1 to fold. */
static void
carry(uint64_t l[8])
{
	for (int pass = 0; pass < 2; pass++) {
		uint64_t c;
		for (int i = 0; i < 7; i++) {
			l[i + 1] += l[i] >> 56;
			l[i] &= M56;
		}
		c = l[7] >> 56;
		l[7] &= M56;
		l[0] += c;
		l[4] += c;
	}
}

void
fe448_frombytes(fe448 *r, const uint8_t in[FE448_BYTES])
{
	for (int i = 0; i < 8; i++) {
		uint64_t v = 0;
		/* limb i holds little-endian bytes 7i..7i+6, i.e. big-endian
		 * positions 55-7i down to 49-7i */
		for (int k = 6; k >= 0; k--)
			v = v << 8 | in[FE448_BYTES - 1 - (7 * i + k)];
		r->l[i] = v;
	}
}

/* The limbs of p. */
static const uint64_t P56[8] = { M56, M56, M56, M56, M56 - 1, M56, M56, M56 };

/* l = l - p when l >= p, without branching. l's limbs are below 2^56 except
 * the top one, which may hold one more bit (values below 2^449). */
static void
csub_p(uint64_t l[8])
{
	uint64_t d[8], borrow = 0;
	for (int i = 0; i < 8; i++) {
		uint64_t x = l[i] - P56[i] - borrow;
		borrow = x >> 63;	/* inputs are < 2^57: a wrap shows in bit 63 */
		d[i] = i < 7 ? x & M56 : x;
	}
	uint64_t keep = 0 - borrow;	/* all ones when l < p */
	for (int i = 0; i < 8; i++)
		l[i] = (l[i] & keep) | (d[i] & ~keep);
}

void
fe448_tobytes(uint8_t out[FE448_BYTES], const fe448 *a)
{
	uint64_t l[8];
	memcpy(l, a->l, sizeof(l));
	carry(l);
	/* strict limbs: now the value is below 2^449, and below 2p */
	for (int i = 0; i < 7; i++) {
		l[i + 1] += l[i] >> 56;
		l[i] &= M56;
	}
	csub_p(l);
	csub_p(l);
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 7; k++)
			out[FE448_BYTES - 1 - (7 * i + k)] = (uint8_t)(l[i] >> (8 * k));
}

void
fe448_add(fe448 *r, const fe448 *a, const fe448 *b)
{
	for (int i = 0; i < 8; i++)
		r->l[i] = a->l[i] + b->l[i];
	carry(r->l);
}

/* a + 2p - b: limbs of 2p are at least 2^57 - 4, above any weakly reduced
 * limb of b, so no limb goes negative. */
void
fe448_sub(fe448 *r, const fe448 *a, const fe448 *b)
{
	for (int i = 0; i < 8; i++)
		r->l[i] = a->l[i] + 2 * P56[i] - b->l[i];
	carry(r->l);
}

void
fe448_neg(fe448 *r, const fe448 *a)
{
	fe448 z;
	fe448_zero(&z);
	fe448_sub(r, &z, a);
}

/* Folds a 15-limb product into 8 limbs. Top-down, so limbs 12..14 folded
 * into 8..10 are folded again in turn. */
static void
reduce_wide(fe448 *r, u128 c[15])
{
	for (int i = 14; i >= 8; i--) {
		c[i - 8] += c[i];
		c[i - 4] += c[i];
	}
	for (int i = 0; i < 7; i++) {
		c[i + 1] += c[i] >> 56;
		c[i] &= M56;
	}
	u128 top = c[7] >> 56;
	c[7] &= M56;
	c[0] += top;
	c[4] += top;
	for (int i = 0; i < 8; i++)
		r->l[i] = (uint64_t)c[i];	/* each below 2^64 now */
	carry(r->l);
}

void
fe448_mul(fe448 *r, const fe448 *a, const fe448 *b)
{
	u128 c[15] = { 0 };
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			c[i + j] += (u128)a->l[i] * b->l[j];
	reduce_wide(r, c);
}

void
fe448_sqr(fe448 *r, const fe448 *a)
{
	fe448_mul(r, a, a);
}

void
fe448_mul_small(fe448 *r, const fe448 *a, uint32_t k)
{
	u128 c[15] = { 0 };
	for (int i = 0; i < 8; i++)
		c[i] = (u128)a->l[i] * k;
	reduce_wide(r, c);
}

/* Exponents are public; they are kept as 56-bit limbs like elements. */
static void
pow_limbs(fe448 *r, const fe448 *a, const uint64_t e[8])
{
	fe448 acc, t;
	fe448_one(&acc);
	for (int i = 447; i >= 0; i--) {
		fe448_sqr(&acc, &acc);
		fe448_mul(&t, &acc, a);
		/* the bit is public, but select anyway: one code path */
		fe448_cmov(&acc, &t, (int)(e[i / 56] >> (i % 56) & 1));
	}
	*r = acc;
}

void
fe448_inv(fe448 *r, const fe448 *a)
{
	uint64_t e[8];
	memcpy(e, P56, sizeof(e));
	e[0] -= 2;			/* p - 2 */
	pow_limbs(r, a, e);
}

/* e = (p + k) / 4 for k = -3 or +1: p + k is a multiple of 4 both times. */
static void
quarter_exp(uint64_t e[8], int k)
{
	uint64_t l[9] = { 0 };
	memcpy(l, P56, sizeof(P56));
	if (k < 0) {
		l[0] -= (uint64_t)-k;	/* p's low limb is 2^56-1 */
	} else {
		l[0] += (uint64_t)k;
		for (int i = 0; i < 8; i++) {
			l[i + 1] += l[i] >> 56;
			l[i] &= M56;
		}
	}
	for (int i = 0; i < 8; i++)
		e[i] = (l[i] >> 2 | (l[i + 1] & 3) << 54) & M56;
}

void
fe448_isqrt(fe448 *r, const fe448 *a)
{
	uint64_t e[8];
	quarter_exp(e, -3);
	pow_limbs(r, a, e);
}

int
fe448_sqrt(fe448 *r, const fe448 *a)
{
	uint64_t e[8];
	fe448 s, sq;
	quarter_exp(e, 1);
	pow_limbs(&s, a, e);
	fe448_sqr(&sq, &s);
	*r = s;
	return fe448_eq(&sq, a);
}

int
fe448_iszero(const fe448 *a)
{
	uint8_t b[FE448_BYTES], acc = 0;
	fe448_tobytes(b, a);
	for (int i = 0; i < FE448_BYTES; i++)
		acc |= b[i];
	return (int)(((uint32_t)acc - 1) >> 31);
}

int
fe448_eq(const fe448 *a, const fe448 *b)
{
	fe448 d;
	fe448_sub(&d, a, b);
	return fe448_iszero(&d);
}

int
fe448_bytes_gt(const uint8_t a[FE448_BYTES], const uint8_t b[FE448_BYTES])
{
	/* From the most significant byte: the first difference decides. */
	uint32_t gt = 0, decided = 0;
	for (int i = 0; i < FE448_BYTES; i++) {
		uint32_t x = a[i], y = b[i];
		uint32_t g = (y - x) >> 31;		/* x > y */
		uint32_t ne = ((x ^ y) + 0xff) >> 8;	/* x != y */
		gt |= g & ~decided;
		decided |= ne;
	}
	return (int)(gt & 1);
}

/* (p-1)/2 in big-endian bytes, derived from p's limbs rather than typed
 * in, so there is one constant to get right. */
static void
half_p(uint8_t out[FE448_BYTES])
{
	fe448 h;
	memcpy(h.l, P56, sizeof(P56));
	h.l[0] -= 1;
	for (int i = 0; i < 8; i++)
		h.l[i] = (h.l[i] >> 1 | (i < 7 ? (h.l[i + 1] & 1) << 55 : 0));
	/* h < p, so tobytes leaves it alone */
	fe448_tobytes(out, &h);
}

int
fe448_isneg(const fe448 *a)
{
	uint8_t b[FE448_BYTES], h[FE448_BYTES];
	fe448_tobytes(b, a);
	half_p(h);
	return fe448_bytes_gt(b, h);
}

void
fe448_cmov(fe448 *r, const fe448 *a, int cond)
{
	uint64_t m = 0 - (uint64_t)(cond & 1);
	for (int i = 0; i < 8; i++)
		r->l[i] ^= m & (r->l[i] ^ a->l[i]);
}

void
fe448_cneg(fe448 *r, int cond)
{
	fe448 n;
	fe448_neg(&n, r);
	fe448_cmov(r, &n, cond);
}
