/* ctl_int.h - the insides of the control tree, shared by ctl.c (the tree
 * and its handlers), job.c (jobs: exec sessions, streams, parked reads),
 * files.c (the content of status, info, stats and the ctl verbs) and
 * procs.c (the executor's processes and port: procs, ports).
 *
 * Everything mutable in struct ctl and struct job is protected by
 * ctl->lock, which is the innermost lock of the driver (fs.h). FUSE replies
 * to parked reads are sent with ctl->lock held: a reply only takes
 * libfuse's session lock, which no holder of ctl->lock waits for, and the
 * interrupt callback takes ctl->lock without holding libfuse's.
 */
#ifndef SBX_FS_CTL_CTL_INT_H
#define SBX_FS_CTL_CTL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "fs/ctl/ctl.h"
#include "fs/ctl/verbs.h"
#include "util/buf.h"

#define CTL_INO(job, kind) (CTL_BIT | ((uint64_t)(job) << 8) | (uint64_t)(kind))
#define CTL_JOB_OF(ino)	   ((unsigned)(((ino) & ~CTL_BIT) >> 8))
#define CTL_KIND_OF(ino)   ((int)((ino)&0xff))

/* Kinds of the top level (job 0) and of a job's directory (job N). */
enum {
	K_DIR = 1,
	K_STATUS,
	K_INFO,
	K_CTL,
	K_EXEC,
	K_NEW,
	K_JOBS,
	K_STATS,
	K_LAST,
	K_PROCS,
	K_PORTS,
	K_LOGS, /* the directory logs/ */
	K_PLOG	/* logs/ID: with a "job" number PLOG_BASE + seq, never a job's */
};
enum { J_DIR = 1, J_CTL, J_STDIN, J_STDOUT, J_STDERR, J_OUTPUT, J_STATUS, J_EXIT, J_CMD };

/* Bounds of the job table (jobtab.c). Ids count up and are never reused. */
#define JOB_KEEP_MAX	      1000	  /* jobs kept; older ended ones are reaped */
#define JOB_PENDING_MAX	      64	  /* pending jobs (made by .ctl/new) per user */
#define JOB_ID_MAX	      1000000000u /* past it, no new job (ENOSPC) */
#define JOB_KEEP_OUTPUT	      256	  /* ended jobs whose output is kept */
#define JOB_STREAM_MAX	      (64u << 20) /* bytes kept per stream; the rest is counted */
#define JOB_STDIN_PENDING_MAX (16u << 20)
#define JOB_CMD_MAX	      (96u << 10)

enum job_state { JOB_PENDING, JOB_RUNNING, JOB_FINISHED, JOB_FAILED, JOB_KILLED, JOB_TIMEOUT };
enum { S_OUT, S_ERR, S_ALL, S_EXIT };

struct stream {
	struct sbx_buf b;
	uint64_t dropped; /* bytes past JOB_STREAM_MAX */
};

/* A read parked on a job until data or its end. */
struct waiter {
	fuse_req_t req;
	int stream;	  /* S_OUT, S_ERR, S_ALL or S_EXIT */
	uint64_t off;	  /* kernel offset, when cursor is NULL */
	uint64_t *cursor; /* the handle's own position (.ctl/exec) */
	size_t size;
	bool registering; /* between parking and the interrupt hook */
	bool interrupted;
	struct waiter *next;
};

struct job {
	unsigned id;
	struct ctl *ctl;
	unsigned refs;	      /* the table's, and each user's outside the lock */
	uid_t uid;	      /* who made it (the pending limit is per user) */
	struct job *next;     /* on a list of reaped jobs */
	enum job_state state; /* shown; final only once ended */
	enum job_state final; /* set by the exec's on_done */
	bool done;	      /* on_done came */
	bool ended;	      /* done, and the caches were dropped: published */
	bool from_exec;	      /* started by a write to .ctl/exec: no stdin */
	bool pruned;	      /* output freed (an old ended job): reads EOF */
	char *cmd, *cwd;
	char **env;
	size_t n_env;
	double timeout_s;
	char marker[64];	/* SBXFS_JOB=<uuid>, in the job's environment */
	struct stream s[3];	/* S_OUT, S_ERR, S_ALL */
	struct sbx_rfs_proc *e; /* while the command may run */
	int exit_code;
	char msg[SBX_ERR_MSG_MAX]; /* why it failed, when it did not run to an exit */
	struct sbx_buf stdin_pend; /* stdin written before the start */
	bool stdin_eof;		   /* EOF requested before the start */
	unsigned stdin_writers;
	struct waiter *waiters;
	struct timespec ctime, mtime;
};

