/* client.c - struct sbx_client: configuration, the shared REST handle and the
 * exec transport thread.
 *
 * Invariants: api_host has a scheme of http or https and no trailing '/';
 * the token is printable ASCII without spaces or commas (it travels in an
 * HTTP header and as a WebSocket subprotocol) and is never logged; the CURL
 * handle's fixed options are set here once, by the first REST call, and
 * never changed afterwards. Nothing of libcurl is loaded or initialised
 * before that call (api/curl_dl.h says why).
 */
#include "client_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exec/ws.h"
#include "util/buf.h"
#include "util/log.h"

#define DEFAULT_API_HOST   "https://app.koyeb.com"
#define DEFAULT_TIMEOUT_MS 30000L
#define TOKEN_MAX	   4096

static bool token_ok(const char *t)
{
	size_t n;

	for (n = 0; t[n]; n++) {
		unsigned char ch = (unsigned char)t[n];

		if (n >= TOKEN_MAX || ch <= ' ' || ch >= 0x7f || ch == ',')
			return false;
	}
	return n > 0;
}

/* Copies the host without trailing '/' and checks its scheme. */
static int host_dup(const char *h, char **ret, struct sbx_err *err)
{
	size_t n = strlen(h), skip;

	while (n && h[n - 1] == '/')
		n--;
	if (!strncmp(h, "https://", 8))
		skip = 8;
	else if (!strncmp(h, "http://", 7))
		skip = 7;
	else
		return sbx_err_set(err, -SBX_EINVAL, 0,
				   "API host must start with http:// or https://");
	if (n <= skip || n > 2048)
		return sbx_err_set(err, -SBX_EINVAL, 0, "API host has no host name");
	*ret = strndup(h, n);
	return *ret ? 0 : sbx_err_set(err, -ENOMEM, 0, "out of memory");
}

static curl_socket_t open_cloexec(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int make_headers(struct sbx_client *c)
{
	const struct sbx_curl *fn = &c->curl_fn;
	static const char *const fixed[] = {"Accept: */*", "Content-Type: application/json",
					    "Expect:"};
	struct sbx_buf auth = SBX_BUF_INIT;
	struct curl_slist *l = NULL, *n;
	size_t i;
	int r;

	r = sbx_buf_printf(&auth, "Authorization: Bearer %s", c->token);
	if (r < 0)
		return r;
	l = fn->slist_append(NULL, auth.data);
	explicit_bzero(auth.data, auth.len);
	sbx_buf_release(&auth);
	for (i = 0; l && i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		n = fn->slist_append(l, fixed[i]);
		if (!n) {
			fn->slist_free_all(l);
			l = NULL;
		}
		l = n;
	}
	if (!l)
		return -ENOMEM;
	c->headers = l;
	return 0;
}

/* Frees the REST handle and its headers (not the library). */
static void drop_handle(struct sbx_client *c)
{
	const struct sbx_curl *fn = &c->curl_fn;
	struct curl_slist *l;

	if (!fn->dl)
		return;
	if (c->curl)
		fn->easy_cleanup(c->curl);
	for (l = c->headers; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	fn->slist_free_all(c->headers);
	c->curl = NULL;
	c->headers = NULL;
}

/* Undoes everything of libcurl, at the client's end. */
static void release_curl(struct sbx_client *c)
{
	drop_handle(c);
	if (c->curl_global)
		c->curl_fn.global_cleanup();
	c->curl_global = false;
	sbx_curl_unload(&c->curl_fn);
}

/* With rest_lock held: libcurl loaded and initialised, once per client;
 * the table stays filled until the client is freed. */
static int curl_ready(struct sbx_client *c, struct sbx_err *err)
{
	int r;

	if (c->curl_global)
		return 0;
	r = sbx_curl_load(&c->curl_fn, err);
	if (r < 0)
		return r;
	/* thread-safe and reference counted since curl 7.84 */
	if (c->curl_fn.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		sbx_curl_unload(&c->curl_fn);
		return sbx_err_set(err, -ENOMEM, 0, "cannot initialise libcurl");
	}
	c->curl_global = true;
	sbx_debug("client: libcurl loaded");
	return 0;
}

static int setup_curl(struct sbx_client *c, struct sbx_err *err)
{
	const struct sbx_curl *fn = &c->curl_fn;
	CURL *h;
	CURLcode cc;

	h = c->curl = fn->easy_init();
	if (!h || make_headers(c) < 0)
		return sbx_err_set(err, -ENOMEM, 0, "cannot initialise libcurl");
	cc = fn->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_USERAGENT, "sbx/" SBX_VERSION);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (!cc && c->ca_file)
		cc = fn->easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_cloexec);
	if (!cc)
		cc = fn->easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (cc)
		return sbx_err_set(err, -SBX_EINVAL, 0, "libcurl: %s", fn->easy_strerror(cc));
	return 0;
}

