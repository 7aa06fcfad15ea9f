#include "core/errlist.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdlib.h>

void
errlist_add(struct errlist *e, const char *file, int line, const char *key,
    const char *fmt, ...)
{
	char *what, *msg;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (key && *key)
		msg = esprintf("%s:%d: %s: %s", file, line, key, what ? what : "?");
	else
		msg = esprintf("%s:%d: %s", file, line, what ? what : "?");
	free(what);
	e->msg = erealloc(e->msg, (e->n + 1) * sizeof *e->msg);
	e->msg[e->n++] = msg;
}

void
errlist_print(const struct errlist *e, FILE *f)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->msg[i]);
}

void
errlist_free(struct errlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = 0;
}
