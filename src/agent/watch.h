/* watch.h - inotify watches and EV_CHANGE.
 *
 * The inotify descriptor is made at the first WATCH. The set of watch
 * descriptors is kept to bound it (SBXA_WATCH_MAX) and to forget those the
 * kernel dropped (IN_IGNORED).
 */
#ifndef SBX_AGENT_WATCH_H
#define SBX_AGENT_WATCH_H

#include <stddef.h>

struct agent_watches {
	int fd; /**< -1 until the first WATCH */
	int *wd;
	char **dir; /**< dir[i]: the path wd[i] watches (owned) */
	size_t n, cap;
};

struct agent;

void watch_init(struct agent_watches *ws);

/** Watches the directory path (as WATCH does): the wd, or -errno. */
int watch_add(struct agent *a, const char *path);

/** Reads the inotify descriptor and sends an EV_CHANGE per event. */
void watch_on_event(struct agent *a);

void watch_release(struct agent_watches *ws);

#endif
