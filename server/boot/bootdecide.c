/* The boot decision. Pure: no I/O, no clock, no globals; everything it
 * knows comes through struct boot_query. */
#include "boot/bootdecide.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

const char *
boot_client_name(enum boot_client c)
{
	static const char *const names[] = {
		"plain DHCP client", "PXE ROM", "UEFI HTTP Boot", "iPXE", "U-Boot",
		"Plan 9 ipconfig",
	};
	return names[c];
}

/* Option 93 values (RFC 4578 and the IANA registry) that mean UEFI HTTP
 * Boot, and U-Boot's own ARM values. */
static bool arch_http(int a) { return a == 15 || a == 16 || a == 18 || a == 19; }
static bool arch_uboot(int a) { return a == 21 || a == 22; }

enum boot_client
boot_classify(int arch, const char *vendor, bool ipxe)
{
	if (str_has_prefix(vendor, "plan9_") || str_has_prefix(vendor, "p9-"))
		return BC_PLAN9;
	if (ipxe)
		return BC_IPXE;
	if (str_has_prefix(vendor, "HTTPClient") || arch_http(arch))
		return BC_HTTP;
	if (str_has_prefix(vendor, "U-Boot") || arch_uboot(arch))
		return BC_UBOOT;
	if (str_has_prefix(vendor, "PXEClient") || arch >= 0)
		return BC_PXE;
	return BC_PLAIN;
}

/* The loader suffix for a firmware, from option 93; NULL if we have none
 * (32-bit UEFI, 32-bit ARM). */
static const char *
fw_suffix(int arch, const char **fw)
{
	switch (arch) {
	case 0: *fw = "BIOS"; return "bios";
	case 7: case 9: case 16: *fw = "UEFI x64"; return "efi_x64";
	case 11: case 19: *fw = "UEFI arm64"; return "efi_arm64";
	case 6: case 15: *fw = "UEFI IA32"; return NULL;
	case 10: case 18: *fw = "UEFI ARM32"; return NULL;
	case -1: *fw = "unknown (no option 93)"; return "bios";
	default: *fw = "unsupported option 93"; return NULL;
	}
}

/* Resolves AUTO the way machine_boot() does, but from the firmware the
 * client shows now rather than the one the inventory claims. */
static enum bootmethod
method_for(const struct machine *m, const struct role *role, bool bios)
{
	enum bootmethod b = m ? m->boot : role->boot;
	const struct kernel *k = m ? m->kernel : role->kernel;

	if (b != BOOT_AUTO)
		return b;
	if (!bios && k && k->payload == PAYLOAD_PLAN9)
		return BOOT_9BOOT;
	return BOOT_IPXE;
}

static void
addnext(struct boot_answer *a, const char *fmt, const char *arg)
{
	if (a->nnext < (int)nelem(a->next))
		snprintf(a->next[a->nnext++], sizeof a->next[0], fmt, arg);
}

static void
put_iplist(uint8_t *o, size_t *n, uint8_t code, const uint32_t *ips, int nip)
{
	o[(*n)++] = code;
	o[(*n)++] = (uint8_t)(4 * nip);
	for (int i = 0; i < nip; i++) {
		o[(*n)++] = (uint8_t)(ips[i] >> 24);
		o[(*n)++] = (uint8_t)(ips[i] >> 16);
		o[(*n)++] = (uint8_t)(ips[i] >> 8);
		o[(*n)++] = (uint8_t)ips[i];
	}
}

/* 130-134: a count byte, then that many NUL-terminated address strings. */
static void
put_iptext(uint8_t *o, size_t *n, uint8_t code, const uint32_t *ips, int nip)
{
	char s[16];
	size_t lenat;

	o[(*n)++] = code;
	lenat = (*n)++;
	o[(*n)++] = (uint8_t)nip;
	for (int i = 0; i < nip; i++) {
		ip_format(ips[i], s);
		memcpy(o + *n, s, strlen(s) + 1);
		*n += strlen(s) + 1;
	}
	o[lenat] = (uint8_t)(*n - lenat - 1);
}

/* Option 43 for Plan 9's ipconfig (see docs/dhcp.md). At most 2 fs and 2
 * auth; the worst case is well under 255 bytes. */
static void
plan9_opt43(const struct boot_query *q, struct boot_answer *a)
{
	const struct grid *g = &q->inv->grid;
	int nfs = MIN(g->nfs, 2), nauth = MIN(g->nauth, 2);
	size_t n = 0;

	put_iplist(a->opt43, &n, 128, g->fs, nfs);
	put_iplist(a->opt43, &n, 129, g->auth, nauth);
	put_iptext(a->opt43, &n, 130, g->fs, nfs);
	put_iptext(a->opt43, &n, 131, g->auth, nauth);
	if (q->yiaddr)
		put_iptext(a->opt43, &n, 132, &q->yiaddr, 1);
	if (q->mask)
		put_iptext(a->opt43, &n, 133, &q->mask, 1);
	if (q->router)
		put_iptext(a->opt43, &n, 134, &q->router, 1);
	a->opt43_len = n;
}

static void
http_url(struct boot_answer *a, const struct boot_query *q, const char *path)
{
	const struct grid *g = &q->inv->grid;
	char ip[16];

	if (q->host6) {
		snprintf(a->file, sizeof a->file, "http://[%s]:%d/%s", q->host6, g->http_port, path);
		return;
	}
	ip_format(g->server, ip);
	snprintf(a->file, sizeof a->file, "http://%s:%d/%s", ip, g->http_port, path);
}

