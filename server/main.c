/* gridbootd's command line: check, plan9ini, serve, and the subcommands
 * modules add (struct module's commands, e.g. DHCP's explain). Usage errors exit 2; a bad inventory exits 1. */
#include "daemon.h"
#include "modules.h"
#include "config/inventory.h"
#include "core/store.h"
#include "core/log.h"
#include "config/plan9ini.h"
#include "core/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONFIG "/etc/gridboot/gridboot.cfg"

static const char usage_top[] =
    "usage: gridbootd COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  check -c FILE              validate an inventory; print every error\n"
    "  plan9ini -c FILE NAME|MAC  print one machine's generated plan9.ini\n"
    "  serve -c FILE [-d] [-l LEVEL] [-p PIDFILE]\n"
    "                             run the daemon (-d: foreground, log to stderr)\n";
static const char usage_tail[] =
    "\n"
    "FILE (-c, --config) defaults to " DEFAULT_CONFIG ".\n"
    "Run 'gridbootd COMMAND --help' for a command's options.\n";

static const char usage_check[] =
    "usage: gridbootd check -c FILE\n"
    "Parses and validates the inventory FILE. Prints 'inventory OK: N machines'\n"
    "and exits 0, or prints every error as FILE:LINE: key: what and exits 1.\n"
    "FILE defaults to " DEFAULT_CONFIG ".\n";

static const char usage_plan9ini[] =
    "usage: gridbootd plan9ini -c FILE NAME|MAC\n"
    "Prints the plan9.ini gridboot generates for the machine named NAME or\n"
    "with the MAC address MAC. The name 'default' prints what unknown\n"
    "machines get (/cfg/pxe/default). FILE defaults to " DEFAULT_CONFIG ".\n";

static const char usage_serve[] =
    "usage: gridbootd serve -c FILE [-d] [-l LEVEL] [-p PIDFILE]\n"
    "Runs the daemon. -d stays in the foreground and logs to stderr;\n"
    "otherwise it detaches and logs to syslog. -l sets the log level:\n"
    "error, warn, notice, info (default) or debug. -p writes the daemon's\n"
    "process ID to PIDFILE once it serves.\n"
    "Until it detaches, errors also go to stderr. FILE defaults to\n"
    DEFAULT_CONFIG ".\n"
    "Signals: SIGHUP re-reads FILE, SIGTERM stops.\n";

struct opts {
	const char *config;
	bool foreground;
	int loglevel;
	const char *pidfile;
	int argi;           /* first operand */
};

static int
usage(const char *text, int code)
{
	fputs(text, code == 0 ? stdout : stderr);
	return code;
}

/* Parses the options common to every command. Returns -1 to go on, or an
 * exit code. */
