/* dhcp6c IFNAME [TRIES]: the discovery image's DHCPv6 client (Debian's
 * busybox-static has no udhcpc6). One exchange (RFC 8415): Solicit with
 * Rapid Commit and an IA_NA from the link-local address, a Request if the
 * server answers with an Advertise, and on success prints
 *   ipv6=ADDR
 *   serverid=HEX
 * for the init to apply, exit 0; exit 1 when no server answered. The
 * client is identified by a DUID-LL of the interface's MAC, which is how
 * gridbootd ties the lease to the machine (and lets it enroll over IPv6).
 * Built static by test-lab/build-discovery.sh. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { SOLICIT = 1, ADVERTISE = 2, REQUEST = 3, REPLY = 7 };
enum { O_CLIENTID = 1, O_SERVERID = 2, O_IA_NA = 3, O_IAADDR = 5, O_ORO = 6,
	O_ELAPSED = 8, O_STATUS = 13, O_RAPID = 14 };

struct msg {
	unsigned char b[1500];
	size_t n;
};

static void
put16(struct msg *m, unsigned v)
{
	m->b[m->n++] = (unsigned char)(v >> 8);
	m->b[m->n++] = (unsigned char)v;
}

static void
put_opt(struct msg *m, unsigned code, const void *data, size_t len)
{
	put16(m, code);
	put16(m, (unsigned)len);
	memcpy(m->b + m->n, data, len);
	m->n += len;
}

/* The option code's value inside [p, p+len), or NULL. */
static const unsigned char *
find_opt(const unsigned char *p, size_t len, unsigned code, size_t *olen)
{
	while (len >= 4) {
		unsigned c = (unsigned)p[0] << 8 | p[1], l = (unsigned)p[2] << 8 | p[3];
		if (l > len - 4)
			return NULL;
		if (c == code) {
			*olen = l;
			return p + 4;
		}
		p += 4 + l;
		len -= 4 + l;
	}
	return NULL;
}

static void
build(struct msg *m, int type, const unsigned char xid[3], const unsigned char *duid, size_t dlen,
    unsigned iaid, const unsigned char *sid, size_t slen, unsigned elapsed_cs)
{
	unsigned char ia[12] = { 0 }, el[2] = { (unsigned char)(elapsed_cs >> 8), (unsigned char)elapsed_cs };
	unsigned char oro[2] = { 0, 23 };   /* DNS servers */

	m->n = 0;
	m->b[m->n++] = (unsigned char)type;
	memcpy(m->b + m->n, xid, 3);
	m->n += 3;
	put_opt(m, O_CLIENTID, duid, dlen);
	if (sid)
		put_opt(m, O_SERVERID, sid, slen);
	ia[0] = (unsigned char)(iaid >> 24); ia[1] = (unsigned char)(iaid >> 16);
	ia[2] = (unsigned char)(iaid >> 8); ia[3] = (unsigned char)iaid;
	put_opt(m, O_IA_NA, ia, sizeof ia);
	put_opt(m, O_ELAPSED, el, sizeof el);
	put_opt(m, O_ORO, oro, sizeof oro);
	if (type == SOLICIT)
		put_opt(m, O_RAPID, NULL, 0);
}

static long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: dhcp6c IFNAME [TRIES]\n");
		return 2;
	}
	const char *ifn = argv[1];
	int tries = argc > 2 ? atoi(argv[2]) : 8;
	unsigned ifindex = if_nametoindex(ifn);
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	struct ifreq ifr;
	unsigned char duid[10] = { 0, 3, 0, 1 }, xid[3], sid[130];
	size_t slen = 0;
	int one = 1;

	if (ifindex == 0 || fd < 0) {
		fprintf(stderr, "dhcp6c: %s: %s\n", ifn, strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifn);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "dhcp6c: %s: no MAC: %s\n", ifn, strerror(errno));
		return 1;
	}
	memcpy(duid + 4, ifr.ifr_hwaddr.sa_data, 6);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifn, (socklen_t)strlen(ifn));
	setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex);
	struct sockaddr_in6 me = { .sin6_family = AF_INET6, .sin6_port = htons(546) };
	if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
		fprintf(stderr, "dhcp6c: bind [::]:546: %s\n", strerror(errno));
		return 1;
	}
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(547),
	    .sin6_scope_id = ifindex };
	inet_pton(AF_INET6, "ff02::1:2", &to.sin6_addr);
	if (getrandom(xid, sizeof xid, 0) != sizeof xid)
		memcpy(xid, "gb6", 3);

	long start = now_ms();
	int type = SOLICIT;
	struct msg m, r;
	for (int t = 0; t < tries; t++) {
		long el = (now_ms() - start) / 10;
		build(&m, type, xid, duid, sizeof duid, ifindex, type == REQUEST ? sid : NULL, slen,
		    (unsigned)(el > 0xffff ? 0xffff : el));
		if (sendto(fd, m.b, m.n, 0, (struct sockaddr *)&to, sizeof to) < 0)
			fprintf(stderr, "dhcp6c: send: %s\n", strerror(errno));
		long until = now_ms() + 1000;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		while (now_ms() < until && poll(&p, 1, (int)(until - now_ms())) > 0) {
			ssize_t n = recv(fd, r.b, sizeof r.b, 0);
			if (n < 4 || memcmp(r.b + 1, xid, 3) != 0)
				continue;
			r.n = (size_t)n;
			const unsigned char *o = r.b + 4, *v, *ia, *addr;
			size_t len = r.n - 4, vl, ial, al;
			if ((v = find_opt(o, len, O_SERVERID, &vl)) == NULL || vl > sizeof sid)
				continue;
			if ((ia = find_opt(o, len, O_IA_NA, &ial)) == NULL || ial < 12 ||
			    (addr = find_opt(ia + 12, ial - 12, O_IAADDR, &al)) == NULL || al < 24)
				continue;       /* no address for us (NoAddrsAvail): keep asking */
			if (r.b[0] == ADVERTISE && type == SOLICIT) {
				memcpy(sid, v, vl);
				slen = vl;
				type = REQUEST;
				t = -1;         /* a fresh round of tries for the Request */
				break;
			}
			if (r.b[0] != REPLY)
				continue;
			char a[INET6_ADDRSTRLEN];
			inet_ntop(AF_INET6, addr, a, sizeof a);
			printf("ipv6=%s\nserverid=", a);
			for (size_t i = 0; i < vl; i++)
				printf("%02x", v[i]);
			printf("\n");
			return 0;
		}
	}
	fprintf(stderr, "dhcp6c: %s: no DHCPv6 reply after %d tries\n", ifn, tries);
	return 1;
}
