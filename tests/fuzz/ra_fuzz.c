/* libFuzzer target: router solicitation and advertisement parsing (the RA
 * module's only reader of untrusted bytes). The first byte picks the hop
 * limit (255 or not), the next 16 are the source address, the rest is the
 * ICMPv6 message. Build and run with `make fuzz-ra`. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ra/ra_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t src[16];
	struct ra_msg m;

	if (size < 17)
		return 0;
	memcpy(src, data + 1, 16);
	enum ra_perr e = ra_parse(data + 17, size - 17, src, data[0] & 1 ? 255 : data[0], &m);
	if (e >= RAP_NPERR || ra_perr_name[e] == NULL)
		__builtin_trap();
	/* What ra.c relies on after a successful parse. */
	if (e == RAP_OK && m.type != ICMP6_RS && m.type != ICMP6_RA)
		__builtin_trap();
	if (e == RAP_OK && m.type == ICMP6_RA && !(src[0] == 0xfe && (src[1] & 0xc0) == 0x80))
		__builtin_trap();
	return 0;
}
