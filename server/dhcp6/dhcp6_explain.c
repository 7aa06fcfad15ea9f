/* gridbootd explain6: one DHCPv6 client's answer, step by step. The
 * client is named by MAC (as in a DUID-LL, or a relay's option 79) or by
 * DUID; the answer comes from dhcp6_handle's own helpers and the boot
 * decision, so it is what the server sends. */
#include "boot/bootdecide.h"
#include "boot/explain.h"
#include "dhcp6/dhcp6_explain.h"
#include "dhcp6/dhcp6_handle.h"
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
rom_name(const struct machine *m, char *out, size_t cap)
{
	(void)m;
	snprintf(out, cap, "UEFI firmware's PXE over IPv6");
}

static const struct network *
reservation(const struct machine *m, char addr[46])
{
	if (m->v6 == NULL || !m->v6->has_ip6 || m->v6->network6 == NULL)
		return NULL;
	ip6_format(m->v6->ip6, addr);
	return m->v6->network6;
}

static enum dhcpmode
mode(const struct network *n)
{
	return n->dhcp6;
}

static bool
pool(const struct network *n, char lo[46], char hi[46])
{
	ip6_format(n->pool6_lo, lo);
	ip6_format(n->pool6_hi, hi);
	return !ip6_zero(n->pool6_lo);
}

static const struct explain_family v6 = {
	.proto = "DHCPv6", .o_arch = 61, .o_vendor = 16, .o_user = 15,
	.netbooter = "a netbooting client", .rom_arch = rom_arch6, .rom_name = rom_name,
	.addr_field = "IA_NA", .pool_word = "pool6", .no_pool = " (NoAddrsAvail)",
	.reservation = reservation, .mode = mode, .pool = pool,
};

static int
explain6(struct d6_msg *rq, int argc, char **argv, inventory_load_fn *load)
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
	int ch, n;
	char *end;

	rq->arch = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+hc:", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(usage_explain6, stdout); return 0;
		case 'c': cfg = optarg; break;
		case 'm': macs = optarg; break;
		case 'd': duids = optarg; break;
		case 'a':
			rq->arch = (int)strtol(optarg, &end, 0);
			if (*end || rq->arch < 0 || rq->arch > 65535) {
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
	if (macs && !mac_parse(macs, rq->mac)) {
		fprintf(stderr, "gridbootd: --mac %s: not a MAC address like 52:54:00:00:00:11\n", macs);
		return 2;
	}
	if (macs) {
		/* As a DUID-LL (type 3, Ethernet) would carry it. */
		rq->has_mac = true;
		memcpy(rq->duid, "\0\3\0\1", 4);
		memcpy(rq->duid + 4, rq->mac, 6);
		rq->duid_len = 10;
	} else if ((n = hex_bytes_parse(duids, rq->duid, sizeof rq->duid)) < 3) {
		fprintf(stderr, "gridbootd: --duid %s: not a DUID in hex like 00:03:00:01:52:54:00:00:00:11\n", duids);
		return 2;
	} else {
		rq->duid_len = (size_t)n;
		uint16_t t = (uint16_t)(rq->duid[0] << 8 | rq->duid[1]);
		size_t at = t == 1 ? 8 : t == 3 ? 4 : 0;
		if (at && rq->duid_len == at + 6 && rq->duid[3] == 1) {
			memcpy(rq->mac, rq->duid + at, 6);
			rq->has_mac = true;
		}
	}
	str_copy(rq->vendor, vendor, sizeof rq->vendor);
	rq->ipxe = strcmp(uclass, "iPXE") == 0;
	struct inventory *inv = explain_load(load, cfg);
	if (inv == NULL)
		return 1;
	char host[46] = "SERVER6";
	if (server6)
		str_copy(host, server6, sizeof host);
	else if (!ip6_zero(inv->grid.server6))
		ip6_format(inv->grid.server6, host);
	const struct machine *m = dhcp6_machine(inv, rq);
	if (rq->arch < 0 && rq->vendor[0] == '\0' && !rq->ipxe)
		rq->arch = explain_assume(&v6, m, rq->vendor, sizeof rq->vendor);
	char ds[3 * DUID_MAX + 1], macstr[18] = "?";
	hex_bytes_format(rq->duid, rq->duid_len, ds, sizeof ds);
	if (rq->has_mac)
		mac_format(rq->mac, macstr);
	printf("client DUID %s (MAC %s)\n", ds, macstr);
	if (m)
		printf("  inventory: machine %s (matched by %s), role %s, firmware %s\n", m->name,
		    inv_machine_by_duid(inv, rq->duid, rq->duid_len) == m ? "duid" : "MAC",
		    m->role ? m->role->name : "-", firmware_name(m->firmware));
	else
		printf("  inventory: not listed (unknown machine)\n");
	explain_request(&v6, rq->arch, rq->vendor, uclass, rq->ipxe);
	struct boot_query q;
	struct boot_answer a;
	dhcp6_boot_query(inv, rq, m, host, &q);
	boot_decide(&q, &a);
	explain_decision(&a);
	printf("DHCPv6 options:\n");
	printf("  option 59 %s\n", a.boot ? a.file : "(none)");
	if (a.http_client)
		printf("  option 16 \"HTTPClient\"\n");
	explain_next(&a);
	explain_address(&v6, inv, m);
	inv_unref(inv);
	return 0;
}

int
dhcp6_explain_cmd(int argc, char **argv, inventory_load_fn *load)
{
	/* A whole message (relay layers, IAs): on the heap, neither on the
	 * stack nor in a static that outlives the command. */
	struct d6_msg *rq = ecalloc(1, sizeof *rq);
	int rc = explain6(rq, argc, argv, load);

	free(rq);
	return rc;
}
