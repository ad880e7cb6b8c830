/* out.c - the output queue (see out.h). */
#include <poll.h>
#include <unistd.h>

#include "out.h"

size_t out_begin(struct agent_out *o, uint32_t id, uint16_t type, uint16_t flags)
{
	return sbxa_frame_begin(&o->w, id, type, flags);
}

size_t out_reply(struct agent_out *o, uint32_t id, uint16_t op, uint16_t flags)
{
	size_t at = sbxa_frame_begin(&o->w, id, (uint16_t)(SBXA_REPLY | op), flags);

	sbxa_put_i32(&o->w, 0);
	return at;
}

void out_end(struct agent_out *o, size_t at)
{
	sbxa_frame_end(&o->w, at);
}

void out_set_flags(struct agent_out *o, size_t at, uint16_t flags)
{
	if (o->w.err || at + SBXA_HDR_LEN > o->w.len)
		return;
	o->w.p[at + 10] = (uint8_t)flags;
	o->w.p[at + 11] = (uint8_t)(flags >> 8);
}

void out_status(struct agent_out *o, uint32_t id, uint16_t op, int err)
{
	size_t at = sbxa_frame_begin(&o->w, id, (uint16_t)(SBXA_REPLY | op), 0);

	sbxa_put_i32(&o->w, err);
	sbxa_frame_end(&o->w, at);
}

static struct sbxa_time ts(struct timespec t)
{
	struct sbxa_time r = {.sec = t.tv_sec, .nsec = (uint32_t)t.tv_nsec};

	return r;
}

void out_put_stat(struct agent_out *o, const struct stat *st)
{
	struct sbxa_attr a = {
	    .mode = st->st_mode,
	    .nlink = (uint32_t)st->st_nlink,
	    .uid = st->st_uid,
	    .gid = st->st_gid,
	    .size = (uint64_t)st->st_size,
	    .blocks = (uint64_t)st->st_blocks,
	    .ino = st->st_ino,
	    .dev = st->st_dev,
	    .rdev = st->st_rdev,
	    .atime = ts(st->st_atim),
	    .mtime = ts(st->st_mtim),
	    .ctime = ts(st->st_ctim),
	};

	sbxa_put_attr(&o->w, &a);
}

size_t out_pending(const struct agent_out *o)
{
	return o->w.len - o->sent;
}

int out_flush(struct agent_out *o, int fd)
{
	ssize_t n;

	while (o->sent < o->w.len) {
		n = write(fd, o->w.p + o->sent, o->w.len - o->sent);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return -errno;
		o->sent += (size_t)n;
	}
	if (o->sent == o->w.len) {
		o->sent = o->w.len = 0;
		if (o->w.cap > 4 * (size_t)AGENT_OUT_HIGH)
			sbxa_w_release(&o->w); /* one huge READDIR: do not keep its memory */
	} else if (o->sent > (1u << 20) && o->sent > o->w.len / 2) {
		/* keep the queue from creeping: move the rest to the front */
		memmove(o->w.p, o->w.p + o->sent, o->w.len - o->sent);
		o->w.len -= o->sent;
		o->sent = 0;
	}
	return 0;
}

int out_drain(struct agent_out *o, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int r;

	for (;;) {
		r = out_flush(o, fd);
		if (r < 0 || !out_pending(o))
			return r;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
}

void out_release(struct agent_out *o)
{
	sbxa_w_release(&o->w);
	o->sent = 0;
}
