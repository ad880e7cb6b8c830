/* buf.h - a growable byte buffer.
 *
 * Invariants: data is NULL when cap is 0; otherwise data[len] == '\0' always
 * holds (the buffer is NUL-terminated for convenience but may contain NUL
 * bytes). The buffer owns data; sbx_buf_detach() hands it to the caller.
 * Functions that allocate return 0 or -ENOMEM; on failure the buffer is
 * unchanged.
 */
#ifndef SBX_UTIL_BUF_H
#define SBX_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct sbx_buf {
	char *data;
	size_t len;
	size_t cap;
};

#define SBX_BUF_INIT                                                                               \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void sbx_buf_init(struct sbx_buf *b);
/* Frees the storage and resets to empty. Accepts an initialised empty buffer. */
void sbx_buf_release(struct sbx_buf *b);
/* Ensures room for extra more bytes (plus the terminating NUL). */
int sbx_buf_reserve(struct sbx_buf *b, size_t extra);
int sbx_buf_append(struct sbx_buf *b, const void *p, size_t n);
int sbx_buf_puts(struct sbx_buf *b, const char *s);
int sbx_buf_putc(struct sbx_buf *b, char c);
int sbx_buf_printf(struct sbx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbx_buf_vprintf(struct sbx_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Drops the first n bytes (n <= len). */
void sbx_buf_consume(struct sbx_buf *b, size_t n);
void sbx_buf_reset(struct sbx_buf *b);
/* Returns the data (never NULL: an empty buffer yields a fresh ""), which the
 * caller now owns and frees; the buffer is left empty. NULL only on ENOMEM. */
char *sbx_buf_detach(struct sbx_buf *b, size_t *ret_len);

#endif
