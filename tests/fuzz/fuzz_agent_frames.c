/* fuzz_agent_frames.c - sbx-agent's request decoder (src/agent/decode.c),
 * fed what a client writes to the agent's stdin: a stream of frames.
 *
 * The input is cut into frames the way the agent's loop does (a length out
 * of bounds ends the stream); each is decoded, and a successful decode must
 * keep its contract: absolute, NUL-terminated paths within their bounds,
 * borrowed data inside the payload, a job's argv non-empty and
 * NULL-terminated.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/req.h"

static void check(const struct agent_req *q, const uint8_t *p, size_t n)
{
	size_t i;

	if (strnlen(q->path, sizeof(q->path)) > SBXA_PATH_MAX ||
	    strnlen(q->path2, sizeof(q->path2)) > SBXA_PATH_MAX ||
	    strnlen(q->name, sizeof(q->name)) > SBXA_NAME_MAX)
		abort();
	if (q->path[0] && q->path[0] != '/')
		abort();
	if (q->data && (q->data < p || q->data + q->data_len > p + n))
		abort();
	if (q->cred.ngroups > SBXA_GROUPS_MAX)
		abort();
	if (q->op == SBXA_OP_JOB_START) {
		if (!q->argv || !q->argv[0] || !q->envp)
			abort();
		for (i = 0; q->argv[i]; i++)
			if (strlen(q->argv[i]) > SBXA_ARG_MAX || i >= SBXA_ARGS_MAX)
				abort();
		for (i = 0; q->envp[i]; i++)
			if (strlen(q->envp[i]) > SBXA_ARG_MAX || i >= SBXA_ARGS_MAX)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_req *q = calloc(1, sizeof(*q));
	uint32_t plen, id;
	uint16_t type, flags;
	size_t off = 0, n;

	if (!q)
		return 0;
	while (size - off >= SBXA_HDR_LEN) {
		if (sbxa_hdr_decode(data + off, &plen, &id, &type, &flags) < 0)
			break;
		off += SBXA_HDR_LEN;
		n = plen < size - off ? plen : size - off;
		if (agent_req_decode(q, id, type, data + off, n) == 0)
			check(q, data + off, n);
		else if (q->argv || q->strs)
			abort(); /* a failed decode owns nothing */
		off += n;
	}
	agent_req_release(q);
	free(q);
	return 0;
}
