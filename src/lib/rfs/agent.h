/* agent.h - the agent transport's session: sbx-agent running in the sandbox
 * over one exec session, its requests multiplexed by id (src/agent/proto.h).
 *
 * Any number of threads send requests at once; each waits for its own
 * reply, so requests from different threads are pipelined on the one
 * session, and one thread may send several requests before waiting (a
 * store sends its writes and its commit back to back). Frames reach the
 * request's on_frame on the transport thread, under the session lock, in
 * the order the agent sent them; on_frame must be quick (a pwrite to a
 * local file is fine) and must not call into libsbx.
 *
 * When the exec session ends (the link dropped, sbxd restarted, the agent
 * was killed), every request in flight fails with -SBX_ECONN and the next
 * send starts a new session (the agent is still in the sandbox, so that
 * costs one exec and one HELLO). A request that passes its deadline is
 * forgotten (a late reply is dropped) and fails with -SBX_ETIMEDOUT.
 *
 * Lock order: the session lock (a->m) is taken before libsbx's exec lock,
 * never the other way round (exec callbacks run without it).
 */
#ifndef SBX_LIB_RFS_AGENT_H
#define SBX_LIB_RFS_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/proto.h"
#include "sbx/exec.h"
#include "sbx/rfs.h"

struct rfs_agent;

/* One request in flight. The caller owns it (usually on its stack) and
 * must see it through rfs_agent_wait() once rfs_agent_send() succeeded. */
