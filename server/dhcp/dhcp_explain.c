/* gridbootd explain -c FILE --mac M [--arch N] [--vendor-class S]
 * [--user-class S]: prints each step of the answer for one client. */
#include "boot/bootdecide.h"
#include "boot/explain.h"
#include "dhcp/dhcp_explain.h"
#include "dhcp/dhcp_handle.h"
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

static void
rom_name(const struct machine *m, char *out, size_t cap)
{
	snprintf(out, cap, "%s %s firmware's PXE ROM", arch_name(m->arch),
	    firmware_name(m->firmware));
}

static const struct network *
reservation(const struct machine *m, char addr[46])
{
	if (m->ip == 0 || m->network == NULL)
		return NULL;
	ip_format(m->ip, addr);
	return m->network;
}

static enum dhcpmode
mode(const struct network *n)
{
	return n->dhcp;
}

static bool
pool(const struct network *n, char lo[46], char hi[46])
{
	ip_format(n->pool_lo, lo);
	ip_format(n->pool_hi, hi);
	return n->pool_lo != 0;
}

static const struct explain_family v4 = {
	.proto = "DHCP", .o_arch = 93, .o_vendor = 60, .o_user = 77,
	.netbooter = "a PXE client", .rom_arch = rom_arch, .rom_name = rom_name,
	.addr_field = "yiaddr", .pool_word = "pool", .no_pool = "",
	.reservation = reservation, .mode = mode, .pool = pool,
};

/* The inventory line, as DHCP knows a machine (its IPv4 address). */
static void
print_client(const uint8_t mac[6], const struct machine *m)
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
print_answer(const struct boot_answer *a)
{
	char ip[16], o43[512];

	explain_decision(a);
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
	explain_next(a);
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
	struct inventory *inv = explain_load(load, cfg);
	if (inv == NULL)
		return 1;
	const struct machine *m = inv_machine_by_mac(inv, mac);
	char romvendor[32];
	if (arch < 0 && *vendor == '\0' &&
	    (arch = explain_assume(&v4, m, romvendor, sizeof romvendor)) >= 0)
		vendor = romvendor;
	const struct network *n = m && m->network ? m->network : inv->nnetworks ? &inv->networks[0] : NULL;
	bool ipxe = strcmp(uclass, "iPXE") == 0;
	struct boot_query q = { .inv = inv, .m = m, .mac = mac, .arch = arch, .vendor = vendor,
	    .ipxe = ipxe, .yiaddr = m ? m->ip : 0, .mask = n ? n->mask : 0,
	    .router = n ? n->router : 0 };
	struct boot_answer a;

	boot_decide(&q, &a);
	print_client(mac, m);
	explain_request(&v4, arch, vendor, uclass, ipxe);
	print_answer(&a);
	explain_address(&v4, inv, m);
	/* 9front's EFI loader reads siaddr from the main server's ACK only. */
	if (n && n->dhcp == DHCP_PROXY && str_has_prefix(a.loader, "plan9_efi"))
		printf("warning: proxy mode: 9front's EFI loader takes the server from the site "
		    "DHCP server's ACK (siaddr), not from gridboot's proxy offer; set siaddr "
		    "there or let gridboot run this network in full mode\n");
	inv_unref(inv);
	return 0;
}
