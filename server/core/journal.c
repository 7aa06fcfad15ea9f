/* The append-only journal (see journal.h). */
#include "core/journal.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file is kept ahead of its records by up to this much padding
 * (spaces, no newline; about 12 000 DHCP records), so that a record
 * overwrites bytes the file already has and fdatasync writes the data
 * alone: appending would change the size, and every sync would write the
 * inode too (a third of each sync's time on ext4 here). The padding is
 * one last line of spaces without a newline: replay takes it for
 * nothing, text tools see blank space. */
#define JOURNAL_PAD ((off_t)1024 * 1024)
/* Records waiting to be written are capped: while the disk refuses them
 * (full, failing) every sync fails and they stay, and a client asking in
 * a loop must not grow our memory. A turn's records are a few hundred
 * KiB at most (holdq's 2048 replies). */
#define JOURNAL_BUF_MAX ((size_t)4 << 20)

struct journal {
	int fd;
	char *path;
	const char *tag;
	bool dirty;
	unsigned long recs;
	char *buf;              /* records appended since the last flush */
	size_t blen, bcap;
	off_t end;              /* where the next record goes */
	off_t cap;              /* the file's size: end plus the padding */
	struct ratelimit rl;    /* a failing disk fails every sync (10 a second) */
};

static int flush(struct journal *j);

/* A record is words between single spaces (hostnames have theirs made
 * safe), never a leading space, two in a row or a NUL: those are padding
 * or zeroes showing through a record a crash left half written. */
static bool
garbled(const char *p, size_t n)
{
	if (n > 0 && p[0] == ' ')
		return true;
	if (memchr(p, '\0', n))
		return true;
	for (size_t i = 1; i < n; i++)
		if (p[i] == ' ' && p[i - 1] == ' ')
			return true;
	return false;
}

static void
replay(struct journal *j, char *text, size_t len, bool (*fn)(void *, char *), void *arg)
{
	unsigned long bad = 0;
	char *p = text, *nl;

	while ((size_t)(p - text) < len && (nl = memchr(p, '\n', len - (size_t)(p - text)))) {
		if (garbled(p, (size_t)(nl - p))) {
			/* A power loss during a sync: its pages reached the disk
			 * in no order, and padding shows through a record. That
			 * sync never completed, so nothing from here on was
			 * acknowledged: stop, rather than read a record made of
			 * two halves. */
			log_warn("%s: %s: a record garbled by a crash at byte %zu: ignoring it and the "
			    "%zu bytes after it", j->tag, j->path, (size_t)(p - text),
			    len - (size_t)(nl + 1 - text));
			return;
		}
		*nl = '\0';
		if (!fn(arg, p))
			bad++;
		p = nl + 1;
	}
	size_t tail = len - (size_t)(p - text);
	while (tail > 0 && p[tail - 1] == ' ')
		tail--;         /* the padding */
	if (tail > 0)
		log_warn("%s: %s: ignoring a torn last record (%zu bytes)", j->tag, j->path, tail);
	if (bad)
		log_warn("%s: %s: ignored %lu unreadable record(s)", j->tag, j->path, bad);
}

struct journal *
journal_open(const char *statedir, const char *name, const char *tag,
    bool (*fn)(void *arg, char *line), void *arg)
{
	struct journal *j;
	size_t len = 0;
	char *text;

	if (mkdir_p(statedir, 0750) < 0) {
		log_err("%s: %s: %s", tag, statedir, strerror(errno));
		return NULL;
	}
	j = ecalloc(1, sizeof *j);
	j->fd = -1;
	j->tag = tag;
	j->path = esprintf("%s/%s", statedir, name);
	text = read_state_file(j->path, &len, (size_t)1 << 30);
	if (text == NULL && errno != ENOENT) {
		log_err("%s: %s: %s", tag, j->path, state_strerror(errno));
		journal_close(j);
		return NULL;
	}
	if (text) {
		replay(j, text, len, fn, arg);
		free(text);
	}
	return j;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0) {
		if (j->dirty && flush(j) == 0)
			fdatasync(j->fd);
		close(j->fd);
	}
	free(j->buf);
	free(j->path);
	free(j);
}

/* Grows the file by JOURNAL_PAD of spaces past its size. The next sync
 * writes them with the records in them, and the size with them once. */