struct agent_req {
	/* Set by the caller. Called for every frame of the reply with the
	 * whole payload (status included); a negative return fails the
	 * request with that code (later frames are then dropped). NULL: only
	 * the status is kept. */
	int (*on_frame)(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
	void *ud;
	/* Set by the caller, may be NULL: forgets what on_frame gathered,
	 * before the request is sent again on a new session. */
	void (*on_reset)(void *ud);
	/* Set by the caller, may be NULL: the request ended with an error
	 * status or its session ended (code), under the session lock. */
	void (*on_fail)(void *ud, int code);
	/* Results (the session lock) */
	int status; /* the first frame's status, or the first failure */
	bool done;
	/* Set by the caller: nobody waits; the session frees the request
	 * (free()) once it is done, failed or dropped. */
	bool detached;
	/* Set by the caller, may be NULL; both under the session lock and
	 * quick. on_sent: the frame went out and q is registered. on_end: q
	 * ended (its last frame, a failure, its session's end) and is no
	 * longer registered; q is then the caller's again (never freed by
	 * the session, detached or not). */
	void (*on_sent)(struct agent_req *q);
	void (*on_end)(struct agent_req *q);
	/* Result: the stream position (agent_int.h: seq) of the last frame */
	uint64_t seq;
	int64_t sent_ms; /* internal: when it was sent */
	/* Internal (the session lock) */
	uint32_t id;
	bool got_first;
	struct agent_req *next;
};

/* Starts the agent in r's sandbox, uploading it first if the sandbox has
 * no copy: 0 and *ret, or a negative errno with err saying why (the
 * caller may then use the shell transport). */
int rfs_agent_new(struct sbx_rfs *r, struct rfs_agent **ret, struct sbx_err *err);
/* Ends the session (the agent exits at the end of its stdin) and frees.
 * Accepts NULL. No request may be in flight. */
void rfs_agent_free(struct rfs_agent *a);

/* The stream position of the last frame received (sbx_rfs_seq). */
uint64_t rfs_agent_seq(struct rfs_agent *a);

/* Begins a request frame of type op in w (reset first) with the agent's
 * own credentials; the caller appends the op's fields. */
void rfs_agent_begin(struct sbxa_w *w, uint16_t op);
/* The same with the credential block of cred (NULL: the agent's own).
 * A credential the wire cannot carry (more than SBXA_GROUPS_MAX groups,
 * or a uid of SBXA_ID_SELF) makes the frame fail at send with -EINVAL. */
void rfs_agent_begin_as(struct sbxa_w *w, uint16_t op, const struct sbx_rfs_cred *cred);
/* Sends the frame in w (its id is assigned here) and registers q. On
 * failure nothing was sent and q needs no wait. */
int rfs_agent_send(struct rfs_agent *a, struct agent_req *q, struct sbxa_w *w, struct sbx_err *err);
/* Room in the session's stdin window for a frame of about n bytes, taken
 * before the frame is built: waits while what is queued and what others
 * took would not leave room for n (unless nothing is). So that senders
 * waiting for the window (a store's writes, from many threads) do not
 * each hold a frame of their data meanwhile. Given back with
 * rfs_agent_unreserve() once the frame was sent, or not. */
void rfs_agent_reserve(struct rfs_agent *a, size_t n);
void rfs_agent_unreserve(struct rfs_agent *a, size_t n);
/* Waits for q's last frame or deadline_ms (sbx_now_ms() clock); returns
 * q->status. q is unregistered when this returns. */
int rfs_agent_wait(struct rfs_agent *a, struct agent_req *q, int64_t deadline_ms,
		   struct sbx_err *err);
/* Unregisters q, which then gets no frame and no hook call (a->m held;
 * for a caller that gives up on it). */
void rfs_agent_forget_locked(struct rfs_agent *a, struct agent_req *q);
/* ---- agent_watch.c: change events ---- */

/* Watches dir: sends WATCH without waiting (the wd is recorded when the
 * reply comes), so it costs no round trip; a directory already watched is
 * not sent again. Watches are sent again on every new session, preceded
 * by a SBX_RFS_CH_RESET event (what changed in between is unknown). */
int rfs_agent_watch(struct rfs_agent *a, const char *dir, struct sbx_err *err);
/* Internal, a->m held: an EV_CHANGE frame; the session's start. */
struct sbx_rfs;
int rfs_agent_on_event(struct rfs_agent *a, const uint8_t *p, size_t n, uint64_t seq);
void rfs_agent_rewatch_locked(struct rfs_agent *a);
/* No more on_change calls once this returns (they run under a->m). */
void rfs_agent_events_off(struct rfs_agent *a);
/* Internal: sends a request whose reply nobody waits for (q detached,
 * heap-allocated); a->m held. 0 or -SBX_ECONN (q freed). */
int rfs_agent_send_locked(struct rfs_agent *a, struct agent_req *q, struct sbxa_w *w);

/* The agent transport's validator of a version with attributes a (out:
 * SBX_RFS_VALIDATOR_MAX bytes). */
void rfs_agent_validator(const struct sbx_rfs_attr *a, char *out);

/* agent_tree.c: rfs.h's sbx_rfs_readtree. */
int rfs_agent_readtree(struct sbx_rfs *r, const char *path, uint32_t max_entries, unsigned flags,
		       struct sbx_rfs_tree *ret, struct sbx_err *err);
/* agent_watch.c: records that the agent watches dir as wd (a->m held). */
void rfs_agent_watch_known_locked(struct rfs_agent *a, const char *dir, uint32_t wd);
/* agent_ops.c: the entry decoder shared with agent_tree.c. */
struct dir_ud {
	struct sbx_rfs_dir *d;
	size_t cap;
	bool first;
	bool data;	    /* entries carry has_data (SBXA_DIR_DATA) */
	uint32_t file_max;  /* data of one file, at most (as asked) */
	uint64_t total_max; /* data of the reply, at most (as asked) */
	uint64_t total;	    /* data taken so far */
	bool xattrs;	    /* entries carry has_names (SBXA_DIR_XATTRS) */
};
int rfs_agent_dir_entry(struct dir_ud *u, struct sbxa_r *rd);
void rfs_agent_attr(struct sbx_rfs_attr *o, const struct sbxa_attr *a);
int rfs_agent_call(struct sbx_rfs *r, enum sbx_rfs_op op, const char *what, struct sbxa_w *w,
		   struct agent_req *q, uint64_t bytes_in_hint, struct sbx_err *err);

/* agent_ops.c: a READ's reply into a local descriptor (agent_io.c too).
 * on_frame pwrites the bytes at fd_off + n as they come. */
struct read_ud {
	int fd;
	uint64_t fd_off, n;
	uint64_t max; /* bytes taken at most (the length asked for); 0: any */
	bool first, unchanged;
	struct sbxa_attr a;
	uint64_t seq;
};
int rfs_agent_read_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
void rfs_agent_read_reset(void *ud);
/* The READ of path's [off, off + len) into w, answered "unchanged" when
 * validator (NULL: none; one of sbx_rfs_validator()'s) still names the
 * file; u is readied for its reply (fd and the rest set by the caller). */
void rfs_agent_read_request(struct sbxa_w *w, const char *path, uint64_t off, uint64_t len,
			    const char *validator, struct read_ud *u);
/* The end of a whole-file READ (sbx_rfs_fetch()'s results from u), sent
 * with validator: 0, or -SBX_EPROTO for an "unchanged" that answers no
 * validator, or another version. Every ret_ may be NULL. */
int rfs_agent_fetch_end(const struct read_ud *u, const char *validator, const char *path,
			bool *ret_unchanged, uint64_t *ret_len, struct sbx_rfs_attr *ret_attr,
			char *ret_validator, struct sbx_err *err);
/* The deadline of a request moving bytes (op_timeout plus 1 s a MiB). */
int64_t rfs_agent_deadline(const struct sbx_rfs *r, uint64_t bytes);
/* agent_io.c: rfs.h's sbx_rfs_read_start/_finish and sbx_rfs_wfile_open. */
struct sbx_rfs_pread;
struct sbx_rfs_wfile;
int rfs_agent_read_start(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
			 uint64_t fd_off, struct sbx_rfs_pread **ret, struct sbx_err *err);
int rfs_agent_read_finish(struct sbx_rfs_pread *p, uint64_t *ret_n, struct sbx_rfs_attr *ret_attr,
			  struct sbx_err *err);
int rfs_agent_wfile_open(struct sbx_rfs *r, const char *path, struct sbx_rfs_wfile **ret,
			 struct sbx_err *err);

/* agent_ops.c: mknod of any type (rfs.h: sbx_rfs_mknod). */
int rfs_agent_mknod(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		    uint32_t mode, uint64_t rdev, struct sbx_rfs_attr *ret, struct sbx_err *err);

/* agent_xattr.c: rfs.h's xattr calls (the transport table's entries). */
int rfs_agent_getxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		       const char *name, void *buf, size_t size, size_t *ret_len,
		       struct sbx_err *err);
