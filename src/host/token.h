/* token.h - the API token of sbxd.
 *
 * The token is 32 random bytes in URL-safe base64 without padding (43
 * characters), kept in STATE/token with mode 0600 and created on the first
 * start. It is never logged. Comparison runs in constant time.
 */
#ifndef SBX_HOST_TOKEN_H
#define SBX_HOST_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Loads STATE/token into out, creating it when absent. A file that exists
 * but is empty or unreadable is an error (-EINVAL / -errno), never silently
 * replaced. 0 or -errno. */
int sbxd_token_load(const char *state_dir, struct sbx_buf *out);

/* Constant-time equality of the expected token and a presented one (the
 * lengths may differ; only the length leaks). */
bool sbxd_token_equal(const char *expected, size_t elen, const char *got, size_t glen);

#endif
