/* agent_watch.c - change events from the agent (WATCH, EV_CHANGE).
 *
 * The client keeps every directory it was asked to watch (a->watches):
 * that list outlives sessions. A WATCH goes out without anyone waiting
 * (a detached request); its reply records the agent's wd. Events name a
 * wd; the list turns it back into the directory. A new session sends the
 * WATCH of every directory again and first reports SBX_RFS_CH_RESET, since
 * whatever changed while no agent watched is unknown; so does an overflow
 * of the agent's inotify queue. A directory reported GONE (removed, or
 * moved away: its path no longer names it) is forgotten; asking for it
 * again watches whatever is at that path then.
 *
 * Everything here runs with a->m held; on_change is the caller's and must
 * only queue the event (rfs.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rfs/agent_int.h"
#include "sbx/rfs.h"

#define WATCH_LIST_MAX 65536u

struct watch_req {
	struct agent_req q; /* first: freed as the request */
	struct rfs_agent *a;
	size_t idx;
};

/* WATCH's reply: the wd of the directory. */
static int watch_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct watch_req *w = ud;
	struct agent_watch *aw = &w->a->watches[w->idx];
	struct sbxa_r rd;
	uint32_t wd;
	size_t i;

	aw->pending = false;
	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	wd = sbxa_get_u32(&rd);
	if (rd.err)
		return rd.err;
	for (i = 0; i < w->a->n_watches; i++) /* the same directory, moved */
		if (i != w->idx && w->a->watches[i].live && w->a->watches[i].wd == wd)
			w->a->watches[i].live = false;
	aw->wd = wd;
	aw->live = true;
	return 0;
}

/* Sends the WATCH of watches[idx]; a->m held. */
static int send_watch(struct rfs_agent *a, size_t idx)
{
	struct watch_req *w = calloc(1, sizeof(*w));
	struct sbxa_w f = {0};
	int rc;

	if (!w)
		return -ENOMEM;
	w->a = a;
	w->idx = idx;
	w->q.detached = true;
	w->q.on_frame = watch_frame;
	w->q.ud = w;
	rfs_agent_begin(&f, SBXA_OP_WATCH);
	sbxa_put_cstr(&f, a->watches[idx].dir);
	a->watches[idx].pending = true;
	rc = rfs_agent_send_locked(a, &w->q, &f); /* frees w on failure */
	if (rc < 0)
		a->watches[idx].pending = false;
	sbxa_w_release(&f);
	return rc;
}

int rfs_agent_watch(struct rfs_agent *a, const char *dir, struct sbx_err *err)
{
	struct agent_watch *nw;
	size_t i;
	int rc = 0;

	if (dir[0] != '/' || strlen(dir) > SBXA_PATH_MAX)
		return sbx_err_set(err, -EINVAL, 0, "watch: not an absolute path");
	pthread_mutex_lock(&a->m);
	for (i = 0; i < a->n_watches; i++)
		if (!strcmp(a->watches[i].dir, dir))
			break;
	if (i < a->n_watches && (a->watches[i].live || a->watches[i].pending))
		goto out; /* already watched */
	if (i == a->n_watches) {
		if (a->n_watches >= WATCH_LIST_MAX) {
			rc = sbx_err_set(err, -ENOSPC, 0, "watch: too many directories");
			goto out;
		}
		if (a->n_watches == a->cap_watches) {
			size_t ncap = a->cap_watches ? a->cap_watches * 2 : 64;

			nw = realloc(a->watches, ncap * sizeof(*nw));
			if (!nw) {
				rc = sbx_err_set(err, -ENOMEM, 0, "out of memory");
				goto out;
			}
			a->watches = nw;
			a->cap_watches = ncap;
		}
		memset(&a->watches[i], 0, sizeof(a->watches[i]));
		a->watches[i].dir = strdup(dir);
		if (!a->watches[i].dir) {
			rc = sbx_err_set(err, -ENOMEM, 0, "out of memory");
			goto out;
		}
		a->n_watches++;
	}
	rc = send_watch(a, i);
	if (rc < 0)
		sbx_err_set(err, rc, 0, "watch %s: cannot reach the agent", dir);
out:
	pthread_mutex_unlock(&a->m);
	return rc;
}

