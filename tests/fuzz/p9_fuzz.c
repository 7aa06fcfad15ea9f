/* libFuzzer target: 9P frame decoding in both dialects. Whatever decodes
 * must encode back to the same bytes (the codec describes each message
 * once, both ways), and the stat, dirent and walk fields it hands out must
 * lie inside the frame. Build and run with `make fuzz-p9`. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/p9_fcall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[1 << 17];

static void
check_inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
	const uint8_t *b = p;
	if (n && (b < data || b + n > data + size))
		__builtin_trap();
}

static void
one(const uint8_t *data, size_t size, enum p9_dialect d)
{
	struct p9_fcall f;
	const char *why = NULL;

	if (p9_decode(data, size, d, &f, &why) != 0) {
		if (why == NULL)
			__builtin_trap();
		return;
	}
	if (f.nwname > P9_MAXWELEM || f.nwqid > P9_MAXWELEM)
		__builtin_trap();
	for (int i = 0; i < f.nwname; i++)
		check_inside(f.wname[i].s, f.wname[i].len, data, size);
	if (f.type == P9_TWRITE || f.type == P9_RREAD || f.type == P9_RREADDIR)
		check_inside(f.data, f.count, data, size);
	if (f.type == P9_RSTAT || f.type == P9_TWSTAT) {
		check_inside(f.stat, f.nstat, data, size);
		struct rd r = rd_make(f.stat, f.nstat);
		struct p9_stat st;
		if (p9_stat_decode(&r, &st)) {
			struct wr w = wr_make(out, sizeof out);
			if (p9_stat_encode(&w, &st) != p9_stat_size(&st))
				__builtin_trap();
		}
	}
	if (f.type == P9_RREADDIR) {
		struct rd r = rd_make(f.data, f.count);
		struct p9_dirent de;
		while (rd_left(&r) > 0 && p9_dirent_decode(&r, &de))
			check_inside(de.name.s, de.name.len, data, size);
	}
	struct wr w = wr_make(out, sizeof out);
	size_t n = p9_encode(&w, &f, d);
	/* Tfsync without datasync[4] comes back 4 bytes longer. */
	bool short_fsync = f.type == P9_TFSYNC && size == 11;
	if (n != (short_fsync ? 15 : size) || memcmp(out + 4, data + 4, size - 4) != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, P9_2000);
	one(data, size, P9_2000L);
	return 0;
}
