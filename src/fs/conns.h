/* conns.h - the agent sessions of -o max_conns past the first.
 *
 * The exec WebSocket's receive path costs the client CPU per byte (the
 * frames are base64 in JSON, and libwebsockets 4.1 parses them a byte per
 * call), so one session, served by one transport thread, is bound by one
 * core. The sessions past the first each have their own API client, so
 * their own transport thread, and carry ranged reads only (fcache_range.c).
 *
 * They are opened when a mount first reads a large file in bulk (a
 * read-ahead window of FCACHE_RA_MAX / 4), by a thread of their own, so
 * no request waits for them and a mount that never streams a large file
 * never has them: fs->n_conns grows from 0 as each one is ready. A session
 * that cannot be opened is logged and not tried again by this mount.
 *
 * Threads: conns_want() and conns_pick() from any thread; conns_close()
 * once, when no FUSE request runs any more (it joins the opener).
 */
#ifndef SBX_FS_CONNS_H
#define SBX_FS_CONNS_H

#include <stdbool.h>

#include "fs/fs.h"

/* Asks for the sessions (once; cheap after the first call). */
void conns_want(struct sbx_fs *fs);
/* The session of the next ranged read: any of the open ones, taken in
 * turn, or the main one (always when ordered is true: only the main
 * session is ordered after our writes). */
struct sbx_rfs *conns_pick(struct sbx_fs *fs, bool ordered);
/* Sessions open now (past the main one). */
unsigned conns_count(const struct sbx_fs *fs);
/* Waits for the opener and closes every session past the main one. */
void conns_close(struct sbx_fs *fs);

#endif
