/* The auth server's side of one connection (9front's authsrv), as pure
 * steps: a 141-byte Ticketreq in, the reply bytes out, and what to read
 * next. The caller owns the socket:
 *
 *   loop: read AUTH_TICKREQLEN bytes -> authsrv_request()
 *         write r.out[0..r.len)
 *         if r.close: close the connection
 *         if r.need: read r.need bytes -> s.passing ? authsrv_passreq()
 *                                        : authsrv_pak_ys() (false: close)
 *
 * Handled: AuthPAK (the client sends one 56-byte Y per key, the server's
 * Y's are in the reply after AuthOK: for the authid then the hostid when a
 * hostid is given, else for the uid), and AuthTreq (AuthOK, the ticket for
 * the client (AuthTc, host key) and for the server (AuthTs, authid key),
 * form 1 under the PAK keys of the preceding AuthPAK). Anything else gets
 * AuthErr. Unknown users get keys fabricated by authkey_find, so replies
 * look the same; a host that may not speak for the uid gets tickets under
 * random keys (9front's behaviour: no error that would tell).
 *
 * AuthPass (a password change, 9front's changepasswd): AuthOK and a ticket
 * of kind AuthTp for the uid under the uid's key (form 1 under the PAK key
 * of a preceding AuthPAK for the uid alone, else DES); the client proves
 * it knows the password by opening it. Then r.need is a Passwordreq under
 * that ticket's key, for authsrv_passreq: the old password is checked
 * again (constant time, against the aes key and the des key when the user
 * has one), the new one must pass authsrv_okpasswd, and the caller's
 * setkey stores the keys derived from it. Each refusal is AuthErr with its
 * reason and the client may send another Passwordreq (at most
 * AUTHSRV_PASS_TRIES in all); success is the single byte AuthOK, and
 * Ticketreqs follow again. */
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

#define AUTHSRV_PASS_TRIES 5

/* Stores user's new keys (des and aes of k). false with a reason for the
 * client (at most 63 bytes) in why. */
typedef bool (*authsrv_setkey_fn)(void *ctx, const char *user, const struct authkey *k,
    char *why, size_t whylen);

struct authsrv {
	const struct auth_keyfile *keys;
	const struct speaksfor *sf;	/* grid.speaksfor; NULL: only oneself */
	size_t nsf;
	int speaks;		/* -1: by sf; else the caller applied grid.speaksfor
				 * (the key process gets the answer, not the rules) */
	bool des_ok;		/* false: 9front's authsrv -N, dp9ik only */
	bool form1;		/* tickets in form 1 (set by a PAK, or !des_ok) */
	authpak_rand_fn rand;
	void *rand_ctx;
	uint32_t counter;	/* form 1 nonce counter for this connection */
	struct authsrv_slot akey, hkey, ukey;
	struct authsrv_slot *pending[2];	/* slots waiting for the client's Y */
	int npending;
	authsrv_setkey_fn setkey;	/* NULL: AuthPass ends in "can't write key" */
	void *setkey_ctx;
	/* a password change between its AuthTp ticket and the Passwordreq */
	bool passing;
	bool pass_known, pass_des;	/* the uid is in the key file; has a DES key */
	int pass_tries;
	struct auth_ticket pt;		/* the AuthTp ticket: its form and nonce key */
};

struct authsrv_reply {
	uint8_t out[1 + 2 * AUTH_MAXTICKETLEN];
	size_t len;
	size_t need;	/* bytes to read next: the client's Y's (AuthPAK) or a
			 * Passwordreq (AuthPass, for authsrv_passreq) */
	bool close;	/* close the connection after writing out */
	bool fail;	/* counts against the source (AuthErr but for the new
			 * password's own faults) */
	bool changed;	/* AuthPass: a user's keys were changed */
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
/* A Passwordreq (r.need bytes after an AuthPass reply; s->passing). */
void authsrv_passreq(struct authsrv *s, const uint8_t *p, size_t n, struct authsrv_reply *r);
/* NULL when pw may be a new password, else why not (9front's okpasswd:
 * at least 8 bytes without trailing blanks, not a trivial word). */
const char *authsrv_okpasswd(const char *pw);
/* Wipes every key the session holds. */
void authsrv_wipe(struct authsrv *s);

#endif
