/* verbs.c - what a line written to a /.ctl ctl file means; see verbs.h. */
#include "fs/ctl/verbs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sbx/proc.h"

/* Next line of [*p, end): its start and length (no '\n', no trailing '\r'
 * or blanks); false at the end. */
static bool next_line(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char *s = *p, *nl;
	size_t n;

	if (s >= end)
		return false;
	nl = memchr(s, '\n', (size_t)(end - s));
	n = nl ? (size_t)(nl - s) : (size_t)(end - s);
	*p = nl ? nl + 1 : end;
	while (n && strchr("\r \t", s[n - 1]))
		n--;
	*ret = s;
	*ret_len = n;
	return true;
}

/* Is the line "verb" or "verb ARG"? *has_arg says which. */
static bool verb_is(const char *line, size_t n, const char *verb, bool *has_arg)
{
	size_t vl = strlen(verb);

	if (n < vl || memcmp(line, verb, vl) || (n > vl && line[vl] != ' '))
		return false;
	*has_arg = n > vl + 1;
	return true;
}

/* env KEY=VALUE: KEY must be a shell name. */
static bool env_valid(const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t i;

	if (!eq || eq == kv)
		return false;
	for (i = 0; kv + i < eq; i++)
		if (!(kv[i] == '_' || (kv[i] >= 'A' && kv[i] <= 'Z') ||
		      (kv[i] >= 'a' && kv[i] <= 'z') || (i && kv[i] >= '0' && kv[i] <= '9')))
			return false;
	return true;
}

/* A port number: 1 to 65535 in decimal digits only. */
static int port_of(const char *s, size_t n, unsigned *ret)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* Decodes a line that names a verb with an argument (its arg is set). */
static void check_arg(struct ctl_cmd *cmd)
{
	char *end;
	double t;

	switch (cmd->verb) {
	case CTL_V_WAIT_READY:
		t = strtod(cmd->arg, NULL);
		if (!(t > 0 && t <= CTL_WAIT_READY_MAX)) /* NaN too */
			cmd->err = -EINVAL;
		cmd->seconds = t;
		break;
	case CTL_V_ENV:
		if (!env_valid(cmd->arg))
			cmd->err = -EINVAL;
		break;
	case CTL_V_TIMEOUT:
		t = strtod(cmd->arg, &end);
		if (*end || !(t >= 0 && t <= CTL_TIMEOUT_MAX))
			cmd->err = -EINVAL;
		cmd->seconds = t;
		break;
	case CTL_V_PKILL:
		if (!sbx_proc_id_valid(cmd->arg))
			cmd->err = -EINVAL;
		break;
	case CTL_V_BIND:
		if (port_of(cmd->arg, strlen(cmd->arg), &cmd->port) < 0)
			cmd->err = -EINVAL;
		break;
	default: break;
	}
}

/* The verbs of each file: name, and whether an argument is required (1),
 * forbidden (0) or optional (2). */
struct verb_def {
	const char *name;
	enum ctl_verb verb;
	int arg;
};

static const struct verb_def TOP[] = {
    {"wait-ready", CTL_V_WAIT_READY, 2},
    {"delete", CTL_V_DELETE, 0},
    {"drop-caches", CTL_V_DROP_CACHES, 0},
    {"sync", CTL_V_SYNC, 0},
    {NULL, CTL_V_BAD, 0},
};

static const struct verb_def JOB[] = {
    {"kill", CTL_V_KILL, 0}, {"signal", CTL_V_SIGNAL, 1},   {"cwd", CTL_V_CWD, 1},
    {"env", CTL_V_ENV, 1},   {"timeout", CTL_V_TIMEOUT, 1}, {NULL, CTL_V_BAD, 0},
};

static const struct verb_def PROCS[] = {
    {"kill", CTL_V_PKILL, 1},
    {NULL, CTL_V_BAD, 0},
};

static const struct verb_def PORTS[] = {
    {"bind", CTL_V_BIND, 1},
    {"unbind", CTL_V_UNBIND, 0},
    {NULL, CTL_V_BAD, 0},
};

static const struct verb_def *const FILES[CTL_F__N] = {TOP, JOB, PROCS, PORTS};

/* The verb that takes the rest of the write as its command, if any. */
static const char *const REST[CTL_F__N] = {NULL, "run ", "start ", NULL};

int ctl_cmd_next(const char **p, const char *end, enum ctl_file f, struct ctl_cmd *cmd)
{
	const struct verb_def *d;
	const char *line, *rest;
	bool has_arg = false;
	size_t n, rl;

	memset(cmd, 0, sizeof(*cmd));
	if ((unsigned)f >= CTL_F__N)
		return 0; /* no such file: nothing it could mean */
	do {
		if (!next_line(p, end, &line, &n))
			return 0;
	} while (n == 0);
	rest = REST[f];
	rl = rest ? strlen(rest) : 0;
	if (rest && n >= rl && !memcmp(line, rest, rl)) {
		/* the command is the rest of the write, newlines included */
		cmd->verb = f == CTL_F_JOB ? CTL_V_RUN : CTL_V_START;
		cmd->run = line + rl;
		cmd->run_len = (size_t)(end - line) - rl;
		*p = end;
		return 1;
	}
	if (f == CTL_F_PORTS && port_of(line, n, &cmd->port) == 0) {
		cmd->verb = CTL_V_BIND; /* `echo 8080 > .ctl/ports` */
		return 1;
	}
	for (d = FILES[f]; d->name; d++)
		if (verb_is(line, n, d->name, &has_arg) && (d->arg == 2 || d->arg == has_arg))
			break;
	cmd->verb = d->verb;
	if (d->verb == CTL_V_WAIT_READY && !has_arg)
		cmd->seconds = CTL_WAIT_READY_DEF;
	if (d->name && has_arg) {
		size_t vl = strlen(d->name);

		cmd->arg = strndup(line + vl + 1, n - vl - 1);
		if (!cmd->arg)
			return -ENOMEM;
		check_arg(cmd);
	}
	return 1;
}

void ctl_cmd_release(struct ctl_cmd *cmd)
{
	if (!cmd)
		return;
	free(cmd->arg);
	memset(cmd, 0, sizeof(*cmd));
}
