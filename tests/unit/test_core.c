/* The bounds-checked reader and writer, the address parsers, the event
 * loop's timers and turn hooks, and the event ring. */
#include "core/buf.h"
#include "core/events.h"
#include "core/evloop.h"
#include "core/metrics.h"
#include "core/util.h"
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

static void
test_reader(void)
{
	const uint8_t pkt[] = { 1, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 'h', 'i', 0, 9 };
	struct rd r = rd_make(pkt, sizeof pkt);

	CHECK(rd_u8(&r) == 1 && rd_be16(&r) == 0x1234 && rd_be32(&r) == 0xdeadbeef,
	    "big-endian gets");
	size_t len = 0;
	const char *s = rd_cstr(&r, &len);
	CHECK(s && len == 2 && strcmp(s, "hi") == 0 && !r.err, "NUL-terminated string");
	CHECK(rd_left(&r) == 1, "one byte left");
	CHECK(rd_be16(&r) == 0 && r.err, "short read sets the error");
	CHECK(rd_u8(&r) == 0 && r.err && rd_left(&r) == 0, "error is sticky");

	struct rd r2 = rd_make(pkt, sizeof pkt);
	struct rd sub = rd_sub(&r2, 3);
	CHECK(rd_left(&sub) == 3 && rd_left(&r2) == sizeof pkt - 3, "sub-reader splits");
	rd_skip(&sub, 3);
	CHECK(rd_u8(&sub) == 0 && sub.err && !r2.err, "sub-reader overrun stays in the sub");
	struct rd big = rd_sub(&r2, 1000);
	CHECK(big.err && r2.err, "sub-reader longer than parent fails both");

	const uint8_t nonul[] = { 'a', 'b' };
	struct rd r3 = rd_make(nonul, sizeof nonul);
	CHECK(rd_cstr(&r3, NULL) == NULL && r3.err, "string without NUL is an error");

	const uint8_t le[] = { 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 1, 0, 0, 0, 2, 0, 0, 0 };
	struct rd r4 = rd_make(le, sizeof le);
	CHECK(rd_le16(&r4) == 0x1234 && rd_le32(&r4) == 0x12345678 &&
	    rd_le64(&r4) == 0x0000000200000001ull && !r4.err, "little-endian gets");
}

static void
test_writer(void)
{
	uint8_t buf[8];
	struct wr w = wr_make(buf, sizeof buf);

	wr_be16(&w, 0x0102);
	wr_le32(&w, 0x06050403);
	CHECK(!w.err && wr_len(&w) == 6 && buf[0] == 1 && buf[5] == 6, "writes in order");
	wr_be32(&w, 0);
	CHECK(w.err && wr_len(&w) == 6, "overflow sets the error and writes nothing");
	wr_u8(&w, 1);
	CHECK(w.err && wr_len(&w) == 6, "error is sticky");
}

static void
test_parsers(void)
{
	uint8_t mac[6];
	char out[18], hex[13], ip[16];
	uint32_t a, net;
	int prefix;

	CHECK(mac_parse("52:54:00:AB:cd:11", mac) && mac[3] == 0xab, "MAC with colons");
	CHECK(mac_parse("52-54-00-ab-cd-11", mac), "MAC with dashes");
	CHECK(mac_parse("525400abcd11", mac), "bare hex MAC");
	CHECK(!mac_parse("52:54:00-ab:cd:11", mac), "mixed separators rejected");
	CHECK(!mac_parse("52:54:00:ab:cd", mac), "short MAC rejected");
	CHECK(!mac_parse("52:54:00:ab:cd:1g", mac), "non-hex rejected");
	mac_parse("52:54:00:ab:cd:11", mac);
	mac_format(mac, out);
	mac_hex(mac, hex);
	CHECK_STR(out, "52:54:00:ab:cd:11", "MAC format");
	CHECK_STR(hex, "525400abcd11", "MAC hex");
	CHECK(ip_parse("10.1.2.3", &a) && a == 0x0a010203, "IP parse");
	ip_format(a, ip);
	CHECK_STR(ip, "10.1.2.3", "IP format");
	ip_format(0, ip);
	CHECK_STR(ip, "0.0.0.0", "IP format: zeros");
	ip_format(0xffffffff, ip);
	CHECK_STR(ip, "255.255.255.255", "IP format: the longest");
	ip_format(0x640a6309, ip);
	CHECK_STR(ip, "100.10.99.9", "IP format: one, two and three digits");
	const uint8_t edge[6] = { 0, 0xff, 0x0f, 0xf0, 0xa5, 0x5a };
	mac_format(edge, out);
	mac_hex(edge, hex);
	CHECK_STR(out, "00:ff:0f:f0:a5:5a", "MAC format: every nibble");
	CHECK_STR(hex, "00ff0ff0a55a", "MAC hex: every nibble");
	CHECK(!ip_parse("10.1.2", &a) && !ip_parse("10.1.2.256", &a), "bad IPs");
	CHECK(cidr_parse("10.1.0.0/16", &net, &prefix) && prefix == 16 && net == 0x0a010000, "CIDR");
	CHECK(!cidr_parse("10.1.0.1/16", &net, &prefix), "CIDR with host bits");
	CHECK(!cidr_parse("10.1.0.0/", &net, &prefix) && !cidr_parse("10.1.0.0", &net, &prefix),
	    "CIDR without prefix");
	CHECK(prefix_mask(24) == 0xffffff00 && prefix_mask(0) == 0, "masks");
}

