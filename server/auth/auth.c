/* auth: the module. The Plan 9 auth server on grid.auth_port (567) and the
 * rcpu endpoint on grid.rcpu_port (17019), both on core/conn; the key
 * process that holds the key file (grid.keys) and its secret (keyproc.h;
 * this process never reads either); the per-source failure limiter; the
 * host owner's nvram image for boot/nvram.h. docs/auth.md. */
#include "auth/auth.h"
#include "auth/authsrv.h"
#include "auth/afid.h"
#include "auth/rcpu.h"
#include "auth/keyclient.h"
#include "auth/keyproc.h"
#include "core/store.h"
#include "core/authgate.h"
#include "boot/nvram.h"
#include "config/inventory.h"
#include "core/buf.h"
#include "core/conn.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define AUTH_HANDSHAKE_MS 10000
#define AUTH_IDLE_MS 10000
/* 9front's passwd dials the auth server, then asks for the old password;
 * after the AuthTp ticket it asks whether to change it and reads the new
 * one twice: the auth port waits for a person (9front's authsrv allows a
 * connection 10 minutes). The connection caps and the failure limiter
 * bound what waiting costs. */
#define AUTH_PORT_WAIT_MS 60000
#define AUTH_PASS_IDLE_MS 300000
#define AUTH_MAX_CONNS 256
#define AUTH_MAX_PER_ADDR 8

/* The module's state, behind the pointer init returns: each listener
 * carries it as its arg (conn_listener_arg), the key store and the nvram
 * source as their ctx. */
struct auth_mod {
	struct daemon *d;
	struct keyclient *kc;           /* the key process */
	char *keys_path;                /* the key file it holds (grid.keys at start) */
	bool keyed;                     /* listening: a key file is (to be) loaded */
	bool loaded;                    /* the key process answered its first load */
	size_t nusers;
	struct conn_listener *auth, *rcpu;
	SSL_CTX *tls;
	struct auth_faillimit fl;
	struct auth_reqlimit rq;        /* AuthPAK/AuthTreq per source and user */
	uint64_t *m_limited[2];         /* by source, by user */
	struct ratelimit rl_fail, rl_refused;
	uint64_t *m_req[24], *m_tickets, *m_errs, *m_refused, *m_fail[2], *m_logins, *m_reloads,
	    *m_passwd, *m_busy;
	struct afid_keys afid;          /* what the 9P afid exchange reads */
};

static struct auth_mod *
mod_of(const struct conn *c)
{
	return conn_listener_arg(conn_listener_of(c));
}

static uint32_t
peer_addr(const struct conn *c)
{
	return ntohl(conn_peer(c)->sin_addr.s_addr);
}

static void
failed(struct conn *c, int which, const char *why)
{
	struct auth_mod *A = mod_of(c);
	auth_fail_note(&A->fl, peer_addr(c), conn_now(c));
	(*A->m_fail[which])++;
	log_limited(&A->rl_fail, LOG_NOTICE, "%s: %s: %s", which ? "rcpu" : "auth",
	    conn_peer_str(c), why);
}

/* A source over its failures: on 17019 a bare close (its protocol starts
 * with our offer); on 567 AuthErr once its first bytes are in (closing
 * with them unread would reset the connection and lose the AuthErr). */
static bool
refused(struct conn *c, bool autherr, bool *refuse)
{
	struct auth_mod *A = mod_of(c);
	uint64_t wait = auth_fail_wait(&A->fl, peer_addr(c), conn_now(c));
	char why[AUTH_AERRLEN];

	if (wait == 0)
		return false;
	(*A->m_refused)++;
	snprintf(why, sizeof why, "too many failures from your address: wait %llu s",
	    (unsigned long long)(wait + 999) / 1000);
	log_limited(&A->rl_refused, LOG_NOTICE, "%s: %s: refused: %s", autherr ? "auth" : "rcpu",
	    conn_peer_str(c), why);
	if (autherr)
		*refuse = true;
	else
		conn_close(c, "too many failures");
	return true;
}

/* Closes once what is queued has gone; with bytes still queued the idle
 * timeout closes it after they drained. */
static void
finish(struct conn *c, bool *closing, const char *why)
{
	*closing = true;
	if (conn_queued(c) == 0)
		conn_close(c, why);
}

/* ---- the auth server (567) ---- */

/* One auth port connection. Its session (authsrv.h) lives in the key
 * process under tag: each step is sent there and the loop goes on; the
 * reply comes back in order as an event (auth_reply). At most one reply
 * that decides the next frame's size (a Ticketreq's, a Passwordreq's) is
 * awaited at a time, and until it is in no frame is cut: the protocol is
 * lock-step, a client that sends ahead waits for its idle timeout. */
struct aconn {
	uint32_t tag;           /* 0: no session (the key process is full) */
	size_t need;
	bool closing, ticketed, refused;
	bool passing;           /* after the AuthTp ticket, as the key process says */
	bool sized;             /* awaiting the reply that says what to read next */
	uint8_t q[4];           /* the steps awaiting replies, in order */
	unsigned nq;
	uint8_t treq;           /* the type of the Ticketreq awaiting its reply */
	char user[AUTH_ANAMELEN];
};

