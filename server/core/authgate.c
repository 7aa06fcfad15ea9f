#include "core/authgate.h"

#include <stddef.h>

/* The registration (authgate_register): one auth module per process hands
 * its gate down; NULL when none runs. */
static const struct authgate_ops *gate;
static void *gate_arg;

void
authgate_register(const struct authgate_ops *ops, void *arg)
{
	gate = ops;
	gate_arg = arg;
}

void
authgate_unregister(void)
{
	gate = NULL;
	gate_arg = NULL;
}

const struct authgate_ops *
authgate_get(void **arg)
{
	*arg = gate_arg;
	return gate;
}
