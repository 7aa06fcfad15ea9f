/* A small registry of Prometheus counters and gauges. Modules register a
 * counter once and bump the returned pointer; /metrics renders them all.
 * Single-threaded like everything else, so plain integers suffice. */
#ifndef GRIDBOOT_METRICS_H
#define GRIDBOOT_METRICS_H

#include <stdint.h>

/* Returns a stable pointer to the counter (name, labels) registering it on
 * first use. labels is Prometheus label text without braces
 * (`type="discover"`) or NULL. help is used for the first of a name. */
uint64_t *metric_counter(const char *name, const char *labels, const char *help);
/* Same, but rendered as a gauge (set it, don't only add). */
uint64_t *metric_gauge(const char *name, const char *labels, const char *help);
/* The exposition text, malloc'd. */
char *metrics_render(void);
void metrics_reset(void);

#endif
