/* b64.c - base64 codec; see b64.h. */
#include "util/b64.h"

#include <errno.h>
#include <stdint.h>

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sbx_b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

static int encode(struct sbx_buf *out, const unsigned char *s, size_t n, const char *alpha, int pad)
{
	size_t i = 0;
	char *o;
	int r;

	r = sbx_buf_reserve(out, sbx_b64_encoded_len(n));
	if (r < 0)
		return r;
	o = out->data + out->len;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
		*o++ = alpha[v >> 6 & 63];
		*o++ = alpha[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
		if (pad) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
		*o++ = alpha[v >> 6 & 63];
		if (pad)
			*o++ = '=';
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

int sbx_b64_encode(struct sbx_buf *out, const void *src, size_t n)
{
	return encode(out, src, n, STD, 1);
}

int sbx_b64url_encode(struct sbx_buf *out, const void *src, size_t n)
{
	return encode(out, src, n, URL, 0);
}

static int val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

int sbx_b64_decode(struct sbx_buf *out, const char *src, size_t n)
{
	uint32_t acc = 0;
	int bits = 0, pads = 0, r;
	size_t i;

	r = sbx_buf_reserve(out, n / 4 * 3 + 3);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		int v;

		if (is_space(c))
			continue;
		if (c == '=') {
			pads++;
			continue;
		}
		if (pads)
			return -EINVAL; /* data after padding */
		v = val(c);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[out->len++] = (char)(acc >> bits & 0xff);
		}
	}
	/* leftover bits must be fewer than a byte and zero-free is not enforced;
	 * a single leftover sextet (6 bits) means a truncated quantum */
	if (bits >= 6 || pads > 2)
		return -EINVAL;
	out->data[out->len] = '\0';
	return 0;
}
