/* The turn's datagrams, sent with one sendmmsg (see udpq.h). */
#include "core/udpq.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct udpq {
	int fd;
	size_t maxlen;
	const struct udpq_ops *ops;
	void *arg;
	int n;
	struct sockaddr_storage to[UDPQ_MAX];
	socklen_t tolen[UDPQ_MAX];
	uint8_t ctl[UDPQ_MAX][UDPQ_CTL] __attribute__((aligned(8)));
	size_t ctllen[UDPQ_MAX];
	size_t len[UDPQ_MAX];
	uint8_t *buf;               /* UDPQ_MAX slots of maxlen bytes */
};

struct udpq *
udpq_new(int fd, size_t maxlen, const struct udpq_ops *ops, void *arg)
{
	struct udpq *q = ecalloc(1, sizeof *q);

	q->fd = fd;
	q->maxlen = maxlen;
	q->ops = ops;
	q->arg = arg;
	q->buf = emalloc(UDPQ_MAX * maxlen);
	prefault(q->buf, UDPQ_MAX * maxlen);
	return q;
}

void
udpq_free(struct udpq *q)
{
	if (q == NULL)
		return;
	free(q->buf);
	free(q);
}

void
udpq_add(struct udpq *q, const struct sockaddr *to, socklen_t tolen,
    const void *ctl, size_t ctllen, const uint8_t *buf, size_t len)
{
	if (q->n == UDPQ_MAX)
		udpq_flush(q);
	int i = q->n++;
	q->tolen[i] = MIN(tolen, (socklen_t)sizeof q->to[i]);
	memcpy(&q->to[i], to, q->tolen[i]);
	q->ctllen[i] = MIN(ctllen, sizeof q->ctl[i]);
	if (q->ctllen[i])
		memcpy(q->ctl[i], ctl, q->ctllen[i]);
	q->len[i] = MIN(len, q->maxlen);
	memcpy(q->buf + (size_t)i * q->maxlen, buf, q->len[i]);
}

void
udpq_flush(struct udpq *q)
{
	struct mmsghdr m[UDPQ_MAX];
	struct iovec iov[UDPQ_MAX];
	int done = 0;

	if (q == NULL || q->n == 0)
		return;
	memset(m, 0, (size_t)q->n * sizeof *m);
	for (int i = 0; i < q->n; i++) {
		struct msghdr *mh = &m[i].msg_hdr;
		iov[i] = (struct iovec){ q->buf + (size_t)i * q->maxlen, q->len[i] };
		mh->msg_name = &q->to[i];
		mh->msg_namelen = q->tolen[i];
		mh->msg_iov = &iov[i];
		mh->msg_iovlen = 1;
		if (q->ctllen[i]) {
			mh->msg_control = q->ctl[i];
			mh->msg_controllen = q->ctllen[i];
		}
	}
	while (done < q->n) {
		int sent = sendmmsg(q->fd, m + done, (unsigned)(q->n - done), 0);
		if (sent <= 0) {
			q->ops->failed(q->arg, (struct sockaddr *)&q->to[done], errno);
			done++;
			continue;
		}
		for (int i = done; i < done + sent; i++)
			q->ops->sent(q->arg, q->buf + (size_t)i * q->maxlen, q->len[i]);
		done += sent;
	}
	q->n = 0;
}
