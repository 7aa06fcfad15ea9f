/* A small DHCP packet sender for the malformed-input test: sends each kind
 * of broken packet gridbootd must drop, then one well-formed PXE REQUEST to
 * the proxy port and prints the reply's type, file and siaddr.
 *   dhcp_send SERVER_IP DHCP_PORT PROXY_PORT MY_IP */
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint8_t pkt[1500];
static size_t len;

static void
put(const void *p, size_t n)
{
	memcpy(pkt + len, p, n);
	len += n;
}

/* A BOOTREQUEST header from 52:54:00:ee:00:01, magic cookie included. */
static void
header(uint8_t op, uint8_t hlen, uint32_t ciaddr)
{
	memset(pkt, 0, sizeof pkt);
	pkt[0] = op;
	pkt[1] = 1;
	pkt[2] = hlen;
	memcpy(pkt + 4, "\x01\x02\x03\x04", 4);
	memcpy(pkt + 12, &ciaddr, 4);
	memcpy(pkt + 28, "\x52\x54\x00\xee\x00\x01", 6);
	memcpy(pkt + 236, "\x63\x82\x53\x63", 4);
	len = 240;
}

static void
sendto_port(int fd, const char *ip, int port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, ip, &to.sin_addr);
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
		perror("sendto");
}

int
main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: dhcp_send SERVER DHCP_PORT PROXY_PORT MY_IP\n");
		return 2;
	}
	const char *srv = argv[1];
	int port = atoi(argv[2]), proxy = atoi(argv[3]), sent = 0;
	uint32_t me;
	inet_pton(AF_INET, argv[4], &me);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in bind_to = { .sin_family = AF_INET, .sin_port = htons(68) };
	bind_to.sin_addr.s_addr = me;
	if (fd < 0 || bind(fd, (struct sockaddr *)&bind_to, sizeof bind_to) < 0) {
		perror("socket");
		return 1;
	}
	/* 1. truncated header */
	header(1, 6, 0); len = 100; sendto_port(fd, srv, port); sent++;
	/* 2. wrong op (a BOOTREPLY) */
	header(2, 6, 0); put("\x35\x01\x01\xff", 4); sendto_port(fd, srv, port); sent++;
	/* 3. bad hlen */
	header(1, 99, 0); put("\x35\x01\x01\xff", 4); sendto_port(fd, srv, port); sent++;
	/* 4. bad magic */
	header(1, 6, 0); pkt[236] = 0; put("\x35\x01\x01\xff", 4); sendto_port(fd, srv, port); sent++;
	/* 5. option running past the end */
	header(1, 6, 0); put("\x35\x01\x01\x3c\xf0PXEClient", 14); sendto_port(fd, srv, port); sent++;
	/* 6. overload pointing at a file field whose option overruns it */
	header(1, 6, 0); put("\x34\x01\x01\xff", 4); memcpy(pkt + 108, "\x35\x7f\x01", 3);
	sendto_port(fd, srv, port); sent++;
	/* 7. giant option 55 repeated, no message type */
	header(1, 6, 0);
	for (int i = 0; i < 4; i++) {
		uint8_t o[257] = { 55, 255 };
		memset(o + 2, 1, 255);
		put(o, sizeof o);
	}
	sendto_port(fd, srv, port); sent++;
	/* 8. an unknown message type */
	header(1, 6, 0); put("\x35\x01\x2a\xff", 4); sendto_port(fd, srv, port); sent++;
	/* 9. option 53 with a wrong length */
	header(1, 6, 0); put("\x35\x02\x01\x01\xff", 5); sendto_port(fd, srv, port); sent++;
	printf("sent %d malformed packets\n", sent);

	/* A well-formed PXE REQUEST to the proxy port. */
	header(1, 6, me);
	put("\x35\x01\x03", 3);
	put("\x3c\x14PXEClient:Arch:00000", 22);
	put("\x5d\x02\x00\x00", 4);
	put("\x61\x11\x00" "0123456789abcdef", 19);
	put("\xff", 1);
	sendto_port(fd, srv, proxy);
	struct pollfd pfd = { fd, POLLIN, 0 };
	if (poll(&pfd, 1, 3000) != 1) {
		printf("no reply from port %d\n", proxy);
		return 1;
	}
	uint8_t r[1500];
	ssize_t n = recv(fd, r, sizeof r, 0);
	if (n < 244 || r[0] != 2 || memcmp(r + 4, "\x01\x02\x03\x04", 4) != 0) {
		printf("bad reply (%zd bytes)\n", n);
		return 1;
	}
	char siaddr[16];
	inet_ntop(AF_INET, r + 20, siaddr, sizeof siaddr);
	int type = 0, has43 = 0, has97 = 0;
	for (ssize_t i = 240; i + 1 < n && r[i] != 255;) {
		if (r[i] == 0) {
			i++;
			continue;
		}
		if (r[i] == 53)
			type = r[i + 2];
		has43 |= r[i] == 43;
		has97 |= r[i] == 97;
		i += 2 + r[i + 1];
	}
	printf("reply type %d yiaddr %d.%d.%d.%d siaddr %s file %.128s opt43 %d opt97 %d\n",
	    type, r[16], r[17], r[18], r[19], siaddr, (char *)r + 108, has43, has97);
	return 0;
}
