/* http: placeholder module; the protocol lands in its own issue. */
#include "modules.h"

const struct module http_module = { "http", NULL, NULL, NULL };
