/* The pieces DHCP, DHCPv6 and RA share: the hold-until-synced queue
 * (core/holdq.h), the interface table (core/netif.h, read from this
 * host) and the one "which network is on this link" (config/onlink.h). */
#include "core/evloop.h"
#include "core/holdq.h"
#include "core/netif.h"
#include "config/onlink.h"
#include "unit.h"
#include "unit_inv.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- holdq: a fake journal and a fake wire ---- */

struct fake {
	int sync_rc, syncs_called;
	bool dirty;
	char sent[4096];            /* "dest:payload," in the order sent */
	int nsent, synced_when_sent;
};

static int
f_sync(void *arg)
{
	struct fake *f = arg;

	f->syncs_called++;
	f->dirty = false;
	return f->sync_rc;
}

static bool
f_dirty(void *arg)
{
	return ((struct fake *)arg)->dirty;
}

static void
f_send(void *arg, const void *dest, const uint8_t *buf, size_t len)
{
	struct fake *f = arg;
	size_t n = strlen(f->sent);

	snprintf(f->sent + n, sizeof f->sent - n, "%d:%.*s,", *(const int *)dest, (int)len,
	    (const char *)buf);
	f->nsent++;
	f->synced_when_sent = f->syncs_called;
}

static const struct holdq_ops f_ops = { f_sync, f_dirty, f_send };

static void
hold(struct holdq *q, int to, const char *text, bool keep)
{
	void *dest;
	uint8_t *buf = holdq_slot(q, &dest);

	*(int *)dest = to;
	memcpy(buf, text, strlen(text));
	if (keep)
		holdq_hold(q, strlen(text));
}

static void
test_holdq(void)
{
	struct evloop *loop = ev_new();
	struct fake f = { 0 };
	uint64_t syncs = 0, drops = 0;
	struct holdq *q = holdq_new(loop, 64, sizeof(int), &f_ops, &f, &syncs, &drops);

	ev_run_once(loop, 0);
	CHECK(f.syncs_called == 0 && syncs == 0, "an idle turn syncs nothing");
	f.dirty = true;
	hold(q, 1, "ack-a", true);
	hold(q, 2, "not-held", false);
	hold(q, 3, "ack-b", true);
	CHECK(f.nsent == 0, "nothing held leaves before the end of the turn");
	ev_run_once(loop, 0);
	CHECK(f.syncs_called == 1 && syncs == 1, "one sync for the turn (%d)", f.syncs_called);
	CHECK_STR(f.sent, "1:ack-a,3:ack-b,", "held replies sent in order, the unheld slot never");
	CHECK(f.synced_when_sent == 1, "sent after the sync");
	ev_run_once(loop, 0);
	CHECK(f.syncs_called == 1, "the next idle turn syncs nothing");
	f.dirty = true;
	ev_run_once(loop, 0);
	CHECK(f.syncs_called == 2, "a record with no reply held still gets its sync");

	/* A failed sync: nothing leaves, each held reply is a counted drop. */
	f.sent[0] = '\0';
	f.nsent = 0;
	f.sync_rc = -1;
	hold(q, 4, "x", true);
	hold(q, 5, "y", true);
	ev_run_once(loop, 0);
	CHECK(f.nsent == 0 && drops == 2, "a failed sync sends nothing and counts 2 drops (%llu)",
	    (unsigned long long)drops);
	f.sync_rc = 0;

	/* A full queue commits before it holds more. */
	int before = f.syncs_called;
	for (int i = 0; i < 2048; i++)
		hold(q, i, "z", true);
	CHECK(f.syncs_called == before && f.nsent == 0, "2048 held without a sync");
	hold(q, 9999, "last", true);
	CHECK(f.syncs_called == before + 1 && f.nsent == 2048, "the 2049th forces the sync first (%d sent)",
	    f.nsent);
	holdq_free(q);
	CHECK(f.syncs_called == before + 2 && f.nsent == 2049, "freeing the queue sends what waits");
	ev_free(loop);
}

/* ---- holdq with the fdatasync in its thread ---- */

struct afake {
	struct fake f;
	int fd;                     /* what sync_begin hands the thread */
	int begins, ends, last_err;
};

static int
a_begin(void *arg)
{
	struct afake *a = arg;

	a->begins++;
	a->f.dirty = false;
	return a->fd;
}

static int
a_end(void *arg, int err)
{
	struct afake *a = arg;

	a->ends++;
	a->last_err = err;
	if (err)
		a->f.dirty = true;
	return err ? -1 : 0;
}

static const struct holdq_ops a_ops = { f_sync, f_dirty, f_send, a_begin, a_end };

/* Turns until n replies were sent or dropped (at most 2 s). */
static void
turns_until(struct evloop *loop, const struct fake *f, const uint64_t *drops, int n)
{
	for (int i = 0; i < 200 && f->nsent + (int)*drops < n; i++)
		ev_run_once(loop, 10);
}

