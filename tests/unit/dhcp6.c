/* DHCPv6 without sockets: the parser's limits (relay depth, IA count),
 * the state machine over the lease table (reservations by DUID and MAC,
 * Advertise/Request/Renew/Release/Decline/Confirm, rapid commit, proxy
 * mode), the journal replay, and the bounds an attacker meets: a flood of
 * made-up DUIDs costs at most the pool, one DUID at most
 * D6_MAX_PER_CLIENT addresses. */
#include "unit.h"
#include "core/store.h"
#include "core/util.h"
#include "unit_inv.h"
#include "dhcp6/dhcp6_handle.h"
#include "dhcp6/dhcp6_lease.h"
#include "dhcp6/dhcp6_packet.h"
#include "config/inventory.h"
#include "core/util.h"

#include <stdlib.h>
#include <unistd.h>

static const char cfg[] =
    "grid = { name = \"t\"; server = \"10.0.0.1\"; server6 = \"fd9a::1\"; files = \"/tmp\";\n"
    "  state = \"/tmp\"; unknown = \"cpu\"; loaders = { ipxe_efi_x64 = \"ipxe.efi\"; }; };\n"
    "networks = ( { subnet = \"10.0.0.0/24\"; subnet6 = \"fd9a::/64\"; pool6 = \"fd9a::100-fd9a::103\";\n"
    "               dns6 = [\"fd9a::53\"]; lease = 600; },\n"
    "             { subnet = \"10.1.0.0/24\"; subnet6 = \"fd9b::/64\"; dhcp6 = \"proxy\"; } );\n"
    "kernels = ( { name = \"9pc64\"; arch = \"amd64\"; file = \"amd64/9pc64\"; } );\n"
    "roles = { cpu = { kernel = \"9pc64\"; boot = \"ipxe\"; }; };\n"
    "machines = ( { name = \"byduid\"; mac = \"52:54:00:00:00:11\"; role = \"cpu\"; ip6 = \"fd9a::11\";\n"
    "               duid = \"00:02:00:00:00:09:01:02:03\"; },\n"
    "             { name = \"bymac\"; mac = \"52:54:00:00:00:12\"; role = \"cpu\"; ip6 = \"fd9a::12\"; } );\n";

