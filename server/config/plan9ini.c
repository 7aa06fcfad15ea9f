#include "config/plan9ini.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const computed_keys[] = {
	"sysname", "fs", "auth", "bootfile", NULL,
};

bool
plan9ini_is_computed(const char *key)
{
	for (const char *const *k = computed_keys; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

bool
plan9ini_key_ok(const char *k, const char **why)
{
	if (*k == '\0') {
		*why = "empty key";
		return false;
	}
	if (*k == '#' || *k == ';' || *k == '[') {
		*why = "a key starting with #, ; or [ is read by Plan 9 as a comment or a section";
		return false;
	}
	if (strlen(k) > 63) {
		*why = "key longer than 63 characters";
		return false;
	}
	for (const char *p = k; *p; p++)
		if (!isgraph((unsigned char)*p) || *p == '=') {
			*why = "keys may hold only printable characters other than '=' and space";
			return false;
		}
	return true;
}

bool
plan9ini_val_ok(const char *v, const char **why)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\n' || *p == '\r') {
			*why = "values cannot hold a newline";
			return false;
		}
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			*why = "values cannot hold control characters";
			return false;
		}
	}
	return true;
}

static void
kv_copy_all(struct kvlist *dst, const struct kvlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		kv_set(dst, src->v[i].key, src->v[i].val, src->v[i].line);
}

static void
set_addrs(struct kvlist *out, const char *key, const uint32_t *a, int n)
{
	char ip[16], buf[64] = "";

	/* plan9.ini takes one fs and one auth address; the rest go by DHCP. */
	if (n <= 0)
		return;
	ip_format(a[0], ip);
	str_copy(buf, ip, sizeof buf);
	kv_set(out, key, buf, 0);
}

void
plan9ini_merge(const struct inventory *inv, const struct machine *m, struct kvlist *out)
{
	const struct role *role = m ? m->role : inv->grid.unknown;

	kv_copy_all(out, &inv->grid.plan9ini);
	if (role)
		kv_copy_all(out, &role->plan9ini);
	if (m) {
		kv_copy_all(out, &m->plan9ini);
		kv_set(out, "sysname", m->name, 0);
	}
	set_addrs(out, "fs", inv->grid.fs, inv->grid.nfs);
	set_addrs(out, "auth", inv->grid.auth, inv->grid.nauth);
	if (m && m->kernel && m->kernel->payload == PAYLOAD_PLAN9 &&
	    machine_boot(m) == BOOT_9BOOT) {
		/* 9boot fetches the kernel by TFTP from siaddr: the path after
		 * the last '!' of bootfile. */
		char *bf = esprintf("/%s", m->kernel->file);
		kv_set(out, "bootfile", bf, 0);
		free(bf);
	}
}

char *
plan9ini_render(const struct inventory *inv, const struct machine *m,
    char *why, size_t whycap)
{
	struct kvlist l = { 0 };
	size_t len = 0;
	char *text;

	plan9ini_merge(inv, m, &l);
	for (size_t i = 0; i < l.n; i++)
		len += strlen(l.v[i].key) + 1 + strlen(l.v[i].val) + 1;
	if (l.n > P9INI_MAXENTRIES) {
		snprintf(why, whycap, "%zu entries; Plan 9 takes at most %d (MAXCONF)",
		    l.n, P9INI_MAXENTRIES);
		kv_free(&l);
		return NULL;
	}
	if (len > P9INI_MAXBYTES) {
		snprintf(why, whycap, "%zu bytes; Plan 9 takes at most %d (BOOTARGSLEN)",
		    len, P9INI_MAXBYTES);
		kv_free(&l);
		return NULL;
	}
	const char *bf = kv_get(&l, "bootfile");
	if (bf && m) {
		size_t max = m->firmware == FW_UEFI ? P9INI_BOOTFILE_EFI : P9INI_BOOTFILE_BIOS;
		if (strlen(bf) > max) {
			snprintf(why, whycap, "bootfile %s is %zu characters; the %s loader takes at most %zu",
			    bf, strlen(bf), firmware_name(m->firmware), max);
			kv_free(&l);
			return NULL;
		}
	}
	text = emalloc(len + 1);
	len = 0;
	for (size_t i = 0; i < l.n; i++)
		len += (size_t)sprintf(text + len, "%s=%s\n", l.v[i].key, l.v[i].val);
	text[len] = '\0';
	kv_free(&l);
	return text;
}

/* What plan9ini_merge would give, measured without building it: the
 * layers in merge order (grid, role, machine, then the computed entries);
 * an entry counts once, with the value of the last layer that sets it. */
