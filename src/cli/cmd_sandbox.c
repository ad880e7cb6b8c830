/* cmd_sandbox.c - sbx create, ls, status, rm: the lifecycle commands. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/timeutil.h"

#define MAX_LIST 64 /* bound on repeated options */

struct strlist {
	const char *v[MAX_LIST];
	size_t n;
};

static int strlist_add(struct strlist *l, const char *s, const char *what)
{
	if (l->n >= MAX_LIST) {
		cli_usage_error("create", "too many %s (at most %d)", what, MAX_LIST);
		return -1;
	}
	l->v[l->n++] = s;
	return 0;
}

static int parse_port(const char *s, int *ret)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 1 || v > 65535)
		return -1;
	*ret = (int)v;
	return 0;
}

static int parse_seconds(const char *s, double *ret)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0) || v > 1e7)
		return -1;
	*ret = v;
	return 0;
}

static void print_sandbox_json(struct sbx_sandbox *sb, const char *status)
{
	json_object *o = json_object_new_object();
	struct sbx_buf b = SBX_BUF_INIT;

	if (!o)
		return;
	sbx_json_add_str(o, "id", sbx_sandbox_id(sb));
	sbx_json_add_str(o, "name", sbx_sandbox_name(sb));
	sbx_json_add_str(o, "app_id", sbx_sandbox_app_id(sb));
	sbx_json_add_str(o, "service_id", sbx_sandbox_service_id(sb));
	sbx_json_add_str(o, "instance_id", sbx_sandbox_instance_id(sb));
	sbx_json_add_str(o, "image", sbx_sandbox_image(sb));
	sbx_json_add_str(o, "instance_type", sbx_sandbox_instance_type(sb));
	sbx_json_add_str(o, "region", sbx_sandbox_region(sb));
	sbx_json_add_str(o, "status", status);
	if (sbx_json_dump(&b, o) == 0)
		printf("%s\n", b.data);
	sbx_buf_release(&b);
	sbx_json_put(o);
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"image", required_argument, NULL, 'i'},
	    {"name", required_argument, NULL, 'n'},
	    {"instance-type", required_argument, NULL, 't'},
	    {"env", required_argument, NULL, 'e'},
	    {"region", required_argument, NULL, 'r'},
	    {"port", required_argument, NULL, 'p'},
	    {"no-ports", no_argument, NULL, 'P'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"no-wait", no_argument, NULL, 'W'},
	    {"json", no_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sbx_create_opts o = {0};
	char defname[CLI_NAME_MAX];
	struct strlist env = {0}, regions = {0};
	int ports[MAX_LIST];
	struct sbx_sandbox *sb = NULL;
	struct sbx_client *c;
	struct sbx_err err = {0};
	int64_t t0;
	int ch, r;

	o.wait_ready = true;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+i:n:t:e:r:p:jqh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i': o.image = optarg; break;
		case 'n': o.name = optarg; break;
		case 't': o.instance_type = optarg; break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				return cli_usage_error("create", "--env wants KEY=VALUE, got '%s'",
						       optarg);
			}
			if (strlist_add(&env, optarg, "--env") < 0)
				return CLI_EXIT_USAGE;
			break;
		case 'r':
			if (strlist_add(&regions, optarg, "--region") < 0)
				return CLI_EXIT_USAGE;
			break;
		case 'p':
			if (o.n_ports >= MAX_LIST || parse_port(optarg, &ports[o.n_ports]) < 0) {
				return cli_usage_error("create", "bad --port '%s'", optarg);
			}
			o.n_ports++;
			break;
		case 'P': o.no_ports = true; break;
		case 'T':
			if (parse_seconds(optarg, &o.timeout_s) < 0)
				return cli_usage_error("create", "bad --timeout '%s'", optarg);
			break;
		case 'W': o.wait_ready = false; break;
		case 'j': cli->json = true; break;
		case 'q': cli->quiet = true; break;
		case 'h': return cli_help("create");
		default: return cli_bad_option("create", argv);
		}
	}
	if (optind != argc)
		return cli_usage_error("create", "unexpected '%s'", argv[optind]);
	o.ports = o.n_ports ? ports : NULL;
	o.env = env.n ? env.v : NULL;
	o.n_env = env.n;
	o.regions = regions.n ? regions.v : NULL;
	o.n_regions = regions.n;
	if (cli_client(cli, &c) < 0)
		return CLI_EXIT_FAIL;
	if (!o.name) {
		o.name = cli_default_name(defname);
	} else {
		/* names are how people find sandboxes again: keep them unique
		 * (a generated name needs no lookup: it is random) */
		r = sbx_sandbox_open(c, o.name, &sb, &err);
		if (r == 0) {
			cli_failf(cli, "create", "a sandbox named '%s' already exists (%s)", o.name,
				  sbx_sandbox_id(sb));
			sbx_sandbox_free(sb);
			return CLI_EXIT_FAIL;
		}
		if (r != -SBX_ENOTFOUND)
			return cli_fail(cli, &err, r, "create");
		sb = NULL;
	}
	t0 = sbx_now_ms();
	r = sbx_sandbox_create(c, &o, &sb, &err);
	if (r < 0)
		return cli_fail(cli, &err, r, "create");
	if (cli->json)
		print_sandbox_json(sb, o.wait_ready ? "HEALTHY" : "STARTING");
	else
		printf("%s\n", sbx_sandbox_id(sb));
	cli_note(cli, "sandbox %s (%s) %s in %.1f s", sbx_sandbox_name(sb), sbx_sandbox_id(sb),
		 o.wait_ready ? "is ready" : "was created", (double)(sbx_now_ms() - t0) / 1000.0);
	sbx_sandbox_free(sb);
	return 0;
}

