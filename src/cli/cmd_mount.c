/* cmd_mount.c - sbx mount, sbx umount, sbx up, and mount.sbxfs.
 *
 * The mounting itself is sbxfs's job: these commands make sure the local
 * host runs (in the embedded default), then run sbxfs, which returns once
 * the mount is in place (or failed) and keeps serving it in the background.
 * mount(8) runs us as `mount.sbxfs SPEC DIR [-sfnv] [-o OPTS]` for
 * `mount -t sbxfs` and fstab lines.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/hostctl.h"
#include "cli/mounts.h"
#include "util/json.h"
#include "util/statedir.h"

/* In the embedded default, sbxfs reads the local host's token and address
 * from the state dir: make sure the host runs first. */
static int ensure_local_host(struct cli *cli)
{
	struct hostctl_info hi = {0};
	const char *tok = getenv("KOYEB_API_TOKEN");
	int r;

	if (tok && *tok)
		return 0;
	r = cli_ensure_host(cli, &hi);
	hostctl_info_release(&hi);
	return r;
}

/* Runs sbxfs [-o OPTS] SPEC DIR; returns its exit status or -errno. */
static int run_sbxfs(struct cli *cli, const char *spec, const char *dir, const char *opts,
		     bool foreground)
{
	char *argv[8];
	int n = 0;

	argv[n++] = "sbxfs";
	if (foreground)
		argv[n++] = "-f";
	if (opts && *opts) {
		argv[n++] = "-o";
		argv[n++] = (char *)opts;
	}
	argv[n++] = (char *)spec;
	argv[n++] = (char *)dir;
	argv[n] = NULL;
	return hostctl_run(cli->argv0_dir, "sbxfs", argv);
}

int cmd_mount(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"options", required_argument, NULL, 'o'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *opts = NULL;
	bool fg = false;
	int ch, r;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': opts = optarg; break;
		case 'f': fg = true; break;
		case 'h': return cli_help("mount");
		default: return cli_bad_option("mount", argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("mount", "want SANDBOX[:/dir] and DIR");
	if (ensure_local_host(cli) < 0)
		return CLI_EXIT_FAIL;
	r = run_sbxfs(cli, argv[optind], argv[optind + 1], opts, fg);
	return r < 0 ? cli_fail(cli, NULL, r, "mount") : r;
}

static int do_umount(const char *dir, bool lazy)
{
	char real[PATH_MAX];
	char *argv[5];
	int n = 0, r;

	if (!realpath(dir, real)) {
		/* a mount whose server died answers ENOTCONN: still unmount it */
		if (errno != ENOTCONN || strlen(dir) >= sizeof(real))
			return -errno;
		snprintf(real, sizeof(real), "%s", dir);
	}
	r = mounts_is_sbxfs(NULL, real);
	if (r < 0)
		return r;
	if (r == 0)
		return -EINVAL;
	if (!lazy && (r = mounts_sync(real)) < 0 && r != -ENOTCONN && r != -ENOENT)
		fprintf(stderr,
			"sbx: umount: %s: some files closed before could not be stored (%s); "
			"sbxfs keeps their content in its cache directory\n",
			real, strerror(-r));
	if (geteuid() == 0)
		return umount2(real, lazy ? MNT_DETACH : 0) < 0 ? -errno : 0;
	argv[n++] = "fusermount3";
	argv[n++] = "-u";
	if (lazy)
		argv[n++] = "-z";
	argv[n++] = real;
	argv[n] = NULL;
	r = hostctl_run(NULL, "fusermount3", argv);
	return r == 0 ? 0 : -EBUSY;
}

int cmd_umount(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"lazy", no_argument, NULL, 'z'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool lazy = false;
	int i, ch, rc = 0;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "zh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'z': lazy = true; break;
		case 'h': return cli_help("umount");
		default: return cli_bad_option("umount", argv);
		}
	}
	if (optind == argc)
		return cli_usage_error("umount", "want at least one DIR");
	for (i = optind; i < argc; i++) {
		int r = do_umount(argv[i], lazy);

		if (r == -EINVAL)
			rc = cli_failf(cli, "umount", "%s is not an sbxfs mount", argv[i]);
		else if (r < 0)
			rc = cli_fail(cli, NULL, r, argv[i]);
	}
	return rc;
}

