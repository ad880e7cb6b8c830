/* cmd_proc.c - sbx ps, logs, kill, and the start of `sbx exec -d`: the
 * background processes of a sandbox, through its executor (sbx/proc.h).
 *
 * The executor owns the list of processes, so these commands show what any
 * client of the sandbox started (the official SDKs too). Text output is
 * for people: one line per process or log line; --json gives the same data
 * as one document per command, except `logs --json`, which streams one
 * object a line (a followed log has no end to wait for).
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* Options of ps, logs and kill: --json, -q, -h, and for logs -f and -t.
 * Returns 1 to go on (operands from optind), 0 after printing help,
 * -CLI_EXIT_USAGE on a bad option. */
static int proc_opts(struct cli *cli, const char *cmd, int argc, char **argv, bool *follow,
		     bool *stamps)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},	    {"follow", no_argument, NULL, 'f'},
	    {"timestamps", no_argument, NULL, 't'}, {NULL, 0, NULL, 0},
	};
	const char *shorts = follow ? "+qhft" : "+qh";
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': cli->json = true; break;
		case 'q': cli->quiet = true; break;
		case 'h': cli_help(cmd); return 0;
		case 'f':
		case 't':
			if (!follow)
				goto bad;
			*(ch == 'f' ? follow : stamps) = true;
			break;
		default: goto bad;
		}
	}
	return 1;
bad:
	cli_bad_option(cmd, argv);
	return -CLI_EXIT_USAGE;
}

/* The command of a process on one line: control characters as '?', as
 * ps(1) shows them. */
static void put_command(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static json_object *proc_json(const struct sbx_proc_info *p)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	sbx_json_add_str(o, "id", p->id);
	sbx_json_add_int(o, "pid", p->pid);
	sbx_json_add_str(o, "status", sbx_proc_status_name(p->status));
	sbx_json_add_str(o, "command", p->command ? p->command : "");
	return o;
}

static void print_json(json_object *o)
{
	struct sbx_buf b = SBX_BUF_INIT;

	if (o && sbx_json_dump(&b, o) == 0)
		printf("%s\n", b.data);
	sbx_buf_release(&b);
}

static void ps_print(const struct cli *cli, const struct sbx_proc_info *v, size_t n)
{
	json_object *arr;
	size_t i;

	if (cli->json) {
		arr = json_object_new_array();
		for (i = 0; arr && i < n; i++) {
			json_object *o = proc_json(&v[i]);
			if (o)
				json_object_array_add(arr, o);
		}
		print_json(arr);
		sbx_json_put(arr);
		return;
	}
	printf("%-36s  %-7s  %-9s  %s\n", "ID", "PID", "STATUS", "COMMAND");
	for (i = 0; i < n; i++) {
		printf("%-36s  %-7d  %-9s  ", v[i].id, v[i].pid, sbx_proc_status_name(v[i].status));
		put_command(v[i].command ? v[i].command : "");
		putchar('\n');
	}
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	struct sbx_proc_info *v = NULL;
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	size_t n = 0;
	int r;

	r = proc_opts(cli, "ps", argc, argv, NULL, NULL);
	if (r <= 0)
		return -r;
	if (argc - optind != 1)
		return cli_usage_error("ps", "want one SANDBOX");
	if (cli_open_sandbox(cli, argv[optind], &sb) < 0)
		return CLI_EXIT_FAIL;
	r = sbx_proc_list(sb, &v, &n, &err);
	if (r < 0)
		r = cli_fail(cli, &err, r, argv[optind]);
	else
		ps_print(cli, v, n);
	sbx_proc_info_free(v, n);
	sbx_sandbox_free(sb);
	return r;
}

/* A process the user named that the sandbox does not know, or that has
 * ended: said in our words (the executor's are its own), with the error's
 * class and errno kept for --json. */
static int proc_fail(const struct cli *cli, const struct sbx_err *err, int r, const char *sandbox,
		     const char *id)
{
	struct sbx_err mine = {0};

	if (r == -SBX_ENOTFOUND)
		err = &mine, sbx_err_set(&mine, r, 0, "no process %s in sandbox %s", id, sandbox);
	else if (r == -ESRCH)
		err = &mine, sbx_err_set(&mine, r, 0, "process %s is not running", id);
	return cli_fail(cli, err, r, id);
}

