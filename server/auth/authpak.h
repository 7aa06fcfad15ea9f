/* AuthPAK (dp9ik's password-authenticated key exchange), libauthsrv's
 * authpak_new/authpak_finish: SPAKE2-EE on Ed448-Goldilocks.
 *
 * The client role blinds with PM and unblinds the peer with PN; the
 * server role the other way round. Both sides then hash
 * Z = decaf(x * (Y_peer - P_peer)) with salt SHA-256(Y_client || Y_server)
 * and info "Plan 9 AuthPAK key" into the 32-byte pakkey, which keys the
 * form 1 tickets. The auth server always plays the server role; a cpu
 * server's factotum plays the client role towards the auth server. */
#ifndef GRIDBOOT_AUTHPAK_H
#define GRIDBOOT_AUTHPAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/authkey.h"

struct authpak_priv {
	bool isclient;
	uint8_t x[AUTH_PAKSLEN];	/* the secret scalar */
	uint8_t y[AUTH_PAKYLEN];	/* our public value */
};

/* A random source: fills buf, returns false on failure. */
typedef bool (*authpak_rand_fn)(void *ctx, uint8_t *buf, size_t n);
/* OpenSSL's RAND_bytes as an authpak_rand_fn (ctx unused). */
bool authpak_rand_openssl(void *ctx, uint8_t *buf, size_t n);
/* x uniform in [0, p), as 9front's mpnrand(p): rejection sampling. */
bool authpak_pick_x(uint8_t x[AUTH_PAKSLEN], authpak_rand_fn rnd, void *ctx);

/* Picks x uniformly below p (OpenSSL's RAND_bytes) and writes our Y.
 * false when the random source fails. k needs its pakhash. */
bool authpak_new(struct authpak_priv *p, const struct authkey *k, uint8_t y[AUTH_PAKYLEN],
    bool isclient);
/* The same with a given x (known-answer tests, recorded transcripts). */
void authpak_new_x(struct authpak_priv *p, const struct authkey *k,
    const uint8_t x[AUTH_PAKSLEN], uint8_t y[AUTH_PAKYLEN], bool isclient);
/* Sets k->pakkey from the peer's Y; false when Y does not decode. p is
 * wiped either way. */
bool authpak_finish(struct authpak_priv *p, struct authkey *k, const uint8_t y[AUTH_PAKYLEN]);

#endif
