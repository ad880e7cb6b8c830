/* call.h - one remote filesystem operation = one exec session.
 *
 * rfs_call_run() starts `sh -c SCRIPT`, optionally streams a local file
 * descriptor as its stdin (with flow control: at most RFS_STDIN_WINDOW bytes
 * queued in libsbx), hands stdout to a sink or collects it (bounded), keeps
 * the first RFS_STDERR_MAX bytes of stderr, and blocks until the session
 * ends. It then maps the outcome: exit 0 → 0; a script or tool failure →
 * the errno of lib/fs/errmap; a transport failure → its transport code.
 * Every call is counted in the context's statistics.
 *
 * Threading: callbacks run on the transport thread and only touch the call
 * under its mutex (or the sink, which the caller provides for that thread).
 */
#ifndef SBX_LIB_RFS_CALL_H
#define SBX_LIB_RFS_CALL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sbx/exec.h"
#include "sbx/rfs.h"
#include "util/buf.h"

#define RFS_STDERR_MAX	 (64u << 10)
#define RFS_STDIN_WINDOW (4u << 20)
#define RFS_STDIN_CHUNK	 (256u << 10)
/* Collected stdout of metadata calls (a listing of a huge directory). */
#define RFS_OUT_MAX (512u << 20)

struct rfs_agent;
struct rfs_transport;

struct sbx_rfs {
	struct sbx_sandbox *sb; /* borrowed */
	double op_timeout_s;
	enum sbx_rfs_transport pref;		     /* fixed */
	const struct rfs_transport *tp;		     /* set by sbx_rfs_connect, then fixed */
	struct rfs_agent *agent;		     /* owned; NULL with the shell transport */
	uint32_t prefetch_file_max;		     /* fixed: opts, bounded */
	uint32_t prefetch_total_max;		     /* fixed: opts, bounded */
	sbx_rfs_change_fn on_change;		     /* fixed: opts */
	void *change_ud;			     /* fixed: opts */
	char note[SBX_ERR_MSG_MAX + 32];	     /* why not the agent */
	pthread_mutex_t lock;			     /* stats */
	struct sbx_rfs_opstats stats[SBX_RFS_OP__N]; /* lock */
	uint64_t async_now, async_max;		     /* lock: sbx_rfs_submit()s */
};

struct rfs_call {
	/* set by the caller */
	struct sbx_rfs *r;
	enum sbx_rfs_op op;
	const char *what; /* for messages: "stat '/x'" */
	const char *script;
	int in_fd; /* -1: no stdin (closed at start) */
	uint64_t in_len;
	uint64_t xfer_len; /* expected bytes, for the deadline */
	/* stdout consumer on the transport thread; NULL: collect into out */
	int (*sink)(void *ud, const char *d, size_t n);
	void *sink_ud;

	/* results */
	struct sbx_buf out;  /* collected stdout (sink == NULL) */
	struct sbx_buf errb; /* stderr, first RFS_STDERR_MAX bytes */
	uint64_t bytes_in, bytes_out;
	int sink_err; /* first sink or overflow error */
	struct sbx_exec_result res;

	/* internal */
	pthread_mutex_t m;
	pthread_cond_t cv;
	bool done; /* m */
	struct sbx_exec *e;
};

/* Prepares a call (zeroes it, in_fd = -1). */
void rfs_call_init(struct rfs_call *c, struct sbx_rfs *r, enum sbx_rfs_op op, const char *what,
		   const char *script);
/* Runs it to the end; returns 0 or a negative errno (err filled). */
int rfs_call_run(struct rfs_call *c, struct sbx_err *err);
/* Frees the collected output. */
void rfs_call_release(struct rfs_call *c);

/* A request of sbx_rfs_submit() begins (its results that done() may take
 * are emptied), ends (rfs.c: the counts). */
void rfs_async_begin(struct sbx_rfs *r, struct sbx_rfs_async *q);
void rfs_async_end(struct sbx_rfs *r);

/* Counts one call that failed before any session (bad argument, ENOMEM). */
void rfs_count_local_failure(struct sbx_rfs *r, enum sbx_rfs_op op);

#endif
