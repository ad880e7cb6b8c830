/* fuzz_exec_frames.c - libsbx's decoder of the exec messages a server sends
 * (src/lib/exec/frames.c): {"result":{"stdout":{"data":B64},…}} and
 * {"error":{…}}, arbitrary bytes from the network.
 *
 * Each input is decoded twice into the same struct (as the exec loop reuses
 * it after sbx_frame_in_reset()), and the decoded fields must keep the
 * contract of frames.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_frame_in f;
	int pass, r;

	memset(&f, 0, sizeof(f));
	for (pass = 0; pass < 2; pass++) {
		sbx_frame_in_reset(&f);
		r = sbx_frame_decode((const char *)data, size, &f);
		if (r < 0 && r != -EPROTO && r != -ENOMEM)
			abort();
		if (r == 0 && f.is_error) {
			if (f.error_code < 0 ||
			    strnlen(f.error_msg, sizeof(f.error_msg)) == sizeof(f.error_msg))
				abort();
			sbx_frame_grpc_errno(f.error_code);
		}
		if (r == 0 && f.exited && !f.has_code)
			abort();
		/* decoded base64 is at most 3/4 of the input */
		if (f.out.len + f.err.len > size)
			abort();
	}
	sbx_frame_in_release(&f);
	return 0;
}
