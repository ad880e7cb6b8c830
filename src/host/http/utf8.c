/* utf8.c - UTF-8 well-formedness (RFC 3629 table 3-7 of Unicode); see utf8.h. */
#include "host/http/utf8.h"

#include <stdint.h>

/* Length of the sequence at s[0..n) and its code point in *cp, or 0 when it
 * is not well-formed. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, min = 0x80, c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, min = 0x800, c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

bool sbxd_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;
	uint32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		l = decode(p + i, n - i, &cp);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

bool sbxd_utf8_printable(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;
	uint32_t cp;

	while (i < n) {
		l = decode(p + i, n - i, &cp);
		if (!l || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			return false;
		i += l;
	}
	return true;
}
