/* verbs.h - decoding of the lines written to .ctl/ctl, .ctl/jobs/N/ctl,
 * .ctl/procs and .ctl/ports (pure functions, no FUSE, no sandbox).
 *
 * A write holds verbs, one a line; blank lines are skipped, and a line's
 * trailing CR, spaces and tabs are not part of it. An argument follows its
 * verb after one space and ends at the end of the line (or at a NUL byte).
 *
 *   .ctl/ctl:        wait-ready [SECONDS]   delete   drop-caches
 *   jobs/N/ctl:      run COMMAND   kill   signal NAME   cwd DIR
 *                    env KEY=VALUE   timeout SECONDS
 *   procs:           start COMMAND   kill ID
 *   ports:           bind PORT   PORT   unbind
 *
 * "run" and "start" take the rest of the write, newlines included, as the
 * command.
 * files.c carries the verbs out; this file only says what a line means, so
 * that the decoding of what a user writes can be tested and fuzzed alone.
 */
#ifndef SBX_FS_CTL_VERBS_H
#define SBX_FS_CTL_VERBS_H

#include <stdbool.h>
#include <stddef.h>

#include "sbx/proc.h"

/* Bounds on the numbers of the verbs (seconds). */
#define CTL_WAIT_READY_MAX 86400.0
#define CTL_WAIT_READY_DEF 300.0
#define CTL_TIMEOUT_MAX	   (31 * 86400.0)

enum ctl_verb {
	CTL_V_BAD,	  /* not a verb of this file, or used wrongly */
	CTL_V_WAIT_READY, /* seconds: in (0, CTL_WAIT_READY_MAX] unless err */
	CTL_V_DELETE,
	CTL_V_DROP_CACHES,
	CTL_V_SYNC, /* store every closed or open file's changes now */
	CTL_V_RUN,  /* run, run_len */
	CTL_V_KILL,
	CTL_V_SIGNAL,  /* arg: the signal's name as written */
	CTL_V_CWD,     /* arg: a directory, absolute or relative to the mount */
	CTL_V_ENV,     /* arg: KEY=VALUE with KEY a shell name unless err */
	CTL_V_TIMEOUT, /* seconds: in [0, CTL_TIMEOUT_MAX] unless err */
	CTL_V_START,   /* run, run_len: a background process of the executor */
	CTL_V_PKILL,   /* arg: a process id (letters, digits, '-', '_') unless err */
	CTL_V_BIND,    /* port: in [1, 65535] unless err; also a bare number */
	CTL_V_UNBIND,
};

/* The file a write went to: which verbs it knows. */
enum ctl_file { CTL_F_TOP, CTL_F_JOB, CTL_F_PROCS, CTL_F_PORTS, CTL_F__N };

/* The longest process id .ctl/procs accepts. */
#define CTL_PROC_ID_MAX SBX_PROC_ID_MAX

struct ctl_cmd {
	enum ctl_verb verb;
	int err;	 /* 0, or -EINVAL: the argument is not valid for verb */
	char *arg;	 /* owned, or NULL */
	const char *run; /* CTL_V_RUN, CTL_V_START: the rest of the write (borrowed, not
			  * NUL-terminated, may hold anything: job_run checks) */
	size_t run_len;
	double seconds;
	unsigned port;
};

/* Decodes the next non-blank line of [*p, end) as a verb of the file f and
 * advances *p past it. Returns 1 with
 * *cmd filled (release it), 0 when only blank lines were left, -ENOMEM.
 * Every line gives a command: CTL_V_BAD is a line that means nothing here,
 * err an argument that is not valid; files.c decides when to say so. */
int ctl_cmd_next(const char **p, const char *end, enum ctl_file f, struct ctl_cmd *cmd);
/* Frees arg; accepts a zeroed or released command. */
void ctl_cmd_release(struct ctl_cmd *cmd);

#endif
