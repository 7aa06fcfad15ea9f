/* libFuzzer target: TFTP request parsing and the OACK built from it.
 * Build and run with `make fuzz-tftp` (FUZZ_TIME seconds, default 60). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tftp/tftp_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tftp_req req;
	struct tftp_reject why;
	uint8_t out[1024];
	uint16_t op, num;

	(void)tftp_parse_head(data, size, &op, &num);
	if (tftp_parse_request(data, size, &req, &why)) {
		struct wr w = wr_make(out, sizeof out);
		/* What the server relies on after a successful parse. */
		if (strlen(req.path) == 0 || strlen(req.path) > TFTP_MAX_PATH)
			__builtin_trap();
		if (req.blksize < TFTP_MIN_BLKSIZE || req.blksize > TFTP_MAX_BLKSIZE ||
		    req.windowsize < 1 || req.windowsize > TFTP_MAX_WINDOW)
			__builtin_trap();
		if ((req.opts & TOPT_TIMEOUT) && (req.timeout < 1 || req.timeout > 255))
			__builtin_trap();
		tftp_put_oack(&w, &req, req.tsize);
		if (w.err)
			__builtin_trap();
	} else if (why.msg == NULL) {
		__builtin_trap();
	}
	return 0;
}
