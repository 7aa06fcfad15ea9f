/* Inventory parsing and validation.
 *
 * The libconfig tree is walked once; every value is type-checked, range-
 * checked and cross-checked, and every problem becomes one
 * "FILE:LINE: key: what" line. Only a file with no problem at all yields an
 * inventory. Unknown keys are errors too: a typo must not silently drop a
 * setting from a machine's boot. */
#include "config/inventory.h"
#include "config/cfgscan.h"
#include "config/plan9ini.h"
#include "core/hash.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <pwd.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct ctx {
	struct errlist *errs;
	const char *path;
	struct inventory *inv;
	size_t nerrs_at_start;
	bool bad_network;       /* a subnet failed: don't blame machines for it */
	int line_base;          /* added to libconfig's lines (a slice of the file) */
	const char *text;       /* the file, when machines are read in slices */
	const struct cfg_list *slices;
	bool resliced;          /* a slice did not parse: read the whole file */
};

static const char *
src_file(struct ctx *c, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;
	return f ? f : c->path;
}

static int
src_line(const struct ctx *c, const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) + c->line_base : 0;
}

#define bad(c, s, key, ...) \
	errlist_add((c)->errs, src_file((c), (s)), src_line((c), (s)), (key), __VA_ARGS__)

/* Joins a parent path and a key into "parent.key" for messages. Runs for
 * every value of every machine, so no printf: a 100 000-machine load
 * spent a tenth of its time formatting paths it never printed. A
 * truncated key in a message is still a useful message. */
static void
cat_trunc(char *out, size_t cap, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (*at + n >= cap)
		n = cap - 1 - *at;
	memcpy(out + *at, s, n);
	*at += n;
	out[*at] = '\0';
}

static void
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

static void
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
static const char *
kpath(char *out, const char *parent, const char *key)
{
	keypath(out, 128, parent, key);
	return out;
}

static void
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

static const char *
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

static bool
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

static void
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

static bool
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
static int
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

static char *
abs_path(struct ctx *c, const char *p)
{
	if (p[0] == '/')
		return estrdup(p);
	return esprintf("%s/%s", c->inv->dir, p);
}

static void
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
static void
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

static bool get_ip6(struct ctx *c, config_setting_t *group, const char *path,
    const char *key, uint8_t out[16]);

static const char *const grid_keys[] = {
	"name", "authdom", "server", "files", "templates", "state", "http_port",
	"tftp_port", "dhcp_port", "proxy_port", "fs", "auth", "plan9ini",
	"loaders", "api_token", "unknown", "interfaces", "user",
	"web", "ipxe_scripts", "http_per_source",  /* HTTP module */
	"p9_port", "p9_auth", "p9_nonone", "p9_grid_open",  /* 9P module */
	"auth_port", "rcpu_port", "auth_des", "authid", "keys", "speaksfor",
	"serve_nvram", "p9any",     /* auth module */
	"server6",                  /* DHCPv6 module */
	NULL,
};

static const char *const loader_keys[] = {
	"ipxe_bios", "ipxe_efi_x64", "ipxe_efi_arm64", "plan9_bios",
	"plan9_efi_x64", "plan9_efi_arm64", "uboot_arm64", NULL,
};

static bool
name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 27)       /* Plan 9's ANAMELEN is 28 */
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

/* grid.speaksfor = ( { host = "bootes"; users = [ "*", "!adm" ]; }, ... ); */
static void
parse_speaksfor(struct ctx *c, config_setting_t *g, struct grid *gr)
{
	config_setting_t *l = config_setting_get_member(g, "speaksfor");
	static const char *const keys[] = { "host", "users", NULL };

	if (l == NULL)
		return;
	if (!config_setting_is_list(l)) {
		bad(c, l, "grid.speaksfor", "must be a list ( { host = \"bootes\"; users = [ \"*\" ]; } )");
		return;
	}
	int n = config_setting_length(l);
	gr->speaksfor = ecalloc((size_t)n + 1, sizeof *gr->speaksfor);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		struct speaksfor *sf = &gr->speaksfor[gr->nspeaksfor];
		char ek[64], uk[80];
		snprintf(ek, sizeof ek, "grid.speaksfor[%d]", i);
		snprintf(uk, sizeof uk, "%s.users", ek);
		if (!config_setting_is_group(e)) {
			bad(c, e, ek, "must be a group { host = ...; users = [ ... ]; }");
			continue;
		}
		check_keys(c, e, ek, keys);
		const char *host = get_str(c, e, ek, "host", true);
		if (host && !name_ok(host)) {
			bad(c, config_setting_get_member(e, "host"), ek,
			    "host \"%s\" is not a Plan 9 user name", host);
			host = NULL;
		}
		for (int j = 0; host && j < gr->nspeaksfor; j++)
			if (strcmp(gr->speaksfor[j].host, host) == 0) {
				bad(c, e, ek, "host \"%s\" already has its rule on line %d",
				    host, gr->speaksfor[j].line);
				host = NULL;
			}
		config_setting_t *u = config_setting_get_member(e, "users");
		if (u == NULL) {
			bad(c, e, uk, "missing (required)");
			continue;
		}
		if (!config_setting_is_array(u) && !config_setting_is_list(u)) {
			bad(c, u, uk, "must be a list [ \"*\", \"glenda\", \"!adm\" ]");
			continue;
		}
		int nu = config_setting_length(u);
		char **users = ecalloc((size_t)nu + 1, sizeof *users);
		int k = 0;
		for (int j = 0; j < nu; j++) {
			const char *v = config_setting_get_string_elem(u, (unsigned)j);
			if (v == NULL || (strcmp(v, "*") != 0 && !name_ok(v[0] == '!' ? v + 1 : v)))
				bad(c, u, uk, "element %d must be \"*\", a user name or \"!name\"", j + 1);
			else
				users[k++] = estrdup(v);
		}
		if (host == NULL || k < nu) {
			for (int j = 0; j < k; j++)
				free(users[j]);
			free(users);
			continue;
		}
		sf->host = estrdup(host);
		sf->users = users;
		sf->nusers = k;
		sf->line = src_line(c, e);
		gr->nspeaksfor++;
	}
}

/* grid.p9any = [ "dp9ik", "p9sk1" ]: the protocols p9any offers, in
 * order; by default dp9ik, and p9sk1 after it when grid.auth_des is on. */
static void
parse_p9any(struct ctx *c, config_setting_t *g, struct grid *gr)
{
	config_setting_t *l = config_setting_get_member(g, "p9any");
	char buf[32] = "";
	int n;

	if (l == NULL) {
		gr->p9any = estrdup(gr->auth_des ? "dp9ik p9sk1" : "dp9ik");
		return;
	}
	n = config_setting_is_array(l) || config_setting_is_list(l) ? config_setting_length(l) : -1;
	if (n < 1 || n > 2) {
		bad(c, l, "grid.p9any", "must list one or two of \"dp9ik\", \"p9sk1\"");
		gr->p9any = estrdup("dp9ik");
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(l, i);
		if (v == NULL || (strcmp(v, "dp9ik") != 0 && strcmp(v, "p9sk1") != 0)) {
			bad(c, l, "grid.p9any", "element %d is not \"dp9ik\" or \"p9sk1\"", i + 1);
			continue;
		}
		if (strstr(buf, v)) {
			bad(c, l, "grid.p9any", "%s is listed twice", v);
			continue;
		}
		if (strcmp(v, "p9sk1") == 0 && !gr->auth_des)
			bad(c, l, "grid.p9any", "p9sk1 needs grid.auth_des = true (DES tickets and keys)");
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", buf[0] ? " " : "", v);
	}
	gr->p9any = estrdup(buf[0] ? buf : "dp9ik");
}

/* The auth module's settings (docs/auth.md). */
static void
parse_grid_auth(struct ctx *c, config_setting_t *g, struct grid *gr)
{
	const char *s;

	get_int(c, g, "grid", "auth_port", 1, 65535, &gr->auth_port);
	get_int(c, g, "grid", "rcpu_port", 1, 65535, &gr->rcpu_port);
	get_bool(c, g, "grid", "auth_des", &gr->auth_des);
	get_bool(c, g, "grid", "p9_auth", &gr->p9_auth);
	get_bool(c, g, "grid", "p9_nonone", &gr->p9_nonone);
	get_bool(c, g, "grid", "p9_grid_open", &gr->p9_grid_open);
	get_bool(c, g, "grid", "serve_nvram", &gr->serve_nvram);
	s = get_str(c, g, "grid", "authid", false);
	if (s && !name_ok(s))
		bad(c, config_setting_get_member(g, "authid"), "grid.authid",
		    "\"%s\" is not a Plan 9 user name (letters, digits, '-', '_' or '.', at most 27)", s);
	gr->authid = estrdup(s && name_ok(s) ? s : "bootes");
	if (gr->authdom && strlen(gr->authdom) >= 48)
		bad(c, config_setting_get_member(g, "authdom") ? config_setting_get_member(g, "authdom")
		    : config_setting_get_member(g, "name"), "grid.authdom",
		    "\"%s\" is longer than Plan 9's 47 bytes", gr->authdom);
	if ((s = get_str(c, g, "grid", "keys", false)) != NULL)
		gr->keys = abs_path(c, s);
	else if (gr->state)
		gr->keys = esprintf("%s/keys", gr->state);
	parse_speaksfor(c, g, gr);
	parse_p9any(c, g, gr);
}

