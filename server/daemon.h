/* gridbootd serve: the running daemon (struct daemon, core/module.h) with
 * its loop, its current inventory and the modules of modules.h. */
#ifndef GRIDBOOT_DAEMON_H
#define GRIDBOOT_DAEMON_H

#include <stdbool.h>

#include "core/module.h"

/* pidfile may be NULL. */
int daemon_serve(const char *config_path, bool foreground, int loglevel,
    const char *pidfile);

#endif
