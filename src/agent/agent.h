/* agent.h - the state of one sbx-agent session.
 *
 * One struct agent lives for the whole process (made in main, passed to
 * every module); nothing is global. The loop (loop.c) owns the descriptors
 * and the input buffer; each module owns its part.
 */
#ifndef SBX_AGENT_AGENT_H
#define SBX_AGENT_AGENT_H

#include <stdbool.h>

#include "cred.h"
#include "handles.h"
#include "jobs.h"
#include "out.h"
#include "req.h"
#include "stream.h"
#include "watch.h"

/* The input buffer holds one whole frame at most. */
#define AGENT_IN_MAX (4u + SBXA_FRAME_MAX)

struct agent {
	int in_fd, out_fd, sig_fd;
	bool hello; /**< HELLO was answered with 0 */
	uint8_t *in;
	size_t in_len;
	struct agent_out out;
	struct agent_ids ids;
	struct agent_handles hs;
	struct agent_jobs jobs;
	struct agent_watches watches;
	struct agent_reads reads;
	struct agent_req req; /**< the request being handled */
};

#endif
