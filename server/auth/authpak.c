/* AuthPAK (see authpak.h), after libauthsrv/authpak.c and spake2ee.mp. */
#include "auth/authpak.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "curve/ed448.h"

/* PM is the first point of the pakhash, PN the second. */
static void
blind_point(struct ed448_pt *pt, const struct authkey *k, bool pn)
{
	ed448_pt_frombytes(pt, k->pakhash + (pn ? AUTH_PAKPLEN : 0));
}

void
authpak_new_x(struct authpak_priv *p, const struct authkey *k,
    const uint8_t x[AUTH_PAKSLEN], uint8_t y[AUTH_PAKYLEN], bool isclient)
{
	struct ed448_pt blind;

	memset(p, 0, sizeof(*p));
	p->isclient = isclient;
	memcpy(p->x, x, AUTH_PAKSLEN);
	blind_point(&blind, k, !isclient);
	ed448_spake_y(p->y, p->x, &blind);
	memcpy(y, p->y, AUTH_PAKYLEN);
	OPENSSL_cleanse(&blind, sizeof(blind));
}

/* p's big-endian bytes, for the rejection sampling of x (9front's mpnrand). */
static void
field_prime(uint8_t out[AUTH_PAKSLEN])
{
	memset(out, 0xff, AUTH_PAKSLEN);
	out[27] = 0xfe;		/* 2^448 - 2^224 - 1 */
}

bool
authpak_rand_openssl(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	return RAND_bytes(buf, (int)n) == 1;
}

bool
authpak_pick_x(uint8_t x[AUTH_PAKSLEN], authpak_rand_fn rnd, void *ctx)
{
	uint8_t prime[AUTH_PAKSLEN];

	field_prime(prime);
	do {
		if (!rnd(ctx, x, AUTH_PAKSLEN))
			return false;
	} while (!fe448_bytes_gt(prime, x));	/* repeats with odds of 2^-224 */
	return true;
}

bool
authpak_new(struct authpak_priv *p, const struct authkey *k, uint8_t y[AUTH_PAKYLEN],
    bool isclient)
{
	uint8_t x[AUTH_PAKSLEN];

	if (!authpak_pick_x(x, authpak_rand_openssl, NULL))
		return false;
	authpak_new_x(p, k, x, y, isclient);
	OPENSSL_cleanse(x, sizeof(x));
	return true;
}

bool
authpak_finish(struct authpak_priv *p, struct authkey *k, const uint8_t y[AUTH_PAKYLEN])
{
	struct ed448_pt blind;
	uint8_t z[AUTH_PAKSLEN], salt[SHA256_DIGEST_LENGTH];
	bool ok;

	blind_point(&blind, k, p->isclient);
	ok = ed448_spake_z(z, p->x, y, &blind) == 1;
	if (ok) {
		uint8_t both[2 * AUTH_PAKYLEN];
		memcpy(both, p->isclient ? p->y : y, AUTH_PAKYLEN);
		memcpy(both + AUTH_PAKYLEN, p->isclient ? y : p->y, AUTH_PAKYLEN);
		SHA256(both, sizeof(both), salt);
		ok = authkey_hkdf(salt, sizeof(salt), "Plan 9 AuthPAK key", z, sizeof(z),
		    k->pakkey, AUTH_PAKKEYLEN);
	}
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(&blind, sizeof(blind));
	OPENSSL_cleanse(p, sizeof(*p));
	return ok;
}
