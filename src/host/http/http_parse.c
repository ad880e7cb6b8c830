/* http_parse.c - HTTP/1.x request head parser; see http_parse.h.
 *
 * Lines may end in CRLF or a bare LF (RFC 9112 allows a recipient to accept
 * LF). Empty lines before the request line are skipped. The head is copied
 * once into req->storage and split in place with NULs, so every pointer in
 * the request stays valid until sbxd_http_req_release().
 *
 * A NUL anywhere in the head, a control byte or malformed UTF-8 in a header
 * value or the target is a 400: C strings would otherwise cut the value (and
 * the head) silently, and values end up in replies and logs.
 */
#include "host/http/http_parse.h"

#include "host/http/utf8.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* tchar of RFC 9110 */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int fail(struct sbxd_http_req *req, int status)
{
	const char *why = req->error_message;

	sbxd_http_req_release(req);
	req->error_status = status;
	req->error_message = why;
	return -EBADMSG;
}

static int bad(struct sbxd_http_req *req, const char *why)
{
	req->error_message = why;
	return 400;
}

/* Length of the head (through the blank line) in buf, 0 when incomplete.
 * *skip gets the number of leading empty lines' bytes. */
static size_t find_head_end(const char *buf, size_t len, size_t *skip)
{
	size_t i = 0, line_start;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	*skip = i;
	line_start = i;
	for (; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		/* an empty line ends the head: "\n" or "\r\n" alone */
		if (i == line_start || (i == line_start + 1 && buf[line_start] == '\r'))
			return i + 1;
		line_start = i + 1;
	}
	return 0;
}

/* Splits s at the next line end, NUL-terminating the line; returns the next
 * line or NULL at the end. */
static char *next_line(char *s)
{
	char *nl = strchr(s, '\n');

	if (!nl)
		return NULL;
	*nl = '\0';
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	return nl + 1;
}

static int parse_request_line(struct sbxd_http_req *req, char *line)
{
	char *sp1, *sp2, *p;

	sp1 = strchr(line, ' ');
	if (!sp1 || sp1 == line || sp1 - line > 32)
		return 400;
	*sp1 = '\0';
	for (p = line; *p; p++)
		if (!is_tchar((unsigned char)*p))
			return 400;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	*sp2 = '\0';
	for (p = sp1 + 1; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return bad(req, "the request target holds a control character");
	if (!sbxd_utf8_valid(sp1 + 1, (size_t)(p - sp1 - 1)))
		return bad(req, "the request target is not valid UTF-8");
	if (sp1[1] != '/')
		return 400;
	if (strncmp(sp2 + 1, "HTTP/", 5) != 0)
		return 400;
	p = sp2 + 6;
	if (p[0] < '0' || p[0] > '9' || p[1] != '.' || p[2] < '0' || p[2] > '9' || p[3])
		return 400;
	if (p[0] != '1')
		return 505;
	req->method = line;
	req->target = sp1 + 1;
	req->version_minor = p[2] - '0';
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int parse_header_line(struct sbxd_http_req *req, char *line)
{
	char *colon, *p;

	if (*line == ' ' || *line == '\t')
		return 400; /* obsolete line folding */
	colon = strchr(line, ':');
	if (!colon || colon == line)
		return 400;
	*colon = '\0';
	for (p = line; *p; p++)
		if (!is_tchar((unsigned char)*p))
			return 400;
	for (p = colon + 1; *p; p++)
		if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
			return bad(req, "a header value holds a control character");
	if (!sbxd_utf8_valid(colon + 1, (size_t)(p - colon - 1)))
		return bad(req, "a header value is not valid UTF-8");
	if (req->nheaders == SBX_HTTP_MAX_HEADERS)
		return 431;
	req->headers[req->nheaders].name = line;
	req->headers[req->nheaders].value = trim(colon + 1);
	req->nheaders++;
	return 0;
}

/* Content-Length (all occurrences must agree), Transfer-Encoding, keep-alive. */
static int parse_framing(struct sbxd_http_req *req)
{
	bool have_len = false;
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		const char *v = req->headers[i].value;
		uint64_t n = 0;

		if (!strcasecmp(req->headers[i].name, "Transfer-Encoding"))
			return 411;
		if (strcasecmp(req->headers[i].name, "Content-Length"))
			continue;
		if (!*v)
			return 400;
		for (; *v; v++) {
			if (*v < '0' || *v > '9')
				return 400;
			n = n * 10 + (uint64_t)(*v - '0');
			if (n > SBX_HTTP_MAX_BODY)
				return 413;
		}
		if (have_len && n != req->content_length)
			return 400;
		have_len = true;
		req->content_length = (size_t)n;
	}
	if (req->version_minor >= 1)
		req->keep_alive = !sbxd_http_header_has_token(req, "Connection", "close");
	else
		req->keep_alive = sbxd_http_header_has_token(req, "Connection", "keep-alive");
	return 0;
}

int sbxd_http_parse_head(const char *buf, size_t len, struct sbxd_http_req *req)
{
	size_t skip, end;
	char *line, *next, *q;
	int st;

	sbxd_http_req_release(req);
	end = find_head_end(buf, len < SBX_HTTP_MAX_HEAD ? len : SBX_HTTP_MAX_HEAD, &skip);
	if (!end)
		return len >= SBX_HTTP_MAX_HEAD ? fail(req, 431) : 0;
	req->storage = malloc(end - skip + 1);
	if (!req->storage)
		return fail(req, 500);
	memcpy(req->storage, buf + skip, end - skip);
	req->storage[end - skip] = '\0';
	if (memchr(req->storage, '\0', end - skip))
		return fail(req, bad(req, "the request head holds a NUL byte"));

	line = req->storage;
	next = next_line(line);
	st = parse_request_line(req, line);
	if (st)
		return fail(req, st);
	for (line = next; line; line = next) {
		next = next_line(line);
		if (!*line)
			break;
		st = parse_header_line(req, line);
		if (st)
			return fail(req, st);
	}
	st = parse_framing(req);
	if (st)
		return fail(req, st);
	req->path = req->target;
	q = strchr(req->target, '?');
	if (q)
		*q++ = '\0';
	req->query = q ? q : "";
	req->head_len = end;
	return (int)end;
}

void sbxd_http_req_release(struct sbxd_http_req *req)
{
	free(req->storage);
	memset(req, 0, sizeof(*req));
}

const char *sbxd_http_header(const struct sbxd_http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

/* true when the comma-separated list v holds token */
static bool list_has(const char *v, const char *token)
{
	size_t tl = strlen(token);

	while (*v) {
		const char *e;
		size_t n;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		e = v + strcspn(v, ",");
		n = (size_t)(e - v);
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == tl && !strncasecmp(v, token, tl))
			return true;
		v = e;
	}
	return false;
}

bool sbxd_http_header_has_token(const struct sbxd_http_req *req, const char *name,
				const char *token)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name) &&
		    list_has(req->headers[i].value, token))
			return true;
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the form-encoded s[0..n) into out. */
static int form_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	if (!outlen)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

int sbxd_http_query_get(const char *query, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	const char *p = query;

	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		size_t namelen = eq ? (size_t)(eq - p) : n;

		if (namelen == kl && !memcmp(p, key, kl)) {
			if (!eq)
				return form_decode("", 0, out, outlen);
			return form_decode(eq + 1, n - namelen - 1, out, outlen);
		}
		p = amp ? amp + 1 : NULL;
	}
	return -ENOENT;
}

const char *sbxd_http_reason(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
