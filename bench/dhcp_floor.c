/* The floor under bench/dhcp.sh: the least a DHCP server answering the
 * same client can do on this machine, measured in the same run as
 * gridbootd, Kea and dnsmasq, so their latencies can be read against it.
 *
 * It reads nothing but the message type, decides nothing (the address is
 * a counter's), keeps no table and builds the shortest reply the client
 * accepts, with the system calls a batching server needs: per turn one
 * recvmmsg of up to 64 datagrams and one sendmmsg of the OFFERs; with
 * "sync", also one pwrite of a line per REQUEST into a file padded
 * ahead (as core/journal.c's) and one fdatasync, inline, before one
 * sendmmsg of the ACKs. So "nosync" is what this machine's network path
 * costs a burst of clients before any server does any work, and "sync"
 * adds one disk flush per turn to it. Not a DHCP server: it answers any
 * DISCOVER and REQUEST, and only bench/dhcp_load.c's relay-style ones
 * make sense to it.
 *   dhcp_floor ADDR JOURNAL sync|nosync
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define REPLY 300               /* the BOOTP minimum, as servers send */
#define PAD (1 << 20)

static uint8_t rx[BATCH][1500];
static struct sockaddr_in from[BATCH];
static struct mmsghdr rxm[BATCH];
static struct iovec rxv[BATCH];

/* Replies of one turn: OFFERs and ACKs apart, each sent in one call. */
struct out {
	uint8_t buf[BATCH][REPLY];
	struct sockaddr_in to[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	int n;
};
static struct out offers, acks;

/* Option 53 of a request of len bytes, or 0. */
static int
msgtype(const uint8_t *p, size_t len)
{
	for (size_t k = 240; k < len && p[k] != 255;) {
		if (p[k] == 0) {
			k++;
			continue;
		}
		if (k + 1 >= len || k + 2 + p[k + 1] > len)
			return 0;
		if (p[k] == 53 && p[k + 1] == 1)
			return p[k + 2];
		k += 2 + p[k + 1];
	}
	return 0;
}

/* Builds the reply of type to request q (at least 240 bytes) into o. */
static void
reply(struct out *o, const uint8_t *q, const struct sockaddr_in *to, int type,
    uint32_t yiaddr, const struct in_addr *me)
{
	uint8_t *r = o->buf[o->n];
	size_t l = 240;
	uint32_t lease = htonl(3600);

	memcpy(r, q, 240);
	r[0] = 2;
	memcpy(r + 16, &yiaddr, 4);
	r[l++] = 53; r[l++] = 1; r[l++] = (uint8_t)type;
	r[l++] = 54; r[l++] = 4; memcpy(r + l, me, 4); l += 4;
	r[l++] = 51; r[l++] = 4; memcpy(r + l, &lease, 4); l += 4;
	r[l++] = 255;
	memset(r + l, 0, REPLY - l);
	o->to[o->n] = *to;
	o->iov[o->n] = (struct iovec){ r, REPLY };
	o->m[o->n] = (struct mmsghdr){ .msg_hdr = { .msg_name = &o->to[o->n],
	    .msg_namelen = sizeof o->to[0], .msg_iov = &o->iov[o->n], .msg_iovlen = 1 } };
	o->n++;
}

static void
send_all(int s, struct out *o)
{
	for (int k = 0; k < o->n;) {
		int n = sendmmsg(s, o->m + k, (unsigned)(o->n - k), 0);
		if (n <= 0) {
			perror("dhcp_floor: sendmmsg");     /* lost: the client resends */
			break;
		}
		k += n;
	}
	o->n = 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(67) };
	static char pad[PAD];
	char journal[BATCH * 64];
	uint32_t next = 0;
	off_t end = 0;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &me.sin_addr) != 1 ||
	    (strcmp(argv[3], "sync") != 0 && strcmp(argv[3], "nosync") != 0)) {
		fprintf(stderr, "usage: dhcp_floor ADDR JOURNAL sync|nosync\n");
		return 2;
	}
	int sync = strcmp(argv[3], "sync") == 0;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof me) < 0) {
		perror("dhcp_floor: bind");
		return 1;
	}
	int jf = open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	memset(pad, ' ', sizeof pad);
	if (jf < 0 || pwrite(jf, pad, sizeof pad, 0) != (ssize_t)sizeof pad || fsync(jf) < 0) {
		perror(argv[2]);
		return 1;
	}
	for (;;) {
		struct pollfd p = { s, POLLIN, 0 };
		if (poll(&p, 1, -1) < 0)
			continue;
		for (int i = 0; i < BATCH; i++) {
			rxv[i] = (struct iovec){ rx[i], sizeof rx[i] };
			rxm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
			    .msg_namelen = sizeof from[i], .msg_iov = &rxv[i], .msg_iovlen = 1 } };
		}
		int n = recvmmsg(s, rxm, BATCH, MSG_DONTWAIT, NULL);
		size_t jlen = 0;
		for (int i = 0; i < n; i++) {
			const uint8_t *q = rx[i];
			size_t len = rxm[i].msg_len;
			int type = len >= 240 && q[0] == 1 ? msgtype(q, len) : 0;
			uint32_t yiaddr = htonl(0x0a5c0100u + (next++ & 0xfeff));
			if (type == 1)
				reply(&offers, q, &from[i], 2, yiaddr, &me.sin_addr);
			else if (type == 3) {
				reply(&acks, q, &from[i], 5, yiaddr, &me.sin_addr);
				jlen += (size_t)snprintf(journal + jlen, sizeof journal - jlen,
				    "B %02x%02x%02x%02x%02x%02x %08x\n",
				    q[28], q[29], q[30], q[31], q[32], q[33], yiaddr);
			}
		}
		send_all(s, &offers);
		if (acks.n == 0)
			continue;
		if (sync) {
			if (end + (off_t)jlen > PAD)
				end = 0;    /* a floor, not a record: wrap */
			if (pwrite(jf, journal, jlen, end) != (ssize_t)jlen || fdatasync(jf) < 0) {
				perror(argv[2]);
				acks.n = 0;
				continue;
			}
			end += (off_t)jlen;
		}
		send_all(s, &acks);
	}
}
