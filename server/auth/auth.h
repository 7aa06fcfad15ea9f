/* The auth module's own pieces that tests reach: the framing of the auth
 * server's port, the per-source failure limiter, the key file on disk and
 * the subcommands. The module itself is auth_module (server/modules.h).
 *
 * Framing on grid.auth_port (567): a request is a 141-byte Ticketreq
 * whose first byte is a request type 9front knows; after an AuthPAK
 * reply the frame is the client's Y's (56 bytes each, as many as the
 * reply had). A first byte that is no request type is a 1-byte frame,
 * answered with AuthErr and a close. */
#ifndef GRIDBOOT_AUTH_H
#define GRIDBOOT_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/authkey.h"
#include "auth/authmsg.h"
#include "core/limiter.h"
#include "core/module.h"

/* The next frame's length on the auth port: 0 to read more, else its
 * size; need is the Y bytes an AuthPAK reply asked for (0 otherwise). */
int64_t auth_frame(size_t need, const uint8_t *p, size_t len);

/* Failures per source address (AuthErr, bad frames, handshake timeouts,
 * tickets that do not open at rcpu). A source with AUTH_FAIL_MAX failures
 * within AUTH_FAIL_WINDOW_MS is refused until AUTH_FAIL_WINDOW_MS after
 * its last one. The table is bounded (AUTH_FAIL_SOURCES): a flood from
 * many addresses costs a fixed amount of memory and a short scan, and
 * evicts the source not heard from longest; such a flood meets the
 * listeners' connection caps instead. */
#define AUTH_FAIL_SOURCES 256
#define AUTH_FAIL_MAX 10
#define AUTH_FAIL_WINDOW_MS 60000

struct auth_failsrc {
	uint32_t addr;          /* 0: free */
	uint32_t fails;
	uint64_t first, last;   /* ms */
};

struct auth_faillimit {
	struct auth_failsrc v[AUTH_FAIL_SOURCES];
	uint64_t evicted;
};

/* 0 when addr may connect now, else the milliseconds it must wait. */
uint64_t auth_fail_wait(const struct auth_faillimit *fl, uint32_t addr, uint64_t now);
void auth_fail_note(struct auth_faillimit *fl, uint32_t addr, uint64_t now);

/* Ticket service requests (AuthPAK, AuthTreq) per source and per user,
 * whatever their outcome: a wrong password never shows as a failure to
 * the server (the client just cannot open the ticket), so counting only
 * failures let 40 guesses a second through. A source gets a burst of
 * AUTH_REQ_SRC_BURST requests, then one every AUTH_REQ_SRC_EVERY_MS; each
 * user whose key an AuthPAK uses (uid alone, or authid and hostid) gets
 * AUTH_REQ_USER_BURST, then one every AUTH_REQ_USER_EVERY_MS. A drawterm
 * login costs about four requests from its source and one AuthPAK for
 * each of the user and the cpu server's owner. Over a limit: AuthErr
 * "too many requests ..." and the connection closes; nothing else is
 * spent (no key looked up, no curve arithmetic). */
#define AUTH_REQ_SRC_BURST 40
#define AUTH_REQ_SRC_EVERY_MS 500
#define AUTH_REQ_USER_BURST 40
#define AUTH_REQ_USER_EVERY_MS 1000
#define AUTH_REQ_SOURCES 256
#define AUTH_REQ_USERS 256

struct auth_reqlimit {
	struct lim_slot src_v[AUTH_REQ_SOURCES], user_v[AUTH_REQ_USERS];
	struct lim_table src, user;
};

void auth_reqlimit_init(struct auth_reqlimit *rl);
/* NULL when the request from addr (16 bytes, IPv4 mapped) may go on,
 * else the AuthErr reason; *by is then "source" or "user". */
const char *auth_reqlimit_check(struct auth_reqlimit *rl, const uint8_t addr[16],
    const struct auth_ticketreq *tr, uint64_t now, const char **by);

/* The client's Y's after an AuthPAK reply: false when one is degenerate.
 * In 9front's decaf encoding the identity (and with it every low-order
 * point, which decaf folds onto it) is the all-zero string: with it the
 * shared secret no longer depends on the password's blinding point the
 * way the protocol needs, so it is refused before any arithmetic. */
bool auth_ys_ok(const uint8_t *ys, size_t n);

/* The key file: 0600, owned by us; the server's secret for fabricated
 * keys (9front's keyseed) beside it in DIR/keyseed, made once. false with
 * a message in err. */
bool auth_keys_read(const char *path, struct auth_keyfile *kf, char *err, size_t errlen);
bool auth_secret(const char *keys_path, bool create, uint8_t secret[32], char *err, size_t errlen);

/* Puts line (authkey_line's) in place of user's line of the key file at
 * path, or adds it, holding an flock on the file's directory against
 * another writer: the result must load (it does, into kf when kf is not
 * NULL) and replaces the file atomically, mode 0600. false with a message
 * in err, the file untouched. (authfile.c) */
bool auth_keys_update(const char *path, const char *user, const char *line,
    const uint8_t secret[32], struct auth_keyfile *kf, char *err, size_t errlen);

/* The text the rcpu endpoint answers with: one machine a line,
 * "name mac ip role". malloc'd. */
char *auth_machine_list(const struct inventory *inv, size_t *len);

/* gridbootd passwd / users / nvram (authcmd.c). */
int auth_cmd_passwd(int argc, char **argv, inventory_load_fn *load);
int auth_cmd_users(int argc, char **argv, inventory_load_fn *load);
int auth_cmd_nvram(int argc, char **argv, inventory_load_fn *load);
/* The host owner's image for inv from the key file kf. */
bool auth_nvram_from(const struct auth_keyfile *kf, const struct inventory *inv, uint8_t *out);

#endif
