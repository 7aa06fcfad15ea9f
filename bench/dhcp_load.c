/* DHCP load generator for bench/dhcp.sh: acts as a relay (giaddr = its own
 * address, source port 67) and runs full DISCOVER-OFFER-REQUEST-ACK
 * exchanges for N distinct MACs, keeping W exchanges in flight (closed
 * loop). Prints exchanges per second and latency percentiles of whole
 * DORA exchanges, so two servers can be compared by the same client. The
 * loop and its statistics are bench/load_common.c's.
 *   dhcp_load SERVER_IP[,SERVER_IP...] LOCAL_IP CLIENTS WINDOW [MAC_BYTE]
 * Several servers (bench/store.sh's two instances on one database): like
 * a relay with several helper addresses, every message goes to each of
 * them; whichever answers is the client's server from then on (its
 * REQUEST names it, and still goes to all, as a relay's would). */
#include "load_common.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What the OFFER said, for the REQUEST. */
struct offer {
	uint32_t yiaddr, server;
};

static struct load L;
static struct offer *offers;
static uint32_t giaddr, xidbase = 0x5a000000;
#define MAXSRV 8
static struct sockaddr_in srv[MAXSRV];
static int nsrv;
static uint8_t macbyte;

/* Step 1 a DISCOVER, step 2 a REQUEST. */
static void
send_msg(int i, int step)
{
	uint8_t p[300], type = step == 1 ? 1 : 3;
	size_t n = 240;

	memset(p, 0, sizeof p);
	p[0] = 1; p[1] = 1; p[2] = 6; p[3] = 1;
	uint32_t xid = htonl(xidbase + (uint32_t)i);
	memcpy(p + 4, &xid, 4);
	memcpy(p + 24, &giaddr, 4);
	p[28] = 0x02; p[29] = macbyte; p[30] = (uint8_t)(i >> 24);
	p[31] = (uint8_t)(i >> 16); p[32] = (uint8_t)(i >> 8); p[33] = (uint8_t)i;
	memcpy(p + 236, "\x63\x82\x53\x63", 4);
	p[n++] = 53; p[n++] = 1; p[n++] = type;
	if (type == 3) {
		uint32_t a = offers[i].yiaddr, s = offers[i].server;
		p[n++] = 50; p[n++] = 4; memcpy(p + n, &a, 4); n += 4;
		p[n++] = 54; p[n++] = 4; memcpy(p + n, &s, 4); n += 4;
	}
	p[n++] = 55; p[n++] = 3; p[n++] = 1; p[n++] = 3; p[n++] = 6;
	p[n++] = 255;
	if (n < 300)
		n = 300;
	for (int k = 0; k < nsrv; k++)
		load_send(&L, &srv[k], sizeof srv[k], p, n);
	load_sent(&L, i);
}

static void
on_reply(const uint8_t *p, size_t n)
{
	uint32_t xid;
	int type = 0;
	uint32_t sid = 0;

	if (n < 244 || p[0] != 2)
		return;
	memcpy(&xid, p + 4, 4);
	long i = (long)ntohl(xid) - (long)xidbase;
	if (i < 0 || i >= L.nclients)
		return;
	for (size_t k = 240; k + 1 < n && p[k] != 255;) {
		if (p[k] == 0) { k++; continue; }
		if (p[k] == 53) type = p[k + 2];
		if (p[k] == 54 && p[k + 1] == 4) memcpy(&sid, p + k + 2, 4);
		k += 2 + p[k + 1];
	}
	uint8_t state = L.cl[i].state;
	if (state == LOAD_STEP1 && type == 2) {
		memcpy(&offers[i].yiaddr, p + 16, 4);
		offers[i].server = sid;
		load_step2(&L, (int)i);
	} else if (state == LOAD_STEP2 && type == 5) {
		load_finish(&L, (int)i);
	} else if (state == LOAD_STEP2 && type == 6)
		load_fail(&L, (int)i);
}

int
main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: dhcp_load SERVER[,SERVER...] LOCAL CLIENTS WINDOW [MAC_BYTE]\n");
		return 2;
	}
	for (char *save = NULL, *a = strtok_r(argv[1], ",", &save); a && nsrv < MAXSRV;
	    a = strtok_r(NULL, ",", &save), nsrv++) {
		srv[nsrv].sin_family = AF_INET;
		srv[nsrv].sin_port = htons(67);
		if (inet_pton(AF_INET, a, &srv[nsrv].sin_addr) != 1) {
			fprintf(stderr, "dhcp_load: %s: not an IPv4 address\n", a);
			return 2;
		}
	}
	inet_pton(AF_INET, argv[2], &giaddr);
	L.nclients = atoi(argv[3]);
	L.window = atoi(argv[4]);
	L.give_up_s = 120;
	L.poll_ms = 5;
	L.send = send_msg;
	L.reply = on_reply;
	macbyte = argc > 5 ? (uint8_t)strtol(argv[5], NULL, 0) : 0x42;
	load_init(&L);
	offers = calloc((size_t)L.nclients, sizeof *offers);
	if (offers == NULL)
		return 1;
	load_touch(offers, (size_t)L.nclients * sizeof *offers);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(67) };
	me.sin_addr.s_addr = giaddr;
	L.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int big = 4 << 20;
	setsockopt(L.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (L.fd < 0 || bind(L.fd, (struct sockaddr *)&me, sizeof me) < 0) {
		perror("bind");
		return 1;
	}
	load_run(&L);
	if (L.gave_up)
		fprintf(stderr, "dhcp_load: giving up after 120 s without finishing\n");
	int k = L.nlat;
	printf("clients %d done %d failed %d seconds %.2f dora_per_s %.0f p50_ms %.2f p99_ms %.2f max_gap_ms %.1f"
	    " steady_p99_ms %.2f\n",
	    L.nclients, k, L.nclients - k, L.seconds, k / L.seconds, load_pct_ms(&L, 50),
	    load_pct_ms(&L, 99), L.max_gap * 1000, load_steady_pct_ms(&L, 99));
	return 0;
}
