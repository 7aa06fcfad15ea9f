/* tftp_xfer: the read-transfer state machine (see tftp_xfer.h).
 *
 * State is three block numbers: `acked` (the highest block the client has
 * acknowledged), `sent` (the highest block sent) and `last` (the final
 * block, 0 while a netascii transfer has not found it yet). Only an ACK
 * that moves `acked` forward sends anything; a duplicate or stale ACK is
 * ignored, so one lost packet can never double the traffic (the Sorcerer's
 * Apprentice bug). After an ACK the next window goes out starting at
 * acked+1, which is also how a partial ACK (RFC 7440: the client saw a
 * gap) resends exactly what was lost. Silence is handled only by the
 * timer: it resends from acked+1 with exponential backoff and gives up
 * after a bounded number of tries. */
#include "tftp/tftp_xfer.h"
#include "core/events.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RTO_FIRST_MS 1000       /* without a timeout option */
#define RTO_MAX_MS 5000
/* A client's timeout option is honoured in the OACK, but we resend after
 * at most this long: an early resend costs the client one duplicate,
 * while a 255 s timeout would let a silent client hold a transfer for
 * half an hour. */
#define RTO_CLIENT_CAP_MS 10000
#define SEND_RETRY_MS 10        /* after the kernel refused a send */
#define MAX_BLOCKED_TRIES 100
#define MAX_RETRIES 5           /* retransmissions before giving up */
#define MAX_RETRIES_FINAL 3     /* once only the final ACK is missing */
/* Before the peer has acknowledged anything its address is unproven: a
 * spoofed RRQ names a victim, and each DATA we resend to it is a 516-byte
 * (or blksize) answer to a 20-byte question. One resend, then give up; a
 * real client that lost both asks again. */
#define MAX_RETRIES_UNHEARD 1
#define HASH_SIZE 1024
/* Bytes a window may put in flight: a 64 x 65464 window would overrun the
 * client's socket buffer and turn into loss and resends, so the window is
 * negotiated down (RFC 7440 lets the server answer a smaller one). */
#define MAX_INFLIGHT (128 * 1024)
/* Small blocks are read from the file CHUNK bytes at a time: at 512 bytes
 * a pread per block was a quarter of the server's system calls, and
 * lock-step speed is all round trips. */
#define CHUNK 16384

/* netascii expands LF to CR LF and CR to CR NUL, so block b's file offset
 * cannot be computed; the reader state at the start of each block that may
 * still be resent (a window's worth plus one) is remembered instead. */
struct na_mark {
	uint64_t off;           /* source offset */
	int pending;            /* second byte of a split pair, or -1 */
};
#define NA_MARKS (TFTP_MAX_WINDOW + 1)

struct tftp_xfer {
	struct tftp_xfers *xs;               /* the table it is in */
	struct tftp_xfer *next, *prev;       /* all transfers */
	struct tftp_xfer *hnext;             /* peer hash chain */
	int fd;
	union tftp_sa peer;
	struct xfer_src src;
	struct tftp_req req;            /* options as negotiated */
	uint8_t mac[6];
	bool has_mac;
	bool oack;                      /* OACK sent, waiting for ACK 0 */
	bool heard;                     /* the peer acknowledged something: a real client */
	uint32_t acked, sent, last;
	unsigned retries;
	unsigned perblock;              /* partial ACKs in a row one block apart */
	bool blocked;                   /* the kernel refused a send: retry soon */
	unsigned blocked_tries;         /* such quick retries since progress */
	unsigned rto;                   /* current retransmit interval, ms */
	uint64_t deadline;              /* when silence means a retransmit */
	uint64_t start_ms;
	uint64_t bytes;                 /* payload bytes sent, resends included */
	struct ev_timer timer;
	struct na_mark *na;             /* netascii only */
	uint8_t *chunk;                 /* read-ahead of the file, CHUNK bytes */
	uint64_t chunk_off;
	size_t chunk_len;
};

