/* statedir.h - where the local host keeps its state, shared by sbxd and sbx,
 * and the small file helpers both sides use.
 *
 * The rule: $SBX_STATE_DIR, else $XDG_STATE_HOME/sbx, else $HOME/.local/state/sbx.
 * Files in it that both sides rely on: "token" (0600, the API token),
 * "sbxd.json" ({"pid","api_host","version"}, present while sbxd listens),
 * "sbxd.lock", "sbxd.log" (when the CLI started sbxd in the background).
 */
#ifndef SBX_UTIL_STATEDIR_H
#define SBX_UTIL_STATEDIR_H

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

#endif