int rfs_agent_listxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			void *buf, size_t size, size_t *ret_len, struct sbx_err *err);
int rfs_agent_setxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		       const char *name, const void *value, size_t len, int flags,
		       struct sbx_err *err);
int rfs_agent_removexattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			  const char *name, struct sbx_err *err);

/* ---- agent_async.c: requests answered later (rfs.h: sbx_rfs_submit) ---- */

/* Sends q's request; q->done() runs on the context's completion thread
 * (or here, when it could not be sent). */
void rfs_agent_submit(struct sbx_rfs *r, struct sbx_rfs_async *q);
/* Stops the completion thread (at free; nothing may be in flight). */
void rfs_agent_async_stop(struct rfs_agent *a);
/* Sends the frame w (its buffer is taken: w is left empty) as a request
 * answered later and never sent again: on_frame (may be NULL) decodes its
 * reply with ud, as for agent_req, and ended(ctx, rc, seq) runs once it
 * ended, on the completion thread; the caller counts it. hint: the bytes
 * it moves (a later deadline). 0, or a negative errno when it could not
 * be sent (ended() is not called then). */
int rfs_agent_submit_frame(struct sbx_rfs *r, struct sbxa_w *w,
			   int (*on_frame)(void *ud, uint16_t type, uint16_t flags,
					   const uint8_t *p, size_t n),
			   void *ud, uint64_t hint, void (*ended)(void *ctx, int rc, uint64_t seq),
			   void *ctx);
