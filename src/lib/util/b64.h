/* b64.h - base64 (RFC 4648) encoding and decoding.
 *
 * Standard alphabet with padding is what the exec WebSocket carries; the
 * URL-safe alphabet without padding is what a sandbox secret is made of.
 */
#ifndef SBX_UTIL_B64_H
#define SBX_UTIL_B64_H

#include <stddef.h>

#include "util/buf.h"

/* Length of the padded standard encoding of n bytes (without NUL). */
size_t sbx_b64_encoded_len(size_t n);
/* Appends the standard, padded encoding of src to out. 0 or -ENOMEM. */
int sbx_b64_encode(struct sbx_buf *out, const void *src, size_t n);
/* Appends the URL-safe, unpadded encoding of src to out. 0 or -ENOMEM. */
int sbx_b64url_encode(struct sbx_buf *out, const void *src, size_t n);
/* Decodes standard base64 and appends the bytes to out. ASCII whitespace is
 * skipped (base64(1) wraps lines); padding is optional at the very end.
 * Returns 0, -EINVAL on a character outside the alphabet or bad padding, or
 * -ENOMEM. On -EINVAL, out may hold a partial result. */
int sbx_b64_decode(struct sbx_buf *out, const char *src, size_t n);
/* Most bytes that n characters of base64 decode to (room for
 * sbx_b64_decode_raw()'s destination). */
size_t sbx_b64_decoded_max(size_t n);
/* Decodes standard base64 from src straight into dst, which has room for
 * sbx_b64_decoded_max(n) bytes. Strict where sbx_b64_decode() is lenient:
 * no whitespace is skipped; otherwise the same input is accepted (at most
 * two '=' at the very end, optional) and gives the same bytes. Returns the
 * number of bytes written, or -EINVAL (dst then holds garbage). */
long sbx_b64_decode_raw(void *dst, const char *src, size_t n);

#endif