void rfs_agent_watch_known_locked(struct rfs_agent *a, const char *dir, uint32_t wd)
{
	struct agent_watch *nw;
	size_t i, at = a->n_watches;

	for (i = 0; i < a->n_watches; i++) {
		if (!strcmp(a->watches[i].dir, dir))
			at = i;
		else if (a->watches[i].live && a->watches[i].wd == wd)
			a->watches[i].live = false; /* the same directory, moved */
	}
	if (at == a->n_watches) {
		if (a->n_watches >= WATCH_LIST_MAX)
			return;
		if (a->n_watches == a->cap_watches) {
			size_t ncap = a->cap_watches ? a->cap_watches * 2 : 64;

			nw = realloc(a->watches, ncap * sizeof(*nw));
			if (!nw)
				return;
			a->watches = nw;
			a->cap_watches = ncap;
		}
		memset(&a->watches[at], 0, sizeof(a->watches[at]));
		a->watches[at].dir = strdup(dir);
		if (!a->watches[at].dir)
			return;
		a->n_watches++;
	}
	a->watches[at].wd = wd;
	a->watches[at].live = true;
	a->watches[at].pending = false;
}

void rfs_agent_events_off(struct rfs_agent *a)
{
	pthread_mutex_lock(&a->m);
	a->on_change = NULL;
	pthread_mutex_unlock(&a->m);
}

void rfs_agent_rewatch_locked(struct rfs_agent *a)
{
	size_t i;

	if (!a->n_watches)
		return; /* a first session: nothing was watched before */
	if (a->on_change)
		a->on_change(a->change_ud, "", "", SBX_RFS_CH_RESET, NULL, a->seq);
	for (i = 0; i < a->n_watches; i++) {
		a->watches[i].live = false;
		a->watches[i].pending = false;
		if (a->watches[i].dir[0])
			send_watch(a, i);
	}
}

static struct agent_watch *by_wd(struct rfs_agent *a, uint32_t wd)
{
	size_t i;

	for (i = 0; i < a->n_watches; i++)
		if (a->watches[i].live && a->watches[i].wd == wd)
			return &a->watches[i];
	return NULL;
}

int rfs_agent_on_event(struct rfs_agent *a, const uint8_t *p, size_t n, uint64_t seq)
{
	char name[SBXA_NAME_MAX + 1];
	struct sbx_rfs_attr attr;
	struct agent_watch *aw;
	struct sbxa_attr wa = {0};
	struct sbxa_r rd;
	uint32_t wd, mask, has;

	sbxa_r_init(&rd, p, n);
	wd = sbxa_get_u32(&rd);
	mask = sbxa_get_u32(&rd);
	sbxa_get_path(&rd, name, SBXA_NAME_MAX, true);
	has = sbxa_get_u32(&rd);
	if (has)
		sbxa_get_attr(&rd, &wa);
	if (rd.err || has > 1 || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EPROTO;
	if (!a->on_change)
		return 0;
	if (mask & SBXA_CH_OVERFLOW) {
		a->on_change(a->change_ud, "", "", SBX_RFS_CH_RESET, NULL, seq);
		return 0;
	}
	aw = by_wd(a, wd);
	if (!aw)
		return 0; /* a directory forgotten, or a reply still on its way */
	if (has) {
		rfs_agent_attr(&attr, &wa);
		attr.seq = seq;
	}
	a->on_change(a->change_ud, aw->dir, name, mask & 0x1fu, has ? &attr : NULL, seq);
	if (mask & SBXA_CH_GONE)
		aw->live = false;
	return 0;
}
