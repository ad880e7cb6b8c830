/* token.c - see token.h. */
#include "host/token.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "host/fsutil.h"
#include "util/b64.h"
#include "util/rand.h"
#include "util/statedir.h"

static int create_token(const char *path, struct sbx_buf *out)
{
	unsigned char raw[32];
	int r;

	r = sbx_rand_bytes(raw, sizeof(raw));
	if (r < 0)
		return r;
	r = sbx_b64url_encode(out, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (r < 0)
		return r;
	return sbxd_write_atomic(path, out->data, out->len, 0600);
}

int sbxd_token_load(const char *state_dir, struct sbx_buf *out)
{
	struct sbx_buf path = SBX_BUF_INIT;
	int r;

	r = sbx_buf_printf(&path, "%s/token", state_dir);
	if (r < 0)
		return r;
	sbx_buf_reset(out);
	r = sbx_read_small_file(path.data, 4096, out);
	if (r == -ENOENT) {
		sbx_buf_reset(out);
		r = create_token(path.data, out);
		goto out;
	}
	if (r < 0)
		goto out;
	while (out->len && strchr(" \t\r\n", out->data[out->len - 1]))
		out->data[--out->len] = '\0';
	if (!out->len)
		r = -EINVAL;
	else
		chmod(path.data, 0600);
out:
	sbx_buf_release(&path);
	return r;
}

bool sbxd_token_equal(const char *expected, size_t elen, const char *got, size_t glen)
{
	if (!elen || elen != glen)
		return false;
	return CRYPTO_memcmp(expected, got, elen) == 0;
}
