/* config/cfgscan.c against libconfig: the scan reads libconfig's syntax a
 * second time to slice the machines list, so the two must not drift. For
 * every inventory in the tree (tests/inventory/, inventory/), one that
 * tests/tools/gen-inventory.sh writes, and texts written here to provoke
 * the lexer (brackets, commas and comment marks inside strings, escapes,
 * comments holding quotes and brackets), either the scan declares doubt
 * (the daemon then parses the whole file) or what it finds, handed to
 * libconfig as inventory.c hands it, gives exactly what libconfig gives
 * for the whole file: the same number of machines, each element's settings
 * (names, types, values, formats, and their lines after the slice's line
 * offset), and the same other settings in the text without the list. A
 * file libconfig rejects must not load through the slices either. Run from
 * the top of the tree (tests/run.sh does). */
#include "config/cfgscan.h"
#include "core/util.h"
#include "unit.h"

#include <glob.h>
#include <libconfig.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

static char why[512];

/* a and b the same setting; b's lines are off by off. Says why not. */
static bool
same_setting(const config_setting_t *a, const config_setting_t *b, int off, const char *path)
{
	const char *an = config_setting_name(a), *bn = config_setting_name(b);
	char sub[256];
	int type = config_setting_type(a);

	snprintf(sub, sizeof sub, "%s.%s", path, an ? an : "[]");
	if ((an == NULL) != (bn == NULL) || (an && strcmp(an, bn) != 0))
		return snprintf(why, sizeof why, "%s: name %s vs %s", sub, an ? an : "-", bn ? bn : "-"), false;
	if (type != config_setting_type(b))
		return snprintf(why, sizeof why, "%s: type %d vs %d", sub, type, config_setting_type(b)), false;
	if (config_setting_source_line(a) != config_setting_source_line(b) + off)
		return snprintf(why, sizeof why, "%s: line %u vs %u", sub, config_setting_source_line(a),
		    config_setting_source_line(b) + off), false;
	if (config_setting_get_format(a) != config_setting_get_format(b))
		return snprintf(why, sizeof why, "%s: format differs", sub), false;
	switch (type) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if (config_setting_get_int64(a) != config_setting_get_int64(b))
			return snprintf(why, sizeof why, "%s: integer differs", sub), false;
		return true;
	case CONFIG_TYPE_FLOAT:
		if (config_setting_get_float(a) != config_setting_get_float(b))
			return snprintf(why, sizeof why, "%s: float differs", sub), false;
		return true;
	case CONFIG_TYPE_BOOL:
		if (config_setting_get_bool(a) != config_setting_get_bool(b))
			return snprintf(why, sizeof why, "%s: bool differs", sub), false;
		return true;
	case CONFIG_TYPE_STRING:
		if (strcmp(config_setting_get_string(a), config_setting_get_string(b)) != 0)
			return snprintf(why, sizeof why, "%s: \"%s\" vs \"%s\"", sub,
			    config_setting_get_string(a), config_setting_get_string(b)), false;
		return true;
	default: {
		int n = config_setting_length(a);
		if (n != config_setting_length(b))
			return snprintf(why, sizeof why, "%s: %d vs %d members", sub, n,
			    config_setting_length(b)), false;
		for (int i = 0; i < n; i++)
			if (!same_setting(config_setting_get_elem(a, (unsigned)i),
			    config_setting_get_elem(b, (unsigned)i), off, sub))
				return false;
		return true;
	}
	}
}

/* libconfig on "m=(" text[from, to) ")", as inventory.c's
 * parse_machines_sliced builds it. NULL (cfg destroyed) if rejected. */
static config_setting_t *
read_slice(config_t *cfg, const char *text, size_t from, size_t to)
{
	char *b = esprintf("m=(%.*s)", (int)(to - from), text + from);
	config_init(cfg);
	config_setting_t *m = config_read_string(cfg, b) ? config_lookup(cfg, "m") : NULL;
	free(b);
	if (m == NULL || !config_setting_is_list(m)) {
		config_destroy(cfg);
		return NULL;
	}
	return m;
}

/* Elements first..last of the sliced list, read as one slice, against the
 * whole file's list. */
static bool
same_slice(const char *text, const struct cfg_list *l, size_t first, size_t last,
    const config_setting_t *whole)
{
	config_t cfg;
	config_setting_t *m = read_slice(&cfg, text, l->start[first], l->end[last]);

	if (m == NULL)
		return snprintf(why, sizeof why, "libconfig rejects the slice of machines %zu..%zu: %s",
		    first, last, text + l->start[first]), false;
	bool same = (size_t)config_setting_length(m) == last - first + 1;
	if (!same)
		snprintf(why, sizeof why, "the slice of machines %zu..%zu has %d elements", first, last,
		    config_setting_length(m));
	for (size_t i = first; same && i <= last; i++)
		same = same_setting(config_setting_get_elem(whole, (unsigned)i),
		    config_setting_get_elem(m, (unsigned)(i - first)), l->line[first] - 1, "machines");
	config_destroy(&cfg);
	return same;
}