static int
parse_opts(int argc, char **argv, const char *help, bool serve, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->config = DEFAULT_CONFIG;
	o->loglevel = LOG_INFO;
	optind = 1;
	while ((ch = getopt_long(argc, argv, serve ? "+hc:dl:p:" : "+hc:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			return usage(help, 0);
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->foreground = true;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'l':
			if ((o->loglevel = log_level_parse(optarg)) < 0) {
				fprintf(stderr, "gridbootd: unknown log level %s\n", optarg);
				return usage(help, 2);
			}
			break;
		default:
			return usage(help, 2);
		}
	}
	o->argi = optind;
	return -1;
}

static struct inventory *
load_or_print(const char *path)
{
	struct errlist errs = { 0 };
	struct inventory *inv = gridboot_load(path, &errs);

	if (inv == NULL) {
		errlist_print(&errs, stderr);
		fprintf(stderr, "%s: %zu error%s\n", path, errs.n, errs.n == 1 ? "" : "s");
	}
	errlist_free(&errs);
	return inv;
}

static int
cmd_check(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse_opts(argc, argv, usage_check, false, &o);

	if (rc >= 0)
		return rc;
	if (o.argi != argc)
		return usage(usage_check, 2);
	struct inventory *inv = load_or_print(o.config);
	if (inv == NULL)
		return 1;
	for (size_t i = 0; i < inv->warnings.n; i++)
		fprintf(stderr, "warning: %s\n", inv->warnings.msg[i]);
	/* A shared store must be reachable for serve to be of use: say so
	 * now, with the line that names it (docs/scale.md). */
	char why[256];
	if (store_probe(inv->grid.store, why, sizeof why) < 0) {
		fprintf(stderr, "%s:%d: grid.store: the database cannot be reached: %s\n",
		    o.config, inv->grid.store_line, why);
		inv_unref(inv);
		return 1;
	}
	printf("inventory OK: %zu machine%s%s\n", inv->nmachines, inv->nmachines == 1 ? "" : "s",
	    store_spec_is_pg(inv->grid.store) ? "; the store's database answers" : "");
	inv_unref(inv);
	return 0;
}

static int
cmd_plan9ini(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse_opts(argc, argv, usage_plan9ini, false, &o);
	char why[256];

	if (rc >= 0)
		return rc;
	if (o.argi != argc - 1)
		return usage(usage_plan9ini, 2);
	struct inventory *inv = load_or_print(o.config);
	if (inv == NULL)
		return 1;
	const char *which = argv[o.argi];
	struct machine *m = inv_machine_lookup(inv, which);
	uint8_t mac[6];
	/* Names have no ':' (inventory_value.c: name_ok): this was meant as a MAC. */
	if (m == NULL && strchr(which, ':') && !mac_parse(which, mac)) {
		fprintf(stderr, "gridbootd: %s: not a MAC address like 52:54:00:00:00:11 "
		    "(nor a machine's name)\n", which);
		inv_unref(inv);
		return 2;
	}
	if (m == NULL && strcmp(which, "default") != 0) {
		fprintf(stderr, "gridbootd: %s: no machine with that name or MAC in %s\n",
		    which, o.config);
		inv_unref(inv);
		return 1;
	}
	char *text = plan9ini_render(inv, m, why, sizeof why);
	if (text == NULL) {
		fprintf(stderr, "gridbootd: %s: %s\n", which, why);
		inv_unref(inv);
		return 1;
	}
	fputs(text, stdout);
	free(text);
	inv_unref(inv);
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse_opts(argc, argv, usage_serve, true, &o);

	if (rc >= 0)
		return rc;
	if (o.argi != argc)
		return usage(usage_serve, 2);
	return daemon_serve(o.config, o.foreground, o.loglevel, o.pidfile);
}

static const struct command {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "check", cmd_check },
	{ "plan9ini", cmd_plan9ini },
	{ "serve", cmd_serve },
};

/* The top usage: the daemon's own commands, then each module's. */
static int
usage_all(int code)
{
	FILE *f = code == 0 ? stdout : stderr;

	fputs(usage_top, f);
	for (size_t i = 0; i < gridboot_nmodules; i++)
		for (const struct subcommand *c = gridboot_modules[i]->commands; c && c->name; c++)
			fputs(c->synopsis, f);
	fputs(usage_tail, f);
	return code;
}

static const struct subcommand *
module_command(const char *name)
{
	for (size_t i = 0; i < gridboot_nmodules; i++)
		for (const struct subcommand *c = gridboot_modules[i]->commands; c && c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

/* `explain` covers both families. DHCPv4's and DHCPv6's explains live in
 * sibling modules, so the choice is made here, above both: --v6 (or -6),
 * or an option only DHCPv6 has (--duid, --server6), runs explain6 with
 * --v6 removed; everything else runs DHCPv4's explain. argv is changed
 * in place (argv[0] becomes "explain6"). */
static bool
explain_v6(int *argc, char **argv)
{
	bool v6 = false;
	int n = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[n++] = argv[i++];
			break;
		}
		if (strcmp(a, "--v6") == 0 || strcmp(a, "-6") == 0) {
			v6 = true;
			continue;
		}
		if (strncmp(a, "--duid", 6) == 0 || strncmp(a, "--server6", 9) == 0)
			v6 = true;
		argv[n++] = argv[i];
	}
	*argc = n;
	argv[n] = NULL;
	if (v6)
		argv[0] = "explain6";
	return v6;
}

int
main(int argc, char **argv)
{
	const struct subcommand *sc;

	if (argc < 2)
		return usage_all(2);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage_all(0);
	for (size_t i = 0; i < nelem(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0) {
		int n = argc - 1;
		if (explain_v6(&n, argv + 1) && (sc = module_command("explain6")) != NULL)
			return sc->run(n, argv + 1, gridboot_load);
		argc = n + 1;
	}
	if ((sc = module_command(argv[1])) != NULL)
		return sc->run(argc - 1, argv + 1, gridboot_load);
	fprintf(stderr, "gridbootd: unknown command %s\n", argv[1]);
	return usage_all(2);
}
