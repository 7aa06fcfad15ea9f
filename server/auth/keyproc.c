/* The key process (keyproc.h): its loop, its sessions and its
 * confinement. Every step that needs a key runs here: AuthPAK's server
 * half (the Ed448 scalar multiplications), ticket and authenticator
 * sealing, AuthPass checks and key file rewrites, the host owner's nvram
 * image, rcpu's and the 9P afid's server half up to the session secret.
 * Sessions are kept by tag (keymsg.h); an unknown user's fabricated keys
 * never leave. */
#include "auth/keyproc.h"
#include "auth/auth.h"
#include "auth/authsrv.h"
#include "auth/keymsg.h"
#include "auth/rcpu.h"
#include "boot/nvram.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define KP_SESSIONS 1024
#define KP_NICE 10        /* a tag's slot is tag % KP_SESSIONS */

enum { S_FREE, S_AUTH, S_RCPU };

struct kp_sess {
	uint32_t tag;
	int kind;
	bool fresh;             /* no request seen yet */
	union {
		struct authsrv a;
		struct rcpu r;
	} u;
};

struct keyproc {
	char *path;
	struct auth_keyfile *keys;      /* NULL until a load worked */
	struct kp_sess *sess[KP_SESSIONS];
	uint64_t refused;
	int fd;                         /* where the current message's answers go */
	bool des;                       /* the current request's KMF_DES */
	bool loaded_once;               /* the first KM_LOAD answers the load at start */
	bool first_ok;
	char first_err[200];
};

/* ---- replies ---- */

static void
reply(struct keyproc *kp, uint8_t type, uint32_t tag, const void *body, size_t len)
{
	uint8_t buf[KMSG_MAX];
	size_t n = kmsg_encode(buf, sizeof buf, type, tag, body, len);

	/* a send that fails means the network process is gone: the next
	 * recv sees EOF */
	if (n)
		(void)send(kp->fd, buf, n, MSG_NOSIGNAL);
	OPENSSL_cleanse(buf, sizeof buf);
}

