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

struct journal {
	int fd;
	char *path;
	const char *tag;
	bool dirty;
	unsigned long recs;
};

static void
replay(struct journal *j, char *text, size_t len, bool (*fn)(void *, char *), void *arg)
{
	unsigned long bad = 0;
	char *p = text, *nl;

	while ((size_t)(p - text) < len && (nl = memchr(p, '\n', len - (size_t)(p - text)))) {
		*nl = '\0';
		if (!fn(arg, p))
			bad++;
		p = nl + 1;
	}
	if ((size_t)(p - text) < len)
		log_warn("%s: %s: ignoring a torn last record (%zu bytes)", j->tag, j->path,
		    len - (size_t)(p - text));
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
		if (j->dirty)
			fdatasync(j->fd);
		close(j->fd);
	}
	free(j->path);
	free(j);
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
	/* One write per record with O_APPEND: a crash tears at most the last. */
	if (write(j->fd, line, (size_t)n) != n) {
		log_err("%s: %s: %s", j->tag, j->path, strerror(errno));
		return -1;
	}
	j->dirty = true;
	j->recs++;
	return 0;
}

int
journal_rewrite(struct journal *j, const char *text, size_t len, unsigned long recs)
{
	if (write_file_atomic(j->path, text, len) < 0) {
		log_err("%s: rewriting %s: %s", j->tag, j->path, strerror(errno));
		return -1;
	}
	if (j->fd >= 0)
		close(j->fd);
	/* The file rename() just put there, unless grid.user swapped it:
	 * never follow a link, and append only to a plain file of our own
	 * with no other name. */
	j->fd = state_open(j->path, O_WRONLY | O_APPEND);
	if (j->fd < 0) {
		log_err("%s: %s: %s", j->tag, j->path, state_strerror(errno));
		return -1;
	}
	j->recs = recs;
	j->dirty = false;
	return 0;
}

int
journal_sync(struct journal *j)
{
	if (!j->dirty)
		return 0;
	if (fdatasync(j->fd) < 0) {
		log_err("%s: fdatasync %s: %s", j->tag, j->path, strerror(errno));
		return -1;
	}
	j->dirty = false;
	return 0;
}

int
journal_sync_begin(struct journal *j)
{
	j->dirty = false;
	return j->fd;
}

int
journal_sync_end(struct journal *j, int err)
{
	if (err == 0)
		return 0;
	log_err("%s: fdatasync %s: %s", j->tag, j->path, strerror(err));
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
