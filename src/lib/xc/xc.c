/* xc.c - the executor client; see xc.h.
 *
 * Keep-alive without a lock around the transfer: a small pool of CURL easy
 * handles (each with its own connection cache) under x->lock. A call takes
 * one from the pool, or makes a new one when the pool is empty, runs its
 * transfer unlocked and puts it back, so concurrent calls run on their own
 * connections and sequential ones reuse a warm connection. Handles beyond
 * XC_POOL_MAX are closed instead of kept.
 *
 * One transfer object (struct xfer) serves both kinds of request: a JSON
 * call collects the body (bounded by XC_REPLY_MAX); a stream feeds a 2xx body
 * to the SSE parser (bounded by XC_EVENT_MAX per event) and collects any
 * other body (bounded by XC_ERRBODY_MAX) for the error message. Whatever
 * ends a transfer early (the caller's stop, a bound, a malformed event, the
 * idle limit) is recorded in the xfer and the write or progress callback
 * aborts curl; the code returned comes from that record, not from curl's.
 *
 * The secret lives only in the two header lists; errors are built from the
 * method, path, status and the server's text, never from a header.
 */
#include "xc/xc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>

#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"
#include "xc/sse.h"

#define XC_POOL_MAX    8
#define XC_TRIES       4		  /* the first try and 3 more after a 503 */
#define XC_CONNECT_MS  10000L		  /* cap on connecting (and TLS) */
#define XC_ERRBODY_MAX ((size_t)64 << 10) /* a refusal's body we read */
#define XC_URL_MAX     8192

struct xc {
	const struct sbx_curl *cf; /* libcurl's entry points (fixed, borrowed) */
	char *base_url;
	char *ca_file;
	struct curl_slist *hdr_get;  /* auth (+ routing key); holds the secret */
	struct curl_slist *hdr_post; /* the same + Content-Type */
	bool curl_global;

	pthread_mutex_t lock; /* protects pool and n_pool */
	CURL *pool[XC_POOL_MAX];
	size_t n_pool;
};

/* One transfer's state, shared with the curl callbacks. */
struct xfer {
	const struct sbx_curl *cf;
	CURL *h;
	long status;	     /* 0 until the headers are in */
	struct sbx_buf body; /* a call's reply, or a refusal's body */
	size_t body_max;
	bool stream; /* a 2xx body goes to the parser */
	struct xc_sse sse;
	xc_event_fn fn;
	void *ud;
	double idle_s;	      /* 0: no idle limit */
	struct timespec last; /* when the last byte came */
	int stop;	      /* why the transfer was aborted, or 0 */
	bool by_caller;	      /* stop is the event callback's value */
	char why[160];	      /* a message for stop (no secret) */
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static curl_socket_t open_cloexec(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* --- the pool --- */

static CURL *handle_new(struct xc *x)
{
	const struct sbx_curl *cf = x->cf;
	CURL *h = cf->easy_init();
	CURLcode cc;

	if (!h)
		return NULL;
	cc = cf->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_USERAGENT, "sbx/" SBX_VERSION);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (!cc && x->ca_file)
		cc = cf->easy_setopt(h, CURLOPT_CAINFO, x->ca_file);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_cloexec);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (cc) {
		cf->easy_cleanup(h);
		return NULL;
	}
	return h;
}

static CURL *handle_get(struct xc *x)
{
	CURL *h = NULL;

	pthread_mutex_lock(&x->lock);
	if (x->n_pool)
		h = x->pool[--x->n_pool];
	pthread_mutex_unlock(&x->lock);
	return h ? h : handle_new(x);
}

