/* Every protocol module the daemon runs, in start-up order. */
#ifndef GRIDBOOT_MODULES_H
#define GRIDBOOT_MODULES_H

#include "daemon.h"

extern const struct module dhcp_module;
extern const struct module tftp_module;
extern const struct module http_module;

#endif
