/* script.c - what an exec runs remotely, built from struct sbx_exec_opts.
 *
 * Without cwd and env:
 *   argv form    → the argv itself (no shell in between)
 *   command form → ["sh", "-c", command]
 * With cwd and/or env, one sh -c script:
 *   argv form    → cd Q(cwd) && export K=Q(v) … && exec Q(argv0) Q(argv1) …
 *   command form → cd Q(cwd) && export K=Q(v) … || exit
 *                  command                        (on its own line)
 * where Q is util/shquote (the shlex.quote rule).
 *
 * Deviations from the Python SDK, on purpose:
 *  - export instead of an assignment prefix, so every command of a script
 *    (a; b, a | b) sees the env, not only the first simple command;
 *  - exec for the argv form, so signals reach the program, not a shell;
 *  - the command form keeps the user's command on its own line after
 *    "|| exit", so a list like "a; b" never runs in the wrong directory
 *    when cd fails ("cd x && a; b" would run b anyway), and the exit status
 *    of a failed cd is the script's;
 *  - SANDBOX_SECRET is not added to the env: the sandbox already has it from
 *    the service definition, and putting it on the command line would show
 *    it to every process in the sandbox through ps.
 */
#include "exec/script.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/shquote.h"

void sbx_exec_argv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A shell variable name: [A-Za-z_][A-Za-z0-9_]*, up to '=' (or NUL). */
static size_t name_len(const char *kv)
{
	size_t i;

	for (i = 0; kv[i] && kv[i] != '='; i++) {
		char ch = kv[i];

		if (ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
			continue;
		if (i > 0 && ch >= '0' && ch <= '9')
			continue;
		return 0;
	}
	return kv[i] == '=' ? i : 0;
}

/* Appends "cd Q && export K=Q …" (no trailing separator). */
static int prefix(struct sbx_buf *b, const struct sbx_exec_opts *o)
{
	size_t i;
	int r = 0;

	if (o->cwd) {
		r = sbx_buf_puts(b, "cd ");
		if (!r)
			r = sbx_shquote(b, o->cwd);
	}
	if (!r && o->n_env)
		r = sbx_buf_puts(b, o->cwd ? " && export" : "export");
	for (i = 0; !r && i < o->n_env; i++) {
		size_t k = name_len(o->env[i]);

		r = sbx_buf_putc(b, ' ');
		if (!r)
			r = sbx_buf_append(b, o->env[i], k + 1);
		if (!r)
			r = sbx_shquote(b, o->env[i] + k + 1);
	}
	return r;
}

static int check(const struct sbx_exec_opts *o, struct sbx_err *err)
{
	size_t i, total = 0;

	if (!o || (o->argv && o->command) || (!o->argv && !o->command))
		return sbx_err_set(err, -SBX_EINVAL, 0, "exec needs either argv or a command");
	if (o->argv && (!o->argc || !o->argv[0]))
		return sbx_err_set(err, -SBX_EINVAL, 0, "exec argv is empty");
	for (i = 0; o->argv && i < o->argc; i++) {
		if (!o->argv[i])
			return sbx_err_set(err, -SBX_EINVAL, 0, "exec argv[%zu] is NULL", i);
		total += strlen(o->argv[i]) + 1;
	}
	for (i = 0; i < o->n_env; i++) {
		if (!o->env || !o->env[i] || !name_len(o->env[i]))
			return sbx_err_set(err, -SBX_EINVAL, 0,
					   "exec env entry %zu is not NAME=VALUE", i);
		total += strlen(o->env[i]) * 4 + 8;
	}
	total += (o->command ? strlen(o->command) : 0) + (o->cwd ? strlen(o->cwd) * 4 : 0);
	if (total > SBX_EXEC_CMD_MAX)
		return sbx_err_set(err, -E2BIG, 0, "exec command longer than %u bytes",
				   SBX_EXEC_CMD_MAX);
	return 0;
}

/* NULL-terminated copy of n strings. */
static char **strv_new(const char *const *src, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));
	size_t i;

	for (i = 0; v && i < n; i++) {
		v[i] = strdup(src[i]);
		if (!v[i]) {
			sbx_exec_argv_free(v);
			return NULL;
		}
	}
	return v;
}

int sbx_exec_build_argv(const struct sbx_exec_opts *o, char ***ret, size_t *ret_n,
			struct sbx_err *err)
{
	struct sbx_buf b = SBX_BUF_INIT;
	const char *sh[3] = {"sh", "-c", NULL};
	char **v = NULL;
	size_t n = 3;
	int r;

	r = check(o, err);
	if (r < 0)
		return r;
	if (!o->cwd && !o->n_env && o->argv) {
		v = strv_new(o->argv, o->argc);
		n = o->argc;
		goto out;
	}
	if (!o->cwd && !o->n_env) {
		sh[2] = o->command;
		v = strv_new(sh, 3);
		goto out;
	}
	r = prefix(&b, o);
	if (!r && o->argv) {
		r = sbx_buf_puts(&b, " && exec ");
		if (!r)
			r = sbx_shquote_argv(&b, o->argv, o->argc);
	} else if (!r) {
		r = sbx_buf_puts(&b, " || exit\n");
		if (!r)
			r = sbx_buf_puts(&b, o->command);
	}
	if (!r) {
		sh[2] = b.data;
		v = strv_new(sh, 3);
	}
out:
	sbx_buf_release(&b);
	if (!v)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	*ret = v;
	*ret_n = n;
	return 0;
}
