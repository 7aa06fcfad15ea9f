/* Router Solicitations and Advertisements (RFC 4861 4.1, 4.2, 6.1) as
 * pure codecs: the ICMPv6 message after the IPv6 header, no sockets. The
 * RA module (ra.c) reads every packet through ra_parse and builds its own
 * advertisements with ra_build. */
#ifndef GRIDBOOT_RA_PACKET_H
#define GRIDBOOT_RA_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ICMP6_RS 133
#define ICMP6_RA 134

/* Why a packet was dropped; RAP_OK for a valid one. */
enum ra_perr {
	RAP_OK,
	RAP_SHORT,          /* shorter than its message's fixed part */
	RAP_TYPE,           /* neither RS nor RA */
	RAP_CODE,           /* ICMP code not 0 */
	RAP_HOPLIMIT,       /* not 255: it crossed a router (RFC 4861 6.1) */
	RAP_SOURCE,         /* RA not from a link-local address; RS from :: with a link-layer option */
	RAP_OPTION,         /* an option of length 0 or running past the end */
	RAP_NPERR,
};
extern const char *const ra_perr_name[RAP_NPERR];

struct ra_msg {
	int type;                   /* ICMP6_RS or ICMP6_RA */
	/* RA only */
	uint8_t cur_hop_limit;
	bool managed, other;        /* M and O flags */
	uint16_t router_lifetime;   /* seconds; 0: not a default router */
	int nprefixes;              /* Prefix Information options */
	/* either */
	bool has_slla;
	uint8_t slla[6];            /* source link-layer address, if Ethernet */
};

/* Validates msg (len bytes of ICMPv6, from src, the 16-byte source
 * address, received with hop limit hoplimit) per RFC 4861 6.1.1 / 6.1.2
 * except the checksum, which the kernel checked. */
enum ra_perr ra_parse(const uint8_t *msg, size_t len, const uint8_t src[16], int hoplimit,
    struct ra_msg *out);

/* What gridbootd announces: M and O as given, everything else zero
 * ("unspecified"), router lifetime 0: a host gets no default route from
 * it. With onlink (16 bytes, onlink_len bits), one prefix option saying
 * only that the prefix is on the link (L=1, A=0: no address from it, a
 * valid lifetime of RA_ONLINK_LIFETIME s). With mac, a source link-layer
 * option. Returns the length written (checksum left 0 for the kernel),
 * or 0 if cap is too small. */
#define RA_ONLINK_LIFETIME 1800
size_t ra_build(uint8_t *buf, size_t cap, bool managed, bool other, const uint8_t *onlink,
    int onlink_len, const uint8_t *mac);

/* A Router Solicitation from us (RFC 4861 4.1), to learn at start whether
 * another router is on the link. */
size_t rs_build(uint8_t *buf, size_t cap, const uint8_t *mac);

#endif