/* How a request or transfer can end: the label values of
 * gridboot_tftp_transfers_total, registered once at start-up (so each
 * shows from 0) rather than looked up in the registry per request. */
static const char *const outcomes[] = {
	"ok", "ok_no_last_ack", "timeout", "aborted", "client_error", "protocol_error",
	"read_error", "too_large", "busy", "bad_request", "write_refused", "not_found",
	"denied", "error",
};

/* The transfer table: the TFTP server's (tftp.c keeps the pointer
 * tftp_xfer_new returns in its state). */
struct tftp_xfers {
	struct evloop *loop;
	struct tftp_xfer *all;
	struct tftp_xfer *hash[HASH_SIZE];
	unsigned active, max_active;
	uint64_t *m_active, *m_bytes, *m_resends, *m_dupacks, *m_badtid, *m_sendfail;
	uint64_t *outcome_counters[nelem(outcomes)];
	struct ratelimit rl_badtid, rl_timeout, rl_proto, rl_send;
};

/* One send buffer and one netascii scratch buffer for every transfer:
 * the loop is single-threaded and a packet is built and sent at once.
 * Pure scratch (nothing survives a call), so they stay static rather than
 * add 128 KiB to the table. */
static uint8_t pktbuf[TFTP_MAX_PACKET];
static uint8_t scratch[TFTP_MAX_BLKSIZE];
/* A whole window of an octet transfer: its data read at once, its
 * datagrams sent with one sendmmsg (windowbuf holds MAX_INFLIGHT bytes,
 * to which the window is negotiated down, or one block). */
static uint8_t windowbuf[MAX_INFLIGHT + TFTP_MAX_BLKSIZE];
static uint8_t windowhdr[TFTP_MAX_WINDOW][4];

static void on_packet(int fd, uint32_t events, void *arg);
static void finish(struct tftp_xfer *x, int level, const char *outcome, const char *text);

/* Everything but the final ACK has arrived: where 9boot leaves a transfer. */
static bool
only_last_ack_missing(const struct tftp_xfer *x)
{
	return x->last && !x->oack && x->acked + 1 == x->last && x->sent == x->last;
}
static void on_timer(void *arg);

static uint64_t *
outcome_counter(const char *outcome)
{
	return metric_counterf("gridboot_tftp_transfers_total",
	    "TFTP read requests by how they ended", "outcome=\"%s\"", outcome);
}

struct tftp_xfers *
tftp_xfer_new(struct evloop *loop, unsigned max_active)
{
	struct tftp_xfers *xs = ecalloc(1, sizeof *xs);

	xs->loop = loop;
	xs->max_active = max_active;
	const struct metric_def defs[] = {
		{ &xs->m_active, "gridboot_tftp_active_transfers", NULL,
		  "TFTP transfers in progress", true },
		{ &xs->m_bytes, "gridboot_tftp_bytes_total", NULL,
		  "TFTP payload bytes sent, retransmissions included" },
		{ &xs->m_resends, "gridboot_tftp_retransmits_total", NULL,
		  "TFTP windows resent after a timeout" },
		{ &xs->m_dupacks, "gridboot_tftp_duplicate_acks_total", NULL,
		  "TFTP ACKs ignored because they acknowledged nothing new" },
		{ &xs->m_sendfail, "gridboot_tftp_send_errors_total", NULL,
		  "DATA packets the kernel refused to send (resent by the timer)" },
		{ &xs->m_badtid, "gridboot_tftp_wrong_tid_total", NULL,
		  "Packets to a transfer port from another address or port" },
	};
	metrics_register(defs, nelem(defs));
	for (size_t i = 0; i < nelem(outcomes); i++)
		xs->outcome_counters[i] = outcome_counter(outcomes[i]);
	return xs;
}

socklen_t
tftp_sa_len(const union tftp_sa *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof a->in6 : sizeof a->in;
}

uint16_t
tftp_sa_port(const union tftp_sa *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in.sin_port);
}