static void __attribute__((format(printf, 3, 4)))
kp_log(struct keyproc *kp, int level, const char *fmt, ...)
{
	uint8_t b[1 + 240];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf((char *)b + 1, sizeof b - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	b[0] = (uint8_t)level;
	reply(kp, KM_LOG, 0, b, 1 + MIN((size_t)n, sizeof b - 2));
}

static void
refuse(struct keyproc *kp, uint32_t tag, const char *why)
{
	kp->refused++;
	kp_log(kp, LOG_ERR, "key process: refused a message (tag %u): %s", tag, why);
	reply(kp, KM_REFUSED, tag, why, strlen(why));
}

/* ---- sessions ---- */

static void
sess_end(struct keyproc *kp, size_t i)
{
	struct kp_sess *s = kp->sess[i];

	if (s == NULL)
		return;
	if (s->kind == S_AUTH)
		authsrv_wipe(&s->u.a);
	else if (s->kind == S_RCPU)
		rcpu_end(&s->u.r);
	OPENSSL_cleanse(s, sizeof *s);
	free(s);
	kp->sess[i] = NULL;
}

/* The tag's session of kind, made when create; NULL when there is none
 * (or it is of another kind). A slot held by an older tag is that
 * session's end: the network process reuses a slot only after KM_END. */
static struct kp_sess *
sess_get(struct keyproc *kp, uint32_t tag, int kind, bool create)
{
	size_t i = tag % KP_SESSIONS;
	struct kp_sess *s = kp->sess[i];

	if (s && s->tag == tag)
		return s->kind == kind ? s : NULL;
	if (!create)
		return NULL;
	sess_end(kp, i);
	s = kp->sess[i] = ecalloc(1, sizeof *s);
	s->tag = tag;
	s->kind = kind;
	s->fresh = true;
	if (kind == S_AUTH)
		authsrv_init(&s->u.a, kp->keys, false, NULL, NULL);
	return s;
}

/* ---- the auth port ---- */

static void
areply(struct keyproc *kp, uint32_t tag, const struct authsrv *a, const struct authsrv_reply *r,
    uint8_t extra)
{
	uint8_t b[KM_AREPLY_HDR + sizeof r->out];
	struct wr w = wr_make(b, sizeof b);
	uint8_t f = extra;

	f |= r->close ? KMA_CLOSE : 0;
	f |= r->fail ? KMA_FAIL : 0;
	f |= r->changed ? KMA_CHANGED : 0;
	f |= a->passing ? KMA_PASSING : 0;
	f |= a->form1 ? KMA_FORM1 : 0;
	wr_u8(&w, f);
	wr_le16(&w, (uint16_t)r->need);
	wr_bytes(&w, a->pt.cuid, AUTH_ANAMELEN);
	wr_bytes(&w, r->out, r->len);
	if (!w.err)
		reply(kp, KM_AREPLY, tag, b, wr_len(&w));
	OPENSSL_cleanse(b, sizeof b);
}

/* AuthPass's store (authsrv_setkey_fn): the user's new line into the key
 * file, and the file as written becomes the one in use. */
static bool
keystore_set(void *ctx, const char *user, const struct authkey *k, char *why, size_t whylen)
{
	struct keyproc *kp = ctx;
	struct auth_keyfile *kf = ecalloc(1, sizeof *kf);
	char line[256], err[512];
	bool ok;

	ok = kp->keys && authkey_line_keys(line, sizeof line, user, k->aes, kp->des ? k->des : NULL)
	    && auth_keys_update(kp->path, user, line, kp->keys->secret, kf, err, sizeof err);
	OPENSSL_cleanse(line, sizeof line);
	if (!ok) {
		free(kf);
		kp_log(kp, LOG_ERR, "auth: password change for %s: %s", user, kp->keys ? err : "no keys");
		snprintf(why, whylen, "can't write key: see the auth server's log");
		return false;
	}
	authkey_free(kp->keys);
	free(kp->keys);
	kp->keys = kf;
	kp_log(kp, LOG_NOTICE, "auth: %s's password changed (AuthPass); %s rewritten, %zu user(s)",
	    user, kp->path, kf->n);
	return true;
}

static void
auth_prep(struct keyproc *kp, struct kp_sess *s, uint8_t flags)
{
	kp->des = flags & KMF_DES;
	s->u.a.keys = kp->keys;
	s->u.a.des_ok = kp->des;
	s->u.a.speaks = (flags & KMF_SPEAKS) != 0;
	s->u.a.setkey = keystore_set;
	s->u.a.setkey_ctx = kp;
}

static void
on_treq(struct keyproc *kp, const struct kmsg *m)
{
	struct kp_sess *s = sess_get(kp, m->tag, S_AUTH, true);
	struct authsrv_reply r;

	if (s == NULL || kp->keys == NULL) {
		refuse(kp, m->tag, s ? "no key file loaded" : "the tag is an rcpu session");
		return;
	}
	if (s->fresh)
		s->u.a.form1 = !(m->body[0] & KMF_DES);   /* authsrv_init's, now we know */
	s->fresh = false;
	auth_prep(kp, s, m->body[0]);
	authsrv_request(&s->u.a, m->body + 1, &r);
	areply(kp, m->tag, &s->u.a, &r, 0);
	OPENSSL_cleanse(&r, sizeof r);
}

static void
on_ys(struct keyproc *kp, const struct kmsg *m)
{
	struct kp_sess *s = sess_get(kp, m->tag, S_AUTH, false);
	struct authsrv_reply r = { 0 };

	if (s == NULL || s->u.a.npending == 0) {
		refuse(kp, m->tag, "Y's with no AuthPAK waiting for them");
		return;
	}
	bool ok = authsrv_pak_ys(&s->u.a, m->body, m->len);
	r.close = !ok;
	areply(kp, m->tag, &s->u.a, &r, ok ? 0 : KMA_BADY);
}

static void
on_passreq(struct keyproc *kp, const struct kmsg *m)
{
	struct kp_sess *s = sess_get(kp, m->tag, S_AUTH, false);
	struct authsrv_reply r;

	if (s == NULL || !s->u.a.passing || kp->keys == NULL) {
		refuse(kp, m->tag, "a Passwordreq with no AuthPass ticket before it");
		return;
	}
	auth_prep(kp, s, m->body[0]);
	authsrv_passreq(&s->u.a, m->body + 1, m->len - 1, &r);
	areply(kp, m->tag, &s->u.a, &r, 0);
	OPENSSL_cleanse(&r, sizeof r);
}

/* ---- rcpu and the 9P afid ---- */

/* A fixed-size, NUL-padded name field as a C string (cut at the end). */
static void
field(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t k = strnlen((const char *)p, MIN(n, cap - 1));
	memcpy(dst, p, k);
	dst[k] = 0;
}

static void
rreply(struct keyproc *kp, uint32_t tag, struct rcpu *r, enum rcpu_result res, bool secret,
    const struct rcpu_out *o)
{
	uint8_t b[KM_RREPLY_HDR + RCPU_SECRETLEN + 256];
	struct wr w = wr_make(b, sizeof b);
	char why[64] = { 0 };
	size_t ns = res == RCPU_AUTHED && secret ? r->nsecret : 0;

	if (r->why)
		str_copy(why, r->why, sizeof why);
	wr_u8(&w, (uint8_t)res);
	wr_u8(&w, (uint8_t)r->st);
	wr_u8(&w, r->p9sk1);
	wr_bytes(&w, r->user, AUTH_ANAMELEN);
	wr_bytes(&w, why, sizeof why);
	wr_le16(&w, (uint16_t)ns);
	wr_bytes(&w, r->secret, ns);
	wr_bytes(&w, o->p, o->n);
	if (w.err) {
		refuse(kp, tag, "rcpu: a reply larger than a message");
		return;
	}
	reply(kp, KM_RREPLY, tag, b, wr_len(&w));
	OPENSSL_cleanse(b, sizeof b);
}

static void
on_rstart(struct keyproc *kp, const struct kmsg *m)
{
	char authid[AUTH_ANAMELEN], dom[AUTH_DOMLEN], offer[65];
	uint8_t aes[AUTH_AESKEYLEN], des[AUTH_DESKEYLEN];
	struct rcpu_out o = { 0 };
	bool has_des;

	field(authid, sizeof authid, m->body, AUTH_ANAMELEN);
	field(dom, sizeof dom, m->body + AUTH_ANAMELEN, AUTH_DOMLEN);
	field(offer, sizeof offer, m->body + AUTH_ANAMELEN + AUTH_DOMLEN, 64);
	struct kp_sess *s = sess_get(kp, m->tag, S_RCPU, true);
	if (s == NULL) {
		refuse(kp, m->tag, "the tag is an auth port session");
		return;
	}
	if (kp->keys == NULL || !authkey_lookup(kp->keys, authid, aes, des, &has_des)) {
		s->u.r.why = "no key for the host owner";
		s->u.r.st = RCPU_DONE;
		rreply(kp, m->tag, &s->u.r, RCPU_FAIL, false, &o);
		sess_end(kp, m->tag % KP_SESSIONS);
		return;
	}
	bool ok = rcpu_start(&s->u.r, authid, dom, aes, has_des ? des : NULL, offer, &o);
	OPENSSL_cleanse(aes, sizeof aes);
	OPENSSL_cleanse(des, sizeof des);
	rreply(kp, m->tag, &s->u.r, ok ? RCPU_MORE : RCPU_FAIL, false, &o);
	rcpu_out_free(&o);
	if (!ok)
		sess_end(kp, m->tag % KP_SESSIONS);
}

static void
on_rin(struct keyproc *kp, const struct kmsg *m)
{
	struct kp_sess *s = sess_get(kp, m->tag, S_RCPU, false);
	struct rcpu_out o = { 0 };

	if (s == NULL || s->u.r.st >= RCPU_TLS) {
		refuse(kp, m->tag, "rcpu bytes with no session before TLS");
		return;
	}
	int64_t k = rcpu_frame(&s->u.r, m->body + 1, m->len - 1);
	if (k != (int64_t)(m->len - 1)) {
		refuse(kp, m->tag, "rcpu bytes that are not one step");
		return;
	}
	enum rcpu_result res = rcpu_input(&s->u.r, NULL, m->body + 1, m->len - 1, &o);
	rreply(kp, m->tag, &s->u.r, res, m->body[0] & KMF_SECRET, &o);
	rcpu_out_free(&o);
	if (res == RCPU_AUTHED || res == RCPU_FAIL)
		sess_end(kp, m->tag % KP_SESSIONS);
}

static void
on_nvram(struct keyproc *kp, const struct kmsg *m)
{
	char authid[AUTH_ANAMELEN], dom[AUTH_DOMLEN];
	uint8_t aes[AUTH_AESKEYLEN], des[AUTH_DESKEYLEN], b[1 + NVRAM_LEN] = { 0 };
	bool has_des;

	field(authid, sizeof authid, m->body, AUTH_ANAMELEN);
	field(dom, sizeof dom, m->body + AUTH_ANAMELEN, AUTH_DOMLEN);
	if (kp->keys && authkey_lookup(kp->keys, authid, aes, des, &has_des))
		b[0] = nvram_image(b + 1, authid, dom,
		    has_des && (m->body[KM_NVRAM_LEN - 1] & KMF_DES) ? des : NULL, aes);
	reply(kp, KM_NVIMG, m->tag, b, sizeof b);
	OPENSSL_cleanse(aes, sizeof aes);
	OPENSSL_cleanse(des, sizeof des);
	OPENSSL_cleanse(b, sizeof b);
}

/* ---- the key file ---- */

bool
keyproc_load(struct keyproc *kp, char *err, size_t errlen)
{
	struct auth_keyfile *kf = ecalloc(1, sizeof *kf);

	if (!auth_keys_read(kp->path, kf, err, errlen)) {
		free(kf);
		return false;
	}
	if (kp->keys) {
		authkey_free(kp->keys);
		free(kp->keys);
	}
	kp->keys = kf;
	return true;
}

static void
on_load(struct keyproc *kp, const struct kmsg *m)
{
	uint8_t b[5 + 200];
	char err[200] = "";
	bool ok;

	if (!kp->loaded_once) {         /* loaded as root before confining */
		kp->loaded_once = true;
		ok = kp->first_ok;
		str_copy(err, kp->first_err, sizeof err);
	} else {
		ok = keyproc_load(kp, err, sizeof err);
	}
	uint32_t n = kp->keys ? (uint32_t)kp->keys->n : 0;
	size_t elen = ok ? 0 : strlen(err);
	b[0] = ok;
	memcpy(b + 1, &n, 4);
	memcpy(b + 5, err, elen);
	reply(kp, KM_LOADED, m->tag, b, 5 + elen);
}

/* ---- the loop ---- */

static void
dispatch(struct keyproc *kp, const uint8_t *p, ssize_t n)
{
	struct kmsg m;
	const char *why;
	uint32_t tag = n >= KMSG_HDR ? (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
	    (uint32_t)p[7] << 24 : 0;

	if (n > KMSG_MAX) {
		refuse(kp, tag, "larger than any message");
		return;
	}
	if (!kmsg_decode(p, (size_t)n, false, &m, &why)) {
		refuse(kp, tag, why);
		return;
	}
	switch (m.type) {
	case KM_LOAD: on_load(kp, &m); break;
	case KM_TREQ: on_treq(kp, &m); break;
	case KM_YS: on_ys(kp, &m); break;
	case KM_PASSREQ: on_passreq(kp, &m); break;
	case KM_END: sess_end(kp, m.tag % KP_SESSIONS); break;
	case KM_RSTART: on_rstart(kp, &m); break;
	case KM_RIN: on_rin(kp, &m); break;
	case KM_NVRAM: on_nvram(kp, &m); break;
	default: refuse(kp, m.tag, "not a request"); break;
	}
}

int
keyproc_serve(struct keyproc *kp, const int *fds, int nfds)
{
	struct pollfd pf[2];
	uint8_t buf[KMSG_MAX + 1];

	if (nfds < 1 || nfds > 2)
		return -1;
	for (int i = 0; i < nfds; i++)
		pf[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	for (;;) {
		if (poll(pf, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < nfds; i++) {
			if (pf[i].revents == 0)
				continue;
			/* MSG_TRUNC: n is the datagram's real size, so an
			 * oversized one is seen whole and refused */
			ssize_t n = recv(pf[i].fd, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT);
			if (n == 0)
				return 0;
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				return errno == ECONNRESET ? 0 : -1;
			}
			kp->fd = pf[i].fd;
			dispatch(kp, buf, n);
			OPENSSL_cleanse(buf, sizeof buf);
		}
	}
}

struct keyproc *
keyproc_new(const char *path)
{
	struct keyproc *kp = ecalloc(1, sizeof *kp);
	kp->path = estrdup(path);
	kp->fd = -1;
	return kp;
}

uint64_t
keyproc_refused(const struct keyproc *kp)
{
	return kp->refused;
}

void
keyproc_free(struct keyproc *kp)
{
	if (kp == NULL)
		return;
	for (size_t i = 0; i < KP_SESSIONS; i++)
		sess_end(kp, i);
	if (kp->keys) {
		authkey_free(kp->keys);
		free(kp->keys);
	}
	free(kp->path);
	OPENSSL_cleanse(kp, sizeof *kp);
	free(kp);
}

/* ---- confinement ---- */

/* Every descriptor but 0-2 and the pairs' ends: the listeners, the epoll
 * and signalfd, the journals the parent held. */
static void
close_others(int a, int b)
{
	int lo = MIN(a, b), hi = MAX(a, b);

	if (lo > 3)
		(void)syscall(SYS_close_range, 3u, (unsigned)lo - 1, 0u);
	if (hi > lo + 1)
		(void)syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0u);
	(void)syscall(SYS_close_range, (unsigned)hi + 1, ~0u, 0u);
}

/* keyseed, when the load at start made it as root, goes to the user the
 * reloads read it as (the daemon's privilege drop may have run already):
 * by descriptor, never through a link, only a file of root's. */
static void
give_keyseed(const char *path, uid_t uid, gid_t gid)
{
	char *copy = estrdup(path);
	char *seed = esprintf("%s/keyseed", dirname(copy));
	struct stat st;
	int fd = open(seed, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    st.st_uid == 0) {
		int rc = fchown(fd, uid, gid);
		(void)rc;       /* a failure shows at the next reload, which cannot read it */
	}
	if (fd >= 0)
		close(fd);
	free(seed);
	free(copy);
}

static int
drop_user(const char *path, const char *user, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (user && *user) {
		struct passwd *pw = getpwnam(user);
		if (pw && getuid() == 0)
			give_keyseed(path, pw->pw_uid, pw->pw_gid);
		if (pw == NULL || initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
		    setuid(pw->pw_uid) < 0) {
			snprintf(err, errlen, "becoming %s: %s", user, pw ? strerror(errno) : "no such user");
			return -1;
		}
	}
	memset(d, 0, sizeof d);
	if (syscall(SYS_capset, &h, d) < 0) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	/* not dumpable: no core file and no ptrace by the same user */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "prctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

#if defined(__x86_64__)
#define KP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define KP_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef KP_ARCH
/* What the key process may call: its socketpairs, the key file (read,
 * rewritten by rename under an flock), memory, time, randomness, exit.
 * Anything else (socket, connect, execve, ptrace, open with a new
 * network) kills it; the network process logs that and stops. */
static const int allowed[] = {
	SYS_read, SYS_write, SYS_recvfrom, SYS_sendto, SYS_recvmsg, SYS_sendmsg, SYS_ppoll,
	SYS_openat, SYS_close, SYS_fstat, SYS_newfstatat, SYS_lseek, SYS_fsync, SYS_fdatasync,
	SYS_flock, SYS_renameat, SYS_unlinkat, SYS_fchmod, SYS_fcntl, SYS_ftruncate, SYS_getdents64,
	SYS_mmap, SYS_munmap, SYS_mprotect, SYS_brk, SYS_madvise, SYS_mremap, SYS_getrandom,
	SYS_clock_gettime, SYS_gettimeofday, SYS_getpid, SYS_gettid, SYS_futex, SYS_exit,
	SYS_exit_group, SYS_rt_sigreturn, SYS_rt_sigprocmask, SYS_sigaltstack, SYS_nanosleep,
	SYS_clock_nanosleep, SYS_sched_yield, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid,
	SYS_umask, SYS_statx, SYS_readlinkat, SYS_fchown, SYS_renameat2, SYS_prlimit64,
#ifdef SYS_poll
	SYS_poll, SYS_open, SYS_stat, SYS_lstat, SYS_rename, SYS_unlink, SYS_readlink,
	SYS_getrlimit,
#endif
};

static int
seccomp_on(char *err, size_t errlen)
{
	enum { NA = sizeof allowed / sizeof allowed[0] };
	struct sock_filter f[4 + 2 * NA + 1];
	size_t n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, KP_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < NA; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)allowed[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	struct sock_fprog prog = { (unsigned short)n, f };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(errno));
		return -1;
	}
	return 0;
}
#else
static int
seccomp_on(char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return 0;       /* no filter written for this architecture */
}
#endif

void
keyproc_main(const char *path, const char *user, int fd_async, int fd_sync, int ppid)
{
	struct keyproc *kp = keyproc_new(path);
	int fds[2] = { fd_async, fd_sync };
	char err[200];

	/* dies with the network process */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* a stop (systemd signals the whole cgroup, a terminal its process
	 * group) is the daemon's: it closes the pairs and the key process
	 * follows, so its death never reads as a crash */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (getppid() != ppid)
		_exit(1);       /* the daemon died before PDEATHSIG was set */
	write_file_tmp_id(ppid);
	close_others(fd_async, fd_sync);
	/* read as root, as before the split; reloads read as grid.user */
	kp->first_ok = keyproc_load(kp, kp->first_err, sizeof kp->first_err);
	kp->fd = fd_sync;
	/* its Ed448 work yields the CPU to the network process's loop:
	 * DHCP and HTTP answer first when both want a core */
	(void)setpriority(PRIO_PROCESS, 0, KP_NICE);
	if (drop_user(path, user, err, sizeof err) < 0 || seccomp_on(err, sizeof err) < 0) {
		kp_log(kp, LOG_ERR, "key process: %s", err);
		_exit(1);
	}
	int rc = keyproc_serve(kp, fds, 2);
	keyproc_free(kp);
	/* _exit: no atexit handlers (a leak check's ptrace is not allowed) */
	_exit(rc == 0 ? 0 : 1);
}
