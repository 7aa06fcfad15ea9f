/* Ed448-Goldilocks points, decaf and Elligator2 as 9front's dp9ik computes
 * them (see ed448.h). The curve constants: a = 1, d = -39081, so a-d =
 * 39082 and a-2d = 78163; multiplying by -d is a small multiplication. */
#include "curve/ed448.h"

#include <string.h>

#define MINUS_D	39081u

/* The x of ed448.mp's base point, big-endian; its y is 19. */
static const uint8_t BASE_X[ED448_BYTES] = {
	0x29, 0x7e, 0xa0, 0xea, 0x26, 0x92, 0xff, 0x1b, 0x4f, 0xaf, 0xf4, 0x60,
	0x98, 0x45, 0x3a, 0x6a, 0x26, 0xad, 0xf7, 0x33, 0x24, 0x5f, 0x06, 0x5c,
	0x3c, 0x59, 0xd0, 0x70, 0x9c, 0xec, 0xfa, 0x96, 0x14, 0x7e, 0xaa, 0xf3,
	0x93, 0x2d, 0x94, 0xc6, 0x3d, 0x96, 0xc1, 0x70, 0x03, 0x3f, 0x4b, 0xa0,
	0xc7, 0xf0, 0xde, 0x84, 0x0a, 0xed, 0x93, 0x9f,
};

void
ed448_identity(struct ed448_pt *r)
{
	fe448_zero(&r->x);
	fe448_one(&r->y);
	fe448_one(&r->z);
	fe448_zero(&r->t);
}

void
ed448_base(struct ed448_pt *g)
{
	fe448_frombytes(&g->x, BASE_X);
	fe448_small(&g->y, 19);
	fe448_one(&g->z);
	fe448_mul(&g->t, &g->x, &g->y);
}

/* edwards_add: A = X1X2, B = Y1Y2, C = d T1T2, D = Z1Z2,
 * E = (X1+Y1)(X2+Y2) - A - B, F = D - C, G = D + C, H = B - aA;
 * X3 = EF, Y3 = GH, Z3 = FG, T3 = EH. With d = -39081, C = -39081 T1T2,
 * so F = D + 39081 T1T2 and G = D - 39081 T1T2. */
void
ed448_add(struct ed448_pt *r, const struct ed448_pt *p, const struct ed448_pt *q)
{
	fe448 a, b, c, d, e, f, g, h, s1, s2;
	fe448_mul(&a, &p->x, &q->x);
	fe448_mul(&b, &p->y, &q->y);
	fe448_mul(&c, &p->t, &q->t);
	fe448_mul_small(&c, &c, MINUS_D);	/* -C */
	fe448_mul(&d, &p->z, &q->z);
	fe448_add(&s1, &p->x, &p->y);
	fe448_add(&s2, &q->x, &q->y);
	fe448_mul(&e, &s1, &s2);
	fe448_sub(&e, &e, &a);
	fe448_sub(&e, &e, &b);
	fe448_add(&f, &d, &c);
	fe448_sub(&g, &d, &c);
	fe448_sub(&h, &b, &a);
	fe448_mul(&r->x, &e, &f);
	fe448_mul(&r->y, &g, &h);
	fe448_mul(&r->z, &f, &g);
	fe448_mul(&r->t, &e, &h);
}

void
ed448_neg(struct ed448_pt *r, const struct ed448_pt *a)
{
	fe448_neg(&r->x, &a->x);
	r->y = a->y;
	r->z = a->z;
	fe448_neg(&r->t, &a->t);
}

static void
pt_cmov(struct ed448_pt *r, const struct ed448_pt *a, int cond)
{
	fe448_cmov(&r->x, &a->x, cond);
	fe448_cmov(&r->y, &a->y, cond);
	fe448_cmov(&r->z, &a->z, cond);
	fe448_cmov(&r->t, &a->t, cond);
}

static int
scalar_bit(const uint8_t k[ED448_BYTES], int i)
{
	return k[ED448_BYTES - 1 - i / 8] >> (i % 8) & 1;
}

/* edwards_scale: acc starts as bit0 ? P : O; then for each further bit the
 * running double is added and the sum kept when the bit is set. */
void
ed448_scalarmul(struct ed448_pt *r, const uint8_t k[ED448_BYTES], const struct ed448_pt *p)
{
	struct ed448_pt dbl = *p, acc, sum;
	ed448_identity(&acc);
	pt_cmov(&acc, p, scalar_bit(k, 0));
	for (int i = 1; i < 8 * ED448_BYTES; i++) {
		ed448_add(&dbl, &dbl, &dbl);
		ed448_add(&sum, &dbl, &acc);
		pt_cmov(&acc, &sum, scalar_bit(k, i));
	}
	*r = acc;
	/* explicit_bzero: a memset of locals that die here is a dead store the
	 * compiler removes at -O2 (objdump showed no zeroing); these hold
	 * multiples of the point under the secret scalar */
	explicit_bzero(&dbl, sizeof(dbl));
	explicit_bzero(&sum, sizeof(sum));
	explicit_bzero(&acc, sizeof(acc));
}