static int
pad(struct journal *j)
{
	static char spaces[16384];
	off_t want = j->cap + JOURNAL_PAD;

	if (spaces[0] != ' ')
		memset(spaces, ' ', sizeof spaces);
	while (j->cap < want) {
		ssize_t w = pwrite(j->fd, spaces, sizeof spaces, j->cap);
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			log_limited(&j->rl, LOG_ERR, "%s: %s: %s", j->tag, j->path, strerror(e));
			errno = e;
			return -1;
		}
		j->cap += w;
	}
	j->dirty = true;
	return 0;
}

int
journal_append(struct journal *j, const char *fmt, ...)
{
	char line[640];
	va_list ap;
	int n;

	/* NULL while the journal is being replayed: nothing to append then. */
	if (j == NULL)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (j->fd < 0 || n <= 0 || (size_t)n >= sizeof line)
		return -1;
	if (j->blen + (size_t)n > JOURNAL_BUF_MAX) {
		errno = ENOSPC;
		return -1;      /* the caller announces nothing */
	}
	if (j->blen + (size_t)n > j->bcap) {
		j->bcap = j->bcap ? 2 * j->bcap : 8192;
		j->buf = erealloc(j->buf, j->bcap);
	}
	memcpy(j->buf + j->blen, line, (size_t)n);
	j->blen += (size_t)n;
	j->dirty = true;
	j->recs++;
	return 0;
}

/* Writes the records appended since the last flush, in order, with one
 * pwrite: a crash tears at most the last, which then has no newline
 * before the padding and is ignored. On failure they stay to be written
 * by the next flush, and the sync that needed them fails. */
static int
flush(struct journal *j)
{
	if (j->blen == 0)
		return 0;
	while (j->end + (off_t)j->blen > j->cap)
		if (pad(j) < 0)
			return -1;
	ssize_t w = pwrite(j->fd, j->buf, j->blen, j->end);
	if (w != (ssize_t)j->blen) {
		int e = w < 0 ? errno : EIO;
		log_limited(&j->rl, LOG_ERR, "%s: %s: %s", j->tag, j->path, strerror(e));
		errno = e;
		return -1;
	}
	j->end += (off_t)j->blen;
	j->blen = 0;
	return 0;
}

int
journal_rewrite(struct journal *j, const char *text, size_t len, unsigned long recs)
{
	/* Padded from the start, so that the first turns' syncs (a rack
	 * asking at once after a start) write no inode either. */
	char *padded = emalloc(len + (size_t)JOURNAL_PAD);
	memcpy(padded, text, len);
	memset(padded + len, ' ', (size_t)JOURNAL_PAD);
	int rc = write_file_atomic(j->path, padded, len + (size_t)JOURNAL_PAD);
	free(padded);
	if (rc < 0) {
		log_err("%s: rewriting %s: %s", j->tag, j->path, strerror(errno));
		return -1;
	}
	if (j->fd >= 0)
		close(j->fd);
	/* The file rename() just put there, unless grid.user swapped it:
	 * never follow a link, and append only to a plain file of our own
	 * with no other name. */
	j->fd = state_open(j->path, O_WRONLY);
	if (j->fd < 0) {
		log_err("%s: %s: %s", j->tag, j->path, state_strerror(errno));
		return -1;
	}
	j->end = (off_t)len;
	j->cap = (off_t)len + JOURNAL_PAD;
	j->blen = 0;            /* text holds what they recorded */
	j->recs = recs;
	j->dirty = false;
	return 0;
}

int
journal_sync(struct journal *j)
{
	if (!j->dirty)
		return 0;
	if (flush(j) < 0)
		return -1;
	if (fdatasync(j->fd) < 0) {
		log_limited(&j->rl, LOG_ERR, "%s: fdatasync %s: %s", j->tag, j->path, strerror(errno));
		return -1;
	}
	j->dirty = false;
	return 0;
}

int
journal_sync_begin(struct journal *j)
{
	if (flush(j) < 0)
		return -1;
	j->dirty = false;
	return j->fd;
}

int
journal_sync_end(struct journal *j, int err)
{
	if (err == 0)
		return 0;
	log_limited(&j->rl, LOG_ERR, "%s: sync %s: %s", j->tag, j->path, strerror(err));
	j->dirty = true;
	return -1;
}

bool
journal_dirty(const struct journal *j)
{
	return j->dirty;
}

unsigned long
journal_records(const struct journal *j)
{
	return j->recs;
}
