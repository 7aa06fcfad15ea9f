/* A light scan of libconfig text that finds one top-level list and where
 * each of its elements starts and ends, so that a very long list (the
 * machines of a datacenter) can be handed to libconfig a slice at a time:
 * libconfig keeps a whole parsed tree in memory, about 1 KB per machine,
 * and building it cold costs more than everything else a load does.
 *
 * The scan knows only what it must to stay in step with libconfig's lexer
 * (strings and their escapes, the three comment forms, brackets); anything
 * it is not sure of (an @include, an empty element, a trailing comma)
 * makes it give up, and the caller parses the whole file as before. A
 * slice libconfig rejects must also send the caller back to the whole
 * file, so that syntax errors read exactly as libconfig words them. */
#ifndef GRIDBOOT_CFGSCAN_H
#define GRIDBOOT_CFGSCAN_H

#include <stddef.h>

struct cfg_list {
	size_t open, close;         /* offsets of the list's '(' and ')' */
	size_t n;                   /* its elements */
	size_t *start, *end;        /* element i is text[start[i], end[i]) */
	int *line;                  /* the line element i starts on (1-based) */
};

/* Finds `name = ( ... )` (or `name : (...)`) at the top level of text.
 * Returns 0 and fills l (free with cfg_list_free), or -1: not there, not
 * a list, empty, or text the scan does not vouch for. */
int cfgscan_top_list(const char *text, size_t len, const char *name, struct cfg_list *l);
void cfg_list_free(struct cfg_list *l);

/* text with the list's contents dropped except their newlines, so that
 * every other setting keeps its line number: malloc'd, NUL-terminated. */
char *cfgscan_without_list(const char *text, size_t len, const struct cfg_list *l);

#endif
