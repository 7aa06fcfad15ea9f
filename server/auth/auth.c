/* auth: the module. The Plan 9 auth server on grid.auth_port (567) and the
 * rcpu endpoint on grid.rcpu_port (17019), both on core/conn; the key
 * file (grid.keys) and its secret; the per-source failure limiter; the
 * host owner's nvram image for boot/nvram.h. docs/auth.md. */
#include "auth/auth.h"
#include "auth/authsrv.h"
#include "auth/afid.h"
#include "auth/rcpu.h"
#include "core/authgate.h"
#include "boot/nvram.h"
#include "config/inventory.h"
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
	struct auth_keyfile *keys;      /* NULL: no key file yet, not serving */
	struct conn_listener *auth, *rcpu;
	SSL_CTX *tls;
	struct auth_faillimit fl;
	struct auth_reqlimit rq;        /* AuthPAK/AuthTreq per source and user */
	uint64_t *m_limited[2];         /* by source, by user */
	struct ratelimit rl_fail, rl_refused;
	uint64_t *m_req[24], *m_tickets, *m_errs, *m_refused, *m_fail[2], *m_logins, *m_reloads,
	    *m_passwd;
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

struct aconn {
	struct authsrv s;
	size_t need;
	bool closing, ticketed, refused;
};

static void keys_drop(struct auth_keyfile *kf);

/* AuthPass's store (authsrv_setkey_fn): the user's new line into the key
 * file on disk, and the file as written becomes the one in use. */
static bool
keystore_set(void *ctx, const char *user, const struct authkey *k, char *why, size_t whylen)
{
	struct auth_mod *A = ctx;
	const struct grid *g = &A->d->inv->grid;
	struct auth_keyfile *kf = ecalloc(1, sizeof *kf);
	char line[256], err[512];
	bool ok;

	ok = authkey_line_keys(line, sizeof line, user, k->aes, g->auth_des ? k->des : NULL)
	    && auth_keys_update(g->keys, user, line, A->keys->secret, kf, err, sizeof err);
	OPENSSL_cleanse(line, sizeof line);
	if (!ok) {
		free(kf);
		log_err("auth: password change for %s: %s", user, err);
		snprintf(why, whylen, "can't write key: see the auth server's log");
		return false;
	}
	keys_drop(A->keys);
	A->keys = kf;
	(*A->m_passwd)++;
	logmsg(LOG_NOTICE, "auth: %s's password changed (AuthPass); %s rewritten, %zu user(s)", user,
	    g->keys, kf->n);
	return true;
}

static void
auth_open(struct conn *c)
{
	struct auth_mod *A = mod_of(c);
	struct aconn *a = ecalloc(1, sizeof *a);
	authsrv_init(&a->s, A->keys, A->d->inv->grid.auth_des, NULL, NULL);
	a->s.setkey = keystore_set;
	a->s.setkey_ctx = A;
	conn_set_user(c, a);
	refused(c, true, &a->refused);
}

static int64_t
auth_frame_cb(struct conn *c, const uint8_t *p, size_t len)
{
	struct aconn *a = conn_user(c);
	if (a && (a->refused || a->closing))
		return len ? (int64_t)len : CONN_FRAME_MORE;	/* read and dropped */
	return a ? auth_frame(a->need, p, len) : CONN_FRAME_BAD;
}

