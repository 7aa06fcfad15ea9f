/* libFuzzer target for the DHCPv6 parser and builder: any bytes in, either
 * a clean rejection or a parsed message (relay layers included) whose
 * reply, wrapped in every Relay-Reply, builds within bounds.
 * Build and run with `make fuzz-dhcp6`. */
#include "dhcp6/dhcp6_packet.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct d6_msg m;
	static const uint8_t dns[2][16] = { { 0xfd, 0x99 }, { 0xfd, 0x98 } };
	struct d6_reply r;
	uint8_t out[D6_MAXREPLY];

	if (dhcp6_parse(data, size, &m) != D6P_OK)
		return 0;
	if (m.nrelay > D6_MAX_HOPS || m.nia > D6_MAX_IA || m.duid_len > DUID_MAX ||
	    m.arch < -1 || m.arch > 65535 || strlen(m.vendor) >= sizeof m.vendor)
		__builtin_trap();
	/* Echo what was parsed back through the builder, as the server does. */
	memset(&r, 0, sizeof r);
	r.type = m.rapid ? D6_REPLY : D6_ADVERTISE;
	r.rapid = m.rapid;
	for (int i = 0; i < m.nia; i++) {
		r.ia[i].iaid = m.ia[i].iaid;
		r.ia[i].has_addr = m.ia[i].has_addr;
		memcpy(r.ia[i].addr, m.ia[i].addr, 16);
		r.ia[i].status = (uint16_t)(i & 3);
	}
	r.nia = m.nia;
	r.dns = dns;
	r.ndns = 2;
	r.url = m.vendor;
	r.http_client = m.ipxe;
	size_t n = dhcp6_build(&m, &r, m.duid, m.duid_len ? m.duid_len : 3, out, sizeof out);
	if (n > sizeof out)
		__builtin_trap();
	return 0;
}
