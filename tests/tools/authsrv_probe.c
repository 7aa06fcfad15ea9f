/* authsrv_probe: a standalone auth server (tcp 567) and the start of a cpu
 * server (tcp 17019: p9any, dp9ik server role, then TLS-PSK) on 127.0.0.1,
 * to run a real dp9ik client (Debian's drawterm-9front) against
 * server/auth/ and server/curve/. Not part of gridbootd: blocking I/O, one
 * process per connection.
 *
 *   authsrv_probe AUTHPORT CPUPORT DOM AUTHID AUTHPW USER USERPW TRANSCRIPT
 *   PASS=USERPW drawterm -G -s 'tcp!127.0.0.1!1' -a 'tcp!127.0.0.1!AUTHPORT' \
 *       -h 'tcp!127.0.0.1!CPUPORT' -u USER -c 'echo hi'
 * (-s: drawterm first tries secstore on the auth server's address; point
 * it at a closed port.) Not part of make test any more: the live check is
 * tests/integration/auth_drawterm.sh against gridbootd itself. Kept as the
 * recorder of tests/unit/auth_drawterm_transcript.h, which needs every
 * random draw logged (gridbootd logs none).
 *
 * Every byte each side sends and every random byte the servers draw goes
 * to TRANSCRIPT, so tests/unit/auth_drawterm.c can replay the exchange.
 * The cpu side stops after the TLS handshake and the script drawterm sends
 * (it does not serve the namespace). Exit status 0 when the cpu side got
 * that far. Build:
 *   cc -std=c11 -D_GNU_SOURCE -Iserver -o authsrv_probe tests/tools/authsrv_probe.c \
 *      build-san/libgridboot.a -fsanitize=address,undefined -lssl -lcrypto */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "auth/authkey.h"
#include "auth/authmsg.h"
#include "auth/authpak.h"
#include "auth/authsrv.h"

static FILE *tx;
static const char *conn_name = "?";

static void
tx_hex(const char *what, const uint8_t *p, size_t n)
{
	fprintf(tx, "%s %s ", conn_name, what);
	for (size_t i = 0; i < n; i++)
		fprintf(tx, "%02x", p[i]);
	fprintf(tx, "\n");
	fflush(tx);
}

static bool
logged_rand(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	if (RAND_bytes(buf, (int)n) != 1)
		return false;
	tx_hex("rand", buf, n);
	return true;
}

static bool
readn(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	tx_hex("c2s", p, n);
	return true;
}

static bool
writen(int fd, const uint8_t *p, size_t n)
{
	tx_hex("s2c", p, n);
	return write(fd, p, n) == (ssize_t)n;
}

/* ---- auth server: the authsrv steps around a socket ---- */

static int
serve_auth(int fd, const struct auth_keyfile *kf)
{
	struct authsrv s;
	struct authsrv_reply r;
	uint8_t req[AUTH_TICKREQLEN], ys[2 * AUTH_PAKYLEN];

	authsrv_init(&s, kf, false, logged_rand, NULL);
	while (readn(fd, req, sizeof(req))) {
		authsrv_request(&s, req, &r);
		fprintf(stderr, "auth: request type %d -> %zu bytes%s\n", req[0], r.len,
		    r.close ? ", close" : "");
		if (r.len && !writen(fd, r.out, r.len))
			break;
		if (r.close)
			break;
		if (r.need) {
			if (r.need > sizeof(ys) || !readn(fd, ys, r.need))
				break;
			bool ok = authsrv_pak_ys(&s, ys, r.need);
			fprintf(stderr, "auth: PAK %s\n", ok ? "finished" : "FAILED");
			if (!ok)
				break;
		}
	}
	authsrv_wipe(&s);
	return 0;
}

/* ---- cpu server: p9any, dp9ik server role, TLS-PSK ---- */

static bool
read_cstr(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n < cap) {
		if (read(fd, buf + n, 1) != 1)
			return false;
		if (buf[n++] == 0) {
			tx_hex("c2s", (uint8_t *)buf, n);
			return true;
		}
	}
	return false;
}

