/* Ed448-Goldilocks points as 9front's dp9ik (AuthPAK) uses them: the
 * untwisted Edwards curve x^2 + y^2 = 1 - 39081 x^2 y^2 over field448, in
 * extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z.
 *
 * Every formula here follows 9front's sys/src/libauthsrv .mp files (edwards.mp,
 * decaf.mp, elligator2.mp, spake2ee.mp, ed448.mp), including its sign
 * convention (negative = above (p-1)/2) and its big-endian byte order;
 * those make its decaf encoding differ from RFC 9496's decaf448 (see
 * tests/unit/curve.c for the evidence). Constant time throughout: decode
 * failures are reported, not branched on. */
#ifndef GRIDBOOT_ED448_H
#define GRIDBOOT_ED448_H

#include <stdint.h>

#include "curve/field448.h"

#define ED448_BYTES	56		/* a field element, scalar or decaf string */
#define ED448_PTBYTES	(4 * ED448_BYTES)	/* X,Y,Z,T as 9front's pakhash stores them */

struct ed448_pt {
	fe448 x, y, z, t;
};

/* The base point of ed448.mp: y = 19. */
void ed448_base(struct ed448_pt *g);
void ed448_identity(struct ed448_pt *r);
/* Unified (complete) addition, edwards.mp's edwards_add; r may alias. */
void ed448_add(struct ed448_pt *r, const struct ed448_pt *a, const struct ed448_pt *b);
void ed448_neg(struct ed448_pt *r, const struct ed448_pt *a);
/* k * p for a 448-bit big-endian scalar (edwards_scale: right to left,
 * every bit of the 448 processed the same way). */
void ed448_scalarmul(struct ed448_pt *r, const uint8_t k[ED448_BYTES], const struct ed448_pt *p);
/* 1 when a and b are the same projective point (not merely decaf-equal). */
int ed448_equal(const struct ed448_pt *a, const struct ed448_pt *b);
/* 1 when the point satisfies the curve and extended-coordinate equations. */
int ed448_oncurve(const struct ed448_pt *a);

void ed448_decaf_encode(uint8_t s[ED448_BYTES], const struct ed448_pt *p);
/* Returns 1 and the point, or 0 when s is not a valid encoding (s above
 * (p-1)/2, or no square root); p is then unspecified. */
int ed448_decaf_decode(struct ed448_pt *p, const uint8_t s[ED448_BYTES]);

/* elligator2.mp with the non-square n = 7 (spake2ee_h2P's smallest). r0 is
 * big-endian and may be any 448-bit value (spake2ee_h2P reduces h mod p). */
void ed448_elligator2(struct ed448_pt *p, const uint8_t r0[ED448_BYTES]);
/* The non-square elligator2 uses; exported for the test that rederives it. */
#define ED448_NONSQUARE 7

/* Canonical big-endian X,Y,Z,T, the layout of one half of 9front's
 * Authkey.pakhash; and back. */
void ed448_pt_tobytes(uint8_t out[ED448_PTBYTES], const struct ed448_pt *p);
void ed448_pt_frombytes(struct ed448_pt *p, const uint8_t in[ED448_PTBYTES]);

/* spake2ee.mp: y = decaf(x*G + P), where P is the blinding point (PM for
 * the client role, PN for the server role). */
void ed448_spake_y(uint8_t y[ED448_BYTES], const uint8_t x[ED448_BYTES],
    const struct ed448_pt *blind);
/* z = decaf(x * (decode(y) - P)); returns 0 when y does not decode. */
int ed448_spake_z(uint8_t z[ED448_BYTES], const uint8_t x[ED448_BYTES],
    const uint8_t y[ED448_BYTES], const struct ed448_pt *blind);

#endif
