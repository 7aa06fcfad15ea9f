/* The TCP bits the project's own test clients share (p9c, authpass).
 * The including file defines die(fmt, arg), which does not return. */
#ifndef GRIDBOOT_TOOL_NET_H
#define GRIDBOOT_TOOL_NET_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void __attribute__((noreturn)) die(const char *fmt, const char *arg);

/* The source address of every dial, or NULL: the kernel's choice (tests
 * that need several sources on one loopback set it). */
static const char *dial_source;

/* A TCP connection to host (dotted IPv4) and port, Nagle off. */
static int
dial(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("bad address %s", host);
	if (dial_source && (inet_pton(AF_INET, dial_source, &src.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&src, sizeof src) < 0))
		die("source address %s", dial_source);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("connect: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* All n bytes, or die. */
static void
send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k <= 0)
			die("write: %s", k < 0 ? strerror(errno) : "closed");
		p += k;
		n -= (size_t)k;
	}
}

#endif
