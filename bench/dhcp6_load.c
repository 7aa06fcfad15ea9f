/* DHCPv6 load generator for bench/dhcp6.sh: acts as a relay agent (it
 * sends Relay-Forw from port 547 with a link-address in the served
 * subnet) and runs whole exchanges for N distinct DUIDs, keeping W in
 * flight (closed loop): Solicit-Advertise-Request-Reply, or with "rapid"
 * Solicit-Reply (Rapid Commit). Prints exchanges per second and latency
 * percentiles, so two servers can be compared by the same client. The
 * loop and its statistics are bench/load_common.c's.
 *   dhcp6_load SERVER LOCAL LINK CLIENTS WINDOW [SEED] [rapid] */
#include "load_common.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What the Advertise said, for the Request. */
struct adv {
	uint8_t sid[130], addr[16];
	size_t sid_len;
};

static struct load L;
static struct adv *advs;
static int bool_rapid;
static uint8_t link6[16], seed;
static struct sockaddr_in6 srv;

static size_t
opt(uint8_t *p, uint16_t code, const void *d, size_t n)
{
	p[0] = (uint8_t)(code >> 8);
	p[1] = (uint8_t)code;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	if (n)
		memcpy(p + 4, d, n);
	return 4 + n;
}

/* Step 1 a Solicit, step 2 a Request. */
static void
send_msg(int i, int step)
{
	uint8_t m[600], r[700], duid[10] = { 0, 3, 0, 1, 0x02, seed }, type = step == 1 ? 1 : 3;
	size_t n = 0, k = 0;

	duid[6] = (uint8_t)(i >> 24);
	duid[7] = (uint8_t)(i >> 16);
	duid[8] = (uint8_t)(i >> 8);
	duid[9] = (uint8_t)i;
	m[n++] = type;
	m[n++] = (uint8_t)(i >> 16);
	m[n++] = (uint8_t)(i >> 8);
	m[n++] = (uint8_t)i;
	n += opt(m + n, 1, duid, sizeof duid);
	n += opt(m + n, 8, "\0\0", 2);
	if (type == 3)
		n += opt(m + n, 2, advs[i].sid, advs[i].sid_len);
	uint8_t ia[12 + 28] = { 0, 0, 0, 1 };
	size_t ialen = 12;
	if (type == 3) {
		uint8_t aa[24] = { 0 };
		memcpy(aa, advs[i].addr, 16);
		ialen += opt(ia + 12, 5, aa, 24);
	}
	n += opt(m + n, 3, ia, ialen);
	if (type == 1 && bool_rapid)
		n += opt(m + n, 14, NULL, 0);
	/* The Relay-Forw around it: link-address picks the subnet; the
	 * peer-address is the client's made-up link-local address. */
	r[k++] = 12;
	r[k++] = 0;
	memcpy(r + k, link6, 16);
	k += 16;
	uint8_t peer[16] = { 0xfe, 0x80 };
	memcpy(peer + 12, duid + 6, 4);
	memcpy(r + k, peer, 16);
	k += 16;
	k += opt(r + k, 9, m, n);
	load_send(&L, &srv, sizeof srv, r, k);
	load_sent(&L, i);
}

/* Finds option code in [p, end); returns its body and length. */
static const uint8_t *
find(const uint8_t *p, const uint8_t *end, uint16_t code, size_t *len)
{
	while (p + 4 <= end) {
		uint16_t c = (uint16_t)(p[0] << 8 | p[1]), l = (uint16_t)(p[2] << 8 | p[3]);
		if (p + 4 + l > end)
			return NULL;
		if (c == code) {
			*len = l;
			return p + 4;
		}
		p += 4 + l;
	}
	return NULL;
}

static void
on_reply(const uint8_t *buf, size_t n)
{
	size_t l, il, al;
	if (n < 34 || buf[0] != 13)
		return;
	const uint8_t *m = find(buf + 34, buf + n, 9, &l);
	if (m == NULL || l < 4)
		return;
	int i = m[1] << 16 | m[2] << 8 | m[3];
	if (i >= L.nclients)
		return;
	uint8_t state = L.cl[i].state;
	struct adv *c = &advs[i];
	const uint8_t *ia = find(m + 4, m + l, 3, &il);
	const uint8_t *a = ia && il > 12 ? find(ia + 12, ia + il, 5, &al) : NULL;
	if (m[0] == 2 && state == LOAD_STEP1 && a && al >= 24) {
		const uint8_t *s = find(m + 4, m + l, 2, &c->sid_len);
		if (s == NULL || c->sid_len > sizeof c->sid)
			return;
		memcpy(c->sid, s, c->sid_len);
		memcpy(c->addr, a, 16);
		load_step2(&L, i);
	} else if (m[0] == 7 && (state == LOAD_STEP2 || (bool_rapid && state == LOAD_STEP1)) && a) {
		load_finish(&L, i);
	}
}

int
main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: dhcp6_load SERVER LOCAL LINK CLIENTS WINDOW [SEED] [rapid]\n");
		return 2;
	}
	struct sockaddr_in6 me = { .sin6_family = AF_INET6, .sin6_port = htons(547) };
	srv.sin6_family = AF_INET6;
	srv.sin6_port = htons(547);
	if (inet_pton(AF_INET6, argv[1], &srv.sin6_addr) != 1 ||
	    inet_pton(AF_INET6, argv[2], &me.sin6_addr) != 1 || inet_pton(AF_INET6, argv[3], link6) != 1)
		return 2;
	L.nclients = atoi(argv[4]);
	L.window = atoi(argv[5]);
	L.give_up_s = 60;
	L.poll_ms = 50;
	L.send = send_msg;
	L.reply = on_reply;
	seed = argc > 6 ? (uint8_t)strtol(argv[6], NULL, 0) : 1;
	bool_rapid = argc > 7 && strcmp(argv[7], "rapid") == 0;
	load_init(&L);
	advs = calloc((size_t)L.nclients, sizeof *advs);
	if (advs == NULL)
		return 1;
	load_touch(advs, (size_t)L.nclients * sizeof *advs);
	L.fd = socket(AF_INET6, SOCK_DGRAM, 0);
	int big = 4 << 20;
	setsockopt(L.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (L.fd < 0 || bind(L.fd, (struct sockaddr *)&me, sizeof me) < 0) {
		perror("bind");
		return 1;
	}
	load_run(&L);
	printf("clients %d done %d failed %d secs %.2f exchanges_per_s %.0f p50_ms %.1f p99_ms %.1f\n",
	    L.nclients, L.done, L.failed, L.seconds, L.done / L.seconds, load_pct_ms(&L, 50),
	    load_pct_ms(&L, 99));
	return L.failed > L.nclients / 100;
}
