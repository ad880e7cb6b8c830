/* fuzz_ws_hs.c - the exec client's check of a WebSocket upgrade reply
 * (src/lib/exec/ws_hs.c) on arbitrary bytes from a server.
 *
 * The input is what the connection has received so far; the client parses
 * again as bytes arrive, so every prefix is parsed too. A head that parses
 * must lie inside the input, be no longer than the limit, and a prefix
 * shorter than a parsed head must ask for more.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/ws_hs.h"

static const struct sbx_wsh_key KEY = {"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_wsh_reply r;
	char *buf;
	size_t n;
	int whole;

	/* the client parses its own buffer: no terminating NUL */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	whole = sbx_wsh_reply(buf, size, &KEY, "Bearer", &r);
	if (whole > 0 && ((size_t)whole > size || whole > SBX_WSH_REPLY_MAX))
		abort();
	if (whole > 0 && r.accepted && (r.status != 101 || r.reason[0]))
		abort();
	for (n = 0; n < size && n < 512; n++) {
		int p = sbx_wsh_reply(buf, n, &KEY, NULL, &r);

		if (whole > 0 && n < (size_t)whole && p != 0)
			abort();
		if (p > 0 && (size_t)p > n)
			abort();
	}
	free(buf);
	return 0;
}