static int order[8], norder, turns;

static void fire(void *arg) { order[norder++] = (int)(intptr_t)arg; }
static void turn(void *arg) { (void)arg; turns++; }

static void
test_timers(void)
{
	struct evloop *loop = ev_new();
	struct ev_timer t[4] = { 0 };

	for (int i = 0; i < 4; i++)
		ev_timer_init(&t[i], fire, (void *)(intptr_t)i);
	ev_add_turn_hook(loop, turn, NULL);
	uint64_t start = mono_ms();
	ev_timer_arm(loop, &t[0], 30);
	ev_timer_arm(loop, &t[1], 10);
	ev_timer_arm(loop, &t[2], 20);
	ev_timer_arm(loop, &t[3], 15);
	ev_timer_stop(loop, &t[3]);
	CHECK(!ev_timer_armed(&t[3]) && ev_timer_armed(&t[0]), "stop disarms");
	for (int i = 0; i < 20 && norder < 3; i++)
		ev_run_once(loop, 100);
	CHECK(norder == 3 && order[0] == 1 && order[1] == 2 && order[2] == 0,
	    "timers fire in deadline order");
	CHECK(mono_ms() - start >= 30, "not before the deadline");
	CHECK(turns >= 1, "turn hooks run");
	ev_timer_arm(loop, &t[0], 1000);
	ev_timer_arm(loop, &t[0], 0);
	ev_run_once(loop, 50);
	CHECK(norder == 4 && order[3] == 0, "re-arming replaces the deadline");
	ev_free(loop);
}

static int got_fd;

static void on_read(int fd, uint32_t ev, void *arg) { (void)ev; (void)arg; char c; got_fd += (int)read(fd, &c, 1); }

static void
test_fds(void)
{
	struct evloop *loop = ev_new();
	int p[2];

	CHECK(pipe(p) == 0, "pipe");
	CHECK(ev_add_fd(loop, p[0], EPOLLIN, on_read, NULL) == 0, "add fd");
	CHECK(write(p[1], "x", 1) == 1, "write");
	ev_run_once(loop, 100);
	CHECK(got_fd == 1, "read handler runs");
	ev_del_fd(loop, p[0]);
	CHECK(write(p[1], "y", 1) == 1, "write");
	ev_run_once(loop, 20);
	CHECK(got_fd == 1, "removed fd is not dispatched");
	close(p[0]);
	close(p[1]);
	ev_free(loop);
}

static int seen;
static void count_ev(const struct bootevent *ev, void *arg) { (void)ev; (void)arg; seen++; }

static void
test_events(void)
{
	uint8_t a[6] = { 1, 2, 3, 4, 5, 6 }, b[6] = { 6, 5, 4, 3, 2, 1 };

	events_init(4);
	for (int i = 0; i < 6; i++)
		events_emit(i % 2 ? a : b, EVK_DHCP, "event %d", i);
	seen = 0;
	CHECK(events_since(0, NULL, count_ev, NULL) == 4, "ring keeps the newest 4");
	CHECK(events_since(0, a, count_ev, NULL) == 2, "filter by MAC");
	CHECK(events_since(events_last_seq() - 1, NULL, count_ev, NULL) == 1, "since a seq");
	int id = events_subscribe(count_ev, NULL);
	seen = 0;
	events_emit(NULL, EVK_SYSTEM, "x");
	events_unsubscribe(id);
	events_emit(NULL, EVK_SYSTEM, "y");
	CHECK(seen == 1, "listeners see new events until unsubscribed");
	events_shutdown();
}