int
ed448_equal(const struct ed448_pt *a, const struct ed448_pt *b)
{
	fe448 l, r;
	int ok;
	fe448_mul(&l, &a->x, &b->z);
	fe448_mul(&r, &b->x, &a->z);
	ok = fe448_eq(&l, &r);
	fe448_mul(&l, &a->y, &b->z);
	fe448_mul(&r, &b->y, &a->z);
	return ok & fe448_eq(&l, &r);
}

/* Z^2 (X^2 + Y^2) = Z^4 + d X^2 Y^2 and XY = ZT. */
int
ed448_oncurve(const struct ed448_pt *a)
{
	fe448 x2, y2, z2, l, r, t;
	fe448_sqr(&x2, &a->x);
	fe448_sqr(&y2, &a->y);
	fe448_sqr(&z2, &a->z);
	fe448_add(&l, &x2, &y2);
	fe448_mul(&l, &l, &z2);
	fe448_sqr(&r, &z2);
	fe448_mul(&t, &x2, &y2);
	fe448_mul_small(&t, &t, MINUS_D);
	fe448_sub(&r, &r, &t);
	int ok = fe448_eq(&l, &r);
	fe448_mul(&l, &a->x, &a->y);
	fe448_mul(&r, &a->z, &a->t);
	return ok & fe448_eq(&l, &r);
}

/* decaf_encode:
 *   r = misqrt((a-d)(Z+Y)(Z-Y)); u = (a-d) r;
 *   r = -r when -2uZ is negative;
 *   s = u (r (aZX - dYT) + Y) / a; s = |s|. */
void
ed448_decaf_encode(uint8_t out[ED448_BYTES], const struct ed448_pt *p)
{
	fe448 r, u, t1, t2, s;
	fe448_add(&t1, &p->z, &p->y);
	fe448_sub(&t2, &p->z, &p->y);
	fe448_mul(&t1, &t1, &t2);
	fe448_mul_small(&t1, &t1, MINUS_D + 1);
	fe448_isqrt(&r, &t1);
	fe448_mul_small(&u, &r, MINUS_D + 1);

	fe448_mul(&t1, &u, &p->z);
	fe448_add(&t1, &t1, &t1);
	fe448_neg(&t1, &t1);
	fe448_cneg(&r, fe448_isneg(&t1));

	fe448_mul(&t1, &p->z, &p->x);		/* aZX, a = 1 */
	fe448_mul(&t2, &p->y, &p->t);
	fe448_mul_small(&t2, &t2, MINUS_D);	/* -dYT */
	fe448_add(&t1, &t1, &t2);
	fe448_mul(&t1, &t1, &r);
	fe448_add(&t1, &t1, &p->y);
	fe448_mul(&s, &u, &t1);			/* / a, a = 1 */
	fe448_cneg(&s, fe448_isneg(&s));
	fe448_tobytes(out, &s);
}

/* decaf_decode:
 *   s must not exceed (p-1)/2 (as bytes: this also rules out s >= p);
 *   ss = s^2; Z = 1 + a ss; u = Z^2 - 4d ss; v = u ss;
 *   v = 1/sqrt(v) (v = 0 stays 0; no square root fails);
 *   v = -v when uv is negative; w = v s (2 - Z), plus 1 when s = 0;
 *   X = 2s, Y = wZ, T = wX. */
int
ed448_decaf_decode(struct ed448_pt *p, const uint8_t in[ED448_BYTES])
{
	uint8_t half[ED448_BYTES];
	fe448 s, ss, u, v, r, w, t, one;
	int ok;

	/* -1/2 is (p-1)/2: the bound, from the field itself */
	fe448_small(&t, 2);
	fe448_inv(&t, &t);
	fe448_neg(&t, &t);
	fe448_tobytes(half, &t);
	ok = !fe448_bytes_gt(in, half);

	fe448_frombytes(&s, in);
	fe448_one(&one);
	fe448_sqr(&ss, &s);
	fe448_add(&p->z, &one, &ss);
	fe448_sqr(&u, &p->z);
	fe448_mul_small(&t, &ss, 4 * MINUS_D);
	fe448_add(&u, &u, &t);
	fe448_mul(&v, &u, &ss);
	ok &= fe448_sqrt(&r, &v);
	fe448_inv(&v, &r);

	fe448_mul(&t, &u, &v);
	fe448_cneg(&v, fe448_isneg(&t));
	fe448_mul(&w, &v, &s);
	fe448_small(&t, 2);
	fe448_sub(&t, &t, &p->z);
	fe448_mul(&w, &w, &t);
	fe448_add(&t, &w, &one);
	fe448_cmov(&w, &t, fe448_iszero(&s));

	fe448_add(&p->x, &s, &s);
	fe448_mul(&p->y, &w, &p->z);
	fe448_mul(&p->t, &w, &p->x);
	return ok;
}

