/* A loop turn's datagrams for one UDP socket, sent together with one
 * sendmmsg at the turn's end (or when the queue is full): on the VMs this
 * is measured on, a system call's entry and exit cost about as much as
 * the UDP send itself. DHCPv4's and DHCPv6's replies go through it. Each
 * datagram keeps its destination and its control message (the interface
 * and source address it must leave from). */
#ifndef GRIDBOOT_UDPQ_H
#define GRIDBOOT_UDPQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDPQ_MAX 64             /* datagrams a queue holds */
#define UDPQ_CTL 64             /* bytes of control message each may carry */

struct udpq_ops {
	/* A datagram the kernel took (for the owner's counters). */
	void (*sent)(void *arg, const uint8_t *buf, size_t len);
	/* One it refused, with errno's value; the rest still go. */
	void (*failed)(void *arg, const struct sockaddr *to, int err);
};

struct udpq;

/* A queue for fd of datagrams up to maxlen bytes (longer are cut). */
struct udpq *udpq_new(int fd, size_t maxlen, const struct udpq_ops *ops, void *arg);
void udpq_free(struct udpq *q);         /* sends nothing: flush first */
/* Queues one datagram to `to`, with ctl (ctllen <= UDPQ_CTL, 0: none). */
void udpq_add(struct udpq *q, const struct sockaddr *to, socklen_t tolen,
    const void *ctl, size_t ctllen, const uint8_t *buf, size_t len);
/* Sends what is queued, in order. */
void udpq_flush(struct udpq *q);

#endif