static struct inventory *inv;
static struct dhcp6_leases *lt;
static struct store *st;        /* the files store in dir */
static char dir[] = "/tmp/gbd-d6-XXXXXX";
static const uint8_t sid[] = { 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static struct d6_msg
msg(uint8_t type, uint32_t who)
{
	struct d6_msg m;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.arch = -1;
	/* DUID-EN with a counter: no MAC in it. */
	memcpy(m.duid, "\0\2\0\0\0\x09", 6);
	m.duid[6] = (uint8_t)(who >> 16);
	m.duid[7] = (uint8_t)(who >> 8);
	m.duid[8] = (uint8_t)who;
	m.duid_len = 9;
	m.nia = 1;
	m.ia[0].iaid = 1;
	if (type != D6_SOLICIT && type != D6_CONFIRM && type != D6_REBIND &&
	    type != D6_INFORMATION_REQUEST) {
		memcpy(m.sid, sid, sizeof sid);
		m.sid_len = sizeof sid;
	}
	return m;
}

static void
ask(int net, const struct d6_msg *m, struct dhcp6_out *o)
{
	struct dhcp6_ctx c = { .leases = lt, .inv = inv, .net = &inv->networks[net],
	    .host6 = "fd9a::1", .sid = sid, .sid_len = sizeof sid, .now_ms = wall_ms() };
	dhcp6_handle(&c, m, o);
}

static bool
addr_is(const struct dhcp6_out *o, int k, const char *want)
{
	uint8_t a[16];
	return ip6_parse(want, a) && o->reply.ia[k].has_addr && memcmp(o->reply.ia[k].addr, a, 16) == 0;
}

static void
test_parse(void)
{
	uint8_t buf[8192];
	struct d6_msg m;
	size_t n = 0, inner;
	static const uint8_t sol[] = { 1, 0, 0, 1, 0, 1, 0, 3, 0, 2, 0 };

	/* A Solicit inside 32 Relay-Forwards parses; inside 33 it does not. */
	for (int depth = 32; depth <= 33; depth++) {
		memcpy(buf, sol, sizeof sol);
		n = sizeof sol;
		for (int i = 0; i < depth; i++) {
			inner = n;
			memmove(buf + 34 + 4, buf, inner);
			memset(buf, 0, 34);
			buf[0] = D6_RELAY_FORW;
			buf[34] = 0;
			buf[35] = D6O_RELAY_MSG;
			buf[36] = (uint8_t)(inner >> 8);
			buf[37] = (uint8_t)inner;
			n = inner + 38;
		}
		enum d6_perr e = dhcp6_parse(buf, n, &m);
		if (depth == 32)
			CHECK(e == D6P_OK && m.nrelay == 32 && m.type == D6_SOLICIT,
			    "32 relay layers parse (%s)", dhcp6_perr_name[e]);
		else
			CHECK(e == D6P_HOPS, "33 relay layers are dropped as hops (%s)", dhcp6_perr_name[e]);
	}
	/* DUID-LLT of an Ethernet NIC names its MAC. */
	static const uint8_t llt[] = { 1, 0, 0, 1, 0, 1, 0, 14, 0, 1, 0, 1, 0, 0, 0, 0,
	    0x52, 0x54, 0, 0, 0, 0x12 };
	CHECK(dhcp6_parse(llt, sizeof llt, &m) == D6P_OK && m.has_mac && m.mac[5] == 0x12,
	    "the MAC comes from a DUID-LLT");
	uint8_t mac[6], ll[16];
	ip6_parse("fe80::5054:ff:fe00:12", ll);
	CHECK(dhcp6_mac_from_eui64(ll, mac) && memcmp(mac, "\x52\x54\x00\x00\x00\x12", 6) == 0,
	    "the MAC comes from an EUI-64 link-local address");
}

static void
test_reservations(void)
{
	struct dhcp6_out o;
	struct d6_msg m = msg(D6_SOLICIT, 0);

	/* machine byduid's DUID is 00:02:00:00:00:09:01:02:03 */
	m.duid[6] = 1, m.duid[7] = 2, m.duid[8] = 3;
	ask(0, &m, &o);
	CHECK(o.send && o.reply.type == D6_ADVERTISE && addr_is(&o, 0, "fd9a::11"),
	    "reservation by DUID");
	CHECK(o.reply.preference, "a full network's Advertise carries Preference 255");
	m = msg(D6_SOLICIT, 77);
	m.has_mac = true;
	memcpy(m.mac, "\x52\x54\x00\x00\x00\x12", 6);
	m.arch = 7;
	ask(0, &m, &o);
	CHECK(addr_is(&o, 0, "fd9a::12"), "reservation by MAC");
	CHECK_STR(o.reply.url, "tftp://[fd9a::1]/ipxe.efi", "option 59 for UEFI x64 PXE");
	CHECK(o.reply.ndns == 1, "option 23 from dns6");
}

static void
test_lifecycle(void)
{
	struct dhcp6_out o;
	struct d6_msg m = msg(D6_SOLICIT, 1);
	uint8_t got[16];

	m.rapid = true;
	ask(0, &m, &o);
	CHECK(o.send && o.commit && o.reply.type == D6_REPLY && o.reply.rapid &&
	    o.reply.ia[0].has_addr, "rapid commit: Reply, journaled");
	memcpy(got, o.reply.ia[0].addr, 16);
	m = msg(D6_RENEW, 1);
	ask(0, &m, &o);
	CHECK(o.commit && memcmp(o.reply.ia[0].addr, got, 16) == 0, "Renew keeps the address");
	m = msg(D6_REQUEST, 1);
	m.sid[5] ^= 1;
	ask(0, &m, &o);
	CHECK(!o.send, "a Request for another server is ignored");
	/* Replay: the binding is back after a restart. */
	dhcp6_lease_sync(lt);
	dhcp6_lease_close(lt);
	lt = dhcp6_lease_open(st, 64);
	struct d6_lease *e = dhcp6_lease_by_addr(lt, got);
	CHECK(e && e->state == L6_BOUND && e->iaid == 1, "the binding is replayed from the journal");
	m = msg(D6_RELEASE, 1);
	ask(0, &m, &o);
	e = dhcp6_lease_by_addr(lt, got);
	CHECK(o.send && o.reply.has_status && e && e->state == L6_FREE, "Release frees it");
	m = msg(D6_CONFIRM, 1);
	m.ia[0].has_addr = true;
	ip6_parse("fd77::5", m.ia[0].addr);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.status == D6S_NOT_ON_LINK, "Confirm of a foreign address: NotOnLink");
	m = msg(D6_INFORMATION_REQUEST, 1);
	m.nia = 0;
	m.ipxe = true;
	ask(0, &m, &o);
	CHECK_STR(o.reply.url, "http://[fd9a::1]:80/boot.ipxe", "Information-request from iPXE");
}