static void
parse_grid(struct ctx *c, config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "grid");
	struct grid *gr = &c->inv->grid;
	const char *s;

	gr->http_port = 80;
	gr->tftp_port = 69;
	gr->dhcp_port = 67;
	gr->proxy_port = 4011;
	gr->p9_port = 564;
	gr->http_per_source = 32;
	gr->auth_port = 567;
	gr->rcpu_port = 17019;
	if (g == NULL || !config_setting_is_group(g)) {
		errlist_add(c->errs, c->path, g ? src_line(c, g) : 1, "grid",
		    "missing: the file needs grid = { name = ...; server = ...; };");
		return;
	}
	check_keys(c, g, "grid", grid_keys);
	if ((s = get_str(c, g, "grid", "name", true)) != NULL) {
		if (!name_ok(s))
			bad(c, config_setting_get_member(g, "name"), "grid.name",
			    "\"%s\": use letters, digits, '-', '_' or '.', at most 27", s);
		gr->name = estrdup(s);
	}
	if ((s = get_str(c, g, "grid", "authdom", false)) != NULL)
		gr->authdom = estrdup(s);
	else if (gr->name)
		gr->authdom = estrdup(gr->name);
	get_ip(c, g, "grid", "server", true, &gr->server);
	get_ip6(c, g, "grid", "server6", gr->server6);
	s = get_str(c, g, "grid", "files", false);
	gr->files = abs_path(c, s ? s : "kernels");
	if ((s = get_str(c, g, "grid", "templates", false)) != NULL)
		gr->templates = abs_path(c, s);
	s = get_str(c, g, "grid", "state", false);
	gr->state = abs_path(c, s ? s : "/var/lib/gridboot");
	get_int(c, g, "grid", "http_port", 1, 65535, &gr->http_port);
	get_int(c, g, "grid", "tftp_port", 1, 65535, &gr->tftp_port);
	get_int(c, g, "grid", "dhcp_port", 1, 65535, &gr->dhcp_port);
	get_int(c, g, "grid", "proxy_port", 1, 65535, &gr->proxy_port);
	get_int(c, g, "grid", "p9_port", 1, 65535, &gr->p9_port);
	get_int(c, g, "grid", "http_per_source", 1, 65536, &gr->http_per_source);
	parse_grid_auth(c, g, gr);
	gr->nfs = get_ip_list(c, g, "grid", "fs", gr->fs, 2);
	gr->nauth = get_ip_list(c, g, "grid", "auth", gr->auth, 2);
	if (gr->nfs == 0 && config_setting_get_member(g, "fs") == NULL && gr->server) {
		gr->fs[0] = gr->server;
		gr->nfs = 1;
	}
	if (gr->nauth == 0 && config_setting_get_member(g, "auth") == NULL && gr->server) {
		gr->auth[0] = gr->server;
		gr->nauth = 1;
	}
	if ((s = get_str(c, g, "grid", "api_token", false)) != NULL) {
		if (strlen(s) < 16)
			bad(c, config_setting_get_member(g, "api_token"), "grid.api_token",
			    "too short: use at least 16 characters");
		gr->api_token = estrdup(s);
	}
	if ((s = get_str(c, g, "grid", "user", false)) != NULL) {
		errno = 0;
		if (getpwnam(s) == NULL)
			bad(c, config_setting_get_member(g, "user"), "grid.user",
			    "\"%s\": %s", s, errno ? strerror(errno) : "no such user");
		gr->user = estrdup(s);
		gr->user_line = src_line(c, config_setting_get_member(g, "user"));
	}
	load_template(c, "default", &gr->plan9ini);
	get_plan9ini(c, g, "grid", &gr->plan9ini);
	/* HTTP module: the web page and the iPXE templates (docs/http.md). */
	if ((s = get_str(c, g, "grid", "web", false)) != NULL)
		gr->web = abs_path(c, s);
	if ((s = get_str(c, g, "grid", "ipxe_scripts", false)) != NULL) {
		gr->ipxe_scripts = abs_path(c, s);   /* read by ipxe_check() */
	}

	config_setting_t *ld = config_setting_get_member(g, "loaders");
	if (ld != NULL) {
		if (!config_setting_is_group(ld))
			bad(c, ld, "grid.loaders", "must be a group");
		else {
			check_keys(c, ld, "grid.loaders", loader_keys);
			for (const char *const *k = loader_keys; *k; k++)
				if ((s = get_str(c, ld, "grid.loaders", *k, false)) != NULL)
					kv_set(&gr->loaders, *k, s, src_line(c, ld));
		}
	}
	config_setting_t *ifs = config_setting_get_member(g, "interfaces");
	if (ifs != NULL) {
		if (!config_setting_is_array(ifs) && !config_setting_is_list(ifs))
			bad(c, ifs, "grid.interfaces", "must be a list of names [\"eth0\", ...]");
		else {
			int n = config_setting_length(ifs);
			gr->interfaces = ecalloc((size_t)n + 1, sizeof *gr->interfaces);
			for (int i = 0; i < n; i++) {
				const char *v = config_setting_get_string_elem(ifs, (unsigned)i);
				if (v == NULL || *v == '\0' || strlen(v) >= 16)
					bad(c, ifs, "grid.interfaces", "element %d is not an interface name", i + 1);
				else
					gr->interfaces[gr->ninterfaces++] = estrdup(v);
			}
		}
	}
}

/* Unknown-client policy is resolved after roles are known. */
static void
resolve_unknown(struct ctx *c, config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "grid");
	const char *s;

	if (g == NULL || (s = get_str(c, g, "grid", "unknown", false)) == NULL)
		return;
	if (strcmp(s, "none") == 0)
		return;
	c->inv->grid.unknown = inv_role(c->inv, s);
	if (c->inv->grid.unknown == NULL)
		bad(c, config_setting_get_member(g, "unknown"), "grid.unknown",
		    "\"%s\" is neither \"none\" nor a role", s);
}

static const char *const network_keys[] = {
	"subnet", "router", "dns", "pool", "lease", "dhcp", "interface", "ra",
	"subnet6", "pool6", "dns6", "dhcp6", NULL,
};

/* ---- IPv6 (docs/dhcp6.md) ---- */

static bool
get_ip6(struct ctx *c, config_setting_t *group, const char *path, const char *key,
    uint8_t out[16])
{
	const char *v = get_str(c, group, path, key, false);
	char kp[256];

	if (v == NULL)
		return false;
	if (!ip6_parse(v, out)) {
		keypath(kp, sizeof kp, path, key);
		bad(c, config_setting_get_member(group, key), kp, "\"%s\" is not an IPv6 address", v);
		return false;
	}
	return true;
}

static void
parse_pool6(struct ctx *c, config_setting_t *n, const char *path, struct network *net)
{
	const char *s = get_str(c, n, path, "pool6", false);
	config_setting_t *ps = config_setting_get_member(n, "pool6");
	char kp[128], lo[96], *dash;

	if (s == NULL)
		return;
	keypath(kp, sizeof kp, path, "pool6");
	if (str_copy(lo, s, sizeof lo) >= sizeof lo || (dash = strchr(lo, '-')) == NULL) {
		bad(c, ps, kp, "\"%s\" is not a range FIRST-LAST", s);
		return;
	}
	*dash = '\0';
	if (!ip6_parse(lo, net->pool6_lo) || !ip6_parse(dash + 1, net->pool6_hi))
		bad(c, ps, kp, "\"%s\" is not a range of IPv6 addresses FIRST-LAST", s);
	else if (memcmp(net->pool6_lo, net->pool6_hi, 16) > 0)
		bad(c, ps, kp, "\"%s\": the first address is after the last", s);
	else if (!net->has_subnet6)
		bad(c, ps, kp, "needs subnet6");
	else if (!ip6_in(net->pool6_lo, net->subnet6, net->prefix6) ||
	    !ip6_in(net->pool6_hi, net->subnet6, net->prefix6))
		bad(c, ps, kp, "\"%s\" is not inside subnet6", s);
	else if (memcmp(net->pool6_lo, net->subnet6, 16) == 0)
		bad(c, ps, kp, "\"%s\" includes the subnet-router anycast address", s);
	/* The server hands out addresses by walking the low 32 bits: a wider
	 * pool would only cost memory an attacker could claim. */
	else if (memcmp(net->pool6_lo, net->pool6_hi, 12) != 0)
		bad(c, ps, kp, "\"%s\": at most 2^32 addresses (the first 96 bits must match)", s);
	else
		return;
	memset(net->pool6_lo, 0, 16);
	memset(net->pool6_hi, 0, 16);
}

