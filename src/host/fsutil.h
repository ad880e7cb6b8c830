/* fsutil.h - small file helpers of sbxd: atomic replace, directory paths.
 *
 * sbxd_write_atomic() is how every state file (db.json, sbxd.json,
 * images.json, token) is written: a reader sees the old or the new content,
 * never a half-written file.
 */
#ifndef SBX_HOST_FSUTIL_H
#define SBX_HOST_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Writes data to path through "path.tmp.PID" + fsync + rename, with mode.
 * 0 or -errno (the temporary file is removed on failure). */
int sbxd_write_atomic(const char *path, const void *data, size_t n, mode_t mode);

/* snprintf into a fixed path buffer that reports truncation: 0, or
 * -ENAMETOOLONG (out then holds a truncated string). */
int sbxd_pathf(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
