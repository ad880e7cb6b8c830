/* script.h - the shell scripts of the filesystem primitives, and the parsers
 * of their output.
 *
 * Pure functions: no I/O, no exec. Each builder appends one complete script
 * for `sh -c` to a buffer. Every script:
 *  - runs under LC_ALL=C, so the texts of the tools' errors are the C
 *    library's strerror() texts that errmap.c knows;
 *  - uses only POSIX sh and POSIX tools (test, cat, mkdir, rmdir, rm, mv,
 *    printf, wc, dd; head -c only when a probe shows it is there and does not
 *    read past its count);
 *  - quotes every path with sbx_shquote(), and writes a path that starts with
 *    '-' as "./-…", so that no tool, not even test or cd, takes it for an
 *    option (utilities that follow the syntax guidelines also get "--");
 *  - checks the cases where the tools' or the shell's messages differ
 *    between implementations (dash says "Directory nonexistent" for both
 *    ENOENT and ENOTDIR, busybox rm "is a directory", cd "can't cd") before
 *    acting, and then prints a marker line SBX_FS_MARK "<ENAME>" as the last
 *    line of stderr and exits SBX_FS_MARK_EXIT, so the mapping is exact.
 *
 * Paths may hold any byte but NUL. A builder returns 0, -SBX_EINVAL for a
 * NULL or empty path, -ENAMETOOLONG for a path longer than SBX_FS_PATH_MAX,
 * -E2BIG when the script would not fit one argv string (SBX_FS_SCRIPT_MAX),
 * or -ENOMEM. On failure @p out may hold a partial script; release it.
 */
#ifndef SBX_LIB_FS_SCRIPT_H
#define SBX_LIB_FS_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "sbx/fs.h"
#include "store.h"
#include "util/buf.h"

/** Prefix of the marker line a script prints to stderr before exiting. */
#define SBX_FS_MARK "@sbx:"
/** Exit code of a script that failed with a marker line. */
#define SBX_FS_MARK_EXIT 3
/** Longest path accepted (Linux PATH_MAX). */
#define SBX_FS_PATH_MAX 4096
/** Largest script: one argv string is capped at 128 KiB on Linux
 *  (MAX_ARG_STRLEN); stay well below it. */
#define SBX_FS_SCRIPT_MAX (96 * 1024)

/** Which test of sbx_fs_script_test(). */
enum sbx_fs_test {
	SBX_FS_TEST_EXISTS, /**< test -e */
	SBX_FS_TEST_FILE,   /**< test -f */
	SBX_FS_TEST_DIR,    /**< test -d */
};

/** 0 when @p path can be used, else -SBX_EINVAL or -ENAMETOOLONG. */
int sbx_fs_path_check(const char *path);

/** The parent directory of @p path as a new string (caller frees):
 *  "a/b" → "a", "a" → ".", "/a" → "/", "a/b//" → "a", "/" → "/".
 *  NULL on ENOMEM. */
char *sbx_fs_parent(const char *path);

/** write_file / upload_file: stdin is the content, stored by the guarded
 *  store of store.h: into the temporary named by @p c (beside P, with P's
 *  mode and owner), renamed over P only when it holds c->len bytes with
 *  c->sha256 (else EIO and no temporary left). A symlink, special file or
 *  file with several links is written in place (and still checked). */
int sbx_fs_script_write(struct sbx_buf *out, const char *path, const struct sbx_fs_store_check *c);
/** read_file / download_file: the content on stdout (cat -- P). */
int sbx_fs_script_read(struct sbx_buf *out, const char *path);
/** mkdir -- P, or mkdir -p -- P. */
int sbx_fs_script_mkdir(struct sbx_buf *out, const char *path, bool recursive);
/** The names in P on stdout, each followed by a NUL, in no set order. */
int sbx_fs_script_list(struct sbx_buf *out, const char *path);
/** rm -- P, refusing a directory with EISDIR. */
int sbx_fs_script_delete_file(struct sbx_buf *out, const char *path);
/** rmdir -- P. */
int sbx_fs_script_delete_dir(struct sbx_buf *out, const char *path);
/** rename(2) semantics with mv: TO is the new name even when it is an
 *  existing directory (an empty one is replaced by a directory; a
 *  non-directory onto a directory fails EISDIR; a directory onto a
 *  non-directory fails ENOTDIR). */
int sbx_fs_script_rename(struct sbx_buf *out, const char *from, const char *to);
/** mv semantics: mv -f -- FROM TO (into TO when it is a directory). */
int sbx_fs_script_move(struct sbx_buf *out, const char *from, const char *to);
/** Prints "y\n" or "n\n"; exit 0 either way. */
int sbx_fs_script_test(struct sbx_buf *out, const char *path, enum sbx_fs_test t);
/** rm -rf -- P when recursive (a missing P is success), else like
 *  sbx_fs_script_delete_file(). */
int sbx_fs_script_rm(struct sbx_buf *out, const char *path, bool recursive);
/** The script of write_files: the same for any files. Its stdin is, for
 *  each file in order, the head of sbx_fs_write_files_head() followed by
 *  the file's content; each file is stored like write_file, through the
 *  temporary ".sbx~" @p suffix N (N: its number, from 1; @p suffix is
 *  lowercase hex). It stops at the first failure (the files before it are
 *  written); a marker then names the file as "at file N", from 1. */
int sbx_fs_script_write_files(struct sbx_buf *out, const char *suffix);
/** Appends the head of one file to the stdin of write_files:
 *  "PLEN QLEN DLEN SHA256\n", then the path and its parent directory as raw
 *  bytes (each "./"-prefixed when it starts with '-'). 0, -SBX_EINVAL (no
 *  path, NULL data with a length, or @p sha256 not 64 lowercase hex
 *  digits), -ENAMETOOLONG or -ENOMEM. */
int sbx_fs_write_files_head(struct sbx_buf *out, const struct sbx_file_spec *f, const char *sha256);

/** Splits the output of sbx_fs_script_list() into a NULL-terminated array
 *  of names sorted bytewise (caller frees with sbx_strv_free). Returns 0,
 *  -SBX_EPROTO when the output does not end with a NUL or holds an empty
 *  name, or -ENOMEM. */
int sbx_fs_parse_names(const char *data, size_t len, char ***ret, size_t *ret_n);
/** Parses the output of sbx_fs_script_test(): 0 or -SBX_EPROTO. */
int sbx_fs_parse_flag(const char *data, size_t len, bool *ret);

#endif
