/* libFuzzer target for the DHCP parser and builder: any bytes in, either a
 * clean rejection or a parsed message whose reply builds within bounds.
 * Build and run with `make fuzz-dhcp` (clang -fsanitize=fuzzer,address). */
#include "dhcp/dhcp_packet.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_msg m;
	struct dhcp_reply r;
	uint8_t out[DHCP_MAXREPLY];

	if (dhcp_parse(data, size, &m) != DP_OK)
		return 0;
	/* Echo what was parsed back through the builder, as the server does. */
	dhcp_reply_init(&r, &m, DHCPOFFER);
	dhcp_opt_str(&r, 60, m.vendor);
	dhcp_opt_str(&r, 12, m.hostname);
	dhcp_opt(&r, 55, m.params, m.nparams);
	dhcp_opt(&r, 61, m.clientid, m.clientid_len);
	if (m.has_uuid)
		dhcp_opt(&r, 97, m.uuid, 17);
	size_t n = dhcp_build(&m, &r, out, sizeof out);
	if (n == 0 || n > r.cap || (m.arch < -1 || m.arch > 65535))
		__builtin_trap();
	return 0;
}