struct ctl {
	struct sbx_fs *fs;
	pthread_mutex_t lock;
	pthread_cond_t cv; /* signalled when a session ends */
	struct job **jobs; /* the jobs kept, in id order (jobtab.c) */
	size_t n_jobs, cap;
	unsigned last_id;      /* the newest id given out */
	unsigned running;      /* sessions started and not done */
	struct plog *plogs;    /* PLOG_KEEP slots (procs.c), NULL until used */
	unsigned plog_seq;     /* the newest number given to a process id */
	unsigned port;	       /* the port this mount bound through .ctl/ports, or 0 */
	char *port_url;	       /* where it is reachable (owned), or NULL */
	struct fs_handle *fhs; /* fs->lock: the handles not released (io.c) */
	/* the mtimes of jobs/ (its last change) and logs/ (its last stat: a
	 * live view), strictly rising, so that the kernel, which may keep a
	 * listing of either (ops_dir.c), sees a new one each time its list
	 * may have changed; zero until the first */
	struct timespec jobs_mtime, logs_mtime;
};

/* Moves *t to now, or just past it when now is not later (ctl->lock). */
void ctl_stamp(struct timespec *t);

/* A handle of a /.ctl file. */
struct ctl_fh {
	struct fs_handle link; /* first: in ctl->fhs */
	int kind;
	unsigned job;
	struct sbx_buf snap;  /* content fixed at open (status, info, …) */
	uint64_t cursor;      /* .ctl/exec: read position in the output */
	struct job *exec_job; /* .ctl/exec: the job its first write started */
	bool stdin_writer;
	/* ctl->lock: a read or write may still run when the kernel releases
	 * the handle (its caller was killed): readers hold it busy, and the
	 * last one frees a released handle (io.c) */
	unsigned busy;
	bool released;
};

/* jobtab.c: the table of jobs (ctl->lock held for all of these).
 * A job is reachable by its id while it is in the table; the table holds
 * one reference, and whoever uses a job outside ctl->lock holds another
 * (job_find/job_put), so that a reaped job lives until its last user is
 * done. */
struct job *jobtab_get(const struct ctl *c, unsigned id);
/* Index of the first job kept whose id is >= id (n_jobs when none). */
size_t jobtab_from(const struct ctl *c, unsigned id);
/* Adds j (made by j->uid; a pending one unless j->from_exec), gives it
 * the next id and takes the table's reference. Refused with -EAGAIN when
 * that user already has JOB_PENDING_MAX pending jobs, or when JOB_KEEP_MAX
 * jobs are kept and none of them has ended; -ENOSPC past JOB_ID_MAX;
 * -ENOMEM. To make room, ended jobs without parked reads are unlinked,
 * oldest first, and chained on *reaped (their table reference goes with
 * them: the caller drops it with job_put after unlocking). */
int jobtab_add(struct ctl *c, struct job *j, struct job **reaped);
/* Unlinks j; the table's reference goes to the caller. */
void jobtab_remove(struct ctl *c, struct job *j);

/* job.c */
const char *job_state_name(enum job_state s);
/* Makes a job for uid (a pending one unless from_exec) and returns it with
 * a reference for the caller (job_put); NULL with *err set (jobtab_add's
 * errors). */
