/* DHCPv6 messages (RFC 8415) as plain structs: the parser reads a datagram
 * through core/buf.h (relay layers, nested options, each option confined
 * to its declared length), the builder writes a reply and wraps it in one
 * Relay-Reply per Relay-Forward it answers. No sockets, no state. */
#ifndef GRIDBOOT_DHCP6_PACKET_H
#define GRIDBOOT_DHCP6_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/inventory.h"

enum {
	D6_SOLICIT = 1, D6_ADVERTISE, D6_REQUEST, D6_CONFIRM, D6_RENEW, D6_REBIND,
	D6_REPLY, D6_RELEASE, D6_DECLINE, D6_RECONFIGURE, D6_INFORMATION_REQUEST,
	D6_RELAY_FORW, D6_RELAY_REPL, D6_NTYPES,
};

enum {
	D6O_CLIENTID = 1, D6O_SERVERID = 2, D6O_IA_NA = 3, D6O_IA_TA = 4, D6O_IAADDR = 5,
	D6O_ORO = 6, D6O_PREFERENCE = 7, D6O_ELAPSED_TIME = 8, D6O_RELAY_MSG = 9,
	D6O_STATUS_CODE = 13, D6O_RAPID_COMMIT = 14, D6O_USER_CLASS = 15,
	D6O_VENDOR_CLASS = 16, D6O_INTERFACE_ID = 18, D6O_DNS_SERVERS = 23,
	D6O_BOOTFILE_URL = 59, D6O_BOOTFILE_PARAM = 60, D6O_CLIENT_ARCH = 61,
	D6O_CLIENT_LINKLAYER = 79,
};

enum {
	D6S_SUCCESS = 0, D6S_UNSPEC_FAIL = 1, D6S_NO_ADDRS = 2, D6S_NO_BINDING = 3,
	D6S_NOT_ON_LINK = 4, D6S_USE_MULTICAST = 5,
};

#define D6_MAX_IA    8      /* IA_NAs answered per message; more are dropped */
#define D6_MAX_HOPS  32     /* RFC 8415 HOP_COUNT_LIMIT: deeper relay nests are dropped */
/* A reply inside 32 Relay-Replies, each with an interface-id, passes
 * 1500 bytes: such datagrams are sent fragmented, as the request came. */
#define D6_MAXREPLY  4096

/* Why a datagram was dropped; index into dhcp6_perr_name. */
enum d6_perr {
	D6P_OK, D6P_SHORT, D6P_TYPE, D6P_OPTION, D6P_HOPS, D6P_NO_MSG, D6P_DUID,
	D6P_IA, D6P_TOO_MANY_IA, D6P_NPERR,
};
extern const char *const dhcp6_perr_name[D6P_NPERR];

struct d6_relay {
	uint8_t hops;
	uint8_t link[16], peer[16];
	const uint8_t *ifid;        /* interface-id, into the datagram; NULL if none */
	size_t ifid_len;
	bool has_ll;                /* option 79 (RFC 6939), Ethernet only */
	uint8_t ll[6];
};

struct d6_ia {
	uint32_t iaid, t1, t2;
	bool has_addr;              /* the first IAADDR the client named */
	uint8_t addr[16];
};

struct d6_msg {
	uint8_t type;
	uint8_t xid[3];
	uint8_t duid[DUID_MAX];     /* client identifier */
	size_t duid_len;
	uint8_t sid[DUID_MAX];      /* server identifier, if sent */
	size_t sid_len;
	struct d6_ia ia[D6_MAX_IA];
	int nia;
	bool has_ia_ta;             /* temporary addresses: we offer none */
	bool rapid;                 /* option 14 */
	int arch;                   /* option 61's first type, -1 if absent */
	char vendor[64];            /* option 16's first data, "" if absent */
	bool ipxe;                  /* option 15 holds "iPXE" */
	bool oro_dns, oro_boot;     /* asked for 23 / 59 */
	/* Relay layers, outermost (the one we received) first. */
	struct d6_relay relay[D6_MAX_HOPS];
	int nrelay;
	/* The client's MAC: the link-layer address in a DUID-LLT/DUID-LL of
	 * hardware type 1, else the first relay's option 79. */
	bool has_mac;
	uint8_t mac[6];
};

struct d6_ia_out {
	uint32_t iaid, t1, t2;
	bool has_addr;
	uint8_t addr[16];
	uint32_t pref, valid;
	bool has_stale;             /* an address the client must stop using (lifetimes 0) */
	uint8_t stale[16];
	uint16_t status;            /* D6S_SUCCESS: no status option */
};

struct d6_reply {
	uint8_t type;               /* D6_ADVERTISE or D6_REPLY */
	bool has_status;            /* a top-level status code */
	uint16_t status;
	struct d6_ia_out ia[D6_MAX_IA];
	int nia;
	bool rapid;                 /* a Reply to a rapid-commit Solicit */
	const uint8_t (*dns)[16];
	int ndns;
	const char *url;            /* option 59, NULL for none */
	const char *param;          /* option 60, NULL for none */
	bool http_client;           /* option 16 "HTTPClient" (UEFI HTTP Boot) */
	bool preference;            /* option 7 = 255: answer at once */
};

const char *dhcp6_type_name(int type);
enum d6_perr dhcp6_parse(const void *buf, size_t len, struct d6_msg *m);
/* The reply to req, wrapped in req's relay layers. 0 if it does not fit. */
size_t dhcp6_build(const struct d6_msg *req, const struct d6_reply *r,
    const uint8_t *sid, size_t sid_len, uint8_t *out, size_t cap);

#endif
