/* fs_op.h - internal plumbing shared by the filesystem primitives.
 *
 * One primitive = one script (script.h) run in the sandbox with some stdin,
 * whose stdout (bounded) and stderr (bounded) and exit code become a struct
 * sbx_fs_result for the caller's callback: exactly once, on the transport's
 * thread. How the script travels is a transport behind a table of
 * operations (struct fs_transport, in the spirit of curl's connection
 * filters), chosen per call by exec/transport.h:
 *  - fs_tp_exec (fs_async.c): one exec WebSocket session per primitive,
 *    stdin fed as frames, stdout as bytes; callbacks on the client's
 *    WebSocket thread;
 *  - fs_tp_executor (fs_xop.c): the executor API, kept-alive HTTP, with
 *    xfer.h keeping the bytes exact; each operation runs on a thread of its
 *    own, where its callback runs too;
 *  - fs_tp_agent (fs_aop.c): a job of the sandbox handle's agent, on its one
 *    exec session (exec/agent_slot.h); started from a thread of its own,
 *    callbacks on the client's WebSocket thread.
 * fs_tp_exec and fs_tp_agent share the collector of fs_run.h, so their
 * results and errors are the same byte for byte. fs_tp_agent runs the
 * common primitives (enum fs_native) as requests of the agent instead
 * (sbx/rfs.h: no process in the sandbox), and the script when the answer
 * is not one it can give the same (see fs_aop.c).
 * The primitives themselves do not know which one runs them.
 *
 * The synchronous forms are the asynchronous ones plus an fs_wait (mutex and
 * condvar): the primitive's logic exists once.
 */
#ifndef SBX_LIB_FS_OP_H
#define SBX_LIB_FS_OP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "errmap.h"
#include "sbx/exec.h"
#include "sbx/fs.h"
#include "util/buf.h"

struct xc;

/** Bytes of stdin past which a primitive is bulk (transport.h: under the
 *  auto choice it takes the WebSocket, which moves bytes 3-6x faster than
 *  the executor's base64 in JSON; below it, one kept-alive request wins). */
#define FS_BULK_MIN ((size_t)64 << 10)
/** Bound on a read_file result (use download_file beyond it). */
#define SBX_FS_READ_MAX ((size_t)1 << 30)
/** Bound on the output of list_dir. */
#define SBX_FS_LIST_MAX ((size_t)64 << 20)
/** Bound on the stderr kept for error messages and markers. */
#define SBX_FS_STDERR_MAX ((size_t)64 << 10)

/** What to do with the stdout of a successful run. */
enum fs_parse {
	FS_PARSE_NONE,	/**< nothing expected */
	FS_PARSE_DATA,	/**< res.data / res.len */
	FS_PARSE_NAMES, /**< res.names / res.n_names (sbx_fs_parse_names) */
	FS_PARSE_FLAG,	/**< res.flag (sbx_fs_parse_flag) */
};

/** A source of stdin pulled by a transport that sends it itself. */
struct fs_src {
	/** The next chunk of at most @p cap bytes, copied into @p buf or
	 *  pointed to by *ret: its length, 0 at the end, or a negative errno. */
	ssize_t (*next)(void *ud, char *buf, size_t cap, const char **ret);
	void *ud;
};

/** A shortcut a transport may take instead of the script, when it gives
 *  the same answer (the executor's /read_file and /list_dir). */
enum fs_fast {
	FS_FAST_NONE,
	FS_FAST_READ, /**< the content of fast_path */
	FS_FAST_LIST, /**< the names in fast_path */
};

/** What a primitive is, for a transport that can do it without the script
 *  (fs_tp_agent: sbx/rfs.h requests); the others ignore it. */
enum fs_native {
	FS_NATIVE_NONE,
	FS_NATIVE_WRITE,       /**< write_file: stdin (native_len bytes) at native_path */
	FS_NATIVE_READ,	       /**< read_file */
	FS_NATIVE_EXISTS,      /**< test -e */
	FS_NATIVE_IS_FILE,     /**< test -f */
	FS_NATIVE_IS_DIR,      /**< test -d */
	FS_NATIVE_LIST,	       /**< list_dir */
	FS_NATIVE_MKDIR,       /**< mkdir */
	FS_NATIVE_MKDIR_P,     /**< mkdir -p */
	FS_NATIVE_DELETE_FILE, /**< delete_file, rm without -r */
	FS_NATIVE_DELETE_DIR,  /**< delete_dir */
};

