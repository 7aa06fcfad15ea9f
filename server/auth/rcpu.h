/* The server side of one rcpu connection (tcp 17019) as pure steps, the
 * way 9front's cpu server answers drawterm -h, up to and including TLS:
 *
 *   us   -> "v.2 dp9ik@DOM p9sk1@DOM\0"            p9any offer (grid.p9any)
 *   them -> "dp9ik DOM\0"                          their choice
 *   us   -> "OK\0"
 *   them -> cchal[8]
 *   us   -> Ticketreq(AuthPAK, authid, DOM, schal) + our Y (56)
 *           (the client takes both to the auth server, 567)
 *   them -> the auth server's Y for the authid (56)
 *   them -> Ts (124, form 1, under the PAK key) + Ac (68, under Ts's key)
 *   us   -> As (68)
 *   both    secret = HKDF-SHA256(salt = Ac.rand || As.rand,
 *                   "Plan 9 session secret", Ts.key), 256 bytes
 *   TLS 1.2 PSK (identity "p9secret", that secret), in memory BIOs
 *   them -> "%7ld\n" and that many bytes of rc script (read, never run)
 *   us   -> rcpu_finish(): as a 9P client of the namespace drawterm
 *           exports on the same connection, our text to its /dev/cons
 *   them -> the 9P replies; after the last: close_notify, close.
 *
 * p9sk1 instead of dp9ik (offered when grid.p9any lists it and the host
 * owner has a DES key; factotum's p9sk1.c, server role):
 *   them -> "p9sk1 DOM\0", us -> "OK\0", them -> cchal[8]
 *   us   -> Ticketreq(AuthTreq, authid, DOM, schal)   (no PAK)
 *   them -> Ts (72, DES under the host owner's DES key) + Ac (13, DES
 *           under Ts's key)
 *   us   -> As (13)
 *   both    secret = des56to64(Ts.key), 8 bytes: the TLS-PSK is those 8
 *           bytes (9front's establish() and tlssrv; drawterm's p9any)
 *
 * The caller owns the socket: it asks rcpu_frame how many bytes make the
 * next step, hands them to rcpu_input, sends what lands in out and acts
 * on the result. A ticket that does not open means a wrong password or an
 * unknown user (the auth server cannot tell; here is where it shows; a
 * DES ticket has no tag: a wrong key shows as a wrong kind or challenge). */
#ifndef GRIDBOOT_RCPU_H
#define GRIDBOOT_RCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "auth/authkey.h"
#include "auth/authpak.h"

#define RCPU_CHOICE_MAX 128     /* "dp9ik DOM\0" is at most 6 + 47 + 1 */
#define RCPU_SCRIPT_MAX 65536
#define RCPU_SECRETLEN 256
#define RCPU_P9_MSIZE 8192      /* our Tversion's; Twrites of text fit it */
#define RCPU_P9_REPLY_MAX 65536 /* a longer reply is refused */

enum rcpu_state { RCPU_CHOICE, RCPU_CCHAL, RCPU_PAKY, RCPU_TICKET, RCPU_TLS, RCPU_9P, RCPU_DONE };

enum rcpu_result {
	RCPU_MORE,      /* send out, read on */
	RCPU_SCRIPT,    /* TLS is up and the script is in: call rcpu_finish */
	RCPU_END,       /* every 9P reply is in: send out, close */
	RCPU_FAIL,      /* send out (maybe nothing), close; why says what */
	RCPU_AUTHED,    /* without TLS (a 9P afid): As is in out; r->user is who */
};

/* Bytes to send, grown as needed. */
struct rcpu_out {
	uint8_t *p;
	size_t n, cap;
};

struct rcpu {
	enum rcpu_state st;
	char authid[AUTH_ANAMELEN], dom[AUTH_DOMLEN];
	struct authkey key;             /* the host owner's, then the PAK key */
	struct authpak_priv priv;
	uint8_t schal[AUTH_CHALLEN], cchal[AUTH_CHALLEN];
	uint8_t secret[RCPU_SECRETLEN];
	size_t nsecret;                 /* 256 after dp9ik, 8 after p9sk1 */
	bool offer_dp9ik, offer_p9sk1;
	bool p9sk1;                     /* the client chose p9sk1 */
	char user[AUTH_ANAMELEN];       /* who the ticket says, once it opened */
	SSL *ssl;
	BIO *rbio, *wbio;               /* TLS records in and out (memory) */
	uint8_t hdr[8];                 /* "%7ld\n" */
	size_t nhdr, script_len, script_got;
	unsigned p9_want, p9_got, p9_errors;  /* replies to our 9P requests */
	struct rcpu_out p9in;           /* the reply being read, whole */
	struct rcpu_out p9q;            /* our requests, sent one per reply */
	size_t p9_pos;
	const char *why;                /* on RCPU_FAIL */
};

/* The TLS server context every connection shares: TLS 1.2, the two PSK
 * suites, the PSK callback. NULL on an OpenSSL failure. */
SSL_CTX *rcpu_tls_ctx(void);

/* Starts a connection for host owner authid in domain dom with the host
 * owner's keys (aes needed; des NULL when it has none) and offer, the
 * protocols to offer in order ("dp9ik p9sk1", grid.p9any; p9sk1 only
 * with a DES key). The greeting goes to out. false: out of memory, or
 * nothing to offer (r->why says so). */
bool rcpu_start(struct rcpu *r, const char *authid, const char *dom,
    const uint8_t aes[AUTH_AESKEYLEN], const uint8_t *des, const char *offer,
    struct rcpu_out *out);
/* The length of the next step's frame in p[0..len): 0 to read more, -1
 * for bytes that never make one, else its size. */
int64_t rcpu_frame(const struct rcpu *r, const uint8_t *p, size_t len);
/* With ctx NULL the exchange ends after our authenticator (RCPU_AUTHED):
 * p9any over a 9P afid, which needs no TLS, or the key process's half of
 * rcpu (keyproc.c); r->secret then holds the session secret. */
enum rcpu_result rcpu_input(struct rcpu *r, SSL_CTX *ctx, const uint8_t *p, size_t n,
    struct rcpu_out *out);
/* TLS from here: r->secret and r->nsecret are the session secret (the
 * key process's, after its RCPU_AUTHED) and the client's hello is next.
 * false: out of memory. */
bool rcpu_tls_begin(struct rcpu *r, SSL_CTX *ctx);
/* 9P messages (client side) that write text to /dev/cons of the
 * namespace drawterm exports: what our "rc" does instead of running the
 * script. */
int rcpu_cons_write(const char *user, const char *text, size_t len, struct rcpu_out *o);
/* (returns the number of requests, or -1) */
/* After RCPU_SCRIPT: the 9P requests that print text on the client, over
 * TLS, into out; rcpu_input then reads the replies to RCPU_END. */
bool rcpu_finish(struct rcpu *r, const char *text, size_t len, struct rcpu_out *out);
/* Frees TLS and wipes every key and secret. */
void rcpu_end(struct rcpu *r);

void rcpu_out_free(struct rcpu_out *o);

#endif
