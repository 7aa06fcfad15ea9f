/* The narrow door between a file server and the auth module: a service
 * that must know who a client is (9P's Tauth) runs an authentication
 * exchange through these calls, as the grid's host owner, without seeing
 * a key. The auth module registers them at start, when it has keys, and
 * takes them back at shutdown; without them, nothing can authenticate.
 *
 * The exchange is the server side of p9any with dp9ik (docs/auth.md): the
 * client's bytes go in through write, ours come out through read. */
#ifndef GRIDBOOT_AUTHGATE_H
#define GRIDBOOT_AUTHGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct authgate_ops {
	/* A new exchange; NULL when one cannot start (no host owner key). */
	void *(*start)(void *arg);
	/* The client's bytes. -1 when the exchange failed (the reason in
	 * why, for an error string); else how many were taken. */
	ssize_t (*write)(void *x, const void *p, size_t n, const char **why);
	/* Our bytes waiting for the client: how many were copied, 0 when we
	 * have nothing to say until the client writes. */
	size_t (*read)(void *x, void *p, size_t n);
	/* Who the client proved to be, once the exchange succeeded; NULL
	 * before and after a failure. */
	const char *(*user)(void *x);
	void (*end)(void *x);
};

void authgate_register(const struct authgate_ops *ops, void *arg);
void authgate_unregister(void);
/* The registered calls and their arg, or NULL. */
const struct authgate_ops *authgate_get(void **arg);

#endif
