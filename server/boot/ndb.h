/* The grid's network database in the form 9front's ndb/cs and ndb/query
 * read (/lib/ndb/local), generated from the inventory: one ipnet entry
 * per network with its mask, gateway, dns, fs, auth and authdom, then one
 * sys entry per machine. Served by the 9P grid tree as `ndb`; laid over
 * an export's /lib/ndb/local, the root of 9front's database, it is
 * ndb_render_root's form (docs/9p.md). */
#ifndef GRIDBOOT_NDB_H
#define GRIDBOOT_NDB_H

#include <stdbool.h>
#include <stddef.h>

#include "config/inventory.h"

/* malloc'd text; *len its length. */
char *ndb_render(const struct inventory *inv, size_t *len);

/* The same entries as the root of a machine's database, laid at self
 * ("/lib/ndb/local" in the machine's namespace): first a database= entry
 * naming /net/ndb, self and /lib/ndb/common, so the root's own files stay
 * in force (without one, ndb/cs reads this file alone and no service name
 * resolves); with_services adds the service entries the grid dials by
 * (ticket, 9fs, rcpu, cpu, exportfs, dns), for an export that has no
 * /lib/ndb/common of its own. */
char *ndb_render_root(const struct inventory *inv, const char *self, bool with_services, size_t *len);

#endif
