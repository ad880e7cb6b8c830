/* cred.h - the credentials a request runs with.
 *
 * The agent is single-threaded, so setfsuid/setfsgid/setgroups act on the
 * only thread there is. cred_apply() changes them only when a request's
 * block differs from the one in force, and checks that the kernel took
 * them (setfsuid reports no error of its own).
 *
 * Where setgroups is denied (a user namespace whose setgroups file says
 * "deny", as sbxd makes them) the supplementary groups cannot be changed
 * at all: a request then runs with the agent's own groups, but only if
 * each of those is among the request's, so it never gains a group it
 * lacks (in sbxd's sandboxes the agent holds none).
 */
#ifndef SBX_AGENT_CRED_H
#define SBX_AGENT_CRED_H

#include <stdbool.h>
#include <sys/types.h>

#include "req.h"

struct agent_ids {
	uid_t uid; /**< the agent's own effective ids and groups */
	gid_t gid;
	int ngroups;
	gid_t *groups;
	struct agent_cred cur; /**< in force when !cur_self */
	bool cur_self;
	bool groups_changed; /**< setgroups has replaced the agent's own */
};

/** Records the agent's own ids. 0 or -ENOMEM. */
int cred_init(struct agent_ids *s);

/** Acts as c from now on (the agent's own ids when c->uid is SBXA_ID_SELF
 * or c names exactly those). 0, or the kernel's -errno; then the ids in
 * force before stay, or the agent's own are back. */
int cred_apply(struct agent_ids *s, const struct agent_cred *c);

/** setgroups(c's groups), or, where that is denied (EPERM), nothing if the
 * agent's own groups are all c's. *changed says whether the groups were
 * replaced. 0 or the kernel's -errno. Also for a job's child. */
int cred_setgroups(const struct agent_ids *s, const struct agent_cred *c, bool *changed);

void cred_release(struct agent_ids *s);

#endif
