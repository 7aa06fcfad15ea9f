/* The grid as files (attach name "grid"), a 9P backend: people and
 * programs read and change the grid with ordinary file tools.
 *
 *   machines/NAME/plan9.ini   what the machine boots with (read)
 *   machines/NAME/role        its role; write a role name to change it,
 *                             checked and stored exactly as the API's
 *                             PUT .../role (config/assignments.h)
 *   machines/NAME/state       booting, up or idle (boot/machstate.h)
 *   machines/NAME/facts       what the discovery image enrolled (JSON)
 *   machines/NAME/lease       its address and lease
 *   machines/NAME/events      its timeline: a read blocks until its next
 *                             event, then returns the events since the
 *                             last read, one line each
 *   discovered/MAC/facts      a machine seen but not in the inventory
 *   discovered/MAC/adopt      write "ROLE" or "NAME ROLE" to adopt it
 *   ndb                       the grid's network database (boot/ndb.h)
 *   leases                    every reservation and live lease
 *   events                    the whole timeline, blocking like the above
 *
 * Everything is looked up in the current inventory at each walk and open,
 * so a reload shows at once and a machine that left the inventory is
 * "file does not exist" to a fid that still names it. A file's text is
 * made when it is opened (one consistent snapshot per open). */
#ifndef GRIDBOOT_P9_GRID_H
#define GRIDBOOT_P9_GRID_H

#include "core/module.h"
#include "p9/p9_srv.h"

struct p9_grid;

struct p9_grid *p9_grid_new(struct daemon *d);
void p9_grid_free(struct p9_grid *g);

/* The backend; its ctx is the struct p9_grid. */
extern const struct p9_backend p9_grid_backend;

#endif
