/* dispatch.c - from a decoded request to its handler, and HELLO.
 *
 * The order of refusals is fixed: malformed or unknown (decode), id 0,
 * no HELLO yet, credentials the kernel refuses; only then the op runs.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "longpath.h"
#include "loop.h"
#include "ops.h"

static const agent_op_fn ops[] = {
    [SBXA_OP_LSTAT] = op_lstat,
    [SBXA_OP_READDIR] = op_readdir,
    [SBXA_OP_READLINK] = op_readlink,
    [SBXA_OP_MKDIR] = op_mkdir,
    [SBXA_OP_MKNOD] = op_mknod,
    [SBXA_OP_UNLINK] = op_unlink,
    [SBXA_OP_RMDIR] = op_rmdir,
    [SBXA_OP_RENAME] = op_rename,
    [SBXA_OP_LINK] = op_link,
    [SBXA_OP_SYMLINK] = op_symlink,
    [SBXA_OP_SETATTR] = op_setattr,
    [SBXA_OP_STATFS] = op_statfs,
    [SBXA_OP_OPEN] = op_open,
    [SBXA_OP_TMPFILE] = op_tmpfile,
    [SBXA_OP_PREAD] = op_pread,
    [SBXA_OP_PWRITE] = op_pwrite,
    [SBXA_OP_FSYNC] = op_fsync,
    [SBXA_OP_COMMIT] = op_commit,
    [SBXA_OP_CLOSE] = op_close,
    [SBXA_OP_FTRUNCATE] = op_ftruncate,
    [SBXA_OP_READ] = op_read,
    [SBXA_OP_GETXATTR] = op_getxattr,
    [SBXA_OP_SETXATTR] = op_setxattr,
    [SBXA_OP_LISTXATTR] = op_listxattr,
    [SBXA_OP_REMOVEXATTR] = op_removexattr,
    [SBXA_OP_JOB_START] = op_job_start,
    [SBXA_OP_JOB_STDIN] = op_job_stdin,
    [SBXA_OP_JOB_SIGNAL] = op_job_signal,
    [SBXA_OP_WATCH] = op_watch,
    [SBXA_OP_UNWATCH] = op_unwatch,
};

static int op_hello(struct agent *a, const struct agent_req *q)
{
	struct utsname u;
	size_t at;

	if (q->num != SBXA_MAGIC)
		return -EPROTO;
	if (q->num2 != SBXA_VERSION)
		return -EPROTONOSUPPORT;
	if (uname(&u) < 0)
		return -errno;
	at = out_reply(&a->out, q->id, q->op, 0);
	sbxa_put_u32(&a->out.w, SBXA_MAGIC);
	sbxa_put_u32(&a->out.w, SBXA_VERSION);
	sbxa_put_u32(&a->out.w, SBXA_FRAME_MAX);
	sbxa_put_u32(&a->out.w, (uint32_t)getpid());
	sbxa_put_u32(&a->out.w, a->ids.uid);
	sbxa_put_u32(&a->out.w, a->ids.gid);
	sbxa_put_cstr(&a->out.w, u.machine);
	out_end(&a->out, at);
	a->hello = true;
	return 0;
}

/* Runs the op, in the directory of a long path's last part if need be.
 * Credentials are already the request's: the steps are its own lookups. */
static int run_op(struct agent *a, struct agent_req *q)
{
	bool entered;
	int r = longpath_enter(q, &entered);

	if (r == 0)
		r = ops[q->op](a, q);
	if (entered)
		longpath_leave();
	return r;
}

/* Requests whose system calls change what a watch sees: names, and the
 * attributes a reply carries. Not PWRITE: a stream of writes changes no
 * name and its replies carry no attributes; its DATA events may follow
 * (the kernel merges them while unread). */
static bool changes_files(uint16_t type)
{
	switch (type) {
	case SBXA_OP_MKDIR:
	case SBXA_OP_MKNOD:
	case SBXA_OP_UNLINK:
	case SBXA_OP_RMDIR:
	case SBXA_OP_RENAME:
	case SBXA_OP_LINK:
	case SBXA_OP_SYMLINK:
	case SBXA_OP_SETATTR:
	case SBXA_OP_OPEN:
	case SBXA_OP_TMPFILE:
	case SBXA_OP_COMMIT:
	case SBXA_OP_CLOSE:
	case SBXA_OP_SETXATTR:
	case SBXA_OP_REMOVEXATTR:
	case SBXA_OP_FTRUNCATE: return true;
	default: return false;
	}
}

/* The change events that a request's own system calls queued go out
 * before its reply (what it wrote from mark on): so in the stream every
 * report of what was there before the request comes before the reply,
 * and a client that orders by stream position never takes a late report
 * of the old file for news of the one it just made (a rename over a name
 * and a new file of the same name). Out of memory: the reply stays first,
 * as before. */
static void events_first(struct agent *a, size_t mark)
{
	size_t n = a->out.w.len - mark;
	uint8_t *reply;
	int avail = 0;

	if (a->watches.fd < 0 || !n || ioctl(a->watches.fd, FIONREAD, &avail) < 0 || avail <= 0)
		return;
	reply = malloc(n);
	if (!reply)
		return;
	memcpy(reply, a->out.w.p + mark, n);
	a->out.w.len = mark;
	watch_on_event(a);
	sbxa_put_bytes(&a->out.w, reply, n);
	free(reply);
}

void agent_handle_frame(struct agent *a, uint32_t id, uint16_t type, const uint8_t *p, size_t n)
{
	struct agent_req *q = &a->req;
	size_t mark = a->out.w.len;
	int r = agent_req_decode(q, id, type, p, n);

	if (!r && !id)
		r = -EPROTO;
	if (!r && type != SBXA_OP_HELLO && !a->hello)
		r = -EPROTO;
	if (!r && type != SBXA_OP_HELLO)
		r = cred_apply(&a->ids, &q->cred);
	if (!r && type == SBXA_OP_HELLO)
		r = op_hello(a, q);
	else if (!r && (type >= sizeof(ops) / sizeof(ops[0]) || !ops[type]))
		r = -ENOSYS;
	else if (!r)
		r = run_op(a, q);
	if (r < 0)
		out_status(&a->out, id, type, r);
	if (changes_files(type))
		events_first(a, mark);
	/* a request's ids are its own: what the loop does between requests
	 * (change events' lstat, streamed reads) runs with the agent's */
	if (!a->ids.cur_self) {
		const struct agent_cred self = {.uid = SBXA_ID_SELF};

		cred_apply(&a->ids, &self);
	}
	agent_req_release(q);
}
