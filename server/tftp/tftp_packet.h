/* TFTP wire format: parsing requests (RFC 1350, options per RFC 2347,
 * 2348, 2349 and 7440) and building DATA, OACK and ERROR packets.
 * Pure functions over struct rd / struct wr: no sockets, no state, so the
 * fuzz target and unit tests drive them directly. */
#ifndef GRIDBOOT_TFTP_PACKET_H
#define GRIDBOOT_TFTP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum tftp_op { TFTP_RRQ = 1, TFTP_WRQ, TFTP_DATA, TFTP_ACK, TFTP_ERROR, TFTP_OACK };

enum tftp_err {
	TERR_UNDEF = 0, TERR_NOTFOUND, TERR_ACCESS, TERR_DISKFULL, TERR_BADOP,
	TERR_BADID, TERR_EXISTS, TERR_NOUSER, TERR_OPTNEG,
};

#define TFTP_DEFAULT_BLKSIZE 512
#define TFTP_MIN_BLKSIZE 8
#define TFTP_MAX_BLKSIZE 65464
#define TFTP_MAX_WINDOW 64          /* more buys nothing on a LAN */
#define TFTP_MAX_TIMEOUT 255
#define TFTP_MAX_BLOCKS 65535       /* no rollover: 9boot cannot follow one */
#define TFTP_MAX_PATH 512
#define TFTP_MAX_PACKET (4 + TFTP_MAX_BLKSIZE)

/* Option flags: which options the client asked for (and we accept). */
#define TOPT_BLKSIZE 1u
#define TOPT_TSIZE 2u
#define TOPT_TIMEOUT 4u
#define TOPT_WINDOW 8u

struct tftp_req {
	enum tftp_op op;            /* TFTP_RRQ or TFTP_WRQ */
	char path[TFTP_MAX_PATH + 1];
	bool netascii;              /* else octet */
	unsigned opts;              /* TOPT_* the client sent (and we honour) */
	unsigned blksize;           /* clamped to TFTP_MAX_BLKSIZE */
	unsigned timeout;           /* seconds */
	unsigned windowsize;        /* clamped to TFTP_MAX_WINDOW */
	uint64_t tsize;             /* what the client said (0 on RRQ) */
};

/* Why a request was refused: the ERROR code to answer with (or drop when
 * code is negative) and a short static message. */
struct tftp_reject {
	int code;
	const char *msg;
};

/* Parses a whole RRQ/WRQ datagram. true with *req filled, or false with
 * *why set. Unknown options are ignored; known ones with a bad value,
 * duplicates and unknown modes are refused. */
bool tftp_parse_request(const void *pkt, size_t len, struct tftp_req *req,
    struct tftp_reject *why);

/* Reads the opcode and 16-bit block number (ACK) or error code (ERROR) of a
 * packet from a transfer's peer. false if it is shorter than 4 bytes. */
bool tftp_parse_head(const void *pkt, size_t len, uint16_t *op, uint16_t *num);

void tftp_put_error(struct wr *w, int code, const char *msg);
/* OACK with the options in req->opts; tsize is the file's size. */
void tftp_put_oack(struct wr *w, const struct tftp_req *req, uint64_t tsize);
/* DATA header; the caller appends the payload. */
void tftp_put_data_head(struct wr *w, uint16_t block);

#endif
