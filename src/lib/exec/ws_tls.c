/* ws_tls.c - TLS for the exec WebSocket over memory buffers; see ws_tls.h.
 *
 * The SSL object reads from one memory BIO (what the socket received) and
 * writes to another (what the socket must send). A memory BIO never
 * blocks: a read with no data asks for more (SSL_ERROR_WANT_READ), a write
 * always completes, so SSL_write() takes a whole frame in one call.
 * OpenSSL's error queue is per thread and cleared before each call, so a
 * reason read from it belongs to this session.
 */
#include "exec/ws_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sbx/error.h"

struct sbx_wstls_ctx {
	SSL_CTX *ctx;
};

struct sbx_wstls {
	SSL *ssl;
	BIO *rbio, *wbio; /* owned by ssl */
	bool ready, failed;
	char err[160];
};

int sbx_wstls_ctx_new(const char *ca_file, struct sbx_wstls_ctx **ret, const char **why)
{
	struct sbx_wstls_ctx *c = calloc(1, sizeof(*c));

	*why = "out of memory";
	if (!c)
		return -ENOMEM;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		goto fail;
	*why = "cannot set up TLS";
	if (!SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION))
		goto fail;
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_RELEASE_BUFFERS);
	*why = ca_file ? "cannot load the CA file" : "cannot load the system's CA store";
	if (ca_file ? !SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL)
		    : !SSL_CTX_set_default_verify_paths(c->ctx))
		goto fail;
	*ret = c;
	return 0;
fail:
	ERR_clear_error();
	sbx_wstls_ctx_free(c);
	return -SBX_EINVAL;
}

void sbx_wstls_ctx_free(struct sbx_wstls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

/* The name the certificate must carry: an address literal is matched
 * against the certificate's IP entries, a name against its DNS names (and
 * sent as SNI, which may not be an address). */
static int set_peer_name(SSL *ssl, const char *host)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) ? 0 : -SBX_EINVAL;
	if (!SSL_set_tlsext_host_name(ssl, host) || !SSL_set1_host(ssl, host))
		return -SBX_EINVAL;
	return 0;
}

int sbx_wstls_new(struct sbx_wstls_ctx *c, const char *host, struct sbx_wstls **ret)
{
	struct sbx_wstls *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (!s)
		return -ENOMEM;
	s->ssl = SSL_new(c->ctx);
	s->rbio = BIO_new(BIO_s_mem());
	s->wbio = BIO_new(BIO_s_mem());
	if (!s->ssl || !s->rbio || !s->wbio) {
		BIO_free(s->rbio);
		BIO_free(s->wbio);
		goto fail;
	}
	SSL_set_bio(s->ssl, s->rbio, s->wbio);
	SSL_set_connect_state(s->ssl);
	r = set_peer_name(s->ssl, host);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	ERR_clear_error();
	if (s->ssl)
		SSL_free(s->ssl);
	free(s);
	return r;
}

void sbx_wstls_free(struct sbx_wstls *s)
{
	if (!s)
		return;
	SSL_free(s->ssl);
	free(s);
}

/* Records why the session failed; -SBX_ECONN. */
static int fail(struct sbx_wstls *s, int ssl_err)
{
	long v = SSL_get_verify_result(s->ssl);
	unsigned long e = ERR_peek_error();

	s->failed = true;
	if (v != X509_V_OK)
		snprintf(s->err, sizeof(s->err), "the server's certificate was refused: %s",
			 X509_verify_cert_error_string(v));
	else if (ssl_err == SSL_ERROR_ZERO_RETURN)
		snprintf(s->err, sizeof(s->err), "the server ended the TLS session");
	else if (e)
		snprintf(s->err, sizeof(s->err), "TLS: %s", ERR_reason_error_string(e));
	else
		snprintf(s->err, sizeof(s->err), "TLS: the connection failed");
	ERR_clear_error();
	return -SBX_ECONN;
}

static int handshake(struct sbx_wstls *s)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	if (r == 1) {
		s->ready = true;
		return 0;
	}
	e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	return fail(s, e);
}

int sbx_wstls_start(struct sbx_wstls *s)
{
	return handshake(s);
}

int sbx_wstls_rx(struct sbx_wstls *s, const void *in, size_t n)
{
	if (s->failed)
		return -SBX_ECONN;
	if (n > INT32_MAX || (n && BIO_write(s->rbio, in, (int)n) != (int)n))
		return fail(s, SSL_ERROR_SSL);
	return s->ready ? 0 : handshake(s);
}

ssize_t sbx_wstls_read(struct sbx_wstls *s, void *buf, size_t n)
{
	int r, e;

	if (s->failed)
		return -SBX_ECONN;
	if (!s->ready)
		return 0;
	ERR_clear_error();
	r = SSL_read(s->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
	if (r > 0)
		return r;
	e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return 0;
	return fail(s, e);
}

int sbx_wstls_write(struct sbx_wstls *s, const void *p, size_t n)
{
	int r;

	if (s->failed || (n && !s->ready))
		return -SBX_ECONN;
	if (!n)
		return 0;
	if (n > INT32_MAX)
		return -SBX_EINVAL;
	ERR_clear_error();
	r = SSL_write(s->ssl, p, (int)n);
	if (r != (int)n)
		return fail(s, SSL_get_error(s->ssl, r));
	return 0;
}

bool sbx_wstls_ready(const struct sbx_wstls *s)
{
	return s->ready && !s->failed;
}

size_t sbx_wstls_out_pending(const struct sbx_wstls *s)
{
	return BIO_ctrl_pending(s->wbio);
}

int sbx_wstls_take_out(struct sbx_wstls *s, struct sbx_buf *out)
{
	size_t n = BIO_ctrl_pending(s->wbio);
	int r;

	if (!n)
		return 0;
	r = sbx_buf_reserve(out, n);
	if (r < 0)
		return r;
	if (BIO_read(s->wbio, out->data + out->len, (int)n) != (int)n)
		return -SBX_EINVAL;
	out->len += n;
	return 0;
}

const char *sbx_wstls_error(const struct sbx_wstls *s)
{
	return s->err;
}
