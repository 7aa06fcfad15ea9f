/* The network process's side of the key process (keyclient.h). */
#include "auth/keyclient.h"
#include "auth/keyproc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define KC_QMSG 256             /* the largest request, with its header */
#define KC_CALL_MS 5000

struct kc_slot {
	uint32_t tag;           /* 0: free */
	kc_reply_fn fn;
	void *arg;
};

struct keyclient {
	struct evloop *loop;
	pid_t pid;
	int fd, sfd;            /* the async and the synchronous pair */
	bool dead;
	kc_dead_fn on_dead;
	kc_reply_fn on_ctl;
	void *dead_arg;
	struct kc_slot slot[KC_SLOTS];
	uint32_t gen[KC_SLOTS];
	uint16_t freelist[KC_SLOTS];
	size_t nfree;
	struct { uint16_t len; uint8_t b[KC_QMSG]; } q[KC_QUEUE];
	size_t qhead, qn;
	uint64_t dropped;       /* replies for sessions already gone */
};

/* ---- the key process's death ---- */

/* Its pair closes as it exits; reaping follows within moments. */
static void
reap(struct keyclient *kc, char *why, size_t cap)
{
	int st = 0;
	pid_t r = 0;

	for (int i = 0; i < 200 && (r = waitpid(kc->pid, &st, WNOHANG)) == 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (r == kc->pid && WIFSIGNALED(st))
		snprintf(why, cap, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else if (r == kc->pid && WIFEXITED(st))
		snprintf(why, cap, "exited with status %d", WEXITSTATUS(st));
	else
		snprintf(why, cap, "closed its socketpair");
	if (r == kc->pid)
		kc->pid = -1;
}

static void
died(struct keyclient *kc)
{
	char why[96];

	if (kc->dead)
		return;
	kc->dead = true;
	ev_del_fd(kc->loop, kc->fd);
	reap(kc, why, sizeof why);
	if (kc->on_dead)
		kc->on_dead(kc->dead_arg, why);
}

/* ---- replies ---- */

static void
got_log(const struct kmsg *m)
{
	int level = m->body[0];
	if (level < LOG_EMERG || level > LOG_DEBUG)
		level = LOG_ERR;
	logmsg(level, "%.*s", (int)(m->len - 1), (const char *)m->body + 1);
}

static void
deliver(struct keyclient *kc, const uint8_t *p, ssize_t n)
{
	struct kmsg m;
	const char *why;

	if (n > KMSG_MAX || !kmsg_decode(p, (size_t)n, true, &m, &why)) {
		log_err("auth: a message from the key process that is not one (%s): dropped",
		    n > KMSG_MAX ? "too long" : why);
		return;
	}
	if (m.type == KM_LOG) {
		got_log(&m);
		return;
	}
	if (m.tag == 0) {
		if (m.type == KM_LOADED && kc->on_ctl)
			kc->on_ctl(kc->dead_arg, 0, &m);
		return;
	}
	struct kc_slot *s = &kc->slot[m.tag % KC_SLOTS];
	if (s->tag != m.tag) {
		kc->dropped++;          /* its connection closed first */
		return;
	}
	if (m.type == KM_REFUSED)
		log_err("auth: the key process refused our request (tag %u): %.*s", m.tag, (int)m.len,
		    (const char *)m.body);
	if (s->fn)              /* afids' replies come on the sync pair */
		s->fn(s->arg, m.tag, &m);
}

static void flush(struct keyclient *kc);

static void
on_pair(int fd, uint32_t events, void *arg)
{
	struct keyclient *kc = arg;
	uint8_t buf[KMSG_MAX + 1];

	if (events & EPOLLOUT)
		flush(kc);
	/* a bounded batch a turn, so the loop's other work goes on */
	for (int i = 0; i < 64 && !kc->dead; i++) {
		ssize_t n = recv(fd, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT);
		if (n > 0) {
			deliver(kc, buf, n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		died(kc);
		break;
	}
	OPENSSL_cleanse(buf, sizeof buf);
	if (!kc->dead && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		died(kc);
}

/* ---- requests ---- */

static void
flush(struct keyclient *kc)
{
	while (kc->qn > 0) {
		ssize_t n = send(kc->fd, kc->q[kc->qhead].b, kc->q[kc->qhead].len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
			break;
		OPENSSL_cleanse(kc->q[kc->qhead].b, sizeof kc->q[kc->qhead].b);
		kc->qhead = (kc->qhead + 1) % KC_QUEUE;
		kc->qn--;
	}
	ev_mod_fd(kc->loop, kc->fd, EPOLLIN | (kc->qn ? EPOLLOUT : 0));
}

int
kc_send(struct keyclient *kc, uint32_t tag, uint8_t type, const void *body, size_t len)
{
	uint8_t b[KC_QMSG];
	size_t n;

	if (kc == NULL || kc->dead || (n = kmsg_encode(b, sizeof b, type, tag, body, len)) == 0)
		return -1;
	if (kc->qn == 0 && send(kc->fd, b, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n) {
		OPENSSL_cleanse(b, sizeof b);
		return 0;
	}
	if (kc->qn == KC_QUEUE)
		return -1;
	size_t i = (kc->qhead + kc->qn++) % KC_QUEUE;
	memcpy(kc->q[i].b, b, n);
	kc->q[i].len = (uint16_t)n;
	OPENSSL_cleanse(b, sizeof b);
	ev_mod_fd(kc->loop, kc->fd, EPOLLIN | EPOLLOUT);
	return 0;
}

uint32_t
kc_open(struct keyclient *kc, kc_reply_fn fn, void *arg)
{
	if (kc == NULL || kc->dead || kc->nfree == 0)
		return 0;
	uint16_t i = kc->freelist[--kc->nfree];
	uint32_t tag;
	do
		tag = ++kc->gen[i] * KC_SLOTS + i;
	while (tag == 0);
	kc->slot[i] = (struct kc_slot){ tag, fn, arg };
	return tag;
}

void
kc_close(struct keyclient *kc, uint32_t tag)
{
	struct kc_slot *s;

	if (kc == NULL || tag == 0 || (s = &kc->slot[tag % KC_SLOTS])->tag != tag)
		return;
	(void)kc_send(kc, tag, KM_END, NULL, 0);
	s->tag = 0;
	kc->freelist[kc->nfree++] = (uint16_t)(tag % KC_SLOTS);
}

bool
kc_call(struct keyclient *kc, uint32_t tag, uint8_t type, const void *body, size_t len,
    uint8_t want, uint8_t *buf, struct kmsg *m)
{
	uint8_t b[KC_QMSG];
	size_t n;
	const char *why;

	if (kc == NULL || kc->dead || (n = kmsg_encode(b, sizeof b, type, tag, body, len)) == 0)
		return false;
	ssize_t k = send(kc->sfd, b, n, MSG_NOSIGNAL);
	OPENSSL_cleanse(b, sizeof b);
	if (k != (ssize_t)n) {
		log_err("auth: key process: %s", strerror(errno));
		return false;
	}
	for (;;) {
		struct pollfd pf = { kc->sfd, POLLIN, 0 };
		int r = poll(&pf, 1, KC_CALL_MS);
		if (r == 0) {
			log_err("auth: the key process did not answer within %d ms", KC_CALL_MS);
			return false;
		}
		if (r < 0 && errno == EINTR)
			continue;
		ssize_t got = r < 0 ? -1 : recv(kc->sfd, buf, KMSG_MAX, MSG_TRUNC | MSG_DONTWAIT);
		if (got <= 0 || got > KMSG_MAX) {
			if (got <= 0 && errno != EAGAIN)
				return false;   /* dead: the async pair's EOF says so */
			continue;
		}
		if (!kmsg_decode(buf, (size_t)got, true, m, &why)) {
			log_err("auth: a message from the key process that is not one (%s)", why);
			continue;
		}
		if (m->type == KM_LOG) {
			got_log(m);
			continue;
		}
		if (m->tag != tag)
			continue;       /* the late answer of a call that timed out */
		if (m->type == want)
			return true;
		if (m->type == KM_REFUSED)
			log_err("auth: the key process refused our call: %.*s", (int)m->len,
			    (const char *)m->body);
		return false;
	}
}

int
kc_load(struct keyclient *kc)
{
	return kc_send(kc, 0, KM_LOAD, NULL, 0);
}

/* ---- rcpu ---- */

static bool
out_add(struct rcpu_out *o, const void *p, size_t n)
{
	if (n == 0)
		return true;
	if (o->n + n > o->cap) {
		size_t cap = MAX(o->cap * 2, o->n + n + 256);
		uint8_t *q = emalloc(cap);
		if (o->p) {
			memcpy(q, o->p, o->n);
			OPENSSL_cleanse(o->p, o->cap);
			free(o->p);
		}
		o->p = q;
		o->cap = cap;
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
	return true;
}

enum rcpu_result
kc_rcpu_reply(const struct kmsg *m, struct rcpu *sh, char *whybuf, struct rcpu_out *out)
{
	if (m->type != KM_RREPLY) {
		sh->why = "the key process refused the step";
		sh->st = RCPU_DONE;
		return RCPU_FAIL;
	}
	struct rd r = rd_make(m->body, m->len);
	uint8_t res = rd_u8(&r), st = rd_u8(&r), p9sk1 = rd_u8(&r);
	const uint8_t *user = rd_bytes(&r, AUTH_ANAMELEN), *why = rd_bytes(&r, 64);
	uint16_t ns = rd_le16(&r);
	const uint8_t *secret = rd_bytes(&r, ns);

	if (r.err || res > RCPU_AUTHED || st > RCPU_DONE || ns > RCPU_SECRETLEN) {
		sh->why = "a reply from the key process that does not parse";
		sh->st = RCPU_DONE;
		return RCPU_FAIL;
	}
	sh->st = st;
	sh->p9sk1 = p9sk1 != 0;
	memcpy(sh->user, user, AUTH_ANAMELEN);
	sh->user[AUTH_ANAMELEN - 1] = 0;
	memcpy(whybuf, why, 64);
	whybuf[63] = 0;
	sh->why = whybuf[0] ? whybuf : NULL;
	memcpy(sh->secret, secret, ns);
	sh->nsecret = ns;
	out_add(out, r.p, rd_left(&r));
	return res;
}

bool
kc_rcpu_start(struct keyclient *kc, uint32_t tag, const char *authid, const char *dom,
    const char *offer, struct rcpu *sh, char *whybuf, struct rcpu_out *out)
{
	uint8_t body[KM_RSTART_LEN] = { 0 }, buf[KMSG_MAX];
	struct kmsg m;

	memset(sh, 0, sizeof *sh);
	memcpy(body, authid, strnlen(authid, AUTH_ANAMELEN - 1));
	memcpy(body + AUTH_ANAMELEN, dom, strnlen(dom, AUTH_DOMLEN - 1));
	memcpy(body + AUTH_ANAMELEN + AUTH_DOMLEN, offer, strnlen(offer, 63));
	if (!kc_call(kc, tag, KM_RSTART, body, sizeof body, KM_RREPLY, buf, &m)) {
		sh->why = "the key process did not answer";
		return false;
	}
	return kc_rcpu_reply(&m, sh, whybuf, out) == RCPU_MORE;
}

enum rcpu_result
kc_rcpu_input(struct keyclient *kc, uint32_t tag, struct rcpu *sh, char *whybuf,
    bool want_secret, const uint8_t *p, size_t n, struct rcpu_out *out)
{
	uint8_t body[KM_RIN_MAX], buf[KMSG_MAX];
	struct kmsg m;
	enum rcpu_result res;

	if (n == 0 || n > KM_RIN_MAX - 1) {
		sh->why = "rcpu: a step larger than any";
		sh->st = RCPU_DONE;
		return RCPU_FAIL;
	}
	body[0] = want_secret ? KMF_SECRET : 0;
	memcpy(body + 1, p, n);
	if (!kc_call(kc, tag, KM_RIN, body, n + 1, KM_RREPLY, buf, &m)) {
		sh->why = "the key process did not answer";
		sh->st = RCPU_DONE;
		return RCPU_FAIL;
	}
	res = kc_rcpu_reply(&m, sh, whybuf, out);
	OPENSSL_cleanse(buf, sizeof buf);
	OPENSSL_cleanse(body, sizeof body);
	return res;
}

/* ---- start and stop ---- */

/* The key process is this binary again (`gridbootd keyproc`, exec'd
 * through posix_spawn): a fresh image, so nothing of the network
 * process's memory is in it, and the daemon's start-up does not wait for
 * a fork's copy. Its ends of the pairs are descriptors 3 and 4. */
static pid_t
spawn(const char *path, const char *user, int fa, int fs)
{
	posix_spawn_file_actions_t fa_;
	char ppid[24];
	pid_t pid = -1;
	int e;

	/* above 4, so the dup2s below never meet their own number */
	int a = fcntl(fa, F_DUPFD_CLOEXEC, 10), b = fcntl(fs, F_DUPFD_CLOEXEC, 10);
	snprintf(ppid, sizeof ppid, "%d", (int)getpid());
	char *argv[] = { "gridbootd", "keyproc", (char *)path, (char *)(user ? user : ""), ppid,
	    NULL };
	if (a < 0 || b < 0 || (e = posix_spawn_file_actions_init(&fa_)) != 0)
		goto out;
	if (posix_spawn_file_actions_adddup2(&fa_, a, 3) == 0 &&
	    posix_spawn_file_actions_adddup2(&fa_, b, 4) == 0 &&
	    (e = posix_spawn(&pid, "/proc/self/exe", &fa_, NULL, argv, environ)) != 0) {
		errno = e;
		pid = -1;
	}
	posix_spawn_file_actions_destroy(&fa_);
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return pid;
}

struct keyclient *
kc_start(struct evloop *loop, const char *path, const char *user, kc_dead_fn dead,
    kc_reply_fn ctl, void *arg)
{
	int a[2], s[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, a) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s) < 0) {
		close(a[0]);
		close(a[1]);
		goto fail;
	}
	pid_t pid = spawn(path, user, a[1], s[1]);
	close(a[1]);
	close(s[1]);
	if (pid < 0) {
		close(a[0]);
		close(s[0]);
		goto fail;
	}
	struct keyclient *kc = ecalloc(1, sizeof *kc);
	kc->loop = loop;
	kc->pid = pid;
	kc->fd = a[0];
	kc->sfd = s[0];
	kc->on_dead = dead;
	kc->on_ctl = ctl;
	kc->dead_arg = arg;
	for (size_t i = 0; i < KC_SLOTS; i++)
		kc->freelist[kc->nfree++] = (uint16_t)(KC_SLOTS - 1 - i);
	if (ev_add_fd(loop, kc->fd, EPOLLIN, on_pair, kc) < 0) {
		log_err("auth: key process: %s", strerror(errno));
		kc_stop(kc);
		return NULL;
	}
	log_info("auth: key process %d holds the key file %s", (int)pid, path);
	return kc;
fail:
	log_err("auth: cannot start the key process: %s", strerror(errno));
	return NULL;
}

void
kc_stop(struct keyclient *kc)
{
	if (kc == NULL)
		return;
	if (!kc->dead)
		ev_del_fd(kc->loop, kc->fd);
	close(kc->fd);
	close(kc->sfd);
	if (kc->pid > 0) {
		char why[96];
		reap(kc, why, sizeof why);
		if (kc->pid > 0) {
			kill(kc->pid, SIGKILL);
			waitpid(kc->pid, NULL, 0);
		}
	}
	OPENSSL_cleanse(kc, sizeof *kc);
	free(kc);
}