bool
tftp_sa_same_addr(const union tftp_sa *a, const union tftp_sa *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET6)
		return IN6_ARE_ADDR_EQUAL(&a->in6.sin6_addr, &b->in6.sin6_addr) &&
		    a->in6.sin6_scope_id == b->in6.sin6_scope_id;
	return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
}

void
tftp_sa_format(const union tftp_sa *a, char out[INET6_ADDRSTRLEN])
{
	if (a->sa.sa_family == AF_INET6)
		inet_ntop(AF_INET6, &a->in6.sin6_addr, out, INET6_ADDRSTRLEN);
	else
		ip_format(ntohl(a->in.sin_addr.s_addr), out);
}

static unsigned
peer_hash(const union tftp_sa *a)
{
	uint32_t h;

	if (a->sa.sa_family == AF_INET6) {
		const uint8_t *b = a->in6.sin6_addr.s6_addr;
		uint32_t w;
		memcpy(&w, b + 12, 4);
		h = (w ^ b[0] ^ (uint32_t)b[15] << 8) * 2654435761u ^ a->in6.sin6_port;
	} else
		h = a->in.sin_addr.s_addr * 2654435761u ^ a->in.sin_port;
	return (h ^ h >> 16) % HASH_SIZE;
}

static bool
same_peer(const union tftp_sa *a, const union tftp_sa *b)
{
	return tftp_sa_same_addr(a, b) && tftp_sa_port(a) == tftp_sa_port(b);
}

void
tftp_xfer_superseded_by(struct tftp_xfers *xs, const union tftp_sa *peer)
{
	struct tftp_xfer *x = xs->hash[peer_hash(peer)], *next;

	for (; x; x = next) {
		next = x->hnext;
		if (same_peer(&x->peer, peer) && only_last_ack_missing(x))
			finish(x, LOG_INFO, "ok_no_last_ack", "ok (last ACK not seen)");
	}
}

bool
tftp_xfer_pending_for(const struct tftp_xfers *xs, const union tftp_sa *peer)
{
	for (struct tftp_xfer *x = xs->hash[peer_hash(peer)]; x; x = x->hnext)
		if (same_peer(&x->peer, peer) && x->acked == 0)
			return true;
	return false;
}

unsigned
tftp_xfer_count_for_addr(const struct tftp_xfers *xs, const union tftp_sa *peer)
{
	unsigned n = 0;

	/* Linear, but only per request, never per block. */
	for (struct tftp_xfer *x = xs->all; x; x = x->next)
		if (tftp_sa_same_addr(&x->peer, peer))
			n++;
	return n;
}

static void
link_xfer(struct tftp_xfer *x)
{
	struct tftp_xfers *xs = x->xs;
	unsigned h = peer_hash(&x->peer);

	x->next = xs->all;
	if (xs->all)
		xs->all->prev = x;
	xs->all = x;
	x->hnext = xs->hash[h];
	xs->hash[h] = x;
	xs->active++;
	*xs->m_active = xs->active;
}

static void
unlink_xfer(struct tftp_xfer *x)
{
	struct tftp_xfers *xs = x->xs;
	struct tftp_xfer **pp = &xs->hash[peer_hash(&x->peer)];

	while (*pp && *pp != x)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = x->hnext;
	if (x->prev)
		x->prev->next = x->next;
	else
		xs->all = x->next;
	if (x->next)
		x->next->prev = x->prev;
	xs->active--;
	*xs->m_active = xs->active;
}

void
tftp_xfer_count_outcome(struct tftp_xfers *xs, const char *outcome)
{
	for (size_t i = 0; i < nelem(outcomes); i++)
		if (strcmp(outcomes[i], outcome) == 0) {
			(*xs->outcome_counters[i])++;
			return;
		}
	(*outcome_counter(outcome))++;  /* one not in the table: still counted */
}

/* Ends the transfer: logs it, puts it on the machine's timeline, frees
 * everything it holds. x is gone afterwards. `outcome` is the metric label,
 * `text` what people read. */
