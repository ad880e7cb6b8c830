/* rest.c - one REST call over the client's shared CURL handle; see rest.h.
 *
 * The handle's fixed options (headers, TLS, protocols, socket creation) are
 * set once by the client's first call (sbx_client_rest_handle, which also
 * loads libcurl); each try sets only what varies (URL, method,
 * body, deadline, sink). The reply sink refuses to grow past
 * SBX_REST_REPLY_MAX, which curl reports as a write error.
 */
#include "api/rest.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client_priv.h"
#include "util/log.h"

#define REST_TRIES	3
#define REST_BACKOFF_MS 250

struct sink {
	struct sbx_buf *buf;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;

	if (n > SBX_REST_REPLY_MAX - s->buf->len) {
		s->too_big = true;
		return 0;
	}
	if (sbx_buf_append(s->buf, p, n) < 0)
		return 0;
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One try under rest_lock. Returns the curl code; *status and *too_big. */
static CURLcode try_once(struct sbx_client *c, const char *method, const char *url,
			 const char *body, struct sbx_buf *reply, long *status, bool *too_big,
			 char *ebuf)
{
	const struct sbx_curl *fn = &c->curl_fn;
	struct sink s = {reply, false};
	CURL *h;
	CURLcode cc;
	long conn_ms = c->request_timeout_ms < 10000 ? c->request_timeout_ms : 10000;

	sbx_buf_reset(reply);
	ebuf[0] = '\0';
	*status = 0;
	pthread_mutex_lock(&c->rest_lock);
	h = c->curl;
	cc = fn->easy_setopt(h, CURLOPT_URL, url);
	if (!cc)
		cc = sbx_curl_set_method(fn, h, method, body);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_WRITEDATA, &s);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_TIMEOUT_MS, c->request_timeout_ms);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, conn_ms);
	if (!cc)
		cc = fn->easy_perform(h);
	if (!cc)
		fn->easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	/* the buffer and sink live on our stack: do not leave them set */
	fn->easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	fn->easy_setopt(h, CURLOPT_WRITEDATA, NULL);
	fn->easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	pthread_mutex_unlock(&c->rest_lock);
	*too_big = s.too_big;
	return cc;
}

static bool retryable_cc(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM: return true;
	default: return false;
	}
}

static int curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT: return -SBX_ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL: return -SBX_EINVAL;
	default: return -SBX_ECONN;
	}
}

/* The server's `message` (and first field error) for an error reply. */
static void server_message(const struct sbx_buf *reply, char *out, size_t len)
{
	json_object *o = NULL, *f0 = NULL, *fields;
	const char *msg = NULL;

	snprintf(out, len, "no message");
	if (!reply->len || sbx_json_parse(reply->data, reply->len, &o) < 0)
		return;
	msg = sbx_json_str(o, "message");
	fields = sbx_json_get(o, "fields");
	if (fields && json_object_is_type(fields, json_type_array) &&
	    json_object_array_length(fields) > 0)
		f0 = json_object_array_get_idx(fields, 0);
	if (msg && f0 && sbx_json_str(f0, "field"))
		snprintf(out, len, "%.200s (%.100s: %.150s)", msg, sbx_json_str(f0, "field"),
			 sbx_json_str(f0, "description") ? sbx_json_str(f0, "description") : "");
	else if (msg)
		snprintf(out, len, "%.400s", msg);
	sbx_json_put(o);
}

/* Turns a finished 2xx reply into *ret. */
static int parse_ok(const struct sbx_buf *reply, json_object **ret, const char *method,
		    const char *path, struct sbx_err *err)
{
	json_object *o = NULL;
	int r;

	if (!ret)
		return 0;
	if (reply->len == 0) {
		o = json_object_new_object();
		if (!o)
			return -ENOMEM;
		*ret = o;
		return 0;
	}
	r = sbx_json_parse(reply->data, reply->len, &o);
	if (r < 0)
		return sbx_err_set(err, r == -ENOMEM ? r : -SBX_EPROTO, 0,
				   "%s %s: reply is not JSON", method, path);
	*ret = o;
	return 0;
}

int sbx_rest_call(struct sbx_client *c, const char *method, const char *path, const char *body,
		  json_object **ret, struct sbx_err *err)
{
	bool safe = !body && (!strcmp(method, "GET") || !strcmp(method, "DELETE"));
	struct sbx_buf url = SBX_BUF_INIT, reply = SBX_BUF_INIT;
	char ebuf[CURL_ERROR_SIZE], msg[SBX_ERR_MSG_MAX];
	bool too_big = false, lost = false;
	long status = 0;
	int r, attempt;
	CURLcode cc = CURLE_OK;
	CURL *h;

	/* loads libcurl on the client's first call; c->curl and c->curl_fn
	 * never change after that */
	pthread_mutex_lock(&c->rest_lock);
	r = sbx_client_rest_handle(c, &h, err);
	pthread_mutex_unlock(&c->rest_lock);
	if (r < 0)
		return r;
	r = sbx_buf_printf(&url, "%s%s", c->api_host, path);
	if (r < 0)
		return sbx_err_set(err, r, 0, "out of memory");
	for (attempt = 1; attempt <= REST_TRIES; attempt++) {
		if (attempt > 1)
			sleep_ms(REST_BACKOFF_MS << (attempt - 2));
		cc = try_once(c, method, url.data, body, &reply, &status, &too_big, ebuf);
		sbx_debug("rest: %s %s -> curl %d http %ld (try %d)", method, path, (int)cc, status,
			  attempt);
		if (!safe || !((cc && retryable_cc(cc)) || (!cc && status == 503)))
			break;
		lost = lost || cc != CURLE_OK;
	}
	if (too_big) {
		r = sbx_err_set(err, -SBX_EPROTO, 0, "%s %s: reply larger than %u bytes", method,
				path, (unsigned)SBX_REST_REPLY_MAX);
	} else if (cc) {
		r = sbx_err_set(err, curl_errno(cc), 0, "%s %s: %s", method, path,
				ebuf[0] ? ebuf : c->curl_fn.easy_strerror(cc));
	} else if (status == 404 && lost && !strcmp(method, "DELETE")) {
		sbx_buf_reset(&reply);
		r = parse_ok(&reply, ret, method, path, err);
	} else if (status < 200 || status > 299) {
		server_message(&reply, msg, sizeof(msg));
		r = sbx_err_set(err, sbx_err_from_http((int)status), (int)status,
				"%s %s: HTTP %ld: %s", method, path, status, msg);
	} else {
		r = parse_ok(&reply, ret, method, path, err);
	}
	sbx_buf_release(&url);
	sbx_buf_release(&reply);
	return r;
}

int sbx_rest_escape(struct sbx_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (; !r && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			r = sbx_buf_putc(out, (char)ch);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};

			r = sbx_buf_append(out, e, 3);
		}
	}
	return r;
}
