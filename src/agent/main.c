/* main.c - sbx-agent: the helper the client runs inside a sandbox.
 *
 * It speaks the protocol of proto.h over stdin and stdout and nothing
 * else: no arguments but --version, no configuration. It depends on libc
 * alone and is linked static, so one binary runs in any image of its
 * architecture. Exit status: 0 when the session ended (stdin's end, a
 * signal, the reader gone), 2 for a frame the stream cannot survive
 * (a length out of bounds), 1 when the agent itself failed.
 *
 * The environment variable SBX_AGENT_NO_OTMPFILE=1 makes TMPFILE act as
 * if the filesystem refused O_TMPFILE (the tests use it to reach the named
 * fallback on any filesystem).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loop.h"

/* 0-2 must be open, or a pipe could become a job's stdout by accident */
static void hold_std_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return;
}

static int sig_open(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	/* an ignored signal is dropped even while blocked: an agent started
	 * with SIGCHLD ignored would never see a job end (nor reap it) */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int session(mode_t job_umask)
{
	const char *no_tmp = getenv("SBX_AGENT_NO_OTMPFILE");
	const struct agent_cred self = {.uid = SBXA_ID_SELF};
	struct agent *a = calloc(1, sizeof(*a));
	int r;

	if (!a || !(a->in = malloc(AGENT_IN_MAX)) || cred_init(&a->ids) < 0) {
		fprintf(stderr, "sbx-agent: out of memory\n");
		return 1;
	}
	a->in_fd = 0;
	a->out_fd = 1;
	a->sig_fd = sig_open();
	if (a->sig_fd < 0) {
		perror("sbx-agent: signalfd");
		return 1;
	}
	handles_init(&a->hs, no_tmp && !strcmp(no_tmp, "1"));
	jobs_init(&a->jobs, job_umask);
	watch_init(&a->watches);
	r = agent_run(a);
	/* the temporaries may belong to another uid than the last request's */
	cred_apply(&a->ids, &self);
	handles_release(&a->hs);
	jobs_release(&a->jobs);
	reads_release(&a->reads);
	watch_release(&a->watches);
	if (r == -EPROTO)
		fprintf(stderr, "sbx-agent: frame length out of bounds: session ended\n");
	else if (r < 0)
		fprintf(stderr, "sbx-agent: %s\n", strerror(-r));
	else if (r == 0)
		out_drain(&a->out, a->out_fd);
	out_release(&a->out);
	agent_req_release(&a->req);
	cred_release(&a->ids);
	free(a->in);
	close(a->sig_fd);
	free(a);
	return r == -EPROTO ? 2 : r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	mode_t job_umask;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("sbx-agent %s protocol %u\n", SBX_VERSION, SBXA_VERSION);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr,
			"usage: sbx-agent [--version] (speaks its protocol on stdin/stdout)\n");
		return 2;
	}
	/* other processes of the sandbox, root there too, must not reach our
	 * descriptors or memory through /proc (forged replies, stolen files) */
	prctl(PR_SET_DUMPABLE, 0);
	job_umask = umask(0);
	signal(SIGPIPE, SIG_IGN);
	hold_std_fds();
	set_nonblock(0);
	set_nonblock(1);
	return session(job_umask);
}
