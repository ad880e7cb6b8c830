/* xlist.c - lists of xattr names (see xlist.h). */
#include "fs/xlist.h"

#include <string.h>

/* Length of the name at p (at most left bytes: a last name may lack its
 * NUL). */
static size_t name_len(const char *p, size_t left)
{
	const char *z = memchr(p, '\0', left);

	return z ? (size_t)(z - p) : left;
}

bool xlist_has(const char *list, size_t len, const char *name)
{
	size_t off = 0, n, want = strlen(name);

	while (off < len) {
		n = name_len(list + off, len - off);
		if (n == want && !memcmp(list + off, name, n))
			return true;
		off += n + 1;
	}
	return false;
}

size_t xlist_drop_prefix(char *list, size_t len, const char *prefix)
{
	size_t in = 0, out = 0, n, k, plen = strlen(prefix);

	while (in < len) {
		n = name_len(list + in, len - in);
		k = in + n < len ? n + 1 : n; /* with its NUL when it has one */
		if (!(n >= plen && !memcmp(list + in, prefix, plen))) {
			memmove(list + out, list + in, k);
			out += k;
		}
		in += k;
	}
	return out;
}
