/* The inventory's value readers (see inventory_parse.h): a setting read
 * as its type, range-checked, and any problem reported once as
 * "FILE:LINE: key: why" through bad(); the key paths those messages name;
 * plan9.ini settings and templates; the spellings names and paths may
 * take. */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "config/plan9ini.h"
#include "core/util.h"

#include <ctype.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
src_file(struct ctx *c, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;
	return f ? f : c->path;
}

int
src_line(const struct ctx *c, const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) + c->line_base : 0;
}

/* Joins a parent path and a key into "parent.key" for messages. Runs for
 * every value of every machine, so no printf: a 100 000-machine load
 * spent a tenth of its time formatting paths it never printed. A
 * truncated key in a message is still a useful message. */
void
cat_trunc(char *out, size_t cap, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (*at + n >= cap)
		n = cap - 1 - *at;
	memcpy(out + *at, s, n);
	*at += n;
	out[*at] = '\0';
}

void
utoa_dec(char out[24], unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

void
keypath(char *out, size_t cap, const char *parent, const char *key)
{
	size_t at = 0;

	out[0] = '\0';
	if (parent && *parent) {
		cat_trunc(out, cap, &at, parent);
		cat_trunc(out, cap, &at, ".");
	}
	cat_trunc(out, cap, &at, key);
}

/* keypath into a caller's buffer, returning it, for use inside calls. */
const char *
kpath(char *out, const char *parent, const char *key)
{
	keypath(out, 128, parent, key);
	return out;
}

void
check_keys(struct ctx *c, config_setting_t *group, const char *path,
    const char *const *allowed)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		bool ok = false;
		char kp[256];

		if (name == NULL)
			continue;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, name) == 0)
				ok = true;
		if (!ok) {
			keypath(kp, sizeof kp, path, name);
			bad(c, s, kp, "unknown setting");
		}
	}
}

const char *
get_str(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, bool required)
{
	config_setting_t *s = config_setting_get_member(group, key);
	char kp[256];

	keypath(kp, sizeof kp, path, key);
	if (s == NULL) {
		if (required)
			bad(c, group, kp, "missing (required)");
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		bad(c, s, kp, "must be a string in double quotes");
		return NULL;
	}
	const char *v = config_setting_get_string(s);
	if (*v == '\0') {
		bad(c, s, kp, "must not be empty");
		return NULL;
	}
	return v;
}

bool
get_int(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, long lo, long hi, int *out)
{
	config_setting_t *s = config_setting_get_member(group, key);
	char kp[256];
	long long v;

	if (s == NULL)
		return false;
	keypath(kp, sizeof kp, path, key);
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		bad(c, s, kp, "must be a whole number");
		return false;
	}
	if (v < lo || v > hi) {
		bad(c, s, kp, "%lld is out of range %ld..%ld", v, lo, hi);
		return false;
	}
	*out = (int)v;
	return true;
}

void
get_bool(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, bool *out)
{
	config_setting_t *s = config_setting_get_member(group, key);
	char kp[256];

	if (s == NULL)
		return;
	keypath(kp, sizeof kp, path, key);
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		bad(c, s, kp, "must be true or false");
		return;
	}
	*out = config_setting_get_bool(s) != 0;
}

bool
get_ip(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, bool required, uint32_t *out)
{
	const char *v = get_str(c, group, path, key, required);
	char kp[256];

	if (v == NULL)
		return false;
	keypath(kp, sizeof kp, path, key);
	if (!ip_parse(v, out)) {
		bad(c, config_setting_get_member(group, key), kp,
		    "\"%s\" is not an IPv4 address", v);
		return false;
	}
	return true;
}

/* An address or a list of addresses: "a.b.c.d" or ["a.b.c.d", ...]. */
int
get_ip_list(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, uint32_t *out, int max)
{
	config_setting_t *s = config_setting_get_member(group, key);
	char kp[256];
	int n = 0;

	if (s == NULL)
		return 0;
	keypath(kp, sizeof kp, path, key);
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		return get_ip(c, group, path, key, true, out) ? 1 : 0;
	}
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
		bad(c, s, kp, "must be an address or a list of addresses");
		return 0;
	}
	int len = config_setting_length(s);
	if (len > max) {
		bad(c, s, kp, "at most %d addresses", max);
		return 0;
	}
	for (int i = 0; i < len; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (v == NULL || !ip_parse(v, &out[n])) {
			bad(c, e, kp, "element %d is not an IPv4 address in quotes", i + 1);
			continue;
		}
		n++;
	}
	return n;
}

