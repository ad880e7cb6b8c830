/* cgroup.h - resource limits of sandboxes through cgroups (v2 or v1).
 *
 * sbxd makes a group "sbxd" under its own cgroup in each hierarchy it can
 * use (v2: the unified one; v1: memory, cpu and pids), and one group
 * "sbxd/<service id>" per sandbox holding the bwrap process and every exec
 * child. Limits come from the instance type. Wherever a controller is
 * missing or not writable, the sandbox runs without that limit and a
 * message says so; cgroups never make a start fail.
 */
#ifndef SBX_HOST_CGROUP_H
#define SBX_HOST_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/spec.h"

enum { SBX_CG_MEM, SBX_CG_CPU, SBX_CG_PIDS, SBX_CG_N };

struct sbxd_cg_root {
	int version;		       /* 0 (none usable), 1 or 2 */
	char base[SBX_CG_N][PATH_MAX]; /* ".../sbxd" per controller, "" if unusable;
					* on v2 all three are the same directory */
};

struct sbxd_cg {
	size_t n; /* groups created */
	char dirs[SBX_CG_N][PATH_MAX];
	char procs[SBX_CG_N][PATH_MAX + 16]; /* "<dir>/cgroup.procs", for joining */
};

/* Finds the hierarchies and creates the "sbxd" groups. Always succeeds;
 * root->version is 0 when nothing is usable. Stale per-sandbox groups left
 * by an earlier run are removed. */
void sbxd_cg_detect(struct sbxd_cg_root *root);

/* Creates the groups of sandbox id with the limits of t (CPU capped at ncpu
 * cores). note(arg, text) is called once per limit that is not applied. */
void sbxd_cg_create(const struct sbxd_cg_root *root, const char *id, const struct sbxd_itype *t,
		    int ncpu, struct sbxd_cg *cg, void (*note)(void *, const char *), void *arg);

/* Writes pid into every group of cg (used by a forked child for itself).
 * Only async-signal-safe calls. 0, or -errno for the first group that could
 * not be joined: the caller must then not run anything of the sandbox's,
 * which would escape the sandbox's limits. */
int sbxd_cg_join(const struct sbxd_cg *cg, int pid);

/* SIGKILLs every process in the groups. Returns how many were signalled. */
int sbxd_cg_kill_all(const struct sbxd_cg *cg);

/* Removes the groups. 0, or -EBUSY while a process is still in one (call
 * again later). Removed groups are forgotten. */
int sbxd_cg_remove(struct sbxd_cg *cg);

#endif
