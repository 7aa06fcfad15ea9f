/* Users' keys (see authkey.h). */
#include "auth/authkey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/sha.h>

#include "core/util.h"
#include "curve/ed448.h"

struct authkey_entry {
	char user[AUTH_ANAMELEN];
	uint8_t aes[AUTH_AESKEYLEN];
	uint8_t des[AUTH_DESKEYLEN];
	bool has_des;
};

/* passtodeskey: the password (at most 27 bytes, NUL-terminated, at least 8
 * bytes with blanks) is folded 8 bytes at a time into a 7-byte key: each
 * key byte takes the high bits of one byte and the low bits of the next;
 * between chunks the next 8 bytes are DES-encrypted with the key so far,
 * the last chunk overlapping the one before it. */
bool
authkey_passtodes(uint8_t key[AUTH_DESKEYLEN], const char *password)
{
	uint8_t buf[28];
	size_t n = strlen(password), off = 0;
	bool ok = true;

	memset(buf, ' ', 8);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, password, n);
	buf[n] = 0;
	for (;;) {
		const uint8_t *t = buf + off;
		for (int i = 0; i < AUTH_DESKEYLEN; i++)
			key[i] = (uint8_t)((t[i] >> i) + (t[i + 1] << (8 - (i + 1))));
		if (n <= 8)
			break;
		n -= 8;
		off += 8;
		if (n < 8) {
			off -= 8 - n;
			n = 8;
		}
		if (!authmsg_des_encrypt(key, buf + off, 8)) {
			ok = false;
			break;
		}
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok;
}

bool
authkey_passtoaes(uint8_t key[AUTH_AESKEYLEN], const char *password)
{
	static const char salt[] = "Plan 9 key derivation";
	return PKCS5_PBKDF2_HMAC_SHA1(password, (int)strlen(password),
	    (const unsigned char *)salt, sizeof(salt) - 1, 9001, AUTH_AESKEYLEN, key) == 1;
}

bool
authkey_from_password(struct authkey *k, const char *password)
{
	memset(k, 0, sizeof(*k));
	return authkey_passtodes(k->des, password) && authkey_passtoaes(k->aes, password);
}

void
authkey_wipe(struct authkey *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

bool
authkey_hkdf(const uint8_t *salt, size_t nsalt, const char *info, const uint8_t *ikm, size_t nikm,
    uint8_t *out, size_t nout)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5];
	bool ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, nsalt);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, nikm);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	params[4] = OSSL_PARAM_construct_end();
	ok = ctx && EVP_KDF_derive(ctx, out, nout, params) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

bool
authkey_pakhash(struct authkey *k, const char *user)
{
	uint8_t salt[SHA256_DIGEST_LENGTH], h[2 * AUTH_PAKSLEN];
	struct ed448_pt pt;

	SHA256((const unsigned char *)user, strlen(user), salt);
	if (!authkey_hkdf(salt, sizeof(salt), "Plan 9 AuthPAK hash", k->aes, AUTH_AESKEYLEN, h, sizeof(h)))
		return false;
	ed448_elligator2(&pt, h);			/* PM */
	ed448_pt_tobytes(k->pakhash, &pt);
	ed448_elligator2(&pt, h + AUTH_PAKSLEN);	/* PN */
	ed448_pt_tobytes(k->pakhash + AUTH_PAKPLEN, &pt);
	OPENSSL_cleanse(h, sizeof(h));
	OPENSSL_cleanse(&pt, sizeof(pt));
	return true;
}

/* ---- the key file ---- */

static bool
unhex(uint8_t *out, size_t n, const char *s)
{
	if (strlen(s) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct authkey_entry *)a)->user,
	    ((const struct authkey_entry *)b)->user);
}

