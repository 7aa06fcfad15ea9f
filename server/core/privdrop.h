/* Dropping root after start-up (grid.user); see privdrop.c. */
#ifndef GRIDBOOT_PRIVDROP_H
#define GRIDBOOT_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

/* Becomes user (NULL: stays as is), handing statedir and pidfile (may be
 * NULL) to it first and keeping only the network capabilities reloads
 * need. -1 on failure, logged; the daemon must not go on serving then. */
int privdrop(const char *user, const char *statedir, const char *pidfile);

/* Whether user may reach and read path (a directory: list it too), from
 * the permission bits on the way; -1 with why filled in if not. For
 * `check`: the files the daemon reads after it dropped root. */
int privdrop_can_read(const char *user, const char *path, bool isdir, char *why, size_t cap);

#endif