static void
parse_network6(struct ctx *c, config_setting_t *n, const char *path, struct network *net)
{
	config_setting_t *d;
	const char *s;
	char kp[128];

	if ((s = get_str(c, n, path, "subnet6", false)) != NULL) {
		net->line6 = src_line(c, config_setting_get_member(n, "subnet6"));
		if (!cidr6_parse(s, net->subnet6, &net->prefix6) || net->prefix6 < 16 ||
		    net->prefix6 > 120)
			bad(c, config_setting_get_member(n, "subnet6"), kpath(kp, path, "subnet6"),
			    "\"%s\" is not an IPv6 network with a prefix length 16..120, like fd99::/64", s);
		else
			net->has_subnet6 = true;
	}
	/* A bad subnet6 was reported; a pool6 inside it cannot be judged. */
	if (net->has_subnet6 || s == NULL)
		parse_pool6(c, n, path, net);
	if ((d = config_setting_get_member(n, "dns6")) != NULL) {
		keypath(kp, sizeof kp, path, "dns6");
		if (config_setting_type(d) == CONFIG_TYPE_STRING)
			net->ndns6 = get_ip6(c, n, path, "dns6", net->dns6[0]) ? 1 : 0;
		else if (!config_setting_is_aggregate(d) || config_setting_is_group(d) ||
		    config_setting_length(d) > MAXADDRS)
			bad(c, d, kp, "must be an address or a list of at most %d", MAXADDRS);
		else
			for (int i = 0; i < config_setting_length(d); i++) {
				const char *v = config_setting_get_string_elem(d, i);
				if (v == NULL || !ip6_parse(v, net->dns6[net->ndns6]))
					bad(c, d, kp, "element %d is not an IPv6 address in quotes", i + 1);
				else
					net->ndns6++;
			}
	}
	net->dhcp6 = net->has_subnet6 ? DHCP_FULL : DHCP_OFF;
	if ((s = get_str(c, n, path, "dhcp6", false)) != NULL) {
		config_setting_t *at = config_setting_get_member(n, "dhcp6");
		if (strcmp(s, "full") == 0)
			net->dhcp6 = DHCP_FULL;
		else if (strcmp(s, "proxy") == 0)
			net->dhcp6 = DHCP_PROXY;
		else if (strcmp(s, "off") == 0)
			net->dhcp6 = DHCP_OFF;
		else
			bad(c, at, kpath(kp, path, "dhcp6"), "\"%s\" is not one of full, proxy, off", s);
		if (net->dhcp6 != DHCP_OFF && !net->has_subnet6)
			bad(c, at, kpath(kp, path, "dhcp6"), "needs subnet6");
	}
	if (net->dhcp6 == DHCP_PROXY && !ip6_zero(net->pool6_lo))
		bad(c, config_setting_get_member(n, "pool6"), kpath(kp, path, "pool6"),
		    "a proxy network hands out no addresses (dhcp6 = \"proxy\")");
}

/* Two subnet6s overlap when the shorter prefix holds the other's network. */
static void
check_networks6(struct ctx *c, config_setting_t *l)
{
	struct inventory *inv = c->inv;

	for (size_t i = 0; i < inv->nnetworks; i++)
		for (size_t j = 0; j < i; j++) {
			struct network *a = &inv->networks[i], *b = &inv->networks[j];
			int p = MIN(a->prefix6, b->prefix6);
			if (a->has_subnet6 && b->has_subnet6 && ip6_in(a->subnet6, b->subnet6, p)) {
				char kp[64];
				snprintf(kp, sizeof kp, "networks[%zu].subnet6", i);
				bad(c, config_setting_get_elem(l, (unsigned)i), kp,
				    "overlaps the subnet6 on line %d", b->line6);
			}
		}
}

static void
parse_machine6(struct ctx *c, config_setting_t *m, const char *path, struct machine *ma)
{
	const char *s;
	char kp[128];
	int n;

	uint8_t ip6[16], duid[DUID_MAX];
	size_t duid_len = 0;
	bool has_ip6 = get_ip6(c, m, path, "ip6", ip6);

	if ((s = get_str(c, m, path, "duid", false)) != NULL) {
		keypath(kp, sizeof kp, path, "duid");
		if ((n = hex_bytes_parse(s, duid, sizeof duid)) < 3)
			bad(c, config_setting_get_member(m, "duid"), kp,
			    "\"%s\" is not a DUID in hex like 00:03:00:01:52:54:00:00:00:11", s);
		else
			duid_len = (size_t)n;
	}
	if (!has_ip6 && duid_len == 0)
		return;
	ma->v6 = ecalloc(1, sizeof *ma->v6 + duid_len);
	ma->v6->has_ip6 = has_ip6;
	if (has_ip6)
		memcpy(ma->v6->ip6, ip6, 16);
	ma->v6->duid_len = (uint8_t)duid_len;
	memcpy(ma->v6->duid, duid, duid_len);
}

static void
check_machine_address6(struct ctx *c, config_setting_t *m, struct machine *ma)
{
	char kp[96], ip[46];
	struct machine6 *v6 = ma->v6;

	if (v6 == NULL || !v6->has_ip6 || ma->name == NULL)
		return;
	snprintf(kp, sizeof kp, "machines[%s].ip6", ma->name);
	ip6_format(v6->ip6, ip);
	config_setting_t *at = config_setting_get_member(m, "ip6");
	if ((v6->network6 = inv_network_for6(c->inv, v6->ip6)) == NULL) {
		if (!c->bad_network)
			bad(c, at, kp, "%s is not inside any network's subnet6", ip);
		return;
	}
	struct network *n = v6->network6;
	if (!ip6_zero(n->pool6_lo) && memcmp(v6->ip6, n->pool6_lo, 16) >= 0 &&
	    memcmp(v6->ip6, n->pool6_hi, 16) <= 0)
		bad(c, at, kp, "%s is inside the pool6 of the network on line %d", ip, n->line);
	else if (memcmp(v6->ip6, n->subnet6, 16) == 0)
		bad(c, at, kp, "%s is the subnet-router anycast address", ip);
	else if (memcmp(v6->ip6, c->inv->grid.server6, 16) == 0)
		bad(c, at, kp, "%s is the server's address", ip);
}

struct network *
inv_network_for6(const struct inventory *inv, const uint8_t ip6[16])
{
	for (size_t i = 0; i < inv->nnetworks; i++) {
		struct network *n = &inv->networks[i];
		if (n->has_subnet6 && ip6_in(ip6, n->subnet6, n->prefix6))
			return n;
	}
	return NULL;
}

static void
parse_pool(struct ctx *c, config_setting_t *n, const char *path, struct network *net)
{
	const char *s = get_str(c, n, path, "pool", false);
	config_setting_t *ps = config_setting_get_member(n, "pool");
	char kp[128], lo[32], *dash;

	if (s == NULL)
		return;
	keypath(kp, sizeof kp, path, "pool");
	if (str_copy(lo, s, sizeof lo) >= sizeof lo || (dash = strchr(lo, '-')) == NULL) {
		bad(c, ps, kp, "\"%s\" is not a range FIRST-LAST", s);
		return;
	}
	*dash = '\0';
	if (!ip_parse(lo, &net->pool_lo) || !ip_parse(dash + 1, &net->pool_hi)) {
		bad(c, ps, kp, "\"%s\" is not a range of IPv4 addresses FIRST-LAST", s);
		net->pool_lo = net->pool_hi = 0;
		return;
	}
	if (net->pool_lo > net->pool_hi) {
		bad(c, ps, kp, "\"%s\": the first address is after the last", s);
		net->pool_lo = net->pool_hi = 0;
		return;
	}
	if ((net->pool_lo & net->mask) != net->subnet || (net->pool_hi & net->mask) != net->subnet) {
		bad(c, ps, kp, "\"%s\" is not inside the subnet", s);
		net->pool_lo = net->pool_hi = 0;
		return;
	}
	uint32_t bcast = net->subnet | ~net->mask;
	if (net->pool_lo == net->subnet || net->pool_hi == bcast) {
		bad(c, ps, kp, "\"%s\" includes the network or broadcast address", s);
		net->pool_lo = net->pool_hi = 0;
	}
}

static void
parse_network(struct ctx *c, config_setting_t *n, int idx, struct network *net)
{
	char path[64];
	const char *s;
	int lease = 3600;
	char kp[128];

	snprintf(path, sizeof path, "networks[%d]", idx);
	net->line = src_line(c, n);
	if (!config_setting_is_group(n)) {
		bad(c, n, path, "must be a group { subnet = ...; }");
		return;
	}
	check_keys(c, n, path, network_keys);
	/* An IPv6-only network (subnet6, no subnet) is valid: DHCPv4 and
	 * ndb leave it alone (mask stays 0, dhcp off). */
	bool v6only = config_setting_get_member(n, "subnet") == NULL &&
	    config_setting_get_member(n, "subnet6") != NULL;
	if (!v6only && config_setting_get_member(n, "subnet") == NULL)
		bad(c, n, kpath(kp, path, "subnet"), "missing (required; subnet6 alone makes an IPv6-only network)");
	if ((s = get_str(c, n, path, "subnet", false)) != NULL) {
		if (!cidr_parse(s, &net->subnet, &net->prefix) || net->prefix < 8 || net->prefix > 30) {
			c->bad_network = true;
			bad(c, config_setting_get_member(n, "subnet"), kpath(kp, path, "subnet"),
			    "\"%s\" is not a network address with a prefix length 8..30, like 10.0.0.0/24", s);
		} else
			net->mask = prefix_mask(net->prefix);
	}
	if (get_ip(c, n, path, "router", false, &net->router) && net->mask &&
	    (net->router & net->mask) != net->subnet)
		bad(c, config_setting_get_member(n, "router"), kpath(kp, path, "router"),
		    "is not inside the subnet");
	net->ndns = get_ip_list(c, n, path, "dns", net->dns, MAXADDRS);
	if (net->mask)
		parse_pool(c, n, path, net);
	get_int(c, n, path, "lease", 60, 365 * 86400, &lease);
	net->lease = (uint32_t)lease;
	net->dhcp = DHCP_FULL;
	if ((s = get_str(c, n, path, "dhcp", false)) != NULL) {
		if (strcmp(s, "full") == 0)
			net->dhcp = DHCP_FULL;
		else if (strcmp(s, "proxy") == 0)
			net->dhcp = DHCP_PROXY;
		else if (strcmp(s, "off") == 0)
			net->dhcp = DHCP_OFF;
		else
			bad(c, config_setting_get_member(n, "dhcp"), kpath(kp, path, "dhcp"),
			    "\"%s\" is not one of full, proxy, off", s);
	}
	if ((s = get_str(c, n, path, "interface", false)) != NULL)
		net->interface = estrdup(s);
	net->ra = RA_AUTO;
	if ((s = get_str(c, n, path, "ra", false)) != NULL) {
		if (strcmp(s, "auto") == 0)
			net->ra = RA_AUTO;
		else if (strcmp(s, "on") == 0)
			net->ra = RA_ON;
		else if (strcmp(s, "off") == 0)
			net->ra = RA_OFF;
		else
			bad(c, config_setting_get_member(n, "ra"), kpath(kp, path, "ra"),
			    "\"%s\" is not one of auto, on, off", s);
	}
	parse_network6(c, n, path, net);
	if (v6only) {
		static const char *const v4keys[] = { "router", "dns", "pool", "dhcp", NULL };
		for (int i = 0; v4keys[i]; i++)
			if (config_setting_get_member(n, v4keys[i]) != NULL)
				bad(c, config_setting_get_member(n, v4keys[i]), kpath(kp, path, v4keys[i]),
				    "needs subnet (this network is IPv6 only)");
		net->dhcp = DHCP_OFF;
	}
}

