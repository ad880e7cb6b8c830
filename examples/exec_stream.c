/* exec_stream.c - run a command in a sandbox and print its output as it
 * arrives (not all at the end), then exit with the command's code.
 *
 *   ./sbx-example-exec-stream SANDBOX 'for i in 1 2 3; do echo $i; sleep 1; done'
 */
#include <stdio.h>
#include <string.h>

#include <sbx/sbx.h>

static void on_stdout(void *ud, const char *data, size_t n)
{
	(void)ud;
	fwrite(data, 1, n, stdout);
	fflush(stdout); /* show each chunk now */
}

static void on_stderr(void *ud, const char *data, size_t n)
{
	(void)ud;
	fwrite(data, 1, n, stderr);
}

int main(int argc, char **argv)
{
	struct sbx_exec_cbs cbs = {.on_stdout = on_stdout, .on_stderr = on_stderr};
	struct sbx_exec_opts o = {0};
	struct sbx_exec_result r = {0};
	struct sbx_client *c = NULL;
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SANDBOX COMMAND\n", argv[0]);
		return 2;
	}
	o.command = argv[2]; /* run by sh -c */
	o.no_capture = true; /* the callbacks have it; keep nothing in memory */
	o.timeout_s = 300;
	if (sbx_client_new(NULL, &c, &err) < 0 || sbx_sandbox_open(c, argv[1], &sb, &err) < 0)
		goto out;
	if (sbx_exec_run(sb, &o, &cbs, NULL, &r, &err) < 0)
		goto out;
	fprintf(stderr, "[%s, exit code %d, %.2f s]\n", sbx_exec_status_name(r.status), r.exit_code,
		r.duration_s);
	rc = r.exit_code;
out:
	if (err.code)
		fprintf(stderr, "exec: %s\n", err.msg);
	sbx_exec_result_release(&r);
	sbx_sandbox_free(sb);
	sbx_client_free(c);
	return rc;
}
