/* The auth module's side of core/authgate.h: p9any with dp9ik over a 9P
 * afid, as the grid's host owner (grid.authid), from the key file. */
#ifndef GRIDBOOT_AFID_H
#define GRIDBOOT_AFID_H

#include "auth/keyclient.h"
#include "core/module.h"

struct afid_keys {
	struct daemon *d;
	struct keyclient **kc;          /* the module's key process */
};

void afid_register(struct afid_keys *k);

#endif
