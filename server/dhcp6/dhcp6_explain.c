/* gridbootd explain6: one DHCPv6 client's answer, step by step. The
 * client is named by MAC (as in a DUID-LL, or a relay's option 79) or by
 * DUID; the answer comes from dhcp6_handle's own helpers and the boot
 * decision, so it is what the server sends. */
#include "boot/bootdecide.h"
#include "dhcp6/dhcp6_explain.h"
#include "dhcp6/dhcp6_handle.h"
#include "core/errlist.h"
#include "config/inventory.h"
#include "core/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_explain6[] =
    "usage: gridbootd explain --v6 -c FILE (--mac MAC | --duid HEX) [--arch N]\n"
    "                          [--vendor-class S] [--user-class S] [--server6 ADDR]\n"
    "(--duid or --server6 imply --v6; explain6 is the same command.)\n"
    "Prints what gridboot's DHCPv6 server answers the client: option 61 N\n"
    "(client arch: 7 UEFI x64 PXE, 16 UEFI x64 HTTP, 11 arm64 PXE, 19 arm64\n"
    "HTTP), vendor class S (option 16) and user class S (option 15, \"iPXE\"),\n"
    "the address it gets, option 59 and why. --server6 is the address the\n"
    "server would put in URLs (default grid.server6, else \"SERVER6\").\n";

/* Option 61 of a machine's firmware ROM, as explain does for option 93. */
static int
rom_arch6(const struct machine *m)
{
	if (m->firmware != FW_UEFI)
		return -1;
	return m->arch == ARCH_ARM64 ? 11 : 7;
}

static void
print_address(const struct inventory *inv, const struct machine *m)
{
	char a[46], b[46];

	if (m && m->v6 && m->v6->has_ip6 && m->v6->network6) {
		const struct network *n6 = m->v6->network6;
		ip6_format(m->v6->ip6, a);
		printf("  IA_NA     %s (reservation, network line %d, %s)\n", a, n6->line,
		    n6->dhcp6 == DHCP_PROXY ? "proxy mode: no address from gridboot" : "full mode");
		return;
	}
	for (size_t i = 0; i < inv->nnetworks; i++) {
		const struct network *n = &inv->networks[i];
		if (n->dhcp6 == DHCP_OFF)
			continue;
		if (n->dhcp6 == DHCP_PROXY) {
			printf("  IA_NA     none on the proxy network (line %d): the site's DHCPv6 server gives it\n", n->line);
			continue;
		}
		ip6_format(n->pool6_lo, a);
		ip6_format(n->pool6_hi, b);
		if (!ip6_zero(n->pool6_lo))
			printf("  IA_NA     a pool6 address %s-%s (network line %d)\n", a, b, n->line);
		else
			printf("  IA_NA     none: network line %d has no pool6 (NoAddrsAvail)\n", n->line);
	}
}

