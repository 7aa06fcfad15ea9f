/* The lease table and journal (replay, torn tail, compaction) and the DHCP
 * state machine on top of it (offers, ACKs, NAKs, declines, pool
 * exhaustion, proxy mode), without sockets. */
#include "unit.h"
#include "unit_inv.h"
#include "dhcp/dhcp_handle.h"
#include "dhcp/dhcp_lease.h"
#include "config/discovered.h"
#include "config/inventory.h"
#include "core/store.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const char cfg[] =
    "grid = { name = \"t\"; server = \"10.0.0.1\"; files = \"/tmp\"; state = \"/tmp\";\n"
    "  unknown = \"cpu\"; loaders = { ipxe_bios = \"undionly.kpxe\"; }; };\n"
    "networks = ( { subnet = \"10.0.0.0/24\"; router = \"10.0.0.1\"; pool = \"10.0.0.100-10.0.0.102\"; },\n"
    "             { subnet = \"10.1.0.0/24\"; dhcp = \"proxy\"; } );\n"
    "kernels = ( { name = \"9pc64\"; arch = \"amd64\"; file = \"amd64/9pc64\"; } );\n"
    "roles = { cpu = { kernel = \"9pc64\"; }; };\n"
    "machines = ( { name = \"m1\"; mac = \"52:54:00:00:00:11\"; ip = \"10.0.0.11\";\n"
    "  arch = \"amd64\"; firmware = \"bios\"; role = \"cpu\"; } );\n";

static struct inventory *inv;
static char dir[] = "/tmp/gbd-lease-XXXXXX";
/* The table under test and its pool memo, as the DHCP server holds them. */
static struct dhcp_leases *lt;
static struct store *st;        /* the files store in dir */
static struct dhcp_pools pools;
static uint32_t src_ip;         /* the source address ask() says a packet came from */

/* Opens the table in dir with a fresh pool memo, as dhcp_init does. */
static bool
open_table(void)
{
	memset(&pools, 0, sizeof pools);
	if (st == NULL)
		st = store_new(NULL, "files", dir, "unit");
	lt = dhcp_lease_open(st);
	return lt != NULL;
}

static void
close_table(void)
{
	dhcp_lease_close(lt);
	lt = NULL;
}

static struct dhcp_msg
msg(uint8_t type, uint8_t last, uint32_t reqip, uint32_t serverid)
{
	struct dhcp_msg m = { .op = 1, .htype = 1, .hlen = 6, .type = type, .reqip = reqip,
	    .serverid = serverid, .arch = -1, .xid = 7 };
	uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, last };
	memcpy(m.chaddr, mac, 6);
	return m;
}

static void
ask(int net, const struct dhcp_msg *m, struct dhcp_out *o)
{
	struct dhcp_ctx c = { .leases = lt, .pools = &pools, .inv = inv, .net = &inv->networks[net],
	    .server_id = net ? 0x0a010001 : 0x0a000001, .now_ms = wall_ms(), .src = src_ip };
	dhcp_handle(&c, m, o);
}

/* No reply, for exactly this reason (any silence is not enough: a check
 * must fail when the client is ignored for some other cause). */
static bool
silent_because(const struct dhcp_out *o, const char *why)
{
	if (o->send || o->why == NULL || strcmp(o->why, why) != 0) {
		printf("#   sent %d, why \"%s\", want silence for \"%s\"\n", o->send,
		    o->why ? o->why : "(null)", why);
		return false;
	}
	return true;
}

static size_t
lines(const char *path)
{
	size_t len = 0, n = 0;
	char *t = read_file(path, &len, 1 << 24);
	for (size_t i = 0; t && i < len; i++)
		n += t[i] == '\n';
	free(t);
	return n;
}

