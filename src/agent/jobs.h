/* jobs.h - processes started by JOB_START and their pipes.
 *
 * A job is named by its JOB_START request id. Its stdout and stderr are
 * read while the output queue is below its bound; its exit is collected
 * from SIGCHLD (the loop's signalfd) with waitpid(WNOHANG). When the
 * process has exited, what is left in its pipes is read at once and
 * EV_EXIT ends the job: output a background grandchild writes later is
 * not waited for. JOB_STDIN bytes are queued per job (bounded) and each
 * request is answered when its bytes are in the pipe.
 */
#ifndef SBX_AGENT_JOBS_H
#define SBX_AGENT_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proto.h"

#define AGENT_STDIN_QUEUE_MAX (4u << 20) /* bytes queued for one job's stdin */

struct agent_stdin_chunk {
	struct agent_stdin_chunk *next;
	uint32_t id; /**< the JOB_STDIN request to answer */
	size_t len, off;
	uint8_t data[]; /**< len 0: close the job's stdin */
};

struct agent_job {
	bool used;
	uint32_t id;
	pid_t pid;
	int fd_out, fd_err, fd_in; /**< -1 once closed */
	struct agent_stdin_chunk *head, *tail;
	size_t queued;
};

struct agent_jobs {
	struct agent_job j[SBXA_JOBS_MAX];
	unsigned n;   /**< slots in use */
	mode_t umask; /**< the umask jobs start with (the agent's is 0) */
};

struct agent;

void jobs_init(struct agent_jobs *js, mode_t umask_for_jobs);

/** Reads a job's stdout (err false) or stderr pipe into EV_STDOUT/STDERR. */
void jobs_on_output(struct agent *a, struct agent_job *j, bool err);

/** Writes queued stdin bytes; answers the JOB_STDIN requests done. */
void jobs_on_stdin(struct agent *a, struct agent_job *j);

/** Collects every exited job and sends its EV_EXIT. */
void jobs_reap(struct agent *a);

/** Session end: SIGKILL to every job's process group; frees everything. */
void jobs_release(struct agent_jobs *js);

#endif
