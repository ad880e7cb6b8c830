/* xfile_child.h - the operation of xfile.h as the forked child does it,
 * inside the sandbox. Internal to xfile.c (and its unit test). */
#ifndef SBX_HOST_XFILE_CHILD_H
#define SBX_HOST_XFILE_CHILD_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Does op (enum sbxd_xfile_op) on path and appends the JSON reply body to
 * b. Uses the calling process's root and credentials as they are. */
void sbxd_xfile_child_run(struct sbx_buf *b, int op, const char *path, const char *data, size_t len,
			  unsigned mode);

#endif