/* elligator2 (a = 1, d = -39081, n = 7):
 *   r = n r0^2; D = (dr + a - d)(dr - ar - d); N = (r + 1)(a - 2d);
 *   ND = 0: c = 1, e = 0; ND square: c = 1, e = 1/sqrt(ND);
 *   else c = -1, e = n r0 misqrt(n ND);
 *   s = cNe; t = -cN(r - 1)((a - 2d)e)^2 - 1;
 *   X = 2st, Y = (1 - as^2)(1 + as^2), Z = (1 + as^2)t, T = 2s(1 - as^2). */
void
ed448_elligator2(struct ed448_pt *p, const uint8_t r0b[ED448_BYTES])
{
	fe448 r0, r, dr, t1, t2, den, num, nd, e, e2, s, t, one, s2, a1, a2;
	int square;

	fe448_one(&one);
	fe448_frombytes(&r0, r0b);
	fe448_sqr(&r, &r0);
	fe448_mul_small(&r, &r, ED448_NONSQUARE);

	fe448_mul_small(&dr, &r, MINUS_D);
	fe448_neg(&dr, &dr);				/* dr */
	fe448_small(&t1, MINUS_D + 1);
	fe448_add(&t1, &t1, &dr);			/* dr + a - d */
	fe448_sub(&t2, &dr, &r);
	fe448_small(&den, MINUS_D);
	fe448_add(&t2, &t2, &den);			/* dr - ar - d */
	fe448_mul(&den, &t1, &t2);
	fe448_add(&num, &r, &one);
	fe448_mul_small(&num, &num, 2 * MINUS_D + 1);	/* (r+1)(a-2d) */
	fe448_mul(&nd, &num, &den);

	/* square (or zero): e = 1/sqrt(ND), and 1/0 = 0 covers ND = 0 */
	square = fe448_sqrt(&e, &nd);
	fe448_inv(&e, &e);
	/* not square: e2 = n r0 misqrt(n ND) */
	fe448_mul_small(&t1, &nd, ED448_NONSQUARE);
	fe448_isqrt(&e2, &t1);
	fe448_mul(&e2, &e2, &r0);
	fe448_mul_small(&e2, &e2, ED448_NONSQUARE);
	fe448_cmov(&e, &e2, !square);

	fe448_mul(&s, &num, &e);
	fe448_cneg(&s, !square);			/* c = -1 */

	fe448_mul_small(&t1, &e, 2 * MINUS_D + 1);
	fe448_sqr(&t1, &t1);
	fe448_sub(&t2, &r, &one);
	fe448_mul(&t1, &t1, &t2);
	fe448_mul(&t, &t1, &num);
	fe448_cneg(&t, square);				/* -c: negate when c = 1 */
	fe448_sub(&t, &t, &one);

	fe448_sqr(&s2, &s);
	fe448_sub(&a1, &one, &s2);			/* 1 - as^2 */
	fe448_add(&a2, &one, &s2);			/* 1 + as^2 */
	fe448_add(&t1, &s, &s);				/* 2s */
	fe448_mul(&p->x, &t1, &t);
	fe448_mul(&p->y, &a1, &a2);
	fe448_mul(&p->z, &a2, &t);
	fe448_mul(&p->t, &t1, &a1);
}

void
ed448_pt_tobytes(uint8_t out[ED448_PTBYTES], const struct ed448_pt *p)
{
	fe448_tobytes(out + 0 * ED448_BYTES, &p->x);
	fe448_tobytes(out + 1 * ED448_BYTES, &p->y);
	fe448_tobytes(out + 2 * ED448_BYTES, &p->z);
	fe448_tobytes(out + 3 * ED448_BYTES, &p->t);
}

void
ed448_pt_frombytes(struct ed448_pt *p, const uint8_t in[ED448_PTBYTES])
{
	fe448_frombytes(&p->x, in + 0 * ED448_BYTES);
	fe448_frombytes(&p->y, in + 1 * ED448_BYTES);
	fe448_frombytes(&p->z, in + 2 * ED448_BYTES);
	fe448_frombytes(&p->t, in + 3 * ED448_BYTES);
}

void
ed448_spake_y(uint8_t y[ED448_BYTES], const uint8_t x[ED448_BYTES],
    const struct ed448_pt *blind)
{
	struct ed448_pt g, q;
	ed448_base(&g);
	ed448_scalarmul(&q, x, &g);
	ed448_add(&q, &q, blind);
	ed448_decaf_encode(y, &q);
	explicit_bzero(&q, sizeof(q));
}

int
ed448_spake_z(uint8_t z[ED448_BYTES], const uint8_t x[ED448_BYTES],
    const uint8_t y[ED448_BYTES], const struct ed448_pt *blind)
{
	struct ed448_pt q, nb;
	int ok = ed448_decaf_decode(&q, y);
	ed448_neg(&nb, blind);
	ed448_add(&q, &q, &nb);
	ed448_scalarmul(&q, x, &q);
	ed448_decaf_encode(z, &q);
	explicit_bzero(&q, sizeof(q));
	explicit_bzero(&nb, sizeof(nb));
	return ok;
}
