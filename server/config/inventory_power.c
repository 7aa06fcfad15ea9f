/* A machine's power driver (docs/power.md):
 *
 *	power = { driver = "ipmi"; address = "10.0.0.50"; user = "admin";
 *	          password_file = "/etc/gridboot/bmc/cpu1"; };
 *	power = { driver = "redfish"; address = "https://10.0.0.51";
 *	          user = "root"; password_file = "...";
 *	          pin = "sha256//BASE64="; };   (or ca_file = "...")
 *
 * and grid.power_poll, grid.power_workers. The password stays in its file:
 * the inventory holds only the file's name, so no view of the inventory
 * (API, 9P, metrics) can show it. */
#include "config/inventory.h"
#include "config/inventory_parse.h"
#include "core/util.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const power_keys[] = {
	"driver", "address", "user", "password_file", "timeout", "retries",
	"system", "ca_file", "pin", "workarounds", NULL,
};

/* libfreeipmi's names (ipmipower -W), in PW_ bit order. */
static const char *const workaround_names[] = {
	"authcap", "intel20", "supermicro20", "sun20", "opensesspriv", "integritycheckvalue",
	NULL,
};

void
machine_power_free(struct machine_power *p)
{
	if (p == NULL)
		return;
	free(p->address);
	free(p->user);
	free(p->password_file);
	free(p->system);
	free(p->ca_file);
	free(p->pin);
	free(p);
}

const char *
power_driver_name(enum power_driver d)
{
	return d == POWER_IPMI ? "ipmi" : d == POWER_REDFISH ? "redfish" : "none";
}

/* Printable ASCII without spaces, quotes or backslashes: these strings go
 * into URLs, an IPMI host name and log lines. */
static bool
plain(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '"' || *s == '\\' || *s == '\'')
			return false;
	return true;
}

/* host, host:port or [v6]:port; the port 1..65535. */
static bool
ipmi_address_ok(const char *s)
{
	const char *colon = strrchr(s, ':');

	if (!plain(s, 255) || strchr(s, '/') || strchr(s, '@'))
		return false;
	if (colon && strchr(s, ':') == colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (colon == s || *end || port < 1 || port > 65535)
			return false;
	}
	return true;
}

/* https://host[:port] with nothing after it but one '/'. */
static bool
redfish_address_ok(const char *s)
{
	if (!plain(s, 255) || strncmp(s, "https://", 8) != 0)
		return false;
	const char *host = s + 8, *slash = strchr(host, '/');
	if (*host == '\0' || *host == '/' || strchr(host, '@') || strchr(host, '?') ||
	    strchr(host, '#'))
		return false;
	return slash == NULL || slash[1] == '\0';
}

