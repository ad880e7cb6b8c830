/* xfer.h - how the filesystem primitives' bytes cross the executor API
 * (docs/executor-protocol.md §5) without losing any.
 *
 * The executor carries text only: a JSON string whose bytes are not UTF-8
 * comes back with U+FFFD in their place, /run has no stdin, and the command
 * of /run is one argument of `sh -c`, which Linux caps at 128 KiB
 * (MAX_ARG_STRLEN). So:
 *  - bytes going in travel as base64: inside the command ("printf %s B64 |
 *    base64 -d | sh -c SCRIPT", one request) when they fit SBX_XFER_CHUNK,
 *    else as text files written by /write_file in /tmp, pieces of
 *    SBX_XFER_PIECE bytes (one request each, no argument limit there), that
 *    the script's run decodes in order into its stdin and removes;
 *  - bytes coming out of a script that prints binary (read, list) go to a
 *    staging file and come back base64-encoded: in the same reply when at
 *    most SBX_XFER_INLINE_MAX bytes, else in ranges of SBX_XFER_RANGE bytes;
 *  - a /read_file or /list_dir reply is used only when it cannot have been
 *    altered: it holds no U+FFFD (sbx_xfer_has_fffd).
 * Executor file errors are Go's "<op> <path>: <reason>" texts, mapped to the
 * errno the WebSocket path gives for the same case (sbx_xfer_errno_go).
 *
 * Pure functions: no I/O.
 */
#ifndef SBX_LIB_FS_XFER_H
#define SBX_LIB_FS_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/** Longest command sent to /run: below MAX_ARG_STRLEN (128 KiB) with room. */
#define SBX_XFER_CMD_MAX ((size_t)120 << 10)
/** Raw bytes sent inside the command itself (base64: 96 KiB). */
#define SBX_XFER_CHUNK ((size_t)72 << 10)
/** Raw bytes per staged piece (base64 about 683 KiB, under the 1 MiB body
 *  sbxd takes). */
#define SBX_XFER_PIECE ((size_t)512 << 10)
/** Most pieces in one staged stdin (4 GiB). */
#define SBX_XFER_PIECES_MAX 8192u
/** Output returned in the reply of the run itself (base64: about 5.4 MiB,
 *  below sbxd's 16 MiB per stream of /run). */
#define SBX_XFER_INLINE_MAX ((size_t)4 << 20)
/** Bytes per later range of a bigger output (a multiple of 64 KiB). */
#define SBX_XFER_RANGE ((size_t)4 << 20)
/** Length of a staging file's name: "/tmp/.sbx-x" + 16 hex + NUL, with
 *  room. */
#define SBX_XFER_STAGE_MAX 64

/** true when s[0..n) holds the UTF-8 of U+FFFD, the executor's
 *  replacement of bytes that were not UTF-8. */
bool sbx_xfer_has_fffd(const char *s, size_t n);

/** true when s[0..n) is valid UTF-8 (see below), U+FFFD allowed: what a
 *  JSON string may carry to the executor (a command). */
bool sbx_xfer_utf8_valid(const char *s, size_t n);

/** true when s[0..n) is valid UTF-8 (no overlong form, no surrogate, no
 *  code point past U+10FFFF) and has no U+FFFD: a JSON string carries it
 *  unchanged. */
bool sbx_xfer_utf8_exact(const char *s, size_t n);

/** The errno of an executor file error text ("open /x: no such file or
 *  directory" → -ENOENT), matched on the reason after the last ": ", or 0
 *  when the reason is not one we know. */
int sbx_xfer_errno_go(const char *text);

/** Writes a fresh staging name "/tmp/.sbx-xKIND-HEX" into out (cap at least
 *  SBX_XFER_STAGE_MAX). @p kind is "in" or "out". 0 or a negative errno. */
int sbx_xfer_stage_name(char *out, size_t cap, const char *kind);

/** The name of piece @p idx of a staged stdin: "STAGE.NNNNNN". 0 or
 *  -ENAMETOOLONG. */
int sbx_xfer_piece_name(char *out, size_t cap, const char *stage, unsigned idx);

/** Appends @p s as one word of sh: quoted (sbx_shquote) when the JSON
 *  string of a command can carry it, else "$(printf %s B64 | base64 -d)".
 *  0 or -ENOMEM. */
int sbx_xfer_sh_word(struct sbx_buf *out, const char *s);

/** Where the script's stdin comes from. */
struct sbx_xfer_in {
	const void *inline_data; /**< piped in from the command (base64) */
	size_t inline_len;
	const char *stage; /**< else the pieces of this stage (removed after) */
	unsigned n_pieces; /**< how many: STAGE.000000 … */
};

/** Appends the command that runs @p script under sh with the stdin of
 *  @p in (a script that is not UTF-8, because a path in it is not, travels
 *  as base64 too: sh -c "$(printf %s B64 | base64 -d)"), and:
 *   - out_stage NULL: the script's stdout and stderr are the reply's, its
 *     exit code the command's;
 *   - else the script's stdout goes to out_stage; when the script fails,
 *     out_stage is removed and its code returned; when it succeeds the
 *     reply's stdout is "I LEN\n" and the base64 of the whole output (then
 *     removed) when LEN <= SBX_XFER_INLINE_MAX, else "F LEN\n" and the file
 *     is left for sbx_xfer_cmd_range().
 *  0, -E2BIG (longer than SBX_XFER_CMD_MAX) or -ENOMEM. */
int sbx_xfer_cmd_run(struct sbx_buf *out, const char *script, const struct sbx_xfer_in *in,
		     const char *out_stage);

/** Appends the command that prints the base64 of range @p idx (of
 *  SBX_XFER_RANGE bytes) of @p stage, and removes the file when @p last. */
int sbx_xfer_cmd_range(struct sbx_buf *out, const char *stage, uint64_t idx, bool last);

/** Parses the head of a run's stdout with out_stage ("I LEN\n" or "F
 *  LEN\n"): 0, *ret_inline, *ret_len and *ret_off (where the base64
 *  starts), or -EPROTO. */
int sbx_xfer_parse_head(const char *s, size_t n, bool *ret_inline, uint64_t *ret_len,
			size_t *ret_off);

#endif
