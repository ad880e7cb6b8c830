/* procs.c - .ctl/procs and .ctl/ports: the background processes and the
 * published port of the mounted sandbox, through its executor (sbx/proc.h).
 *
 * Unlike jobs, these live in the sandbox, not in the mount: the executor
 * keeps the list, so a read shows what any client started, and a process
 * outlives the mount. Reads are snapshots made at open (one request to the
 * executor); writes carry verbs (verbs.h). Nothing here holds ctl->lock
 * during a request: the lock only guards the binding this mount made.
 */
#include "fs/ctl/ctl_int.h"
#include "fs/ctl/verbs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sbx/proc.h"
#include "util/log.h"

/* One line of .ctl/procs: "ID PID STATUS COMMAND", the command's control
 * characters shown as '?' so that a process is always one line. */
static int put_proc(struct sbx_buf *out, const struct sbx_proc_info *p)
{
	const char *s = p->command ? p->command : "";
	int r;

	r = sbx_buf_printf(out, "%s %d %s ", p->id, p->pid, sbx_proc_status_name(p->status));
	for (; !r && *s; s++)
		r = sbx_buf_putc(out, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	return r ?: sbx_buf_putc(out, '\n');
}

int ctl_snap_procs(struct sbx_fs *fs, struct sbx_buf *out)
{
	struct sbx_proc_info *v = NULL;
	size_t n = 0, i;
	int r;

	r = fs_check_alive(fs) ?: sbx_proc_list(fs->sb, &v, &n, NULL);
	for (i = 0; r == 0 && i < n; i++)
		r = put_proc(out, &v[i]);
	sbx_proc_info_free(v, n);
	return r;
}

int ctl_snap_ports(struct ctl *c, struct sbx_buf *out)
{
	int r = 0;

	pthread_mutex_lock(&c->lock);
	if (c->port)
		r = sbx_buf_printf(out, "%u %s\n", c->port, c->port_url ? c->port_url : "");
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* start COMMAND: in the mounted directory, after the files written through
 * the mount are stored (as a job does), so that the process sees them. */
static int proc_start(struct sbx_fs *fs, const char *cmd, size_t len)
{
	struct sbx_proc_opts o = {0};
	struct sbx_proc_info p = {0};
	char *copy;
	int r;

	while (len && (cmd[len - 1] == '\n' || cmd[len - 1] == '\r'))
		len--;
	if (!len || len > JOB_CMD_MAX || memchr(cmd, '\0', len))
		return -EINVAL;
	copy = strndup(cmd, len);
	if (!copy)
		return -ENOMEM;
	r = fs_flush_all(fs);
	if (r < 0)
		sbx_debug("ctl: a process starts although a file could not be stored: %s",
			  strerror(-r));
	o.command = copy;
	o.cwd = fs->root[0] ? fs->root : NULL;
	r = fs_check_alive(fs) ?: sbx_proc_start(fs->sb, &o, &p, NULL);
	if (r == 0)
		sbx_debug("ctl: started process %s (pid %d)", p.id, p.pid);
	sbx_proc_info_release(&p);
	free(copy);
	return r;
}

int ctl_procs_verbs(struct ctl *c, const char *buf, size_t size)
{
	struct sbx_fs *fs = c->fs;
	const char *p = buf, *end = buf + size;
	struct ctl_cmd cmd;
	int r = 0, k;

	while (!r && (k = ctl_cmd_next(&p, end, CTL_F_PROCS, &cmd)) != 0) {
		if (k < 0)
			return k;
		if (cmd.verb == CTL_V_START)
			r = proc_start(fs, cmd.run, cmd.run_len);
		else if (cmd.verb == CTL_V_PKILL)
			r = cmd.err ?: fs_check_alive(fs) ?: sbx_proc_kill(fs->sb, cmd.arg, NULL);
		else
			r = -EINVAL;
		ctl_cmd_release(&cmd);
	}
	return r;
}

/* Binds (port > 0) or unbinds, and remembers what this mount did. */
static int port_set(struct ctl *c, unsigned port)
{
	struct sbx_fs *fs = c->fs;
	char *url = NULL;
	int r;

	r = fs_check_alive(fs);
	if (r == 0)
		r = port ? sbx_port_bind(fs->sb, port, &url, NULL) : sbx_port_unbind(fs->sb, NULL);
	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	free(c->port_url);
	c->port_url = url;
	c->port = port;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int ctl_ports_verbs(struct ctl *c, const char *buf, size_t size)
{
	const char *p = buf, *end = buf + size;
	struct ctl_cmd cmd;
	int r = 0, k;

	while (!r && (k = ctl_cmd_next(&p, end, CTL_F_PORTS, &cmd)) != 0) {
		if (k < 0)
			return k;
		if (cmd.verb == CTL_V_BIND)
			r = cmd.err ?: port_set(c, cmd.port);
		else if (cmd.verb == CTL_V_UNBIND)
			r = port_set(c, 0);
		else
			r = -EINVAL;
		ctl_cmd_release(&cmd);
	}
	return r;
}
