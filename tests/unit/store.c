/* The store's own parts (core/store.h) that need no database: records as
 * text, the data codec, and the files backend (replay, compaction, a
 * torn last line). The PostgreSQL backend is tested against a real
 * server in tests/integration/store_pg.sh. */
#include "unit.h"
#include "core/store.h"
#include "core/util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/gbd-store-XXXXXX";

static void
test_parse(void)
{
	char a[] = "B 525400000011 10.0.0.5 1700000000 host-1";
	char b[] = "F 525400000011";
	char c[] = "D 10.0.0.9 1700000100";
	char d[] = "B fd9a::77 0003000152 7 4102444800 5254000000aa";
	char e1[] = "B 525400000011 10.0.0.5 soon -", e2[] = "X a b", e3[] = "", e4[] = "BB a b 1";
	struct store_rec r;

	CHECK(store_rec_parse(a, &r) && r.op == 'B' && strcmp(r.owner, "525400000011") == 0 &&
	    strcmp(r.key, "10.0.0.5") == 0 && r.until == 1700000000 &&
	    strcmp(r.data, "host-1") == 0, "a bind: owner, key, until, data");
	CHECK(store_rec_parse(b, &r) && r.op == 'F' && strcmp(r.owner, "525400000011") == 0,
	    "a release: its owner");
	CHECK(store_rec_parse(c, &r) && r.op == 'D' && strcmp(r.key, "10.0.0.9") == 0 &&
	    r.until == 1700000100, "a decline: key and until");
	CHECK(store_rec_parse(d, &r) && strcmp(r.rest, "5254000000aa") == 0,
	    "what follows the data is kept (an owner's older line format)");
	CHECK(!store_rec_parse(e1, &r) && !store_rec_parse(e2, &r) && !store_rec_parse(e3, &r) &&
	    !store_rec_parse(e4, &r), "a bad time, an unknown op, an empty line, a long op: refused");
}

static void
test_data(void)
{
	const char *json = "{\"mac\": \"52:54:00:00:00:11\", \"role\": \"cpu\"}";
	char *enc = store_data_encode(json), *dec = store_data_decode(enc);

	CHECK(enc && !strchr(enc, ' ') && !strchr(enc, '\n'), "encoded data is one token (%s)", enc);
	CHECK_STR(dec, json, "and decodes back");
	free(dec);
	free(enc);
	enc = store_data_encode("a");
	dec = store_data_decode(enc);
	CHECK_STR(dec, "a", "one byte round trips (padding)");
	free(dec);
	free(enc);
	CHECK(store_data_decode("abc") == NULL && store_data_decode("") == NULL &&
	    store_data_decode("!!!!") == NULL, "bad base64 is refused");
	CHECK(store_data_decode("YQBi") == NULL, "a NUL inside is refused (not text)");
}

/* The owner's side of a table: the records it was given. */
struct owner {
	char seen[1024];
	int n;
	const char *live[4];        /* what each_live emits, as lines */
};

static bool
apply(void *arg, const struct store_rec *r)
{
	struct owner *o = arg;
	size_t len = strlen(o->seen);

	snprintf(o->seen + len, sizeof o->seen - len, "%c:%s:%s;", r->op, r->owner ? r->owner : "",
	    r->key ? r->key : "");
	o->n++;
	return r->op != 'D' || strcmp(r->key, "bad") != 0;
}

static void
refused(void *arg, const struct store_rec *r, const char *holder, int64_t until)
{
	(void)arg, (void)r, (void)holder, (void)until;
}

static void
each_live(void *arg, struct store_tab *t, void (*emit)(struct store_tab *, const struct store_rec *))
{
	struct owner *o = arg;

	for (int i = 0; i < 4 && o->live[i]; i++) {
		char line[128];
		struct store_rec r;
		str_copy(line, o->live[i], sizeof line);
		if (store_rec_parse(line, &r))
			emit(t, &r);
	}
}

static const struct store_tab_ops ops = { .apply = apply, .refused = refused, .each_live = each_live };

