/* Unit tests that need an inventory write it from a string to a temporary
 * file and load it through the real gridboot_load(). */
#ifndef GRIDBOOT_UNIT_INV_H
#define GRIDBOOT_UNIT_INV_H

#include "core/errlist.h"
#include "config/inventory.h"
#include "modules.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The inventory in text, or NULL after printing its errors as TAP comments. */
static inline struct inventory *
unit_inventory(const char *text)
{
	char path[] = "/tmp/gbd-unit-XXXXXX";
	struct errlist errs = { 0 };
	struct inventory *inv = NULL;
	size_t n = strlen(text);
	int fd = mkstemp(path);

	if (fd < 0)
		return NULL;
	if (write(fd, text, n) == (ssize_t)n) {
		close(fd);
		inv = gridboot_load(path, &errs);
	} else
		close(fd);
	unlink(path);
	if (inv == NULL)
		for (size_t i = 0; i < errs.n; i++)
			printf("# %s\n", errs.msg[i]);
	errlist_free(&errs);
	return inv;
}

#endif
