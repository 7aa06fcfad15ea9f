/* The attach-name multiplexer: a 9P backend (p9_srv.h) whose attach picks
 * the tree by name, "grid" for the grid tree (p9_grid.h), any other name
 * an export of the inventory (p9_export.h; "" is the root diskless
 * machines mount), and forwards every later call on a fid to the backend
 * it was attached in. Exports are refcounted: fids walked in an export
 * before a reload keep it until they are clunked. */
#ifndef GRIDBOOT_P9_MUX_H
#define GRIDBOOT_P9_MUX_H

#include "p9/p9_export.h"
#include "p9/p9_srv.h"

#include <stddef.h>
#include <stdint.h>

struct daemon;
struct p9_grid;
struct served;

/* The backend's context (p9_op.ctx): what the module's glue owns. */
struct p9_mux {
	struct daemon *d;
	struct p9_grid *grid;
	struct served **exports;
	size_t nexports;
	uint64_t *m_attach;             /* gridboot_9p_attaches_total */
	struct p9_fdcount fds;          /* every export's open files, capped */
};

extern const struct p9_backend p9_mux_backend;

/* The inventory's exports (d->inv), replacing the list. */
void p9_mux_load_exports(struct p9_mux *mx);
/* Lets go of the list (fids still open keep theirs). */
void p9_mux_free_exports(struct p9_mux *mx);

#endif
