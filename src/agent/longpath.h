/* longpath.h - absolute paths longer than the kernel takes in one call.
 *
 * The kernel refuses a path of PATH_MAX bytes or more (ENAMETOOLONG), but
 * a name may lie deeper than that: a client reaches it relative to a
 * directory, as a shell does after cd. A client of the agent sends
 * absolute paths (up to SBXA_LONGPATH_MAX), so the agent walks a long one
 * in steps: it opens (O_PATH) the directory named by the longest prefix
 * of at most LONGPATH_STEP bytes that ends at a '/', then the next prefix
 * relative to that one, until the rest is short; the request then acts on
 * the rest relative to the last directory. Each step is the kernel's own
 * resolution with the request's credentials (search permission, symlinks
 * followed in directories as a one-call path would), so the answer is the
 * one a shell in that directory would get.
 *
 * Ops with one path run in that directory (longpath_enter(): the agent is
 * single-threaded, so its working directory is the request's for its
 * duration, and "/" between requests); RENAME and LINK resolve each of
 * their two paths with longpath_at(). WATCH and JOB_START's cwd are left
 * to the kernel (ENAMETOOLONG): a watch keeps its path for later.
 */
#ifndef SBX_AGENT_LONGPATH_H
#define SBX_AGENT_LONGPATH_H

#include <stdbool.h>

#include "req.h"

/* Bytes of one step, and most of the rest (well under PATH_MAX). */
#define LONGPATH_STEP 4000u

/* The directory holding the last part of absolute path: *ret_fd is
 * AT_FDCWD with *rest = path when path is short, else an O_PATH
 * descriptor (the caller closes it) with *rest pointing into path. 0, or
 * -errno with nothing to close (-ENAMETOOLONG when a step holds no '/': a
 * name that long cannot exist). */
int longpath_at(const char *path, int *ret_fd, const char **rest);

/* For an op of one path: when q->path is long, moves the agent into the
 * directory holding its last part and makes q->path "./" and that part.
 * *entered: longpath_leave() must follow the op. 0 or -errno. */
int longpath_enter(struct agent_req *q, bool *entered);
/* Back to "/". */
void longpath_leave(void);

#endif