static void handle_put(struct xc *x, CURL *h)
{
	pthread_mutex_lock(&x->lock);
	if (x->n_pool < XC_POOL_MAX) {
		x->pool[x->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&x->lock);
	if (h)
		x->cf->easy_cleanup(h);
}

/* --- lifecycle --- */

static struct curl_slist *hdr_add(const struct sbx_curl *cf, struct curl_slist *l, const char *line)
{
	struct curl_slist *n = cf->slist_append(l, line);

	if (!n)
		cf->slist_free_all(l);
	return n;
}

/* The header lists; the secret's copy on the stack is wiped. */
static int make_headers(struct xc *x, const struct xc_target *t)
{
	const struct sbx_curl *cf = x->cf;
	struct sbx_buf a = SBX_BUF_INIT, k = SBX_BUF_INIT;
	struct curl_slist *g = NULL, *p = NULL;
	int r;

	r = sbx_buf_printf(&a, "Authorization: Bearer %s", t->secret);
	if (!r && t->routing_key && *t->routing_key)
		r = sbx_buf_printf(&k, "X-Routing-Key: %s", t->routing_key);
	if (!r) {
		for (int i = 0; i < 2; i++) {
			struct curl_slist *l = hdr_add(cf, NULL, a.data);

			if (l && k.len)
				l = hdr_add(cf, l, k.data);
			if (l)
				l = hdr_add(cf, l, "Accept: application/json, text/event-stream");
			if (l)
				l = hdr_add(cf, l, "Expect:");
			if (l && i == 1)
				l = hdr_add(cf, l, "Content-Type: application/json");
			*(i ? &p : &g) = l;
		}
		r = g && p ? 0 : -ENOMEM;
	}
	if (a.data)
		explicit_bzero(a.data, a.len);
	sbx_buf_release(&a);
	sbx_buf_release(&k);
	if (r) {
		cf->slist_free_all(g);
		cf->slist_free_all(p);
		return r;
	}
	x->hdr_get = g;
	x->hdr_post = p;
	return 0;
}

/* A header value must not end a header line early or smuggle another. */
static bool header_safe(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (n >= max || (unsigned char)*s < ' ' || *s == 0x7f)
			return false;
	return true;
}

static int check_target(const struct xc_target *t, struct sbx_err *err)
{
	if (!t || !t->base_url || !t->secret || !*t->secret || !t->curl || !t->curl->dl)
		return sbx_err_set(err, -SBX_EINVAL, 0, "executor: no URL, secret or libcurl");
	if (strncmp(t->base_url, "http://", 7) && strncmp(t->base_url, "https://", 8))
		return sbx_err_set(err, -SBX_EINVAL, 0,
				   "executor: URL must start with http:// or https://");
	if (!header_safe(t->base_url, 2048))
		return sbx_err_set(err, -SBX_EINVAL, 0, "executor: URL too long or not printable");
	if (!header_safe(t->secret, 1024) || (t->routing_key && !header_safe(t->routing_key, 1024)))
		return sbx_err_set(err, -SBX_EINVAL, 0,
				   "executor: secret or routing key too long or not printable");
	return 0;
}

int xc_new(const struct xc_target *t, struct xc **ret, struct sbx_err *err)
{
	struct xc *x;
	size_t n;
	int r = check_target(t, err);

	if (r)
		return r;
	x = calloc(1, sizeof(*x));
	if (!x)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	pthread_mutex_init(&x->lock, NULL);
	x->cf = t->curl;
	x->curl_global = x->cf->global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	n = strlen(t->base_url);
	while (n && t->base_url[n - 1] == '/')
		n--;
	x->base_url = strndup(t->base_url, n);
	x->ca_file = t->ca_file ? strdup(t->ca_file) : NULL;
	if (!x->curl_global || !x->base_url || (t->ca_file && !x->ca_file) ||
	    make_headers(x, t) < 0) {
		xc_free(x);
		return sbx_err_set(err, -ENOMEM, 0, "executor: cannot initialise libcurl");
	}
	*ret = x;
	return 0;
}

void xc_free(struct xc *x)
{
	if (!x)
		return;
	while (x->n_pool)
		x->cf->easy_cleanup(x->pool[--x->n_pool]);
	if (x->hdr_get)
		x->cf->slist_free_all(x->hdr_get);
	if (x->hdr_post)
		x->cf->slist_free_all(x->hdr_post);
	free(x->base_url);
	free(x->ca_file);
	pthread_mutex_destroy(&x->lock);
	if (x->curl_global)
		x->cf->global_cleanup();
	free(x);
}

const char *xc_base_url(const struct xc *x)
{
	return x->base_url;
}

const struct sbx_curl *xc_curl(const struct xc *x)
{
	return x->cf;
}

/* --- one transfer --- */

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void xfer_fail(struct xfer *t, int code, const char *why)
{
	if (t->stop)
		return;
	t->stop = code;
	snprintf(t->why, sizeof(t->why), "%s", why);
}

static int on_event(void *ud, const char *name, const char *data, size_t n)
{
	struct xfer *t = ud;
	json_object *o = NULL;
	int r;

	r = sbx_json_parse_max(data, n, XC_EVENT_MAX, &o);
	if (r < 0) {
		xfer_fail(t, r == -ENOMEM ? r : -SBX_EPROTO, "an event's data is not JSON");
		return t->stop;
	}
	r = t->fn(t->ud, name, o);
	sbx_json_put(o);
	if (r && !t->stop) {
		t->stop = r;
		t->by_caller = true;
	}
	return r;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *t = ud;
	size_t n = size * nmemb;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t->last);
	if (!t->status)
		t->cf->easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &t->status);
	if (t->stream && t->status >= 200 && t->status <= 299) {
		r = xc_sse_feed(&t->sse, p, n, on_event, t);
		if (r == -EMSGSIZE)
			xfer_fail(t, -SBX_EPROTO, "an event larger than the bound");
		else if (r)
			xfer_fail(t, r < 0 ? r : -SBX_EPROTO, "event stream failed");
		return r ? 0 : n;
	}
	if (n > t->body_max - t->body.len) {
		xfer_fail(t, -SBX_EPROTO, "reply larger than the bound");
		return 0;
	}
	if (sbx_buf_append(&t->body, p, n) < 0) {
		xfer_fail(t, -ENOMEM, "out of memory");
		return 0;
	}
	return n;
}

