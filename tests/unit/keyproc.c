/* The key process's message codec (keymsg.c) and its loop (keyproc.c)
 * over a real SOCK_SEQPACKET socketpair: garbage, truncated, oversized and
 * out-of-turn requests are refused (KM_REFUSED, a logged line, the
 * refused counter) and the loop keeps serving; a valid AuthTreq gets
 * tickets that open under the user's key; KM_END forgets a session. */
#include "auth/authkey.h"
#include "auth/authmsg.h"
#include "auth/keymsg.h"
#include "auth/keyproc.h"
#include "unit.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int fd;

static void
sendraw(const void *p, size_t n)
{
	CHECK(send(fd, p, n, 0) == (ssize_t)n, "sent %zu bytes", n);
}

static void
sendmsg_(uint8_t type, uint32_t tag, const void *body, size_t len)
{
	uint8_t b[KMSG_MAX];
	size_t n = kmsg_encode(b, sizeof b, type, tag, body, len);
	if (n)
		sendraw(b, n);
	else
		CHECK(0, "encode type %u len %zu", type, len);
}

/* The next reply that is not a log line; *logs counts the log lines. */
static bool
next(uint8_t *buf, struct kmsg *m, int *logs)
{
	const char *why;
	for (int i = 0; i < 8; i++) {
		ssize_t n = recv(fd, buf, KMSG_MAX, 0);
		if (n <= 0 || !kmsg_decode(buf, (size_t)n, true, m, &why))
			return false;
		if (m->type != KM_LOG)
			return true;
		if (logs)
			(*logs)++;
	}
	return false;
}

static void
expect_refused(const char *what, uint32_t tag)
{
	uint8_t buf[KMSG_MAX];
	struct kmsg m;
	int logs = 0;
	bool got = next(buf, &m, &logs);
	CHECK(got && m.type == KM_REFUSED && m.tag == tag && logs == 1,
	    "%s: refused (tag %u) and logged: %.*s", what, tag, got ? (int)m.len : 0,
	    got ? (const char *)m.body : "");
}

static void
codec(void)
{
	uint8_t b[KMSG_MAX + 16], body[KMSG_MAXBODY + 8] = { 0 };
	struct kmsg m;
	const char *why;

	CHECK(kmsg_encode(b, sizeof b, KM_TREQ, 7, body, 1 + AUTH_TICKREQLEN) == KMSG_HDR + 142,
	    "codec: a Ticketreq message is 8 + 142 bytes");
	CHECK(kmsg_decode(b, KMSG_HDR + 142, false, &m, &why) && m.type == KM_TREQ && m.tag == 7 &&
	    m.len == 142, "codec: and decodes to its type, tag and body");
	CHECK(!kmsg_decode(b, KMSG_HDR + 142, true, &m, &why), "codec: a request is not a reply");
	CHECK(!kmsg_decode(b, KMSG_HDR + 141, false, &m, &why) && strstr(why, "length"),
	    "codec: a truncated one is refused (%s)", why);
	CHECK(!kmsg_decode(b, 5, false, &m, &why), "codec: shorter than a header is refused");
	CHECK(kmsg_encode(b, sizeof b, KM_TREQ, 7, body, 100) == 0, "codec: a Ticketreq of 100 bytes is not encoded");
	CHECK(kmsg_encode(b, sizeof b, KM_YS, 7, body, 57) == 0, "codec: Y's of 57 bytes are not encoded");
	CHECK(kmsg_encode(b, sizeof b, KM_YS, 7, body, 3 * AUTH_PAKYLEN) == 0, "codec: three Y's are not");
	CHECK(kmsg_encode(b, sizeof b, KM_LOG, 0, body, KMSG_MAXBODY) == 0, "codec: an oversized log line is not");
	b[0] = 99;
	CHECK(!kmsg_decode(b, KMSG_HDR + 142, false, &m, &why) && strstr(why, "unknown"),
	    "codec: an unknown type is refused (%s)", why);
}

