/* Replies held until the journal is durable: the group commit of the
 * lease servers (DHCPv4's dhcp/dhcp.c, DHCPv6's dhcp6/dhcp6.c).
 *
 * A server that recorded a binding (core/journal.h) must not announce it
 * before the record is on disk. It builds the announcing reply into a
 * slot of this queue with the reply's destination beside it (both opaque
 * here), and at the end of the loop turn the queue makes the journal
 * durable once (the owner's sync: journal_sync and whatever the owner does
 * after it) and then hands every held reply to the owner's send, in the
 * order they were held; if the sync failed none is sent, each is counted
 * as a drop, and the clients ask again. One fdatasync covers every reply
 * of a turn. A full queue commits at once, before the next reply is held.
 *
 * The end-of-turn commit does not wait for the disk: it hands the
 * fdatasync to the queue's thread and the loop goes on (OFFERs, TFTP,
 * HTTP, 9P); the held batch is sent when the thread says the sync is
 * done, and replies held meanwhile form the next batch, whose sync starts
 * at once. A slow disk delays ACKs, not the daemon. The thread starts at
 * the first commit (after the daemon has forked) and does nothing but
 * fdatasync and write an eventfd.
 *
 * Nothing here knows a protocol: the owner's sync, dirty and send, the
 * two counters, and the largest reply and destination it will store. */
#ifndef GRIDBOOT_HOLDQ_H
#define GRIDBOOT_HOLDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct holdq;

struct holdq_ops {
	/* Makes everything appended durable: 0, or -1 if it may not be. */
	int (*sync)(void *arg);
	/* True when something was appended since the last sync (a record
	 * with no reply held, e.g. a release, still wants its sync). */
	bool (*dirty)(void *arg);
	/* Sends one held reply (called only after a successful sync). */
	void (*send)(void *arg, const void *dest, const uint8_t *buf, size_t len);
	/* The sync in two halves, so the fdatasync runs in the queue's own
	 * thread while the loop goes on (both NULL: sync is called inline).
	 * sync_begin returns the descriptor to fdatasync, or HOLDQ_ASYNC, or
	 * -1 if the records could not even be written (errno says why): the
	 * batch is dropped and the next try waits 100 ms;
	 * sync_end runs on the loop with the fdatasync's errno and does what
	 * sync does after it (0, or -1 if the records may not be durable). */
	int (*sync_begin)(void *arg);
	int (*sync_end)(void *arg, int err);
};
/* sync_begin's answer when the owner commits by itself (a database on the
 * loop, core/store.h): it calls holdq_sync_done when the commit is over. */
#define HOLDQ_ASYNC (-2)

/* A queue for replies of at most maxlen bytes with a destination of
 * destlen bytes; it registers its end-of-turn hook on loop. syncs counts
 * each sync, drops each reply a failed sync kept back (both may be NULL).
 * With sync_begin, the sync thread starts at the loop's first turn (after
 * the daemon's fork and privilege drop), not at the first sync. */
struct holdq *holdq_new(struct evloop *loop, size_t maxlen, size_t destlen,
    const struct holdq_ops *ops, void *arg, uint64_t *syncs, uint64_t *drops);
/* Commits what is held, removes the hook and frees q (NULL is fine). */
void holdq_free(struct holdq *q);

/* Room for the next reply: its buffer (maxlen bytes) and *dest (destlen
 * bytes), valid until holdq_hold or the next holdq_slot. The owner may
 * also build a reply it sends at once there and never hold it. */
uint8_t *holdq_slot(struct holdq *q, void **dest);
/* Holds the reply built in the last slot (len bytes) until the sync. */
void holdq_hold(struct holdq *q, size_t len);
/* The owner's commit begun with HOLDQ_ASYNC is over: err 0 sends its
 * replies, anything else drops them. On the loop's thread. */
void holdq_sync_done(struct holdq *q, int err);
/* For callers that must flush now: waits for a sync in flight, then syncs
 * and sends what is held, inline. */
void holdq_commit(struct holdq *q);

#endif