/* A PXE ROM or HTTP Boot firmware: pick the loader from grid.loaders. */
static void
decide_loader(const struct boot_query *q, const struct role *role, struct boot_answer *a,
    const char *mac12)
{
	const char *suffix = fw_suffix(q->arch, &a->firmware);
	char kind[32];

	if (suffix == NULL) {
		snprintf(a->why, sizeof a->why, "firmware %s: gridboot has no loader for it",
		    a->firmware);
		return;
	}
	enum bootmethod b = method_for(q->m, role, strcmp(suffix, "bios") == 0);
	snprintf(kind, sizeof kind, "%s_%s", b == BOOT_9BOOT ? "plan9" : "ipxe", suffix);
	const char *path = inv_loader(q->inv, kind);
	if (path == NULL) {
		snprintf(a->why, sizeof a->why, "boot %s on %s needs grid.loaders.%s, which is not set",
		    boot_name(b), a->firmware, kind);
		return;
	}
	str_copy(a->loader, kind, sizeof a->loader);
	a->boot = true;
	if (a->client == BC_HTTP) {
		/* A loader is a file of grid.files, which HTTP serves under
		 * /files/ only: the URL without it was a 404 (what OVMF's
		 * HTTP boot got before tests/integration/lab_httpboot.sh). */
		char fpath[sizeof a->file];
		snprintf(fpath, sizeof fpath, "files/%s", path);
		a->http_client = true;
		http_url(a, q, fpath);
		addnext(a, "HTTP GET %s", a->file);
	} else if (q->host6) {
		/* DHCPv6 has no siaddr: the TFTP server is in the URL (RFC 5970). */
		snprintf(a->file, sizeof a->file, "tftp://[%s]/%s", q->host6, path);
		addnext(a, "TFTP %s", a->file);
	} else {
		str_copy(a->file, path, sizeof a->file);
		addnext(a, "TFTP %s", path);
	}
	snprintf(a->why, sizeof a->why, "%s on %s, boot %s: loader grid.loaders.%s",
	    boot_client_name(a->client), a->firmware, boot_name(b), a->loader);
	if (b == BOOT_9BOOT) {
		addnext(a, "TFTP cfg/pxe/%s (plan9.ini), else cfg/pxe/default", mac12);
		addnext(a, "TFTP the kernel named by bootfile= (%s)",
		    (q->m ? q->m->kernel : role->kernel) ? (q->m ? q->m->kernel : role->kernel)->file : "none");
	} else {
		addnext(a, "iPXE: DHCP again as iPXE, then HTTP GET %s", "boot.ipxe");
	}
}

void
boot_decide(const struct boot_query *q, struct boot_answer *a)
{
	const struct grid *g = &q->inv->grid;
	const struct role *role = q->m ? q->m->role : g->unknown;
	char mac12[13] = "<mac12>";

	memset(a, 0, sizeof *a);
	a->client = boot_classify(q->arch, q->vendor ? q->vendor : "", q->ipxe);
	a->firmware = "";
	if (q->mac)
		mac_hex(q->mac, mac12);
	if (a->client == BC_PLAN9) {
		/* Booted already: it wants fs and auth, not a file. */
		plan9_opt43(q, a);
		snprintf(a->why, sizeof a->why, "Plan 9 kernel (vendor class %s): option 43 with fs/auth",
		    q->vendor);
		addnext(a, "9P to fs %s (tcp 564)", "from sub-options 128/130");
		return;
	}
	if (a->client == BC_PLAIN) {
		snprintf(a->why, sizeof a->why, "no option 93, PXE/HTTP/U-Boot vendor class or iPXE user class: address only");
		return;
	}
	if (q->m == NULL && role == NULL) {
		snprintf(a->why, sizeof a->why, "not in the inventory and grid.unknown is none: address only");
		return;
	}
	a->siaddr = g->server;
	ip_format(g->server, a->opt66);
	switch (a->client) {
	case BC_IPXE:
		a->boot = true;
		a->firmware = "iPXE";
		http_url(a, q, "boot.ipxe");
		snprintf(a->why, sizeof a->why, "iPXE (user class or option 175): the boot script over HTTP, never iPXE again");
		addnext(a, "HTTP GET %s", a->file);
		addnext(a, "HTTP GET ipxe/%s.ipxe (chained by boot.ipxe)", mac12);
		if ((q->m == NULL || q->m->firmware == FW_BIOS) &&
		    method_for(q->m, role, true) == BOOT_9BOOT) {
			addnext(a, "HTTP GET files/%s (9bootpxe, chained by that script)",
			    inv_loader(q->inv, "plan9_bios") ? inv_loader(q->inv, "plan9_bios") : "?");
			addnext(a, "TFTP cfg/pxe/%s (plan9.ini), then the kernel named by bootfile=", mac12);
		} else
			addnext(a, "HTTP GET the kernel and plan9.ini/%s", mac12);
		break;
	case BC_UBOOT:
		a->boot = true;
		a->firmware = "U-Boot";
		if (q->host6)
			snprintf(a->file, sizeof a->file, "tftp://[%s]/boot.scr.uimg", q->host6);
		else
			str_copy(a->file, "boot.scr.uimg", sizeof a->file);
		snprintf(a->why, sizeof a->why, "U-Boot: the generated script image");
		addnext(a, "TFTP %s", a->file);
		addnext(a, "TFTP uboot/%s.scr.uimg, then the kernel and plan9.ini it names", mac12);
		break;
	default:
		decide_loader(q, role, a, mac12);
		break;
	}
	if (!a->boot) {
		a->siaddr = 0;
		a->opt66[0] = '\0';
	}
}
