/* store.h - stores that cannot tear: the one mechanism both shell stacks
 * (lib/fs primitives, lib/rfs driver operations) use to replace a file.
 *
 * A store streams the new content as the session's stdin into a temporary
 * file beside the target and renames it over the target only when all of
 * it arrived: the script knows the expected length and SHA-256 (in the
 * script text, computed locally before the session starts) and compares
 * them with what landed on disk (`wc -c`, and `sha256sum` when the sandbox
 * has it; without it, the length alone is checked). A stream cut anywhere
 * (client killed, sbxd killed, connection dropped) makes `cat` end early:
 * the check fails, the temporary is removed and the writer gets EIO. The
 * old content survives whatever happens before the rename.
 *
 * A store killed outright (its process tree dies with sbxd) cannot clean
 * up, so each store registers its temporary before creating it, in a
 * journal directory of the sandbox, and unregisters it when done:
 *
 *   journal  /var/tmp/.sbx-stores-UID/          (mode 0700, owned by UID;
 *                                   $SBX_STORE_JOURNAL when set, for tests)
 *   entry    SUFFIX.PID.START -> /abs/dir/.sbx~SUFFIX   (a symlink)
 *
 * PID is the store's shell and START its start time (field 22 of
 * /proc/PID/stat), so that a recycled pid is not mistaken for the store.
 * The sweep (sbx_fs_store_sweep_script) visits the entries only: for each
 * whose process is gone it removes the temporary (only a name .sbx~*) and
 * the entry. A store still running, from any client, is left alone: every
 * store of the sandbox runs in the sandbox's PID namespace, where the sweep
 * looks. Without /proc or a writable /var/tmp a store still works, it just
 * is not registered.
 *
 * Pure functions except the digests, which read memory or a descriptor.
 */
#ifndef SBX_LIB_FS_STORE_H
#define SBX_LIB_FS_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "util/buf.h"

/** Hex SHA-256 plus NUL. */
#define SBX_FS_SHA256_HEX 65
/** Random part of a temporary's name: 16 hex digits plus NUL. */
#define SBX_FS_STORE_SUFFIX 17
/** Prefix of a temporary's name, in the target's directory. */
#define SBX_FS_STORE_TMP ".sbx~"

/** What a store promises to deliver: checked before the rename. */
struct sbx_fs_store_check {
	uint64_t len;
	char sha256[SBX_FS_SHA256_HEX];	  /**< lowercase hex */
	char suffix[SBX_FS_STORE_SUFFIX]; /**< names the temporary */
};

/** Fills c->suffix with fresh random hex. 0 or a negative errno. */
int sbx_fs_store_suffix(struct sbx_fs_store_check *c);

/** c->len = @p len and c->sha256 of the first @p len bytes of @p fd (read
 *  with pread; the offset is untouched). -EIO when the file is shorter. */
int sbx_fs_store_digest_fd(struct sbx_fs_store_check *c, int fd, uint64_t len);

/** c->len and c->sha256 of the concatenation of @p iov (borrowed). */
int sbx_fs_store_digest_iov(struct sbx_fs_store_check *c, const struct iovec *iov, size_t n);

/** Appends to @p b the path of the temporary of @p path: its directory,
 *  then SBX_FS_STORE_TMP and @p suffix ("a" → "./.sbx~S", "/a" →
 *  "/.sbx~S"). 0, -EINVAL (empty path or suffix) or -ENOMEM. */
int sbx_fs_store_tmp_path(struct sbx_buf *b, const char *path, const char *suffix);

/** Appends the shell functions of a guarded store (after a preamble that
 *  sets LC_ALL=C). They use only names starting with "sbxs_":
 *   sbxs_begin T          register T in the journal, then create it
 *                         exclusively; status 1 (unregistered) if it
 *                         cannot be created;
 *   sbxs_recv F [CMD...]  the bytes of stdin (or CMD's output) into F,
 *                         hashed on the way when sha256sum exists;
 *                         status 1 if writing F failed;
 *   sbxs_commit T P N S   T holds N bytes with SHA-256 S: rename it to P
 *                         and unregister; else remove it, unregister and
 *                         fail with the marker "@sbx:EIO ..." (exit 3);
 *   sbxs_check F N S      status 0 when F holds N bytes (and SHA-256 S,
 *                         taken by the last sbxs_recv or computed now);
 *                         sbxs_why says what is wrong, sbxs_v what was
 *                         checked ("sha256" or "length");
 *   sbxs_drop             remove the temporary and unregister it;
 *   sbxs_die WHY          fail with the marker "@sbx:EIO WHY".
 *  0 or -ENOMEM. */
int sbx_fs_store_helpers(struct sbx_buf *b);

/** Appends the arguments " N S" of sbxs_commit / sbxs_check for @p c.
 *  -EINVAL when c->sha256 is not 64 lowercase hex digits. */
int sbx_fs_store_check_args(struct sbx_buf *b, const struct sbx_fs_store_check *c);

/** Appends a complete script that sweeps the journal of the running user
 *  (see the top of this file) and prints the number of entries removed and
 *  a newline. It never fails on a bad entry; it skips it. */
int sbx_fs_store_sweep_script(struct sbx_buf *b);

/** Parses the output of the sweep: 0 and *ret, or -EPROTO. */
int sbx_fs_store_sweep_parse(const char *data, size_t len, unsigned *ret);

#endif
