#include "config/cfgscan.h"
#include "core/util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct scan {
	const char *t;
	size_t len, i;
	int line;
};

static bool
name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '_' || ch == '*';
}

/* Skips white space and comments. false on an unterminated comment. */
static bool
skip_blank(struct scan *s)
{
	while (s->i < s->len) {
		char ch = s->t[s->i];
		if (ch == '\n') {
			s->line++;
			s->i++;
		} else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f') {
			s->i++;
		} else if (ch == '#' || (ch == '/' && s->i + 1 < s->len && s->t[s->i + 1] == '/')) {
			while (s->i < s->len && s->t[s->i] != '\n')
				s->i++;
		} else if (ch == '/' && s->i + 1 < s->len && s->t[s->i + 1] == '*') {
			s->i += 2;
			for (;;) {
				if (s->i + 1 >= s->len)
					return false;
				if (s->t[s->i] == '*' && s->t[s->i + 1] == '/')
					break;
				if (s->t[s->i] == '\n')
					s->line++;
				s->i++;
			}
			s->i += 2;
		} else {
			return true;
		}
	}
	return true;
}

/* Past a string that starts at s->i. false if it does not end. */
static bool
skip_string(struct scan *s)
{
	for (s->i++; s->i < s->len; s->i++) {
		char ch = s->t[s->i];
		if (ch == '"') {
			s->i++;
			return true;
		}
		if (ch == '\\' && s->i + 1 < s->len)
			ch = s->t[++s->i];  /* escaped: a newline still counts */
		if (ch == '\n')
			s->line++;
	}
	return false;
}

/* One token or bracket at s->i (after skip_blank), keeping the depth;
 * false on what the scan gives up on. */
static bool
skip_token(struct scan *s, int *depth)
{
	char ch = s->t[s->i];

	switch (ch) {
	case '"':
		return skip_string(s);
	case '(': case '[': case '{':
		(*depth)++;
		s->i++;
		return true;
	case ')': case ']': case '}':
		if (--(*depth) < 0)
			return false;
		s->i++;
		return true;
	case '@':
		return false;           /* @include: not ours to follow */
	default:
		if (name_char(ch) || ch == '.' || ch == '+') {
			while (s->i < s->len && (name_char(s->t[s->i]) || s->t[s->i] == '.' ||
			    s->t[s->i] == '+'))
				s->i++;
		} else {
			s->i++;             /* = : ; , and whatever libconfig will judge */
		}
		return true;
	}
}

/* The elements of the list whose '(' is at s->i. */
static int
scan_elements(struct scan *s, struct cfg_list *l)
{
	size_t cap = 1024;
	int depth = 0;

	l->open = s->i++;
	l->start = emalloc(cap * sizeof *l->start);
	l->end = emalloc(cap * sizeof *l->end);
	l->line = emalloc(cap * sizeof *l->line);
	for (;;) {
		if (!skip_blank(s) || s->i >= s->len)
			return -1;
		char ch = s->t[s->i];
		if (ch == ')' || ch == ',')
			return -1;          /* empty list, empty element or trailing comma */
		if (l->n == cap) {
			cap *= 2;
			l->start = erealloc(l->start, cap * sizeof *l->start);
			l->end = erealloc(l->end, cap * sizeof *l->end);
			l->line = erealloc(l->line, cap * sizeof *l->line);
		}
		l->start[l->n] = s->i;
		l->line[l->n] = s->line;
		for (;;) {
			if (!skip_blank(s) || s->i >= s->len)
				return -1;
			ch = s->t[s->i];
			if (depth == 0 && (ch == ',' || ch == ')'))
				break;
			if (!skip_token(s, &depth))
				return -1;
		}
		l->end[l->n++] = s->i;
		s->i++;
		if (ch == ')') {
			l->close = s->i - 1;
			return 0;
		}
	}
}

int
cfgscan_top_list(const char *text, size_t len, const char *name, struct cfg_list *l)
{
	struct scan s = { text, len, 0, 1 };
	size_t nlen = strlen(name);
	int depth = 0, found = -1;

	memset(l, 0, sizeof *l);
	while (skip_blank(&s) && s.i < s.len) {
		size_t at = s.i;
		if (!skip_token(&s, &depth))
			break;
		if (depth != 0 || found == 0 || s.i - at != nlen || memcmp(text + at, name, nlen) != 0)
			continue;
		if (!skip_blank(&s) || s.i >= s.len || (text[s.i] != '=' && text[s.i] != ':'))
			continue;
		s.i++;
		if (!skip_blank(&s) || s.i >= s.len || text[s.i] != '(')
			break;
		if (scan_elements(&s, l) < 0)
			break;
		found = 0;
	}
	/* The whole text must scan, so that a second `name` or an @include
	 * after the list is seen. */
	if (found == 0 && s.i >= s.len && depth == 0)
		return 0;
	cfg_list_free(l);
	return -1;
}

void
cfg_list_free(struct cfg_list *l)
{
	free(l->start);
	free(l->end);
	free(l->line);
	memset(l, 0, sizeof *l);
}

char *
cfgscan_without_list(const char *text, size_t len, const struct cfg_list *l)
{
	char *out = emalloc(len + 1);
	size_t o = 0;

	memcpy(out, text, l->open + 1);
	o = l->open + 1;
	for (size_t i = l->open + 1; i < l->close; i++)
		if (text[i] == '\n')
			out[o++] = '\n';
	memcpy(out + o, text + l->close, len - l->close);
	o += len - l->close;
	out[o] = '\0';
	return out;
}
