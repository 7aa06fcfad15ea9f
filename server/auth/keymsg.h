/* The messages between the network process and the key process
 * (keyproc.c), over a SOCK_SEQPACKET socketpair: one datagram is one
 * message, so a short or long datagram is seen as such (MSG_TRUNC).
 *
 *   type[1] 0[1] len[2] tag[4] body[len]          (little-endian)
 *
 * tag names the session (an auth port connection, an rcpu connection, a
 * 9P afid) the message belongs to; replies carry their request's tag.
 * Every type has a fixed body size or a bounded one (kmsg_decode checks
 * it before a handler reads a byte); anything else is refused.
 *
 * What crosses, and why it is enough (docs/auth.md):
 *   network -> key  a Ticketreq (141) with two policy bits (DES allowed,
 *                   may the host speak for the uid: grid.speaksfor is the
 *                   network's, not a secret); the client's PAK Y's; a
 *                   sealed Passwordreq; rcpu's protocol bytes; a name for
 *                   an nvram image; "re-read the key file".
 *   key -> network  only what the protocol puts on the wire: AuthOK/AuthErr,
 *                   our Y's, sealed tickets and authenticators, the nvram
 *                   image served to the host owner's machines; for rcpu the
 *                   TLS-PSK session secret (one connection's, derived from
 *                   its ticket nonce, needed for the TLS the network
 *                   process runs); user names and counts for the log. No
 *                   user's key, no keyseed, no PAK key ever crosses. */
#ifndef GRIDBOOT_KEYMSG_H
#define GRIDBOOT_KEYMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/authmsg.h"

#define KMSG_HDR 8
#define KMSG_MAXBODY 1024
#define KMSG_MAX (KMSG_HDR + KMSG_MAXBODY)

enum kmsg_type {
	/* network -> key */
	KM_LOAD = 1,    /* (empty) re-read the key file and keyseed */
	KM_TREQ,        /* flags[1] ticketreq[141] */
	KM_YS,          /* the client's Y's: 56 or 112 */
	KM_PASSREQ,     /* flags[1] Passwordreq[90 or 117] */
	KM_END,         /* (empty) the tag's session is over */
	KM_RSTART,      /* authid[28] dom[48] offer[64]: an rcpu/afid session */
	KM_RIN,         /* flags[1] step[1..192]: rcpu's bytes before TLS */
	KM_NVRAM,       /* authid[28] dom[48] flags[1] */
	/* key -> network */
	KM_LOADED = 64, /* ok[1] users[4] message[0..200] */
	KM_AREPLY,      /* flags[1] need[2] cuid[28] out[0..249] */
	KM_RREPLY,      /* result[1] st[1] p9sk1[1] user[28] why[64] nsecret[2]
	                 * secret[nsecret] out[..] */
	KM_NVIMG,       /* ok[1] image[512] */
	KM_LOG,         /* level[1] text[1..240] */
	KM_REFUSED,     /* text[1..120]: the message with this tag was refused */
};

/* KM_TREQ / KM_PASSREQ flags */
#define KMF_DES 1       /* grid.auth_des */
#define KMF_SPEAKS 2    /* grid.speaksfor lets hostid speak for uid */
/* KM_RIN flags */
#define KMF_SECRET 1    /* rcpu: the TLS-PSK secret comes back with As */
/* KM_AREPLY flags */
#define KMA_CLOSE 1
#define KMA_FAIL 2
#define KMA_CHANGED 4
#define KMA_PASSING 8
#define KMA_FORM1 16
#define KMA_BADY 32     /* KM_YS: a Y that does not decode */

#define KM_RSTART_LEN (AUTH_ANAMELEN + AUTH_DOMLEN + 64)
#define KM_RIN_MAX (1 + AUTH_TICKETLEN1 + AUTH_AUTHENTLEN1)
#define KM_NVRAM_LEN (AUTH_ANAMELEN + AUTH_DOMLEN + 1)
#define KM_AREPLY_HDR (1 + 2 + AUTH_ANAMELEN)
#define KM_RREPLY_HDR (3 + AUTH_ANAMELEN + 64 + 2)

struct kmsg {
	uint8_t type;
	uint32_t tag;
	const uint8_t *body;
	size_t len;
};

/* Writes one message into buf (cap at least KMSG_HDR + len); 0 when type
 * does not allow a body of that size. */
size_t kmsg_encode(uint8_t *buf, size_t cap, uint8_t type, uint32_t tag, const void *body,
    size_t len);
/* One received datagram of n bytes. false with why when it is not a
 * message: short, a length that does not match, an unknown type, a body
 * size its type does not allow. from_key: the direction it came. */
bool kmsg_decode(const uint8_t *p, size_t n, bool from_key, struct kmsg *m, const char **why);
/* Whether type may carry a body of len bytes. */
bool kmsg_len_ok(uint8_t type, size_t len);

#endif
