/* The loader: everything that makes an inventory the daemon can serve,
 * composed above the parser. parse (inventory.c) -> merge the role changes
 * stored in grid.state (assignments.c) -> index -> plan9.ini limits ->
 * each layer's and module's own check (templates, iPXE scripts, loaders)
 * -> warnings about what grid.user could not read. A load is all or
 * nothing: any error and the caller keeps what it had. */
#ifndef GRIDBOOT_LOADER_H
#define GRIDBOOT_LOADER_H

#include <stddef.h>

#include "config/inventory.h"

/* A check of one part of a parsed inventory. Errors to errs; warnings to
 * inv->warnings; may fill what it derives (templates read from disk). */
struct loader_check {
	const char *name;
	void (*fn)(struct inventory *inv, struct errlist *errs);
};

/* Returns the inventory with one reference, or NULL with every error in
 * errs. checks run in order once the file parsed cleanly. */
struct inventory *loader_load(const char *path, const struct loader_check *checks,
    size_t nchecks, struct errlist *errs);

#endif
