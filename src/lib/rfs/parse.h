/* parse.h - parsers of the output of the rfs scripts (pure, no I/O).
 *
 * The scripts print attributes with GNU find's -printf in the format
 * SBX_RFS_ATTR_FMT: type letter, octal permission bits, link count, uid,
 * gid, size, 512-byte blocks, inode, device, and atime, mtime, ctime as
 * seconds with a fraction ("1700000000.1234567890"). Records are
 * NUL-terminated, so any name (newlines included) is exact.
 *
 * Every parser bounds what it accepts and returns -EPROTO for anything it
 * does not understand; nothing is stored on failure unless said otherwise.
 */
#ifndef SBX_LIB_RFS_PARSE_H
#define SBX_LIB_RFS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <time.h>

#include "sbx/rfs.h"

/* find -printf format of one attribute record (without the terminator). */
#define SBX_RFS_ATTR_FMT "%y %m %n %U %G %s %b %i %D %A@ %T@ %C@"
/* find -printf format of a content validator. */
#define SBX_RFS_VALID_FMT "%i:%s:%T@"

/* Parses a time "SEC[.FRACTION]" (SEC may be negative) of exactly n bytes. */
int sbx_rfs_parse_time(const char *s, size_t n, struct timespec *ret);
/* Parses one attribute record of exactly n bytes (no NUL inside). */
int sbx_rfs_parse_attr(const char *s, size_t n, struct sbx_rfs_attr *ret);
/* Parses the output of the readdir script: records "NAME\0ATTR\0LINK\0",
 * the first with an empty NAME for the directory itself. -ENOTDIR when that
 * one is not a directory; -EFBIG past SBX_RFS_DIR_MAX entries. On success
 * *ret is filled (release with sbx_rfs_dir_release); on failure it is empty. */
int sbx_rfs_parse_dir(const char *data, size_t n, struct sbx_rfs_dir *ret);
/* Parses "BSIZE BLOCKS BFREE BAVAIL FILES FFREE NAMEMAX" (stat -f). */
int sbx_rfs_parse_statfs(const char *s, size_t n, struct statvfs *ret);

/* Splits the next NUL-terminated field off the input (*p, *n): returns its
 * start and length in *ret and *ret_len and advances. false when no NUL is left. */
bool sbx_rfs_next_field(const char **p, size_t *n, const char **ret, size_t *ret_len);

/* Incremental parser of the fetch script's output:
 *   ATTR \0 VALIDATOR \0 ('U' | 'C' CONTENT…)
 * Header bytes are collected (bounded); content bytes go to the sink. */
#define SBX_RFS_HDR_MAX 1024
struct sbx_rfs_fetchp {
	char hdr[SBX_RFS_HDR_MAX];
	size_t hdr_len;
	int fields; /* NUL-terminated fields seen (0..2) */
	int state;  /* 0: header, 1: after 'U', 2: content, -1: error */
	uint64_t content_len;
};
void sbx_rfs_fetchp_init(struct sbx_rfs_fetchp *p);
/* Feeds n bytes; content goes to sink(ud, data, len) which returns 0 or a
 * negative errno. Returns 0, -EPROTO, or the sink's error. */
int sbx_rfs_fetchp_feed(struct sbx_rfs_fetchp *p, const char *d, size_t n,
			int (*sink)(void *ud, const char *d, size_t n), void *ud);
/* After the end of the stream: the attributes and validator (out, size
 * SBX_RFS_VALIDATOR_MAX), and whether the content was unchanged. -EPROTO when
 * the header is incomplete. */
int sbx_rfs_fetchp_finish(const struct sbx_rfs_fetchp *p, struct sbx_rfs_attr *ret_attr,
			  char *ret_validator, bool *ret_unchanged);

#endif
