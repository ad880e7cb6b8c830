/* stream.h - READ replies that go out a chunk at a time.
 *
 * A READ's first frame is sent at once; the rest of the range is read and
 * queued one SBXA_IO_MAX chunk per turn of the loop while the output queue
 * is below its bound, so a large file never sits whole in memory. The
 * file stays open (the version the first frame described) until the last
 * frame.
 */
#ifndef SBX_AGENT_STREAM_H
#define SBX_AGENT_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct agent_read {
	uint32_t id;
	int fd;
	uint64_t off, left;
};

struct agent_reads {
	struct agent_read *r;
	size_t n, cap;
};

struct agent;

/** Sends one more chunk of every READ still going. */
void reads_pump(struct agent *a);

void reads_release(struct agent_reads *rs);

#endif
