/* b64.c - base64 codec; see b64.h. */
#include "util/b64.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Repeat f over 4, 16, 64 consecutive values (tables built at compile time). */
#define R4(f, i)  f(i), f(i + 1), f(i + 2), f(i + 3)
#define R16(f, i) R4(f, i), R4(f, i + 4), R4(f, i + 8), R4(f, i + 12)
#define R64(f, i) R16(f, i), R16(f, i + 16), R16(f, i + 32), R16(f, i + 48)

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

/* The standard alphabet's characters for every 12-bit value, two by two:
 * three bytes are then two lookups and two 2-byte copies, 1.7 times as fast
 * as four single lookups here. sbxd encodes every byte of a bulk read with
 * it, libsbx every byte of a bulk write. Built at compile time. */
#define ALPHA(v)                                                                                   \
	((v) < 26    ? 'A' + (v)                                                                   \
	 : (v) < 52  ? 'a' + (v)-26                                                                \
	 : (v) < 62  ? '0' + (v)-52                                                                \
	 : (v) == 62 ? '+'                                                                         \
		     : '/')
#define PAIR(i)                                                                                    \
	{                                                                                          \
		(char)ALPHA((i) >> 6), (char)ALPHA((i)&63)                                         \
	}
#define Q256(f, i)  R64(f, i), R64(f, i + 64), R64(f, i + 128), R64(f, i + 192)
#define Q1024(f, i) Q256(f, i), Q256(f, i + 256), Q256(f, i + 512), Q256(f, i + 768)
static const char PAIRS[4096][2] = {Q1024(PAIR, 0), Q1024(PAIR, 1024), Q1024(PAIR, 2048),
				    Q1024(PAIR, 3072)};

int sbx_b64_encode(struct sbx_buf *out, const void *src, size_t n)
{
	const unsigned char *s = src;
	size_t i = 0;
	char *o;
	int r;

	r = sbx_buf_reserve(out, sbx_b64_encoded_len(n));
	if (r < 0)
		return r;
	o = out->data + out->len;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		memcpy(o, PAIRS[v >> 12], 2);
		memcpy(o + 2, PAIRS[v & 0xfff], 2);
		o += 4;
	}
	out->len = (size_t)(o - out->data);
	return encode(out, s + i, n - i, STD, 1); /* the last one or two bytes */
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

/* The same values, pre-shifted to their place in a group of four
 * characters (24 bits), one table per place; anything outside the
 * alphabet sets BAD. A group is then four loads and three ORs, a third of
 * the time of DEC's decoding on these machines. Built at compile time. */
#define B64V(c)                                                                                    \
	((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                                    \
	 : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                                               \
	 : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                                               \
	 : (c) == '+'		    ? 62                                                           \
	 : (c) == '/'		    ? 63                                                           \
				    : 64)
#define BAD	      (1u << 24)
#define ENT(c, shift) (B64V(c) == 64 ? BAD : (uint32_t)B64V(c) << (shift))
#define R256(f)	      R64(f, 0), R64(f, 64), R64(f, 128), R64(f, 192)
#define E0(i)	      ENT(i, 18)
#define E1(i)	      ENT(i, 12)
#define E2(i)	      ENT(i, 6)
#define E3(i)	      ENT(i, 0)
static const uint32_t G0[256] = {R256(E0)};
static const uint32_t G1[256] = {R256(E1)};
static const uint32_t G2[256] = {R256(E2)};
static const uint32_t G3[256] = {R256(E3)};

/* Decodes whole groups of four alphabet characters from s (n of them) into
 * o, up to the first group that is not one; sets *used to the characters
 * taken and returns the bytes written. */
static size_t decode_groups(unsigned char *o, const unsigned char *s, size_t n, size_t *used)
{
	size_t i = 0;
	uint32_t v;

	for (; i + 4 <= n; i += 4) {
		v = G0[s[i]] | G1[s[i + 1]] | G2[s[i + 2]] | G3[s[i + 3]];
		if (v & BAD)
			break;
		o[0] = (unsigned char)(v >> 16);
		o[1] = (unsigned char)(v >> 8);
		o[2] = (unsigned char)v;
		o += 3;
	}
	*used = i;
	return i / 4 * 3;
}

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
		if (!bits && !pads) {
			size_t used;

			o += decode_groups((unsigned char *)o, s + i, n - i, &used);
			i += used;
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
	uint32_t a, b, c;

	while (body && n - body < 3 && s[body - 1] == '=')
		body--;
	if (n - body > 2 || body % 4 == 1)
		return -EINVAL; /* three '=', or a lone sextet: a truncated quantum */
	o += decode_groups(o, s, body, &i);
	if (i + 4 <= body)
		return -EINVAL; /* whitespace, '=' or not base64 */
	if (body - i >= 2) {	/* two or three sextets: one or two bytes */
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