/* Options of ls, status, rm: --json, -q, -h. Returns 1 to go on (operands
 * from optind), 0 after printing help, -CLI_EXIT_USAGE on a bad option. */
static int simple_opts(struct cli *cli, const char *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': cli->json = true; break;
		case 'q': cli->quiet = true; break;
		case 'h': cli_help(cmd); return 0;
		default: cli_bad_option(cmd, argv); return -CLI_EXIT_USAGE;
		}
	}
	return 1;
}

static int list_json(struct sbx_sandbox_info *v, size_t n)
{
	json_object *arr = json_object_new_array();
	struct sbx_buf b = SBX_BUF_INIT;
	size_t i;

	if (!arr)
		return CLI_EXIT_FAIL;
	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		if (!o)
			break;
		sbx_json_add_str(o, "id", v[i].id);
		sbx_json_add_str(o, "name", v[i].name);
		sbx_json_add_str(o, "app_id", v[i].app_id);
		sbx_json_add_str(o, "status", v[i].status);
		sbx_json_add_str(o, "created_at", v[i].created_at);
		json_object_array_add(arr, o);
	}
	if (sbx_json_dump(&b, arr) == 0)
		printf("%s\n", b.data);
	sbx_buf_release(&b);
	sbx_json_put(arr);
	return 0;
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	struct sbx_sandbox_info *v = NULL;
	struct sbx_client *c;
	struct sbx_err err = {0};
	size_t n = 0, i;
	int r;

	r = simple_opts(cli, "ls", argc, argv);
	if (r <= 0)
		return -r;
	if (optind != argc)
		return cli_usage_error("ls", "unexpected '%s'", argv[optind]);
	if (cli_client(cli, &c) < 0)
		return CLI_EXIT_FAIL;
	r = sbx_sandbox_list(c, &v, &n, &err);
	if (r < 0)
		return cli_fail(cli, &err, r, "ls");
	if (cli->json) {
		r = list_json(v, n);
	} else {
		printf("%-36s  %-20s  %-10s  %s\n", "ID", "NAME", "STATUS", "CREATED");
		for (i = 0; i < n; i++)
			printf("%-36s  %-20s  %-10s  %s\n", v[i].id, v[i].name, v[i].status,
			       v[i].created_at);
	}
	sbx_sandbox_info_free(v, n);
	return r;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	enum sbx_status st;
	const char *id;
	int r;

	r = simple_opts(cli, "status", argc, argv);
	if (r <= 0)
		return -r;
	if (argc - optind != 1)
		return cli_usage_error("status", "want one SANDBOX");
	id = argv[optind];
	if (cli_open_sandbox(cli, id, &sb) < 0)
		return CLI_EXIT_FAIL;
	r = sbx_sandbox_status(sb, &st, &err);
	if (r < 0) {
		sbx_sandbox_free(sb);
		return cli_fail(cli, &err, r, id);
	}
	if (cli->json)
		print_sandbox_json(sb, sbx_status_name(st));
	else
		printf("%s\n", sbx_status_name(st));
	sbx_sandbox_free(sb);
	return 0;
}

/* How long rm waits for the control plane to finish a deletion. */
#define RM_WAIT_S 120.0

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	json_object *done = NULL;
	int i, rc = 0, r;

	r = simple_opts(cli, "rm", argc, argv);
	if (r <= 0)
		return -r;
	if (optind == argc)
		return cli_usage_error("rm", "want at least one SANDBOX");
	if (cli->json)
		done = json_object_new_array();
	for (i = optind; i < argc; i++) {
		struct sbx_sandbox *sb = NULL;
		struct sbx_err err = {0};

		if (cli_open_sandbox(cli, argv[i], &sb) < 0) {
			rc = CLI_EXIT_FAIL;
			continue;
		}
		r = sbx_sandbox_delete(sb, &err);
		sbx_sandbox_uncache(sb);
		/* like docker rm: return once it is gone, so the name is free
		 * and ls no longer shows it */
		if (r == 0)
			r = sbx_sandbox_wait_deleted(sb, RM_WAIT_S, &err);
		if (r < 0) {
			rc = cli_fail(cli, &err, r, argv[i]);
		} else if (done) {
			json_object *o = json_object_new_object();

			sbx_json_add_str(o, "id", sbx_sandbox_id(sb));
			sbx_json_add_str(o, "name", sbx_sandbox_name(sb));
			if (o)
				json_object_array_add(done, o);
		} else {
			cli_note(cli, "deleted sandbox %s (%s)", sbx_sandbox_name(sb),
				 sbx_sandbox_id(sb));
		}
		sbx_sandbox_free(sb);
	}
	if (done) {
		struct sbx_buf b = SBX_BUF_INIT;

		if (sbx_json_dump(&b, done) == 0)
			printf("%s\n", b.data);
		sbx_buf_release(&b);
		sbx_json_put(done);
	}
	return rc;
}