/* A journal written before the store (address first) is read, and
 * rewritten in the store's form (owner first). */
static void
test_legacy(void)
{
	char *path = esprintf("%s/dhcp6.leases", dir), *text;
	const char *old = "B fd9a::77 000300015254000000aa 7 4102444800 5254000000aa\n"
	    "B fd9a::78 000300015254000000bb 8 4102444800 -\n"
	    "F fd9a::78\n"
	    "D fd9a::79 4102444800\n";
	uint8_t a[16];
	size_t len;

	CHECK(write_file_atomic(path, old, strlen(old)) == 0, "an old-form journal written");
	lt = dhcp6_lease_open(st, 64);
	ip6_parse("fd9a::77", a);
	struct d6_lease *e = lt ? dhcp6_lease_by_addr(lt, a) : NULL;
	CHECK(e && e->state == L6_BOUND && e->iaid == 7 && e->duid_len == 10 && e->has_mac &&
	    e->mac[5] == 0xaa, "its binding is read (IAID 7, the DUID, the MAC)");
	ip6_parse("fd9a::78", a);
	e = lt ? dhcp6_lease_by_addr(lt, a) : NULL;
	CHECK(e && e->state == L6_FREE, "its release by address is read");
	ip6_parse("fd9a::79", a);
	e = lt ? dhcp6_lease_by_addr(lt, a) : NULL;
	CHECK(e && e->state == L6_DECLINED, "its decline is read");
	dhcp6_lease_close(lt);
	text = read_state_file(path, &len, 4 << 20);
	CHECK(text && strstr(text, "B 000300015254000000aa.7 fd9a::77 4102444800 5254000000aa\n") &&
	    strstr(text, "D fd9a::79 4102444800\n") && !strstr(text, "fd9a::78"),
	    "and rewritten in the store's form (owner first, the release gone)");
	if (text && !strstr(text, "B 000300015254000000aa.7 fd9a::77"))
		printf("#   the journal: %s\n", text);
	free(text);
	unlink(path);
	free(path);
	lt = NULL;
}

static void
test_bounds(void)
{
	struct dhcp6_out o;
	struct d6_msg m;
	int got = 0;

	/* One DUID cycling IAIDs: D6_MAX_PER_CLIENT addresses at most. */
	for (uint32_t k = 0; k < 6; k++) {
		m = msg(D6_SOLICIT, 500);
		m.ia[0].iaid = 100 + k;
		ask(0, &m, &o);
		got += o.reply.ia[0].has_addr;
	}
	CHECK(got <= D6_MAX_PER_CLIENT, "one DUID gets at most %d addresses (%d)", D6_MAX_PER_CLIENT, got);
	/* A flood of made-up DUIDs: the table stays within the pool. */
	for (uint32_t k = 0; k < 2000; k++) {
		m = msg(D6_SOLICIT, 1000 + k);
		ask(0, &m, &o);
	}
	CHECK(dhcp6_lease_count(lt) <= 4 + 2, "2000 DUIDs cost at most the pool (%lu entries)",
	    dhcp6_lease_count(lt));
	CHECK(o.send && o.reply.ia[0].status == D6S_NO_ADDRS, "a full pool answers NoAddrsAvail");
	/* Proxy mode: boot options, no address; plain clients get nothing. */
	m = msg(D6_SOLICIT, 9);
	ask(1, &m, &o);
	CHECK(!o.send, "proxy mode ignores a client that is not netbooting");
	m.arch = 16;
	ask(1, &m, &o);
	CHECK(o.send && !o.reply.ia[0].has_addr && o.reply.ia[0].status == D6S_NO_ADDRS &&
	    o.reply.http_client && o.reply.url && strncmp(o.reply.url, "http://[", 8) == 0,
	    "proxy mode: UEFI HTTP boot gets a URL and no address");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL || (inv = unit_inventory(cfg)) == NULL) {
		printf("not ok 1 - setup\n");
		return 1;
	}
	st = store_new(NULL, "files", dir, "unit");
	test_legacy();
	lt = dhcp6_lease_open(st, 64);
	test_parse();
	test_reservations();
	test_lifecycle();
	test_bounds();
	dhcp6_lease_close(lt);
	store_free(st);
	inv_unref(inv);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_DONE();
}
