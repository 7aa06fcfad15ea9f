/* Users' keys: derivation from a password, the AuthPAK hash, and the key
 * file behind the one narrow lookup the auth service uses (authkey_find).
 *
 * Key file format (text, one user a line, # comments, blank lines skipped):
 *
 *     user  aes=<32 hex>  [des=<14 hex>]
 *
 * aes is passtoaeskey(password) (PBKDF2-HMAC-SHA1, "Plan 9 key
 * derivation", 9001 rounds, 16 bytes), des is passtodeskey(password) and is
 * needed only for p9sk1 (DES) tickets. authkey_line() writes such a line
 * from a password. Users are at most 27 bytes, as on the wire. Who may
 * speak for whom is not a secret and lives in the inventory
 * (grid.speaksfor, struct speaksfor); authkey_speaksfor() applies it. */
#ifndef GRIDBOOT_AUTHKEY_H
#define GRIDBOOT_AUTHKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/authmsg.h"
#include "config/inventory.h"

/* 9front's Authkey. */
struct authkey {
	uint8_t des[AUTH_DESKEYLEN];
	uint8_t aes[AUTH_AESKEYLEN];
	uint8_t pakkey[AUTH_PAKKEYLEN];		/* from authpak_finish */
	uint8_t pakhash[AUTH_PAKHASHLEN];	/* PM then PN, from authkey_pakhash */
};

/* passtodeskey / passtoaeskey / passtokey (libauthsrv/passtokey.c). The
 * password is cut at 27 bytes for DES, as Plan 9 does. false on an OpenSSL
 * failure. */
bool authkey_passtodes(uint8_t key[AUTH_DESKEYLEN], const char *password);
bool authkey_passtoaes(uint8_t key[AUTH_AESKEYLEN], const char *password);
bool authkey_from_password(struct authkey *k, const char *password);
/* authpak_hash: HKDF-SHA256(salt = SHA-256(user), info "Plan 9 AuthPAK
 * hash", key = the AES key) gives two 56-byte values, mapped to PM and PN by
 * Elligator2 and stored as X,Y,Z,T each. */
bool authkey_pakhash(struct authkey *k, const char *user);
void authkey_wipe(struct authkey *k);
/* RFC 5869 HKDF-SHA256, as 9front's hkdf_x(salt, info, key, ...,
 * hmac_sha2_256): used for the PAK hash and key and the session secret. */
bool authkey_hkdf(const uint8_t *salt, size_t nsalt, const char *info,
    const uint8_t *ikm, size_t nikm, uint8_t *out, size_t nout);

struct authkey_entry;

struct auth_keyfile {
	struct authkey_entry *v;	/* sorted by user */
	size_t n;
	uint8_t secret[32];		/* fabricates keys for unknown users */
};

/* Parses the text; on error returns false and a message naming the line in
 * err. The secret should be the server's persistent random seed (9front's
 * /adm/keyseed): the same unknown user then always gets the same key. */
bool authkey_load(struct auth_keyfile *kf, const char *text, const uint8_t secret[32],
    char *err, size_t errlen);
void authkey_free(struct auth_keyfile *kf);

/* The one lookup: fills des, aes and pakhash for user and returns true, or
 * fabricates them from the secret (HMAC-SHA256 over the user name) and
 * returns false; both paths do the same work, so neither the reply nor
 * its timing tells a caller whether the user exists. A known user without
 * a DES key gets a fabricated one too (the DES key is then unusable, as
 * with 9front's zero key). pakkey is zeroed. */
bool authkey_find(const struct auth_keyfile *kf, const char *user, struct authkey *out);
/* Whether host may ask for tickets as user (9front's speaksfor): always
 * for itself; else by host's rule, where "!user" wins over "*" and the
 * name. No rule: only itself. */
bool authkey_speaksfor(const struct speaksfor *rules, size_t n, const char *host,
    const char *user);
/* The i-th user of the file (sorted by name) and which keys it has; no
 * secret leaves. false when i is past the end. */
bool authkey_entry(const struct auth_keyfile *kf, size_t i, const char **user, bool *has_des);
/* A listed user's own keys (never fabricated): false when user is not in
 * the file. des is zeroed when the user has no DES key. */
bool authkey_lookup(const struct auth_keyfile *kf, const char *user,
    uint8_t aes[AUTH_AESKEYLEN], uint8_t des[AUTH_DESKEYLEN], bool *has_des);

/* A key file line for user/password (with the DES key when des is true). */
bool authkey_line(char *out, size_t cap, const char *user, const char *password, bool des);
/* The same from keys (des NULL: an aes key only). */
bool authkey_line_keys(char *out, size_t cap, const char *user, const uint8_t aes[AUTH_AESKEYLEN],
    const uint8_t *des);

#endif