/* The text without the list against the whole file, but for machines. */
static bool
same_rest(const char *text, size_t len, const struct cfg_list *l, config_t *whole)
{
	char *rest = cfgscan_without_list(text, len, l);
	config_t cfg;
	bool same = true;

	config_init(&cfg);
	if (!config_read_string(&cfg, rest)) {
		snprintf(why, sizeof why, "libconfig rejects the text without the list: line %d: %s",
		    config_error_line(&cfg), config_error_text(&cfg));
		same = false;
	}
	config_setting_t *a = config_root_setting(whole), *b = config_root_setting(&cfg);
	if (same && config_setting_length(a) != config_setting_length(b)) {
		snprintf(why, sizeof why, "%d top-level settings vs %d without the list",
		    config_setting_length(a), config_setting_length(b));
		same = false;
	}
	for (int i = 0; same && i < config_setting_length(a); i++) {
		config_setting_t *x = config_setting_get_elem(a, (unsigned)i);
		config_setting_t *y = config_setting_get_elem(b, (unsigned)i);
		if (strcmp(config_setting_name(x), "machines") != 0) {
			same = same_setting(x, y, 0, "");
		} else if (!config_setting_is_list(y) || config_setting_length(y) != 0 ||
		    config_setting_source_line(x) != config_setting_source_line(y)) {
			snprintf(why, sizeof why, "machines is not an empty list on its line without the list");
			same = false;
		}
	}
	config_destroy(&cfg);
	free(rest);
	return same;
}

/* Would inventory.c load text through the slices? (all of them read and
 * counted, and the rest read) */
static bool
slices_load(const char *text, size_t len, const struct cfg_list *l)
{
	config_t cfg;
	config_setting_t *m = read_slice(&cfg, text, l->start[0], l->end[l->n - 1]);
	if (m == NULL)
		return false;
	bool counted = (size_t)config_setting_length(m) == l->n;
	config_destroy(&cfg);
	char *rest = cfgscan_without_list(text, len, l);
	config_init(&cfg);
	bool read = config_read_string(&cfg, rest);
	config_destroy(&cfg);
	free(rest);
	return counted && read;
}

enum expect { EITHER, SLICED, DOUBT };

/* One text through the round trip. Returns whether it was sliced. */
static bool
roundtrip(const char *name, const char *text, enum expect expect)
{
	size_t len = strlen(text);
	struct cfg_list l;
	config_t whole;

	config_init(&whole);
	bool whole_ok = config_read_string(&whole, text);
	bool sliced = cfgscan_top_list(text, len, "machines", &l) == 0;

	if (expect == SLICED)
		CHECK(sliced, "%s: the scan slices it", name);
	if (expect == DOUBT)
		CHECK(!sliced, "%s: the scan declares doubt", name);
	if (!sliced) {
		config_destroy(&whole);
		return false;
	}
	if (!whole_ok) {
		CHECK(!slices_load(text, len, &l), "%s: libconfig rejects the file (line %d: %s), "
		    "and the slices do not load either", name, config_error_line(&whole),
		    config_error_text(&whole));
	} else {
		config_setting_t *m = config_lookup(&whole, "machines");
		bool same = m != NULL && config_setting_is_list(m) &&
		    (size_t)config_setting_length(m) == l.n;
		if (!same)
			snprintf(why, sizeof why, "%zu elements sliced, libconfig has %d", l.n,
			    m ? config_setting_length(m) : -1);
		for (size_t i = 0; same && i < l.n; i++)
			same = same_slice(text, &l, i, i, m);
		same = same && same_slice(text, &l, 0, l.n - 1, m) && same_rest(text, len, &l, &whole);
		CHECK(same, "%s: %zu machines, each as libconfig reads the whole file", name, l.n);
		if (!same)
			printf("#   %s\n", why);
	}
	cfg_list_free(&l);
	config_destroy(&whole);
	return true;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *p = NULL;
	size_t n = 0;

	if (f == NULL)
		return NULL;
	FILE *m = open_memstream(&p, &n);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	return p;
}

/* Every inventory in the tree. */
static void
test_tree(void)
{
	static const char *pats[] = { "tests/inventory/*/*.cfg", "tests/inventory/*/*/*.cfg", "inventory/*.cfg" };
	int files = 0, sliced = 0;

	for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
		glob_t g;
		if (glob(pats[k], 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char *text = slurp(g.gl_pathv[i]);
			if (text == NULL)
				continue;
			files++;
			sliced += roundtrip(g.gl_pathv[i], text, EITHER);
			free(text);
		}
		globfree(&g);
	}
	/* Guards against a scan that gives up on everything (then the round
	 * trip above proves nothing): most inventories here have machines. */
	CHECK(files >= 40 && sliced >= files / 2, "%d of the tree's %d inventories were sliced", sliced, files);
}