/* The journal's text without its padding (trailing spaces). */
static void
unpad(char *text, size_t *len)
{
	while (*len > 0 && text[*len - 1] == ' ')
		text[--*len] = '\0';
}

static void
test_files(void)
{
	struct store *st = store_new(NULL, "files", dir, "unit");
	char *path = esprintf("%s/t.leases", dir), *text;
	const char *old = "B m1 k1 4102444800 -\nF m1\nD bad 5\nB m2 k2 4102444800 h\nB m3 k3 41";
	struct owner o = { .live = { "B m2 k2 4102444800 h" } };
	size_t len;

	CHECK(st && !store_shared(st) && store_up(st), "files: a store of our own, always up");
	CHECK(store_serves(st, (const uint8_t *)"ab", 2), "files: every client is ours");
	CHECK(write_file_atomic(path, old, strlen(old)) == 0, "a journal with a torn last line");
	struct store_tab *t = store_tab_open(st, "t.leases", "unit", &ops, &o);
	CHECK(t && o.n == 4, "replay hands every whole line to the owner (%d)", o.n);
	CHECK_STR(o.seen, "B:m1:k1;F:m1:;D::bad;B:m2:k2;", "in order, the torn one left out");
	text = read_state_file(path, &len, 4 << 20);
	CHECK(len == 21 + 1024 * 1024 && text[len - 1] == ' ',
	    "open pads the rewritten file with 1 MiB of spaces (%zu bytes)", len);
	unpad(text, &len);
	CHECK_STR(text, "B m2 k2 4102444800 h\n", "open compacts to the owner's live records");
	free(text);
	struct store_rec r = { 'B', "m4", "k4", 4102444800, "-", "" };
	CHECK(store_put(t, &r) == 0 && store_dirty(t), "a put is written and dirty");
	CHECK(store_sync(t) == 0 && !store_dirty(t), "a sync makes it durable");
	int fd = store_sync_begin(t, NULL, NULL);
	CHECK(fd >= 0, "the sync's halves: a descriptor for another thread's fdatasync");
	CHECK(store_sync_end(t, 0) == 0, "and its end");
	text = read_state_file(path, &len, 4 << 20);
	size_t padded = len;
	CHECK(len == 21 + 1024 * 1024, "records overwrite the padding: the size stays (%zu bytes)", len);
	unpad(text, &len);
	CHECK_STR(text, "B m2 k2 4102444800 h\nB m4 k4 4102444800 -\n", "appended as a line, before the padding");
	free(text);
	r.owner = "m5", r.key = "k5";
	CHECK(store_put(t, &r) == 0 && store_sync(t) == 0, "another put and sync");
	text = read_state_file(path, &len, 4 << 20);
	CHECK(len == padded, "a record overwrites padding: the size (and so the inode) stays (%zu)", len);
	unpad(text, &len);
	CHECK_STR(text, "B m2 k2 4102444800 h\nB m4 k4 4102444800 -\nB m5 k5 4102444800 -\n",
	    "in order");
	/* kill -9 in the middle of a record: its start over the padding,
	 * no newline. Replay leaves it out, and says so. */
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "B m6 k6 41", 10, (off_t)len) == 10, "a torn record over the padding");
	close(fd);
	free(text);
	store_publish(st, "nothing listens");   /* files: a no-op */
	store_tab_close(t);
	memset(&o, 0, sizeof o);
	t = store_tab_open(st, "t.leases", "unit", &ops, &o);
	CHECK(t && o.n == 3, "replay: the three whole records (%d)", o.n);
	CHECK_STR(o.seen, "B:m2:k2;B:m4:k4;B:m5:k5;", "the torn one and the padding left out");
	store_tab_close(t);
	/* A power loss mid-sync: a later page reached the disk and an earlier
	 * one did not, so padding shows through a record. Replay stops there
	 * (nothing from that sync on was acknowledged), rather than read a
	 * record made of two halves. */
	const char *garble = "B m1 k1 4102444800 -\nB m2 10.0.0        5 4102444800 -\n"
	    "B m3 k3 4102444800 -\n          ";
	CHECK(write_file_atomic(path, garble, strlen(garble)) == 0, "a journal garbled by a power loss");
	memset(&o, 0, sizeof o);
	t = store_tab_open(st, "t.leases", "unit", &ops, &o);
	CHECK(t && o.n == 1, "replay stops at the garbled record (%d)", o.n);
	CHECK_STR(o.seen, "B:m1:k1;", "only what came before it");
	/* Past the padding: the file grows by another MiB of it. */
	char owner[16], key[16];
	int put = 0;
	r.owner = owner, r.key = key;
	for (int i = 0; i < 40000; i++) {
		snprintf(owner, sizeof owner, "m%d", i);
		snprintf(key, sizeof key, "k%d", i);
		put += store_put(t, &r) == 0;
		if (i % 1000 == 999)
			store_sync(t);
	}
	CHECK(put == 40000 && store_sync(t) == 0, "40 000 records put and synced");
	store_tab_close(t);
	text = read_state_file(path, &len, 8 << 20);
	CHECK(len == 2 * 1024 * 1024 && text[len - 1] == ' ', "the padding was extended (%zu bytes)", len);
	free(text);
	memset(&o, 0, sizeof o);
	t = store_tab_open(st, "t.leases", "unit", &ops, &o);
	CHECK(t && o.n == 40000, "every one of them replays (%d)", o.n);
	store_tab_close(t);

	/* A disk that refuses to grow the file (RLIMIT_FSIZE at its size):
	 * the records in the padding are written, then every sync fails and
	 * what waits is capped at 4 MiB (a client asking in a loop cannot
	 * grow our memory); appends past it are refused. */
	memset(&o, 0, sizeof o);
	t = store_tab_open(st, "t.leases", "unit", &ops, &o);
	struct rlimit old_fsize, fsize;
	struct stat sb;
	CHECK(t && stat(path, &sb) == 0 && getrlimit(RLIMIT_FSIZE, &old_fsize) == 0, "reopened");
	signal(SIGXFSZ, SIG_IGN);
	fsize = old_fsize;
	fsize.rlim_cur = (rlim_t)sb.st_size;
	setrlimit(RLIMIT_FSIZE, &fsize);
	int taken = 0, refused = 0, failed_syncs = 0;
	for (int i = 0; i < 200000 && t; i++) {
		snprintf(owner, sizeof owner, "m%d", i);
		snprintf(key, sizeof key, "k%d", i);
		if (store_put(t, &r) == 0)
			taken++;
		else
			refused++;
		if (i % 1000 == 999)
			failed_syncs += store_sync(t) < 0;
	}
	CHECK(failed_syncs > 0 && refused > 0 && taken < 200000,
	    "the file cannot grow: syncs fail (%d), and past 4 MiB waiting appends are refused "
	    "(%d taken, %d refused)", failed_syncs, taken, refused);
	CHECK(taken * 29 < 1024 * 1024 + (4 << 20) + 29 * 1000,
	    "what was taken fits the padding and the cap (%d records)", taken);
	setrlimit(RLIMIT_FSIZE, &old_fsize);
	CHECK(t && store_sync(t) == 0, "the disk back: the waiting records are written and synced");
	store_tab_close(t);
	memset(&o, 0, sizeof o);
	t = store_tab_open(st, "t.leases", "unit", &ops, &o);
	CHECK(t && o.n == taken, "every record taken replays (%d of %d)", o.n, taken);
	store_tab_close(t);
	store_free(st);
	free(path);
	CHECK(store_new(NULL, "mysql://x", dir, "u") == NULL, "an unknown store is refused");
	CHECK(store_spec_is_pg("postgresql:///g") && store_spec_is_pg("postgres://h/g") &&
	    !store_spec_is_pg("files") && !store_spec_is_pg(NULL), "which specs name a database");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("not ok 1 - mkdtemp\n");
		return 1;
	}
	test_parse();
	test_data();
	test_files();
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_DONE();
}
