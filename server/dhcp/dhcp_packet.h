/* DHCP messages on the wire (RFC 2131/2132): a parser that turns untrusted
 * bytes into a struct dhcp_msg through struct rd, and a builder that writes
 * replies through struct wr. Nothing here touches sockets or state, so the
 * fuzzer and the unit tests drive it directly. */
#ifndef GRIDBOOT_DHCP_PACKET_H
#define GRIDBOOT_DHCP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_FIXED      236         /* op .. file, before the magic cookie */
#define DHCP_MAGIC      0x63825363u
#define DHCP_MINREPLY   300         /* BOOTP's minimum; some ROMs insist */
#define DHCP_MAXREPLY   1472        /* one Ethernet frame of UDP payload */
#define DHCP_FLAG_BCAST 0x8000

enum {
	DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE,
	DHCPACK, DHCPNAK, DHCPRELEASE, DHCPINFORM,
};

/* Why a packet was dropped; index into dhcp_perr_name. */
enum dhcp_perr {
	DP_OK, DP_SHORT, DP_OP, DP_HLEN, DP_MAGIC, DP_OPTION, DP_OVERLOAD,
	DP_TYPE, DP_NPERR,
};
extern const char *const dhcp_perr_name[DP_NPERR];
const char *dhcp_type_name(int type);      /* "discover", ...; "?" */

struct dhcp_msg {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;    /* host byte order */
	uint8_t chaddr[16];
	uint8_t type;               /* option 53 */
	uint32_t reqip;             /* option 50, 0 if absent */
	uint32_t serverid;          /* option 54, 0 if absent */
	uint16_t maxsize;           /* option 57, 0 if absent */
	int arch;                   /* option 93 (first entry), -1 if absent */
	bool ipxe;                  /* user class "iPXE" or option 175 present */
	bool has_uuid;
	uint8_t uuid[17];           /* option 97: type byte + 16 */
	uint8_t overload;           /* option 52 */
	/* Text options, made printable (other bytes become '?') and cut to fit. */
	char vendor[64];            /* option 60 */
	char hostname[64];          /* option 12 */
	char userclass[64];         /* option 77 */
	uint8_t clientid[64];       /* option 61, cut to 64 */
	size_t clientid_len;
	uint8_t params[255];        /* option 55 */
	size_t nparams;
};

/* Parses one BOOTREQUEST. Returns DP_OK or why it is malformed. */
enum dhcp_perr dhcp_parse(const void *buf, size_t len, struct dhcp_msg *m);
bool dhcp_wants(const struct dhcp_msg *m, uint8_t code);   /* in option 55 */

/* A reply under construction: the fixed fields, then options appended in
 * priority order. An option that does not fit the client's maximum size is
 * left out (and counted), never truncated. */
struct dhcp_reply {
	uint8_t type;
	uint32_t ciaddr, yiaddr, siaddr;
	uint16_t flags;
	char file[128];
	uint8_t opts[DHCP_MAXREPLY];
	size_t optlen;
	size_t cap;                 /* the client's limit for the whole message */
	unsigned dropped;           /* options that did not fit */
};

void dhcp_reply_init(struct dhcp_reply *r, const struct dhcp_msg *req, uint8_t type);
void dhcp_opt(struct dhcp_reply *r, uint8_t code, const void *data, size_t len);
void dhcp_opt_u32(struct dhcp_reply *r, uint8_t code, uint32_t v);
void dhcp_opt_str(struct dhcp_reply *r, uint8_t code, const char *s);
/* Writes the whole message; returns its length, 0 if buf is too small. */
size_t dhcp_build(const struct dhcp_msg *req, const struct dhcp_reply *r,
    uint8_t *buf, size_t cap);

#endif
