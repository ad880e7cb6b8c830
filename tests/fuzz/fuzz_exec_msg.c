/* fuzz_exec_msg.c - sbxd's decoder of the messages a client sends on the
 * exec WebSocket (src/host/exec_msg.c), arbitrary bytes from a client.
 *
 * Every accessor exec.c uses runs on the message: the target (with and
 * without an id from the query), the argv of body.command, and the decoded
 * stdin bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/exec_msg.h"

static void target(const struct sbxd_exec_msg *m, const char *qid, bool q_is_service)
{
	const char *id = NULL;
	bool by_service;

	if (sbxd_exec_msg_target(m, qid, q_is_service, &id, &by_service) && (!id || !*id))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_buf in = SBX_BUF_INIT;
	struct sbxd_exec_msg m;
	char **argv;
	size_t i;
	int r;

	if (sbxd_exec_msg_parse(data, size, &m) < 0) {
		if (m.root)
			abort();
		return 0;
	}
	target(&m, "", false);
	target(&m, "0123456789abcdef", true);
	target(&m, NULL, false);
	argv = sbxd_exec_msg_argv(&m);
	if (argv) {
		if (!argv[0] || !*argv[0])
			abort();
		for (i = 0; argv[i]; i++)
			(void)strlen(argv[i]);
		if (i > SBXD_EXEC_MAX_ARGC)
			abort();
		free(argv);
	}
	r = sbxd_exec_msg_stdin(&m, &in);
	if (r < 0 && r != -EINVAL && r != -ENOMEM)
		abort();
	if (in.len > size)
		abort();
	sbx_buf_release(&in);
	sbxd_exec_msg_release(&m);
	return 0;
}
