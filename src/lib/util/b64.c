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

/* 1 + the value of each byte of the standard alphabet; SP: ASCII
 * whitespace (skipped), PAD: '=', 0: anything else. So "value - 1" has
 * no bit above the sixth exactly for the alphabet. */
enum { SP = 65, PAD = 66 };
static const unsigned char DEC[256] = {
    ['A'] = 1,	 ['B'] = 2,  ['C'] = 3,	  ['D'] = 4,   ['E'] = 5,   ['F'] = 6,	 ['G'] = 7,
    ['H'] = 8,	 ['I'] = 9,  ['J'] = 10,  ['K'] = 11,  ['L'] = 12,  ['M'] = 13,	 ['N'] = 14,
    ['O'] = 15,	 ['P'] = 16, ['Q'] = 17,  ['R'] = 18,  ['S'] = 19,  ['T'] = 20,	 ['U'] = 21,
    ['V'] = 22,	 ['W'] = 23, ['X'] = 24,  ['Y'] = 25,  ['Z'] = 26,  ['a'] = 27,	 ['b'] = 28,
    ['c'] = 29,	 ['d'] = 30, ['e'] = 31,  ['f'] = 32,  ['g'] = 33,  ['h'] = 34,	 ['i'] = 35,
    ['j'] = 36,	 ['k'] = 37, ['l'] = 38,  ['m'] = 39,  ['n'] = 40,  ['o'] = 41,	 ['p'] = 42,
    ['q'] = 43,	 ['r'] = 44, ['s'] = 45,  ['t'] = 46,  ['u'] = 47,  ['v'] = 48,	 ['w'] = 49,
    ['x'] = 50,	 ['y'] = 51, ['z'] = 52,  ['0'] = 53,  ['1'] = 54,  ['2'] = 55,	 ['3'] = 56,
    ['4'] = 57,	 ['5'] = 58, ['6'] = 59,  ['7'] = 60,  ['8'] = 61,  ['9'] = 62,	 ['+'] = 63,
    ['/'] = 64,	 [' '] = SP, ['\n'] = SP, ['\r'] = SP, ['\t'] = SP, ['\v'] = SP, ['\f'] = SP,
    ['='] = PAD,
};

int sbx_b64_decode(struct sbx_buf *out, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	uint32_t acc = 0;
	int bits = 0, pads = 0, r;
	size_t i = 0;
	char *o;

	r = sbx_buf_reserve(out, n / 4 * 3 + 3);
	if (r < 0)
		return r;
	o = out->data + out->len;
	for (;;) {
		/* the common case: whole groups of four alphabet characters (never
		 * after padding, which must end the input) */
		while (!bits && !pads && i + 4 <= n) {
			uint32_t a = DEC[s[i]] - 1u, b = DEC[s[i + 1]] - 1u, c = DEC[s[i + 2]] - 1u,
				 d = DEC[s[i + 3]] - 1u;

			if ((a | b | c | d) & ~63u)
				break;
			acc = a << 18 | b << 12 | c << 6 | d;
			o[0] = (char)(acc >> 16);
			o[1] = (char)(acc >> 8 & 0xff);
			o[2] = (char)(acc & 0xff);
			o += 3;
			i += 4;
		}
		if (i >= n)
			break;
		/* one character at a time: whitespace, padding, a group's end */
		unsigned char v = DEC[s[i++]];

		if (v == SP)
			continue;
		if (v == PAD) {
			pads++;
			continue;
		}
		if (pads || !v)
			return -EINVAL; /* data after padding, or not base64 */
		acc = acc << 6 | (uint32_t)(v - 1);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)(acc >> bits & 0xff);
		}
	}
	out->len = (size_t)(o - out->data);
	/* a single leftover sextet (6 bits) means a truncated quantum */
	if (bits >= 6 || pads > 2)
		return -EINVAL;
	out->data[out->len] = '\0';
	return 0;
}

size_t sbx_b64_decoded_max(size_t n)
{
	return n / 4 * 3 + 2;
}

long sbx_b64_decode_raw(void *dst, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	unsigned char *o = dst;
	size_t i = 0, body = n;
	uint32_t a, b, c, d;

	while (body && n - body < 3 && s[body - 1] == '=')
		body--;
	if (n - body > 2 || body % 4 == 1)
		return -EINVAL; /* three '=', or a lone sextet: a truncated quantum */
	for (; i + 4 <= body; i += 4) {
		a = DEC[s[i]] - 1u;
		b = DEC[s[i + 1]] - 1u;
		c = DEC[s[i + 2]] - 1u;
		d = DEC[s[i + 3]] - 1u;
		if ((a | b | c | d) & ~63u)
			return -EINVAL; /* whitespace, '=' or not base64 */
		a = a << 18 | b << 12 | c << 6 | d;
		o[0] = (unsigned char)(a >> 16);
		o[1] = (unsigned char)(a >> 8);
		o[2] = (unsigned char)a;
		o += 3;
	}
	if (body - i >= 2) { /* two or three sextets: one or two bytes */
		a = DEC[s[i]] - 1u;
		b = DEC[s[i + 1]] - 1u;
		c = body - i == 3 ? DEC[s[i + 2]] - 1u : 0;
		if ((a | b | c) & ~63u)
			return -EINVAL;
		a = a << 18 | b << 12 | c << 6;
		*o++ = (unsigned char)(a >> 16);
		if (body - i == 3)
			*o++ = (unsigned char)(a >> 8);
	}
	return (long)(o - (unsigned char *)dst);
}
