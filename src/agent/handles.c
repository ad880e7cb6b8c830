/* handles.c - OPEN, PREAD, PWRITE, FSYNC, CLOSE on client-chosen handles.
 *
 * Every file is opened O_NONBLOCK so that a FIFO or a device can never
 * stall the agent (the loop serves every request and job from one
 * thread); regular files ignore the flag.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops.h"

void handles_init(struct agent_handles *hs, bool no_otmpfile)
{
	uint32_t i;

	for (i = 0; i < SBXA_HANDLES_MAX; i++) {
		hs->h[i].fd = -1;
		hs->h[i].tmp = false;
		hs->h[i].name = NULL;
	}
	hs->no_otmpfile = no_otmpfile;
}

struct agent_handle *handle_get(struct agent_handles *hs, uint32_t i)
{
	if (i >= SBXA_HANDLES_MAX || hs->h[i].fd < 0)
		return NULL;
	return &hs->h[i];
}

void handle_drop(struct agent_handle *h)
{
	if (h->fd >= 0)
		close(h->fd);
	if (h->name)
		unlink(h->name);
	free(h->name);
	h->fd = -1;
	h->tmp = false;
	h->err = 0;
	h->name = NULL;
	h->wb_from = h->wb_end = 0;
}

void handles_release(struct agent_handles *hs)
{
	uint32_t i;

	for (i = 0; i < SBXA_HANDLES_MAX; i++)
		handle_drop(&hs->h[i]);
}

static int open_flags(uint32_t f)
{
	int o = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

	switch (f & SBXA_O_ACCMODE) {
	case SBXA_O_RDONLY: o |= O_RDONLY; break;
	case SBXA_O_WRONLY: o |= O_WRONLY; break;
	case SBXA_O_RDWR: o |= O_RDWR; break;
	default: return -EINVAL;
	}
	o |= (f & SBXA_O_CREAT) ? O_CREAT : 0;
	o |= (f & SBXA_O_EXCL) ? O_EXCL : 0;
	o |= (f & SBXA_O_TRUNC) ? O_TRUNC : 0;
	o |= (f & SBXA_O_APPEND) ? O_APPEND : 0;
	o |= (f & SBXA_O_NOFOLLOW) ? O_NOFOLLOW : 0;
	o |= (f & SBXA_O_DIRECTORY) ? O_DIRECTORY : 0;
	return o;
}

int op_open(struct agent *a, const struct agent_req *q)
{
	struct agent_handle *h;
	struct stat st;
	size_t at;
	int flags = open_flags(q->flags), fd;

	if (q->handle >= SBXA_HANDLES_MAX || (q->flags & ~SBXA_O_ALL) || flags < 0)
		return -EINVAL;
	h = &a->hs.h[q->handle];
	if (h->fd >= 0)
		return -EBUSY;
	fd = open(q->path, flags, q->mode & 07777);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	h->fd = fd;
	at = out_reply(&a->out, q->id, q->op, 0);
	out_put_stat(&a->out, &st);
	out_end(&a->out, at);
	return 0;
}

int op_pread(struct agent *a, const struct agent_req *q)
{
	struct agent_handle *h = handle_get(&a->hs, q->handle);
	size_t at, dat;
	uint8_t *buf;
	ssize_t n;

	if (!h)
		return -EBADF;
	if (q->len > SBXA_IO_MAX || q->off > INT64_MAX)
		return -EINVAL;
	at = out_reply(&a->out, q->id, q->op, 0);
	dat = a->out.w.len;
	buf = sbxa_w_room(&a->out.w, q->len);
	if (a->out.w.err)
		return a->out.w.err;
	do
		n = pread(h->fd, buf, q->len, (off_t)q->off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		n = -errno;
		a->out.w.len = at;
		return (int)n;
	}
	a->out.w.len = dat + (size_t)n;
	out_end(&a->out, at);
	return 0;
}

/* Starts the writeback of a sequential run of writes each time it reaches
 * WRITEBACK_RUN bytes. A large file written through or stored would
 * otherwise sit in the page cache until the kernel's own flush, and the
 * client's fsync (or the store's) would then wait for all of it at once:
 * 0.4-0.8 s for 256 MiB on the sbxd sandbox's disk, all after the transfer.
 * Started as the bytes arrive, the disk works alongside the network and the
 * fsync finds the tail only. It also keeps a sandbox's dirty memory (which
 * its memory limit counts) from growing with the file. Only a hint: a
 * failure changes nothing, and the data's durability still comes from
 * FSYNC. Files under WRITEBACK_RUN never reach it. */
#define WRITEBACK_RUN (8u << 20)

static void writeback_run(struct agent_handle *h, uint64_t off, size_t len)
{
	if (off != h->wb_end)
		h->wb_from = off;
	h->wb_end = off + len;
	if (h->wb_end - h->wb_from < WRITEBACK_RUN)
		return;
	(void)sync_file_range(h->fd, (off_t)h->wb_from, (off_t)(h->wb_end - h->wb_from),
			      SYNC_FILE_RANGE_WRITE);
	h->wb_from = h->wb_end;
}

int op_pwrite(struct agent *a, const struct agent_req *q)
{
	struct agent_handle *h = handle_get(&a->hs, q->handle);
	size_t done = 0, at;
	ssize_t n;

	if (!h)
		return -EBADF;
	if (q->off > INT64_MAX) {
		h->err = h->err ? h->err : -EINVAL;
		return -EINVAL;
	}
	while (done < q->data_len) {
		n = pwrite(h->fd, q->data + done, q->data_len - done, (off_t)(q->off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && done == 0) {
			h->err = h->err ? h->err : -errno;
			return -errno;
		}
		if (n <= 0)
			break; /* a short write: the count says how far it got */
		done += (size_t)n;
	}
	if (done < q->data_len && !h->err)
		h->err = -EIO;
	writeback_run(h, q->off, done);
	at = out_reply(&a->out, q->id, q->op, 0);
	sbxa_put_u32(&a->out.w, (uint32_t)done);
	out_end(&a->out, at);
	return 0;
}

int op_fsync(struct agent *a, const struct agent_req *q)
{
	struct agent_handle *h = handle_get(&a->hs, q->handle);

	if (!h)
		return -EBADF;
	if ((q->num ? fdatasync(h->fd) : fsync(h->fd)) < 0)
		return -errno;
	out_status(&a->out, q->id, q->op, 0);
	return 0;
}

int op_ftruncate(struct agent *a, const struct agent_req *q)
{
	struct agent_handle *h = handle_get(&a->hs, q->handle);

	if (!h)
		return -EBADF;
	if (q->off > INT64_MAX)
		return -EINVAL;
	if (ftruncate(h->fd, (off_t)q->off) < 0) {
		h->err = h->err ? h->err : -errno;
		return -errno;
	}
	out_status(&a->out, q->id, q->op, 0);
	return 0;
}

int op_close(struct agent *a, const struct agent_req *q)
{
	struct agent_handle *h = handle_get(&a->hs, q->handle);

	if (!h)
		return -EBADF;
	handle_drop(h);
	out_status(&a->out, q->id, q->op, 0);
	return 0;
}