struct job *job_new(struct ctl *c, uid_t uid, bool from_exec, int *err);
/* The job with that id and a reference to it (job_put), or NULL. */
struct job *job_find(struct ctl *c, unsigned id);
/* Drops a reference; frees the job when it was the last. Accepts NULL. */
void job_put(struct ctl *c, struct job *j);
/* Unlinks a job that will never run (an empty command). */
void job_discard(struct ctl *c, struct job *j);
/* Starts a pending job running cmd: flushes dirty files first. */
int job_run(struct ctl *c, struct job *j, const char *cmd, size_t len);
int job_kill(struct ctl *c, struct job *j);
int job_signal(struct ctl *c, struct job *j, const char *name);
/* A handle whose position parked reads of j point at (cursor) is going:
 * those reads end with EINTR now. ctl->lock held. */
void job_forget_cursor_locked(struct job *j, const uint64_t *cursor);
/* Parks or answers a read of stream (S_*) at off, or at *cursor. */
void job_read(fuse_req_t req, struct job *j, int stream, uint64_t off, size_t size,
	      uint64_t *cursor);
int job_stdin_write(struct ctl *c, struct job *j, const char *d, size_t n);
void job_stdin_open(struct ctl *c, struct job *j);
void job_stdin_close(struct ctl *c, struct job *j);
/* Exit code shown in jobs/N/exit (ctl->lock held, job ended). */
int job_exit_code(const struct job *j);
void job_free(struct job *j);

/* files.c */
int ctl_snap_status(struct sbx_fs *fs, struct sbx_buf *out);
int ctl_snap_info(struct sbx_fs *fs, struct sbx_buf *out);
int ctl_snap_stats(struct sbx_fs *fs, struct sbx_buf *out);
/* Runs the lines of a write to .ctl/ctl or jobs/N/ctl. */
int ctl_verbs(struct ctl *c, const char *buf, size_t size);
int ctl_job_verbs(struct ctl *c, struct job *j, const char *buf, size_t size);

/* procs.c: the snapshots are made at open, the verbs run the requests to
 * the executor (never with ctl->lock held). */
/* "ID PID STATUS COMMAND" a line, in the executor's order. */
int ctl_snap_procs(struct sbx_fs *fs, struct sbx_buf *out);
/* "PORT URL" of the binding this mount made, or nothing. */
int ctl_snap_ports(struct ctl *c, struct sbx_buf *out);
/* Runs the lines of a write to .ctl/procs (start, kill) or .ctl/ports
 * (bind, unbind). */
int ctl_procs_verbs(struct ctl *c, const char *buf, size_t size);
int ctl_ports_verbs(struct ctl *c, const char *buf, size_t size);

/* logs/ID: a file per process of the executor, its kept output lines.
 * Node ids need numbers and process ids are strings: each id the mount met
 * gets a number seq (1, 2, … never reused) in a table of the PLOG_KEEP newest,
 * and its file the "job" number PLOG_BASE + seq, above every job's. */
#define PLOG_KEEP    1024
#define PLOG_BASE    (JOB_ID_MAX + 1u)
#define PLOG_SEQ_MAX 3000000000u /* PLOG_BASE + seq stays an unsigned */
struct plog {
	unsigned seq; /* 0: a free slot */
	bool live;    /* in the executor's list when it was last read */
	char id[CTL_PROC_ID_MAX + 1];
};
/* The node of logs/NAME: asks the executor whether NAME is one of its
 * processes. 0 and *ret_ino, -ENOENT, or the request's error. */
int ctl_plog_lookup(struct ctl *c, const char *name, uint64_t *ret_ino);
/* Reads the executor's list again (at the start of a listing of logs/). */
int ctl_plog_refresh(struct ctl *c);
/* Is seq still in the table? (ctl->lock held) */
bool ctl_plog_known_locked(const struct ctl *c, unsigned seq);
/* The first live entry of logs/ at readdir offset off or after it: its
 * name, node id and the next offset (ctl->lock held). */
bool ctl_plog_entry_locked(const struct ctl *c, off_t off, char *buf, size_t cap, uint64_t *ret_id,
			   off_t *ret_next);
/* The kept lines of process seq: its stdout lines then its stderr lines. */
int ctl_snap_plog(struct ctl *c, unsigned seq, struct sbx_buf *out);

#endif
