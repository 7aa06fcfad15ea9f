/* A tiny TAP-style harness: each check prints "ok" or "not ok" with its
 * name; tests/run.sh tallies them. */
#ifndef GRIDBOOT_UNIT_H
#define GRIDBOOT_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed, unit_count;

/* The condition is evaluated exactly once: it may have side effects. */
#define CHECK(cond, ...) do { \
	int passed_ = (cond) ? 1 : 0; \
	unit_count++; \
	if (passed_) { \
		printf("ok %d - ", unit_count); \
	} else { \
		unit_failed++; \
		printf("not ok %d - ", unit_count); \
	} \
	printf(__VA_ARGS__); \
	printf("\n"); \
	if (!passed_) \
		printf("#   %s:%d: %s\n", __FILE__, __LINE__, #cond); \
} while (0)

#define CHECK_STR(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int same_ = g_ && w_ && strcmp(g_, w_) == 0; \
	CHECK(same_, __VA_ARGS__); \
	if (!same_) \
		printf("#   got:  %s\n#   want: %s\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define UNIT_DONE() (printf("1..%d\n", unit_count), unit_failed ? 1 : 0)

#endif
