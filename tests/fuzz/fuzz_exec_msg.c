/* fuzz_exec_msg.c - sbxd's decoder of the messages a client sends on the
 * exec WebSocket (src/host/exec_msg.c), arbitrary bytes from a client.
 *
 * Every accessor exec.c uses runs on the message: the target (with and
 * without an id from the query), the argv of body.command, and the decoded
 * stdin bytes. The message is also parsed by json-c alone
 * (sbxd_exec_msg_parse_json()), which must agree with the fast path for
 * stdin frames in the result, the fields and the stdin bytes.
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

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* m (parsed, r its result) against json-c over the whole input */
static void check_reference(const uint8_t *data, size_t size, int r, const struct sbxd_exec_msg *m)
{
	struct sbx_buf a = SBX_BUF_INIT, b = SBX_BUF_INIT;
	struct sbxd_exec_msg ref;
	int rr = sbxd_exec_msg_parse_json(data, size, &ref), sa, sb;

	if (r != rr)
		abort();
	if (r == 0) {
		sa = sbxd_exec_msg_stdin(m, &a);
		sb = sbxd_exec_msg_stdin(&ref, &b);
		if (sa != -ENOMEM && sb != -ENOMEM &&
		    (sa != sb ||
		     (!sa && (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len))))))
			abort();
		if (!same_str(m->id, ref.id) || !same_str(m->id_type, ref.id_type) ||
		    m->stdin_close != ref.stdin_close || m->want_tty != ref.want_tty ||
		    m->rows != ref.rows || m->cols != ref.cols || !m->stdin_b64 != !ref.stdin_b64)
			abort();
	}
	sbx_buf_release(&a);
	sbx_buf_release(&b);
	sbxd_exec_msg_release(&ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_buf in = SBX_BUF_INIT;
	struct sbxd_exec_msg m;
	char **argv;
	size_t i;
	int r;

	r = sbxd_exec_msg_parse(data, size, &m);
	check_reference(data, size, r, &m);
	if (r < 0) {
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
