/* `gridbootd explain`: what a client would get from gridboot's DHCP
 * server, step by step, from the same boot decision the server uses. */
#ifndef GRIDBOOT_DHCP_EXPLAIN_H
#define GRIDBOOT_DHCP_EXPLAIN_H

int dhcp_explain_cmd(int argc, char **argv);

#endif