static void auth_reply(void *arg, uint32_t tag, const struct kmsg *m);

static void
auth_open(struct conn *c)
{
	struct auth_mod *A = mod_of(c);
	struct aconn *a = ecalloc(1, sizeof *a);
	conn_set_user(c, a);
	if (refused(c, true, &a->refused))
		return;
	a->tag = kc_open(A->kc, auth_reply, c);
}

static int64_t
auth_frame_cb(struct conn *c, const uint8_t *p, size_t len)
{
	struct aconn *a = conn_user(c);
	if (a && (a->refused || a->closing))
		return len ? (int64_t)len : CONN_FRAME_MORE;	/* read and dropped */
	if (a && a->sized)
		return CONN_FRAME_MORE;
	return a ? auth_frame(a->need, p, len) : CONN_FRAME_BAD;
}

/* A step to the key process: KM_TREQ, KM_YS or KM_PASSREQ with its flag
 * byte (none for the Y's). false: it could not be sent (answered). */
static bool
ask(struct conn *c, struct aconn *a, uint8_t type, uint8_t flags, const uint8_t *p, size_t len)
{
	struct auth_mod *A = mod_of(c);
	uint8_t body[1 + AUTH_PASSREQLEN1 + AUTH_TICKREQLEN];
	size_t n = 0;

	if (type != KM_YS)
		body[n++] = flags;
	memcpy(body + n, p, len);
	n += len;
	if (a->tag == 0 || a->nq == sizeof a->q || kc_send(A->kc, a->tag, type, body, n) < 0) {
		uint8_t e[1 + AUTH_AERRLEN];
		(*A->m_busy)++;
		authmsg_error(e, "auth server busy: try again");
		conn_send(c, e, sizeof e);
		log_limited(&A->rl_fail, LOG_WARNING, "auth: %s: the key process's queue is full",
		    conn_peer_str(c));
		finish(c, &a->closing, "key process busy");
		OPENSSL_cleanse(body, sizeof body);
		return false;
	}
	OPENSSL_cleanse(body, sizeof body);
	a->q[a->nq++] = type;
	a->sized = type != KM_YS;
	return true;
}

/* A Passwordreq after the AuthTp ticket: to the key process. */
static void
passreq(struct conn *c, struct aconn *a, const uint8_t *p, size_t len)
{
	struct auth_mod *A = mod_of(c);
	(void)ask(c, a, KM_PASSREQ, A->d->inv->grid.auth_des ? KMF_DES : 0, p, len);
}

/* The key process's answer to a Passwordreq. */
static void
passreq_done(struct conn *c, struct aconn *a, const struct authsrv_reply *r)
{
	struct auth_mod *A = mod_of(c);
	const char *user = a->user;

	if (r->len)
		conn_send(c, r->out, r->len);
	if (r->changed) {
		(*A->m_passwd)++;
		/* Instances sharing a store read the same key file: tell them
		 * to read it again (docs/scale.md). */
		store_publish(A->d->store, "K");
	}
	if (r->len && r->out[0] == AuthErr) {
		char why[AUTH_AERRLEN + 48];
		(*A->m_errs)++;
		snprintf(why, sizeof why, "password change for %s: AuthErr \"%.64s\"", user,
		    (const char *)r->out + 1);
		if (r->fail)
			failed(c, 0, why);
		else
			log_info("auth: %s: %s", conn_peer_str(c), why);
	}
	if (!a->passing)
		conn_set_idle(c, AUTH_PORT_WAIT_MS);
	a->need = r->need;
	if (r->close)
		finish(c, &a->closing, "password change done");
}

/* AuthPAK and AuthTreq spend against their source and users whatever
 * their outcome (auth.h); over a limit, AuthErr and a close. */
static bool
over_limit(struct conn *c, struct aconn *a, const uint8_t *p, size_t len)
{
	struct auth_mod *A = mod_of(c);
	struct auth_ticketreq tr;
	uint8_t addr[16] = { [10] = 0xff, [11] = 0xff }, e[1 + AUTH_AERRLEN];
	const char *why, *by = "source";

	if ((p[0] != AuthPAK && p[0] != AuthTreq) || !authmsg_treq_decode(p, len, &tr))
		return false;
	memcpy(addr + 12, &conn_peer(c)->sin_addr, 4);
	if ((why = auth_reqlimit_check(&A->rq, addr, &tr, conn_now(c), &by)) == NULL)
		return false;
	(*A->m_limited[by[0] == 'u'])++;
	log_limited(&A->rl_refused, LOG_NOTICE, "auth: %s: refused (%s limit, user %s): %s",
	    conn_peer_str(c), by, tr.hostid[0] ? tr.hostid : tr.uid, why);
	authmsg_error(e, why);
	conn_send(c, e, sizeof e);
	finish(c, &a->closing, "request limit");
	return true;
}

