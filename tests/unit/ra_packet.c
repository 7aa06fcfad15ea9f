/* ra_packet: RS/RA parsing per RFC 4861 6.1 (every drop reason) and the
 * RA gridbootd sends (lifetime 0, no prefix, M/O as asked, SLLA). */
#include "unit.h"
#include "ra/ra_packet.h"

#include <string.h>

static const uint8_t ll[16] = { 0xfe, 0x80, [15] = 1 };
static const uint8_t global[16] = { 0xfd, 0x00, [15] = 1 };
static const uint8_t unspec[16];

int
main(void)
{
	uint8_t b[64];
	struct ra_msg m;
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 0x11 };

	size_t n = ra_build(b, sizeof b, false, false, NULL, 0, mac);
	CHECK(n == 24, "our RA: 16 bytes and an 8-byte SLLA option (%zu)", n);
	CHECK(ra_parse(b, n, ll, 255, &m) == RAP_OK, "our RA parses");
	CHECK(m.type == ICMP6_RA && m.router_lifetime == 0 && m.nprefixes == 0 &&
	    !m.managed && !m.other, "lifetime 0, no prefix, M=O=0");
	CHECK(m.has_slla && memcmp(m.slla, mac, 6) == 0, "SLLA carries the MAC");
	n = ra_build(b, sizeof b, true, true, NULL, 0, NULL);
	CHECK(n == 16 && ra_parse(b, n, ll, 255, &m) == RAP_OK && m.managed && m.other && !m.has_slla,
	    "M and O when asked (the DHCPv6 hook), no SLLA without a MAC");
	CHECK(ra_build(b, 20, false, false, NULL, 0, mac) == 0, "too small a buffer: 0");
	{
		uint8_t big[96];
		const uint8_t p6[16] = { 0xfd, 0x99 };
		size_t k = ra_build(big, sizeof big, true, false, p6, 64, mac);
		CHECK(k == 56 && ra_parse(big, k, ll, 255, &m) == RAP_OK && m.nprefixes == 1 && m.managed,
		    "with subnet6: one prefix option (%zu bytes)", k);
		CHECK(big[16] == 3 && big[17] == 4 && big[18] == 64 && big[19] == 0x80 &&
		    memcmp(big + 32, p6, 16) == 0, "the prefix option: fd99::/64, L=1, A=0");
		CHECK(ra_build(big, 50, true, false, p6, 64, mac) == 0, "no room for it: 0");
	}

	CHECK(ra_parse(b, 16, global, 255, &m) == RAP_SOURCE, "RA from a global address: source");
	CHECK(ra_parse(b, 16, ll, 64, &m) == RAP_HOPLIMIT, "RA with hop limit 64: hoplimit");
	CHECK(ra_parse(b, 15, ll, 255, &m) == RAP_SHORT, "15-byte RA: short");
	CHECK(ra_parse(b, 3, ll, 255, &m) == RAP_SHORT, "3 bytes: short");
	b[1] = 1;
	CHECK(ra_parse(b, 16, ll, 255, &m) == RAP_CODE, "code 1: code");
	b[1] = 0;
	b[0] = 135;
	CHECK(ra_parse(b, 16, ll, 255, &m) == RAP_TYPE, "a neighbour solicitation: type");

	/* An RA with a prefix option (type 3, 4 units) counts it. */
	n = ra_build(b, sizeof b, false, false, NULL, 0, NULL);
	memset(b + n, 0, 32);
	b[n] = 3;
	b[n + 1] = 4;
	CHECK(ra_parse(b, n + 32, ll, 255, &m) == RAP_OK && m.nprefixes == 1, "prefix option counted");
	CHECK(ra_parse(b, n + 31, ll, 255, &m) == RAP_OPTION, "option running past the end: option");
	b[n + 1] = 0;
	CHECK(ra_parse(b, n + 32, ll, 255, &m) == RAP_OPTION, "option of length 0: option");
	CHECK(ra_parse(b, n + 1, ll, 255, &m) == RAP_OPTION, "one stray byte after the header: option");

	n = rs_build(b, sizeof b, mac);
	CHECK(n == 16 && ra_parse(b, n, ll, 255, &m) == RAP_OK && m.type == ICMP6_RS && m.has_slla,
	    "our RS with SLLA parses");
	CHECK(ra_parse(b, n, unspec, 255, &m) == RAP_SOURCE, "RS from :: with an SLLA: source");
	CHECK(ra_parse(b, 8, unspec, 255, &m) == RAP_OK, "RS from :: without options: ok");
	CHECK(ra_parse(b, 7, ll, 255, &m) == RAP_SHORT, "7-byte RS: short");
	CHECK(ra_parse(b, n, ll, 1, &m) == RAP_HOPLIMIT, "RS hop limit 1: hoplimit");
	return UNIT_DONE();
}