/* Each header line: the reply has begun, the idle clock starts from here. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *t = ud;

	clock_gettime(CLOCK_MONOTONIC, &t->last);
	return size * nmemb;
}

/* The idle limit counts only once the reply's headers are in: connecting
 * and the server's first answer may take longer than a quiet spell. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *t = ud;
	long status = 0;

	if (t->idle_s <= 0)
		return 0;
	t->cf->easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
	if (status && since(&t->last) >= t->idle_s) {
		xfer_fail(t, -EAGAIN, "stream idle");
		return 1;
	}
	return 0;
}

/* Method, body and headers. A POST without a body sends an empty one. */
static CURLcode set_method(struct xc *x, CURL *h, const char *method, const char *body)
{
	CURLcode cc;

	if (!body && strcmp(method, "POST") == 0)
		body = "";
	cc = sbx_curl_set_method(x->cf, h, method, body);
	if (!cc)
		cc = x->cf->easy_setopt(h, CURLOPT_HTTPHEADER,
					body && *body ? x->hdr_post : x->hdr_get);
	return cc;
}

static void xfer_reset(struct xfer *t)
{
	t->status = 0;
	t->stop = 0;
	t->by_caller = false;
	t->why[0] = '\0';
	sbx_buf_reset(&t->body);
	xc_sse_release(&t->sse);
	xc_sse_init(&t->sse, XC_EVENT_MAX);
	clock_gettime(CLOCK_MONOTONIC, &t->last);
}