struct measure {
	const struct kvlist *layer[3];
	const char *ckey[4];
	size_t clen[4];             /* computed values' lengths */
	int nc;
};

static bool
set_later(const struct measure *ms, int layer, const char *key)
{
	for (int j = layer + 1; j < 3; j++)
		if (ms->layer[j] && kv_get(ms->layer[j], key))
			return true;
	for (int j = 0; j < ms->nc; j++)
		if (strcmp(ms->ckey[j], key) == 0)
			return true;
	return false;
}

static void
add_computed(struct measure *ms, const char *key, size_t len)
{
	ms->ckey[ms->nc] = key;
	ms->clen[ms->nc++] = len;
}

/* plan9ini_render's limits for m, without rendering (a load checks every
 * machine: 100 000 renderings were a seventh of it). Same messages. */
static bool
plan9ini_fits(const struct inventory *inv, const struct machine *m, char *why, size_t whycap)
{
	struct measure ms = { { &inv->grid.plan9ini, m->role ? &m->role->plan9ini : NULL,
	    &m->plan9ini } };
	const char *bootfile = NULL;
	size_t n = 0, len = 0, bflen = 0;
	char ip[16];

	add_computed(&ms, "sysname", strlen(m->name));
	if (inv->grid.nfs > 0) {
		ip_format(inv->grid.fs[0], ip);
		add_computed(&ms, "fs", strlen(ip));
	}
	if (inv->grid.nauth > 0) {
		ip_format(inv->grid.auth[0], ip);
		add_computed(&ms, "auth", strlen(ip));
	}
	bool computed_bf = m->kernel && m->kernel->payload == PAYLOAD_PLAN9 &&
	    machine_boot(m) == BOOT_9BOOT;
	if (computed_bf)
		add_computed(&ms, "bootfile", 1 + strlen(m->kernel->file));
	for (int i = 0; i < 3; i++) {
		const struct kvlist *l = ms.layer[i];
		for (size_t k = 0; l && k < l->n; k++) {
			if (set_later(&ms, i, l->v[k].key))
				continue;
			n++;
			len += strlen(l->v[k].key) + 1 + strlen(l->v[k].val) + 1;
			if (strcmp(l->v[k].key, "bootfile") == 0) {
				bootfile = l->v[k].val;
				bflen = strlen(bootfile);
			}
		}
	}
	for (int j = 0; j < ms.nc; j++) {
		n++;
		len += strlen(ms.ckey[j]) + 1 + ms.clen[j] + 1;
	}
	if (n > P9INI_MAXENTRIES) {
		snprintf(why, whycap, "%zu entries; Plan 9 takes at most %d (MAXCONF)",
		    n, P9INI_MAXENTRIES);
		return false;
	}
	if (len > P9INI_MAXBYTES) {
		snprintf(why, whycap, "%zu bytes; Plan 9 takes at most %d (BOOTARGSLEN)",
		    len, P9INI_MAXBYTES);
		return false;
	}
	if (computed_bf || bootfile) {
		size_t max = m->firmware == FW_UEFI ? P9INI_BOOTFILE_EFI : P9INI_BOOTFILE_BIOS;
		if (computed_bf)
			bflen = ms.clen[ms.nc - 1];
		if (bflen > max) {
			char *bf = computed_bf ? esprintf("/%s", m->kernel->file) : estrdup(bootfile);
			snprintf(why, whycap, "bootfile %s is %zu characters; the %s loader takes at most %zu",
			    bf, bflen, firmware_name(m->firmware), max);
			free(bf);
			return false;
		}
	}
	return true;
}

bool
plan9ini_machine_ok(const struct inventory *inv, const struct machine *m,
    char *why, size_t whycap)
{
	if (m->name == NULL || m->role == NULL || m->kernel == NULL)
		return true;
	return plan9ini_fits(inv, m, why, whycap);
}

/* Every machine's plan9.ini must render within Plan 9's limits. */
void
plan9ini_check(struct inventory *inv, struct errlist *errs)
{
	for (size_t i = 0; i < inv->nmachines; i++) {
		const struct machine *m = &inv->machines[i];
		char why[256];
		if (!plan9ini_machine_ok(inv, m, why, sizeof why)) {
			char kp[96];
			snprintf(kp, sizeof kp, "machines[%s].plan9ini", m->name);
			/* Machines merged from STATE/assignments.json have no
			 * line in the file (assignments.c skips ones that don't
			 * fit, so this is defence in depth). */
			errlist_add(errs, inv->path, m->line, kp, "%s", why);
		}
	}
}