static void
parse_networks(struct ctx *c, config_setting_t *root)
{
	config_setting_t *l = config_setting_get_member(root, "networks");
	struct inventory *inv = c->inv;

	if (l == NULL)
		return;
	if (!config_setting_is_list(l)) {
		bad(c, l, "networks", "must be a list ( { ... }, { ... } )");
		return;
	}
	inv->nnetworks = (size_t)config_setting_length(l);
	inv->networks = ecalloc(inv->nnetworks, sizeof *inv->networks);
	for (size_t i = 0; i < inv->nnetworks; i++)
		parse_network(c, config_setting_get_elem(l, (unsigned)i), (int)i, &inv->networks[i]);
	for (size_t i = 0; i < inv->nnetworks; i++)
		for (size_t j = 0; j < i; j++) {
			struct network *a = &inv->networks[i], *b = &inv->networks[j];
			uint32_t m = a->mask & b->mask;
			if (a->mask && b->mask && (a->subnet & m) == (b->subnet & m))
			{
				char kp[64];
				snprintf(kp, sizeof kp, "networks[%zu].subnet", i);
				bad(c, config_setting_get_elem(l, (unsigned)i), kp,
				    "overlaps the network on line %d", b->line);
			}
		}
	check_networks6(c, l);
}

bool
arch_parse(const char *s, enum arch *a)
{
	if (s == NULL)
		return false;
	if (strcmp(s, "amd64") == 0)
		*a = ARCH_AMD64;
	else if (strcmp(s, "386") == 0)
		*a = ARCH_386;
	else if (strcmp(s, "arm64") == 0)
		*a = ARCH_ARM64;
	else
		return false;
	return true;
}

bool
arch_from_option93(int code, enum arch *arch, enum firmware *fw)
{
	switch (code) {
	case 0:  *arch = ARCH_AMD64; *fw = FW_BIOS; return true;   /* x86 BIOS */
	case 6:  *arch = ARCH_386;   *fw = FW_UEFI; return true;   /* x86 UEFI */
	case 7:                                                    /* x64 UEFI */
	case 9:                                                    /* EBC, seen from x64 */
	case 16: *arch = ARCH_AMD64; *fw = FW_UEFI; return true;   /* x64 UEFI HTTP */
	case 11:                                                   /* arm64 UEFI */
	case 19: *arch = ARCH_ARM64; *fw = FW_UEFI; return true;   /* arm64 UEFI HTTP */
	case 22: *arch = ARCH_ARM64; *fw = FW_UBOOT; return true;  /* arm64 U-Boot */
	default: return false;
	}
}

bool
firmware_parse(const char *s, enum firmware *f)
{
	for (enum firmware x = FW_BIOS; x <= FW_UBOOT; x++)
		if (s && strcmp(s, firmware_name(x)) == 0) {
			*f = x;
			return true;
		}
	return false;
}

enum firmware
default_firmware(enum arch a)
{
	return a == ARCH_ARM64 ? FW_UBOOT : FW_BIOS;
}

bool
firmware_runs_on(enum firmware f, enum arch a)
{
	return !(f == FW_BIOS && a == ARCH_ARM64) && !(f == FW_UBOOT && a != ARCH_ARM64);
}

static void
get_arch(struct ctx *c, config_setting_t *g, const char *path, bool required, enum arch *a)
{
	const char *s = get_str(c, g, path, "arch", required);
	char kp[128];

	keypath(kp, sizeof kp, path, "arch");
	if (s && !arch_parse(s, a))
		bad(c, config_setting_get_member(g, "arch"), kp,
		    "\"%s\" is not one of amd64, 386, arm64", s);
}

static bool
path_ok(const char *p)
{
	if (p[0] == '/' || strstr(p, "..") != NULL)
		return false;
	for (; *p; p++)
		if (!isgraph((unsigned char)*p))
			return false;
	return true;
}

static const char *const kernel_keys[] = {
	"name", "arch", "file", "type", "initrd", "cmdline", NULL,
};

/* kernels and roles come as a group of named groups (name = { ... }) or,
 * for names libconfig cannot take as keys (9pc64 starts with a digit), as
 * a list of groups with a name member. */
static const char *
entry_name(struct ctx *c, config_setting_t *e, const char *what, int idx)
{
	const char *name = config_setting_name(e);
	char path[64];

	if (name != NULL)
		return name;
	snprintf(path, sizeof path, "%s[%d]", what, idx);
	if (!config_setting_is_group(e)) {
		bad(c, e, path, "must be a group { name = ...; ... }");
		return NULL;
	}
	name = get_str(c, e, path, "name", true);
	if (name && !name_ok(name)) {
		bad(c, config_setting_get_member(e, "name"), path,
		    "\"%s\": use letters, digits, '-', '_' or '.', at most 27", name);
		return NULL;
	}
	return name;
}

static bool
named_collection(struct ctx *c, config_setting_t *s, const char *what)
{
	if (config_setting_is_group(s) || config_setting_is_list(s))
		return true;
	bad(c, s, what, "must be a list ( { name = ...; ... }, ... ) or a group { name = { ... }; }");
	return false;
}

static bool
duplicate_name(struct ctx *c, config_setting_t *e, const char *what,
    const char *name, const char *prev, int prevline)
{
	if (prev == NULL || strcmp(prev, name) != 0)
		return false;
	bad(c, e, what, "\"%s\" is already defined on line %d", name, prevline);
	return true;
}

static void
parse_kernel(struct ctx *c, config_setting_t *k, const char *name, struct kernel *kn)
{
	char path[128];
	const char *s;

	char kp[128];

	kn->name = estrdup(name);
	kn->line = src_line(c, k);
	snprintf(path, sizeof path, "kernels.%s", kn->name);
	if (!config_setting_is_group(k)) {
		bad(c, k, path, "must be a group { arch = ...; file = ...; }");
		return;
	}
	check_keys(c, k, path, kernel_keys);
	get_arch(c, k, path, true, &kn->arch);
	kn->payload = PAYLOAD_PLAN9;
	if ((s = get_str(c, k, path, "type", false)) != NULL) {
		if (strcmp(s, "linux") == 0)
			kn->payload = PAYLOAD_LINUX;
		else if (strcmp(s, "plan9") != 0)
			bad(c, config_setting_get_member(k, "type"), kpath(kp, path, "type"),
			    "\"%s\" is not one of plan9, linux", s);
	}
	if ((s = get_str(c, k, path, "file", true)) != NULL) {
		if (!path_ok(s))
			bad(c, config_setting_get_member(k, "file"), kpath(kp, path, "file"),
			    "\"%s\" must be a relative path under grid.files without ..", s);
		kn->file = estrdup(s);
	}
	if ((s = get_str(c, k, path, "initrd", false)) != NULL) {
		if (kn->payload != PAYLOAD_LINUX)
			bad(c, config_setting_get_member(k, "initrd"), kpath(kp, path, "initrd"),
			    "only a linux kernel takes an initrd");
		else if (!path_ok(s))
			bad(c, config_setting_get_member(k, "initrd"), kpath(kp, path, "initrd"),
			    "\"%s\" must be a relative path under grid.files without ..", s);
		kn->initrd = estrdup(s);
	}
	if ((s = get_str(c, k, path, "cmdline", false)) != NULL)
		kn->cmdline = estrdup(s);
}

static void
parse_kernels(struct ctx *c, config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "kernels");
	struct inventory *inv = c->inv;

	if (g == NULL)
		return;
	if (!named_collection(c, g, "kernels"))
		return;
	int n = config_setting_length(g);
	inv->kernels = ecalloc((size_t)n, sizeof *inv->kernels);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *name = entry_name(c, e, "kernels", i);
		bool dup = false;
		if (name == NULL)
			continue;
		for (size_t j = 0; j < inv->nkernels && !dup; j++)
			dup = duplicate_name(c, e, "kernels", name, inv->kernels[j].name,
			    inv->kernels[j].line);
		if (!dup)
			parse_kernel(c, e, name, &inv->kernels[inv->nkernels++]);
	}
}