static void
auth_on_frame(struct conn *c, const uint8_t *p, size_t len)
{
	struct auth_mod *A = mod_of(c);
	struct aconn *a = conn_user(c);
	uint8_t e[1 + AUTH_AERRLEN];

	if (a == NULL || a->closing)
		return;
	if (a->refused) {
		uint64_t wait = auth_fail_wait(&A->fl, peer_addr(c), conn_now(c));
		char why[AUTH_AERRLEN];
		snprintf(why, sizeof why, "too many failures from your address: wait %llu s",
		    (unsigned long long)(wait + 999) / 1000);
		authmsg_error(e, why);
		conn_send(c, e, sizeof e);
		finish(c, &a->closing, "too many failures");
		return;
	}
	if (a->need && a->passing) {
		a->need = 0;
		passreq(c, a, p, len);
		return;
	}
	if (a->need) {
		a->need = 0;
		if (!auth_ys_ok(p, len)) {
			(*A->m_errs)++;
			authmsg_error(e, "AuthPAK: degenerate Y (the identity) refused");
			conn_send(c, e, sizeof e);
			failed(c, 0, "AuthPAK: a degenerate Y (the identity)");
			finish(c, &a->closing, "degenerate AuthPAK Y");
			return;
		}
		(void)ask(c, a, KM_YS, 0, p, len);
		return;
	}
	if (len == 1) {
		(*A->m_errs)++;
		authmsg_error(e, "not a Plan 9 ticket request");
		conn_send(c, e, sizeof e);
		failed(c, 0, "not a ticket request (garbage)");
		finish(c, &a->closing, "not a ticket request");
		return;
	}
	(*A->m_req[p[0] < nelem(A->m_req) ? p[0] : 0])++;
	if (over_limit(c, a, p, len))
		return;
	/* grid.speaksfor is applied here (it is no secret, and a reload
	 * changes it here): the key process gets the answer */
	struct auth_ticketreq tr;
	const struct grid *g = &A->d->inv->grid;
	authmsg_treq_decode(p, AUTH_TICKREQLEN, &tr);
	uint8_t flags = g->auth_des ? KMF_DES : 0;
	if (authkey_speaksfor(g->speaksfor, (size_t)g->nspeaksfor, tr.hostid, tr.uid))
		flags |= KMF_SPEAKS;
	a->treq = p[0];
	(void)ask(c, a, KM_TREQ, flags, p, AUTH_TICKREQLEN);
}

/* The key process's answer to a Ticketreq (type t). */
static void
treq_done(struct conn *c, struct aconn *a, uint8_t t, const struct authsrv_reply *r, bool form1)
{
	struct auth_mod *A = mod_of(c);

	if (r->len)
		conn_send(c, r->out, r->len);
	if (r->len && r->out[0] == AuthErr) {
		(*A->m_errs)++;
		char why[AUTH_AERRLEN + 32];
		snprintf(why, sizeof why, "request type %u: AuthErr \"%.64s\"", t, (const char *)r->out + 1);
		failed(c, 0, why);
	} else if (a->passing) {
		/* a person answers questions and types the new password twice */
		conn_established(c);
		conn_set_idle(c, AUTH_PASS_IDLE_MS);
		log_debug("auth: %s: AuthTp ticket for %s (%s); waiting for the password request",
		    conn_peer_str(c), a->user, form1 ? "dp9ik" : "p9sk1");
	} else if (t == AuthTreq && r->len && r->out[0] == AuthOK) {
		(*A->m_tickets)++;
		log_debug("auth: %s: tickets (%s)", conn_peer_str(c), form1 ? "dp9ik" : "p9sk1");
		if (!a->ticketed)
			conn_established(c);
		a->ticketed = true;
	}
	a->need = r->need;
	if (r->close)
		finish(c, &a->closing, "request done");
}

/* A reply from the key process for this connection's session, in the
 * order of its steps. */
static void
auth_reply(void *arg, uint32_t tag, const struct kmsg *m)
{
	struct conn *c = arg;
	struct aconn *a = conn_user(c);
	struct authsrv_reply r;

	if (a == NULL || a->tag != tag || a->nq == 0)
		return;
	uint8_t step = a->q[0];
	memmove(a->q, a->q + 1, --a->nq);
	if (step != KM_YS)
		a->sized = false;
	if (a->closing)
		return;
	if (m->type != KM_AREPLY) {
		failed(c, 0, "the key process refused the request");
		finish(c, &a->closing, "key process refused");
		return;
	}
	struct rd rd = rd_make(m->body, m->len);
	uint8_t f = rd_u8(&rd);
	memset(&r, 0, sizeof r);
	r.need = rd_le16(&rd);
	const uint8_t *cuid = rd_bytes(&rd, AUTH_ANAMELEN);
	r.len = rd_left(&rd);
	if (rd.err || r.need > 2 * AUTH_PAKYLEN + AUTH_PASSREQLEN1) {
		finish(c, &a->closing, "key process reply");
		return;
	}
	memcpy(r.out, rd.p, r.len);
	r.close = f & KMA_CLOSE;
	r.fail = f & KMA_FAIL;
	r.changed = f & KMA_CHANGED;
	a->passing = f & KMA_PASSING;
	if (step == KM_YS) {
		if (f & KMA_BADY) {
			failed(c, 0, "AuthPAK: a Y that does not decode");
			finish(c, &a->closing, "bad AuthPAK");
		}
	} else if (step == KM_PASSREQ) {
		passreq_done(c, a, &r);
	} else {
		uint8_t t = a->treq;
		if (a->passing) {
			memcpy(a->user, cuid, AUTH_ANAMELEN);
			a->user[AUTH_ANAMELEN - 1] = 0;
		}
		treq_done(c, a, t, &r, f & KMA_FORM1);
	}
	OPENSSL_cleanse(&r, sizeof r);
}

