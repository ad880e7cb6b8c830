/* jobtab.c - the table of the jobs of /.ctl: lookup by id, and the bounds
 * that keep one user from filling it.
 *
 * Jobs are kept in an array in id order; ids count up from 1 and are
 * never reused, so a name jobs/N never comes to mean another job. Two
 * bounds: at most JOB_PENDING_MAX pending jobs per user (jobs made by
 * .ctl/new and not yet run; a write to .ctl/exec runs its job at once and
 * does not count), and at most JOB_KEEP_MAX jobs kept: past it the oldest
 * ended jobs are reaped to make room, never a pending or running one, nor
 * one that a read is still parked on. Everything here runs under
 * ctl->lock and never blocks, so it is unit-tested alone.
 */
#include "fs/ctl/ctl_int.h"

#include <errno.h>
#include <stdlib.h>

size_t jobtab_from(const struct ctl *c, unsigned id)
{
	size_t lo = 0, hi = c->n_jobs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->jobs[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct job *jobtab_get(const struct ctl *c, unsigned id)
{
	size_t i = jobtab_from(c, id);

	return i < c->n_jobs && c->jobs[i]->id == id ? c->jobs[i] : NULL;
}

static void unlink_at(struct ctl *c, size_t i)
{
	c->n_jobs--;
	ctl_stamp(&c->jobs_mtime);
	for (; i < c->n_jobs; i++)
		c->jobs[i] = c->jobs[i + 1];
}

void jobtab_remove(struct ctl *c, struct job *j)
{
	size_t i = jobtab_from(c, j->id);

	if (i < c->n_jobs && c->jobs[i] == j)
		unlink_at(c, i);
}

static unsigned pending_of(const struct ctl *c, uid_t uid)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < c->n_jobs; i++)
		if (c->jobs[i]->state == JOB_PENDING && !c->jobs[i]->from_exec &&
		    c->jobs[i]->uid == uid)
			n++;
	return n;
}

/* Unlinks the oldest job that may go onto *reaped; false when none may. */
static bool reap_one(struct ctl *c, struct job **reaped)
{
	size_t i;

	for (i = 0; i < c->n_jobs; i++) {
		struct job *o = c->jobs[i];

		if (!o->ended || o->waiters)
			continue;
		unlink_at(c, i);
		o->next = *reaped;
		*reaped = o;
		return true;
	}
	return false;
}

static int grow(struct ctl *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 16;
	struct job **p;

	if (ncap > JOB_KEEP_MAX)
		ncap = JOB_KEEP_MAX;
	p = realloc(c->jobs, ncap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	c->jobs = p;
	c->cap = ncap;
	return 0;
}

int jobtab_add(struct ctl *c, struct job *j, struct job **reaped)
{
	int r;

	if (!j->from_exec && pending_of(c, j->uid) >= JOB_PENDING_MAX)
		return -EAGAIN;
	if (c->last_id >= JOB_ID_MAX)
		return -ENOSPC;
	while (c->n_jobs >= JOB_KEEP_MAX)
		if (!reap_one(c, reaped))
			return -EAGAIN;
	if (c->n_jobs == c->cap && (r = grow(c)) < 0)
		return r;
	j->id = ++c->last_id;
	j->refs++;
	c->jobs[c->n_jobs++] = j;
	ctl_stamp(&c->jobs_mtime);
	return 0;
}
