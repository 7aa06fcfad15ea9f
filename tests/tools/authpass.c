/* authpass: the client side of a Plan 9 password change (AuthPass), as
 * 9front's auth/passwd does it, on the server's own codecs; for the tests.
 *
 *   authpass [-1] [-s] HOST PORT USER PASSWORD [OLD NEW]...
 *
 * dp9ik (default): AuthPAK for USER alone with PASSWORD's keys, then
 * AuthPass; the AuthTp ticket comes in form 1 under the PAK key. -1: no
 * PAK, the ticket comes in DES under PASSWORD's DES key (p9sk1). If the
 * ticket does not open, prints "bad password" and exits 1, as passwd does.
 * Then one Passwordreq per OLD NEW pair (NEW "" keeps the password; -s
 * sets changesecret), each answered by a line "ok" or "refused: REASON".
 * PASSWORD opens the ticket and OLD is what the request claims, so a test
 * can send a wrong OLD with a ticket it could open. Exit status 0 when the
 * last request was accepted (or there was none and the ticket opened). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/authkey.h"
#include "auth/authmsg.h"
#include "auth/authpak.h"

static void __attribute__((noreturn))
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "authpass: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

#include "tool_net.h"

static void
recv_all(int fd, uint8_t *p, size_t n, const char *what)
{
	while (n > 0) {
		ssize_t k = read(fd, p, n);
		if (k <= 0)
			die("the server closed the connection while we waited for %s", what);
		p += k;
		n -= (size_t)k;
	}
}

/* _asrdresp: AuthOK and then n bytes, or AuthErr's reason in err. */
static bool
answer(int fd, uint8_t *buf, size_t n, char err[AUTH_AERRLEN], const char *what)
{
	uint8_t t;

	recv_all(fd, &t, 1, what);
	if (t == AuthErr) {
		recv_all(fd, (uint8_t *)err, AUTH_AERRLEN, what);
		err[AUTH_AERRLEN - 1] = 0;
		return false;
	}
	if (t != AuthOK)
		die("the server answered %s with neither AuthOK nor AuthErr", what);
	recv_all(fd, buf, n, what);
	return true;
}

int
main(int argc, char **argv)
{
	bool dp9ik = true, secret = false;
	int ch;

	while ((ch = getopt(argc, argv, "1s")) != -1) {
		if (ch == '1')
			dp9ik = false;
		else if (ch == 's')
			secret = true;
		else
			die("usage: authpass [-1] [-s] HOST PORT USER PASSWORD [OLD NEW]...%s", "");
	}
	argc -= optind;
	argv += optind;
	if (argc < 4 || (argc - 4) % 2 != 0)
		die("usage: authpass [-1] [-s] HOST PORT USER PASSWORD [OLD NEW]...%s", "");
	const char *user = argv[2], *pw = argv[3];
	int fd = dial(argv[0], atoi(argv[1]));
	struct auth_ticketreq tr;
	struct authkey k;
	char err[AUTH_AERRLEN];
	uint8_t buf[512];

	if (!authkey_from_password(&k, pw) || !authkey_pakhash(&k, user))
		die("cannot derive the keys%s", "");
	memset(&tr, 0, sizeof tr);
	snprintf(tr.uid, sizeof tr.uid, "%s", user);
	if (dp9ik) {
		struct authpak_priv priv;
		tr.type = AuthPAK;
		authmsg_treq_encode(&tr, buf);
		if (!authpak_new(&priv, &k, buf + AUTH_TICKREQLEN, true))
			die("authpak_new failed%s", "");
		send_all(fd, buf, AUTH_TICKREQLEN + AUTH_PAKYLEN);
		if (!answer(fd, buf, AUTH_PAKYLEN, err, "AuthPAK"))
			die("AuthPAK: remote: %s", err);
		if (!authpak_finish(&priv, &k, buf))
			die("AuthPAK: the server's Y does not decode%s", "");
	}
	tr.type = AuthPass;
	authmsg_treq_encode(&tr, buf);
	send_all(fd, buf, AUTH_TICKREQLEN);
	/* the ticket: 8 bytes tell the form (_asgetresp's convM2T loop) */
	if (!answer(fd, buf, 8, err, "AuthPass")) {
		printf("error: remote: %s\n", err);
		return 1;
	}
	size_t tlen = authmsg_form1_kind(buf, 8) >= 0 ? AUTH_TICKETLEN1 : AUTH_TICKETLEN0;
	recv_all(fd, buf + 8, tlen - 8, "the ticket");
	struct auth_ticket t;
	if (authmsg_ticket_decode(buf, tlen, dp9ik ? k.pakkey : k.des, !dp9ik, &t) != (int)tlen
	    || t.num != AuthTp || strcmp(t.cuid, user) != 0) {
		printf("bad password\n");
		return 1;
	}
	printf("ticket: AuthTp for %s (%s)\n", t.cuid, t.form ? "form 1" : "DES");
	fflush(stdout);
	authkey_wipe(&k);

	int rc = 0;
	for (int i = 4; i < argc; i += 2) {
		struct auth_passreq pr;
		memset(&pr, 0, sizeof pr);
		pr.num = AuthPass;
		snprintf(pr.old, sizeof pr.old, "%s", argv[i]);
		snprintf(pr.new, sizeof pr.new, "%s", argv[i + 1]);
		pr.changesecret = secret;
		if (secret)
			snprintf(pr.secret, sizeof pr.secret, "%s", argv[i + 1]);
		size_t n = authmsg_passreq_encode(&pr, &t, (uint32_t)(i - 4) / 2, buf, sizeof buf);
		if (n == 0)
			die("cannot encode the Passwordreq%s", "");
		send_all(fd, buf, n);
		if (answer(fd, buf, 0, err, "the Passwordreq")) {
			printf("ok\n");
			rc = 0;
		} else {
			printf("refused: %s\n", err);
			rc = 1;
		}
		fflush(stdout);
	}
	close(fd);
	return rc;
}