int
dhcp6_explain_cmd(int argc, char **argv, inventory_load_fn *load)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' }, { "config", required_argument, NULL, 'c' },
		{ "mac", required_argument, NULL, 'm' }, { "duid", required_argument, NULL, 'd' },
		{ "arch", required_argument, NULL, 'a' },
		{ "vendor-class", required_argument, NULL, 'v' },
		{ "user-class", required_argument, NULL, 'u' },
		{ "server6", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	const char *cfg = "/etc/gridboot/gridboot.cfg", *macs = NULL, *duids = NULL;
	const char *vendor = "", *uclass = "", *server6 = NULL;
	static struct d6_msg req;
	int ch, n;
	char *end;

	memset(&req, 0, sizeof req);
	req.arch = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+hc:", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(usage_explain6, stdout); return 0;
		case 'c': cfg = optarg; break;
		case 'm': macs = optarg; break;
		case 'd': duids = optarg; break;
		case 'a':
			req.arch = (int)strtol(optarg, &end, 0);
			if (*end || req.arch < 0 || req.arch > 65535) {
				fprintf(stderr, "gridbootd: --arch %s: not a number 0..65535\n", optarg);
				return 2;
			}
			break;
		case 'v': vendor = optarg; break;
		case 'u': uclass = optarg; break;
		case 's': server6 = optarg; break;
		default: fputs(usage_explain6, stderr); return 2;
		}
	}
	if (optind != argc || (macs == NULL) == (duids == NULL)) {
		fputs(usage_explain6, stderr);
		return 2;
	}
	if (macs && !mac_parse(macs, req.mac)) {
		fprintf(stderr, "gridbootd: --mac %s: not a MAC address like 52:54:00:00:00:11\n", macs);
		return 2;
	}
	if (macs) {
		/* As a DUID-LL (type 3, Ethernet) would carry it. */
		req.has_mac = true;
		memcpy(req.duid, "\0\3\0\1", 4);
		memcpy(req.duid + 4, req.mac, 6);
		req.duid_len = 10;
	} else if ((n = hex_bytes_parse(duids, req.duid, sizeof req.duid)) < 3) {
		fprintf(stderr, "gridbootd: --duid %s: not a DUID in hex like 00:03:00:01:52:54:00:00:00:11\n", duids);
		return 2;
	} else {
		req.duid_len = (size_t)n;
		uint16_t t = (uint16_t)(req.duid[0] << 8 | req.duid[1]);
		size_t at = t == 1 ? 8 : t == 3 ? 4 : 0;
		if (at && req.duid_len == at + 6 && req.duid[3] == 1) {
			memcpy(req.mac, req.duid + at, 6);
			req.has_mac = true;
		}
	}
	str_copy(req.vendor, vendor, sizeof req.vendor);
	req.ipxe = strcmp(uclass, "iPXE") == 0;
	struct errlist errs = { 0 };
	struct inventory *inv = load(cfg, &errs);
	if (inv == NULL) {
		errlist_print(&errs, stderr);
		errlist_free(&errs);
		return 1;
	}
	char host[46] = "SERVER6";
	if (server6)
		str_copy(host, server6, sizeof host);
	else if (!ip6_zero(inv->grid.server6))
		ip6_format(inv->grid.server6, host);
	const struct machine *m = dhcp6_machine(inv, &req);
	if (req.arch < 0 && req.vendor[0] == '\0' && !req.ipxe) {
		if (m && rom_arch6(m) >= 0) {
			req.arch = rom_arch6(m);
			snprintf(req.vendor, sizeof req.vendor, "PXEClient:Arch:%05d", req.arch);
			printf("assumed: its UEFI firmware's PXE over IPv6 (option 61 %d, vendor class %s); "
			    "give --arch or --vendor-class to ask as another client\n", req.arch, req.vendor);
		} else
			printf("assumed: a plain DHCPv6 client (no option 61, no vendor class); "
			    "give --arch or --vendor-class to ask as a netbooting client\n");
	}
	char ds[3 * DUID_MAX + 1], macstr[18] = "?";
	hex_bytes_format(req.duid, req.duid_len, ds, sizeof ds);
	if (req.has_mac)
		mac_format(req.mac, macstr);
	printf("client DUID %s (MAC %s)\n", ds, macstr);
	if (m)
		printf("  inventory: machine %s (matched by %s), role %s, firmware %s\n", m->name,
		    inv_machine_by_duid(inv, req.duid, req.duid_len) == m ? "duid" : "MAC",
		    m->role ? m->role->name : "-", firmware_name(m->firmware));
	else
		printf("  inventory: not listed (unknown machine)\n");
	printf("  request: option 61 %s%d, option 16 \"%s\", option 15 \"%s\"%s\n",
	    req.arch < 0 ? "absent " : "", req.arch, req.vendor, uclass, req.ipxe ? " (iPXE)" : "");
	struct boot_query q;
	struct boot_answer a;
	dhcp6_boot_query(inv, &req, m, host, &q);
	boot_decide(&q, &a);
	printf("  1. client: %s%s%s\n", boot_client_name(a.client),
	    a.firmware[0] ? ", firmware " : "", a.firmware);
	printf("  2. decision: %s\n", a.why);
	printf("DHCPv6 options:\n");
	printf("  option 59 %s\n", a.boot ? a.file : "(none)");
	if (a.http_client)
		printf("  option 16 \"HTTPClient\"\n");
	printf("next:\n");
	if (a.nnext == 0)
		printf("  nothing from gridboot\n");
	for (int i = 0; i < a.nnext; i++)
		printf("  %d. %s\n", i + 1, a.next[i]);
	printf("address:\n");
	print_address(inv, m);
	inv_unref(inv);
	return 0;
}