int
main(void)
{
	char dir[] = "/tmp/gb-keyproc-XXXXXX", path[64], line[256];
	int sv[2];

	codec();
	CHECK(mkdtemp(dir) != NULL, "a temporary directory");
	snprintf(path, sizeof path, "%s/keys", dir);
	CHECK(authkey_line(line, sizeof line, "glenda", "gridboot-test", true), "glenda's key line");
	FILE *f = fopen(path, "w");
	fprintf(f, "%s\n", line);
	fclose(f);
	chmod(path, 0600);

	struct keyproc *kp = keyproc_new(path);
	char err[200];
	CHECK(keyproc_load(kp, err, sizeof err), "the key process loads the key file");
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "a SOCK_SEQPACKET socketpair");
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		int rc = keyproc_serve(kp, &sv[1], 1);
		/* the refused count is the exit status: the parent checks it */
		_exit(rc == 0 ? (int)keyproc_refused(kp) : 255);
	}
	close(sv[1]);
	fd = sv[0];

	/* garbage, truncated, oversized, wrong sizes, out of turn */
	sendraw("\x01\x02\x03", 3);
	expect_refused("3 bytes of garbage", 0);
	uint8_t b[KMSG_MAX + 512] = { 0 };
	size_t n = kmsg_encode(b, sizeof b, KM_TREQ, 11, b + 600, 1 + AUTH_TICKREQLEN);
	sendraw(b, n - 20);
	expect_refused("a Ticketreq cut short", 11);
	memset(b, 0, sizeof b);
	b[0] = KM_TREQ;
	b[2] = (KMSG_MAX + 100) & 0xff;
	b[3] = (KMSG_MAX + 100) >> 8;
	b[4] = 12;
	sendraw(b, KMSG_MAX + 100 + KMSG_HDR);
	expect_refused("an oversized message", 12);
	b[0] = KM_YS; b[2] = 57; b[3] = 0; b[4] = 13;
	sendraw(b, KMSG_HDR + 57);
	expect_refused("Y's of 57 bytes", 13);
	b[0] = KM_LOADED; b[2] = 5; b[4] = 14;
	sendraw(b, KMSG_HDR + 5);
	expect_refused("a reply's type sent as a request", 14);
	b[0] = 200; b[2] = 0; b[4] = 15;
	sendraw(b, KMSG_HDR);
	expect_refused("an unknown type", 15);
	uint8_t ys[AUTH_PAKYLEN] = { 0 };
	sendmsg_(KM_YS, 16, ys, sizeof ys);
	expect_refused("Y's with no AuthPAK before them", 16);

	/* then a real AuthTreq (DES, p9sk1): the tickets open under glenda's key */
	struct auth_ticketreq tr;
	memset(&tr, 0, sizeof tr);
	tr.type = AuthTreq;
	strcpy(tr.authid, "glenda");
	strcpy(tr.hostid, "glenda");
	strcpy(tr.uid, "glenda");
	memcpy(tr.chal, "01234567", 8);
	uint8_t body[1 + AUTH_TICKREQLEN];
	body[0] = KMF_DES | KMF_SPEAKS;
	authmsg_treq_encode(&tr, body + 1);
	sendmsg_(KM_TREQ, 17, body, sizeof body);
	uint8_t buf[KMSG_MAX];
	struct kmsg m;
	bool got = next(buf, &m, NULL);
	CHECK(got && m.type == KM_AREPLY && m.tag == 17 && m.len > KM_AREPLY_HDR &&
	    m.body[KM_AREPLY_HDR] == AuthOK, "a valid AuthTreq after all that: AuthOK");
	uint8_t des[AUTH_DESKEYLEN];
	struct auth_ticket t;
	authkey_passtodes(des, "gridboot-test");
	CHECK(got && authmsg_ticket_decode(m.body + KM_AREPLY_HDR + 1, m.len - KM_AREPLY_HDR - 1, des,
	    true, &t) > 0 && t.num == AuthTc && strcmp(t.cuid, "glenda") == 0,
	    "its client ticket opens under glenda's DES key");

	/* KM_END: the session is gone; its Y's are out of turn */
	sendmsg_(KM_END, 17, NULL, 0);
	sendmsg_(KM_YS, 17, ys, sizeof ys);
	expect_refused("after KM_END the tag has no session", 17);

	close(fd);
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 8,
	    "EOF ends the loop; it counted 8 refusals (%d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	keyproc_free(kp);
	unlink(path);
	snprintf(line, sizeof line, "%s/keyseed", dir);
	unlink(line);
	rmdir(dir);
	return UNIT_DONE();
}
