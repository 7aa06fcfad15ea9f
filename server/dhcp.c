/* dhcp: placeholder module; the protocol lands in its own issue. */
#include "modules.h"

const struct module dhcp_module = { "dhcp", NULL, NULL, NULL };
