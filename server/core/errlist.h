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

void errlist_add(struct errlist *e, const char *file, int line, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void errlist_print(const struct errlist *e, FILE *f);
void errlist_free(struct errlist *e);

#endif
