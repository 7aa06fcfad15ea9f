/* Plan 9 auth server messages (9front sys/include/authsrv.h), as pure
 * codecs: bytes in, bytes out, no sockets.
 *
 *   Ticketreq      141 bytes: type authid[28] authdom[48] chal[8] hostid[28] uid[28]
 *   Ticket, form 0  72 bytes: num chal[8] cuid[28] suid[28] key[7], DES (Plan 9's
 *                   7-byte-key, overlapping-block encrypt())
 *   Ticket, form 1 124 bytes: sig[8] counter[4 LE] | ChaCha20-Poly1305(num-less
 *                   chal cuid suid key[32]) | tag[16]; the 12-byte nonce is
 *                   sig+counter and the signature ("form1 Tc", ...) stands for num
 *   Authenticator  form 0: 13 bytes (num chal[8] 4 zero bytes, DES);
 *                  form 1: 68 bytes (sig counter | chal rand[32] | tag)
 *   AuthErr        type byte 5 and a 64-byte NUL-padded reason
 *   Passwordreq    num old[28] new[28] changesecret secret[32], under the
 *                  key of the AuthTp ticket: form 0 90 bytes (DES), form 1
 *                  117 bytes (sig "form1 PR" counter | sealed | tag)
 * Form 0 keys are the 7-byte DES key; form 1 keys are 32 bytes (a PAK key
 * for tickets, the ticket's nonce key for authenticators). */
#ifndef GRIDBOOT_AUTHMSG_H
#define GRIDBOOT_AUTHMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	AUTH_ANAMELEN = 28,
	AUTH_AERRLEN = 64,
	AUTH_DOMLEN = 48,
	AUTH_DESKEYLEN = 7,
	AUTH_AESKEYLEN = 16,
	AUTH_CHALLEN = 8,
	AUTH_NONCELEN = 32,
	AUTH_PAKKEYLEN = 32,
	AUTH_PAKSLEN = 56,
	AUTH_PAKYLEN = 56,
	AUTH_PAKPLEN = 4 * 56,
	AUTH_PAKHASHLEN = 2 * 4 * 56,

	AUTH_TICKREQLEN = 3 * AUTH_ANAMELEN + AUTH_CHALLEN + AUTH_DOMLEN + 1,
	AUTH_TICKETLEN0 = 1 + AUTH_CHALLEN + 2 * AUTH_ANAMELEN + AUTH_DESKEYLEN,
	AUTH_TICKETLEN1 = 12 + AUTH_CHALLEN + 2 * AUTH_ANAMELEN + AUTH_NONCELEN + 16,
	AUTH_AUTHENTLEN0 = 1 + AUTH_CHALLEN + 4,
	AUTH_AUTHENTLEN1 = 12 + AUTH_CHALLEN + AUTH_NONCELEN + 16,
	AUTH_PASSWDLEN = 28,
	AUTH_SECRETLEN = 32,
	AUTH_PASSREQLEN0 = 1 + 2 * AUTH_PASSWDLEN + 1 + AUTH_SECRETLEN,
	AUTH_PASSREQLEN1 = 12 + 2 * AUTH_PASSWDLEN + 1 + AUTH_SECRETLEN + 16,
	AUTH_MAXTICKETLEN = AUTH_TICKETLEN1,
	AUTH_MAXAUTHENTLEN = AUTH_AUTHENTLEN1,
};

/* Message types and ticket kinds (authsrv.h). */
enum {
	AuthTreq = 1, AuthChal = 2, AuthPass = 3, AuthOK = 4, AuthErr = 5,
	AuthMod = 6, AuthApop = 7, AuthOKvar = 9, AuthChap = 10, AuthMSchap = 11,
	AuthCram = 12, AuthHttp = 13, AuthVNC = 14, AuthPAK = 19,
	AuthTs = 64, AuthTc = 65, AuthAs = 66, AuthAc = 67, AuthTp = 68, AuthHr = 69,
};

struct auth_ticketreq {
	uint8_t type;
	char authid[AUTH_ANAMELEN];	/* always NUL-terminated after decode */
	char authdom[AUTH_DOMLEN];
	uint8_t chal[AUTH_CHALLEN];
	char hostid[AUTH_ANAMELEN];
	char uid[AUTH_ANAMELEN];
};

struct auth_ticket {
	uint8_t num;
	uint8_t chal[AUTH_CHALLEN];
	char cuid[AUTH_ANAMELEN];
	char suid[AUTH_ANAMELEN];
	uint8_t key[AUTH_NONCELEN];	/* form 0 uses the first 7 bytes */
	int form;			/* not sent: 0 DES, 1 ChaCha20-Poly1305 */
};