static void
journal_tests(void)
{
	uint8_t a[6] = { 2, 0, 0, 0, 0, 1 }, b[6] = { 2, 0, 0, 0, 0, 2 };
	int64_t later = wall_ms() + 3600000;
	char *path = esprintf("%s/dhcp.leases", dir);

	bool first = open_table();
	CHECK(first, "journal opens in an empty state dir");
	int ba = dhcp_lease_bind(lt, a, 0x0a000064, later, "host a");
	int bb = dhcp_lease_bind(lt, b, 0x0a000065, later, NULL);
	uint8_t n4[6] = { 2, 0, 0, 0, 0, 4 };
	int bn = dhcp_lease_bind(lt, n4, 0x0a000067, later, NULL);
	CHECK(ba == 0 && bb == 0 && bn == 0, "bind a, b and a nameless client");
	CHECK_STR(dhcp_lease_by_mac(lt, n4) ? dhcp_lease_by_mac(lt, n4)->hostname : NULL, "",
	    "no hostname is an empty one, not the journal's \"-\"");
	dhcp_lease_release(lt, b);
	dhcp_lease_decline(lt, 0x0a000066, later);
	bool was_dirty = dhcp_lease_dirty(lt);
	int synced = dhcp_lease_sync(lt);
	CHECK(was_dirty && synced == 0 && !dhcp_lease_dirty(lt), "sync clears dirty");
	CHECK(dhcp_lease_taken(lt, 0x0a000064, b, wall_ms()) && !dhcp_lease_taken(lt, 0x0a000064, a, wall_ms()),
	    "a's address is taken for b, not for a");
	CHECK(!dhcp_lease_taken(lt, 0x0a000065, a, wall_ms()), "a released address is free");
	CHECK(dhcp_lease_taken(lt, 0x0a000066, a, wall_ms()), "a declined address is taken");
	close_table();

	/* A torn record at the end (kill -9 mid-write) is ignored on replay. */
	int fd = open(path, O_WRONLY | O_APPEND);
	ssize_t wrote = fd >= 0 ? write(fd, "B 020000000003 10.0.0.", 22) : -1;
	CHECK(wrote == 22, "append a torn record");
	close(fd);
	bool opened = open_table();
	CHECK(opened, "journal replays");
	struct dhcp_lease *e = dhcp_lease_by_mac(lt, a);
	CHECK(e && e->ip == 0x0a000064 && e->state == LS_BOUND, "a is bound after replay");
	CHECK_STR(e ? e->hostname : NULL, "host_a", "hostname kept (spaces made safe)");
	e = dhcp_lease_by_mac(lt, b);
	CHECK(e == NULL || e->state != LS_BOUND, "b stays released");
	CHECK(dhcp_lease_by_ip(lt, 0x0a000066) && dhcp_lease_by_ip(lt, 0x0a000066)->state == LS_DECLINED, "decline kept");
	uint8_t c3[6] = { 2, 0, 0, 0, 0, 3 };
	CHECK(dhcp_lease_by_mac(lt, c3) == NULL, "the torn record bound nothing");
	CHECK_STR(dhcp_lease_by_mac(lt, n4) ? dhcp_lease_by_mac(lt, n4)->hostname : NULL, "",
	    "the nameless client is still nameless after replay");
	CHECK(lines(path) == 3, "replay compacted the journal to live records (%zu)", lines(path));

	/* Many rebinds: the journal is compacted once it is mostly history. */
	for (int i = 0; i < 6000; i++)
		dhcp_lease_bind(lt, a, 0x0a000064, later, "a");
	dhcp_lease_sync(lt);
	CHECK(lines(path) < 100, "compaction after 6000 rebinds (%zu lines)", lines(path));
	close_table();
	opened = open_table();
	CHECK(opened && dhcp_lease_by_mac(lt, a) && dhcp_lease_by_mac(lt, a)->state == LS_BOUND,
	    "still bound after compaction and reopen");
	close_table();

	/* A disk that will not let the journal grow (RLIMIT_FSIZE just under
	 * its size): the syncs fail, records wait, and past 4 MiB of them a bind
	 * is refused. A refused bind must never become durable with a later
	 * sync, or a renewal would be answered from it without a write. */
	opened = open_table();
	struct stat sb;
	struct rlimit old_fsize, fsize;
	CHECK(opened && stat(path, &sb) == 0 && getrlimit(RLIMIT_FSIZE, &old_fsize) == 0, "reopened");
	signal(SIGXFSZ, SIG_IGN);
	fsize = old_fsize;
	fsize.rlim_cur = (rlim_t)sb.st_size - 100;     /* a compaction fails too */
	setrlimit(RLIMIT_FSIZE, &fsize);
	int64_t refused_until = 0;
	int failed = 0;
	for (int i = 0; i < 400000 && refused_until == 0 && opened; i++) {
		int64_t u = later + (int64_t)i * 1000;
		if (dhcp_lease_bind(lt, a, 0x0a000064, u, "a") < 0)
			refused_until = u;
		else if (i % 1000 == 999) {
			int sfd = dhcp_lease_sync_begin(lt, NULL, NULL);
			int err = sfd < 0 ? EIO : fdatasync(sfd) < 0 ? errno : 0;
			failed += dhcp_lease_sync_end(lt, err) < 0;
		}
	}
	setrlimit(RLIMIT_FSIZE, &old_fsize);
	CHECK(failed > 0 && refused_until > 0, "the journal cannot grow: syncs fail (%d), then a bind "
	    "is refused", failed);
	fd = opened ? dhcp_lease_sync_begin(lt, NULL, NULL) : -1;
	synced = fd >= 0 && fdatasync(fd) == 0 ? dhcp_lease_sync_end(lt, 0) : -1;
	CHECK(synced == 0, "the disk back: the waiting records are written and synced");
	e = opened ? dhcp_lease_by_mac(lt, a) : NULL;
	CHECK(e && e->durable_ms > 0 && e->durable_ms < refused_until,
	    "the refused bind did not become durable (durable to %lld, refused to %lld)",
	    e ? (long long)e->durable_ms : 0LL, (long long)refused_until);
	close_table();
	unlink(path);
	free(path);
}