/* mount.sbxfs SPEC DIR [-sfnv] [-o OPTS]: the interface mount(8) uses. */
int cmd_mount_helper(struct cli *cli, int argc, char **argv)
{
	const char *opts = NULL, *pos[2] = {NULL, NULL};
	int i, np = 0, r;
	bool fake = false;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(
			    "usage: mount.sbxfs SANDBOX[:/dir] DIR [-sfnv] [-o OPTIONS]\n"
			    "The helper mount(8) runs for `mount -t sbxfs`; see mount.sbxfs(8).\n",
			    stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			opts = argv[++i];
		} else if (!strncmp(argv[i], "-o", 2) && argv[i][2]) {
			opts = argv[i] + 2;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			/* -s sloppy, -n no mtab, -v verbose: nothing to do; -f fake */
			if (strchr(argv[i], 'f'))
				fake = true;
		} else if (np < 2) {
			pos[np++] = argv[i];
		} else {
			np = 3;
		}
	}
	if (np != 2) {
		fputs("usage: mount.sbxfs SANDBOX[:/dir] DIR [-sfnv] [-o OPTIONS]\n", stderr);
		return CLI_EXIT_USAGE;
	}
	if (fake)
		return 0;
	cli->quiet = true;
	if (ensure_local_host(cli) < 0)
		return CLI_EXIT_FAIL;
	r = run_sbxfs(cli, pos[0], pos[1], opts, false);
	return r < 0 ? cli_fail(cli, NULL, r, "mount") : r;
}

static void print_json_str(const char *s)
{
	json_object *o = json_object_new_string(s);
	struct sbx_buf b = SBX_BUF_INIT;

	if (o && sbx_json_dump(&b, o) == 0)
		fputs(b.data, stdout);
	sbx_buf_release(&b);
	sbx_json_put(o);
}

int cmd_up(struct cli *cli, int argc, char **argv)
{
	struct sbx_create_opts o = {.wait_ready = true};
	char defname[CLI_NAME_MAX];
	struct sbx_sandbox *sb = NULL;
	struct sbx_client *c;
	struct sbx_err err = {0};
	char spec[256];
	int i, r;
	const char *dir = NULL;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return cli_help("up");
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			o.name = argv[++i];
		else if (!strcmp(argv[i], "--image") && i + 1 < argc)
			o.image = argv[++i];
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else
			return cli_usage_error("up", "unexpected '%s'", argv[i]);
	}
	if (!dir)
		return cli_usage_error("up", "no DIR given");
	if (cli_client(cli, &c) < 0)
		return CLI_EXIT_FAIL;
	r = sbx_mkdir_p(dir, 0755);
	if (r < 0)
		return cli_fail(cli, NULL, r, dir);
	if (!o.name)
		o.name = cli_default_name(defname);
	cli_note(cli, "creating sandbox %s…", o.name);
	r = sbx_sandbox_create(c, &o, &sb, &err);
	if (r < 0)
		return cli_fail(cli, &err, r, "create");
	snprintf(spec, sizeof(spec), "%s:/", sbx_sandbox_id(sb));
	r = run_sbxfs(cli, spec, dir, NULL, false);
	if (r != 0) {
		cli_failf(cli, "up", "mounting failed; the sandbox %s is kept (sbx rm %s)",
			  sbx_sandbox_id(sb), sbx_sandbox_id(sb));
		sbx_sandbox_free(sb);
		return CLI_EXIT_FAIL;
	}
	if (cli->json) {
		printf("{\"id\":\"%s\",\"name\":\"%s\",\"mountpoint\":", sbx_sandbox_id(sb),
		       sbx_sandbox_name(sb));
		print_json_str(dir);
		printf("}\n");
		sbx_sandbox_free(sb);
		return 0;
	}
	printf("sandbox %s (%s) is mounted at %s\n\n", sbx_sandbox_name(sb), sbx_sandbox_id(sb),
	       dir);
	printf("Try:\n"
	       "  ls %s/root                        # the sandbox's files\n"
	       "  echo 'echo hi' > %s/root/hi.sh\n"
	       "  cd %s/root && sbx exec -- sh hi.sh   # runs in the sandbox, here\n"
	       "  echo 'uname -a' > %s/.ctl/exec      # or through the control files\n"
	       "  cat %s/.ctl/jobs/last/output\n"
	       "  sbx umount %s && sbx rm %s\n",
	       dir, dir, dir, dir, dir, dir, sbx_sandbox_id(sb));
	sbx_sandbox_free(sb);
	return 0;
}