static bool
boot_parse(const char *s, enum bootmethod *b)
{
	if (strcmp(s, "auto") == 0)
		*b = BOOT_AUTO;
	else if (strcmp(s, "ipxe") == 0)
		*b = BOOT_IPXE;
	else if (strcmp(s, "9boot") == 0)
		*b = BOOT_9BOOT;
	else
		return false;
	return true;
}

static void
get_boot(struct ctx *c, config_setting_t *g, const char *path, enum bootmethod *b)
{
	const char *s = get_str(c, g, path, "boot", false);
	char kp[128];

	keypath(kp, sizeof kp, path, "boot");
	if (s && !boot_parse(s, b))
		bad(c, config_setting_get_member(g, "boot"), kp,
		    "\"%s\" is not one of auto, ipxe, 9boot", s);
}

static struct kernel *
get_kernel_ref(struct ctx *c, config_setting_t *g, const char *path, bool required)
{
	const char *s = get_str(c, g, path, "kernel", required);
	struct kernel *k;
	char kp[128];

	if (s == NULL)
		return NULL;
	keypath(kp, sizeof kp, path, "kernel");
	if ((k = inv_kernel(c->inv, s)) == NULL)
		bad(c, config_setting_get_member(g, "kernel"), kp,
		    "\"%s\" is not defined in kernels", s);
	return k;
}

static const char *const role_keys[] = { "name", "kernel", "boot", "plan9ini", NULL };

static void
parse_roles(struct ctx *c, config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "roles");
	struct inventory *inv = c->inv;

	if (g == NULL)
		return;
	if (!named_collection(c, g, "roles"))
		return;
	int n = config_setting_length(g);
	inv->roles = ecalloc((size_t)n, sizeof *inv->roles);
	for (int i = 0; i < n; i++) {
		config_setting_t *r = config_setting_get_elem(g, (unsigned)i);
		const char *name = entry_name(c, r, "roles", i);
		bool dup = false;
		char path[128];

		if (name == NULL)
			continue;
		for (size_t j = 0; j < inv->nroles && !dup; j++)
			dup = duplicate_name(c, r, "roles", name, inv->roles[j].name,
			    inv->roles[j].line);
		if (dup)
			continue;
		struct role *ro = &inv->roles[inv->nroles++];
		ro->name = estrdup(name);
		ro->line = src_line(c, r);
		snprintf(path, sizeof path, "roles.%s", ro->name);
		if (!config_setting_is_group(r)) {
			bad(c, r, path, "must be a group { kernel = ...; }");
			continue;
		}
		check_keys(c, r, path, role_keys);
		ro->kernel = get_kernel_ref(c, r, path, true);
		get_boot(c, r, path, &ro->boot);
		load_template(c, ro->name, &ro->plan9ini);
		get_plan9ini(c, r, path, &ro->plan9ini);
	}
}

static const char *const machine_keys[] = {
	"name", "mac", "ip", "arch", "firmware", "role", "kernel", "boot",
	"plan9ini", "ip6", "duid", NULL,
};

static void
parse_machine(struct ctx *c, config_setting_t *m, int idx, struct machine *ma)
{
	char path[96];
	const char *s;

	ma->line = src_line(c, m);
	{
		char num[24];
		size_t at = 0;
		utoa_dec(num, (unsigned long)idx);
		path[0] = '\0';
		cat_trunc(path, sizeof path, &at, "machines[");
		cat_trunc(path, sizeof path, &at, num);
		cat_trunc(path, sizeof path, &at, "]");
	}
	if (!config_setting_is_group(m)) {
		bad(c, m, path, "must be a group { name = ...; mac = ...; }");
		return;
	}
	if ((s = get_str(c, m, path, "name", true)) != NULL) {
		if (!name_ok(s))
			bad(c, config_setting_get_member(m, "name"), "machines[].name",
			    "\"%s\": use letters, digits, '-', '_' or '.', at most 27", s);
		ma->name = estrdup(s);
		size_t at = 0;
		path[0] = '\0';
		cat_trunc(path, sizeof path, &at, "machines[");
		cat_trunc(path, sizeof path, &at, s);
		cat_trunc(path, sizeof path, &at, "]");
	}
	check_keys(c, m, path, machine_keys);
	if ((s = get_str(c, m, path, "mac", true)) != NULL && !mac_parse(s, ma->mac)) {
		char kp[128];
		keypath(kp, sizeof kp, path, "mac");
		bad(c, config_setting_get_member(m, "mac"), kp,
		    "\"%s\" is not a MAC address like 52:54:00:00:00:11", s);
	} else if (s != NULL && ((ma->mac[0] & 1) ||
	    memcmp(ma->mac, "\0\0\0\0\0\0", 6) == 0)) {
		/* No NIC has one: a DHCP client's chaddr is its own unicast MAC. */
		char kp[128];
		keypath(kp, sizeof kp, path, "mac");
		bad(c, config_setting_get_member(m, "mac"), kp,
		    "\"%s\" is a %s address, not a machine's", s,
		    ma->mac[0] & 1 ? (memcmp(ma->mac, "\xff\xff\xff\xff\xff\xff", 6) == 0 ?
		    "broadcast" : "multicast") : "zero");
	}
	get_ip(c, m, path, "ip", false, &ma->ip);
	ma->arch = ARCH_AMD64;
	get_arch(c, m, path, false, &ma->arch);
	ma->firmware = default_firmware(ma->arch);
	if ((s = get_str(c, m, path, "firmware", false)) != NULL) {
		char kp[128];
		keypath(kp, sizeof kp, path, "firmware");
		if (!firmware_parse(s, &ma->firmware))
			bad(c, config_setting_get_member(m, "firmware"), kp,
			    "\"%s\" is not one of bios, uefi, uboot", s);
		else if (!firmware_runs_on(ma->firmware, ma->arch))
			bad(c, config_setting_get_member(m, "firmware"), kp,
			    "%s firmware does not run on %s", s, arch_name(ma->arch));
	}
	if ((s = get_str(c, m, path, "role", true)) != NULL) {
		char kp[128];
		keypath(kp, sizeof kp, path, "role");
		if ((ma->role = inv_role(c->inv, s)) == NULL)
			bad(c, config_setting_get_member(m, "role"), kp,
			    "\"%s\" is not defined in roles", s);
	}
	ma->kernel = get_kernel_ref(c, m, path, false);
	if (ma->kernel == NULL && ma->role)
		ma->kernel = ma->role->kernel;
	ma->boot = ma->role ? ma->role->boot : BOOT_AUTO;
	get_boot(c, m, path, &ma->boot);
	if (ma->kernel && ma->kernel->arch != ARCH_NONE && ma->kernel->arch != ma->arch) {
		config_setting_t *at = config_setting_get_member(m, "kernel");
		bad(c, at ? at : m, path, "kernel %s is for %s but the machine is %s",
		    ma->kernel->name, arch_name(ma->kernel->arch), arch_name(ma->arch));
	}
	get_plan9ini(c, m, path, &ma->plan9ini);
	parse_machine6(c, m, path, ma);
}

static void
check_machine_address(struct ctx *c, config_setting_t *m, struct machine *ma)
{
	char kp[96], ip[16];

	if (ma->ip == 0 || ma->name == NULL)
		return;
	ma->network = inv_network_for(c->inv, ma->ip);
	struct network *n = ma->network;
	if (n && !(n->pool_lo && ma->ip >= n->pool_lo && ma->ip <= n->pool_hi) &&
	    ma->ip != n->subnet && ma->ip != (n->subnet | ~n->mask) &&
	    ma->ip != n->router && ma->ip != c->inv->grid.server)
		return;     /* the usual case, without formatting a message */
	snprintf(kp, sizeof kp, "machines[%s].ip", ma->name);
	ip_format(ma->ip, ip);
	config_setting_t *at = config_setting_get_member(m, "ip");
	if (ma->network == NULL) {
		if (c->inv->nnetworks > 0 && !c->bad_network)
			bad(c, at, kp, "%s is not inside any network", ip);
		return;
	}
	if (n->pool_lo && ma->ip >= n->pool_lo && ma->ip <= n->pool_hi)
		bad(c, at, kp, "%s is inside the dynamic pool of the network on line %d",
		    ip, n->line);
	else if (ma->ip == n->subnet || ma->ip == (n->subnet | ~n->mask))
		bad(c, at, kp, "%s is the network or broadcast address", ip);
	else if (ma->ip == n->router || ma->ip == c->inv->grid.server)
		bad(c, at, kp, "%s is the router's or the server's address", ip);
}

/* ---- the machine index: open addressing over machine numbers ---- */