static void
finish(struct tftp_xfer *x, int level, const char *outcome, const char *text)
{
	uint64_t ms = mono_ms() - x->start_ms;
	char peer[INET6_ADDRSTRLEN];

	tftp_sa_format(&x->peer, peer);
	logmsg(level, "tftp: %s:%u %s: %llu bytes in %llu ms, sent %llu "
	    "(blksize %u, window %u): %s", peer, tftp_sa_port(&x->peer), x->req.path,
	    (unsigned long long)x->src.size, (unsigned long long)ms,
	    (unsigned long long)x->bytes, x->req.blksize, x->req.windowsize, text);
	events_emit(x->has_mac ? x->mac : NULL, EVK_TFTP,
	    "%s %s size %llu in %llu ms: %s", peer, x->req.path,
	    (unsigned long long)x->src.size, (unsigned long long)ms, text);
	tftp_xfer_count_outcome(x->xs, outcome);
	unlink_xfer(x);
	ev_timer_stop(x->xs->loop, &x->timer);
	ev_del_fd(x->xs->loop, x->fd);
	close(x->fd);
	fileroot_release(x->src.file);
	free(x->src.mem);
	free(x->na);
	free(x->chunk);
	free(x);
}

static void
send_error(int fd, const union tftp_sa *to, int code, const char *msg)
{
	struct wr w = wr_make(pktbuf, sizeof pktbuf);

	tftp_put_error(&w, code, msg);
	(void)sendto(fd, pktbuf, wr_len(&w), 0, &to->sa, tftp_sa_len(to));
}

/* Reads n bytes of the source at off; false if the file shrank. */
static bool
src_read(struct tftp_xfer *x, uint64_t off, uint8_t *dst, size_t n)
{
	if (n == 0)
		return true;
	if (off > x->src.size || n > x->src.size - off)
		return false;
	if (x->src.mem) {
		memcpy(dst, x->src.mem + off, n);
		return true;
	}
	int fd = x->src.file->fd;
	if (n > CHUNK / 2)
		return pread(fd, dst, n, (off_t)off) == (ssize_t)n;
	if (off < x->chunk_off || off + n > x->chunk_off + x->chunk_len) {
		size_t want = (size_t)MIN((uint64_t)CHUNK, x->src.size - off);
		if (x->chunk == NULL)
			x->chunk = emalloc(CHUNK);
		ssize_t got = pread(fd, x->chunk, want, (off_t)off);
		x->chunk_off = off;
		x->chunk_len = got > 0 ? (size_t)got : 0;
		if (x->chunk_len < n)
			return false;
	}
	memcpy(dst, x->chunk + (off - x->chunk_off), n);
	return true;
}

/* Fills dst with up to blksize bytes of netascii for block b, recording
 * where block b+1 starts. Returns the length or -1. */
static ssize_t
netascii_block(struct tftp_xfer *x, uint32_t b, uint8_t *dst)
{
	struct na_mark m = x->na[b % NA_MARKS];
	size_t out = 0, cap = x->req.blksize;

	while (out < cap) {
		if (m.pending >= 0) {
			dst[out++] = (uint8_t)m.pending;
			m.pending = -1;
			continue;
		}
		if (m.off >= x->src.size)
			break;
		/* Expansion only grows the text, so cap-out source bytes are
		 * always enough to fill the rest of the block. */
		size_t want = (size_t)MIN((uint64_t)(cap - out), x->src.size - m.off);
		if (!src_read(x, m.off, scratch, want))
			return -1;
		for (size_t i = 0; i < want && out < cap; i++) {
			uint8_t c = scratch[i];
			m.off++;
			if (c == '\n') {
				dst[out++] = '\r';
				m.pending = '\n';
			} else if (c == '\r') {
				dst[out++] = '\r';
				m.pending = '\0';
			} else {
				dst[out++] = c;
				continue;
			}
			if (out < cap) {
				dst[out++] = (uint8_t)m.pending;
				m.pending = -1;
			}
		}
	}
	x->na[(b + 1) % NA_MARKS] = m;
	return (ssize_t)out;
}