/* Threads of this process: a fresh daemon's first clients must not wait
 * for the sync thread's clone (it was started on the first sync). */
static int
count_threads(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/task");

	for (struct dirent *e; d && (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void
test_holdq_async(void)
{
	struct evloop *loop = ev_new();
	struct afake a = { 0 };
	uint64_t syncs = 0, drops = 0;
	char path[] = "/tmp/holdq-unit.XXXXXX";
	int pipefd[2];

	a.fd = mkstemp(path);
	unlink(path);
	int threads = count_threads();
	struct holdq *q = holdq_new(loop, 64, sizeof(int), &a_ops, &a, &syncs, &drops);
	CHECK(count_threads() == threads, "no thread at holdq_new: a daemon that detaches "
	    "forks after its modules' init (%d threads, %d before)", count_threads(), threads);
	ev_run_once(loop, 0);
	CHECK(count_threads() == threads + 1, "the sync thread runs after the first loop turn, "
	    "before the first client (%d threads, %d before the queue)", count_threads(), threads);
	a.f.dirty = true;
	hold(q, 1, "ack-a", true);
	ev_run_once(loop, 0);
	CHECK(a.begins == 1 && a.f.syncs_called == 0, "the turn hands the sync to the thread "
	    "(begin %d, inline %d)", a.begins, a.f.syncs_called);
	CHECK(a.ends == 0 && a.f.nsent == 0, "and sends nothing before the thread says it is done");
	hold(q, 2, "ack-b", true);      /* held while the sync is in flight */
	turns_until(loop, &a.f, &drops, 2);
	CHECK_STR(a.f.sent, "1:ack-a,2:ack-b,", "both sent, in order, after their syncs");
	CHECK(a.begins == 2 && a.ends == 2 && a.last_err == 0 && syncs == 2,
	    "the reply held meanwhile got a sync of its own (begin %d, end %d)", a.begins, a.ends);

	/* fdatasync on a pipe fails (EINVAL): held replies are counted drops. */
	if (pipe(pipefd) < 0)
		pipefd[0] = pipefd[1] = -1;
	a.fd = pipefd[0];
	a.f.sent[0] = '\0';
	a.f.nsent = 0;
	hold(q, 3, "x", true);
	hold(q, 4, "y", true);
	ev_run_once(loop, 0);
	turns_until(loop, &a.f, &drops, 2);
	CHECK(a.f.nsent == 0 && drops == 2 && a.last_err == EINVAL,
	    "a failed fdatasync in the thread sends nothing, 2 drops (%llu), errno %d",
	    (unsigned long long)drops, a.last_err);
	CHECK(a.f.dirty, "and leaves the journal dirty for the next sync");
	int begins = a.begins;
	for (int i = 0; i < 5; i++)
		ev_run_once(loop, 0);
	CHECK(a.begins == begins, "no new sync within the retry delay (%d more)", a.begins - begins);
	holdq_free(q);
	CHECK(a.f.syncs_called >= 1, "freeing the queue syncs inline what is dirty");
	close(pipefd[0]);
	close(pipefd[1]);
	ev_free(loop);
}

/* ---- holdq with a commit the owner finishes (a database's) ---- */

static int
o_begin(void *arg)
{
	struct afake *a = arg;

	a->begins++;
	a->f.dirty = false;
	return HOLDQ_ASYNC;
}

static const struct holdq_ops o_ops = { f_sync, f_dirty, f_send, o_begin, a_end };

static void
test_holdq_owner(void)
{
	struct evloop *loop = ev_new();
	struct afake a = { 0 };
	uint64_t syncs = 0, drops = 0;
	struct holdq *q = holdq_new(loop, 64, sizeof(int), &o_ops, &a, &syncs, &drops);

	hold(q, 1, "ack-a", true);
	ev_run_once(loop, 0);
	CHECK(a.begins == 1 && a.f.nsent == 0, "the turn begins the owner's commit and sends nothing "
	    "(begin %d, sent %d)", a.begins, a.f.nsent);
	hold(q, 2, "ack-b", true);
	ev_run_once(loop, 0);
	CHECK(a.begins == 1, "no second commit while one is out (begin %d)", a.begins);
	holdq_sync_done(q, 0);
	CHECK_STR(a.f.sent, "1:ack-a,", "the owner's done sends the first batch only");
	CHECK(a.begins == 2, "and starts the commit of what was held meanwhile (begin %d)", a.begins);
	holdq_sync_done(q, ECONNRESET);
	CHECK(a.f.nsent == 1 && drops == 1 && a.last_err == ECONNRESET,
	    "a failed commit drops its batch (sent %d, drops %llu)", a.f.nsent,
	    (unsigned long long)drops);
	holdq_sync_done(q, 0);
	CHECK(a.f.nsent == 1 && drops == 1, "a done with no commit out is ignored");
	/* A commit out at free: dropped, never waited for (after the
	 * failed commit's retry delay, so that one is out). */
	for (int i = 0; i < 20; i++)
		ev_run_once(loop, 10);
	CHECK(a.begins == 3, "after the delay the failed records are committed again (begin %d)",
	    a.begins);
	holdq_sync_done(q, 0);
	hold(q, 3, "ack-c", true);
	ev_run_once(loop, 0);
	CHECK(a.begins == 4, "a commit is out (begin %d)", a.begins);
	holdq_free(q);
	CHECK(a.f.nsent == 1 && drops == 2, "freeing with a commit out drops it (drops %llu)",
	    (unsigned long long)drops);
	ev_free(loop);
}

/* ---- onlink: one link, made by hand ---- */

static void
test_onlink(void)
{
	struct inventory *inv = unit_inventory(
	    "grid = { name = \"t\"; server = \"10.5.0.1\"; files = \"/tmp\"; state = \"/tmp/gbd-unit-state\"; };\n"
	    "networks = ( { subnet = \"10.5.0.0/24\"; },\n"
	    "             { subnet = \"10.6.0.0/24\"; interface = \"eth9\"; },\n"
	    "             { subnet6 = \"fd05::/64\"; },\n"
	    "             { subnet = \"10.7.0.0/24\"; subnet6 = \"fd07::/64\"; interface = \"br7\"; } );\n");
	struct netif_addr4 a4[2] = { { 0x0a060001, 0xffffff00 }, { 0x0a050001, 0xffffff00 } };
	uint8_t a6[2][16] = { { 0xfe, 0x80, [15] = 1 }, { 0xfd, 0x05, [15] = 1 } };
	struct netif_link l = { .index = 3, .name = "eth0", .a4 = a4, .n4 = 2,
	    .a6 = (const uint8_t (*)[16])a6, .n6 = 2 };
	uint32_t addr = 0;
	uint8_t host[16] = { 0 };

	if (inv == NULL) {
		CHECK(0, "inventory loads");
		return;
	}
	CHECK(onlink_has(&inv->networks[0], &l), "a network naming no interface: by its subnet");
	CHECK(!onlink_has(&inv->networks[1], &l), "a network naming another interface is not here, "
	    "even with an address in its subnet");
	CHECK(onlink_has(&inv->networks[2], &l), "an IPv6-only network: by its subnet6");
	const struct network *n = onlink_net4(inv, &l, &addr);
	CHECK(n == &inv->networks[0] && addr == 0x0a050001, "DHCPv4: the network and our address in it");
	n = onlink_net6(inv, &l, host);
	CHECK(n == &inv->networks[2] && host[0] == 0xfd && host[1] == 0x05,
	    "DHCPv6: the IPv6-only network and our address in subnet6, not the link-local one");
	/* A link the network names: any address of the family, but never a
	 * link-local one for DHCPv6. */
	struct netif_addr4 b4[1] = { { 0xc0a80001, 0xffffff00 } };
	struct netif_link br = { .index = 4, .name = "br7", .a4 = b4, .n4 = 1,
	    .a6 = (const uint8_t (*)[16])a6, .n6 = 1 };
	n = onlink_net4(inv, &br, &addr);
	CHECK(n == &inv->networks[3] && addr == 0xc0a80001, "DHCPv4 on a named link: its address");
	CHECK(onlink_net6(inv, &br, host) == NULL, "DHCPv6 on a named link with only a link-local address: none");
	CHECK(onlink_served(inv, &l), "without grid.interfaces every link is served");
	inv_unref(inv);
}

/* ---- netif: this host's table ---- */

static void
test_netif(void)
{
	struct evloop *loop = ev_new();
	struct netif *slot = NULL;
	struct netif *t = netif_ref(&slot, loop);
	unsigned lo = if_nametoindex("lo");

	CHECK(t && slot == t && netif_ref(&slot, loop) == t, "one table, shared by its users");
	const struct netif_link *l = netif_by_index(t, (int)lo);
	CHECK(l && strcmp(l->name, "lo") == 0 && (l->flags & IFF_LOOPBACK), "lo by its index");
	bool has127 = false;
	for (size_t i = 0; l && i < l->n4; i++)
		has127 |= l->a4[i].addr == 0x7f000001 && l->a4[i].mask == 0xff000000;
	CHECK(has127, "lo holds 127.0.0.1/8");
	CHECK(netif_by_index(t, 1 << 30) == NULL, "no link with a made-up index");
	netif_unref(&slot);
	CHECK(slot == t, "the table lives while a user is left");
	netif_unref(&slot);
	CHECK(slot == NULL, "the last unref frees it");
	ev_free(loop);
}

int
main(void)
{
	test_holdq();
	test_holdq_async();
	test_holdq_owner();
	test_onlink();
	test_netif();
	return UNIT_DONE();
}