/* One that tests/tools/gen-inventory.sh writes (the scale test's shape). */
static void
test_generated(void)
{
	char dir[] = "/tmp/gridboot-cfgscan.XXXXXX";

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "a temporary directory");
		return;
	}
	char *cmd = esprintf("sh tests/tools/gen-inventory.sh 3000 %s 16", dir);
	char *path = esprintf("%s/grid.cfg", dir);
	char *text = system(cmd) == 0 ? slurp(path) : NULL;
	CHECK(text != NULL, "gen-inventory.sh writes 3000 machines");
	if (text)
		roundtrip("gen-inventory.sh 3000", text, SLICED);
	free(text);
	free(path);
	free(cmd);
	cmd = esprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
}

#define GRID "grid = { name = \"g\"; };\n"

/* Texts that provoke the lexer. */
static const struct {
	const char *name, *text;
	enum expect expect;
} cases[] = {
	{ "brackets and commas in strings", GRID
	  "machines = ( { name = \"a),(b\"; x = \"{\"; y = \"}\"; },\n"
	  "  { name = \"c]\"; z = \"[(\"; } );\n", SLICED },
	{ "escaped quotes", GRID
	  "machines = ( { name = \"a\\\"),( \"; }, { name = \"\\\"\"; } );\n", SLICED },
	{ "a backslash last in a string", GRID
	  "machines = ( { name = \"C:\\\\\"; y = \")\"; }, { name = \"d\"; } );\n", SLICED },
	{ "comment marks in strings", GRID
	  "machines = ( { name = \"http://x/#a\"; y = \"/*\"; }, { name = \"*/ // #\"; } );\n", SLICED },
	{ "comments holding brackets and quotes", GRID
	  "machines = ( # ) , \" (\n"
	  "  { name = \"a\"; // }, { \"\n"
	  "    x = 1; /* ), \" ( \n } */ },\n"
	  "  /* , */ { name = \"b\"; } # )\n"
	  ");\n", SLICED },
	{ "nested groups, lists and arrays", GRID
	  "machines = ( { name = \"a\"; p = { q = ( { r = [1, 2]; }, { s = \"t\"; } ); }; },\n"
	  "  { name = \"b\"; l = ( \"x\", ( 1, 2 ), { } ); } );\n", SLICED },
	{ "numbers of every form", GRID
	  "machines = ( { a = 0x1F; b = -5; c = 1.5e3; d = 100L; e = true; f = FALSE; g = .5; },\n"
	  "  { a = 0xFFFFFFFFFL; b = +3; } );\n", SLICED },
	{ "adjacent strings joined", GRID
	  "machines = ( { name = \"a\" \"b,)\"; }, { name = \"c\"\n  \"d\"; } );\n", SLICED },
	{ "the colon form and lines further down", "\n\n" GRID "\n"
	  "machines :\n(\n  {\n    name = \"a\";\n  }\n  ,\n\n  { name = \"b\"; }\n)\n;\n", SLICED },
	{ "a machines list inside a group is not the top-level one",
	  "grid = { name = \"g\"; machines = ( { name = \"inner\"; } ); };\n"
	  "machines = ( { name = \"outer\"; } );\n", SLICED },
	{ "settings after the list", GRID
	  "machines = ( { name = \"a\"; } );\nroles = { cpu = { kernel = \"k\"; }; };\n", SLICED },
	{ "an @include", "@include \"x.cfg\"\n" GRID "machines = ( { name = \"a\"; } );\n", DOUBT },
	{ "an empty list", GRID "machines = ( );\n", DOUBT },
	{ "a trailing comma", GRID "machines = ( { name = \"a\"; }, );\n", DOUBT },
	{ "an unterminated comment", GRID "machines = ( { name = \"a\"; } ); /* ", DOUBT },
	{ "an unterminated string", GRID "machines = ( { name = \"a; } );\n", DOUBT },
	{ "a list that does not close", GRID "machines = ( { name = \"a\"; } ;\n", DOUBT },
	{ "no machines", GRID, DOUBT },
	{ "machines twice", GRID "machines = ( { name = \"a\"; } );\nmachines = ( { name = \"b\"; } );\n", EITHER },
	{ "a syntax error inside an element", GRID "machines = ( { name = \"a\" }, { name = \"b\"; } );\n", EITHER },
	{ "a syntax error after the list", GRID "machines = ( { name = \"a\"; } );\nroles = { ;\n", EITHER },
	{ "a string over two lines", GRID
	  "machines = ( { name = \"a\n(b\"; },\n { name = \"c\"; } );\n", SLICED },
	{ "a backslash before a newline in a string", GRID
	  "machines = ( { name = \"a\\\n\"; },\n { name = \"c\"; } );\n", SLICED },
	{ "CRLF line ends", "grid = { name = \"g\"; };\r\n"
	  "machines = ( { name = \"a\"; },\r\n  # c\r\n  { name = \"b\"; } );\r\n", SLICED },
	{ "an element that is not a group", GRID "machines = ( \"a\", 1, [ 2 ] );\n", SLICED },
};

int
main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		roundtrip(cases[i].name, cases[i].text, cases[i].expect);
	test_tree();
	test_generated();
	return UNIT_DONE();
}