/* Builds and sends DATA block b. Returns 1 sent, 0 the socket is full
 * (the timer will resend), -1 the transfer was ended. */
static int
send_block(struct tftp_xfer *x, uint32_t b)
{
	uint8_t *data = pktbuf + 4;
	ssize_t n;

	if (x->req.netascii) {
		if (b > TFTP_MAX_BLOCKS) {
			send_error(x->fd, &x->peer, TERR_DISKFULL,
			    "file too large: more than 65535 blocks");
			finish(x, LOG_WARNING, "too_large", "too large for 65535 blocks");
			return -1;
		}
		n = netascii_block(x, b, data);
		if (n >= 0 && (size_t)n < x->req.blksize)
			x->last = b;
	} else {
		uint64_t off = (uint64_t)(b - 1) * x->req.blksize;
		size_t len = off >= x->src.size ? 0 :
		    (size_t)MIN((uint64_t)x->req.blksize, x->src.size - off);
		n = src_read(x, off, data, len) ? (ssize_t)len : -1;
	}
	if (n < 0) {
		send_error(x->fd, &x->peer, TERR_UNDEF, "file changed while being sent");
		finish(x, LOG_WARNING, "read_error", "read error (file changed?)");
		return -1;
	}
	struct wr w = wr_make(pktbuf, 4);
	tftp_put_data_head(&w, (uint16_t)b);
	if (sendto(x->fd, pktbuf, 4 + (size_t)n, 0, &x->peer.sa,
	    tftp_sa_len(&x->peer)) < 0) {
		(*x->xs->m_sendfail)++;
		log_limited(&x->xs->rl_send, LOG_NOTICE, "tftp: %s: send: %s", x->req.path,
		    strerror(errno));
		x->blocked = true;
		return 0;
	}
	x->bytes += (uint64_t)n;
	*x->xs->m_bytes += (uint64_t)n;
	if (b > x->sent)
		x->sent = b;
	return 1;
}

/* Arms the retransmit deadline after something was sent. The heap timer is
 * only moved when the deadline comes earlier (after a backoff): on the
 * usual path it stays armed and on_timer just pushes it on. */
static void
touch_deadline(struct tftp_xfer *x)
{
	/* A send the kernel refused (a full buffer) is not a loss: retry it
	 * shortly rather than after a whole retransmit interval. */
	unsigned delay = x->blocked ? SEND_RETRY_MS : x->rto;

	x->deadline = ev_now(x->xs->loop) + delay;
	if (!ev_timer_armed(&x->timer) || x->timer.when > x->deadline + 5)
		ev_timer_arm(x->xs->loop, &x->timer, delay);
}

/* Blocks first..first+n-1 of an octet transfer (last known): one read
 * of their bytes, one sendmmsg. Returns 1 all sent, 0 the socket took
 * fewer (the timer will resend), -1 the transfer was ended. */