static void
handle_tests(void)
{
	struct dhcp_out o;
	struct dhcp_msg m;

	bool fresh = open_table();
	CHECK(fresh, "fresh table");
	m = msg(DHCPDISCOVER, 0x11, 0, 0);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.type == DHCPOFFER && o.reply.yiaddr == 0x0a00000b, "reserved machine offered its address");
	m = msg(DHCPREQUEST, 0x11, 0x0a000064, 0x0a000001);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.type == DHCPNAK, "reserved machine asking for a pool address: NAK");

	m = msg(DHCPDISCOVER, 0x21, 0, 0);
	ask(0, &m, &o);
	uint32_t ip = o.reply.yiaddr;
	CHECK(o.send && o.reply.type == DHCPOFFER && ip >= 0x0a000064 && ip <= 0x0a000066, "pool offer");
	m = msg(DHCPREQUEST, 0x21, ip, 0x0a000001);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.type == DHCPACK && o.commit, "selecting REQUEST: ACK held for the journal sync");
	/* Asked again at once: before the sync another write (nothing is
	 * known durable yet), after it the same answer and no write. */
	m = msg(DHCPREQUEST, 0x21, ip, 0);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.type == DHCPACK && o.commit, "asked again before the sync: written again");
	CHECK(dhcp_lease_sync(lt) == 0, "the sync");
	unsigned long recs = dhcp_lease_count(lt);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.type == DHCPACK && !o.commit && o.lease_left > 0 &&
	    dhcp_lease_count(lt) == recs,
	    "asked again after it: ACKed from the durable lease, no write (lease %u s)", o.lease_left);
	m = msg(DHCPREQUEST, 0x22, ip, 0);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.type == DHCPNAK, "another client asking for that address: NAK");
	m = msg(DHCPREQUEST, 0x21, 0x0a020005, 0);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.type == DHCPNAK, "INIT-REBOOT on another network: NAK");
	m = msg(DHCPREQUEST, 0x22, 0x0a000065, 0x0a000099);
	ask(0, &m, &o);
	CHECK(silent_because(&o, "client chose another server"), "REQUEST naming another server: silent");

	/* Decline one address; the pool of 3 then holds two more clients. */
	m = msg(DHCPDISCOVER, 0x23, 0, 0);
	ask(0, &m, &o);
	uint32_t bad = o.reply.yiaddr;
	/* RFC 2131 4.3.3: a DECLINE counts only from the client the address
	 * was offered or bound to. Another host naming it changes nothing. */
	m = msg(DHCPDECLINE, 0x29, ip, 0x0a000001);
	ask(0, &m, &o);
	CHECK(silent_because(&o, "decline ignored: not this client's address") &&
	    dhcp_lease_by_ip(lt, ip) && dhcp_lease_by_ip(lt, ip)->state == LS_BOUND,
	    "DECLINE of another client's bound address: ignored, the lease stays");
	m = msg(DHCPDECLINE, 0x29, bad, 0x0a000001);
	ask(0, &m, &o);
	CHECK(silent_because(&o, "decline ignored: not this client's address") &&
	    dhcp_lease_by_ip(lt, bad) && dhcp_lease_by_ip(lt, bad)->state == LS_OFFERED,
	    "DECLINE of another client's offered address: ignored");
	m = msg(DHCPDECLINE, 0x23, bad, 0x0a000001);
	ask(0, &m, &o);
	CHECK(!o.send && dhcp_lease_taken(lt, bad, m.chaddr, wall_ms()), "DECLINE marks the address unusable");
	m = msg(DHCPDISCOVER, 0x24, 0, 0);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.yiaddr != bad && o.reply.yiaddr != ip, "next client avoids bound and declined");
	m = msg(DHCPDISCOVER, 0x25, 0, 0);
	ask(0, &m, &o);
	CHECK(silent_because(&o, "pool exhausted"), "pool exhausted: silent");

	/* RFC 2131 4.3.4: a RELEASE names the lease by chaddr and ciaddr; one
	 * whose ciaddr is not the client's address frees nothing. */
	m = msg(DHCPRELEASE, 0x21, 0, 0x0a000001);
	ask(0, &m, &o);
	CHECK(silent_because(&o, "release ignored: ciaddr is not this client's address") &&
	    dhcp_lease_by_ip(lt, ip) && dhcp_lease_by_ip(lt, ip)->state == LS_BOUND,
	    "RELEASE without ciaddr: the lease stays");
	m = msg(DHCPRELEASE, 0x21, 0, 0x0a000001);
	m.ciaddr = ip == 0x0a000064 ? 0x0a000065 : 0x0a000064;
	ask(0, &m, &o);
	CHECK(silent_because(&o, "release ignored: ciaddr is not this client's address") &&
	    dhcp_lease_by_ip(lt, ip) && dhcp_lease_by_ip(lt, ip)->state == LS_BOUND,
	    "RELEASE with another ciaddr: the lease stays");
	/* RELEASE frees the address for the next client. */
	m = msg(DHCPRELEASE, 0x21, 0, 0x0a000001);
	m.ciaddr = ip;
	ask(0, &m, &o);
	CHECK(silent_because(&o, "released"), "RELEASE with chaddr and ciaddr of the lease");
	m = msg(DHCPDISCOVER, 0x25, 0, 0);
	ask(0, &m, &o);
	CHECK(o.send && o.reply.yiaddr == ip, "released address offered again");

	/* INFORM is answered to ciaddr: only from that address itself and
	 * only on the network it arrived for, or anyone could aim our
	 * replies at any host. */
	m = msg(DHCPINFORM, 0x26, 0, 0);
	m.ciaddr = 0xc0a80105;
	src_ip = 0xc0a80105;
	ask(0, &m, &o);
	CHECK(silent_because(&o, "inform ignored: ciaddr not on this network"),
	    "INFORM with a ciaddr of another network: silent");
	m.ciaddr = 0x0a000032;
	src_ip = 0x0a000033;
	ask(0, &m, &o);
	CHECK(silent_because(&o, "inform ignored: not sent from ciaddr"),
	    "INFORM from an address other than its ciaddr: silent");
	src_ip = 0x0a000032;
	ask(0, &m, &o);
	CHECK(o.send && o.reply.type == DHCPACK && o.reply.yiaddr == 0 && o.reply.ciaddr == 0x0a000032,
	    "INFORM: ACK without an address");

	/* Proxy network: PXE clients get boot fields, nobody gets an address. */
	m = msg(DHCPDISCOVER, 0x31, 0, 0);
	ask(1, &m, &o);
	CHECK(silent_because(&o, "proxy mode: not a PXE client"), "proxy: a plain client is ignored");
	snprintf(m.vendor, sizeof m.vendor, "PXEClient:Arch:00000");
	m.arch = 0;
	ask(1, &m, &o);
	CHECK(o.send && o.reply.type == DHCPOFFER && o.reply.yiaddr == 0, "proxy OFFER has no address");
	CHECK_STR(o.reply.file, "undionly.kpxe", "proxy OFFER names the loader");
	m.type = DHCPREQUEST;
	ask(1, &m, &o);
	CHECK(silent_because(&o, "proxy mode: nothing to say to this message"),
	    "proxy: a REQUEST to the site server on port 67 is not ours");
	close_table();
}