/* sha256// and a base64 SHA-256 (44 characters, one '=' at the end). */
static bool
pin_ok(const char *s)
{
	if (strncmp(s, "sha256//", 8) != 0 || strlen(s + 8) != 44 || s[8 + 43] != '=')
		return false;
	for (int i = 0; i < 43; i++) {
		char ch = s[8 + i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
			return false;
	}
	return true;
}

/* A file the daemon reads later: absolute, and there now. */
static char *
get_file(struct ctx *c, config_setting_t *g, const char *path, const char *key, bool required)
{
	const char *s = get_str(c, g, path, key, required);
	char kp[160];
	struct stat st;

	if (s == NULL)
		return NULL;
	keypath(kp, sizeof kp, path, key);
	char *f = abs_path(c, s);
	if (stat(f, &st) != 0)
		bad(c, config_setting_get_member(g, key), kp, "cannot read %s: %s", f,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		bad(c, config_setting_get_member(g, key), kp, "%s is not a regular file", f);
	return f;
}

/* workarounds = [ "opensesspriv", ... ] */
static void
get_workarounds(struct ctx *c, config_setting_t *g, const char *path, unsigned *out)
{
	config_setting_t *l = config_setting_get_member(g, "workarounds");
	char kp[160];

	if (l == NULL)
		return;
	keypath(kp, sizeof kp, path, "workarounds");
	if (!config_setting_is_array(l) && !config_setting_is_list(l)) {
		bad(c, l, kp, "must be a list of names like [ \"opensesspriv\" ]");
		return;
	}
	for (int i = 0; i < config_setting_length(l); i++) {
		const char *s = config_setting_get_string_elem(l, (unsigned)i);
		int k = 0;
		while (s && workaround_names[k] && strcmp(s, workaround_names[k]) != 0)
			k++;
		if (s == NULL || workaround_names[k] == NULL)
			bad(c, l, kp, "element %d is not one of authcap, intel20, supermicro20, "
			    "sun20, opensesspriv, integritycheckvalue", i + 1);
		else
			*out |= 1u << k;
	}
}

static void
redfish_only(struct ctx *c, config_setting_t *g, const char *path, const char *key)
{
	char kp[160];

	if (config_setting_get_member(g, key) == NULL)
		return;
	keypath(kp, sizeof kp, path, key);
	bad(c, config_setting_get_member(g, key), kp, "only for driver = \"redfish\"");
}

static void
parse_redfish(struct ctx *c, config_setting_t *g, const char *path, struct machine_power *p)
{
	const char *s;
	char kp[160];

	if (p->address && !redfish_address_ok(p->address))
		bad(c, config_setting_get_member(g, "address"), kpath(kp, path, "address"),
		    "\"%s\" is not a Redfish service like https://10.0.0.51 or https://bmc1:8443",
		    p->address);
	s = get_str(c, g, path, "system", false);
	if (s && (strncmp(s, "/redfish/v1/", 12) != 0 || !plain(s, 200) || strstr(s, "..") ||
	    strchr(s, '?') || strchr(s, '#')))
		bad(c, config_setting_get_member(g, "system"), kpath(kp, path, "system"),
		    "\"%s\" is not a ComputerSystem path like /redfish/v1/Systems/1", s);
	p->system = estrdup(s ? s : "/redfish/v1/Systems/1");
	p->ca_file = get_file(c, g, path, "ca_file", false);
	if ((s = get_str(c, g, path, "pin", false)) != NULL) {
		if (!pin_ok(s))
			bad(c, config_setting_get_member(g, "pin"), kpath(kp, path, "pin"),
			    "\"%s\" is not a public key pin sha256//BASE64 (44 characters; "
			    "docs/power.md shows how to make one)", s);
		p->pin = estrdup(s);
	}
}

void
parse_machine_power(struct ctx *c, config_setting_t *m, const char *path, struct machine *ma)
{
	config_setting_t *g = config_setting_get_member(m, "power");
	char pp[128], kp[160];
	const char *s;
	int t = 10;

	if (g == NULL)
		return;
	keypath(pp, sizeof pp, path, "power");
	if (!config_setting_is_group(g)) {
		bad(c, g, pp, "must be a group { driver = \"ipmi\"; address = ...; user = ...; "
		    "password_file = ...; }");
		return;
	}
	check_keys(c, g, pp, power_keys);
	struct machine_power *p = ecalloc(1, sizeof *p);
	p->line = src_line(c, g);
	if ((s = get_str(c, g, pp, "driver", true)) != NULL) {
		if (strcmp(s, "ipmi") == 0)
			p->driver = POWER_IPMI;
		else if (strcmp(s, "redfish") == 0)
			p->driver = POWER_REDFISH;
		else
			bad(c, config_setting_get_member(g, "driver"), kpath(kp, pp, "driver"),
			    "\"%s\" is not one of ipmi, redfish", s);
	}
	if ((s = get_str(c, g, pp, "address", true)) != NULL)
		p->address = estrdup(s);
	if ((s = get_str(c, g, pp, "user", true)) != NULL) {
		/* IPMI 2.0 user names are at most 16 bytes. */
		if (!plain(s, p->driver == POWER_IPMI ? 16 : 64))
			bad(c, config_setting_get_member(g, "user"), kpath(kp, pp, "user"),
			    "\"%s\": at most %d printable characters, no spaces or quotes", s,
			    p->driver == POWER_IPMI ? 16 : 64);
		p->user = estrdup(s);
	}
	p->password_file = get_file(c, g, pp, "password_file", true);
	get_int(c, g, pp, "timeout", 1, 120, &t);
	p->timeout_ms = t * 1000;
	p->retries = 1;
	get_int(c, g, pp, "retries", 0, 5, &p->retries);
	if (p->driver == POWER_IPMI) {
		if (p->address && !ipmi_address_ok(p->address))
			bad(c, config_setting_get_member(g, "address"), kpath(kp, pp, "address"),
			    "\"%s\" is not a BMC address like 10.0.0.50 or bmc1:623", p->address);
		get_workarounds(c, g, pp, &p->workarounds);
		redfish_only(c, g, pp, "system");
		redfish_only(c, g, pp, "ca_file");
		redfish_only(c, g, pp, "pin");
	} else if (p->driver == POWER_REDFISH) {
		if (config_setting_get_member(g, "workarounds"))
			bad(c, config_setting_get_member(g, "workarounds"),
			    kpath(kp, pp, "workarounds"), "only for driver = \"ipmi\"");
		parse_redfish(c, g, pp, p);
	}
	ma->power = p;
}

void
parse_grid_power(struct ctx *c, config_setting_t *g, struct grid *gr)
{
	get_int(c, g, "grid", "power_poll", 0, 86400, &gr->power_poll);
	get_int(c, g, "grid", "power_workers", 1, 16, &gr->power_workers);
}