static uint64_t
hash_bytes(const void *p, size_t n)
{
	uint64_t h = fnv64(p, n);

	/* FNV alone leaves neighbouring MACs and addresses (a rack's) in
	 * neighbouring slots, and linear probes run long: mix (splitmix64). */
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static uint64_t
key_hash(const struct machine *m, enum inv_key k)
{
	switch (k) {
	case KEY_MAC: return hash_bytes(m->mac, 6);
	case KEY_IP: return hash_bytes(&m->ip, sizeof m->ip);
	case KEY_IP6: return hash_bytes(m->v6->ip6, 16);
	case KEY_DUID: return hash_bytes(m->v6->duid, m->v6->duid_len);
	default: return hash_bytes(m->name, strlen(m->name));
	}
}

static bool
key_present(const struct machine *m, enum inv_key k)
{
	static const uint8_t zero[6];

	switch (k) {
	case KEY_MAC: return memcmp(m->mac, zero, 6) != 0;
	case KEY_IP: return m->ip != 0;
	case KEY_IP6: return m->v6 && m->v6->has_ip6;
	case KEY_DUID: return m->v6 && m->v6->duid_len > 0;
	default: return m->name != NULL;
	}
}

static bool
key_equal(const struct machine *a, const struct machine *b, enum inv_key k)
{
	switch (k) {
	case KEY_MAC: return memcmp(a->mac, b->mac, 6) == 0;
	case KEY_IP: return a->ip == b->ip;
	case KEY_IP6: return memcmp(a->v6->ip6, b->v6->ip6, 16) == 0;
	case KEY_DUID: return a->v6->duid_len == b->v6->duid_len &&
	    memcmp(a->v6->duid, b->v6->duid, a->v6->duid_len) == 0;
	default: return strcmp(a->name, b->name) == 0;
	}
}

/* Slots hold machine number + 1; 0 is empty. Sized at twice the machine
 * count rounded up to a power of two, so probes stay short. */
static void
index_reset(struct inventory *inv)
{
	size_t cap = 16;

	while (cap < 2 * inv->nmachines)
		cap *= 2;
	for (int k = 0; k < KEY_COUNT; k++) {
		free(inv->index[k]);
		inv->index[k] = ecalloc(cap, sizeof *inv->index[k]);
	}
	inv->index_cap = cap;
}

/* The first machine with the same key as probe, or NULL. */
static struct machine *
index_find(const struct inventory *inv, const struct machine *probe, enum inv_key k)
{
	size_t mask = inv->index_cap - 1;

	if (inv->index_cap == 0 || !key_present(probe, k))
		return NULL;
	for (size_t i = key_hash(probe, k) & mask;; i = (i + 1) & mask) {
		uint32_t v = inv->index[k][i];
		if (v == 0)
			return NULL;
		if (key_equal(&inv->machines[v - 1], probe, k))
			return &inv->machines[v - 1];
	}
}

/* Adds machine i under each key it has, unless an earlier one holds it
 * (lookups answer the first, as a scan would). */
static void
index_add(struct inventory *inv, size_t i)
{
	const struct machine *m = &inv->machines[i];
	size_t mask = inv->index_cap - 1;

	for (int k = 0; k < KEY_COUNT; k++) {
		if (!key_present(m, k) || index_find(inv, m, k) != NULL)
			continue;
		size_t j = key_hash(m, k) & mask;
		while (inv->index[k][j] != 0)
			j = (j + 1) & mask;
		inv->index[k][j] = (uint32_t)i + 1;
	}
}

void
inv_index(struct inventory *inv)
{
	index_reset(inv);
	for (size_t i = 0; i < inv->nmachines; i++)
		index_add(inv, i);
}

/* Names, MACs and addresses are unique: each machine is looked up in the
 * index of the ones before it, then added, so the check is linear. */
static void
check_machine_unique(struct ctx *c, config_setting_t *m, struct machine *ma, size_t i)
{
	struct inventory *inv = c->inv;
	static const uint8_t zero[6];
	const struct machine *o;
	char kp[96];

	if (ma->name && (o = inv_machine_by_name(inv, ma->name)) != NULL) {
		snprintf(kp, sizeof kp, "machines[%s]", ma->name);
		bad(c, config_setting_get_member(m, "name"), kp,
		    "name \"%s\" is already used on line %d", ma->name, o->line);
	}
	if (memcmp(ma->mac, zero, 6) && (o = inv_machine_by_mac(inv, ma->mac)) != NULL) {
		char mac[18];
		mac_format(ma->mac, mac);
		snprintf(kp, sizeof kp, "machines[%s].mac", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "mac"), kp,
		    "%s is already used by %s on line %d", mac, o->name ? o->name : "?", o->line);
	}
	if (ma->ip && (o = inv_machine_by_ip(inv, ma->ip)) != NULL) {
		char ip[16];
		ip_format(ma->ip, ip);
		snprintf(kp, sizeof kp, "machines[%s].ip", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "ip"), kp,
		    "%s is already used by %s on line %d", ip, o->name ? o->name : "?", o->line);
	}
	if (ma->v6 && ma->v6->has_ip6 && (o = inv_machine_by_ip6(inv, ma->v6->ip6)) != NULL) {
		char ip[46];
		ip6_format(ma->v6->ip6, ip);
		snprintf(kp, sizeof kp, "machines[%s].ip6", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "ip6"), kp,
		    "%s is already used by %s on line %d", ip, o->name ? o->name : "?", o->line);
	}
	if (ma->v6 && ma->v6->duid_len &&
	    (o = inv_machine_by_duid(inv, ma->v6->duid, ma->v6->duid_len)) != NULL) {
		snprintf(kp, sizeof kp, "machines[%s].duid", ma->name ? ma->name : "?");
		bad(c, config_setting_get_member(m, "duid"), kp,
		    "already used by %s on line %d", o->name ? o->name : "?", o->line);
	}
	index_add(inv, i);
}

static void
parse_one_machine(struct ctx *c, config_setting_t *m, size_t i)
{
	struct machine *ma = &c->inv->machines[i];

	parse_machine(c, m, (int)i, ma);
	check_machine_address(c, m, ma);
	check_machine_address6(c, m, ma);
	check_machine_unique(c, m, ma, i);
}

/* Machines handed to libconfig 512 at a time: its tree for a slice stays
 * in the cache and its memory is reused by the next one. */
struct inv_slicing inv_slicing = { 64 * 1024, 512, 512 };
_Atomic unsigned long inv_sliced_loads;

/* The machines list read a slice at a time (cfgscan.h). Each slice is
 * parsed as `m = ( ... )` whose first line is the line its first machine
 * starts on in the file, so every message keeps its file line. */
static void
parse_machines_sliced(struct ctx *c)
{
	const struct cfg_list *l = c->slices;
	struct inventory *inv = c->inv;
	struct strbuf b = { 0 };

	inv->nmachines = l->n;
	inv->machines = ecalloc(inv->nmachines, sizeof *inv->machines);
	index_reset(inv);
	size_t slice = inv_slicing.slice ? inv_slicing.slice : 1;

	for (size_t at = 0; at < l->n; at += slice) {
		size_t n = MIN(slice, l->n - at), last = at + n - 1;
		config_t cfg;
		size_t len = l->end[last] - l->start[at];
		if (b.cap < len + 8) {
			b.cap = len + 8;
			b.p = erealloc(b.p, b.cap);
		}
		memcpy(b.p, "m=(", 3);
		memcpy(b.p + 3, c->text + l->start[at], len);
		memcpy(b.p + 3 + len, ")", 2);
		config_init(&cfg);
		config_setting_t *list = config_read_string(&cfg, b.p) ?
		    config_lookup(&cfg, "m") : NULL;
		if (list == NULL || !config_setting_is_list(list) ||
		    (size_t)config_setting_length(list) != n) {
			config_destroy(&cfg);
			c->resliced = true;
			break;
		}
		c->line_base = l->line[at] - 1;
		for (size_t i = 0; i < n; i++)
			parse_one_machine(c, config_setting_get_elem(list, (unsigned)i), at + i);
		c->line_base = 0;
		config_destroy(&cfg);
	}
	free(b.p);
}

static void
parse_machines(struct ctx *c, config_setting_t *root)
{
	config_setting_t *l = config_setting_get_member(root, "machines");
	struct inventory *inv = c->inv;

	if (c->slices) {
		parse_machines_sliced(c);
		return;
	}
	if (l == NULL)
		return;
	if (!config_setting_is_list(l)) {
		bad(c, l, "machines", "must be a list ( { ... }, { ... } )");
		return;
	}
	inv->nmachines = (size_t)config_setting_length(l);
	inv->machines = ecalloc(inv->nmachines, sizeof *inv->machines);
	index_reset(inv);
	for (size_t i = 0; i < inv->nmachines; i++)
		parse_one_machine(c, config_setting_get_elem(l, (unsigned)i), i);
}

static const char *const top_keys[] = {
	"grid", "networks", "kernels", "roles", "machines", "exports", NULL,
};

/* ---- exports: host directories served over 9P (docs/9p.md) ---- */

static const char *const export_keys[] = {
	"name", "path", "writable", "owner", "generated", NULL,
};

/* What a generated file overlaid on an export may be (boot/ndb.h...). */
static const char *const generated_kinds[] = { "ndb", NULL };

static void
parse_export_writable(struct ctx *c, config_setting_t *e, const char *kp, struct export *x)
{
	config_setting_t *w = config_setting_get_member(e, "writable");
	char wk[128];

	if (w == NULL)
		return;
	snprintf(wk, sizeof wk, "%s.writable", kp);
	if (!config_setting_is_array(w) && !config_setting_is_list(w)) {
		bad(c, w, wk, "must be a list of paths [\"usr\", \"tmp\"]");
		return;
	}
	int n = config_setting_length(w);
	x->writable = ecalloc((size_t)n + 1, sizeof *x->writable);
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(w, i);
		if (v == NULL || *v == '\0' || !path_ok(v))
			bad(c, w, wk, "element %d must be a path inside the export (no leading /, no ..)", i + 1);
		else
			x->writable[x->nwritable++] = estrdup(v);
	}
}