/* key = "FIRST-LAST" (a network's pool and pool6): the text, with its
 * first half copied into lo (cap bytes) and *hi at its second; NULL when
 * absent or not a range (reported). */
const char *
get_range(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, char *lo, size_t cap, const char **hi)
{
	const char *s = get_str(c, group, path, key, false);
	char kp[128], *dash;

	if (s == NULL)
		return NULL;
	if (str_copy(lo, s, cap) >= cap || (dash = strchr(lo, '-')) == NULL) {
		bad(c, config_setting_get_member(group, key), kpath(kp, path, key),
		    "\"%s\" is not a range FIRST-LAST", s);
		return NULL;
	}
	*dash = '\0';
	*hi = dash + 1;
	return s;
}

/* key = "full", "proxy" or "off" (a network's dhcp and dhcp6): *out
 * stays as it was when the key is absent or wrong (reported). Returns
 * whether the key is there. */
bool
get_dhcpmode(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, enum dhcpmode *out)
{
	const char *s = get_str(c, group, path, key, false);
	char kp[128];

	if (s == NULL)
		return false;
	if (strcmp(s, "full") == 0)
		*out = DHCP_FULL;
	else if (strcmp(s, "proxy") == 0)
		*out = DHCP_PROXY;
	else if (strcmp(s, "off") == 0)
		*out = DHCP_OFF;
	else
		bad(c, config_setting_get_member(group, key), kpath(kp, path, key),
		    "\"%s\" is not one of full, proxy, off", s);
	return true;
}

char *
abs_path(struct ctx *c, const char *p)
{
	if (p[0] == '/')
		return estrdup(p);
	return esprintf("%s/%s", c->inv->dir, p);
}

void
get_plan9ini(struct ctx *c, config_setting_t *parent, const char *path,
    struct kvlist *out)
{
	config_setting_t *g = config_setting_get_member(parent, "plan9ini");
	char kp[256], base[256];

	if (g == NULL)
		return;
	keypath(base, sizeof base, path, "plan9ini");
	if (!config_setting_is_group(g)) {
		bad(c, g, base, "must be a group { key = \"value\"; ... }");
		return;
	}
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s), *why;
		char num[32];
		const char *v;

		keypath(kp, sizeof kp, base, k);
		switch (config_setting_type(s)) {
		case CONFIG_TYPE_STRING:
			v = config_setting_get_string(s);
			break;
		case CONFIG_TYPE_INT:
			snprintf(num, sizeof num, "%d", config_setting_get_int(s));
			v = num;
			break;
		case CONFIG_TYPE_INT64:
			snprintf(num, sizeof num, "%lld", config_setting_get_int64(s));
			v = num;
			break;
		default:
			bad(c, s, kp, "must be a string or a number");
			continue;
		}
		if (!plan9ini_key_ok(k, &why) || !plan9ini_val_ok(v, &why)) {
			bad(c, s, kp, "%s", why);
			continue;
		}
		if (plan9ini_is_computed(k)) {
			bad(c, s, kp, "is computed by gridboot; remove it (see docs/inventory.md)");
			continue;
		}
		kv_set(out, k, v, src_line(c, s));
	}
}

/* A template file in plan9ini/: key=value lines with # or ; comments, the
 * same text plan9.ini itself is. Missing templates are fine. */
void
load_template(struct ctx *c, const char *name, struct kvlist *out)
{
	if (c->inv->grid.templates == NULL)
		return;
	char *file = esprintf("%s/%s.ini", c->inv->grid.templates, name);
	char *text = read_file(file, NULL, 64 * 1024);
	int lineno = 0;

	for (char *line = text, *next; line && *line; line = next) {
		const char *why;
		char *eq;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (*line == '#' || *line == ';' || *line == '\0')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			errlist_add(c->errs, file, lineno, line, "not a key=value line");
			continue;
		}
		*eq = '\0';
		if (!plan9ini_key_ok(line, &why) || !plan9ini_val_ok(eq + 1, &why))
			errlist_add(c->errs, file, lineno, line, "%s", why);
		else if (plan9ini_is_computed(line))
			errlist_add(c->errs, file, lineno, line,
			    "is computed by gridboot; remove it (see docs/inventory.md)");
		else
			kv_set(out, line, eq + 1, lineno);
	}
	free(text);
	free(file);
}

bool
name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 27)       /* Plan 9's ANAMELEN is 28 */
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

bool
path_ok(const char *p)
{
	if (p[0] == '/' || strstr(p, "..") != NULL)
		return false;
	for (; *p; p++)
		if (!isgraph((unsigned char)*p))
			return false;
	return true;
}