static void
test_metrics(void)
{
	uint64_t *a = metric_counter("gb_test_total", "kind=\"a\"", "test");
	uint64_t *b = metric_counter("gb_test_total", "kind=\"b\"", "test");
	*a += 2;
	(*b)++;
	CHECK(metric_counter("gb_test_total", "kind=\"a\"", NULL) == a, "same series, same counter");
	CHECK(metric_counterf("gb_test_total", NULL, "kind=\"%s\"", "b") == b,
	    "formatted labels name the same series");
	uint64_t *c = NULL, *g = NULL;
	const struct metric_def defs[] = {
		{ &c, "gb_test_total", "kind=\"c\"" },
		{ &g, "gb_test_gauge", NULL, "a gauge", true },
	};
	metrics_register(defs, nelem(defs));
	CHECK(c != NULL && c != a && c != b && g != NULL, "a table registers each of its series");
	*g = 7;
	char *text = metrics_render();
	CHECK(strstr(text, "# TYPE gb_test_total counter\ngb_test_total{kind=\"a\"} 2\n"
	    "gb_test_total{kind=\"b\"} 1\ngb_test_total{kind=\"c\"} 0\n") != NULL,
	    "exposition text");
	CHECK(strstr(text, "# TYPE gb_test_gauge gauge\ngb_test_gauge 7\n") != NULL,
	    "a gauge from the table");
	free(text);
	metrics_reset();
}

static void copy_event(const struct bootevent *ev, void *arg) { memcpy(arg, ev, sizeof *ev); }

/* A state directory belongs to grid.user, and root writes in it at the
 * next start: a link planted as the temporary (or as the file itself) must
 * never make root write through it. */
static void
test_atomic_links(void)
{
	char dir[] = "/tmp/gbd-core-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	char *victim = esprintf("%s/victim", dir), *path = esprintf("%s/state.json", dir);
	char *tmp = esprintf("%s.tmp.%d", path, (int)getpid());
	size_t len = 0;
	char *got;

	CHECK(write_file_atomic(victim, "precious\n", 9) == 0, "victim written");
	CHECK(symlink(victim, tmp) == 0, "a link planted as the temporary");
	CHECK(write_file_atomic(path, "new\n", 4) == 0, "write through a planted temporary works");
	got = read_file(victim, &len, 1024);
	CHECK_STR(got, "precious\n", "the link's target is untouched");
	free(got);
	got = read_file(path, &len, 1024);
	CHECK_STR(got, "new\n", "the file has the new content");
	free(got);
	CHECK(access(tmp, F_OK) != 0, "no temporary left behind");
	/* The file itself a link: replaced, its target untouched. */
	unlink(path);
	CHECK(symlink(victim, path) == 0, "a link planted as the file");
	CHECK(write_file_atomic(path, "again\n", 6) == 0, "write over a linked file");
	got = read_file(victim, &len, 1024);
	CHECK_STR(got, "precious\n", "the linked file's target is untouched");
	free(got);
	/* A hard link planted as the temporary: not written through either. */
	CHECK(link(victim, tmp) == 0, "a hard link planted as the temporary");
	CHECK(write_file_atomic(path, "third\n", 6) == 0, "write past a hard-linked temporary");
	got = read_file(victim, &len, 1024);
	CHECK_STR(got, "precious\n", "the hard link's target is untouched");
	free(got);
	char *cmd = esprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	free(victim);
	free(path);
	free(tmp);
}

/* What clients send reaches logs and events: one line, valid UTF-8. */
static void
test_sanitize(void)
{
	char a[] = "x\n12:00:00.000 err: forged\r\t\x7f";
	CHECK_STR(str_sanitize(a), "x?12:00:00.000 err: forged???", "control characters become ?");
	char b[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	CHECK_STR(str_sanitize(b), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "well-formed UTF-8 is kept");
	char c[] = "\xff\xc3G\xc0\xafH\xed\xa0\x80J\xf4\x90\x80\x80K\xe2\x82";
	CHECK_STR(str_sanitize(c), "?" "?G?" "?H?" "?" "?J?" "?" "?" "?K?" "?",
	    "bad bytes, overlongs, surrogates, > U+10FFFF, a cut sequence");
	uint64_t seq = events_emit(NULL, EVK_TFTP, "RRQ %s", "a\nb\xff");
	struct bootevent last;
	bool found = false;
	events_since(seq - 1, NULL, copy_event, &last);
	found = last.seq == seq;
	CHECK(found && strcmp(last.text, "RRQ a?b?") == 0, "an event's text is sanitized (%s)",
	    found ? last.text : "-");
}

int
main(void)
{
	test_atomic_links();
	test_sanitize();
	test_reader();
	test_writer();
	test_parsers();
	test_timers();
	test_fds();
	test_events();
	test_metrics();
	return UNIT_DONE();
}
