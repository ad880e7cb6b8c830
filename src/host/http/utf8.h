/* utf8.h - checks on text that arrives from the network (pure functions).
 *
 * Everything sbxd stores or echoes (names in db.json, header values in
 * error messages) must stay valid UTF-8, and names must not carry bytes
 * that cut strings (NUL) or fool a terminal (control characters).
 */
#ifndef SBX_HOST_HTTP_UTF8_H
#define SBX_HOST_HTTP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is well-formed UTF-8 (RFC 3629: shortest form only, no
 * surrogates, nothing above U+10FFFF). NUL bytes are allowed here. */
bool sbxd_utf8_valid(const char *s, size_t n);

/* True when s[0..n) is well-formed UTF-8 without NUL, C0 controls (U+0000 to
 * U+001F), DEL or C1 controls (U+0080 to U+009F). */
bool sbxd_utf8_printable(const char *s, size_t n);

#endif
