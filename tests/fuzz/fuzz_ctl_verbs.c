/* fuzz_ctl_verbs.c - the decoder of what a user writes to .ctl/ctl,
 * .ctl/jobs/N/ctl, .ctl/procs and .ctl/ports (src/fs/ctl/verbs.c).
 *
 * The first byte picks the file (its value modulo CTL_F__N, an enum
 * ctl_file); the rest is one write(2). Every command the decoder returns must keep the contract of
 * verbs.h: numbers in their ranges unless err, an argument exactly for the
 * verbs that take one, a run command inside the write.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ctl/verbs.h"

static void check(const struct ctl_cmd *c, const char *buf, size_t n)
{
	switch (c->verb) {
	case CTL_V_WAIT_READY:
		if (!c->err && !(c->seconds > 0 && c->seconds <= CTL_WAIT_READY_MAX))
			abort();
		break;
	case CTL_V_TIMEOUT:
		if (!c->err && !(c->seconds >= 0 && c->seconds <= CTL_TIMEOUT_MAX))
			abort();
		/* fall through */
	case CTL_V_SIGNAL:
	case CTL_V_CWD:
	case CTL_V_ENV:
	case CTL_V_PKILL:
		if (!c->arg)
			abort();
		if (c->verb == CTL_V_PKILL && !c->err &&
		    (!c->arg[0] || strlen(c->arg) > CTL_PROC_ID_MAX || strpbrk(c->arg, " /\n")))
			abort();
		break;
	case CTL_V_BIND:
		if (!c->err && !(c->port >= 1 && c->port <= 65535))
			abort();
		break;
	case CTL_V_RUN:
		if (c->run < buf + 4 || c->run + c->run_len != buf + n)
			abort();
		break;
	case CTL_V_START:
		if (c->run < buf + 6 || c->run + c->run_len != buf + n)
			abort();
		break;
	default:
		if (c->arg || c->err)
			abort();
		break;
	}
	if (c->arg)
		(void)strlen(c->arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_cmd cmd;
	const char *p, *end;
	char *buf;
	size_t n;
	int k, lines = 0;

	if (size < 1)
		return 0;
	/* a write is not NUL-terminated: a copy of exactly its bytes */
	n = size - 1;
	buf = malloc(n ? n : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, n);
	p = buf;
	end = buf + n;
	while ((k = ctl_cmd_next(&p, end, (enum ctl_file)(data[0] % CTL_F__N), &cmd)) > 0) {
		check(&cmd, buf, n);
		ctl_cmd_release(&cmd);
		if (p < buf || p > end || ++lines > (int)n)
			abort();
	}
	if (k < 0 && k != -ENOMEM)
		abort();
	free(buf);
	return 0;
}
