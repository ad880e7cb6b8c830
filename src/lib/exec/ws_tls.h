/* ws_tls.h - TLS for the exec WebSocket, as a filter between the socket
 * and the WebSocket: OpenSSL over memory buffers, no I/O of its own.
 *
 * Why not libwebsockets' TLS: lws 4.1.6 cannot start TLS on a RAW client
 * connection (it sets up the TLS session before the socket exists and
 * fails with EBADF), and the exec client needs RAW connections to do its
 * own framing (see ws.c). So lws carries the TCP bytes and this module
 * turns them into plaintext and back.
 *
 * Verification is always on: the server's chain must lead to a trusted
 * authority (the CA file given, else OpenSSL's default paths, which honour
 * SSL_CERT_FILE and SSL_CERT_DIR), and its certificate must name the host
 * (SNI is sent for it too). TLS 1.2 is the oldest version accepted.
 *
 * Use: feed every received byte to sbx_wstls_rx(), then read plaintext
 * with sbx_wstls_read(); give plaintext to sbx_wstls_write(); send what
 * sbx_wstls_take_out() hands back, in order. The handshake runs inside
 * these calls. Not thread-safe: one session, one thread.
 */
#ifndef SBX_EXEC_WS_TLS_H
#define SBX_EXEC_WS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

struct sbx_wstls_ctx;
struct sbx_wstls;

/* The settings shared by a client's sessions: trust store and versions.
 * ca_file may be NULL. On failure *why (a static string) says what failed. */
int sbx_wstls_ctx_new(const char *ca_file, struct sbx_wstls_ctx **ret, const char **why);
/* Accepts NULL. */
void sbx_wstls_ctx_free(struct sbx_wstls_ctx *c);

/* A client session for host (no port), handshake not yet started. */
int sbx_wstls_new(struct sbx_wstls_ctx *c, const char *host, struct sbx_wstls **ret);
/* Accepts NULL. */
void sbx_wstls_free(struct sbx_wstls *s);

/* Starts the handshake (the ClientHello waits in the output). 0 or -errno. */
int sbx_wstls_start(struct sbx_wstls *s);
/* Takes n received bytes. 0, or -SBX_ECONN when the session failed
 * (sbx_wstls_error() says why). */
int sbx_wstls_rx(struct sbx_wstls *s, const void *in, size_t n);
/* Reads up to n bytes of plaintext: > 0 bytes, 0 when none is available
 * yet, -SBX_ECONN on failure or when the peer closed the TLS session. */
ssize_t sbx_wstls_read(struct sbx_wstls *s, void *buf, size_t n);
/* Encrypts all of p[0..n) into the output. Only once sbx_wstls_ready().
 * 0 or -SBX_ECONN. */
int sbx_wstls_write(struct sbx_wstls *s, const void *p, size_t n);
/* true once the handshake is complete (and the server verified). */
bool sbx_wstls_ready(const struct sbx_wstls *s);
/* Bytes waiting to be sent. */
size_t sbx_wstls_out_pending(const struct sbx_wstls *s);
/* Moves every byte waiting to be sent to the end of out. 0 or -ENOMEM. */
int sbx_wstls_take_out(struct sbx_wstls *s, struct sbx_buf *out);
/* Why the session failed, for humans: the certificate check's reason when
 * that was it. "" while nothing failed. */
const char *sbx_wstls_error(const struct sbx_wstls *s);

#endif