static void
auth_on_close(struct conn *c, const char *reason)
{
	struct aconn *a = conn_user(c);

	if (a == NULL)
		return;
	if (!a->closing && (strcmp(reason, conn_reason_name(CONN_HANDSHAKE)) == 0 ||
	    strcmp(reason, conn_reason_name(CONN_TOO_BIG)) == 0))
		failed(c, 0, reason);
	else if (!a->closing && a->passing && strcmp(reason, conn_reason_name(CONN_PEER)) == 0)
		/* 9front's passwd hangs up when its AuthTp ticket does not open */
		failed(c, 0, "the client hung up after its password-change ticket: a wrong password?");
	/* a reply still on its way is dropped with the tag */
	kc_close(mod_of(c)->kc, a->tag);
	free(a);
	conn_set_user(c, NULL);
}

static const struct conn_ops auth_ops = {
	.on_open = auth_open,
	.frame = auth_frame_cb,
	.on_frame = auth_on_frame,
	.on_close = auth_on_close,
};

/* ---- rcpu (17019) ---- */

/* One rcpu connection: r has no keys. Until TLS its steps run in the key
 * process (tag), sent without waiting; r.st is the state the steps sent
 * so far lead to (the protocol's order is fixed), which is enough to cut
 * the next frame; the replies come back in order (rcpu_reply). After the
 * ticket's reply, which brings the session secret, TLS runs here. */
struct rconn {
	struct rcpu r;
	uint32_t tag;
	char why[64];
	unsigned waiting;       /* steps sent, replies not in */
	bool ticketed;          /* the ticket was sent: nothing is cut until TLS */
	bool closing;
};

static void
rsend(struct conn *c, struct rcpu_out *o)
{
	if (o->n)
		conn_send(c, o->p, o->n);
	rcpu_out_free(o);
}

char *
auth_machine_list(const struct inventory *inv, size_t *len)
{
	size_t cap = 64 + inv->nmachines * 96, n = 0;
	char *out = emalloc(cap);

	out[0] = 0;
	for (size_t i = 0; i < inv->nmachines; i++) {
		const struct machine *m = &inv->machines[i];
		char mac[18], ip[16];
		mac_format(m->mac, mac);
		if (m->ip)
			ip_format(m->ip, ip);
		else
			str_copy(ip, "-", sizeof ip);
		int k = snprintf(out + n, cap - n, "%s %s %s %s\n", m->name, mac, ip,
		    m->role ? m->role->name : "-");
		if (k < 0 || (size_t)k >= cap - n) {
			cap = 2 * cap + (size_t)(k > 0 ? k : 0);
			out = erealloc(out, cap);
			i--;
			continue;
		}
		n += (size_t)k;
	}
	*len = n;
	return out;
}

static void rcpu_reply(void *arg, uint32_t tag, const struct kmsg *m);

static void
rcpu_open(struct conn *c)
{
	struct auth_mod *A = mod_of(c);
	struct rcpu_out o = { 0 };
	const struct grid *g = &A->d->inv->grid;

	if (refused(c, false, NULL))
		return;
	struct rconn *rc = ecalloc(1, sizeof *rc);
	conn_set_user(c, rc);
	rc->tag = kc_open(A->kc, rcpu_reply, c);
	if (rc->tag == 0) {
		(*A->m_busy)++;
		conn_close(c, "key process busy");
		return;
	}
	bool ok = kc_rcpu_start(A->kc, rc->tag, g->authid, g->authdom, g->p9any, &rc->r, rc->why, &o);
	if (!ok && rc->r.why && strcmp(rc->r.why, "no key for the host owner") == 0) {
		rcpu_out_free(&o);
		log_limited(&A->rl_fail, LOG_ERR, "rcpu: no key for the host owner %s in %s "
		    "(gridbootd passwd -c FILE %s)", g->authid, g->keys, g->authid);
		conn_close(c, "no host owner key");
		return;
	}
	if (!ok) {
		rcpu_out_free(&o);
		if (rc->r.why)
			log_limited(&A->rl_fail, LOG_ERR, "rcpu: %s (gridbootd passwd -c FILE %s with "
			    "grid.auth_des on)", rc->r.why, g->authid);
		conn_close(c, rc->r.why ? "nothing to offer" : "out of memory");
		return;
	}
	rsend(c, &o);
}

static int64_t
rcpu_frame_cb(struct conn *c, const uint8_t *p, size_t len)
{
	struct rconn *rc = conn_user(c);
	if (rc == NULL || rc->closing)
		return len ? (int64_t)len : CONN_FRAME_MORE;   /* swallowed */
	if (rc->ticketed && rc->r.st < RCPU_TLS)
		return CONN_FRAME_MORE;         /* TLS waits for the secret */
	return rcpu_frame(&rc->r, p, len);
}