/* agent_store.c: rfs.h's sbx_rfs_store(), and sbx_rfs_submit()'s STORE
 * and FSYNC (the whole request: rfs_async_begin() to q->done()). */
int rfs_agent_store(struct sbx_rfs *r, const char *path, int fd, uint64_t len,
		    const struct sbx_rfs_store_opts *o, struct sbx_rfs_attr *ret,
		    char *ret_validator, struct sbx_err *err);
void rfs_agent_store_submit(struct sbx_rfs *r, struct sbx_rfs_async *q);
/* agent_io.c: the agent's handle of a write handle. */
uint32_t rfs_agent_wfile_handle(const struct sbx_rfs_wfile *f);
/* agent_ops.c: rfs.h's setattr as the protocol's. */
void rfs_agent_setattr_of(struct sbxa_setattr *o, const struct sbx_rfs_setattr *sa);
/* agent_ops.c: the request frame of q (its op's fields): 0, or -EINVAL
 * for an op sbx_rfs_submit() does not take or bad flags. */
int rfs_agent_async_frame(struct sbxa_w *w, const struct sbx_rfs_async *q);
/* agent_ops.c: whether op may be sent again on a new session. */
bool rfs_agent_idempotent(enum sbx_rfs_op op);
/* ---- agent_job.c: commands on the agent's session ---- */

struct agent_job;
/* Like sbx_exec_start(): on_done exactly once when 0 is returned, never
 * otherwise; callbacks on the transport thread, not under any lock. */
int rfs_agent_job_start(struct rfs_agent *a, const struct sbx_exec_opts *o,
			const struct sbx_exec_cbs *cbs, void *ud, struct agent_job **ret,
			struct sbx_err *err);
int rfs_agent_job_write_stdin(struct agent_job *j, const void *d, size_t n);
int rfs_agent_job_close_stdin(struct agent_job *j);
int rfs_agent_job_cancel(struct agent_job *j);
size_t rfs_agent_job_stdin_pending(struct agent_job *j);
void rfs_agent_job_unref(struct agent_job *j);
/* Internal: runs the callbacks queued by jobs' frames (transport thread,
 * a->m NOT held); stops the deadline thread (at free). */
void rfs_agent_deliver(struct rfs_agent *a);
void rfs_agent_timer_stop(struct rfs_agent *a);

/* ---- agent_boot.c: delivery ---- */

/* The agent built into libsbx, its SHA-256 in hex (65 bytes) and size. */
void rfs_agent_blob(const uint8_t **ret, size_t *ret_len);
int rfs_agent_blob_sha256(char *hex65);
/* The command that starts a verified copy of the agent, or exits 97 when
 * the sandbox has none and 98 when it is another machine than this one.
 * Caller frees. */
char *rfs_agent_boot_command(const char *hex, const char *machine);
/* The directories a copy may live in, in the boot command's order. */
#define RFS_AGENT_DIRS 3
/* Stores the agent in the dir-th of /var/tmp, /tmp, /dev/shm (shell
 * transport's store: renamed into place only when length and SHA-256
 * match). */
int rfs_agent_upload(struct sbx_rfs *r, const char *hex, unsigned dir, struct sbx_err *err);

/* Handles of OPEN and TMPFILE: a free one (-EMFILE when all are used),
 * and back. */
int rfs_agent_handle_get(struct rfs_agent *a, uint32_t *ret);
void rfs_agent_handle_put(struct rfs_agent *a, uint32_t h);

#endif