static void
parse_export_generated(struct ctx *c, config_setting_t *e, const char *kp, struct export *x)
{
	config_setting_t *gl = config_setting_get_member(e, "generated");
	char gk[128];

	if (gl == NULL)
		return;
	snprintf(gk, sizeof gk, "%s.generated", kp);
	if (!config_setting_is_list(gl)) {
		bad(c, gl, gk, "must be a list ( { path = \"lib/ndb/local\"; file = \"ndb\"; } )");
		return;
	}
	for (int i = 0; i < config_setting_length(gl); i++) {
		config_setting_t *g = config_setting_get_elem(gl, (unsigned)i);
		static const char *const keys[] = { "path", "file", NULL };
		char ek[160];
		snprintf(ek, sizeof ek, "%s[%d]", gk, i);
		if (!config_setting_is_group(g)) {
			bad(c, g, ek, "must be a group { path = ...; file = ...; }");
			continue;
		}
		check_keys(c, g, ek, keys);
		const char *path = get_str(c, g, ek, "path", true);
		const char *file = get_str(c, g, ek, "file", true);
		if (path && !path_ok(path))
			bad(c, config_setting_get_member(g, "path"), ek,
			    "path \"%s\" must be inside the export (no leading /, no ..)", path);
		bool known = false;
		for (int k = 0; file && generated_kinds[k]; k++)
			known |= strcmp(file, generated_kinds[k]) == 0;
		if (file && !known)
			bad(c, config_setting_get_member(g, "file"), ek,
			    "no generated file \"%s\" (there is: ndb)", file);
		if (path && file && path_ok(path) && known)
			kv_set(&x->generated, path, file, src_line(c, g));
	}
}

/* The attach name picks an export; "" is the root diskless machines
 * mount, "grid" is the grid tree and cannot be taken. */
static const char *
export_name(struct ctx *c, config_setting_t *e, const char *kp)
{
	config_setting_t *n = config_setting_get_member(e, "name");
	const char *v;

	if (n == NULL)
		return "";
	if (config_setting_type(n) != CONFIG_TYPE_STRING) {
		bad(c, n, kp, "name must be a string in double quotes");
		return NULL;
	}
	v = config_setting_get_string(n);
	if (strcmp(v, "grid") == 0) {
		bad(c, n, kp, "the attach name \"grid\" is the grid tree's");
		return NULL;
	}
	if (*v && !name_ok(v)) {
		bad(c, n, kp, "name \"%s\": use letters, digits, '-', '_' or '.', at most 27", v);
		return NULL;
	}
	return v;
}

static void
parse_export(struct ctx *c, config_setting_t *e, int idx, struct export *x)
{
	char kp[96];
	const char *s;
	struct stat st;

	snprintf(kp, sizeof kp, "exports[%d]", idx);
	x->line = src_line(c, e);
	if (!config_setting_is_group(e)) {
		bad(c, e, kp, "must be a group { name = ...; path = ...; }");
		return;
	}
	check_keys(c, e, kp, export_keys);
	if ((s = export_name(c, e, kp)) != NULL)
		x->name = estrdup(s);
	if ((s = get_str(c, e, kp, "path", true)) != NULL) {
		x->path = abs_path(c, s);
		if (stat(x->path, &st) == 0 && !S_ISDIR(st.st_mode))
			bad(c, config_setting_get_member(e, "path"), kp,
			    "\"%s\" is not a directory", s);
		else if (stat(x->path, &st) != 0)
			errlist_add(&c->inv->warnings, c->path, x->line, NULL,
			    "%s.path: %s does not exist yet (make kernels prepares a root)",
			    kp, x->path);
	}
	if ((s = get_str(c, e, kp, "owner", false)) != NULL) {
		if (!name_ok(s))
			bad(c, config_setting_get_member(e, "owner"), kp,
			    "owner \"%s\" is not a Plan 9 user name", s);
		else
			x->owner = estrdup(s);
	}
	parse_export_writable(c, e, kp, x);
	parse_export_generated(c, e, kp, x);
}

static void
parse_exports(struct ctx *c, config_setting_t *root)
{
	config_setting_t *l = config_setting_get_member(root, "exports");
	struct inventory *inv = c->inv;

	if (l == NULL)
		return;
	if (!config_setting_is_list(l)) {
		bad(c, l, "exports", "must be a list ( { name = \"\"; path = ...; }, ... )");
		return;
	}
	inv->nexports = (size_t)config_setting_length(l);
	inv->exports = ecalloc(inv->nexports, sizeof *inv->exports);
	for (size_t i = 0; i < inv->nexports; i++) {
		struct export *x = &inv->exports[i];
		parse_export(c, config_setting_get_elem(l, (unsigned)i), (int)i, x);
		for (size_t j = 0; j < i && x->name; j++)
			if (inv->exports[j].name && strcmp(inv->exports[j].name, x->name) == 0) {
				char kp[96];
				snprintf(kp, sizeof kp, "exports[%zu]", i);
				bad(c, config_setting_get_elem(l, (unsigned)i), kp,
				    "the attach name \"%s\" is already used on line %d",
				    x->name, inv->exports[j].line);
			}
	}
}

static void
inv_free(struct inventory *inv)
{
	struct grid *g = &inv->grid;

	if (inv->base) {
		free(inv->machines);
		for (int k = 0; k < KEY_COUNT; k++)
			free(inv->index[k]);
		errlist_free(&inv->warnings);
		inv_unref(inv->base);
		free(inv);
		return;
	}
	for (size_t i = 0; i < inv->nowned; i++)
		free(inv->owned[i]);
	free(inv->owned);

	free(g->name);
	free(g->authdom);
	free(g->authid);
	free(g->keys);
	free(g->p9any);
	for (int i = 0; i < g->nspeaksfor; i++) {
		for (int k = 0; k < g->speaksfor[i].nusers; k++)
			free(g->speaksfor[i].users[k]);
		free(g->speaksfor[i].users);
		free(g->speaksfor[i].host);
	}
	free(g->speaksfor);
	free(g->files);
	free(g->templates);
	free(g->state);
	free(g->api_token);
	free(g->user);
	free(g->web);
	free(g->ipxe_scripts);
	kv_free(&g->ipxe);
	kv_free(&g->plan9ini);
	kv_free(&g->loaders);
	for (int i = 0; i < g->ninterfaces; i++)
		free(g->interfaces[i]);
	free(g->interfaces);
	for (size_t i = 0; i < inv->nnetworks; i++)
		free(inv->networks[i].interface);
	free(inv->networks);
	for (size_t i = 0; i < inv->nkernels; i++) {
		free(inv->kernels[i].name);
		free(inv->kernels[i].file);
		free(inv->kernels[i].initrd);
		free(inv->kernels[i].cmdline);
	}
	free(inv->kernels);
	for (size_t i = 0; i < inv->nroles; i++) {
		free(inv->roles[i].name);
		kv_free(&inv->roles[i].plan9ini);
	}
	free(inv->roles);
	for (size_t i = 0; i < inv->nmachines; i++) {
		free(inv->machines[i].name);
		free(inv->machines[i].v6);
		kv_free(&inv->machines[i].plan9ini);
	}
	free(inv->machines);
	for (size_t i = 0; i < inv->nexports; i++) {
		struct export *x = &inv->exports[i];
		free(x->name);
		free(x->path);
		free(x->owner);
		for (int k = 0; k < x->nwritable; k++)
			free(x->writable[k]);
		free(x->writable);
		kv_free(&x->generated);
	}
	free(inv->exports);
	errlist_free(&inv->warnings);
	for (int k = 0; k < KEY_COUNT; k++)
		free(inv->index[k]);
	free(inv->path);
	free(inv->dir);
	free(inv);
}

const struct export *
inv_export(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nexports; i++)
		if (inv->exports[i].name && strcmp(inv->exports[i].name, name) == 0)
			return &inv->exports[i];
	return NULL;
}

static _Atomic unsigned long loads;     /* loads run in a worker thread too */

/* libconfig's own reading of the whole file, or of text with the machines
 * list emptied (then NULL if libconfig refuses it: the caller re-reads the
 * whole file so the error is the one libconfig gives for it). */
static bool
read_config(config_t *cfg, const char *path, const char *text, struct errlist *errs)
{
	config_init(cfg);
	if (text)
		return config_read_string(cfg, text);
	if (config_read_file(cfg, path))
		return true;
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
		/* libconfig does not say why: find out. */
		struct stat st;
		const char *why = "a read error";
		FILE *f = NULL;
		if (stat(path, &st) < 0)
			why = strerror(errno);
		else if (S_ISDIR(st.st_mode))
			why = "it is a directory";
		else if ((f = fopen(path, "r")) == NULL)
			why = strerror(errno);
		if (f)
			fclose(f);
		errlist_add(errs, path, 0, NULL, "cannot read the file: %s", why);
	}
	else
		errlist_add(errs, config_error_file(cfg) ? config_error_file(cfg) : path,
		    config_error_line(cfg), NULL, "%s", config_error_text(cfg));
	return false;
}

static void
errlist_truncate(struct errlist *e, size_t n)
{
	while (e->n > n)
		free(e->msg[--e->n]);
}

/* One load; sliced says to read the machines list a slice at a time
 * (text is then the whole file). *again is set when that did not work
 * and the whole file must be read by libconfig instead. */
static struct inventory *
parse(const char *path, const char *text, size_t len, const struct cfg_list *slices,
    struct errlist *errs, bool *again)
{
	struct inventory *inv = ecalloc(1, sizeof *inv);
	struct ctx c = { errs, path, inv, errs->n, .text = text, .slices = slices };
	config_t cfg;
	char *copy, real[PATH_MAX], *rest = NULL;