/* The state a step leads to when the key process accepts it: p9any's
 * order (rcpu.h). A step it refuses ends the connection anyway. */
static void
predict(struct rconn *rc, const uint8_t *p, size_t len)
{
	switch (rc->r.st) {
	case RCPU_CHOICE:
		rc->r.p9sk1 = len > 6 && memcmp(p, "p9sk1 ", 6) == 0;
		rc->r.st = RCPU_CCHAL;
		break;
	case RCPU_CCHAL:
		rc->r.st = rc->r.p9sk1 ? RCPU_TICKET : RCPU_PAKY;
		break;
	case RCPU_PAKY:
		rc->r.st = RCPU_TICKET;
		break;
	default:
		rc->ticketed = true;
		break;
	}
}

static void rcpu_result(struct conn *c, struct rconn *rc, enum rcpu_result res,
    struct rcpu_out *o);

/* A step's reply from the key process, in order. */
static void
rcpu_reply(void *arg, uint32_t tag, const struct kmsg *m)
{
	struct conn *c = arg;
	struct rconn *rc = conn_user(c);
	struct auth_mod *A = mod_of(c);
	struct rcpu_out o = { 0 };
	struct rcpu *got;

	if (rc == NULL || rc->tag != tag || rc->waiting == 0)
		return;
	rc->waiting--;
	if (rc->closing)
		return;
	got = ecalloc(1, sizeof *got);
	enum rcpu_result res = kc_rcpu_reply(m, got, rc->why, &o);
	if (res == RCPU_AUTHED) {
		/* the ticket opened: who, and the secret TLS-PSK needs */
		memcpy(rc->r.user, got->user, sizeof rc->r.user);
		memcpy(rc->r.secret, got->secret, got->nsecret);
		rc->r.nsecret = got->nsecret;
		rc->r.p9sk1 = got->p9sk1;
		rc->r.why = NULL;
		res = rcpu_tls_begin(&rc->r, A->tls) ? RCPU_MORE : RCPU_FAIL;
		if (res == RCPU_FAIL)
			rc->r.why = "TLS: out of memory";
	} else if (res == RCPU_FAIL) {
		rc->r.why = got->why ? rc->why : "the key process refused the step";
		rc->r.st = RCPU_DONE;
	}
	OPENSSL_cleanse(got, sizeof *got);
	free(got);
	rcpu_result(c, rc, res, &o);
}

static void
rcpu_on_frame(struct conn *c, const uint8_t *p, size_t len)
{
	struct auth_mod *A = mod_of(c);
	struct rconn *rc = conn_user(c);
	struct rcpu_out o = { 0 };

	if (rc == NULL || rc->closing)
		return;
	if (rc->r.st < RCPU_TLS) {
		/* a step that needs the host owner's key: to the key process,
		 * and the loop goes on; rcpu_reply has the answer */
		uint8_t body[KM_RIN_MAX];
		body[0] = KMF_SECRET;
		if (len > sizeof body - 1 || (memcpy(body + 1, p, len),
		    kc_send(A->kc, rc->tag, KM_RIN, body, len + 1)) < 0) {
			(*A->m_busy)++;
			finish(c, &rc->closing, "key process busy");
			return;
		}
		rc->waiting++;
		predict(rc, p, len);
		return;
	}
	rcpu_result(c, rc, rcpu_input(&rc->r, A->tls, p, len, &o), &o);
}

static void
rcpu_result(struct conn *c, struct rconn *rc, enum rcpu_result res, struct rcpu_out *op)
{
	struct auth_mod *A = mod_of(c);
	struct rcpu_out o = *op;

	switch (res) {
	case RCPU_MORE:
		rsend(c, &o);
		return;
	case RCPU_END:
		rsend(c, &o);
		if (rc->r.p9_errors)
			log_info("rcpu: %s: the client refused %u of our 9P requests", conn_peer_str(c),
			    rc->r.p9_errors);
		finish(c, &rc->closing, "answered");
		return;
	case RCPU_FAIL:
		rsend(c, &o);
		failed(c, 1, rc->r.why);
		finish(c, &rc->closing, rc->r.why);
		return;
	case RCPU_AUTHED:       /* only without TLS, so never here */
		finish(c, &rc->closing, "no TLS");
		return;
	case RCPU_SCRIPT:
		break;
	}
	size_t n;
	char *text = auth_machine_list(A->d->inv, &n);
	conn_established(c);
	(*A->m_logins)++;
	log_info("rcpu: %s: %s authenticated (%s, TLS %s); printing %zu machine(s), running nothing",
	    conn_peer_str(c), rc->r.user, rc->r.p9sk1 ? "p9sk1" : "dp9ik", SSL_get_cipher(rc->r.ssl),
	    A->d->inv->nmachines);
	bool ok = rcpu_finish(&rc->r, text, n, &o);
	free(text);
	rsend(c, &o);
	if (!ok)
		finish(c, &rc->closing, "TLS write failed");
}

