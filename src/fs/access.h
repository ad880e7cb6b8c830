/* access.h - who may use a mount: the owner, root, and with allow_other
 * the other local users for the files (never for /.ctl).
 *
 * The owner is the uid that ran sbxfs (getuid() at start). The kernel
 * already keeps other users out of a mount made without allow_other, but
 * sbxfs does not rely on it: every request names its caller
 * (fuse_req_ctx()->uid) and is refused with EACCES unless:
 *   - the caller is the owner or root, or
 *   - allow_other was given and the request touches the files of the
 *     sandbox, not /.ctl (the kernel then checks the files' modes:
 *     default_permissions is forced with allow_other, see opts.h).
 * /.ctl runs commands as the sandbox's user and shows their output: it is
 * the owner's (and root's) alone, whatever the options.
 *
 * The decision is a pure function so that it is unit-tested alone; the
 * guard that applies it to every request is in lowlevel.c.
 */
#ifndef SBX_FS_ACCESS_H
#define SBX_FS_ACCESS_H

#include <stdbool.h>
#include <sys/types.h>

struct fs_access {
	uid_t owner;	  /* the uid that mounted (sbxfs's getuid()) */
	bool allow_other; /* -o allow_other */
};

/* What a request touches. */
enum fs_area {
	FS_AREA_FILES, /* the sandbox's files (and statfs) */
	FS_AREA_CTL,   /* /.ctl or anything under it */
};

/* 0 when caller may make a request touching area, else -EACCES. */
int fs_access_check(const struct fs_access *a, uid_t caller, enum fs_area area);

#endif
