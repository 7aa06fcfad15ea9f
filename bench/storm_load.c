/* A boot storm's clients in one thread (bench/storm.sh): N simulated PXE
 * machines at once, each running the chain tests/storm.py runs (DHCP
 * relayed from 127.2.X.Y:67, TFTP of the loader named in the ACK at
 * blksize 1468 in lock-step, HTTP GET of the kernel), with the same
 * arguments and the same JSON line at the end, but driven by one epoll
 * loop instead of a Python thread per machine: the Python clients spent
 * 4.5-9.8 ms of CPU a chain, more than either server, so the storm
 * measured them as much as the servers. Known machines only (no enroll).
 *   storm_load N HTTP_PORT TFTP_PORT DHCP_PORT LOADER LOADER_SIZE KERNEL KERNEL_SIZE
 *              [MARK_AT MARK_FILE] [MAC_BYTE]
 * Every step is retried on silence (40 tries a step, 1 s each; 5 s for
 * HTTP); the whole storm gives up after ten minutes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STEP_TRIES 40
#define BLKSIZE 1468

enum phase { P_DISCOVER, P_REQUEST, P_TFTP, P_HTTP, P_DONE, P_FAILED };
enum kind { K_DHCP = 1, K_TFTP = 2, K_HTTP = 3 };

struct client {
	int n;
	uint8_t mac[6];
	uint32_t giaddr;            /* host order */
	enum phase phase;
	int fd;                     /* the socket of the step under way */
	int tries;
	uint32_t xid;
	uint32_t offered, sid, ip;
	char file[128];
	double t0, t1, deadline;
	/* TFTP */
	struct sockaddr_in peer;
	int have_peer;
	unsigned block;
	long got;
	/* HTTP */
	int sent;
	long body, hdr_end;
	char head[1024];
	int headlen;
	int status;
	char error[80];
	uint32_t ips[8];
	int nips;
};

static struct {
	int n, http, tftp, dhcp, mark_at;
	const char *loader, *kernel, *mark_file;
	long loader_size, kernel_size;
	int macbyte;
} A;

static struct client *C;
static int ep, acked, finished;

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct sockaddr_in
server(int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return s;
}

/* A non-blocking socket of type bound to ip:port (host order; port 0:
 * any), or -1 (nothing left open). */