static uint8_t psk[256];

static unsigned int
psk_cb(SSL *ssl, const char *identity, unsigned char *out, unsigned int max)
{
	(void)ssl;
	fprintf(stderr, "cpu: TLS PSK identity \"%s\"\n", identity);
	if (strcmp(identity, "p9secret") != 0 || max < sizeof(psk))
		return 0;
	memcpy(out, psk, sizeof(psk));
	return sizeof(psk);
}

static int
tls_part(int fd)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl;
	char buf[4096];
	int rc = 1;

	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, "PSK-CHACHA20-POLY1305:PSK-AES128-CBC-SHA256");
	SSL_CTX_set_psk_server_callback(ctx, psk_cb);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1) {
		fprintf(stderr, "cpu: TLS handshake FAILED\n");
		goto out;
	}
	fprintf(stderr, "cpu: TLS handshake done: %s %s\n", SSL_get_version(ssl), SSL_get_cipher(ssl));
	/* rcpu sends "%7ld\n" and then that many bytes of rc script */
	int n = 0, want = -1;
	while (n < (int)sizeof(buf) - 1 && (want < 0 || n < 8 + want)) {
		int got = SSL_read(ssl, buf + n, (int)sizeof(buf) - 1 - n);
		if (got <= 0)
			break;
		n += got;
		if (want < 0 && n >= 8)
			want = atoi(buf);
	}
	if (want > 0 && n >= 8 + want) {
		buf[n] = 0;
		fprintf(stderr, "cpu: script from the client (%d bytes):\n%s\n", want, buf + 8);
		rc = 0;
	} else {
		fprintf(stderr, "cpu: short script (%d bytes)\n", n);
	}
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return rc;
}

static int
serve_cpu(int fd, const char *dom, const char *authid, const char *authpw)
{
	char buf[256];
	uint8_t cchal[8], trb[AUTH_TICKREQLEN + AUTH_PAKYLEN], y[AUTH_PAKYLEN], x[AUTH_PAKSLEN];
	uint8_t tkt[AUTH_TICKETLEN1 + AUTH_AUTHENTLEN1], rand2[64], out[AUTH_AUTHENTLEN1];
	struct auth_ticketreq tr;
	struct auth_ticket t;
	struct auth_authenticator a;
	struct authkey k;
	struct authpak_priv p;
	int m;

	snprintf(buf, sizeof(buf), "v.2 dp9ik@%s p9sk1@%s", dom, dom);
	if (!writen(fd, (uint8_t *)buf, strlen(buf) + 1) || !read_cstr(fd, buf, sizeof(buf)))
		return 1;
	fprintf(stderr, "cpu: p9any choice \"%s\"\n", buf);
	if (strncmp(buf, "dp9ik ", 6) != 0 || !writen(fd, (const uint8_t *)"OK", 3))
		return 1;
	if (!readn(fd, cchal, sizeof(cchal)))
		return 1;

	/* factotum's SHavePAKreq: AuthPAK ticket request + our Y (client role) */
	authkey_from_password(&k, authpw);
	authkey_pakhash(&k, authid);
	memset(&tr, 0, sizeof(tr));
	tr.type = AuthPAK;
	strcpy(tr.authid, authid);
	strcpy(tr.authdom, dom);
	logged_rand(NULL, tr.chal, sizeof(tr.chal));
	authmsg_treq_encode(&tr, trb);
	if (!authpak_pick_x(x, logged_rand, NULL))
		return 1;
	authpak_new_x(&p, &k, x, trb + AUTH_TICKREQLEN, true);
	if (!writen(fd, trb, sizeof(trb)))
		return 1;

	/* SNeedPAKy, SNeedTicket */
	if (!readn(fd, y, sizeof(y)))
		return 1;
	if (!authpak_finish(&p, &k, y)) {
		fprintf(stderr, "cpu: PAK FAILED (Y does not decode)\n");
		return 1;
	}
	fprintf(stderr, "cpu: PAK finished\n");
	if (!readn(fd, tkt, sizeof(tkt)))
		return 1;
	m = authmsg_ticket_decode(tkt, sizeof(tkt), k.pakkey, false, &t);
	if (m <= 0 || t.num != AuthTs || memcmp(t.chal, tr.chal, 8) != 0) {
		fprintf(stderr, "cpu: ticket does not open (m=%d num=%d)\n", m, t.num);
		return 1;
	}
	fprintf(stderr, "cpu: ticket Ts opened: cuid=%s suid=%s\n", t.cuid, t.suid);
	if (authmsg_auth_decode(tkt + m, sizeof(tkt) - m, &t, &a) <= 0 || a.num != AuthAc
	    || memcmp(a.chal, tr.chal, 8) != 0) {
		fprintf(stderr, "cpu: authenticator does not open\n");
		return 1;
	}
	fprintf(stderr, "cpu: authenticator Ac opened\n");
	memcpy(rand2, a.rand, 32);
	logged_rand(NULL, rand2 + 32, 32);
	a.num = AuthAs;
	memcpy(a.chal, cchal, 8);
	memcpy(a.rand, rand2 + 32, 32);
	size_t n = authmsg_auth_encode(&a, &t, 0, out, sizeof(out));
	if (n == 0 || !writen(fd, out, n))
		return 1;

	/* establish(): the 256-byte secret that keys TLS-PSK */
	authkey_hkdf(rand2, sizeof(rand2), "Plan 9 session secret", t.key, AUTH_NONCELEN, psk, sizeof(psk));
	tx_hex("secret", psk, sizeof(psk));
	authkey_wipe(&k);
	return tls_part(fd);
}