struct logs_ctx {
	bool json, stamps;
};

static int on_log(void *ud, enum sbx_proc_stream stream, const char *ts, const char *line, size_t n)
{
	struct logs_ctx *x = ud;
	FILE *f = stream == SBX_PROC_STDERR ? stderr : stdout;
	json_object *o;

	if (x->json) {
		o = json_object_new_object();
		if (!o)
			return -ENOMEM;
		sbx_json_add_str(o, "stream", stream == SBX_PROC_STDERR ? "stderr" : "stdout");
		sbx_json_add_str(o, "timestamp", ts);
		json_object_object_add(o, "data", json_object_new_string_len(line, (int)n));
		print_json(o);
		sbx_json_put(o);
		f = stdout;
	} else {
		if (x->stamps && ts[0])
			fprintf(f, "%s ", ts);
		fwrite(line, 1, n, f);
		fputc('\n', f);
	}
	/* a reader that went away (| head) ends the stream */
	return fflush(f) == 0 && !ferror(f) ? 0 : -EPIPE;
}

int cmd_logs(struct cli *cli, int argc, char **argv)
{
	struct logs_ctx x = {0};
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	bool follow = false;
	int r;

	r = proc_opts(cli, "logs", argc, argv, &follow, &x.stamps);
	if (r <= 0)
		return -r;
	if (argc - optind != 2)
		return cli_usage_error("logs", "want SANDBOX and a process ID");
	if (!sbx_proc_id_valid(argv[optind + 1]))
		return cli_usage_error("logs", "bad process ID '%s'", argv[optind + 1]);
	x.json = cli->json;
	signal(SIGPIPE, SIG_IGN);
	if (cli_open_sandbox(cli, argv[optind], &sb) < 0)
		return CLI_EXIT_FAIL;
	r = sbx_proc_logs(sb, argv[optind + 1], follow, 0, on_log, &x, &err);
	if (r == -EPIPE)
		r = 0; /* our reader left: not the sandbox's failure */
	else if (r < 0)
		r = proc_fail(cli, &err, r, argv[optind], argv[optind + 1]);
	sbx_sandbox_free(sb);
	return r;
}

static int kill_one(struct cli *cli, struct sbx_sandbox *sb, const char *sandbox, const char *id)
{
	struct sbx_err err = {0};
	int r;

	if (!sbx_proc_id_valid(id))
		return cli_failf(cli, id, "bad process ID '%s'", id);
	r = sbx_proc_kill(sb, id, &err);
	return r < 0 ? proc_fail(cli, &err, r, sandbox, id) : 0;
}

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	struct sbx_sandbox *sb = NULL;
	json_object *done = NULL;
	int i, rc = 0, r;

	r = proc_opts(cli, "kill", argc, argv, NULL, NULL);
	if (r <= 0)
		return -r;
	if (argc - optind < 2)
		return cli_usage_error("kill", "want SANDBOX and at least one process ID");
	if (cli_open_sandbox(cli, argv[optind], &sb) < 0)
		return CLI_EXIT_FAIL;
	if (cli->json)
		done = json_object_new_array();
	for (i = optind + 1; i < argc; i++) {
		if (kill_one(cli, sb, argv[optind], argv[i]) != 0)
			rc = CLI_EXIT_FAIL;
		else if (done)
			json_object_array_add(done, json_object_new_string(argv[i]));
		else
			printf("%s\n", argv[i]);
	}
	print_json(done);
	sbx_json_put(done);
	sbx_sandbox_free(sb);
	return rc;
}

int cli_proc_start(struct cli *cli, const char *sandbox, const struct sbx_proc_opts *o)
{
	struct sbx_proc_info p = {0};
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	json_object *j;
	int r;

	if (cli_open_sandbox(cli, sandbox, &sb) < 0)
		return CLI_EXIT_FAIL;
	cli_sync_mounts(cli, sb, sandbox); /* it sees what mounts wrote, as exec does */
	r = sbx_proc_start(sb, o, &p, &err);
	if (r < 0) {
		r = cli_fail(cli, &err, r, "exec");
	} else if (cli->json) {
		j = proc_json(&p);
		print_json(j);
		sbx_json_put(j);
	} else {
		printf("%s\n", p.id);
	}
	sbx_proc_info_release(&p);
	sbx_sandbox_free(sb);
	return r;
}
