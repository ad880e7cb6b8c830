/* handles.h - open files named by client-chosen handles.
 *
 * A handle is an index below SBXA_HANDLES_MAX. A TMPFILE handle is either
 * an O_TMPFILE descriptor (no name at all) or a named ".sbx~XXXXXX" file
 * in the target's directory; the name is owned here and unlinked on CLOSE,
 * on a failed COMMIT and by handles_release() when the session ends, so a
 * session never leaves a temporary behind unless the agent is SIGKILLed.
 */
#ifndef SBX_AGENT_HANDLES_H
#define SBX_AGENT_HANDLES_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct agent_handle {
	int fd;	    /**< -1: not in use */
	bool tmp;   /**< made by TMPFILE, not yet committed */
	int err;    /**< first failed or short PWRITE/FTRUNCATE (negative), 0 */
	char *name; /**< the named temporary's path (owned), NULL for O_TMPFILE */
	/* The run of sequential PWRITEs whose writeback is not started yet:
	 * [wb_from, wb_end). See op_pwrite(). */
	uint64_t wb_from, wb_end;
};

struct agent_handles {
	struct agent_handle h[SBXA_HANDLES_MAX];
	bool no_otmpfile; /**< tests: act as if O_TMPFILE were refused */
	uint64_t rnd;	  /**< state of the temporary names' generator */
};

void handles_init(struct agent_handles *hs, bool no_otmpfile);

/** The handle in use numbered i, or NULL (out of range or not open). */
struct agent_handle *handle_get(struct agent_handles *hs, uint32_t i);

/** Closes h and unlinks its named temporary if it has one. */
void handle_drop(struct agent_handle *h);

/** Closes every handle and unlinks every named temporary. */
void handles_release(struct agent_handles *hs);

#endif
