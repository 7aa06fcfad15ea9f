/* authflood: dp9ik logins as fast as one source sends them, for the
 * limit tests (tests/integration/auth_limits.sh).
 *
 *   authflood [-z] [-b SOURCE] HOST PORT USER PASSWORD N
 *
 * N times, each on its own connection: AuthPAK with USER as authid,
 * hostid and uid (a terminal getting a ticket to itself) and PASSWORD's
 * keys (-z: all-zero Y's, the identity, instead of ours), then AuthTreq
 * for the same. One line per attempt: "ok" when the tickets
 * came, "bad password" when they came but do not open under PASSWORD's
 * PAK key, "autherr: REASON" for an AuthErr at either step, "closed" when
 * the server closed without one. -b: connect from the local IPv4
 * address SOURCE. Exit status 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/authkey.h"
#include "auth/authmsg.h"
#include "auth/authpak.h"

static void __attribute__((noreturn))
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "authflood: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

#include "tool_net.h"

static const char *source;

/* dial, from source when one is given. */
static int
dial_from(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in me = { .sin_family = AF_INET };
	int fd, one = 1;

	if (source == NULL)
		return dial(host, port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    inet_pton(AF_INET, source, &me.sin_addr) != 1)
		die("bad address %s", host);
	if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0)
		die("bind: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("connect: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static bool
recv_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = read(fd, p, n);
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* AuthOK and n bytes: 1; AuthErr: 0 with its reason; else -1. */
static int
answer(int fd, uint8_t *buf, size_t n, char err[AUTH_AERRLEN])
{
	uint8_t t;

	if (!recv_all(fd, &t, 1))
		return -1;
	if (t == AuthErr) {
		if (!recv_all(fd, (uint8_t *)err, AUTH_AERRLEN))
			return -1;
		err[AUTH_AERRLEN - 1] = 0;
		return 0;
	}
	return t == AuthOK && recv_all(fd, buf, n) ? 1 : -1;
}

static const char *
attempt(const char *host, int port, const char *user, struct authkey *k, bool zero)
{
	static char line[AUTH_AERRLEN + 16];
	struct auth_ticketreq tr;
	struct authpak_priv priv[2];
	struct auth_ticket t;
	uint8_t buf[1024];
	char err[AUTH_AERRLEN];
	int fd = dial_from(host, port), rc;

	memset(&tr, 0, sizeof tr);
	snprintf(tr.uid, sizeof tr.uid, "%s", user);
	snprintf(tr.authid, sizeof tr.authid, "%s", user);
	snprintf(tr.hostid, sizeof tr.hostid, "%s", user);
	tr.type = AuthPAK;
	authmsg_treq_encode(&tr, buf);
	for (int i = 0; i < 2; i++)
		if (!authpak_new(&priv[i], k, buf + AUTH_TICKREQLEN + i * AUTH_PAKYLEN, true))
			die("authpak_new failed%s", "");
	if (zero)
		memset(buf + AUTH_TICKREQLEN, 0, 2 * AUTH_PAKYLEN);
	send_all(fd, buf, AUTH_TICKREQLEN + 2 * AUTH_PAKYLEN);
	if ((rc = answer(fd, buf, 2 * AUTH_PAKYLEN, err)) <= 0)
		goto out;
	struct authkey hk = *k;
	bool opened = authpak_finish(&priv[0], k, buf) &&
	    authpak_finish(&priv[1], &hk, buf + AUTH_PAKYLEN);
	tr.type = AuthTreq;
	authmsg_treq_encode(&tr, buf);
	send_all(fd, buf, AUTH_TICKREQLEN);
	if ((rc = answer(fd, buf, 2 * AUTH_TICKETLEN1, err)) <= 0)
		goto out;
	close(fd);
	/* Tc, under the hostid's PAK key */
	int ok = opened && authmsg_ticket_decode(buf, AUTH_TICKETLEN1, hk.pakkey, false, &t) ==
	    AUTH_TICKETLEN1;
	authkey_wipe(&hk);
	if (ok)
		return "ok";
	return "bad password";
out:
	close(fd);
	if (rc == 0) {
		snprintf(line, sizeof line, "autherr: %s", err);
		return line;
	}
	return "closed";
}

int
main(int argc, char **argv)
{
	bool zero = false;
	int ch;
	struct authkey k;

	while ((ch = getopt(argc, argv, "zb:")) != -1) {
		if (ch == 'z')
			zero = true;
		else if (ch == 'b')
			source = optarg;
		else
			die("usage: authflood [-z] [-b SOURCE] HOST PORT USER PASSWORD N%s", "");
	}
	argc -= optind;
	argv += optind;
	if (argc != 5)
		die("usage: authflood [-z] [-b SOURCE] HOST PORT USER PASSWORD N%s", "");
	if (!authkey_from_password(&k, argv[3]) || !authkey_pakhash(&k, argv[2]))
		die("cannot derive the keys%s", "");
	for (int i = 0, n = atoi(argv[4]); i < n && i < 10000; i++) {
		printf("%s\n", attempt(argv[0], atoi(argv[1]), argv[2], &k, zero));
		fflush(stdout);
	}
	authkey_wipe(&k);
	return 0;
}
