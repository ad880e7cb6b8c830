/* cmd_port.c - sbx port: publish a port of a sandbox and say where it is
 * reachable, or take the binding away (sbx/proc.h).
 *
 * A sandbox has one proxy port reachable from outside; the executor joins
 * it to one port inside at a time. `sbx port SANDBOX PORT` binds PORT and
 * prints the URL of the proxy port; binding the port already bound is a
 * success, binding another one fails until `sbx port --unbind SANDBOX`.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

static int parse_port(const char *s, unsigned *ret)
{
	char *end;
	long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	*ret = (unsigned)v;
	return 0;
}

static void print_binding(const struct cli *cli, unsigned port, const char *url)
{
	json_object *o;
	struct sbx_buf b = SBX_BUF_INIT;

	if (!cli->json) {
		if (url)
			printf("%s\n", url);
		return;
	}
	o = json_object_new_object();
	if (!o)
		return;
	/* unbound: port 0 and no url, so that a reader needs no other shape */
	sbx_json_add_int(o, "port", (int)port);
	if (url)
		sbx_json_add_str(o, "url", url);
	else
		json_object_object_add(o, "url", NULL);
	if (sbx_json_dump(&b, o) == 0)
		printf("%s\n", b.data);
	sbx_buf_release(&b);
	sbx_json_put(o);
}

/* Runs the bind or unbind; prints the result. The exit status. */
static int do_port(struct cli *cli, const char *sandbox, unsigned port, bool unbind)
{
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	char *url = NULL;
	int r;

	if (cli_open_sandbox(cli, sandbox, &sb) < 0)
		return CLI_EXIT_FAIL;
	r = unbind ? sbx_port_unbind(sb, &err) : sbx_port_bind(sb, port, &url, &err);
	if (r == -SBX_EEXIST) {
		/* the library says which port holds it; we say how to free it */
		char why[SBX_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err.msg[0] ? err.msg : "another port is bound");
		sbx_err_set(&err, r, err.http_status, "%s (sbx port --unbind %s)", why, sandbox);
		r = cli_fail(cli, &err, r, sandbox);
	} else if (r < 0)
		r = cli_fail(cli, &err, r, sandbox);
	else
		print_binding(cli, unbind ? 0 : port, url);
	if (r == 0 && unbind)
		cli_note(cli, "sandbox %s: no port bound now", sandbox);
	free(url);
	sbx_sandbox_free(sb);
	return r;
}

int cmd_port(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"unbind", no_argument, NULL, 'u'},
	    {"json", no_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool unbind = false;
	unsigned port = 0;
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': unbind = true; break;
		case 'j': cli->json = true; break;
		case 'q': cli->quiet = true; break;
		case 'h': return cli_help("port");
		default: return cli_bad_option("port", argv);
		}
	}
	if (unbind && argc - optind != 1)
		return cli_usage_error("port", "--unbind wants one SANDBOX and no PORT");
	if (!unbind && argc - optind != 2)
		return cli_usage_error("port", "want SANDBOX and PORT");
	if (!unbind && parse_port(argv[optind + 1], &port) < 0)
		return cli_usage_error("port", "bad PORT '%s' (1 to 65535)", argv[optind + 1]);
	return do_port(cli, argv[optind], port, unbind);
}
