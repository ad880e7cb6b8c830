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
 *
 * Lookups are indexed (a tree listing records thousands of directories, and
 * every event names a wd). The list only grows (a directory reported gone
 * keeps its slot, which asking again reuses), so the index by directory is
 * insert-only: open addressing in a power-of-two table kept at most half
 * full. wds are the agent's inotify descriptors, small integers counted
 * from 1 in each session: a direct table up to WD_DIRECT_MAX, a scan past.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rfs/agent_int.h"
#include "sbx/rfs.h"

#define WATCH_LIST_MAX 65536u
#define WD_DIRECT_MAX  (1u << 20)

/* ---- indexes ---- */

static size_t str_hash(const char *p)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (*p)
		h = (h ^ (uint8_t)*p++) * 1099511628211ull;
	return (size_t)h;
}

/* The index of dir in the list, or a->n_watches. */
static size_t dir_find(const struct rfs_agent *a, const char *dir)
{
	size_t m, i;

	if (!a->dir_cap)
		return a->n_watches;
	m = a->dir_cap - 1;
	for (i = str_hash(dir) & m; a->dir_tab[i] != SIZE_MAX; i = (i + 1) & m)
		if (!strcmp(a->watches[a->dir_tab[i]].dir, dir))
			return a->dir_tab[i];
	return a->n_watches;
}

static void dir_put(size_t *tab, size_t cap, const struct agent_watch *w, size_t idx)
{
	size_t m = cap - 1, i;

	for (i = str_hash(w[idx].dir) & m; tab[i] != SIZE_MAX; i = (i + 1) & m)
		;
	tab[i] = idx;
}

/* Indexes watches[idx], the newest (those before it are indexed). */
static int dir_index(struct rfs_agent *a, size_t idx)
{
	size_t ncap, i, *t;

	if ((idx + 1) * 2 > a->dir_cap) {
		ncap = a->dir_cap ? a->dir_cap * 2 : 128;
		t = malloc(ncap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t, 0xff, ncap * sizeof(*t));
		for (i = 0; i < idx; i++)
			dir_put(t, ncap, a->watches, i);
		free(a->dir_tab);
		a->dir_tab = t;
		a->dir_cap = ncap;
	}
	dir_put(a->dir_tab, a->dir_cap, a->watches, idx);
	return 0;
}

/* The live watch of wd, or NULL. */
static struct agent_watch *by_wd(struct rfs_agent *a, uint32_t wd)
{
	size_t i;

	if (wd < a->wd_cap) {
		i = a->wd_tab[wd];
		return i && a->watches[i - 1].live && a->watches[i - 1].wd == wd
			   ? &a->watches[i - 1]
			   : NULL;
	}
	for (i = 0; i < a->n_watches; i++) /* never indexed: past the table */
		if (a->watches[i].live && a->watches[i].wd == wd)
			return &a->watches[i];
	return NULL;
}

/* watches[idx] is live with wd from now on; the one that had wd (the same
 * directory, moved) is not any more. */
static void wd_assign(struct rfs_agent *a, size_t idx, uint32_t wd)
{
	struct agent_watch *old = by_wd(a, wd);
	size_t ncap;
	uint32_t *t;

	if (old && old != &a->watches[idx])
		old->live = false;
	a->watches[idx].wd = wd;
	a->watches[idx].live = true;
	if (wd >= WD_DIRECT_MAX)
		return;
	if (wd >= a->wd_cap) {
		ncap = a->wd_cap ? a->wd_cap : 256;
		while (ncap <= wd)
			ncap *= 2;
		t = realloc(a->wd_tab, ncap * sizeof(*t));
		if (!t)
			return; /* found by a scan instead */
		memset(t + a->wd_cap, 0, (ncap - a->wd_cap) * sizeof(*t));
		a->wd_tab = t;
		a->wd_cap = ncap;
	}
	a->wd_tab[wd] = (uint32_t)idx + 1;
}

/* Appends dir to the list: its index, or a->n_watches on failure. */
static size_t watch_append(struct rfs_agent *a, const char *dir)
{
	struct agent_watch *nw;
	size_t i = a->n_watches;

	if (i >= WATCH_LIST_MAX)
		return i;
	if (i == a->cap_watches) {
		size_t ncap = a->cap_watches ? a->cap_watches * 2 : 64;

		nw = realloc(a->watches, ncap * sizeof(*nw));
		if (!nw)
			return i;
		a->watches = nw;
		a->cap_watches = ncap;
	}
	memset(&a->watches[i], 0, sizeof(a->watches[i]));
	a->watches[i].dir = strdup(dir);
	if (!a->watches[i].dir)
		return i;
	if (dir_index(a, i) < 0) {
		free(a->watches[i].dir);
		return i;
	}
	a->n_watches++;
	return i;
}

struct watch_req {
	struct agent_req q; /* first: freed as the request */
	struct rfs_agent *a;
	size_t idx;
};

/* WATCH's reply: the wd of the directory. */
static int watch_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct watch_req *w = ud;
	struct sbxa_r rd;
	uint32_t wd;

	w->a->watches[w->idx].pending = false;
	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	wd = sbxa_get_u32(&rd);
	if (rd.err)
		return rd.err;
	wd_assign(w->a, w->idx, wd);
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
	size_t i;
	int rc = 0;

	if (dir[0] != '/' || strlen(dir) > SBXA_PATH_MAX)
		return sbx_err_set(err, -EINVAL, 0, "watch: not an absolute path");
	pthread_mutex_lock(&a->m);
	i = dir_find(a, dir);
	if (i < a->n_watches && (a->watches[i].live || a->watches[i].pending))
		goto out; /* already watched */
	if (i == a->n_watches && (i = watch_append(a, dir)) == a->n_watches) {
		rc = a->n_watches >= WATCH_LIST_MAX
			 ? sbx_err_set(err, -ENOSPC, 0, "watch: too many directories")
			 : sbx_err_set(err, -ENOMEM, 0, "out of memory");
		goto out;
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
	size_t at = dir_find(a, dir);

	if (at == a->n_watches && (at = watch_append(a, dir)) == a->n_watches)
		return;
	wd_assign(a, at, wd);
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
	if (a->wd_cap) /* the new agent counts wds afresh */
		memset(a->wd_tab, 0, a->wd_cap * sizeof(*a->wd_tab));
	for (i = 0; i < a->n_watches; i++) {
		a->watches[i].live = false;
		a->watches[i].pending = false;
		if (a->watches[i].dir[0])
			send_watch(a, i);
	}
}

int rfs_agent_on_event(struct rfs_agent *a, const uint8_t *p, size_t n, uint64_t seq)
{
	char name[SBXA_NAME_MAX + 1];
	struct sbx_rfs_attr attr;
	struct agent_watch *aw;
	struct sbxa_attr wa = {0};
	struct sbxa_r rd;
	uint32_t wd, mask, has;
	bool next;

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
	/* the mark means something on a name's coming or going only */
	next = (mask & SBXA_CH_DIR_NEXT) && (mask & (SBXA_CH_CREATE | SBXA_CH_DELETE));
	a->on_change(a->change_ud, aw->dir, name, (mask & 0x1fu) | (next ? SBX_RFS_CH_DIR_NEXT : 0),
		     has ? &attr : NULL, seq);
	if (mask & SBXA_CH_GONE)
		aw->live = false;
	return 0;
}