static void
rcpu_on_close(struct conn *c, const char *reason)
{
	struct rconn *rc = conn_user(c);

	if (rc == NULL)
		return;
	if (!rc->closing && (strcmp(reason, conn_reason_name(CONN_HANDSHAKE)) == 0 ||
	    strcmp(reason, conn_reason_name(CONN_BAD_FRAME)) == 0 ||
	    strcmp(reason, conn_reason_name(CONN_TOO_BIG)) == 0))
		failed(c, 1, reason);
	else if (!rc->closing && rc->r.st < RCPU_TLS && strcmp(reason, conn_reason_name(CONN_PEER)) == 0)
		/* drawterm finds a wrong password itself (its ticket does not
		 * open) and hangs up here; an unknown user looks the same */
		failed(c, 1, "the client hung up before its ticket: a wrong password or unknown user?");
	kc_close(mod_of(c)->kc, rc->tag);
	rcpu_end(&rc->r);
	free(rc);
	conn_set_user(c, NULL);
}

static const struct conn_ops rcpu_ops = {
	.on_open = rcpu_open,
	.frame = rcpu_frame_cb,
	.on_frame = rcpu_on_frame,
	.on_close = rcpu_on_close,
};

/* ---- the key file ---- */

bool
auth_secret(const char *keys_path, bool create, uint8_t secret[32], char *err, size_t errlen)
{
	char *copy = estrdup(keys_path);
	char *path = esprintf("%s/keyseed", dirname(copy));
	size_t n = 0;
	bool ok = false;
	char *data = read_state_file(path, &n, 64);

	free(copy);
	if (data && n == 32) {
		memcpy(secret, data, 32);
		ok = true;
	} else if (data) {
		snprintf(err, errlen, "%s: %zu bytes, want 32", path, n);
	} else if (errno == ENOENT && create) {
		ok = RAND_bytes(secret, 32) == 1 && write_file_atomic_mode(path, secret, 32, 0600) == 0;
		if (!ok)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else {
		snprintf(err, errlen, "%s: %s", path, state_strerror(errno));
	}
	if (data) {
		OPENSSL_cleanse(data, n);
		free(data);
	}
	free(path);
	return ok;
}

bool
auth_keys_read(const char *path, struct auth_keyfile *kf, char *err, size_t errlen)
{
	struct stat st;
	uint8_t secret[32];
	char why[160];
	size_t n = 0;
	char *text;
	bool ok;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: mode %03o lets others read it; chmod 600", path,
		    (unsigned)(st.st_mode & 0777));
		return false;
	}
	if (!auth_secret(path, true, secret, err, errlen))
		return false;
	if ((text = read_state_file(path, &n, 4 << 20)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, state_strerror(errno));
		OPENSSL_cleanse(secret, sizeof secret);
		return false;
	}
	ok = authkey_load(kf, text, secret, why, sizeof why);
	if (!ok)
		snprintf(err, errlen, "%s: %s", path, why);
	OPENSSL_cleanse(text, n);
	OPENSSL_cleanse(secret, sizeof secret);
	free(text);
	return ok;
}

bool
auth_nvram_from(const struct auth_keyfile *kf, const struct inventory *inv, uint8_t *out)
{
	uint8_t aes[AUTH_AESKEYLEN], des[AUTH_DESKEYLEN];
	bool has_des, ok;

	if (kf == NULL || !authkey_lookup(kf, inv->grid.authid, aes, des, &has_des))
		return false;
	ok = nvram_image(out, inv->grid.authid, inv->grid.authdom,
	    has_des && inv->grid.auth_des ? des : NULL, aes);
	OPENSSL_cleanse(aes, sizeof aes);
	OPENSSL_cleanse(des, sizeof des);
	return ok;
}

/* The image the host owner's machines fetch: made in the key process,
 * a short wait (no Ed448 in it). */
static bool
nvram_source(void *ctx, const struct inventory *inv, uint8_t *out)
{
	struct auth_mod *A = ctx;
	uint8_t body[KM_NVRAM_LEN] = { 0 }, buf[KMSG_MAX];
	struct kmsg m;
	bool ok;

	memcpy(body, inv->grid.authid, strnlen(inv->grid.authid, AUTH_ANAMELEN - 1));
	memcpy(body + AUTH_ANAMELEN, inv->grid.authdom, strnlen(inv->grid.authdom, AUTH_DOMLEN - 1));
	body[KM_NVRAM_LEN - 1] = inv->grid.auth_des ? KMF_DES : 0;
	ok = kc_call(A->kc, 0, KM_NVRAM, body, sizeof body, KM_NVIMG, buf, &m) && m.body[0];
	if (ok)
		memcpy(out, m.body + 1, NVRAM_LEN);
	OPENSSL_cleanse(buf, sizeof buf);
	return ok;
}

/* ---- module ---- */

