/* An append-only text journal with group commit: the durable half of a
 * lease table (DHCPv4's dhcp/dhcp_lease.c, DHCPv6's dhcp6/dhcp6_lease.c).
 *
 * Records are single lines, gathered in memory and written in order by
 * one pwrite(2) per sync, over padding (spaces, no newline) that keeps the
 * file ahead of them: the file's size seldom changes, so fdatasync seldom
 * writes the inode. A crash tears at most the last record (it has no
 * newline before the padding and is ignored on replay); a power loss
 * during a sync can garble its records (pages land in any order), and
 * replay stops at the first garbled one: that sync was never completed,
 * so nothing after it was announced. A server appends
 * a record when it decides a binding, holds the reply that announces it,
 * and sends it only after journal_sync() (or its two halves) wrote and
 * made durable everything appended: one fdatasync per event-loop turn
 * covers every reply of that turn. When the journal is mostly history the
 * owner rewrites it whole (journal_rewrite, atomic). */
#ifndef GRIDBOOT_JOURNAL_H
#define GRIDBOOT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

struct journal;

/* Opens (creating statedir) statedir/name and replays each complete line
 * through replay(arg, line); replay returns false for a record it cannot
 * read (counted and logged, not fatal). tag prefixes log lines. The
 * caller then writes its compact form with journal_rewrite, which also
 * opens the file for appending. NULL on error (logged). */
struct journal *journal_open(const char *statedir, const char *name, const char *tag,
    bool (*replay)(void *arg, char *line), void *arg);
void journal_close(struct journal *j);       /* syncs what is dirty */

/* Appends one record (a whole line, ending in \n) to what the next sync
 * writes. -1 if it was not taken (j is NULL: an owner replaying into its
 * table before journal_open returned; too long; or 4 MiB of records wait
 * for a disk that keeps refusing them): the caller must not announce what
 * it records. */
int journal_append(struct journal *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes every appended record durable. -1: the data may not be on disk. */
int journal_sync(struct journal *j);
/* The same in two halves, for a sync run by another thread (core/holdq.h):
 * begin writes the records and returns the descriptor to fdatasync (-1
 * if the write failed: the records stay for the next), and what is appended from
 * then on is dirty again; end takes the fdatasync's errno (0: it worked)
 * and, on failure, logs it and leaves the journal dirty. The descriptor
 * stays open until end (nothing rewrites the file in between). */
int journal_sync_begin(struct journal *j);
int journal_sync_end(struct journal *j, int err);
bool journal_dirty(const struct journal *j);
/* Records appended since the last rewrite (plus those it wrote). */
unsigned long journal_records(const struct journal *j);
/* Replaces the file with text (recs records) atomically and appends to
 * the new file from then on. */
int journal_rewrite(struct journal *j, const char *text, size_t len, unsigned long recs);

#endif
