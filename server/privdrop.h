/* Dropping root after start-up (grid.user); see privdrop.c. */
#ifndef GRIDBOOT_PRIVDROP_H
#define GRIDBOOT_PRIVDROP_H

/* Becomes user (NULL: stays as is), handing statedir to it first and
 * keeping only the network capabilities reloads need. -1 on failure,
 * logged; the daemon must not go on serving as root then. */
int privdrop(const char *user, const char *statedir);

#endif
