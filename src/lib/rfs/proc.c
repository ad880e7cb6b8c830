/* proc.c - sbx_rfs_proc: a command over the context's transport, a job of
 * the agent or an exec session (see rfs.h). One small wrapper so that the
 * driver's /.ctl jobs need not know which.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "rfs/agent.h"
#include "rfs/call.h"
#include "sbx/rfs.h"

struct sbx_rfs_proc {
	int refs;	     /* atomic */
	struct sbx_exec *e;  /* the shell transport's, or NULL */
	struct agent_job *j; /* the agent's, or NULL */
};

int sbx_rfs_proc_start(struct sbx_rfs *r, const struct sbx_exec_opts *opts,
		       const struct sbx_exec_cbs *cbs, void *ud, struct sbx_rfs_proc **ret,
		       struct sbx_err *err)
{
	struct sbx_rfs_proc *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	p->refs = 1;
	if (r->agent)
		rc = rfs_agent_job_start(r->agent, opts, cbs, ud, &p->j, err);
	else
		rc = sbx_exec_start(sbx_rfs_sandbox(r), opts, cbs, ud, &p->e, err);
	if (rc < 0) {
		free(p);
		return rc;
	}
	*ret = p;
	return 0;
}

int sbx_rfs_proc_write_stdin(struct sbx_rfs_proc *p, const void *data, size_t n)
{
	int rc;

	if (p->j)
		return rfs_agent_job_write_stdin(p->j, data, n);
	/* libsbx queues it all: keep what waits there bounded */
	while (sbx_exec_stdin_pending(p->e) > (8u << 20))
		usleep(1000);
	rc = sbx_exec_write_stdin(p->e, data, n);
	return rc;
}

int sbx_rfs_proc_close_stdin(struct sbx_rfs_proc *p)
{
	return p->j ? rfs_agent_job_close_stdin(p->j) : sbx_exec_close_stdin(p->e);
}

int sbx_rfs_proc_cancel(struct sbx_rfs_proc *p)
{
	return p->j ? rfs_agent_job_cancel(p->j) : sbx_exec_cancel(p->e);
}

size_t sbx_rfs_proc_stdin_pending(struct sbx_rfs_proc *p)
{
	return p->j ? rfs_agent_job_stdin_pending(p->j) : sbx_exec_stdin_pending(p->e);
}

bool sbx_rfs_proc_ordered(const struct sbx_rfs_proc *p)
{
	return p->j != NULL;
}

struct sbx_rfs_proc *sbx_rfs_proc_ref(struct sbx_rfs_proc *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void sbx_rfs_proc_unref(struct sbx_rfs_proc *p)
{
	if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (p->j)
		rfs_agent_job_unref(p->j);
	else
		sbx_exec_unref(p->e);
	free(p);
}
