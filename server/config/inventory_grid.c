/* The inventory's grid = { ... } group: the server's addresses, ports,
 * directories, loaders, interfaces, the auth module's settings
 * (speaksfor, p9any) and the policy for unknown machines. */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "core/util.h"

#include <errno.h>
#include <libconfig.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const grid_keys[] = {
	"name", "authdom", "server", "files", "templates", "state", "http_port",
	"tftp_port", "dhcp_port", "proxy_port", "fs", "auth", "plan9ini",
	"loaders", "api_token", "unknown", "interfaces", "user", "store", "instance",
	"web", "ipxe_scripts", "http_per_source", "http_workers",  /* HTTP module */
	"p9_port", "p9_auth", "p9_nonone", "p9_grid_open", "admins",  /* 9P module */
	"auth_port", "rcpu_port", "auth_des", "authid", "keys", "speaksfor",
	"serve_nvram", "p9any",     /* auth module */
	"server6",                  /* DHCPv6 module */
	"power_poll", "power_workers",  /* power (docs/power.md) */
	NULL,
};

static const char *const loader_keys[] = {
	"ipxe_bios", "ipxe_efi_x64", "ipxe_efi_arm64", "plan9_bios",
	"plan9_efi_x64", "plan9_efi_arm64", "uboot_arm64", NULL,
};

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

/* grid.admins = [ "bootes", "glenda" ]: the users who may change the grid
 * through the 9P grid tree (roles, adoption) with grid.p9_auth, as the API
 * asks its token; by default the host owner (grid.authid) alone. */
static void
parse_admins(struct ctx *c, config_setting_t *g, struct grid *gr)
{
	config_setting_t *l = config_setting_get_member(g, "admins");
	int n = l ? config_setting_length(l) : 0;

	gr->admins = ecalloc((size_t)(l ? n : 1) + 1, sizeof *gr->admins);
	if (l == NULL) {
		gr->admins[gr->nadmins++] = estrdup(gr->authid);
		return;
	}
	if (!config_setting_is_array(l) && !config_setting_is_list(l)) {
		bad(c, l, "grid.admins", "must be a list of user names [ \"bootes\", \"glenda\" ]");
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(l, (unsigned)i);
		if (v == NULL || !name_ok(v)) {
			bad(c, l, "grid.admins", "element %d is not a Plan 9 user name (letters, "
			    "digits, '-', '_' or '.', at most 27)", i + 1);
			continue;
		}
		gr->admins[gr->nadmins++] = estrdup(v);
	}
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
	parse_admins(c, g, gr);
}

/* grid.store and grid.instance (docs/scale.md): where leases live, and
 * this daemon's name among several that share a database. */
static void
parse_store(struct ctx *c, config_setting_t *g, struct grid *gr)
{
	const char *s;
	char host[64];

	if ((s = get_str(c, g, "grid", "store", false)) != NULL) {
		if (strcmp(s, "files") != 0 && strncmp(s, "postgresql://", 13) != 0 &&
		    strncmp(s, "postgres://", 11) != 0)
			bad(c, config_setting_get_member(g, "store"), "grid.store",
			    "\"%s\": use \"files\" or a postgresql:// URI", s);
		gr->store = estrdup(s);
		gr->store_line = src_line(c, config_setting_get_member(g, "store"));
	}
	if ((s = get_str(c, g, "grid", "instance", false)) != NULL) {
		if (!name_ok(s))
			bad(c, config_setting_get_member(g, "instance"), "grid.instance",
			    "\"%s\": use letters, digits, '-', '_' or '.', at most 27", s);
		gr->instance = estrdup(s);
	} else {
		if (gethostname(host, sizeof host) < 0)
			host[0] = '\0';
		host[sizeof host - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		gr->instance = estrdup(host[0] && name_ok(host) ? host : "gridbootd");
	}
}

/* grid.http_workers' default: one HTTP thread per core this process may
 * run on, at most 16 (more wait on the one loop's lock, evloop.h). */
static int
default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 16 ? 16 : (int)n;
}

void
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
	gr->power_poll = 60;
	gr->power_workers = 2;
	gr->http_per_source = 32;
	gr->http_workers = default_workers();
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
	parse_store(c, g, gr);
	get_int(c, g, "grid", "http_port", 1, 65535, &gr->http_port);
	get_int(c, g, "grid", "tftp_port", 1, 65535, &gr->tftp_port);
	get_int(c, g, "grid", "dhcp_port", 1, 65535, &gr->dhcp_port);
	get_int(c, g, "grid", "proxy_port", 1, 65535, &gr->proxy_port);
	get_int(c, g, "grid", "p9_port", 1, 65535, &gr->p9_port);
	parse_grid_power(c, g, gr);
	get_int(c, g, "grid", "http_per_source", 1, 65536, &gr->http_per_source);
	get_int(c, g, "grid", "http_workers", 0, 64, &gr->http_workers);
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
void
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
