/* main.c - the sbxd command line: the daemon, and the offline image
 * subcommands on the state directory.
 *
 *   sbxd [--state-dir DIR] [--listen ADDR:PORT] [--network private|host]
 *        [--uid-base N] [--foreground]
 *   sbxd [--state-dir DIR] image add NAME ROOTFS_DIR | image import NAME FILE.tar
 *   sbxd [--state-dir DIR] image ls | image rm NAME
 *   sbxd --version | --help
 *
 * sbxd always runs in the foreground (daemonising is the CLI's job;
 * --foreground is accepted for symmetry). This is the only file allowed to
 * exit the process and to own the struct sbxd.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host/daemon.h"
#include "host/images.h"
#include "host/imgimport.h"
#include "util/statedir.h"

#define DEFAULT_LISTEN "127.0.0.1:7723"

static void usage(FILE *f)
{
	fprintf(f, "usage: sbxd [--state-dir DIR] [--listen ADDR:PORT] [--network private|host]\n"
		   "            [--uid-base N] [--foreground]\n"
		   "       sbxd [--state-dir DIR] image add NAME ROOTFS_DIR\n"
		   "       sbxd [--state-dir DIR] image import NAME FILE.tar\n"
		   "       sbxd [--state-dir DIR] image ls\n"
		   "       sbxd [--state-dir DIR] image rm NAME\n"
		   "       sbxd --version | --help\n"
		   "\n"
		   "The local sandbox host: serves the Koyeb sandbox API (REST and the exec\n"
		   "WebSocket) and runs each sandbox as an isolated process tree.\n"
		   "\n"
		   "  --state-dir DIR    state directory (default $SBX_STATE_DIR, else\n"
		   "                     $XDG_STATE_HOME/sbx, else $HOME/.local/state/sbx)\n"
		   "  --listen ADDR:PORT address to serve on (default " DEFAULT_LISTEN
		   "; port 0 = any free port)\n"
		   "  --network MODE     private (default): each sandbox has its own network,\n"
		   "                     outbound only, through slirp4netns, and cannot reach\n"
		   "                     the host's loopback; host: sandboxes share the host's\n"
		   "                     network, loopback services included (trusted code only)\n"
		   "  --uid-base N       host uid/gid of a sandbox's root; its ids 0..65535 are\n"
		   "                     host ids N..N+65535 (default 1000000000)\n"
		   "  --foreground       accepted and ignored: sbxd never daemonises\n"
		   "\n"
		   "The daemon and image import need root (mounts, namespaces, cgroups). Files\n"
		   "in the state directory: token (the API token, 0600), sbxd.json (pid and\n"
		   "address while serving), sbxd.lock, db.json, images.json, images/ (imported\n"
		   "images), sandboxes/<id>/.\n");
}

/* image rm: the registration, and the files of an imported image. */
static int image_rm(const char *state_dir, const char *reg_path, const char *name)
{
	json_object *reg = NULL;
	char root[4096] = "";

	if (sbxd_images_load(reg_path, &reg) == 0)
		sbxd_image_resolve(reg, name, root, sizeof(root));
	sbx_json_put(reg);
	if (sbxd_images_rm(reg_path, name, stderr) < 0)
		return 1;
	if (root[0])
		sbxd_images_drop_imported(state_dir, root);
	return 0;
}

/* 0, 1 (error) or 2 (usage) */
static int image_cmd(const char *state_dir, int argc, char **argv)
{
	struct sbx_buf path = SBX_BUF_INIT;
	int r = 2;

	if (argc < 1)
		goto out;
	if (sbx_mkdir_p(state_dir, 0700) < 0 ||
	    sbx_buf_printf(&path, "%s/images.json", state_dir) < 0) {
		fprintf(stderr, "sbxd: cannot use the state directory %s: %s\n", state_dir,
			strerror(errno));
		r = 1;
		goto out;
	}
	if (!strcmp(argv[0], "add") && argc == 3)
		r = sbxd_images_add(path.data, argv[1], argv[2], stderr) < 0;
	else if (!strcmp(argv[0], "import") && argc == 3)
		r = sbxd_images_import(state_dir, argv[1], argv[2], stderr) < 0;
	else if (!strcmp(argv[0], "rm") && argc == 2)
		r = image_rm(state_dir, path.data, argv[1]);
	else if (!strcmp(argv[0], "ls") && argc == 1)
		r = sbxd_images_ls(path.data, stdout, stderr) < 0;
out:
	if (r == 2)
		usage(stderr);
	sbx_buf_release(&path);
	return r;
}

/* A whole decimal number that fits in a uid range start. 0 or -EINVAL. */
static int parse_uid_base(const char *s, uid_t *out)
{
	unsigned long long v;
	char *end;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uid_t)v;
	return 0;
}

/* Makes sure fds 0-2 are open, so no pipe or socket lands on them. */
static void sane_stdio(void)
{
	int fd;

	/* no O_CLOEXEC: these become stdin, stdout, stderr */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"state-dir", required_argument, NULL, 's'},
	    {"listen", required_argument, NULL, 'l'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"network", required_argument, NULL, 'n'},
	    {"uid-base", required_argument, NULL, 'u'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sbxd d = {0};
	const char *state_dir = NULL;
	int c, r;

	sane_stdio();
	/* descriptors of whoever started us (a shell, a supervisor) are not
	 * ours, and no sandbox may inherit one: an fd of a host directory
	 * is a way out of any mount namespace */
	syscall(SYS_close_range, 3, ~0U, 0);
	d.listen = DEFAULT_LISTEN;
	d.idmap.base = SBX_IDMAP_BASE_DEFAULT;
	d.idmap.count = SBX_IDMAP_COUNT_DEFAULT;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 's': state_dir = optarg; break;
		case 'l': d.listen = optarg; break;
		case 'f': break;
		case 'n':
			if (!strcmp(optarg, "host") || !strcmp(optarg, "private")) {
				d.network = optarg[0] == 'h' ? SBX_NET_HOST : SBX_NET_PRIVATE;
				break;
			}
			fprintf(stderr, "sbxd: --network takes private or host\n");
			return 2;
		case 'u':
			if (parse_uid_base(optarg, &d.idmap.base) == 0 &&
			    sbxd_idmap_valid(&d.idmap))
				break;
			fprintf(stderr, "sbxd: --uid-base takes a host uid N such that N..N+65535 "
					"is a free range (not 0, not containing 65534)\n");
			return 2;
		case 'V': printf("sbxd %s\n", SBX_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (state_dir ? sbx_buf_puts(&d.state_dir, state_dir) < 0
		      : sbx_state_dir(&d.state_dir) < 0) {
		fprintf(stderr, "sbxd: no state directory: set --state-dir, $SBX_STATE_DIR or "
				"$HOME\n");
		return 1;
	}
	if (optind < argc && !strcmp(argv[optind], "image")) {
		r = image_cmd(d.state_dir.data, argc - optind - 1, argv + optind + 1);
		sbx_buf_release(&d.state_dir);
		return r;
	}
	if (optind < argc) {
		fprintf(stderr, "sbxd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "sbxd: must run as root (it mounts overlays and uses namespaces "
				"and cgroups); try sudo\n");
		return 1;
	}
	r = sbxd_run(&d);
	sbx_buf_release(&d.state_dir);
	sbx_buf_release(&d.token);
	return r;
}
