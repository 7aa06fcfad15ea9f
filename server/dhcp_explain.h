/* `gridbootd explain`: what a client would get from gridboot's DHCP
 * server, step by step, from the same boot decision the server uses. */
#ifndef GRIDBOOT_DHCP_EXPLAIN_H
#define GRIDBOOT_DHCP_EXPLAIN_H

int cmd_explain(int argc, char **argv);
/* Prints option 43's Plan 9 sub-options readably (also for tests). */
void explain_opt43(const unsigned char *o, unsigned long len, char *out, unsigned long cap);

#endif