/* A Passwordreq after the AuthTp ticket. */
static void
passreq(struct conn *c, struct aconn *a, const uint8_t *p, size_t len)
{
	struct auth_mod *A = mod_of(c);
	struct authsrv_reply r;
	char user[AUTH_ANAMELEN];

	memcpy(user, a->s.pt.cuid, sizeof user);
	a->s.keys = A->keys;
	a->s.des_ok = A->d->inv->grid.auth_des;
	authsrv_passreq(&a->s, p, len, &r);
	if (r.len)
		conn_send(c, r.out, r.len);
	if (r.len && r.out[0] == AuthErr) {
		char why[AUTH_AERRLEN + 48];
		(*A->m_errs)++;
		snprintf(why, sizeof why, "password change for %s: AuthErr \"%.64s\"", user,
		    (const char *)r.out + 1);
		if (r.fail)
			failed(c, 0, why);
		else
			log_info("auth: %s: %s", conn_peer_str(c), why);
	}
	if (!a->s.passing)
		conn_set_idle(c, AUTH_PORT_WAIT_MS);
	a->need = r.need;
	if (r.close)
		finish(c, &a->closing, "password change done");
	OPENSSL_cleanse(&r, sizeof r);
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
	struct authsrv_reply r;
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
	if (a->need && a->s.passing) {
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
		if (!authsrv_pak_ys(&a->s, p, len)) {
			failed(c, 0, "AuthPAK: a Y that does not decode");
			finish(c, &a->closing, "bad AuthPAK");
		}
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
	/* a reload may have swapped them since the last request */
	a->s.keys = A->keys;
	a->s.sf = A->d->inv->grid.speaksfor;
	a->s.nsf = (size_t)A->d->inv->grid.nspeaksfor;
	a->s.des_ok = A->d->inv->grid.auth_des;
	authsrv_request(&a->s, p, &r);
	if (r.len)
		conn_send(c, r.out, r.len);
	if (r.len && r.out[0] == AuthErr) {
		(*A->m_errs)++;
		char why[AUTH_AERRLEN + 32];
		snprintf(why, sizeof why, "request type %u: AuthErr \"%.64s\"", p[0], (const char *)r.out + 1);
		failed(c, 0, why);
	} else if (a->s.passing) {
		/* a person answers questions and types the new password twice */
		conn_established(c);
		conn_set_idle(c, AUTH_PASS_IDLE_MS);
		log_debug("auth: %s: AuthTp ticket for %s (%s); waiting for the password request",
		    conn_peer_str(c), a->s.pt.cuid, a->s.pt.form ? "dp9ik" : "p9sk1");
	} else if (p[0] == AuthTreq && r.len && r.out[0] == AuthOK) {
		(*A->m_tickets)++;
		log_debug("auth: %s: tickets (%s)", conn_peer_str(c), a->s.form1 ? "dp9ik" : "p9sk1");
		if (!a->ticketed)
			conn_established(c);
		a->ticketed = true;
	}
	a->need = r.need;
	if (r.close)
		finish(c, &a->closing, "request done");
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
	else if (!a->closing && a->s.passing && strcmp(reason, conn_reason_name(CONN_PEER)) == 0)
		/* 9front's passwd hangs up when its AuthTp ticket does not open */
		failed(c, 0, "the client hung up after its password-change ticket: a wrong password?");
	authsrv_wipe(&a->s);
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

struct rconn {
	struct rcpu r;
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

static void
rcpu_open(struct conn *c)
{
	struct auth_mod *A = mod_of(c);
	struct rcpu_out o = { 0 };
	uint8_t aes[AUTH_AESKEYLEN], des[AUTH_DESKEYLEN];
	bool has_des;
	const struct grid *g = &A->d->inv->grid;

	if (refused(c, false, NULL))
		return;
	if (!authkey_lookup(A->keys, g->authid, aes, des, &has_des)) {
		log_limited(&A->rl_fail, LOG_ERR, "rcpu: no key for the host owner %s in %s "
		    "(gridbootd passwd -c FILE %s)", g->authid, g->keys, g->authid);
		conn_close(c, "no host owner key");
		return;
	}
	struct rconn *rc = ecalloc(1, sizeof *rc);
	conn_set_user(c, rc);
	bool ok = rcpu_start(&rc->r, g->authid, g->authdom, aes, has_des ? des : NULL, g->p9any, &o);
	OPENSSL_cleanse(aes, sizeof aes);
	OPENSSL_cleanse(des, sizeof des);
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
	return rcpu_frame(&rc->r, p, len);
}

static void
rcpu_on_frame(struct conn *c, const uint8_t *p, size_t len)
{
	struct auth_mod *A = mod_of(c);
	struct rconn *rc = conn_user(c);
	struct rcpu_out o = { 0 };

	if (rc == NULL || rc->closing)
		return;
	switch (rcpu_input(&rc->r, A->tls, p, len, &o)) {
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

static struct auth_keyfile *
keys_load(const char *path)
{
	struct auth_keyfile *kf = ecalloc(1, sizeof *kf);
	char err[256];

	if (!auth_keys_read(path, kf, err, sizeof err)) {
		log_err("auth: key file %s", err);
		free(kf);
		return NULL;
	}
	return kf;
}

static void
keys_drop(struct auth_keyfile *kf)
{
	if (kf) {
		authkey_free(kf);
		free(kf);
	}
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

static bool
nvram_source(void *ctx, const struct inventory *inv, uint8_t *out)
{
	struct auth_mod *A = ctx;
	return auth_nvram_from(A->keys, inv, out);
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
	nvram_set_source(nvram_source, A);
	log_info("auth: auth server on port %d (%s), rcpu on port %d; %zu user(s) in %s; "
	    "host owner %s@%s", g->auth_port, g->auth_des ? "dp9ik and p9sk1" : "dp9ik",
	    g->rcpu_port, A->keys->n, g->keys, g->authid, g->authdom);
	return 0;
}

static void auth_shutdown(void *self, struct daemon *d);

static int
auth_init(struct daemon *d, void **self)
{
	struct auth_mod *A = ecalloc(1, sizeof *A);

	*self = A;
	A->d = d;
	A->afid = (struct afid_keys){ d, &A->keys };
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
	if ((A->keys = keys_load(d->inv->grid.keys)) == NULL || listen_all(A) < 0)
		goto fail;
	return 0;
fail:
	/* the daemon calls shutdown only for modules that started */
	auth_shutdown(A, d);
	*self = NULL;
	return -1;
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
	if (access(g->keys, F_OK) != 0 && A->keys == NULL)
		return;
	struct auth_keyfile *kf = keys_load(g->keys);
	if (kf == NULL) {
		if (A->keys)
			log_err("auth: keeping the key file loaded before (%zu user(s))", A->keys->n);
		return;
	}
	keys_drop(A->keys);
	A->keys = kf;
	(*A->m_reloads)++;
	log_info("auth: key file %s: %zu user(s)", g->keys, kf->n);
	if (A->auth == NULL && listen_all(A) < 0)
		log_err("auth: still not serving");
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
	keys_drop(A->keys);
	SSL_CTX_free(A->tls);
	OPENSSL_cleanse(A, sizeof *A);
	free(A);
}

static const struct subcommand auth_commands[] = {
	{ "passwd", "  passwd -c FILE USER        set USER's key in the key file (password from\n"
	            "                             the terminal, or one line of stdin)\n", auth_cmd_passwd },
	{ "users", "  users -c FILE              list the key file's users (no secrets)\n",
	  auth_cmd_users },
	{ "nvram", "  nvram -c FILE MACHINE -o OUT\n"
	           "                             write the host owner's nvram image for MACHINE\n",
	  auth_cmd_nvram },
	{ NULL, NULL, NULL },
};

/* Declared in server/modules.h, the table of every module. */
extern const struct module auth_module;
const struct module auth_module = {
	.name = "auth",
	.init = auth_init,
	.reload = auth_reload,
	.shutdown = auth_shutdown,
	.commands = auth_commands,
};