static int
send_blocks(struct tftp_xfer *x, uint32_t first, unsigned n)
{
	struct mmsghdr msgs[TFTP_MAX_WINDOW];
	struct iovec iov[TFTP_MAX_WINDOW][2];
	uint64_t off = (uint64_t)(first - 1) * x->req.blksize;
	size_t total = off >= x->src.size ? 0 :
	    (size_t)MIN((uint64_t)n * x->req.blksize, x->src.size - off);
	int sent;

	if (!src_read(x, off, windowbuf, total)) {
		send_error(x->fd, &x->peer, TERR_UNDEF, "file changed while being sent");
		finish(x, LOG_WARNING, "read_error", "read error (file changed?)");
		return -1;
	}
	memset(msgs, 0, n * sizeof *msgs);
	for (unsigned i = 0; i < n; i++) {
		size_t at = (size_t)i * x->req.blksize;
		size_t len = at >= total ? 0 : MIN((size_t)x->req.blksize, total - at);
		struct wr w = wr_make(windowhdr[i], 4);
		tftp_put_data_head(&w, (uint16_t)(first + i));
		iov[i][0] = (struct iovec){ windowhdr[i], 4 };
		iov[i][1] = (struct iovec){ windowbuf + at, len };
		msgs[i].msg_hdr.msg_name = &x->peer.sa;
		msgs[i].msg_hdr.msg_namelen = tftp_sa_len(&x->peer);
		msgs[i].msg_hdr.msg_iov = iov[i];
		msgs[i].msg_hdr.msg_iovlen = 2;
	}
	sent = sendmmsg(x->fd, msgs, n, 0);
	if (sent < (int)n) {
		(*x->xs->m_sendfail)++;
		log_limited(&x->xs->rl_send, LOG_NOTICE, "tftp: %s: send: %s", x->req.path,
		    sent < 0 ? strerror(errno) : "socket buffer full");
		x->blocked = true;
	}
	for (int i = 0; i < sent; i++) {
		x->bytes += iov[i][1].iov_len;
		*x->xs->m_bytes += iov[i][1].iov_len;
	}
	if (sent > 0 && first + (uint32_t)sent - 1 > x->sent)
		x->sent = first + (uint32_t)sent - 1;
	return sent == (int)n;
}

/* Sends blocks acked+1 .. acked+window (up to the final block). Returns
 * false if the transfer ended. */
static bool
send_window(struct tftp_xfer *x)
{
	uint32_t b = x->acked + 1;
	uint32_t end = x->acked + x->req.windowsize;

	/* Octet with more than one block to go: the batch. */
	if (!x->req.netascii && x->last && b < x->last && x->req.windowsize > 1) {
		if (end > x->last)
			end = x->last;
		if (send_blocks(x, b, end - b + 1) < 0)
			return false;
		touch_deadline(x);
		return true;
	}
	for (; b <= end; b++) {
		if (x->last && b > x->last)
			break;
		int r = send_block(x, b);
		if (r < 0)
			return false;
		if (r == 0)
			break;
	}
	touch_deadline(x);
	return true;
}

static void
send_oack(struct tftp_xfer *x)
{
	struct wr w = wr_make(pktbuf, sizeof pktbuf);

	tftp_put_oack(&w, &x->req, x->src.size);
	(void)sendto(x->fd, pktbuf, wr_len(&w), 0, &x->peer.sa,
	    tftp_sa_len(&x->peer));
	touch_deadline(x);
}

/* Returns false if the transfer ended. */
static bool
on_ack(struct tftp_xfer *x, uint16_t n)
{
	if (x->oack) {
		if (n != 0) {
			(*x->xs->m_dupacks)++;
			return true;
		}
		x->oack = false;
	} else if (n <= x->acked || n > x->sent) {
		(*x->xs->m_dupacks)++;
		return true;
	} else if (n < x->sent && n == x->acked + 1) {
		/* A partial ACK means the client saw a gap, and the window is
		 * resent from there. A client that ACKs every block of a
		 * window would turn that into window-fold traffic: after a
		 * few in a row, treat it as the lock-step client it is. */
		if (++x->perblock >= 4 && x->req.windowsize > 1) {
			log_debug("tftp: %s: client ACKs every block, going lock-step",
			    x->req.path);
			x->req.windowsize = 1;
		}
	} else {
		x->perblock = 0;
	}
	x->acked = n;
	x->heard = true;
	x->retries = 0;
	x->blocked_tries = 0;
	x->rto = x->req.opts & TOPT_TIMEOUT ? MIN(x->req.timeout * 1000u, RTO_CLIENT_CAP_MS) : RTO_FIRST_MS;
	if (x->last && x->acked >= x->last) {
		finish(x, LOG_INFO, "ok", "ok");
		return false;
	}
	return send_window(x);
}

/* Copies the client's error text into something safe to log. */
static void
client_text(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && p[i] && o + 1 < cap; i++)
		out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[o] = '\0';
}