struct auth_authenticator {
	uint8_t num;
	uint8_t chal[AUTH_CHALLEN];
	uint8_t rand[AUTH_NONCELEN];	/* form 1 only */
};

/* 9front's Passwordreq (AuthPass): the old password, the new one (empty:
 * keep it) and an Inferno/POP secret to set when changesecret is nonzero.
 * Strings are NUL-terminated after decode (cut at 27, 27 and 31 bytes). */
struct auth_passreq {
	uint8_t num;			/* AuthPass */
	char old[AUTH_PASSWDLEN];
	char new[AUTH_PASSWDLEN];
	uint8_t changesecret;
	char secret[AUTH_SECRETLEN];
};

/* Returns false when fewer than 141 bytes are given. Names are cut to
 * their field and NUL-terminated, as convM2TR does. */
bool authmsg_treq_decode(const uint8_t *p, size_t n, struct auth_ticketreq *tr);
/* Writes exactly AUTH_TICKREQLEN bytes. */
void authmsg_treq_encode(const struct auth_ticketreq *tr, uint8_t out[AUTH_TICKREQLEN]);

/* Encoders return the length written, 0 when cap is too small or the kind
 * has no form 1 signature. counter is the nonce's low 4 bytes (form 1): a
 * key must never see the same counter twice for the same kind. */
size_t authmsg_ticket_encode(const struct auth_ticket *t, const uint8_t *key,
    uint32_t counter, uint8_t *out, size_t cap);
size_t authmsg_auth_encode(const struct auth_authenticator *a, const struct auth_ticket *t,
    uint32_t counter, uint8_t *out, size_t cap);

/* Decoders: > 0 is the length consumed; < 0 is minus the length needed
 * (read more and call again); 0 means the bytes do not open with this key
 * (bad tag, or unknown form 1 signature). The form comes from the bytes:
 * a known form 1 signature means form 1, anything else DES. des_ok = false
 * refuses form 0 outright (returns 0), as dp9ik must. */
int authmsg_ticket_decode(const uint8_t *p, size_t n, const uint8_t *key, bool des_ok,
    struct auth_ticket *t);
int authmsg_auth_decode(const uint8_t *p, size_t n, const struct auth_ticket *t,
    struct auth_authenticator *a);

/* convPR2M / convM2PR: a Passwordreq under the key of ticket t, in t's
 * form (counter as for tickets). The decoder returns as the ticket
 * decoder does: > 0 consumed, < 0 minus the length needed, 0 when the
 * bytes do not open with t's key; the caller checks pr->num. */
size_t authmsg_passreq_len(int form);
size_t authmsg_passreq_encode(const struct auth_passreq *pr, const struct auth_ticket *t,
    uint32_t counter, uint8_t *out, size_t cap);
int authmsg_passreq_decode(const uint8_t *p, size_t n, const struct auth_ticket *t,
    struct auth_passreq *pr);

/* AuthErr and its 64-byte reason: writes 65 bytes. */
void authmsg_error(uint8_t out[1 + AUTH_AERRLEN], const char *reason);

/* Plan 9's encrypt()/decrypt() with a 7-byte DES key: 8-byte blocks that
 * step by 7 and a last block that overlaps to reach the end (n >= 8).
 * Return false on an OpenSSL failure. */
bool authmsg_des_encrypt(const uint8_t key[AUTH_DESKEYLEN], uint8_t *buf, size_t n);
bool authmsg_des_decrypt(const uint8_t key[AUTH_DESKEYLEN], uint8_t *buf, size_t n);

/* libsec's des56to64: a 7-byte key as DES's 8 bytes with odd parity
 * (also p9sk1's session secret). */
void authmsg_des56to64(const uint8_t k56[AUTH_DESKEYLEN], uint8_t k64[8]);

/* form1B2M / form1M2B: seal buf[0..n) (buf[0] = num) into out, and open. */
size_t authmsg_form1_seal(const uint8_t *msg, size_t n, const uint8_t key[32],
    uint32_t counter, uint8_t *out, size_t cap);
/* Returns the opened length (num first, as in the plain message) or 0. */
size_t authmsg_form1_open(const uint8_t *in, size_t n, const uint8_t key[32], uint8_t *out);
/* The kind a form 1 signature stands for, or -1. */
int authmsg_form1_kind(const uint8_t *p, size_t n);

#endif
