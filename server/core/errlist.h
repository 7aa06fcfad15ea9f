/* A list of configuration errors, each "FILE:LINE: key: what is wrong".
 * Validation collects every error instead of stopping at the first. */
#ifndef GRIDBOOT_ERRLIST_H
#define GRIDBOOT_ERRLIST_H

#include <stddef.h>
#include <stdio.h>

struct errlist {
	char **msg;
	size_t n;
};

void errs_add(struct errlist *e, const char *file, int line, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void errs_print(const struct errlist *e, FILE *f);
void errs_free(struct errlist *e);

#endif
