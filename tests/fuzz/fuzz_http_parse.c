/* fuzz_http_parse.c - sbxd's HTTP/1.x request head parser
 * (src/host/http/http_parse.c) on arbitrary bytes from a client.
 *
 * The input is what a connection has received so far. Every prefix the
 * server would try is parsed too (the server reparses from the start as
 * bytes arrive), and on a parsed head the lookups the router does run on it:
 * headers, Connection tokens, and query parameters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/http/http_parse.h"

/* The lookups sbxd makes on a parsed request. */
static void use(const struct sbxd_http_req *req)
{
	static const char *const keys[] = {"id", "idType", "name", "limit", "offset", ""};
	char out[256];
	size_t i;

	sbxd_http_header(req, "Authorization");
	sbxd_http_header(req, "Sec-WebSocket-Key");
	sbxd_http_header_has_token(req, "Connection", "upgrade");
	sbxd_http_header_has_token(req, "Upgrade", "websocket");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		sbxd_http_query_get(req->query, keys[i], out, sizeof(out));
		sbxd_http_query_get(req->query, keys[i], out, 2);
	}
	sbxd_http_reason(req->error_status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbxd_http_req req;
	char *buf;
	int r;

	/* the server hands the parser its own buffer: no terminating NUL */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(&req, 0, sizeof(req));
	r = sbxd_http_parse_head(buf, size, &req);
	if (r > 0) {
		if ((size_t)r != req.head_len || req.head_len > size)
			abort();
		use(&req);
		sbxd_http_req_release(&req);
		/* a shorter input that still holds the whole head parses alike */
		memset(&req, 0, sizeof(req));
		if (sbxd_http_parse_head(buf, (size_t)r, &req) != r)
			abort();
	} else if (r < 0) {
		if (req.error_status < 400 || req.error_status > 599)
			abort();
	}
	sbxd_http_req_release(&req);
	free(buf);
	return 0;
}
