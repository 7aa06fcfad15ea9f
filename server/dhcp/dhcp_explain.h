/* `gridbootd explain`: what a client would get from gridboot's DHCP
 * server, step by step, from the same boot decision the server uses. */
#ifndef GRIDBOOT_DHCP_EXPLAIN_H
#define GRIDBOOT_DHCP_EXPLAIN_H

#include "core/module.h"

#define DHCP_EXPLAIN_SYNOPSIS \
    "  explain -c FILE --mac MAC [--arch N] [--vendor-class S] [--user-class S]\n" \
    "                             what DHCP answers that client, and why\n" \
    "  explain --v6 -c FILE (--mac MAC | --duid HEX) [--arch N] [--vendor-class S]\n" \
    "           [--user-class S] [--server6 ADDR]\n" \
    "                             the same for DHCPv6 (--duid or --server6 imply --v6)\n"

int dhcp_explain_cmd(int argc, char **argv, inventory_load_fn *load);

#endif
