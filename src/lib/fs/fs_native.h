/* fs_native.h - the common primitives as requests of the sandbox handle's
 * agent (sbx/rfs.h), for fs_tp_agent (fs_aop.c): no sh, no process in the
 * sandbox.
 *
 * The rule that keeps results and errors those of the scripts: a request
 * answers only when its answer is surely the script's, which is when it
 * succeeded (and, for the tests, when the name is missing); everything
 * else (any failure, a symlink the request would not follow, a file that
 * is not a plain regular one, a relative path) is left to the script,
 * which then gives its own result and message. A request that failed
 * changed nothing (a store is atomic, a failed mkdir or unlink did
 * nothing), so running the script after it is the script alone.
 */
#ifndef SBX_LIB_FS_NATIVE_H
#define SBX_LIB_FS_NATIVE_H

#include <stdbool.h>

#include "fs_op.h"
#include "util/buf.h"

struct sbx_rfs;

/** Largest write_file done by a request (the content is held twice in
 *  memory: the copy and the memfd the store reads); past it, the script
 *  streams it. */
#define FS_NATIVE_WRITE_MAX ((size_t)8 << 20)

/** Does @p kind on @p path with the agent of @p sb (@p rfs, its context),
 *  on the calling thread (it blocks). @p data is the content of a write.
 *  true when *res holds the primitive's result (success; for the tests
 *  also "no"), false when the script must run instead (res untouched). */
bool fs_native_run(struct sbx_sandbox *sb, struct sbx_rfs *rfs, enum fs_native kind,
		   const char *path, const struct sbx_buf *data, struct sbx_fs_result *res);

/** Whether @p kind may be tried for @p path with @p len bytes of stdin
 *  (absolute paths only: a job runs in "/", the agent's requests need
 *  absolute paths). */
bool fs_native_fits(enum fs_native kind, const char *path, size_t len);

#endif