static int
bound_socket(int type, uint32_t ip, uint16_t port)
{
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (fd < 0)
		return -1;
	me.sin_addr.s_addr = htonl(ip);
	/* Each machine is its own relay on 127.2.X.Y:67, beside the server. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
watch(struct client *c, int fd, enum kind k, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)k << 32 | (uint32_t)c->n };
	c->fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("storm_load: epoll_ctl");
		exit(2);
	}
}

static void
drop_fd(struct client *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
}

static void
fail(struct client *c, const char *why)
{
	drop_fd(c);
	snprintf(c->error, sizeof c->error, "%s", why);
	c->phase = P_FAILED;
	finished++;
}

/* ---- DHCP: the client is its own relay ---- */

static void
dhcp_send(struct client *c, int type)
{
	uint8_t p[400] = { 1, 1, 6, 1 };
	size_t o = 240;
	static const char vc[] = "PXEClient:Arch:00000:UNDI:002001";
	uint32_t v;

	v = htonl(c->xid), memcpy(p + 4, &v, 4);
	v = htonl(c->giaddr), memcpy(p + 24, &v, 4);
	memcpy(p + 28, c->mac, 6);
	memcpy(p + 236, "\x63\x82\x53\x63", 4);
	p[o++] = 53, p[o++] = 1, p[o++] = (uint8_t)type;
	p[o++] = 93, p[o++] = 2, p[o++] = 0, p[o++] = 0;
	p[o++] = 60, p[o++] = sizeof vc - 1;
	memcpy(p + o, vc, sizeof vc - 1), o += sizeof vc - 1;
	if (type == 3) {
		p[o++] = 50, p[o++] = 4, v = htonl(c->offered), memcpy(p + o, &v, 4), o += 4;
		if (c->sid)
			p[o++] = 54, p[o++] = 4, v = htonl(c->sid), memcpy(p + o, &v, 4), o += 4;
	}
	p[o++] = 55, p[o++] = 4, p[o++] = 1, p[o++] = 3, p[o++] = 66, p[o++] = 67;
	p[o++] = 255;
	struct sockaddr_in to = server(A.dhcp);
	sendto(c->fd, p, o, 0, (struct sockaddr *)&to, sizeof to);
	c->deadline = now() + 1.0;
}

static void
dhcp_try(struct client *c)
{
	if (c->tries++ >= STEP_TRIES) {
		fail(c, "dhcp: no lease");
		return;
	}
	c->xid = (uint32_t)c->n << 12 | (uint32_t)c->tries;
	c->phase = P_DISCOVER;
	dhcp_send(c, 1);
}

static void
dhcp_start(struct client *c)
{
	int fd = bound_socket(SOCK_DGRAM, c->giaddr, 67);

	if (fd < 0) {
		perror("storm_load: bind 127.2.X.Y:67");
		exit(2);
	}
	watch(c, fd, K_DHCP, EPOLLIN);
	c->tries = 0;
	dhcp_try(c);
}

static void tftp_start(struct client *c);

static void
dhcp_readable(struct client *c)
{
	uint8_t p[2048];
	ssize_t n;

	while ((n = recv(c->fd, p, sizeof p, 0)) >= 0) {
		uint32_t xid, yi;
		int type = 0;
		uint32_t sid = 0;
		char file[128] = "";
		if (n < 244 || memcmp(p + 236, "\x63\x82\x53\x63", 4) != 0)
			continue;
		memcpy(&xid, p + 4, 4), memcpy(&yi, p + 16, 4);
		if (ntohl(xid) != c->xid)
			continue;
		memcpy(file, p + 108, 127);
		for (ssize_t i = 240; i + 1 < n && p[i] != 255;) {
			if (p[i] == 0) {
				i++;
				continue;
			}
			uint8_t code = p[i], len = p[i + 1];
			if (i + 2 + len > n)
				break;
			if (code == 53 && len >= 1)
				type = p[i + 2];
			else if (code == 54 && len == 4)
				memcpy(&sid, p + i + 2, 4), sid = ntohl(sid);
			else if (code == 67) {              /* dnsmasq names the loader here */
				size_t k = len < sizeof file - 1 ? len : sizeof file - 1;
				memcpy(file, p + i + 2, k), file[k] = '\0';
			}
			i += 2 + len;
		}
		if (c->phase == P_DISCOVER && type == 2) {
			c->offered = ntohl(yi), c->sid = sid;
			c->phase = P_REQUEST;
			dhcp_send(c, 3);
		} else if (c->phase == P_REQUEST && type == 5 && ntohl(yi) == c->offered) {
			c->ip = c->offered;
			if (c->nips < 8)
				c->ips[c->nips++] = c->ip;
			snprintf(c->file, sizeof c->file, "%s", file);
			if (++acked == A.mark_at && A.mark_file[0])
				close(open(A.mark_file, O_WRONLY | O_CREAT, 0644));
			drop_fd(c);
			tftp_start(c);
			return;
		} else if (c->phase == P_REQUEST && type == 6) {
			dhcp_try(c);                        /* a NAK: start over */
		}
	}
}

/* A step's next try on a socket of its own: the last one's dropped, the
 * tries counted (gave_up: the client failed with it), a new socket bound
 * to the client's address. -1 when the client has failed. */
static int
retry_socket(struct client *c, int type, const char *gave_up, const char *no_socket)
{
	int fd;

	drop_fd(c);
	if (c->tries++ >= STEP_TRIES) {
		fail(c, gave_up);
		return -1;
	}
	if ((fd = bound_socket(type, c->ip, 0)) < 0)
		fail(c, no_socket);
	return fd;
}

/* ---- TFTP: lock-step, blksize 1468 ---- */

static void
tftp_try(struct client *c)
{
	char rrq[300];
	int fd, len;
	struct sockaddr_in to = server(A.tftp);

	if ((fd = retry_socket(c, SOCK_DGRAM, "tftp: loader not fetched", "tftp: no socket")) < 0)
		return;
	watch(c, fd, K_TFTP, EPOLLIN);
	len = snprintf(rrq, sizeof rrq, "%c%c%s%coctet%cblksize%c%d%c", 0, 1, c->file, 0, 0, 0, BLKSIZE, 0);
	sendto(fd, rrq, (size_t)len, 0, (struct sockaddr *)&to, sizeof to);
	c->have_peer = 0, c->block = 0, c->got = 0;
	c->deadline = now() + 1.0;
}

static void
tftp_start(struct client *c)
{
	c->phase = P_TFTP;
	c->tries = 0;
	tftp_try(c);
}

static void http_start(struct client *c);

static void
tftp_ack(struct client *c, unsigned b)
{
	uint8_t a[4] = { 0, 4, (uint8_t)(b >> 8), (uint8_t)b };
	sendto(c->fd, a, 4, 0, (struct sockaddr *)&c->peer, sizeof c->peer);
}

static void
tftp_readable(struct client *c)
{
	uint8_t p[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t n;

	while ((n = recvfrom(c->fd, p, sizeof p, 0, (struct sockaddr *)&from, &fl)) >= 0) {
		fl = sizeof from;
		if (!c->have_peer)
			c->peer = from, c->have_peer = 1;
		if (from.sin_port != c->peer.sin_port || n < 4)
			continue;
		unsigned op = (unsigned)p[0] << 8 | p[1];
		if (op == 6) {                          /* OACK */
			tftp_ack(c, 0);
			c->deadline = now() + 1.0;
			continue;
		}
		if (op != 3) {                          /* ERROR: ask again */
			tftp_try(c);
			return;
		}
		unsigned b = (unsigned)p[2] << 8 | p[3];
		int last = 0;
		if (b == ((c->block + 1) & 0xffff)) {
			c->got += n - 4;
			c->block = b;
			last = n - 4 < BLKSIZE;
		}
		tftp_ack(c, b);
		c->deadline = now() + 1.0;
		if (last) {
			if (c->got == A.loader_size) {
				drop_fd(c);
				http_start(c);
			} else
				tftp_try(c);
			return;
		}
	}
}

/* ---- HTTP: GET the kernel, Connection: close ---- */

static void
http_try(struct client *c)
{
	int fd;
	struct sockaddr_in to = server(A.http);

	if ((fd = retry_socket(c, SOCK_STREAM, "http: GET failed", "http: no socket")) < 0)
		return;
	if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS) {
		close(fd);
		c->deadline = now() + 0.5;              /* as storm.py: wait, try again */
		return;
	}
	watch(c, fd, K_HTTP, EPOLLOUT | EPOLLIN);
	c->sent = 0, c->body = 0, c->hdr_end = 0, c->headlen = 0, c->status = 0;
	c->deadline = now() + 5.0;
}

static void
http_start(struct client *c)
{
	c->phase = P_HTTP;
	c->tries = 0;
	http_try(c);
}

static void
done(struct client *c)
{
	drop_fd(c);
	c->t1 = now();
	c->phase = P_DONE;
	finished++;
}

static void
http_event(struct client *c, uint32_t events)
{
	char buf[65536];
	ssize_t n;

	if (!c->sent && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		char req[300];
		int len = snprintf(req, sizeof req, "GET /files/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		    "Connection: close\r\n\r\n", A.kernel);
		if (len < 0 || len >= (int)sizeof req || send(c->fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
			http_try(c);
			return;
		}
		c->sent = 1;
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)K_HTTP << 32 | (uint32_t)c->n };
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		return;
	}
	while ((n = recv(c->fd, buf, sizeof buf, 0)) > 0) {
		if (c->hdr_end == 0) {
			/* Keep the head until its blank line; the rest is body. */
			size_t k = (size_t)n < sizeof c->head - 1 - (size_t)c->headlen ?
			    (size_t)n : sizeof c->head - 1 - (size_t)c->headlen;
			memcpy(c->head + c->headlen, buf, k);
			c->headlen += (int)k;
			c->head[c->headlen] = '\0';
			char *e = strstr(c->head, "\r\n\r\n");
			if (e == NULL) {
				if (c->headlen == (int)sizeof c->head - 1) {
					http_try(c);
					return;
				}
				continue;
			}
			c->hdr_end = e + 4 - c->head;
			c->status = atoi(c->head + 9);
			c->body = c->headlen - c->hdr_end + (n - (ssize_t)k);
		} else
			c->body += n;
	}
	if (n == 0) {                               /* the server closed: all there */
		if (c->status == 200 && c->body == A.kernel_size)
			done(c);
		else if (c->status == 429 || c->status == 0) {
			drop_fd(c);
			c->deadline = now() + 0.5;
		} else
			fail(c, "http: kernel not fetched whole");
		return;
	}
	if (errno != EAGAIN)
		http_try(c);
}

/* ---- the loop ---- */

static void
timeouts(double t)
{
	for (int i = 0; i < A.n; i++) {
		struct client *c = &C[i];
		if (c->phase >= P_DONE || t < c->deadline)
			continue;
		if (c->phase == P_DISCOVER || c->phase == P_REQUEST)
			dhcp_try(c);
		else if (c->phase == P_TFTP)
			tftp_try(c);
		else if (c->phase == P_HTTP)
			http_try(c);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void
report(double wall)
{
	double *d = calloc((size_t)A.n + 1, sizeof *d);
	int nd = 0, nf = 0;
	struct rusage ru;
	char mac[18], ip[16];

	for (int i = 0; i < A.n; i++)
		if (C[i].phase == P_DONE)
			d[nd++] = (C[i].t1 - C[i].t0) * 1000;
	qsort(d, (size_t)nd, sizeof *d, cmp_double);
#define PCT(p) (nd ? d[(int)(nd * (p)) < nd ? (int)(nd * (p)) : nd - 1] : 0)
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"clients\": %d, \"completed\": %d, \"failed\": [", A.n, nd);
	for (int i = 0; i < A.n && nf < 20; i++) {
		struct client *c = &C[i];
		if (c->phase == P_DONE)
			continue;
		snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0], c->mac[1],
		    c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
		printf("%s[\"%s\", \"%s\"]", nf++ ? ", " : "", mac,
		    c->phase == P_FAILED ? c->error : "unfinished after ten minutes");
	}
	printf("], \"seconds\": %.2f, \"chains_per_s\": %.1f, \"cpu_s\": %.2f, ", wall, nd / wall,
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	if (nd)
		printf("\"p50_ms\": %.1f, \"p99_ms\": %.1f, \"max_ms\": %.1f, ", PCT(0.50), PCT(0.99), PCT(1.0));
	else
		printf("\"p50_ms\": null, \"p99_ms\": null, \"max_ms\": null, ");
	printf("\"macs\": {");
	for (int i = 0; i < A.n; i++) {
		struct client *c = &C[i];
		snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0], c->mac[1],
		    c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
		printf("%s\"%s\": {\"ips\": [", i ? ", " : "", mac);
		for (int k = 0; k < c->nips; k++) {
			struct in_addr a = { htonl(c->ips[k]) };
			inet_ntop(AF_INET, &a, ip, sizeof ip);
			printf("%s\"%s\"", k ? ", " : "", ip);
		}
		printf("], \"enrolled\": false}");
	}
	printf("}}\n");
	free(d);
}

int
main(int argc, char **argv)
{
	if (argc < 9) {
		fprintf(stderr, "usage: storm_load N HTTP_PORT TFTP_PORT DHCP_PORT LOADER LOADER_SIZE "
		    "KERNEL KERNEL_SIZE [MARK_AT MARK_FILE] [MAC_BYTE]\n");
		return 2;
	}
	A.n = atoi(argv[1]), A.http = atoi(argv[2]), A.tftp = atoi(argv[3]), A.dhcp = atoi(argv[4]);
	A.loader = argv[5], A.loader_size = atol(argv[6]);
	A.kernel = argv[7], A.kernel_size = atol(argv[8]);
	A.mark_at = argc > 9 ? atoi(argv[9]) : -1;
	A.mark_file = argc > 10 ? argv[10] : "";
	A.macbyte = argc > 11 ? (int)strtol(argv[11], NULL, 0) : 0x77;
	if (A.n < 1 || A.n > 60000 || strlen(A.kernel) > 200 || strlen(A.loader) > 100) {
		fprintf(stderr, "storm_load: N from 1 to 60000, names of at most 200 bytes\n");
		return 2;
	}
	/* A socket a machine at a time, and a few of our own. */
	struct rlimit rl = { (rlim_t)A.n + 64, (rlim_t)A.n + 64 };
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("storm_load: setrlimit RLIMIT_NOFILE (fewer machines?)");
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	C = calloc((size_t)A.n, sizeof *C);
	double start = now();
	for (int i = 0; i < A.n; i++) {
		struct client *c = &C[i];
		c->n = i, c->fd = -1, c->t0 = start;
		uint8_t m[6] = { 0x02, (uint8_t)A.macbyte, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		memcpy(c->mac, m, 6);
		c->giaddr = (127u << 24) | (2u << 16) | (uint32_t)i;
		dhcp_start(c);
	}
	double next_scan = start + 0.05;
	while (finished < A.n && now() < start + 600) {
		struct epoll_event evs[256];
		int k = epoll_wait(ep, evs, 256, 50);
		for (int i = 0; i < k; i++) {
			struct client *c = &C[(uint32_t)evs[i].data.u64];
			enum kind kd = (enum kind)(evs[i].data.u64 >> 32);
			if ((kd == K_DHCP && c->phase > P_REQUEST) || (kd == K_TFTP && c->phase != P_TFTP) ||
			    (kd == K_HTTP && c->phase != P_HTTP))
				continue;               /* a step already left */
			if (kd == K_DHCP)
				dhcp_readable(c);
			else if (kd == K_TFTP)
				tftp_readable(c);
			else
				http_event(c, evs[i].events);
		}
		double t = now();
		if (t >= next_scan) {
			timeouts(t);
			next_scan = t + 0.05;
		}
	}
	report(now() - start);
	return 0;
}
