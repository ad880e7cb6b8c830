/* http_parse.h - HTTP/1.x request head parser (pure functions, no I/O).
 *
 * The parser looks at the bytes received so far on a connection and either
 * says "need more", returns a parsed head, or names the HTTP status to reply
 * with. The body is not copied: once the head is parsed the caller waits
 * until head_len + content_length bytes are buffered and takes the body from
 * its own buffer.
 *
 * Limits (everything here comes from the network): the head, including the
 * request line, is at most SBX_HTTP_MAX_HEAD bytes (431 past it), at most
 * SBX_HTTP_MAX_HEADERS header lines (431), a body at most SBX_HTTP_MAX_BODY
 * bytes (413). Transfer-Encoding (chunked bodies) is refused with 411. A NUL
 * byte anywhere in the head, control bytes (but tab) or malformed UTF-8 in a
 * header value or the target are refused with 400 (error_message says which).
 *
 * Ownership: every string in struct sbxd_http_req points into req->storage,
 * which the request owns; sbxd_http_req_release() frees it.
 */
#ifndef SBX_HOST_HTTP_PARSE_H
#define SBX_HOST_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define SBX_HTTP_MAX_HEAD    (64u * 1024)
#define SBX_HTTP_MAX_BODY    (1u << 20)
#define SBX_HTTP_MAX_HEADERS 100

struct sbxd_http_header {
	const char *name;  /* as sent; compare case-insensitively */
	const char *value; /* leading and trailing blanks removed */
};

struct sbxd_http_req {
	char *storage;	    /* owned copy of the head */
	const char *method; /* "GET", ... (case-sensitive, as RFC 9110 says) */
	const char *target; /* the request target up to '?' (same as path) */
	const char *path;   /* the request target up to '?', not decoded */
	const char *query;  /* after '?', or "" */
	int version_minor;  /* 0 or 1 (HTTP/1.x only) */
	struct sbxd_http_header headers[SBX_HTTP_MAX_HEADERS];
	size_t nheaders;
	size_t head_len; /* bytes of the head in the input, blank line included */
	size_t content_length;
	bool keep_alive;	   /* from the version and the Connection header */
	int error_status;	   /* set when parsing failed: 400, 411, 413, 431, 505 */
	const char *error_message; /* static text saying why, or NULL */
};

/* Parses the head at the start of buf[0..len).
 * Returns head_len (> 0) with *req filled, 0 when more bytes are needed
 * (req untouched apart from being reset), or -EBADMSG with
 * req->error_status set to the status to answer. On > 0 the caller owns
 * req->storage and must call sbxd_http_req_release(). req is reset first. */
int sbxd_http_parse_head(const char *buf, size_t len, struct sbxd_http_req *req);

/* Frees the request's storage and resets it. Accepts a zeroed request. */
void sbxd_http_req_release(struct sbxd_http_req *req);

/* The value of the first header called name (case-insensitive), or NULL. */
const char *sbxd_http_header(const struct sbxd_http_req *req, const char *name);

/* True when some header called name holds token in its comma-separated list
 * (both compared case-insensitively), e.g. ("Connection", "upgrade"). */
bool sbxd_http_header_has_token(const struct sbxd_http_req *req, const char *name,
				const char *token);

/* Finds key in an application/x-www-form-urlencoded query string and copies
 * its percent-decoded value ('+' is a space) into out (size outlen, NUL
 * terminated). 0, -ENOENT when absent, -ENAMETOOLONG when it does not fit,
 * -EINVAL on a bad escape or a decoded NUL. */
int sbxd_http_query_get(const char *query, const char *key, char *out, size_t outlen);

/* The reason phrase for a status code ("Not Found"), "Unknown" otherwise. */
const char *sbxd_http_reason(int status);

#endif