static void
register_counters(struct auth_mod *A)
{
	static const struct { int t; const char *name; } types[] = {
		{ 0, "other" }, { AuthTreq, "treq" }, { AuthChal, "chal" }, { AuthPass, "pass" },
		{ AuthPAK, "pak" },
	};

	for (size_t i = 0; i < nelem(types); i++)
		A->m_req[types[i].t] = metric_counterf("gridboot_auth_requests_total",
		    "Ticket requests on the auth port, by type", "type=\"%s\"", types[i].name);
	for (size_t i = 0; i < nelem(A->m_req); i++)
		if (A->m_req[i] == NULL)
			A->m_req[i] = A->m_req[0];
	const struct metric_def defs[] = {
		{ &A->m_tickets, "gridboot_auth_tickets_total", NULL, "Ticket pairs issued" },
		{ &A->m_errs, "gridboot_auth_errors_total", NULL, "AuthErr replies" },
		{ &A->m_refused, "gridboot_auth_refused_total", NULL,
		  "Connections refused for too many failures from their source" },
		{ &A->m_fail[0], "gridboot_auth_failures_total", "port=\"auth\"",
		  "Failures counted against a source address" },
		{ &A->m_fail[1], "gridboot_auth_failures_total", "port=\"rcpu\"" },
		{ &A->m_limited[0], "gridboot_auth_limited_total", "by=\"source\"",
		  "AuthPAK/AuthTreq refused over the request limits (docs/security.md)" },
		{ &A->m_limited[1], "gridboot_auth_limited_total", "by=\"user\"" },
		{ &A->m_logins, "gridboot_rcpu_logins_total", NULL,
		  "rcpu connections that authenticated and completed TLS" },
		{ &A->m_reloads, "gridboot_auth_key_reloads_total", NULL,
		  "Key file reloads that worked" },
		{ &A->m_passwd, "gridboot_auth_password_changes_total", NULL,
		  "Passwords changed over AuthPass" },
		{ &A->m_busy, "gridboot_auth_keyproc_busy_total", NULL,
		  "Requests refused because the key process's queue or session table was full" },
	};
	metrics_register(defs, nelem(defs));
}

static int
listen_all(struct auth_mod *A)
{
	const struct grid *g = &A->d->inv->grid;
	struct conn_limits lim = {
		.max_frame = 4096, .high_water = 64 * 1024, .low_water = 16 * 1024,
		.handshake_ms = AUTH_HANDSHAKE_MS, .idle_ms = AUTH_IDLE_MS, .stall_ms = AUTH_IDLE_MS,
		.max_conns = AUTH_MAX_CONNS, .max_per_addr = AUTH_MAX_PER_ADDR,
	};

	lim.handshake_ms = lim.idle_ms = AUTH_PORT_WAIT_MS;
	A->auth = conn_listen(A->d->loop, "auth", 0, (uint16_t)g->auth_port, &auth_ops, &lim, A);
	if (A->auth == NULL) {
		log_err("auth: port %d: %s", g->auth_port, strerror(errno));
		return -1;
	}
	lim.max_frame = CONN_RBUF_MIN;
	lim.handshake_ms = AUTH_HANDSHAKE_MS;
	lim.idle_ms = AUTH_IDLE_MS;
	A->rcpu = conn_listen(A->d->loop, "rcpu", 0, (uint16_t)g->rcpu_port, &rcpu_ops, &lim, A);
	if (A->rcpu == NULL) {
		log_err("auth: rcpu port %d: %s", g->rcpu_port, strerror(errno));
		return -1;
	}
	return 0;
}

static void
announce(struct auth_mod *A)
{
	const struct grid *g = &A->d->inv->grid;

	nvram_set_source(nvram_source, A);
	log_info("auth: auth server on port %d (%s), rcpu on port %d; %zu user(s) in %s; "
	    "host owner %s@%s", g->auth_port, g->auth_des ? "dp9ik and p9sk1" : "dp9ik",
	    g->rcpu_port, A->nusers, g->keys, g->authid, g->authdom);
}

static void auth_shutdown(void *self, struct daemon *d);

static int
auth_init(struct daemon *d, void **self)
{
	struct auth_mod *A = ecalloc(1, sizeof *A);

	*self = A;
	A->d = d;
	A->afid = (struct afid_keys){ d, &A->kc };
	afid_register(&A->afid);
	register_counters(A);
	auth_reqlimit_init(&A->rq);
	if ((A->tls = rcpu_tls_ctx()) == NULL) {
		log_err("auth: OpenSSL: no TLS-PSK server context");
		goto fail;
	}
	if (access(d->inv->grid.keys, F_OK) != 0) {
		log_info("auth: no key file %s: the auth server and rcpu wait for one "
		    "(gridbootd passwd -c FILE USER, then a reload)", d->inv->grid.keys);
		return 0;
	}
	/* bound now, as root; served once the key process has the keys */
	if (listen_all(A) < 0)
		goto fail;
	A->keyed = true;
	return 0;
fail:
	/* the daemon calls shutdown only for modules that started */
	auth_shutdown(A, d);
	*self = NULL;
	return -1;
}

/* The key process died: nothing that needs a key can be answered, so the
 * daemon stops (exit 1) and its supervisor starts both again. */
static void
keyproc_dead(void *arg, const char *why)
{
	struct auth_mod *A = arg;

	log_err("auth: the key process %s: stopping the daemon", why);
	A->d->fatal = true;
	ev_stop(A->d->loop);
}

