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
#include <stdio.h>
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

/* --- logs/ID ------------------------------------------------------------- */

/* The number of id, given now if it has none; 0 when none can be given
 * (no memory, or PLOG_SEQ_MAX reached). ctl->lock held. */
static unsigned plog_register_locked(struct ctl *c, const char *id)
{
	struct plog *p;
	size_t i;

	if (!c->plogs && !(c->plogs = calloc(PLOG_KEEP, sizeof(*c->plogs))))
		return 0;
	for (i = 0; i < PLOG_KEEP; i++) {
		if (c->plogs[i].seq && !strcmp(c->plogs[i].id, id)) {
			c->plogs[i].live = true;
			return c->plogs[i].seq;
		}
	}
	if (c->plog_seq >= PLOG_SEQ_MAX)
		return 0;
	/* the slot of the oldest number: numbers are given in order */
	p = &c->plogs[++c->plog_seq % PLOG_KEEP];
	p->seq = c->plog_seq;
	p->live = true;
	snprintf(p->id, sizeof(p->id), "%s", id);
	return p->seq;
}

bool ctl_plog_known_locked(const struct ctl *c, unsigned seq)
{
	return c->plogs && seq && c->plogs[seq % PLOG_KEEP].seq == seq;
}

int ctl_plog_lookup(struct ctl *c, const char *name, uint64_t *ret_ino)
{
	struct sbx_proc_info *v = NULL;
	size_t n = 0, i;
	unsigned seq = 0;
	int r;

	if (!sbx_proc_id_valid(name))
		return -ENOENT;
	r = fs_check_alive(c->fs) ?: sbx_proc_list(c->fs->sb, &v, &n, NULL);
	for (i = 0; r == 0 && i < n && strcmp(v[i].id, name); i++)
		;
	if (r == 0 && i == n)
		r = -ENOENT;
	if (r == 0) {
		pthread_mutex_lock(&c->lock);
		seq = plog_register_locked(c, name);
		pthread_mutex_unlock(&c->lock);
		r = seq ? 0 : -ENOSPC;
	}
	if (r == 0)
		*ret_ino = CTL_INO(PLOG_BASE + seq, K_PLOG);
	sbx_proc_info_free(v, n);
	return r;
}

int ctl_plog_refresh(struct ctl *c)
{
	struct sbx_proc_info *v = NULL;
	size_t n = 0, i;
	int r;

	r = fs_check_alive(c->fs) ?: sbx_proc_list(c->fs->sb, &v, &n, NULL);
	if (r == 0) {
		pthread_mutex_lock(&c->lock);
		for (i = 0; c->plogs && i < PLOG_KEEP; i++)
			c->plogs[i].live = false;
		for (i = 0; i < n; i++)
			plog_register_locked(c, v[i].id);
		pthread_mutex_unlock(&c->lock);
	}
	sbx_proc_info_free(v, n);
	return r;
}

/* Readdir offsets of logs/: the entry of number seq is at seq + 2. */
bool ctl_plog_entry_locked(const struct ctl *c, off_t off, char *buf, size_t cap, uint64_t *ret_id,
			   off_t *ret_next)
{
	const struct plog *best = NULL;
	size_t i;

	for (i = 0; c->plogs && i < PLOG_KEEP; i++) {
		const struct plog *p = &c->plogs[i];

		if (p->seq && p->live && (off_t)p->seq + 2 >= off && (!best || p->seq < best->seq))
			best = p;
	}
	if (!best)
		return false;
	snprintf(buf, cap, "%s", best->id);
	*ret_id = CTL_INO(PLOG_BASE + best->seq, K_PLOG);
	*ret_next = (off_t)best->seq + 3;
	return true;
}

/* The bound of a logs/ID snapshot: the executor keeps 4 MiB a stream. */
#define PLOG_SNAP_MAX (16u << 20)

static int add_line(void *ud, enum sbx_proc_stream stream, const char *ts, const char *line,
		    size_t n)
{
	struct sbx_buf *out = ud;

	(void)stream;
	(void)ts;
	if (out->len + n + 1 > PLOG_SNAP_MAX)
		return -EFBIG;
	return sbx_buf_append(out, line, n) ?: sbx_buf_putc(out, '\n');
}

int ctl_snap_plog(struct ctl *c, unsigned seq, struct sbx_buf *out)
{
	char id[CTL_PROC_ID_MAX + 1] = "";

	pthread_mutex_lock(&c->lock);
	if (ctl_plog_known_locked(c, seq))
		snprintf(id, sizeof(id), "%s", c->plogs[seq % PLOG_KEEP].id);
	pthread_mutex_unlock(&c->lock);
	if (!id[0])
		return -ENOENT;
	return fs_check_alive(c->fs)
		   ?: sbx_proc_logs(c->fs->sb, id, false, 60, add_line, out, NULL);
}