static int
listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		perror("bind/listen");
		exit(2);
	}
	return fd;
}

int
main(int argc, char **argv)
{
	char line[256], keys[1024], err[128];
	uint8_t secret[32];
	struct auth_keyfile kf;

	if (argc != 9) {
		fprintf(stderr, "usage: authsrv_probe authport cpuport dom authid authpw user userpw transcript\n");
		return 2;
	}
	tx = fopen(argv[8], "w");
	if (!tx)
		return 2;
	keys[0] = 0;
	authkey_line(line, sizeof(line), argv[4], argv[5], false);
	strcat(keys, line);
	authkey_line(line, sizeof(line), argv[6], argv[7], false);
	strcat(keys, line);
	RAND_bytes(secret, sizeof(secret));
	if (!authkey_load(&kf, keys, secret, err, sizeof(err))) {
		fprintf(stderr, "keys: %s\n", err);
		return 2;
	}
	int afd = listen_on(atoi(argv[1])), cfd = listen_on(atoi(argv[2]));
	fprintf(stderr, "probe: auth on 127.0.0.1:%s, cpu on 127.0.0.1:%s\n", argv[1], argv[2]);
	signal(SIGPIPE, SIG_IGN);
	alarm(60);
	pid_t cpid = 0;
	for (;;) {
		struct pollfd pf[2] = { { afd, POLLIN, 0 }, { cfd, POLLIN, 0 } };
		int st;
		if (poll(pf, 2, 200) < 0 && errno != EINTR)
			return 2;
		/* the cpu connection decides the outcome; auth ones come and go */
		if (cpid > 0 && waitpid(cpid, &st, WNOHANG) == cpid) {
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			authkey_free(&kf);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		}
		for (int i = 0; i < 2; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			int c = accept(pf[i].fd, NULL, NULL);
			if (c < 0)
				continue;
			pid_t pid = fork();
			if (pid == 0) {
				conn_name = i == 0 ? "auth" : "cpu";
				int rc = i == 0 ? serve_auth(c, &kf) : serve_cpu(c, argv[3], argv[4], argv[5]);
				fprintf(stderr, "%s: connection done, status %d\n", conn_name, rc);
				_exit(rc);
			}
			close(c);
			if (i == 1)
				cpid = pid;
		}
	}
}
