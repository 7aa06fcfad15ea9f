#include "core/metrics.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXMETRICS 512

struct metric {
	char *name;
	char *labels;
	char *help;
	bool gauge;
	uint64_t value;
};

/* Process-wide by nature: /metrics is this process's exposition, so every
 * module registers into the one registry; registration happens at init,
 * on the loop thread. */
static struct metric *metrics[MAXMETRICS];
static int nmetrics;
static uint64_t overflow;   /* where registrations past the cap go */

static uint64_t *
lookup(const char *name, const char *labels, const char *help, bool gauge)
{
	for (int i = 0; i < nmetrics; i++)
		if (strcmp(metrics[i]->name, name) == 0 &&
		    strcmp(metrics[i]->labels, labels ? labels : "") == 0)
			return &metrics[i]->value;
	if (nmetrics == MAXMETRICS)
		return &overflow;
	struct metric *m = ecalloc(1, sizeof *m);
	m->name = estrdup(name);
	m->labels = estrdup(labels ? labels : "");
	m->help = estrdup(help ? help : "");
	m->gauge = gauge;
	metrics[nmetrics++] = m;
	return &m->value;
}

uint64_t *
metric_counter(const char *name, const char *labels, const char *help)
{
	return lookup(name, labels, help, false);
}

uint64_t *
metric_gauge(const char *name, const char *labels, const char *help)
{
	return lookup(name, labels, help, true);
}

uint64_t *
metric_counterf(const char *name, const char *help, const char *labelfmt, ...)
{
	char labels[256];
	va_list ap;

	va_start(ap, labelfmt);
	vsnprintf(labels, sizeof labels, labelfmt, ap);
	va_end(ap);
	return lookup(name, labels, help, false);
}

void
metrics_register(const struct metric_def *defs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		*defs[i].at = lookup(defs[i].name, defs[i].labels, defs[i].help, defs[i].gauge);
}

char *
metrics_render(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return estrdup("");
	for (int i = 0; i < nmetrics; i++) {
		struct metric *m = metrics[i];
		bool first = true;
		for (int j = 0; j < i; j++)
			if (strcmp(metrics[j]->name, m->name) == 0)
				first = false;
		if (first) {
			fprintf(f, "# HELP %s %s\n", m->name, m->help);
			fprintf(f, "# TYPE %s %s\n", m->name, m->gauge ? "gauge" : "counter");
		}
		/* Keep a name's series together: print the rest of them now. */
		if (!first)
			continue;
		for (int j = i; j < nmetrics; j++) {
			if (strcmp(metrics[j]->name, m->name) != 0)
				continue;
			if (*metrics[j]->labels)
				fprintf(f, "%s{%s} %llu\n", m->name, metrics[j]->labels,
				    (unsigned long long)metrics[j]->value);
			else
				fprintf(f, "%s %llu\n", m->name, (unsigned long long)metrics[j]->value);
		}
	}
	fclose(f);
	return buf;
}

void
metrics_reset(void)
{
	for (int i = 0; i < nmetrics; i++) {
		free(metrics[i]->name);
		free(metrics[i]->labels);
		free(metrics[i]->help);
		free(metrics[i]);
	}
	nmetrics = 0;
}