/* One datagram on the transfer's socket. Returns false if x ended. */
static bool
on_datagram(struct tftp_xfer *x, const uint8_t *p, size_t len, const union tftp_sa *from)
{
	uint16_t op, num;
	char text[128], msg[160];

	if (!same_peer(from, &x->peer)) {
		/* RFC 1350: answer the stranger, leave the transfer alone. */
		char ip[INET6_ADDRSTRLEN];
		(*x->xs->m_badtid)++;
		tftp_sa_format(from, ip);
		log_limited(&x->xs->rl_badtid, LOG_NOTICE, "tftp: packet from wrong TID %s:%u",
		    ip, tftp_sa_port(from));
		send_error(x->fd, from, TERR_BADID, "Unknown transfer ID");
		return true;
	}
	if (!tftp_parse_head(p, len, &op, &num)) {
		log_limited(&x->xs->rl_proto, LOG_NOTICE, "tftp: runt packet from a client");
		return true;
	}
	switch (op) {
	case TFTP_ACK:
		return on_ack(x, num);
	case TFTP_ERROR:
		if (only_last_ack_missing(x)) {
			/* It has every block and has moved on (9boot). */
			finish(x, LOG_INFO, "ok_no_last_ack", "ok (last ACK not seen)");
			return false;
		}
		client_text(p + 4, len - 4, text, sizeof text);
		snprintf(msg, sizeof msg, "client error %u: %s", num, text);
		finish(x, LOG_INFO, "client_error", msg);
		return false;
	default:
		log_limited(&x->xs->rl_proto, LOG_NOTICE, "tftp: opcode %u on a read transfer", op);
		send_error(x->fd, &x->peer, TERR_BADOP, "Illegal TFTP operation");
		finish(x, LOG_NOTICE, "protocol_error", "protocol error");
		return false;
	}
}

/* One datagram per wakeup: a transfer expects one ACK per window, and
 * reading on to EAGAIN would cost a system call per block for nothing
 * (epoll is level-triggered, so anything left wakes us again). */
static void
on_packet(int fd, uint32_t events, void *arg)
{
	struct tftp_xfer *x = arg;
	uint8_t buf[1024];      /* ACKs and ERRORs are small; longer is cut */
	union tftp_sa from;
	socklen_t flen = sizeof from;

	(void)events;
	ssize_t n = recvfrom(fd, buf, sizeof buf, 0, &from.sa, &flen);
	if (n < 0 || flen != tftp_sa_len(&x->peer) || from.sa.sa_family != x->peer.sa.sa_family)
		return;
	(void)on_datagram(x, buf, (size_t)n, &from);
}

static void
on_timer(void *arg)
{
	struct tftp_xfer *x = arg;
	uint64_t now = ev_now(x->xs->loop);
	bool final = only_last_ack_missing(x);

	if (now + 2 < x->deadline) {
		ev_timer_arm(x->xs->loop, &x->timer, x->deadline - now);
		return;
	}
	if (x->blocked) {
		x->blocked = false;
		/* Bounded: a send that keeps failing (a firewall, no route)
		 * falls through to the ordinary retries and their limit. */
		if (++x->blocked_tries > MAX_BLOCKED_TRIES)
			goto timeout;
		if (x->oack)
			send_oack(x);
		else
			send_window(x);
		return;
	}
timeout:
	if (++x->retries > (final ? MAX_RETRIES_FINAL :
	    !x->heard && !x->oack ? MAX_RETRIES_UNHEARD : MAX_RETRIES)) {
		if (final) {
			/* 9boot stops ACKing once it has the whole file. */
			finish(x, LOG_INFO, "ok_no_last_ack", "ok (last ACK not seen)");
			return;
		}
		char ip[INET6_ADDRSTRLEN];
		tftp_sa_format(&x->peer, ip);
		log_limited(&x->xs->rl_timeout, LOG_NOTICE, "tftp: %s: client silent, giving up", ip);
		/* Where it stopped tells a dead client from a loader that had
		 * what it wanted: 9bootpxe stops once it has a kernel's text
		 * and data, before the symbols. */
		char text[96];
		snprintf(text, sizeof text, "timeout: client stopped answering after block %u of %u",
		    x->acked, x->last ? x->last : x->sent);
		finish(x, LOG_DEBUG, "timeout", text);
		return;
	}
	(*x->xs->m_resends)++;
	if (!(x->req.opts & TOPT_TIMEOUT))
		x->rto = MIN(x->rto * 2, RTO_MAX_MS);
	if (x->oack)
		send_oack(x);
	else
		send_window(x);
}