int sbx_client_rest_handle(struct sbx_client *c, CURL **ret, struct sbx_err *err)
{
	int r;

	if (c->curl) {
		*ret = c->curl;
		return 0;
	}
	r = curl_ready(c, err);
	if (r < 0)
		return r;
	r = setup_curl(c, err);
	if (r < 0) {
		drop_handle(c);
		return r;
	}
	*ret = c->curl;
	return 0;
}

int sbx_client_curl(struct sbx_client *c, const struct sbx_curl **ret, struct sbx_err *err)
{
	int r;

	pthread_mutex_lock(&c->rest_lock);
	r = curl_ready(c, err);
	pthread_mutex_unlock(&c->rest_lock);
	if (r == 0)
		*ret = &c->curl_fn;
	return r;
}

static int resolve_opts(struct sbx_client *c, const struct sbx_client_opts *o, struct sbx_err *err)
{
	const char *host = o && o->api_host ? o->api_host : getenv("KOYEB_API_HOST");
	const char *token = o && o->token ? o->token : getenv("KOYEB_API_TOKEN");
	/* OpenSSL's own variable: libwebsockets would read it anyway through
	 * the default verify paths, libcurl would not, so name it to both */
	const char *ca = o && o->ca_file ? o->ca_file : getenv("SSL_CERT_FILE");
	int r;

	if (!host || !*host)
		host = DEFAULT_API_HOST;
	r = host_dup(host, &c->api_host, err);
	if (r < 0)
		return r;
	if (!token || !*token)
		return sbx_err_set(err, -SBX_EINVAL, 0,
				   "no API token (set KOYEB_API_TOKEN or pass one)");
	if (!token_ok(token))
		return sbx_err_set(err, -SBX_EINVAL, 0,
				   "API token has characters not allowed in a header");
	c->token = strdup(token);
	if (ca && *ca)
		c->ca_file = strdup(ca);
	if (o && o->id_cache_dir)
		c->id_cache_dir = strdup(o->id_cache_dir);
	if (!c->token || (ca && *ca && !c->ca_file) || (o && o->id_cache_dir && !c->id_cache_dir))
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	c->transport = o ? o->transport : SBX_TRANSPORT_AUTO;
	c->request_timeout_ms =
	    o && o->request_timeout_ms > 0 ? o->request_timeout_ms : DEFAULT_TIMEOUT_MS;
	return 0;
}

int sbx_client_new(const struct sbx_client_opts *opts, struct sbx_client **ret, struct sbx_err *err)
{
	struct sbx_client *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	pthread_mutex_init(&c->rest_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	r = resolve_opts(c, opts, err);
	if (r < 0)
		goto fail;
	r = sbx_wsc_new(c->api_host, c->token, c->ca_file, &c->ws, err);
	if (r < 0)
		goto fail;
	sbx_debug("client: api host %s", c->api_host);
	*ret = c;
	return 0;
fail:
	sbx_client_free(c);
	return r;
}

void sbx_client_free(struct sbx_client *c)
{
	if (!c)
		return;
	sbx_wsc_free(c->ws);
	release_curl(c);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->api_host);
	free(c->ca_file);
	free(c->id_cache_dir);
	pthread_mutex_destroy(&c->rest_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *sbx_client_api_host(const struct sbx_client *c)
{
	return c->api_host;
}