/* One try. timeout_ms 0: none. */
static CURLcode try_once(struct xc *x, struct xfer *t, const char *method, const char *url,
			 const char *body, long timeout_ms, char *ebuf)
{
	const struct sbx_curl *cf = x->cf;
	CURL *h = t->h;
	CURLcode cc;
	long conn_ms = timeout_ms && timeout_ms < XC_CONNECT_MS ? timeout_ms : XC_CONNECT_MS;

	xfer_reset(t);
	ebuf[0] = '\0';
	cc = cf->easy_setopt(h, CURLOPT_URL, url);
	if (!cc)
		cc = set_method(x, h, method, body);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_WRITEDATA, t);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_HEADERDATA, t);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_XFERINFODATA, t);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_NOPROGRESS, t->idle_s > 0 ? 0L : 1L);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (!cc)
		cc = cf->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, conn_ms);
	if (!cc)
		cc = cf->easy_perform(h);
	if (!t->status)
		cf->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t->status);
	/* what points into our stack must not stay set on a pooled handle */
	cf->easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	cf->easy_setopt(h, CURLOPT_WRITEDATA, NULL);
	cf->easy_setopt(h, CURLOPT_XFERINFODATA, NULL);
	cf->easy_setopt(h, CURLOPT_HEADERDATA, NULL);
	cf->easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	return cc;
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

/* The executor's own words for a refusal: the "error" (or "message")
 * member of a JSON body, else the text body, cut to printable ASCII. */