static bool
parse_line(char *line, struct authkey_entry *e, const char **why)
{
	char *save = NULL, *tok = strtok_r(line, " \t", &save);
	bool has_aes = false;

	memset(e, 0, sizeof(*e));
	if (strlen(tok) >= AUTH_ANAMELEN) {
		*why = "user name longer than 27 bytes";
		return false;
	}
	strcpy(e->user, tok);
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strncmp(tok, "aes=", 4) == 0 && unhex(e->aes, AUTH_AESKEYLEN, tok + 4)) {
			has_aes = true;
		} else if (strncmp(tok, "des=", 4) == 0 && unhex(e->des, AUTH_DESKEYLEN, tok + 4)) {
			e->has_des = true;
		} else if (strncmp(tok, "speaksfor=", 10) == 0) {
			*why = "speaksfor= is the inventory's now (grid.speaksfor, docs/auth.md)";
			return false;
		} else {
			*why = "bad field (want aes=<32 hex> [des=<14 hex>])";
			return false;
		}
	}
	if (!has_aes) {
		*why = "no aes= key";
		return false;
	}
	return true;
}

void
authkey_free(struct auth_keyfile *kf)
{
	if (kf->v)
		OPENSSL_cleanse(kf->v, kf->n * sizeof(kf->v[0]));
	free(kf->v);
	OPENSSL_cleanse(kf, sizeof(*kf));
}

bool
authkey_load(struct auth_keyfile *kf, const char *text, const uint8_t secret[32],
    char *err, size_t errlen)
{
	char *copy = strdup(text), *line, *next;
	size_t cap = 0, lineno = 0;
	bool ok = true;

	memset(kf, 0, sizeof(*kf));
	memcpy(kf->secret, secret, 32);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (line = copy; ok && line; line = next) {
		const char *why = NULL;
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		line[strcspn(line, "#\r")] = 0;
		if (strspn(line, " \t") == strlen(line))
			continue;
		if (kf->n == cap) {
			cap = cap ? 2 * cap : 16;
			struct authkey_entry *nv = realloc(kf->v, cap * sizeof(*nv));
			if (!nv) {
				snprintf(err, errlen, "out of memory");
				ok = false;
				break;
			}
			kf->v = nv;
		}
		line += strspn(line, " \t");
		if (!parse_line(line, &kf->v[kf->n], &why)) {
			OPENSSL_cleanse(&kf->v[kf->n], sizeof(kf->v[0]));
			snprintf(err, errlen, "key line %zu: %s", lineno, why);
			ok = false;
			break;
		}
		kf->n++;
	}
	OPENSSL_cleanse(copy, strlen(text));
	free(copy);
	if (ok && kf->n > 1) {
		qsort(kf->v, kf->n, sizeof(kf->v[0]), entry_cmp);
		for (size_t i = 1; i < kf->n; i++)
			if (strcmp(kf->v[i - 1].user, kf->v[i].user) == 0) {
				snprintf(err, errlen, "user %s listed twice", kf->v[i].user);
				ok = false;
			}
	}
	if (!ok)
		authkey_free(kf);
	return ok;
}

static const struct authkey_entry *
lookup(const struct auth_keyfile *kf, const char *user)
{
	struct authkey_entry key;
	if (strlen(user) >= AUTH_ANAMELEN || kf->n == 0)
		return NULL;
	strcpy(key.user, user);
	return bsearch(&key, kf->v, kf->n, sizeof(kf->v[0]), entry_cmp);
}

/* HMAC-SHA256(secret, label || user): a stable stand-in key. */
static void
fabricate(const struct auth_keyfile *kf, const char *label, const char *user,
    uint8_t *out, size_t n)
{
	uint8_t h[32];
	unsigned int hl = sizeof(h);
	size_t ll = strlen(label), ul = strlen(user);
	uint8_t msg[16 + AUTH_ANAMELEN + 256];

	if (ll + 1 + ul > sizeof(msg))
		ul = sizeof(msg) - ll - 1;
	memcpy(msg, label, ll);
	msg[ll] = 0;
	memcpy(msg + ll + 1, user, ul);
	if (!HMAC(EVP_sha256(), kf->secret, sizeof(kf->secret), msg, ll + 1 + ul, h, &hl))
		memset(h, 0, sizeof(h));	/* unreachable in practice; still no key leak */
	memcpy(out, h, n);
	OPENSSL_cleanse(h, sizeof(h));
}

