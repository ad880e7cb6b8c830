/* loop.h - the agent's event loop: requests in, replies and events out.
 *
 * One thread, one poll(): stdin (requests, while the output queue is
 * below AGENT_OUT_HIGH), stdout (while anything is queued), the signalfd
 * (SIGCHLD, SIGTERM, SIGHUP, SIGINT), the inotify descriptor and every
 * job's pipes (their output read only below AGENT_OUT_HIGH too). Requests
 * are handled whole, in arrival order.
 */
#ifndef SBX_AGENT_LOOP_H
#define SBX_AGENT_LOOP_H

#include "agent.h"

/** Serves the session until it ends. 0 at stdin's end (what is queued may
 * still be written); 1 on SIGTERM, SIGHUP or SIGINT, or when stdout's
 * reader is gone (nobody may read it: do not wait for stdout); -EPROTO for
 * a frame length out of bounds (nothing after it can be read); another
 * -errno for a failure of the agent itself (out of memory, poll). */
int agent_run(struct agent *a);

/** Handles one complete request frame: decodes it, applies its
 * credentials, runs its op and queues the reply (for tests and the fuzzer:
 * no descriptor of the loop is needed for ops without side effects). */
void agent_handle_frame(struct agent *a, uint32_t id, uint16_t type, const uint8_t *p, size_t n);

#endif
