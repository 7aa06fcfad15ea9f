/* Dropping root after start-up (grid.user); see privdrop.c. */
#ifndef GRIDBOOT_PRIVDROP_H
#define GRIDBOOT_PRIVDROP_H

/* Becomes user (NULL: stays as is), handing statedir and pidfile (may be
 * NULL) to it first and keeping only the network capabilities reloads
 * need. -1 on failure, logged; the daemon must not go on serving then. */
int privdrop(const char *user, const char *statedir, const char *pidfile);

#endif
