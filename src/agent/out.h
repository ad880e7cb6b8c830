/* out.h - the agent's output queue: frames waiting to go to stdout.
 *
 * Frames are built in place at the end of the queue (proto.h's writer) and
 * written out as stdout takes them. The queue itself is not bounded: the
 * loop stops taking requests and reading job pipes while out_pending() is
 * above AGENT_OUT_HIGH, so it grows past that by one request's reply at
 * most. A writer failure (out of memory) sticks in q.w.err; the loop
 * checks it after every request and ends the session.
 */
#ifndef SBX_AGENT_OUT_H
#define SBX_AGENT_OUT_H

#include <sys/stat.h>

#include "proto.h"

#define AGENT_OUT_HIGH (8u << 20)

struct agent_out {
	struct sbxa_w w; /**< w.p[sent..len) is still to be written */
	size_t sent;
};

/** Starts a frame at the end of the queue; returns its offset. */
size_t out_begin(struct agent_out *o, uint32_t id, uint16_t type, uint16_t flags);

/** Starts a reply frame to op and writes its status 0; returns its offset. */
size_t out_reply(struct agent_out *o, uint32_t id, uint16_t op, uint16_t flags);

/** Ends the frame started at at (fills in its length). */
void out_end(struct agent_out *o, size_t at);

/** Changes the flags of the frame started at at. */
void out_set_flags(struct agent_out *o, size_t at, uint16_t flags);

/** A whole reply to op carrying only status err (0 or negative errno). */
void out_status(struct agent_out *o, uint32_t id, uint16_t op, int err);

/** Appends an attr block made from st. */
void out_put_stat(struct agent_out *o, const struct stat *st);

/** Bytes still to write. */
size_t out_pending(const struct agent_out *o);

/** Writes what fd takes now (fd non-blocking). 0, or -errno (-EPIPE: the
 * reader is gone). */
int out_flush(struct agent_out *o, int fd);

/** Writes everything, waiting with poll(); for the session's end. */
int out_drain(struct agent_out *o, int fd);

void out_release(struct agent_out *o);

#endif
