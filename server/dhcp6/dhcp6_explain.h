/* `gridbootd explain6`: what a client would get from gridboot's DHCPv6
 * server, from the same boot decision the server (and DHCPv4) uses. */
#ifndef GRIDBOOT_DHCP6_EXPLAIN_H
#define GRIDBOOT_DHCP6_EXPLAIN_H

#include "core/module.h"

#define DHCP6_EXPLAIN_SYNOPSIS \
    "  explain6 ...                the same as explain --v6\n"

int dhcp6_explain_cmd(int argc, char **argv, inventory_load_fn *load);

#endif