/* DISCOVERs from 5000 made-up MACs, each arriving after the last offer
 * ran out: the table keeps one entry per pool address, not per MAC. */
static void
flood_tests(void)
{
	struct dhcp_ctx c = { .inv = inv, .net = &inv->networks[0], .server_id = 0x0a000001,
	    .now_ms = wall_ms() };
	struct dhcp_out o;
	unsigned offered = 0;

	CHECK(open_table(), "flood: lease table opens");
	c.leases = lt;
	c.pools = &pools;
	for (uint32_t k = 0; k < 5000; k++) {
		struct dhcp_msg m = msg(DHCPDISCOVER, 0, 0, 0);
		m.chaddr[3] = (uint8_t)(k >> 16);
		m.chaddr[4] = (uint8_t)(k >> 8);
		m.chaddr[5] = (uint8_t)k;
		m.chaddr[2] = 0x77;
		dhcp_handle(&c, &m, &o);
		offered += o.send && o.reply.type == DHCPOFFER;
		c.now_ms += DHCP_OFFER_HOLD_MS + 1;
	}
	CHECK(offered == 5000, "flood: every DISCOVER got an offer once the last ran out (%u)", offered);
	CHECK(dhcp_lease_count(lt) <= 4, "flood: %lu entries for a 3-address pool", dhcp_lease_count(lt));
	struct dhcp_msg m = msg(DHCPDISCOVER, 0x41, 0, 0);
	dhcp_handle(&c, &m, &o);
	CHECK(o.send && o.reply.yiaddr >= 0x0a000064 && o.reply.yiaddr <= 0x0a000066,
	    "flood: a real client still gets a pool address");

	/* A full pool is remembered, but not past the first offer's end nor
	 * past a release. */
	for (uint8_t k = 0x42; k < 0x44; k++) {
		m = msg(DHCPDISCOVER, k, 0, 0);
		dhcp_handle(&c, &m, &o);
	}
	m = msg(DHCPDISCOVER, 0x44, 0, 0);
	dhcp_handle(&c, &m, &o);
	CHECK(silent_because(&o, "pool exhausted"), "full pool: a fourth client is refused");
	c.now_ms += DHCP_OFFER_HOLD_MS / 2;
	dhcp_handle(&c, &m, &o);
	CHECK(silent_because(&o, "pool exhausted"), "full pool: still refused while the offers hold");
	c.now_ms += DHCP_OFFER_HOLD_MS / 2 + 1;
	dhcp_handle(&c, &m, &o);
	CHECK(o.send && o.reply.type == DHCPOFFER, "full pool: offered once the offers ran out");
	for (uint8_t k = 0x45; k < 0x47; k++) {
		m = msg(DHCPDISCOVER, k, 0, 0);
		dhcp_handle(&c, &m, &o);
		m.type = DHCPREQUEST;
		m.reqip = o.reply.yiaddr;
		m.serverid = 0x0a000001;
		dhcp_handle(&c, &m, &o);
	}
	m = msg(DHCPDISCOVER, 0x47, 0, 0);
	dhcp_handle(&c, &m, &o);
	CHECK(silent_because(&o, "pool exhausted"), "full pool: a client after two binds is refused");
	m = msg(DHCPRELEASE, 0x45, 0, 0x0a000001);
	m.ciaddr = dhcp_lease_by_mac(lt, m.chaddr) ? dhcp_lease_by_mac(lt, m.chaddr)->ip : 0;
	dhcp_handle(&c, &m, &o);
	m = msg(DHCPDISCOVER, 0x47, 0, 0);
	dhcp_handle(&c, &m, &o);
	CHECK(o.send && o.reply.type == DHCPOFFER, "full pool: a release frees an address at once");
	m = msg(DHCPDISCOVER, 0x48, 0, 0);
	dhcp_handle(&c, &m, &o);
	CHECK(silent_because(&o, "pool exhausted"), "full pool again");
	m = msg(DHCPREQUEST, 0x47, 0x0a000064, 0x0a0000fe);
	dhcp_handle(&c, &m, &o);
	m = msg(DHCPDISCOVER, 0x48, 0, 0);
	dhcp_handle(&c, &m, &o);
	CHECK(o.send && o.reply.type == DHCPOFFER,
	    "full pool: an offer turned down for another server frees its address at once");
	close_table();
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	inv = unit_inventory(cfg);
	CHECK(inv != NULL, "inventory loads");
	if (inv == NULL)
		return UNIT_DONE();
	discovered_open(dir);
	journal_tests();
	handle_tests();
	flood_tests();
	discovered_close();
	inv_unref(inv);
	char *cmd = esprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	return UNIT_DONE();
}
