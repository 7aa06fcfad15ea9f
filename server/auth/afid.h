/* The auth module's side of core/authgate.h: p9any with dp9ik over a 9P
 * afid, as the grid's host owner (grid.authid), from the key file. */
#ifndef GRIDBOOT_AFID_H
#define GRIDBOOT_AFID_H

#include "auth/authkey.h"
#include "core/module.h"

struct afid_keys {
	struct daemon *d;
	struct auth_keyfile **keys;     /* the module's current key file */
};

void afid_register(struct afid_keys *k);

#endif