/** How to run one primitive. */
struct fs_spec {
	struct sbx_buf script;	    /**< taken by fs_op_start() (left empty) */
	char what[SBX_FS_WHAT_MAX]; /**< "mkdir '/p'", for messages */
	enum fs_parse parse;
	size_t out_max; /**< bound on collected stdout (0: none kept) */
	/** Written to stdin (copied) right after the start, then stdin is
	 *  closed, unless stdin_open. */
	const struct iovec *iov;
	size_t iovcnt;
	/** Keep stdin open: the caller feeds it through *ret_exec and closes it. */
	bool stdin_open;
	/** When set, stdout goes here instead of being collected; a negative
	 *  return cancels the exec and becomes the result. Transport thread. */
	int (*sink)(void *sink_ud, const char *data, size_t n);
	void *sink_ud;
	/** With stdin_open: where a transport that hands out no exec
	 *  (*ret_exec left NULL) pulls stdin from, on its own thread, while
	 *  the caller waits. Borrowed until the callback. */
	struct fs_src src;
	enum fs_fast fast;
	const char *fast_path; /**< borrowed until the start returns */
	enum fs_native native;
	const char *native_path; /**< borrowed until the start returns */
	size_t native_len;	 /**< FS_NATIVE_WRITE: bytes of stdin */
};

/** One way of running a spec: 0 when started (cb follows exactly once) or
 *  a negative errno (cb is not called; err says why). A transport that can
 *  hand out the exec sets *ret_exec (when asked), else leaves it NULL and
 *  pulls a stdin_open spec's stdin from s->src. @p xc is the sandbox's
 *  executor client, or NULL. */
struct fs_transport {
	const char *name;
	int (*start)(struct sbx_sandbox *sb, struct xc *xc, struct fs_spec *s, sbx_fs_cb cb,
		     void *ud, struct sbx_exec **ret_exec, struct sbx_err *err);
};

extern const struct fs_transport fs_tp_exec;
extern const struct fs_transport fs_tp_executor;
extern const struct fs_transport fs_tp_agent;

/** Turns the collected stdout of a successful run into the result (data,
 *  names or flag); @p out is emptied when its data moves. Fills res->err on
 *  failure. */
int fs_parse_output(enum fs_parse parse, struct sbx_buf *out, const char *what,
		    struct sbx_fs_result *res);

/** Initialises a spec (empty script, no stdin). */
void fs_spec_init(struct fs_spec *s, const char *verb, const char *a, const char *b);
/** Releases what fs_op_start() did not take. */
void fs_spec_release(struct fs_spec *s);

/** Starts the run on the transport chosen for @p sb. Returns 0 (cb follows exactly once, on the
 * transport thread) or a negative errno (cb is not called; err says why). With ret_exec, the caller
 * gets a reference to the exec (drop it with sbx_exec_unref). */
int fs_op_start(struct sbx_sandbox *sb, struct fs_spec *s, sbx_fs_cb cb, void *ud,
		struct sbx_exec **ret_exec, struct sbx_err *err);

/** fs_op_start() for a spec whose script builder returned @p build_rc:
 *  a negative build_rc fails with a message in err. Releases the spec in
 *  every case. */
int fs_start(struct sbx_sandbox *sb, struct fs_spec *s, int build_rc, sbx_fs_cb cb, void *ud,
	     struct sbx_exec **ret_exec, struct sbx_err *err);

/** Frees what a result still owns (data, names); leaves it empty. */
void fs_result_release(struct sbx_fs_result *res);

/** Waiter of the synchronous forms. */
struct fs_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;		  /* guarded by mu */
	struct sbx_fs_result res; /* guarded by mu; owned once done */
};

void fs_wait_init(struct fs_wait *w);
/** The sbx_fs_cb of a waiter (ud = struct fs_wait *): takes the result. */
void fs_wait_cb(void *ud, struct sbx_fs_result *res);
/** Waits up to ms milliseconds; returns whether the run is done. */
bool fs_wait_timed(struct fs_wait *w, long ms);
/** Waits for the run whose start returned @p start_rc (a negative start_rc
 *  is returned as is: the starter has filled err), then checks the
 *  sandbox's health once after a connection failure (see fs.h) and copies
 *  the error to err. Returns res.rc. */
int fs_wait_finish(struct fs_wait *w, struct sbx_sandbox *sb, int start_rc, struct sbx_err *err);
/** Frees what the result still owns and the waiter's lock. */
void fs_wait_release(struct fs_wait *w);

#endif
