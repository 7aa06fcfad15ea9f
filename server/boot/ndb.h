/* The grid's network database in the form 9front's ndb/cs and ndb/query
 * read (/lib/ndb/local), generated from the inventory: one ipnet entry
 * per network with its mask, gateway, dns, fs, auth and authdom, then one
 * sys entry per machine. Served by the 9P grid tree as `ndb` and overlaid
 * on exports that ask for it. */
#ifndef GRIDBOOT_NDB_H
#define GRIDBOOT_NDB_H

#include <stddef.h>

#include "config/inventory.h"

/* malloc'd text; *len its length. */
char *ndb_render(const struct inventory *inv, size_t *len);

#endif
