/* tftp: placeholder module; the protocol lands in its own issue. */
#include "modules.h"

const struct module tftp_module = { "tftp", NULL, NULL, NULL };
