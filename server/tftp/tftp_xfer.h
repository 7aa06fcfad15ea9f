/* One TFTP read transfer: its own UDP socket (its TID) in the event loop,
 * a retransmit timer, and a window of blocks (RFC 7440; window 1 is
 * RFC 1350's lock-step). Data comes from the static tree (pread on a
 * shared descriptor, through a 16 KiB read-ahead buffer) or from a
 * generated file held in memory, so a transfer costs about 17 KiB whatever
 * its size. */
#ifndef GRIDBOOT_TFTP_XFER_H
#define GRIDBOOT_TFTP_XFER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/evloop.h"
#include "core/fileroot.h"
#include "tftp/tftp_packet.h"

/* A peer's or our own address: IPv4 from the IPv4 listener, IPv6 from
 * the IPv6 one (IPV6_V6ONLY, so IPv4 never arrives mapped there). */
union tftp_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};
socklen_t tftp_sa_len(const union tftp_sa *a);
uint16_t tftp_sa_port(const union tftp_sa *a);      /* host order */
bool tftp_sa_same_addr(const union tftp_sa *a, const union tftp_sa *b);
/* The address alone, "10.0.0.5" or "fd00::5", for logs and the timeline. */
void tftp_sa_format(const union tftp_sa *a, char out[INET6_ADDRSTRLEN]);

/* What a transfer reads from: exactly one of file and mem. The transfer
 * takes ownership (releases the file, frees mem). */
struct xfer_src {
	struct rootfile *file;
	char *mem;
	uint64_t size;
};

/* Why an RRQ got no transfer (counted by tftp.c, not here). */
enum xfer_refusal { XFER_STARTED, XFER_TOO_LARGE, XFER_BUSY, XFER_NOSOCK };

/* Every transfer in flight, with its counters: the TFTP server's table
 * (inside its state, struct tftp_server), handed to every call below. */
struct tftp_xfers;

/* A new, empty table: transfers run in loop, at most max_active at once. */
struct tftp_xfers *tftp_xfer_new(struct evloop *loop, unsigned max_active);
/* Ends every transfer (daemon shutdown) and frees xs (NULL is fine). */
void tftp_xfer_free(struct tftp_xfers *xs);
/* Starts sending src to peer from a new socket bound to local (port 0).
 * On refusal the caller still owns src and answers the client itself, with
 * the message in *why. mac may be NULL. */
enum xfer_refusal tftp_xfer_start(struct tftp_xfers *xs, const union tftp_sa *local,
    const union tftp_sa *peer, const struct tftp_req *req,
    struct xfer_src *src, const uint8_t *mac, struct tftp_reject *why,
    char *msgbuf, size_t msgcap);
/* True if a transfer to this peer (address and port) is still waiting for
 * its first acknowledgement: a retransmitted RRQ, which the transfer's own
 * timer already covers. */
bool tftp_xfer_pending_for(const struct tftp_xfers *xs, const union tftp_sa *peer);
/* Transfers in flight to peer's address, whatever the port. */
unsigned tftp_xfer_count_for_addr(const struct tftp_xfers *xs, const union tftp_sa *peer);
/* A new request from peer: a transfer to the same address and port that
 * only lacks its final ACK is over, the client has moved on. */
void tftp_xfer_superseded_by(struct tftp_xfers *xs, const union tftp_sa *peer);
/* Bumps gridboot_tftp_transfers_total{outcome=...}. */
void tftp_xfer_count_outcome(struct tftp_xfers *xs, const char *outcome);

#endif