static int
open_socket(const union tftp_sa *local)
{
	union tftp_sa a = *local;
	int fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (a.sa.sa_family == AF_INET6)
		a.in6.sin6_port = 0;
	else
		a.in.sin_port = 0;
	if (bind(fd, &a.sa, tftp_sa_len(&a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

enum xfer_refusal
tftp_xfer_start(struct tftp_xfers *xs, const union tftp_sa *local, const union tftp_sa *peer,
    const struct tftp_req *req, struct xfer_src *src, const uint8_t *mac,
    struct tftp_reject *why, char *msgbuf, size_t msgcap)
{
	uint64_t blocks = src->size / req->blksize + 1;

	if (!req->netascii && blocks > TFTP_MAX_BLOCKS) {
		snprintf(msgbuf, msgcap, "file too large: %llu bytes need %llu blocks "
		    "of %u, the limit is 65535 (ask for a larger blksize)",
		    (unsigned long long)src->size, (unsigned long long)blocks, req->blksize);
		why->code = TERR_DISKFULL;
		why->msg = msgbuf;
		return XFER_TOO_LARGE;
	}
	if (xs->active >= xs->max_active) {
		why->code = TERR_UNDEF;
		why->msg = "server busy, try again";
		return XFER_BUSY;
	}
	int fd = open_socket(local);
	if (fd < 0) {
		why->code = TERR_UNDEF;
		why->msg = "server busy (no socket), try again";
		return XFER_NOSOCK;
	}
	struct tftp_xfer *x = ecalloc(1, sizeof *x);
	x->xs = xs;
	x->fd = fd;
	x->peer = *peer;
	x->src = *src;
	x->req = *req;
	if (mac) {
		memcpy(x->mac, mac, 6);
		x->has_mac = true;
	}
	if (!req->netascii)
		x->last = (uint32_t)blocks;
	else {
		x->na = ecalloc(NA_MARKS, sizeof *x->na);
		x->na[1].pending = -1;
		/* RFC 2349 tsize is octets on disk; a netascii size is not
		 * known in advance, so do not promise one. */
		x->req.opts &= ~TOPT_TSIZE;
	}
	if (x->req.windowsize * x->req.blksize > MAX_INFLIGHT)
		x->req.windowsize = MAX(1u, MAX_INFLIGHT / x->req.blksize);
	x->rto = req->opts & TOPT_TIMEOUT ? MIN(req->timeout * 1000u, RTO_CLIENT_CAP_MS) : RTO_FIRST_MS;
	x->start_ms = mono_ms();
	ev_timer_init(&x->timer, on_timer, x);
	if (ev_add_fd(xs->loop, fd, EPOLLIN, on_packet, x) < 0) {
		close(fd);
		free(x->na);
		free(x);
		why->code = TERR_UNDEF;
		why->msg = "server busy, try again";
		return XFER_NOSOCK;
	}
	memset(src, 0, sizeof *src);
	link_xfer(x);
	if (x->req.opts) {
		x->oack = true;
		send_oack(x);
	} else {
		send_window(x);
	}
	return XFER_STARTED;
}

void
tftp_xfer_free(struct tftp_xfers *xs)
{
	if (xs == NULL)
		return;
	while (xs->all)
		finish(xs->all, LOG_INFO, "aborted", "aborted: server shutting down");
	free(xs);
}
