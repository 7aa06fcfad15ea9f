/* gridbootd explain -c FILE --mac M [--arch N] [--vendor-class S]
 * [--user-class S]: prints each step of the answer for one client. */
#include "boot/bootdecide.h"
#include "dhcp/dhcp_explain.h"
#include "dhcp/dhcp_handle.h"
#include "core/errlist.h"
#include "config/inventory.h"
#include "core/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_explain[] =
    "usage: gridbootd explain -c FILE --mac MAC [--arch N] [--vendor-class S]\n"
    "                         [--user-class S]\n"
    "Prints what gridboot's DHCP server answers the client with MAC sending\n"
    "option 93 N, vendor class S (option 60) and user class S (option 77),\n"
    "why, and which files the client fetches next. Without --arch and\n"
    "--vendor-class, a machine in the inventory asks as its firmware's PXE\n"
    "ROM would (option 93 from its arch and firmware) and any other MAC as a\n"
    "plain DHCP client; the output says which it assumed. FILE defaults to\n"
    "/etc/gridboot/gridboot.cfg.\n";

/* Option 93 of the ROM a machine's firmware boots with. */
static int
rom_arch(const struct machine *m)
{
	switch (m->firmware) {
	case FW_BIOS: return 0;
	case FW_UEFI: return m->arch == ARCH_ARM64 ? 11 : m->arch == ARCH_386 ? 6 : 7;
	case FW_UBOOT: return 22;
	default: return -1;
	}
}

/* Option 43's Plan 9 sub-options, readably. */
static void
explain_opt43(const unsigned char *o, unsigned long len, char *out, unsigned long cap)
{
	size_t n = 0, i = 0;

	out[0] = '\0';
	while (i + 2 <= len && n < cap) {
		unsigned code = o[i], l = o[i + 1];
		const unsigned char *v = o + i + 2;
		if (i + 2 + l > len)
			break;
		n += (size_t)snprintf(out + n, cap - n, "%s%u=", n ? " " : "", code);
		if (code == 128 || code == 129) {
			for (unsigned k = 0; k + 4 <= l && n < cap; k += 4)
				n += (size_t)snprintf(out + n, cap - n, "%s%u.%u.%u.%u", k ? "," : "",
				    v[k], v[k + 1], v[k + 2], v[k + 3]);
		} else if (l > 0) {
			/* count byte, then NUL-terminated strings */
			for (unsigned k = 1; k < l && n < cap; k++)
				if (v[k] || k + 1 < l)
					n += (size_t)snprintf(out + n, cap - n, "%c", v[k] ? v[k] : ',');
		}
		i += 2 + l;
	}
}

static void
print_request(const uint8_t mac[6], const struct machine *m, int arch, const char *vendor,
    const char *uclass, bool ipxe)
{
	char macs[18], ip[16];

	mac_format(mac, macs);
	printf("client %s\n", macs);
	if (m) {
		ip_format(m->ip, ip);
		printf("  inventory: machine %s, ip %s, role %s, firmware %s, boot %s\n",
		    m->name, m->ip ? ip : "(pool)", m->role ? m->role->name : "-",
		    firmware_name(m->firmware), boot_name(m->boot));
	} else
		printf("  inventory: not listed (unknown machine)\n");
	printf("  request: option 93 %s%d, option 60 \"%s\", option 77 \"%s\"%s\n",
	    arch < 0 ? "absent " : "", arch, vendor, uclass, ipxe ? " (iPXE)" : "");
}

static void
print_address(const struct inventory *inv, const struct machine *m)
{
	char a[16], b[16];

	if (m && m->ip && m->network) {
		ip_format(m->ip, a);
		printf("  yiaddr    %s (reservation, network line %d, %s)\n", a, m->network->line,
		    m->network->dhcp == DHCP_PROXY ? "proxy mode: no address from gridboot" : "full mode");
		return;
	}
	for (size_t i = 0; i < inv->nnetworks; i++) {
		const struct network *n = &inv->networks[i];
		if (n->dhcp == DHCP_OFF)
			continue;
		if (n->dhcp == DHCP_PROXY) {
			printf("  yiaddr    none on the proxy network (line %d): the site's DHCP server gives it\n", n->line);
			continue;
		}
		ip_format(n->pool_lo, a);
		ip_format(n->pool_hi, b);
		if (n->pool_lo)
			printf("  yiaddr    a pool address %s-%s (network line %d)\n", a, b, n->line);
		else
			printf("  yiaddr    none: network line %d has no pool\n", n->line);
	}
}