static void refusal_text(const struct sbx_buf *b, char *out, size_t len)
{
	json_object *o = NULL;
	const char *s = NULL;
	size_t i, k = 0;

	if (b->len && sbx_json_parse_max(b->data, b->len, XC_ERRBODY_MAX, &o) == 0 &&
	    json_object_is_type(o, json_type_object)) {
		s = sbx_json_str(o, "error");
		if (!s)
			s = sbx_json_str(o, "message");
	}
	if (!s && b->len && !o)
		s = b->data;
	for (i = 0; s && s[i] && k + 1 < len && i < 300; i++)
		out[k++] = (s[i] >= ' ' && s[i] < 0x7f) ? s[i] : ' ';
	while (k && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
	if (!k)
		snprintf(out, len, "no message");
	sbx_json_put(o);
}

/* The deadline's remaining milliseconds (at least 1), 0 when there is none. */
static long remaining_ms(double deadline)
{
	double left;

	if (deadline <= 0)
		return 0;
	left = (deadline - mono_now()) * 1000;
	return left < 1 ? 1 : (long)left;
}

/* Tries until a status other than 503, the tries or the deadline run out. */
static CURLcode run_tries(struct xc *x, struct xfer *t, const char *method, const char *path,
			  const char *url, const char *body, double timeout_s, char *ebuf)
{
	double deadline = timeout_s > 0 ? mono_now() + timeout_s : 0;
	CURLcode cc = CURLE_OK;

	for (int i = 0; i < XC_TRIES; i++) {
		if (i) {
			double pause = (double)(1 << (i - 1));

			if (deadline > 0 && mono_now() + pause >= deadline)
				break;
			sleep_s(pause);
		}
		cc = try_once(x, t, method, url, body, remaining_ms(deadline), ebuf);
		sbx_debug("xc: %s %s -> curl %d http %ld (try %d)", method, path, (int)cc,
			  t->status, i + 1);
		if (t->stop || cc || t->status != 503)
			break;
	}
	return cc;
}

/* Runs a request to its end; see xc_call() for the codes. t->status and,
 * for a refusal, t->body are left for the caller. */
static int request(struct xc *x, const char *method, const char *path, const char *query,
		   json_object *body, double timeout_s, struct xfer *t, struct sbx_err *err)
{
	struct sbx_buf url = SBX_BUF_INIT, text = SBX_BUF_INIT;
	char ebuf[CURL_ERROR_SIZE], msg[SBX_ERR_MSG_MAX / 2];
	CURLcode cc;
	int r;

	r = sbx_buf_printf(&url, "%s%s%s%s", x->base_url, path, query ? "?" : "",
			   query ? query : "");
	if (!r && body)
		r = sbx_json_dump(&text, body);
	if (r) {
		r = sbx_err_set(err, r, 0, "out of memory");
		goto out;
	}
	if (url.len > XC_URL_MAX) {
		r = sbx_err_set(err, -SBX_EINVAL, 0, "%s %s: URL too long", method, path);
		goto out;
	}
	t->h = handle_get(x);
	if (!t->h) {
		r = sbx_err_set(err, -ENOMEM, 0, "executor: cannot initialise libcurl");
		goto out;
	}
	cc = run_tries(x, t, method, path, url.data, body ? text.data : NULL, timeout_s, ebuf);
	handle_put(x, t->h);
	t->h = NULL;
	if (t->stop && t->by_caller) {
		r = t->stop;
	} else if (t->stop) {
		r = sbx_err_set(err, t->stop, (int)t->status, "%s %s: %s", method, path, t->why);
	} else if (cc) {
		r = sbx_err_set(err, curl_errno(cc), 0, "%s %s: %s", method, path,
				ebuf[0] ? ebuf : x->cf->easy_strerror(cc));
	} else if (t->status < 200 || t->status > 299) {
		refusal_text(&t->body, msg, sizeof(msg));
		r = sbx_err_set(err, sbx_err_from_http((int)t->status), (int)t->status,
				"%s %s: HTTP %ld: %s", method, path, t->status, msg);
	}
out:
	sbx_buf_release(&url);
	sbx_buf_release(&text);
	return r;
}

static void xfer_init(struct xfer *t, const struct xc *x, bool stream, size_t body_max)
{
	memset(t, 0, sizeof(*t));
	t->cf = x->cf;
	sbx_buf_init(&t->body);
	xc_sse_init(&t->sse, XC_EVENT_MAX);
	t->stream = stream;
	t->body_max = body_max;
}

static void xfer_release(struct xfer *t)
{
	sbx_buf_release(&t->body);
	xc_sse_release(&t->sse);
}

int xc_call_refusal(struct xc *x, const char *method, const char *path, const char *query,
		    json_object *body, double timeout_s, int *ret_status, json_object **ret,
		    json_object **ret_refusal, struct sbx_err *err)
{
	struct xfer t;
	json_object *o = NULL;
	int r;

	xfer_init(&t, x, false, XC_REPLY_MAX);
	r = request(x, method, path, query, body, timeout_s, &t, err);
	if (ret_status)
		*ret_status = (int)t.status;
	if (r == 0 && t.body.len) {
		r = sbx_json_parse_max(t.body.data, t.body.len, XC_REPLY_MAX, &o);
		if (r < 0)
			r = sbx_err_set(err, r == -ENOMEM ? r : -SBX_EPROTO, (int)t.status,
					"%s %s: reply is not JSON", method, path);
	}
	if (r == 0 && ret)
		*ret = o;
	else
		sbx_json_put(o);
	if (r < 0 && t.status >= 300 && ret_refusal && t.body.len &&
	    sbx_json_parse_max(t.body.data, t.body.len, XC_ERRBODY_MAX, &o) == 0) {
		if (json_object_is_type(o, json_type_object))
			*ret_refusal = o;
		else
			sbx_json_put(o);
	}
	xfer_release(&t);
	return r;
}

int xc_call(struct xc *x, const char *method, const char *path, const char *query,
	    json_object *body, double timeout_s, int *ret_status, json_object **ret,
	    struct sbx_err *err)
{
	return xc_call_refusal(x, method, path, query, body, timeout_s, ret_status, ret, NULL, err);
}

int xc_stream_idle(struct xc *x, const char *method, const char *path, const char *query,
		   json_object *body, double timeout_s, double idle_s, xc_event_fn fn, void *ud,
		   struct sbx_err *err)
{
	struct xfer t;
	int r;

	xfer_init(&t, x, true, XC_ERRBODY_MAX);
	t.fn = fn;
	t.ud = ud;
	t.idle_s = idle_s;
	r = request(x, method, path, query, body, timeout_s, &t, err);
	if (r == 0 && xc_sse_finish(&t.sse) < 0)
		r = sbx_err_set(err, -SBX_EPROTO, (int)t.status,
				"%s %s: stream cut inside an event", method, path);
	xfer_release(&t);
	return r;
}

int xc_stream(struct xc *x, const char *method, const char *path, const char *query,
	      json_object *body, double timeout_s, xc_event_fn fn, void *ud, struct sbx_err *err)
{
	return xc_stream_idle(x, method, path, query, body, timeout_s, 0, fn, ud, err);
}