bool
authkey_find(const struct auth_keyfile *kf, const char *user, struct authkey *out)
{
	const struct authkey_entry *e = lookup(kf, user);
	uint8_t fake_aes[AUTH_AESKEYLEN], fake_des[AUTH_DESKEYLEN];

	memset(out, 0, sizeof(*out));
	/* fabricate always, use it only when needed: same work either way */
	fabricate(kf, "aes", user, fake_aes, sizeof(fake_aes));
	fabricate(kf, "des", user, fake_des, sizeof(fake_des));
	memcpy(out->aes, e ? e->aes : fake_aes, AUTH_AESKEYLEN);
	memcpy(out->des, e && e->has_des ? e->des : fake_des, AUTH_DESKEYLEN);
	if (!authkey_pakhash(out, user))
		memset(out->pakhash, 0, sizeof(out->pakhash));
	OPENSSL_cleanse(fake_aes, sizeof(fake_aes));
	OPENSSL_cleanse(fake_des, sizeof(fake_des));
	return e != NULL;
}

bool
authkey_speaksfor(const struct speaksfor *rules, size_t n, const char *host, const char *user)
{
	bool ok = false;

	if (strcmp(host, user) == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rules[i].host, host) != 0)
			continue;
		for (int k = 0; k < rules[i].nusers; k++) {
			const char *u = rules[i].users[k];
			if (u[0] == '!' && strcmp(u + 1, user) == 0)
				return false;
			if (strcmp(u, "*") == 0 || strcmp(u, user) == 0)
				ok = true;
		}
	}
	return ok;
}

bool
authkey_entry(const struct auth_keyfile *kf, size_t i, const char **user, bool *has_des)
{
	if (i >= kf->n)
		return false;
	*user = kf->v[i].user;
	*has_des = kf->v[i].has_des;
	return true;
}

bool
authkey_lookup(const struct auth_keyfile *kf, const char *user,
    uint8_t aes[AUTH_AESKEYLEN], uint8_t des[AUTH_DESKEYLEN], bool *has_des)
{
	const struct authkey_entry *e = lookup(kf, user);

	memset(des, 0, AUTH_DESKEYLEN);
	if (e == NULL)
		return false;
	memcpy(aes, e->aes, AUTH_AESKEYLEN);
	if (e->has_des)
		memcpy(des, e->des, AUTH_DESKEYLEN);
	*has_des = e->has_des;
	return true;
}

bool
authkey_line_keys(char *out, size_t cap, const char *user, const uint8_t aes[AUTH_AESKEYLEN],
    const uint8_t *des)
{
	char ah[2 * AUTH_AESKEYLEN + 1], dh[2 * AUTH_DESKEYLEN + 1];
	int n;

	if (strlen(user) >= AUTH_ANAMELEN)
		return false;
	for (int i = 0; i < AUTH_AESKEYLEN; i++)
		snprintf(ah + 2 * i, 3, "%02x", aes[i]);
	if (des) {
		for (int i = 0; i < AUTH_DESKEYLEN; i++)
			snprintf(dh + 2 * i, 3, "%02x", (unsigned)des[i]);
		n = snprintf(out, cap, "%s aes=%s des=%s\n", user, ah, dh);
	} else {
		n = snprintf(out, cap, "%s aes=%s\n", user, ah);
	}
	OPENSSL_cleanse(ah, sizeof(ah));
	OPENSSL_cleanse(dh, sizeof(dh));
	return n > 0 && (size_t)n < cap;
}

bool
authkey_line(char *out, size_t cap, const char *user, const char *password, bool des)
{
	struct authkey k;
	bool ok;

	if (strlen(user) >= AUTH_ANAMELEN || !authkey_from_password(&k, password))
		return false;
	ok = authkey_line_keys(out, cap, user, k.aes, des ? k.des : NULL);
	authkey_wipe(&k);
	return ok;
}
