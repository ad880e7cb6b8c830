/* cred.c - per-request filesystem ids and groups (see cred.h). */
#include <grp.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include "cred.h"

int cred_init(struct agent_ids *s)
{
	int n = getgroups(0, NULL);

	s->uid = geteuid();
	s->gid = getegid();
	s->cur_self = true;
	s->groups_changed = false;
	s->ngroups = 0;
	s->groups = calloc(n > 0 ? (size_t)n : 1, sizeof(gid_t));
	if (!s->groups)
		return -ENOMEM;
	if (n > 0) {
		n = getgroups(n, s->groups);
		s->ngroups = n > 0 ? n : 0;
	}
	return 0;
}

static bool is_self(const struct agent_ids *s, const struct agent_cred *c)
{
	uint32_t i;

	if (c->uid == SBXA_ID_SELF)
		return true;
	if (c->uid != s->uid || c->gid != s->gid || c->ngroups != (uint32_t)s->ngroups)
		return false;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] != s->groups[i])
			return false;
	return true;
}

static bool same(const struct agent_cred *a, const struct agent_cred *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->ngroups == b->ngroups &&
	       !memcmp(a->groups, b->groups, a->ngroups * sizeof(a->groups[0]));
}

/* true when every group the agent holds is one of c's: keeping the
 * agent's own groups then grants c nothing it does not have */
static bool own_groups_within(const struct agent_ids *s, const struct agent_cred *c)
{
	int i;
	uint32_t k;

	for (i = 0; i < s->ngroups; i++) {
		for (k = 0; k < c->ngroups && c->groups[k] != s->groups[i]; k++)
			;
		if (k == c->ngroups)
			return false;
	}
	return true;
}

int cred_setgroups(const struct agent_ids *s, const struct agent_cred *c, bool *changed)
{
	gid_t g[SBXA_GROUPS_MAX];
	uint32_t i;

	*changed = false;
	for (i = 0; i < c->ngroups; i++)
		g[i] = c->groups[i];
	if (setgroups(c->ngroups, g) == 0) {
		*changed = true;
		return 0;
	}
	if (errno == EPERM && own_groups_within(s, c))
		return 0;
	return -errno;
}

static int restore_self(struct agent_ids *s)
{
	int r = 0;

	setfsuid(s->uid);
	setfsgid(s->gid);
	if (s->groups_changed && setgroups((size_t)s->ngroups, s->groups) < 0)
		r = -errno;
	else
		s->groups_changed = false;
	if ((uid_t)setfsuid((uid_t)-1) != s->uid || (gid_t)setfsgid((gid_t)-1) != s->gid)
		r = -EPERM;
	s->cur_self = true;
	return r;
}

int cred_apply(struct agent_ids *s, const struct agent_cred *c)
{
	bool changed;
	int r;

	if (is_self(s, c))
		return s->cur_self ? 0 : restore_self(s);
	if (!s->cur_self && same(&s->cur, c))
		return 0;
	r = cred_setgroups(s, c, &changed);
	if (r < 0)
		return r; /* nothing changed: what was in force still is */
	s->groups_changed = s->groups_changed || changed;
	setfsgid(c->gid);
	setfsuid(c->uid);
	if ((gid_t)setfsgid((gid_t)-1) != c->gid || (uid_t)setfsuid((uid_t)-1) != c->uid) {
		restore_self(s);
		return -EPERM;
	}
	s->cur = *c;
	s->cur_self = false;
	return 0;
}

void cred_release(struct agent_ids *s)
{
	free(s->groups);
	s->groups = NULL;
}
