/* ws_hs.c - the client's half of the WebSocket opening handshake; see
 * ws_hs.h.
 *
 * The reply parser is lenient where HTTP allows it (bare LF line ends,
 * header names in any case, optional white space around values, a list in
 * Connection) and strict about what the upgrade means: a reply that does
 * not prove the server speaks WebSocket to this nonce is refused.
 */
#include "exec/ws_hs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sbx/error.h"
#include "util/b64.h"
#include "util/rand.h"
#include "util/ws_frame.h"

int sbx_wsh_key_new(struct sbx_wsh_key *k)
{
	struct sbx_buf b = SBX_BUF_INIT;
	unsigned char nonce[16];
	int r;

	r = sbx_rand_bytes(nonce, sizeof(nonce));
	if (r == 0)
		r = sbx_b64_encode(&b, nonce, sizeof(nonce));
	if (r == 0 && b.len != sizeof(k->key) - 1)
		r = -EINVAL;
	if (r == 0) {
		memcpy(k->key, b.data, b.len + 1);
		r = sbx_ws_accept_key(k->key, true, k->accept);
	}
	sbx_buf_release(&b);
	return r;
}

static bool one_line(const char *s)
{
	return !s || !strpbrk(s, "\r\n");
}

int sbx_wsh_request(struct sbx_buf *out, const struct sbx_wsh_request *q,
		    const struct sbx_wsh_key *k)
{
	int r;

	if (!q->host || !q->path || q->path[0] != '/' || !one_line(q->host) || !one_line(q->path) ||
	    !one_line(q->protos) || !one_line(q->auth) || !one_line(q->agent) ||
	    strchr(q->path, ' '))
		return -EINVAL;
	r = sbx_buf_printf(out,
			   "GET %s HTTP/1.1\r\n"
			   "Host: %s\r\n"
			   "Upgrade: websocket\r\n"
			   "Connection: Upgrade\r\n"
			   "Sec-WebSocket-Key: %s\r\n"
			   "Sec-WebSocket-Version: 13\r\n",
			   q->path, q->host, k->key);
	if (r == 0 && q->protos)
		r = sbx_buf_printf(out, "Sec-WebSocket-Protocol: %s\r\n", q->protos);
	if (r == 0 && q->auth)
		r = sbx_buf_printf(out, "Authorization: %s\r\n", q->auth);
	if (r == 0 && q->agent)
		r = sbx_buf_printf(out, "User-Agent: %s\r\n", q->agent);
	if (r == 0)
		r = sbx_buf_puts(out, "\r\n");
	return r;
}

/* ---- the reply ---- */

/* What the header lines said. */
struct seen {
	bool upgrade, connection, accept, extensions;
	int protocols;
	char protocol[64];
};

static size_t trim(const char **v, size_t n)
{
	while (n && (**v == ' ' || **v == '\t')) {
		(*v)++;
		n--;
	}
	while (n && ((*v)[n - 1] == ' ' || (*v)[n - 1] == '\t' || (*v)[n - 1] == '\r'))
		n--;
	return n;
}

static bool is(const char *v, size_t n, const char *word)
{
	return n == strlen(word) && !strncasecmp(v, word, n);
}

/* true when the comma-separated list v[0..n) holds word (any case). */
static bool list_has(const char *v, size_t n, const char *word)
{
	while (n) {
		const char *c = memchr(v, ',', n);
		size_t len = c ? (size_t)(c - v) : n;
		const char *item = v;

		if (is(item, trim(&item, len), word))
			return true;
		if (!c)
			break;
		n -= len + 1;
		v = c + 1;
	}
	return false;
}

static void header(struct seen *s, const char *name, size_t nl, const char *v, size_t vl,
		   const struct sbx_wsh_key *k)
{
	if (is(name, nl, "Upgrade"))
		s->upgrade = is(v, vl, "websocket");
	else if (is(name, nl, "Connection"))
		s->connection = list_has(v, vl, "upgrade");
	else if (is(name, nl, "Sec-WebSocket-Accept"))
		s->accept = vl == strlen(k->accept) && !memcmp(v, k->accept, vl);
	else if (is(name, nl, "Sec-WebSocket-Extensions"))
		s->extensions = vl > 0;
	else if (is(name, nl, "Sec-WebSocket-Protocol")) {
		s->protocols++;
		snprintf(s->protocol, sizeof(s->protocol), "%.*s", (int)vl, v);
	}
}

/* Reads "HTTP/1.x NNN …" into r->status. false when it is not that. */
static bool status_line(const char *p, size_t n, struct sbx_wsh_reply *r)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) || p[7] < '0' || p[7] > '9' || p[8] != ' ')
		return false;
	if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
	    (n > 12 && p[12] != ' ' && p[12] != '\r'))
		return false;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	return true;
}

/* The verdict on a complete head whose lines were read into s. */
static void verdict(struct sbx_wsh_reply *r, const struct seen *s, const char *proto_ok)
{
	const char *why = NULL;

	if (r->status != 101)
		snprintf(r->reason, sizeof(r->reason), "HTTP %d instead of 101", r->status);
	else if (!s->upgrade || !s->connection)
		why = "the reply does not upgrade the connection to WebSocket";
	else if (!s->accept)
		why = "wrong or missing Sec-WebSocket-Accept";
	else if (s->extensions)
		why = "the server chose an extension that was not offered";
	else if (s->protocols > 1 ||
		 (s->protocols == 1 && (!proto_ok || strcmp(s->protocol, proto_ok))))
		why = "the server selected an unexpected subprotocol";
	if (why)
		snprintf(r->reason, sizeof(r->reason), "%s", why);
	r->accepted = r->status == 101 && !why;
}

/* Length of the head (through its blank line) in buf[0..n), or 0. */
static size_t head_len(const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < n && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

int sbx_wsh_reply(const char *buf, size_t n, const struct sbx_wsh_key *k, const char *proto_ok,
		  struct sbx_wsh_reply *r)
{
	struct seen s = {0};
	size_t len, pos, end;

	memset(r, 0, sizeof(*r));
	len = head_len(buf, n < SBX_WSH_REPLY_MAX ? n : SBX_WSH_REPLY_MAX);
	if (!len) {
		if (n < SBX_WSH_REPLY_MAX)
			return 0;
		snprintf(r->reason, sizeof(r->reason), "reply head longer than %u bytes",
			 SBX_WSH_REPLY_MAX);
		return -SBX_EPROTO;
	}
	end = (size_t)((const char *)memchr(buf, '\n', len) - buf);
	if (!status_line(buf, end, r)) {
		snprintf(r->reason, sizeof(r->reason), "the server's reply is not HTTP");
		return -SBX_EPROTO;
	}
	for (pos = end + 1; pos < len;) {
		const char *line = buf + pos, *colon, *v;
		size_t ll = (size_t)((const char *)memchr(line, '\n', len - pos) - line), vl;

		pos += ll + 1;
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (!ll)
			break; /* the blank line */
		colon = memchr(line, ':', ll);
		if (!colon || colon == line) {
			snprintf(r->reason, sizeof(r->reason),
				 "malformed header line in the reply");
			return -SBX_EPROTO;
		}
		v = colon + 1;
		vl = trim(&v, ll - (size_t)(v - line));
		header(&s, line, (size_t)(colon - line), v, vl, k);
	}
	verdict(r, &s, proto_ok);
	return (int)len;
}
