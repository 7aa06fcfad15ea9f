#include "bootfiles.h"
#include "plan9ini.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

bool
mac12_parse(const char *s, uint8_t mac[6])
{
	return strlen(s) == 12 && mac_parse(s, mac);
}

static enum genresult
gen_plan9ini(const struct inventory *inv, const char *which, struct genfile *out)
{
	const struct machine *m = NULL;
	uint8_t mac[6];
	char why[256];

	if (strcmp(which, "default") != 0) {
		if (!mac12_parse(which, mac) || (m = inv_machine_by_mac(inv, mac)) == NULL)
			return GEN_NOT_FOUND;
	}
	out->data = p9ini_render(inv, m, why, sizeof why);
	if (out->data == NULL)
		return GEN_NOT_FOUND;
	out->len = strlen(out->data);
	out->content_type = "text/plain; charset=utf-8";
	return GEN_OK;
}

enum genresult
bootfile_generate(const struct inventory *inv, const char *path,
    const uint8_t *client_mac, struct genfile *out)
{
	(void)client_mac;
	memset(out, 0, sizeof *out);
	while (*path == '/')
		path++;
	if (str_has_prefix(path, "cfg/pxe/"))
		return gen_plan9ini(inv, path + strlen("cfg/pxe/"), out);
	if (str_has_prefix(path, "plan9.ini/"))
		return gen_plan9ini(inv, path + strlen("plan9.ini/"), out);
	return GEN_NOT_GENERATED;
}

void
genfile_free(struct genfile *g)
{
	free(g->data);
	g->data = NULL;
	g->len = 0;
}
