/* conns.c - the agent sessions of -o max_conns past the first; see
 * conns.h.
 *
 * fs->conns_state goes 0 (none asked) -> 1 (the opener runs) -> 2 (it is
 * done, or could not start); only the thread that moves it from 0 starts
 * the opener. conns[i] is written by the opener before n_conns is
 * published past i (release), and read after n_conns is loaded (acquire),
 * so a reader never sees a half-made entry.
 */
#include "fs/conns.h"

#include <pthread.h>
#include <string.h>

#include "util/log.h"

/* One more session: its own client, so its own transport thread. 0, or a
 * negative errno. */
static int open_one(struct sbx_fs *fs, struct fs_conn *c)
{
	const struct sbxfs_creds *cr = fs->creds;
	struct sbx_client_opts co = {0};
	struct sbx_rfs_opts ro = {0};
	struct sbx_err err = {0};
	int r;

	sbxfs_creds_client_opts(cr, &co);
	ro.op_timeout_s = fs->opts->op_timeout;
	ro.transport = SBX_RFS_TRANSPORT_AGENT;
	r = sbx_client_new(&co, &c->client, &err) ?: sbx_sandbox_open(c->client, fs->opts->sandbox, &c->sb, &err)
		?: sbx_rfs_new(c->sb, &ro, &c->rfs) ?: sbx_rfs_connect(c->rfs, &err);
	if (r < 0) {
		sbx_log(SBX_LOG_WARN, "max_conns: one more session failed: %s", err.msg);
		sbx_rfs_free(c->rfs);
		sbx_sandbox_free(c->sb);
		sbx_client_free(c->client);
		memset(c, 0, sizeof(*c));
	}
	return r;
}

static void *opener(void *arg)
{
	struct sbx_fs *fs = arg;
	unsigned n = 0;
	int i;

	for (i = 1; i < fs->opts->max_conns && i < FS_CONNS_MAX; i++) {
		if (__atomic_load_n(&fs->conns_stop, __ATOMIC_ACQUIRE))
			break;
		if (open_one(fs, &fs->conns[n]) < 0)
			break; /* the next one would fail alike */
		__atomic_store_n(&fs->n_conns, ++n, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&fs->conns_state, 2, __ATOMIC_RELEASE);
	return NULL;
}

void conns_want(struct sbx_fs *fs)
{
	int none = 0;

	if (fs->opts->max_conns <= 1 || !fs->creds ||
	    __atomic_load_n(&fs->conns_state, __ATOMIC_ACQUIRE) != 0 ||
	    strcmp(sbx_rfs_transport_name(fs->rfs), "agent"))
		return;
	if (!__atomic_compare_exchange_n(&fs->conns_state, &none, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return; /* another thread asked first */
	if (pthread_create(&fs->conns_thr, NULL, opener, fs) != 0) {
		sbx_log(SBX_LOG_WARN, "max_conns: cannot start a thread to open sessions");
		__atomic_store_n(&fs->conns_state, 2, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&fs->conns_thr_on, true, __ATOMIC_RELEASE);
}

struct sbx_rfs *conns_pick(struct sbx_fs *fs, bool ordered)
{
	unsigned n = __atomic_load_n(&fs->n_conns, __ATOMIC_ACQUIRE), k;

	if (!n || ordered)
		return fs->rfs;
	k = __atomic_fetch_add(&fs->data_rr, 1, __ATOMIC_RELAXED) % (n + 1);
	return k == 0 ? fs->rfs : fs->conns[k - 1].rfs;
}

unsigned conns_count(const struct sbx_fs *fs)
{
	return __atomic_load_n(&fs->n_conns, __ATOMIC_ACQUIRE);
}

void conns_close(struct sbx_fs *fs)
{
	unsigned n;

	__atomic_store_n(&fs->conns_stop, true, __ATOMIC_RELEASE);
	if (__atomic_load_n(&fs->conns_thr_on, __ATOMIC_ACQUIRE)) {
		pthread_join(fs->conns_thr, NULL);
		fs->conns_thr_on = false;
	}
	n = __atomic_load_n(&fs->n_conns, __ATOMIC_ACQUIRE);
	while (n) {
		struct fs_conn *c = &fs->conns[--n];

		sbx_rfs_free(c->rfs);
		sbx_sandbox_free(c->sb);
		sbx_client_free(c->client);
		memset(c, 0, sizeof(*c));
	}
	__atomic_store_n(&fs->n_conns, 0, __ATOMIC_RELEASE);
	/* a later connect (after the fork) may open them again */
	__atomic_store_n(&fs->conns_state, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&fs->conns_stop, false, __ATOMIC_RELEASE);
}
