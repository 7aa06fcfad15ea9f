/* `gridbootd explain6`: what a client would get from gridboot's DHCPv6
 * server, from the same boot decision the server (and DHCPv4) uses. */
#ifndef GRIDBOOT_DHCP6_EXPLAIN_H
#define GRIDBOOT_DHCP6_EXPLAIN_H

#include "core/module.h"

#define DHCP6_EXPLAIN_SYNOPSIS \
    "  explain6 -c FILE (--mac MAC | --duid HEX) [--arch N] [--vendor-class S]\n" \
    "           [--user-class S] [--server6 ADDR]\n" \
    "                             what DHCPv6 answers that client, and why\n"

int dhcp6_explain_cmd(int argc, char **argv, inventory_load_fn *load);

#endif
