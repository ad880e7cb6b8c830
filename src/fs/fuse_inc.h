/* fuse_inc.h - the one place that selects the libfuse API version.
 *
 * Include it first in every file of src/fs that uses libfuse: the low-level
 * API of libfuse 3.12+ (fuse_loop_config setters, fuse_session_loop_mt with
 * the 3.12 config).
 */
#ifndef SBX_FS_FUSE_INC_H
#define SBX_FS_FUSE_INC_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#endif
