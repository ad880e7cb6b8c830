/* statedir.h - where the local host keeps its state, shared by sbxd and sbx,
 * and the small file helpers both sides use.
 *
 * The rule: $SBX_STATE_DIR, else $XDG_STATE_HOME/sbx, else $HOME/.local/state/sbx.
 * Files in it that both sides rely on: "token" (0600, the API token),
 * "sbxd.json" ({"pid","api_host","version"}, present while sbxd listens),
 * "sbxd.lock", "sbxd.log" (when the CLI started sbxd in the background),
 * "ids.json" (the CLI's sandbox id cache, src/lib/api/idcache.h).
 *
 * Private files: a file another local user could write would let that user
 * steer what the owner's programs do (the id cache decides where a command
 * runs), so the sbx_private_* helpers use a directory only when it is the
 * caller's own (owner = effective uid, no group or other access) and a file
 * only when it is a regular file of the caller's with no group or other
 * access, never following a symbolic link at the last component.
 */
#ifndef SBX_UTIL_STATEDIR_H
#define SBX_UTIL_STATEDIR_H

#include <stdbool.h>

#include "util/buf.h"

/* Appends the state directory path to out (no trailing slash). 0, -ENOENT
 * when no variable gives a place, or -ENOMEM. */
int sbx_state_dir(struct sbx_buf *out);
/* mkdir -p with mode 0700 for every created component. 0 or -errno. */
int sbx_mkdir_p(const char *path, unsigned mode);
/* Writes all n bytes to fd, retrying short writes and EINTR. 0 or -errno. */
int sbx_write_all(int fd, const void *p, size_t n);
/* Reads a whole small file (at most max bytes) into out. 0, -EFBIG, -errno. */
int sbx_read_small_file(const char *path, size_t max, struct sbx_buf *out);

/* Opens dir (O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC) when it is private: owned
 * by the effective uid, mode without group or other bits. With create,
 * makes it first (mkdir -p, 0700) when missing. The fd, -EPERM when it is
 * not private, or -errno. */
int sbx_private_dir_open(const char *dir, bool create);
/* Reads name in dirfd (at most max bytes) into out when it is a private
 * regular file (as above). 0, -ENOENT, -EPERM (not private, not regular, a
 * symlink), -EFBIG, -errno. */
int sbx_private_file_read(int dirfd, const char *name, size_t max, struct sbx_buf *out);
/* Replaces name in dirfd with the n bytes at p, atomically: a new 0600 file
 * beside it, renamed over it. 0 or -errno (then name is untouched). */
int sbx_private_file_write(int dirfd, const char *name, const void *p, size_t n);

#endif