static void
print_answer(const struct boot_answer *a)
{
	char ip[16], o43[512];

	printf("  1. client: %s%s%s\n", boot_client_name(a->client),
	    a->firmware[0] ? ", firmware " : "", a->firmware);
	printf("  2. decision: %s\n", a->why);
	printf("DHCP fields:\n");
	ip_format(a->siaddr, ip);
	printf("  siaddr    %s\n", a->boot ? ip : "0.0.0.0 (not set)");
	printf("  file      %s\n", a->boot ? a->file : "(empty)");
	if (a->opt66[0])
		printf("  option 66 \"%s\"\n", a->opt66);
	if (a->boot)
		printf("  option 67 \"%s\"\n", a->file);
	if (a->http_client)
		printf("  option 60 \"HTTPClient\"\n");
	if (a->opt43_len) {
		explain_opt43(a->opt43, a->opt43_len, o43, sizeof o43);
		printf("  option 43 (Plan 9 sub-options) %s\n", o43);
	}
	printf("next:\n");
	if (a->nnext == 0)
		printf("  nothing from gridboot\n");
	for (int i = 0; i < a->nnext; i++)
		printf("  %d. %s\n", i + 1, a->next[i]);
}

int
dhcp_explain_cmd(int argc, char **argv, inventory_load_fn *load)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' }, { "config", required_argument, NULL, 'c' },
		{ "mac", required_argument, NULL, 'm' }, { "arch", required_argument, NULL, 'a' },
		{ "vendor-class", required_argument, NULL, 'v' },
		{ "user-class", required_argument, NULL, 'u' }, { NULL, 0, NULL, 0 },
	};
	const char *cfg = "/etc/gridboot/gridboot.cfg", *macs = NULL, *vendor = "", *uclass = "";
	int ch, arch = -1;
	uint8_t mac[6];
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+hc:", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(usage_explain, stdout); return 0;
		case 'c': cfg = optarg; break;
		case 'm': macs = optarg; break;
		case 'a':
			arch = (int)strtol(optarg, &end, 0);
			if (*end || arch < 0 || arch > 65535) {
				fprintf(stderr, "gridbootd: --arch %s: not a number 0..65535\n", optarg);
				return 2;
			}
			break;
		case 'v': vendor = optarg; break;
		case 'u': uclass = optarg; break;
		default: fputs(usage_explain, stderr); return 2;
		}
	}
	if (optind != argc || macs == NULL) {
		fputs(usage_explain, stderr);
		return 2;
	}
	if (!mac_parse(macs, mac)) {
		fprintf(stderr, "gridbootd: --mac %s: not a MAC address like 52:54:00:00:00:11\n", macs);
		return 2;
	}
	struct errlist errs = { 0 };
	struct inventory *inv = load(cfg, &errs);
	if (inv == NULL) {
		errlist_print(&errs, stderr);
		errlist_free(&errs);
		return 1;
	}
	const struct machine *m = inv_machine_by_mac(inv, mac);
	char romvendor[32];
	if (arch < 0 && *vendor == '\0') {
		if (m && rom_arch(m) >= 0) {
			arch = rom_arch(m);
			snprintf(romvendor, sizeof romvendor, "PXEClient:Arch:%05d", arch);
			vendor = romvendor;
			printf("assumed: its %s %s firmware's PXE ROM (option 93 %d, vendor class %s); "
			    "give --arch or --vendor-class to ask as another client\n",
			    arch_name(m->arch), firmware_name(m->firmware), arch, vendor);
		} else
			printf("assumed: a plain DHCP client (no option 93, no vendor class); "
			    "give --arch or --vendor-class to ask as a PXE client\n");
	}
	const struct network *n = m && m->network ? m->network : inv->nnetworks ? &inv->networks[0] : NULL;
	bool ipxe = strcmp(uclass, "iPXE") == 0;
	struct boot_query q = { .inv = inv, .m = m, .mac = mac, .arch = arch, .vendor = vendor,
	    .ipxe = ipxe, .yiaddr = m ? m->ip : 0, .mask = n ? n->mask : 0,
	    .router = n ? n->router : 0 };
	struct boot_answer a;

	boot_decide(&q, &a);
	print_request(mac, m, arch, vendor, uclass, ipxe);
	print_answer(&a);
	printf("address:\n");
	print_address(inv, m);
	/* 9front's EFI loader reads siaddr from the main server's ACK only. */
	if (n && n->dhcp == DHCP_PROXY && str_has_prefix(a.loader, "plan9_efi"))
		printf("warning: proxy mode: 9front's EFI loader takes the server from the site "
		    "DHCP server's ACK (siaddr), not from gridboot's proxy offer; set siaddr "
		    "there or let gridboot run this network in full mode\n");
	inv_unref(inv);
	return 0;
}