/* The key process's answer to a load (KM_LOADED), at start or on a
 * reload: it read the key file as root at start, then as grid.user. */
static void
keys_loaded(void *arg, uint32_t tag, const struct kmsg *m)
{
	struct auth_mod *A = arg;
	uint32_t n;
	bool first = !A->loaded;

	(void)tag;
	A->loaded = true;
	memcpy(&n, m->body + 1, 4);
	if (!m->body[0]) {
		if (first && !A->keyed)
			return;         /* no key file: waiting for one, said in init */
		log_err("auth: key file %.*s", (int)(m->len - 5), (const char *)m->body + 5);
		if (first) {
			/* as a bad key file at start always did: no start */
			keyproc_dead(A, "could not read the key file");
			return;
		}
		if (A->keyed)
			log_err("auth: keeping the key file loaded before (%zu user(s))", A->nusers);
		return;
	}
	A->nusers = n;
	if (first) {
		if (A->keyed)
			announce(A);
		return;         /* made between init and now: served from a reload */
	}
	(*A->m_reloads)++;
	log_info("auth: key file %s: %zu user(s)", A->keys_path, A->nusers);
	if (!A->keyed) {
		if (A->auth == NULL && listen_all(A) < 0) {
			log_err("auth: still not serving");
			return;
		}
		A->keyed = true;
		announce(A);
	}
}

/* Forks the key process (still root, after the daemon detached); its
 * first answer says whether the key file it read is good. The loop does
 * not wait for it: requests queue behind that load. */
static int
auth_started(void *self, struct daemon *d)
{
	struct auth_mod *A = self;

	A->keys_path = estrdup(d->inv->grid.keys);
	A->kc = kc_start(d->loop, A->keys_path, d->inv->grid.user, keyproc_dead, keys_loaded, A);
	if (A->kc == NULL || kc_load(A->kc) < 0)
		return -1;
	return 0;
}

static void
auth_reload(void *self, struct daemon *d, struct inventory *old)
{
	struct auth_mod *A = self;

	if (A == NULL)
		return;
	const struct grid *g = &d->inv->grid;
	if (A->auth && (g->auth_port != old->grid.auth_port || g->rcpu_port != old->grid.rcpu_port))
		log_warn("auth: port changes take effect at the next restart");
	if (strcmp(g->keys, old->grid.keys) != 0)
		log_warn("auth: grid.keys changes take effect at the next restart (the key process "
		    "holds %s)", old->grid.keys);
	if (A->kc == NULL || (!A->keyed && access(A->keys_path, F_OK) != 0))
		return;
	/* the key process re-reads the key file and keyseed itself;
	 * keys_loaded has its answer */
	if (kc_load(A->kc) < 0)
		log_err("auth: the key process cannot take the reload now");
}

static void
auth_shutdown(void *self, struct daemon *d)
{
	struct auth_mod *A = self;

	(void)d;
	authgate_unregister();
	if (A == NULL)
		return;
	nvram_set_source(NULL, NULL);
	if (A->auth)
		conn_listener_close(A->auth);
	if (A->rcpu)
		conn_listener_close(A->rcpu);
	kc_stop(A->kc);
	free(A->keys_path);
	SSL_CTX_free(A->tls);
	OPENSSL_cleanse(A, sizeof *A);
	free(A);
}

/* `gridbootd keyproc PATH USER PPID`: the key process, spawned by the
 * daemon with its socketpairs as descriptors 3 and 4 (keyclient.c); not
 * for people (no synopsis). */
static int
auth_cmd_keyproc(int argc, char **argv, inventory_load_fn *load)
{
	int t3 = 0, t4 = 0;
	socklen_t l = sizeof t3;

	(void)load;
	if (argc != 4 || getsockopt(3, SOL_SOCKET, SO_TYPE, &t3, &l) < 0 ||
	    getsockopt(4, SOL_SOCKET, SO_TYPE, &t4, &l) < 0 || t3 != SOCK_SEQPACKET ||
	    t4 != SOCK_SEQPACKET) {
		fprintf(stderr, "gridbootd keyproc: started by gridbootd serve only\n");
		return 2;
	}
	keyproc_main(argv[1], argv[2][0] ? argv[2] : NULL, 3, 4, atoi(argv[3]));
}

static const struct subcommand auth_commands[] = {
	{ "passwd", "  passwd -c FILE USER        set USER's key in the key file (password from\n"
	            "                             the terminal, or one line of stdin)\n", auth_cmd_passwd },
	{ "users", "  users -c FILE              list the key file's users (no secrets)\n",
	  auth_cmd_users },
	{ "nvram", "  nvram -c FILE MACHINE -o OUT\n"
	           "                             write the host owner's nvram image for MACHINE\n",
	  auth_cmd_nvram },
	{ "keyproc", "", auth_cmd_keyproc },
	{ NULL, NULL, NULL },
};

/* Declared in server/modules.h, the table of every module. */
extern const struct module auth_module;
const struct module auth_module = {
	.name = "auth",
	.init = auth_init,
	.started = auth_started,
	.reload = auth_reload,
	.shutdown = auth_shutdown,
	.commands = auth_commands,
};
