/* A small registry of Prometheus counters and gauges. Modules register a
 * counter once and bump the returned pointer; /metrics renders them all.
 * Single-threaded like everything else, so plain integers suffice. */
#ifndef GRIDBOOT_METRICS_H
#define GRIDBOOT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns a stable pointer to the counter (name, labels) registering it on
 * first use. labels is Prometheus label text without braces
 * (`type="discover"`) or NULL. help is used for the first of a name. */
uint64_t *metric_counter(const char *name, const char *labels, const char *help);
/* Same, but rendered as a gauge (set it, don't only add). */
uint64_t *metric_gauge(const char *name, const char *labels, const char *help);
/* metric_counter with the labels formatted: one counter of a family per
 * value (`reason="%s"`), in a loop over a module's names. */
uint64_t *metric_counterf(const char *name, const char *help, const char *labelfmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A module's counters as one table, registered at its init: each `at`
 * gets its counter's (or gauge's) pointer, in table order. The one
 * registration helper every module uses (no file-local copies). */
struct metric_def {
	uint64_t **at;
	const char *name;
	const char *labels;         /* NULL: none */
	const char *help;           /* NULL after the first of a name */
	bool gauge;
};
void metrics_register(const struct metric_def *defs, size_t n);
/* The exposition text, malloc'd. */
char *metrics_render(void);
void metrics_reset(void);

#endif
