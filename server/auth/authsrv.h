/* The auth server's side of one connection (9front's authsrv), as pure
 * steps: a 141-byte Ticketreq in, the reply bytes out, and what to read
 * next. The caller owns the socket:
 *
 *   loop: read AUTH_TICKREQLEN bytes -> authsrv_request()
 *         write r.out[0..r.len)
 *         if r.close: close the connection
 *         if r.need: read r.need bytes -> authsrv_pak_ys(); false: close
 *
 * Handled: AuthPAK (the client sends one 56-byte Y per key, the server's
 * Y's are in the reply after AuthOK: for the authid then the hostid when a
 * hostid is given, else for the uid), and AuthTreq (AuthOK, the ticket for
 * the client (AuthTc, host key) and for the server (AuthTs, authid key),
 * form 1 under the PAK keys of the preceding AuthPAK). Anything else gets
 * AuthErr. Unknown users get keys fabricated by authkey_find, so replies
 * look the same; a host that may not speak for the uid gets tickets under
 * random keys (9front's behaviour: no error that would tell). */
#ifndef GRIDBOOT_AUTHSRV_H
#define GRIDBOOT_AUTHSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/authkey.h"
#include "auth/authpak.h"

struct authsrv_slot {
	char id[AUTH_ANAMELEN];		/* empty: no PAK key held */
	struct authkey key;
	struct authpak_priv priv;
};

struct authsrv {
	const struct auth_keyfile *keys;
	const struct speaksfor *sf;	/* grid.speaksfor; NULL: only oneself */
	size_t nsf;
	bool des_ok;		/* false: 9front's authsrv -N, dp9ik only */
	bool form1;		/* tickets in form 1 (set by a PAK, or !des_ok) */
	authpak_rand_fn rand;
	void *rand_ctx;
	uint32_t counter;	/* form 1 nonce counter for this connection */
	struct authsrv_slot akey, hkey, ukey;
	struct authsrv_slot *pending[2];	/* slots waiting for the client's Y */
	int npending;
};

struct authsrv_reply {
	uint8_t out[1 + 2 * AUTH_MAXTICKETLEN];
	size_t len;
	size_t need;	/* bytes of client Y's to read next (AuthPAK) */
	bool close;	/* close the connection after writing out */
};

/* rnd NULL means OpenSSL's RAND_bytes. keys and the speaks-for rules may
 * be pointed elsewhere between requests (a reload): a request reads them,
 * the PAK's keys are copies. */
void authsrv_init(struct authsrv *s, const struct auth_keyfile *keys, bool des_ok,
    authpak_rand_fn rnd, void *rnd_ctx);
void authsrv_request(struct authsrv *s, const uint8_t req[AUTH_TICKREQLEN],
    struct authsrv_reply *r);
/* The client's Y's (r.need bytes). false: close the connection. */
bool authsrv_pak_ys(struct authsrv *s, const uint8_t *ys, size_t n);
/* Wipes every key the session holds. */
void authsrv_wipe(struct authsrv *s);

#endif
