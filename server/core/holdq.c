/* Replies held until the journal is durable (see holdq.h). */
#include "core/holdq.h"
#include "core/evloop.h"
#include "core/util.h"

#include <stdlib.h>

/* At most this many replies wait for one sync. A turn reads at most 64
 * datagrams a socket, so a turn fills it only with many sockets busy;
 * then the sync comes early rather than the memory growing. The slots are
 * allocated as they are first used. */
#define HOLDQ_MAX 2048

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

struct holdq {
	struct evloop *loop;
	const struct holdq_ops *ops;
	void *arg;
	uint64_t *syncs, *drops;
	size_t maxlen, destlen, stride;
	uint8_t *slots;             /* each: len (size_t), dest, reply */
	size_t n, cap;
};

static void
turn(void *arg)
{
	holdq_commit(arg);
}

struct holdq *
holdq_new(struct evloop *loop, size_t maxlen, size_t destlen, const struct holdq_ops *ops,
    void *arg, uint64_t *syncs, uint64_t *drops)
{
	struct holdq *q = ecalloc(1, sizeof *q);

	q->loop = loop;
	q->ops = ops;
	q->arg = arg;
	q->syncs = syncs;
	q->drops = drops;
	q->maxlen = maxlen;
	q->destlen = destlen;
	q->stride = 16 + ALIGN16(destlen) + ALIGN16(maxlen);
	ev_add_turn_hook(loop, turn, q);
	return q;
}

void
holdq_free(struct holdq *q)
{
	if (q == NULL)
		return;
	holdq_commit(q);
	ev_del_turn_hook(q->loop, turn, q);
	free(q->slots);
	free(q);
}

static uint8_t *
at(struct holdq *q, size_t i)
{
	return q->slots + i * q->stride;
}

uint8_t *
holdq_slot(struct holdq *q, void **dest)
{
	if (q->n == HOLDQ_MAX)
		holdq_commit(q);
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 16;
		q->slots = erealloc(q->slots, q->cap * q->stride);
	}
	*dest = at(q, q->n) + 16;
	return at(q, q->n) + 16 + ALIGN16(q->destlen);
}

void
holdq_hold(struct holdq *q, size_t len)
{
	*(size_t *)at(q, q->n) = len;
	q->n++;
}

void
holdq_commit(struct holdq *q)
{
	if (q->n == 0 && !q->ops->dirty(q->arg))
		return;
	int rc = q->ops->sync(q->arg);
	if (q->syncs)
		(*q->syncs)++;
	for (size_t i = 0; i < q->n; i++) {
		uint8_t *s = at(q, i);
		if (rc == 0)
			q->ops->send(q->arg, s + 16, s + 16 + ALIGN16(q->destlen), *(size_t *)s);
		else if (q->drops)
			(*q->drops)++;
	}
	q->n = 0;
}
