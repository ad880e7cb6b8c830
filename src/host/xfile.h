/* xfile.h - file operations of the executor API, done inside a sandbox.
 *
 * Each operation runs in a child sbxd forks for it: the child makes itself
 * non-dumpable, dies with sbxd, joins the sandbox's namespaces and becomes
 * its root exactly as an exec does (sbxd_nsexec_enter: the sandbox's user,
 * mount and other namespaces, chrooted to the init's root), and only then
 * looks at the path. So a path resolves as it would for a process of the
 * sandbox: "../../" stops at the sandbox's "/", a symbolic link pointing
 * to "/etc" means the sandbox's /etc, and what it creates belongs to the
 * sandbox's root. Nothing of the host's filesystem is reachable.
 *
 * The child writes the JSON reply body the executor sends (Go's error
 * texts, "open /x: no such file or directory"); the parent collects it
 * without blocking. Bounds: a file read is at most SBX_XFILE_MAX_READ bytes
 * (an error past it), a listing at most SBX_XFILE_MAX_ENTRIES names, and a
 * child that has not answered within SBX_XFILE_DEADLINE_MS is killed, and
 * at most SBX_XFILE_MAX_LIVE children run at once.
 */
#ifndef SBX_HOST_XFILE_H
#define SBX_HOST_XFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

struct sbxd;
struct sbxd_svc;
struct sbxd_xfile;

#define SBX_XFILE_MAX_READ    (8u << 20)
#define SBX_XFILE_MAX_ENTRIES 100000
#define SBX_XFILE_DEADLINE_MS 30000
#define SBX_XFILE_MAX_LIVE    64 /* children at once; more are -EAGAIN */

enum sbxd_xfile_op {
	SBXD_XF_WRITE,	    /* {"success":true} | {"success":false,"error"} */
	SBXD_XF_READ,	    /* {"content"?} | {"error"} */
	SBXD_XF_DELETE,	    /* a file or an empty directory */
	SBXD_XF_MKDIR,	    /* mkdir -p, 0755 */
	SBXD_XF_RMDIR,	    /* recursive; missing is success */
	SBXD_XF_LIST,	    /* {"entries"?:[sorted names]} | {"error"} */
	SBXD_XF_ISDIR,	    /* {"dir":true|false} (the cwd check of /run) */
	SBXD_XF_CONFIGFILE, /* write with parents made and a mode (config_files) */
};

/* fn gets 0 and the reply body (borrowed for the call), or -errno (the
 * child failed or was killed). Fires exactly once unless cancelled. */
typedef void (*sbxd_xfile_fn)(void *user, int err, const struct sbx_buf *body);

/* Starts op on path (borrowed; copied by the fork) with data (write only).
 * mode is for SBXD_XF_CONFIGFILE. 0 with *ret, -ESRCH when the sandbox is
 * not running, -EAGAIN when too many run already, -errno. */
int sbxd_xfile_start(struct sbxd *d, struct sbxd_svc *v, enum sbxd_xfile_op op, const char *path,
		     const char *data, size_t len, unsigned mode, sbxd_xfile_fn fn, void *user,
		     struct sbxd_xfile **ret);

/* The same in the sandbox whose init is pid (for a sandbox not yet
 * HEALTHY: its config files are written before it is). */
int sbxd_xfile_start_pid(struct sbxd *d, pid_t pid, enum sbxd_xfile_op op, const char *path,
			 const char *data, size_t len, unsigned mode, sbxd_xfile_fn fn, void *user,
			 struct sbxd_xfile **ret);

/* The caller no longer wants the answer: the child is killed, fn never
 * fires. Accepts NULL. */
void sbxd_xfile_cancel(struct sbxd_xfile *f);

/* Appends p[0..n) to out as the body of a JSON string (no quotes), with
 * invalid UTF-8 replaced by U+FFFD as Go's encoder does. 0 or -ENOMEM. */
int sbxd_json_str_utf8(struct sbx_buf *out, const char *p, size_t n);

#endif