	inv->refs = 1;
	inv->serial = ++loads;
	inv->path = estrdup(path);
	copy = estrdup(realpath(path, real) ? real : path);
	inv->dir = estrdup(dirname(copy));
	free(copy);

	struct stat st;
	if (stat(path, &st) == 0) {
		inv->file.dev = st.st_dev;
		inv->file.ino = st.st_ino;
		inv->file.size = st.st_size;
		inv->file.mtime_ns = (unsigned long)st.st_mtim.tv_sec * 1000000000ul +
		    (unsigned long)st.st_mtim.tv_nsec;
	}
	if (slices)
		rest = cfgscan_without_list(text, len, slices);
	if (!read_config(&cfg, path, rest, errs)) {
		free(rest);
		config_destroy(&cfg);
		inv_free(inv);
		*again = slices != NULL;
		return NULL;
	}
	free(rest);
	config_setting_t *root = config_root_setting(&cfg);
	check_keys(&c, root, "", top_keys);
	parse_grid(&c, root);
	parse_networks(&c, root);
	parse_kernels(&c, root);
	parse_roles(&c, root);
	resolve_unknown(&c, root);
	parse_machines(&c, root);
	parse_exports(&c, root);
	config_destroy(&cfg);
	if (c.resliced) {
		errlist_truncate(errs, c.nerrs_at_start);
		inv_free(inv);
		*again = true;
		return NULL;
	}
	if (slices)
		inv_sliced_loads++;
	if (errs->n > c.nerrs_at_start) {
		inv_free(inv);
		return NULL;
	}
	return inv;
}

/* Large inventories (more than a few slices of machines) are read with
 * the machines list in slices (cfgscan.h); any doubt about the text, and
 * libconfig reads the whole file, as it does for small ones. */
struct inventory *
inv_parse(const char *path, struct errlist *errs)
{
	struct cfg_list l;
	struct inventory *inv = NULL;
	bool again = true;
	struct stat st;
	char *text = MAP_FAILED;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size >= inv_slicing.min_bytes && st.st_size > 0 &&
	    st.st_size < ((off_t)1 << 31))
		text = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (text != MAP_FAILED) {
		size_t len = (size_t)st.st_size;
		if (memchr(text, '\0', len) == NULL &&
		    cfgscan_top_list(text, len, "machines", &l) == 0) {
			if (l.n > inv_slicing.min_machines) {
				again = false;
				inv = parse(path, text, len, &l, errs, &again);
			}
			cfg_list_free(&l);
		}
		munmap(text, len);
	}
	if (again)
		inv = parse(path, NULL, 0, NULL, errs, &again);
	return inv;
}

struct inventory *
inv_derive(const struct inventory *old)
{
	struct inventory *inv = emalloc(sizeof *inv);
	size_t n = old->nmachines;

	*inv = *old;
	inv->refs = 1;
	inv->serial = ++loads;
	inv->base = inv_ref(old->base ? old->base : (struct inventory *)old);
	inv->machines = emalloc((n + 1) * sizeof *inv->machines);
	memcpy(inv->machines, old->machines, n * sizeof *inv->machines);
	for (int k = 0; k < KEY_COUNT; k++) {
		inv->index[k] = emalloc(old->index_cap * sizeof *inv->index[k]);
		memcpy(inv->index[k], old->index[k], old->index_cap * sizeof *inv->index[k]);
	}
	inv->warnings = (struct errlist){ 0 };
	if (old->warnings.n) {
		inv->warnings.msg = emalloc(old->warnings.n * sizeof *inv->warnings.msg);
		for (size_t i = 0; i < old->warnings.n; i++)
			inv->warnings.msg[i] = estrdup(old->warnings.msg[i]);
		inv->warnings.n = old->warnings.n;
	}
	inv->owned = NULL;
	inv->nowned = 0;
	return inv;
}

void
inv_own(struct inventory *inv, char *s)
{
	struct inventory *b = inv->base ? inv->base : inv;

	b->owned = erealloc(b->owned, (b->nowned + 1) * sizeof *b->owned);
	b->owned[b->nowned++] = s;
}

void
inv_index_add(struct inventory *inv, size_t i)
{
	if (2 * inv->nmachines > inv->index_cap)
		inv_index(inv);
	else
		index_add(inv, i);
}

bool
inv_file_unchanged(const struct inventory *inv)
{
	struct stat st;

	return stat(inv->path, &st) == 0 && inv->file.dev == (unsigned long)st.st_dev &&
	    inv->file.ino == (unsigned long)st.st_ino && inv->file.size == st.st_size &&
	    inv->file.mtime_ns == (unsigned long)st.st_mtim.tv_sec * 1000000000ul +
	    (unsigned long)st.st_mtim.tv_nsec;
}

struct inventory *
inv_ref(struct inventory *inv)
{
	if (inv)
		inv->refs++;
	return inv;
}

void
inv_unref(struct inventory *inv)
{
	if (inv && --inv->refs == 0)
		inv_free(inv);
}

struct machine *
inv_machine_by_mac(const struct inventory *inv, const uint8_t mac[6])
{
	struct machine probe = { 0 };

	memcpy(probe.mac, mac, 6);
	return index_find(inv, &probe, KEY_MAC);
}

struct machine *
inv_machine_by_name(const struct inventory *inv, const char *name)
{
	struct machine probe = { .name = (char *)name };

	return index_find(inv, &probe, KEY_NAME);
}

struct machine *
inv_machine_by_ip(const struct inventory *inv, uint32_t ip)
{
	struct machine probe = { .ip = ip };

	/* Machines without a reserved address have ip 0: never found. */
	return index_find(inv, &probe, KEY_IP);
}

struct machine *
inv_machine_by_ip6(const struct inventory *inv, const uint8_t ip6[16])
{
	struct machine6 p6 = { .has_ip6 = true };
	struct machine probe = { .v6 = &p6 };

	memcpy(p6.ip6, ip6, 16);
	return index_find(inv, &probe, KEY_IP6);
}

struct machine *
inv_machine_by_duid(const struct inventory *inv, const uint8_t *duid, size_t len)
{
	union { struct machine6 v6; uint8_t bytes[sizeof(struct machine6) + DUID_MAX]; } p6;
	struct machine probe = { .v6 = &p6.v6 };

	if (len == 0 || len > DUID_MAX)
		return NULL;
	memset(&p6, 0, sizeof p6);
	memcpy(p6.v6.duid, duid, len);
	p6.v6.duid_len = (uint8_t)len;
	return index_find(inv, &probe, KEY_DUID);
}

struct machine *
inv_machine_lookup(const struct inventory *inv, const char *s)
{
	uint8_t mac[6];
	struct machine *m = inv_machine_by_name(inv, s);

	if (m == NULL && mac_parse(s, mac))
		m = inv_machine_by_mac(inv, mac);
	return m;
}

struct role *
inv_role(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nroles; i++)
		if (strcmp(inv->roles[i].name, name) == 0)
			return &inv->roles[i];
	return NULL;
}

struct kernel *
inv_kernel(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nkernels; i++)
		if (strcmp(inv->kernels[i].name, name) == 0)
			return &inv->kernels[i];
	return NULL;
}

struct network *
inv_network_for(const struct inventory *inv, uint32_t ip)
{
	for (size_t i = 0; i < inv->nnetworks; i++) {
		struct network *n = &inv->networks[i];
		if (n->mask && (ip & n->mask) == n->subnet)
			return n;
	}
	return NULL;
}

bool
inv_interface_served(const struct inventory *inv, const char *ifname)
{
	const struct grid *g = &inv->grid;

	if (g->ninterfaces == 0)
		return true;
	for (int i = 0; i < g->ninterfaces; i++)
		if (strcmp(g->interfaces[i], ifname) == 0)
			return true;
	return false;
}

const char *
inv_loader(const struct inventory *inv, const char *kind)
{
	return kv_get(&inv->grid.loaders, kind);
}

const char *
arch_name(enum arch a)
{
	switch (a) {
	case ARCH_AMD64: return "amd64";
	case ARCH_386: return "386";
	case ARCH_ARM64: return "arm64";
	default: return "none";
	}
}

const char *
firmware_name(enum firmware f)
{
	switch (f) {
	case FW_BIOS: return "bios";
	case FW_UEFI: return "uefi";
	case FW_UBOOT: return "uboot";
	default: return "none";
	}
}

const char *
boot_name(enum bootmethod b)
{
	switch (b) {
	case BOOT_IPXE: return "ipxe";
	case BOOT_9BOOT: return "9boot";
	default: return "auto";
	}
}

enum bootmethod
machine_boot(const struct machine *m)
{
	if (m->boot != BOOT_AUTO)
		return m->boot;
	/* iPXE's multiboot is BIOS-only; UEFI Plan 9 uses 9front's EFI loader. */
	if (m->firmware == FW_BIOS)
		return BOOT_IPXE;
	if (m->firmware == FW_UEFI && m->kernel && m->kernel->payload == PAYLOAD_PLAN9)
		return BOOT_9BOOT;
	return BOOT_IPXE;
}

const char *
kv_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].val;
	return NULL;
}

void
kv_set(struct kvlist *l, const char *key, const char *val, int line)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0) {
			free(l->v[i].val);
			l->v[i].val = estrdup(val);
			l->v[i].line = line;
			return;
		}
	l->v = erealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n].key = estrdup(key);
	l->v[l->n].val = estrdup(val);
	l->v[l->n].line = line;
	l->n++;
}

void
kv_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
