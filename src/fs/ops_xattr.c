/* ops_xattr.c - FUSE handlers of extended attributes: getxattr,
 * setxattr, listxattr, removexattr, each at most one agent request acting
 * with the caller's credential (cred.h), the sandbox kernel's errno as
 * answer.
 *
 * The kernel asks for security.capability before every write(2), and
 * `ls -l` asks every file for its ACL and security label; nearly no file
 * has any. So what is known to be absent is answered here, with no round
 * trip, from two per-node caches (node.h):
 *  - nocap: a file we created has no security.capability (it is never
 *    inherited), and neither has one that a getxattr found without;
 *  - xlist: the names the sandbox listed: brought by the listing of the
 *    node's directory (the agent sends every entry's names), or fetched
 *    once, with the transport's own ids so the list is complete, on the
 *    first getxattr or listxattr of the node; a name not in it is
 *    ENODATA, a name in it is one request for the value, with the
 *    caller's ids.
 * Both are kept true by our own setxattr and removexattr, by change
 * events about the node (changes.c) and by every cache drop (the fs
 * epoch); xlist also lives no longer than the node's attributes. A file
 * with several hard links is never answered from them: a change through
 * another name would not reach this node. Another user than the owner,
 * not root, is not shown trusted.* names (the sandbox's kernel would not
 * list them to it either).
 *
 * SELinux labels are not carried (LABEL_NAME below).
 *
 * /.ctl has no extended attributes: ENODATA, and ENOTSUP to set one. With
 * the shell transport every call is ENOTSUP (the kernel's answer for a
 * filesystem without them).
 */
#include "fs/ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/cred.h"
#include "fs/ctl/ctl.h"
#include "fs/dattr.h"
#include "fs/dirlist.h"
#include "fs/fcache.h"
#include "fs/later.h"
#include "fs/xlist.h"

#define CAP_NAME "security.capability"
#define ACL_NAME "system.posix_acl_access"
#define DEF_ACL_NAME "system.posix_acl_default"
/* SELinux labels are not carried. With SELinux on, the local kernel labels
 * a FUSE mount by its own policy and never asks sbxfs; with it off, `ls
 * -l` asks every file for one (a FUSE request each, the most of a warm `ls
 * -lR`), and EOPNOTSUPP makes ls stop asking for the rest of the mount,
 * as sshfs's and NFS's answers do. */
#define LABEL_NAME "security.selinux"

/* What the caches say of a name (fs->lock held). */
enum known { UNKNOWN, ABSENT, LISTED };

/* Takes the names a fresh listing of n's parent brought for n (the
 * listing is kept true like the attributes it carries). fs->lock held. */
static void adopt_listed_locked(struct sbx_fs *fs, struct node *n)
{
	struct dirlist *l = n->parent && n->name ? fs_fresh_list(fs, n->parent) : NULL;
	const struct sbx_rfs_dirent *e = l ? dirlist_find(l, n->name) : NULL;
	char *copy;

	if (!e || !e->xattrs || e->attr.ino != n->attr.ino)
		return;
	copy = malloc(e->xattrs_len ? e->xattrs_len : 1);
	if (!copy)
		return;
	memcpy(copy, e->xattrs, e->xattrs_len);
	free(n->xlist);
	n->xlist = copy;
	n->xlist_len = e->xattrs_len;
	n->xlist_ok = true;
	n->xlist_epoch = fs_epoch(fs);
}

/* true when n's cached list may answer (fs->lock held) */
static bool list_fresh_locked(struct sbx_fs *fs, struct node *n)
{
	if (!S_ISDIR(n->attr.mode) && n->attr.nlink > 1)
		return false;
	if (!(n->xlist_ok && n->xlist_epoch == fs_epoch(fs)))
		adopt_listed_locked(fs, n);
	return n->xlist_ok && n->xlist_epoch == fs_epoch(fs) && fs_attr_fresh(fs, n);
}

static enum known lookup_locked(struct sbx_fs *fs, struct node *n, const char *name)
{
	if (!strcmp(name, CAP_NAME) && n->nocap && n->nocap_epoch == fs_epoch(fs) &&
	    n->attr.nlink <= 1)
		return ABSENT;
	if (!list_fresh_locked(fs, n))
		return UNKNOWN;
	return xlist_has(n->xlist, n->xlist_len, name) ? LISTED : ABSENT;
}

void fs_nocap_set_locked(struct sbx_fs *fs, struct node *n)
{
	n->nocap = true;
	n->nocap_epoch = fs_epoch(fs);
}

/* Was the file only created here (deferred create, not yet stored)? It
 * has no extended attributes then: nothing has set any. */
static bool unstored(struct sbx_fs *fs, fuse_ino_t ino)
{
	struct node *n;
	bool u;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	u = n && n->unstored;
	pthread_mutex_unlock(&fs->lock);
	return u;
}

/* The node's path, and a copy of its cached list when usable (*list NULL
 * otherwise; the caller frees it). *gen: xlist_gen now. */
static int prepare(struct sbx_fs *fs, fuse_ino_t ino, struct sbx_buf *path, const char *name,
		   enum known *k, char **list, size_t *len, uint64_t *gen)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	r = n ? node_path(n, fs->root, path) : -ESTALE;
	if (n && k)
		*k = lookup_locked(fs, n, name);
	if (n && list && list_fresh_locked(fs, n)) {
		*list = malloc(n->xlist_len ? n->xlist_len : 1);
		if (*list) {
			memcpy(*list, n->xlist, n->xlist_len);
			*len = n->xlist_len;
		}
	}
	if (n && gen)
		*gen = n->xlist_gen;
	pthread_mutex_unlock(&fs->lock);
	return r ?: fs_check_alive(fs);
}

/* Keeps a list fetched from the sandbox unless one of our own changes
 * came in between (gen0). */
static void keep_list(struct sbx_fs *fs, fuse_ino_t ino, const char *list, size_t len,
		      uint64_t gen0)
{
	struct node *n;
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return;
	memcpy(copy, list, len);
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (n && n->xlist_gen == gen0) {
		free(n->xlist);
		n->xlist = copy;
		n->xlist_len = len;
		n->xlist_ok = true;
		n->xlist_epoch = fs_epoch(fs);
		copy = NULL;
	}
	pthread_mutex_unlock(&fs->lock);
	free(copy);
}

/* A request of l's xattr (name NULL: the list), answered to then. The
 * list is fetched with the transport's own ids, so that it is complete
 * and can be cached; a value with the caller's. */
static void send_xattr(struct later *l, const char *path, const char *name, bool as_caller)
{
	l->q.path = path;
	l->q.name = name;
	l->q.size = name ? l->size : SBX_RFS_XATTR_MAX;
	l->q.cred = as_caller && l->has_cred ? &l->cred : NULL;
	later_submit(l);
}

bool ops_xattr_new_dir_locked(struct sbx_fs *fs, struct node *parent, struct node *n)
{
	char *none;

	if (!list_fresh_locked(fs, parent) ||
	    xlist_has(parent->xlist, parent->xlist_len, DEF_ACL_NAME))
		return false;
	if (!(none = malloc(1)))
		return true; /* not worth a round trip */
	free(n->xlist);
	n->xlist = none;
	n->xlist_len = 0;
	n->xlist_ok = true;
	n->xlist_epoch = fs_epoch(fs);
	n->xlist_gen++;
	return true;
}

/* The list ops_xattr_learn asked for came. */
static void learned_then(struct later *l)
{
	if (l->q.rc >= 0)
		keep_list(l->fs, l->ino, l->q.value, l->q.value_len, l->gen0);
}

void ops_xattr_learn(struct sbx_fs *fs, uint64_t ino)
{
	struct sbx_buf path = SBX_BUF_INIT;
	struct later *l = later_new(fs, NULL, SBX_RFS_OP_XATTR, learned_then, NULL, NULL);
	uint64_t gen0 = 0;
	struct node *n;
	int r;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	r = n ? node_path(n, fs->root, &path) : -ESTALE;
	if (n)
		gen0 = n->xlist_gen;
	pthread_mutex_unlock(&fs->lock);
	if (!l || r < 0) {
		later_drop(l);
		sbx_buf_release(&path);
		return;
	}
	l->ino = ino;
	l->gen0 = gen0;
	send_xattr(l, path.data, NULL, false);
	sbx_buf_release(&path);
}

/* An access ACL set through us changed the file's mode bits in the
 * sandbox (cp -a sets one instead of chmod): an open file with unstored
 * changes keeps its own mode until it is stored, so it takes this one as
 * a pending chmod, or its store would undo the ACL's. */
static void acl_mode(struct sbx_fs *fs, fuse_ino_t ino, uint32_t mode)
{
	struct sbx_rfs_setattr sa = {.valid = SBX_RFS_SET_MODE, .mode = mode & 07777};
	struct fcache *fc;
	struct node *n;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	fc = n ? fcache_get_locked(fs, n) : NULL;
	pthread_mutex_unlock(&fs->lock);
	if (!fc)
		return;
	fcache_pend_attrs(fs, fc, &sa, NULL); /* the sandbox has it already */
	fcache_release(fs, fc);
}

/* After a change of name on ino through us: what is cached of it. a: the
 * file's attributes read since (NULL: not read; they are marked stale, and
 * the agent's report of the change brings them). gen0: the node's
 * generation before they were read. */
static void xattr_changed(struct sbx_fs *fs, fuse_ino_t ino, const char *name, bool removed,
			  const struct sbx_rfs_attr *a, uint64_t gen0)
{
	struct node *n;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (n && !strcmp(name, CAP_NAME)) {
		n->nocap = removed;
		n->nocap_epoch = fs_epoch(fs);
	}
	if (n) {
		n->xlist_ok = false;
		n->xlist_gen++;
		if (!n->local)
			n->attr_expire = 0; /* its ctime moved */
	}
	if (n && a)
		fs_node_set_attr(fs, n, a, gen0);
	else if (n)
		n->gen++;   /* attributes read before the change are old */
	if (n && n->parent) /* its entry there no longer has the right names */
		fs_dir_entry_set_keep(fs, n->parent, n->name, &n->attr, n->link);
	pthread_mutex_unlock(&fs->lock);
}

/* An access ACL that is a mode was set on ino (acl_as_chmod): the file
 * has no access ACL now and keeps its other names, so a cached list stays
 * true without it (cp -a removes the default ACL of every directory next:
 * known absent, that is no round trip). */
static void plain_acl_set(struct sbx_fs *fs, fuse_ino_t ino)
{
	struct node *n;
	bool kept = false;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (n && list_fresh_locked(fs, n)) {
		n->xlist_len = xlist_drop_prefix(n->xlist, n->xlist_len, ACL_NAME);
		n->xlist_gen++; /* a list read before may have it */
		n->gen++;
		if (!n->local)
			n->attr_expire = 0; /* its ctime moved */
		if (n->parent)
			fs_dir_entry_set_keep(fs, n->parent, n->name, &n->attr, n->link);
		kept = true;
	}
	pthread_mutex_unlock(&fs->lock);
	if (!kept)
		xattr_changed(fs, ino, ACL_NAME, false, NULL, 0);
}

/* Whether name is known to be absent from ino's attributes. */
static bool known_absent(struct sbx_fs *fs, fuse_ino_t ino, const char *name)
{
	struct node *n;
	bool r;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	r = n && lookup_locked(fs, n, name) == ABSENT;
	pthread_mutex_unlock(&fs->lock);
	return r;
}

/* The node's generation, bumped: attributes read after this call are
 * newer than any read before it. */
static uint64_t next_gen(struct sbx_fs *fs, fuse_ino_t ino)
{
	struct node *n;
	uint64_t gen0;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	gen0 = n ? ++n->gen : 0;
	pthread_mutex_unlock(&fs->lock);
	return gen0;
}

/* Replies a sized answer: the length for size 0, else the bytes. */
static void reply_sized(fuse_req_t req, int r, const char *buf, size_t len, size_t size)
{
	if (r == 0 && size && len > size)
		r = -ERANGE;
	if (r < 0)
		fuse_reply_err(req, fs_errno(r));
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
}

/* later_start() of an xattr request for node ino on behalf of cred (NULL:
 * the mount owner), answered to then; NULL after replying an error. */
static struct later *xattr_later(struct sbx_fs *fs, fuse_req_t req, int r,
				 void (*then)(struct later *l), const char *name, fuse_ino_t ino,
				 uint64_t gen0, size_t size, const struct sbx_rfs_cred *cred)
{
	struct later *l = later_start(fs, req, r, SBX_RFS_OP_XATTR, then, name, NULL);

	if (l) {
		l->ino = ino;
		l->gen0 = gen0;
		l->size = size;
		l->has_cred = cred != NULL;
		if (cred)
			l->cred = *cred;
	}
	return l;
}

/* A getxattr's value came. */
static void value_then(struct later *l)
{
	if (!later_failed(l))
		reply_sized(l->req, 0, l->q.value, l->q.value_len, l->size);
}

/* A getxattr's list came: the value is asked for if the name is in it. */
static void list_then(struct later *l)
{
	struct sbx_fs *fs = l->fs;
	struct sbx_buf path = SBX_BUF_INIT;
	struct later *v;
	int r;

	if (later_failed(l))
		return; /* the list failed as the value would */
	keep_list(fs, l->ino, l->q.value, l->q.value_len, l->gen0);
	r = xlist_has(l->q.value, l->q.value_len, l->name) ? 0 : -ENODATA;
	r = r ?: prepare(fs, l->ino, &path, NULL, NULL, NULL, NULL, NULL);
	v = xattr_later(fs, l->req, r, value_then, l->name, l->ino, 0, l->size,
			l->has_cred ? &l->cred : NULL);
	if (v)
		send_xattr(v, path.data, v->name, true);
	sbx_buf_release(&path);
}

void ops_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_cred cb;
	const struct sbx_rfs_cred *cred = fs_cred_of(req, fs->uid, &cb);
	enum known k = UNKNOWN;
	struct later *l;
	uint64_t gen0 = 0;
	int r;

	FS_COUNT_OP(fs, FS_GETXATTR);
	if (ctl_is(ino)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (!strcmp(name, LABEL_NAME)) {
		FS_COUNT(fs, xattr_hit);
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	size = size > SBX_RFS_XATTR_MAX ? SBX_RFS_XATTR_MAX : size;
	r = prepare(fs, ino, &path, name, &k, NULL, NULL, &gen0);
	if (r == 0 && (k == ABSENT || unstored(fs, ino))) {
		FS_COUNT(fs, xattr_hit);
		r = -ENODATA;
	}
	if (r == 0)
		dattr_settle(fs, ino); /* an ACL's mask follows a chmod behind */
	/* listed: the value; not known: the list first (absent is ENODATA) */
	l = xattr_later(fs, req, r, k == LISTED ? value_then : list_then, name, ino, gen0, size,
			cred);
	if (l)
		send_xattr(l, path.data, k == LISTED ? l->name : NULL, k == LISTED);
	sbx_buf_release(&path);
}

/* The names of list a caller is shown (list is cut in place): not the
 * label, nor trusted.* to other users than root. */
static size_t shown(char *list, size_t len, const struct sbx_rfs_cred *cred)
{
	len = xlist_drop_prefix(list, len, LABEL_NAME);
	if (cred && cred->uid != 0)
		len = xlist_drop_prefix(list, len, "trusted.");
	return len;
}

/* A listxattr's list came. */
static void names_then(struct later *l)
{
	size_t len;

	if (later_failed(l))
		return;
	keep_list(l->fs, l->ino, l->q.value, l->q.value_len, l->gen0);
	len = shown(l->q.value, l->q.value_len, l->has_cred ? &l->cred : NULL);
	reply_sized(l->req, 0, l->q.value, len, l->size);
}

void ops_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_cred cb;
	const struct sbx_rfs_cred *cred = fs_cred_of(req, fs->uid, &cb);
	struct later *l;
	uint64_t gen0 = 0;
	char *list = NULL;
	size_t len = 0;
	int r;

	FS_COUNT_OP(fs, FS_LISTXATTR);
	if (ctl_is(ino)) {
		reply_sized(req, 0, "", 0, size);
		return;
	}
	r = prepare(fs, ino, &path, NULL, NULL, &list, &len, &gen0);
	if (r == 0 && !list && unstored(fs, ino)) {
		list = strdup("");
		r = list ? 0 : -ENOMEM;
	}
	if (r == 0 && !list) {
		dattr_settle(fs, ino);
		l = xattr_later(fs, req, 0, names_then, NULL, ino, gen0, size, cred);
		if (l)
			send_xattr(l, path.data, NULL, false);
		sbx_buf_release(&path);
		return;
	}
	if (r == 0) {
		FS_COUNT(fs, xattr_hit);
		len = shown(list, len, cred);
	}
	sbx_buf_release(&path);
	reply_sized(req, r, list, len, size);
	free(list);
}

/* A setxattr's or removexattr's answer came. */
static void changed_then(struct later *l)
{
	if (later_failed(l))
		return;
	xattr_changed(l->fs, l->ino, l->name, l->q.xop == SBX_RFS_XATTR_REMOVE, NULL, 0);
	fuse_reply_err(l->req, 0);
}

/* The permission bits of an access ACL (its xattr form: u32 version 2,
 * then per entry u16 tag, u16 perm, u32 id, little-endian, sorted by tag)
 * that holds the owner, group and other entries alone, or -1. The
 * sandbox's kernel keeps such an ACL as a mode (and drops an extended one
 * the file had): it is a chmod. */
static int acl_plain_perms(const char *value, size_t size)
{
	static const uint16_t tags[3] = {0x01, 0x04, 0x20}; /* USER_OBJ, GROUP_OBJ, OTHER */
	const unsigned char *p = (const unsigned char *)value;
	int perms = 0, i;

	if (size != 4 + 3 * 8 || p[0] != 2 || p[1] || p[2] || p[3])
		return -1;
	for (i = 0, p += 4; i < 3; i++, p += 8) {
		if ((p[0] | p[1] << 8) != tags[i] || p[2] > 7 || p[3])
			return -1;
		perms = perms << 3 | p[2];
	}
	return perms;
}

/* acl_plain_perms of a set (value) with no flags, where the transport
 * carries SBX_RFS_SET_ACL_PLAIN (the agent); else -1. */
static int acl_perms(struct sbx_fs *fs, const char *value, size_t size, int flags)
{
	if (flags || !value || strcmp(sbx_rfs_transport_name(fs->rfs), "agent"))
		return -1;
	return acl_plain_perms(value, size);
}

/* cp -a sets an access ACL on every file it copies, instead of a chmod,
 * before the close. On an open file with unstored changes one that is a
 * mode (acl_plain_perms) is kept as a pending chmod that also drops an
 * extended ACL (SBX_RFS_SET_ACL_PLAIN), applied with the store as any
 * chmod of the open file is (ops_setattr): no store first, no round trip.
 * Not for a set-group-ID file (the kernel may clear the bit then), nor
 * with XATTR_CREATE or XATTR_REPLACE. On a directory made here it goes
 * behind the caller as a chmod would (dattr.h). 1 when taken, 0 when the
 * ACL is to be set in the sandbox. */
static int acl_as_chmod(struct sbx_fs *fs, fuse_ino_t ino, const struct sbx_rfs_cred *cred,
			const char *value, size_t size, int flags)
{
	struct sbx_rfs_setattr sa = {.valid = SBX_RFS_SET_MODE | SBX_RFS_SET_ACL_PLAIN};
	int perms = acl_perms(fs, value, size, flags);
	struct fcache *fc = NULL;
	struct node *n;
	bool dir;
	int r;

	if (perms < 0)
		return 0;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	dir = n && S_ISDIR(n->attr.mode) && fs_attr_fresh(fs, n);
	if (n && S_ISREG(n->attr.mode) && !(n->attr.mode & S_ISGID))
		fc = fcache_get_locked(fs, n);
	if (fc || dir)
		sa.mode = (n->attr.mode & 07000) | (uint32_t)perms;
	pthread_mutex_unlock(&fs->lock);
	if (dir) /* a directory made here: behind, as its chmod would be */
		r = dattr_defer(fs, ino, &sa, cred) ? 1 : 0;
	else if (!fc)
		return 0;
	else
		r = fcache_pend_attrs(fs, fc, &sa, cred);
	if (fc)
		fcache_release(fs, fc);
	if (r == 1) {
		plain_acl_set(fs, ino);
		FS_COUNT(fs, xattr_hit);
	}
	return r;
}

/* The mode that an access ACL which is one (acl_plain_perms) sets on ino,
 * whose set-ID and sticky bits stay: when they are known (fresh
 * attributes), with the agent, true and *mode. */
static bool acl_mode_of(struct sbx_fs *fs, fuse_ino_t ino, const char *value, size_t size,
			int flags, uint32_t *mode)
{
	int perms = acl_perms(fs, value, size, flags);
	struct node *n;
	bool ok;

	if (perms < 0)
		return false;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	ok = n && fs_attr_fresh(fs, n);
	if (ok)
		*mode = (n->attr.mode & 07000) | (uint32_t)perms;
	pthread_mutex_unlock(&fs->lock);
	return ok;
}

/* An access ACL also sets the file's mode bits, which an open file with
 * unstored changes must take before its store (acl_mode): that needs the
 * file's cache lock, which a second half must not wait for, so this one
 * change is made on the worker, with a stat after it; an ACL that is a
 * mode is one setattr instead (a directory's, from cp -a), whose answer
 * has the attributes. */
static int change_acl(struct sbx_fs *fs, fuse_ino_t ino, const struct sbx_rfs_cred *cred,
		      const char *path, const char *name, const char *value, size_t size, int flags)
{
	struct sbx_rfs_setattr sa = {.valid = SBX_RFS_SET_MODE | SBX_RFS_SET_ACL_PLAIN};
	struct sbx_rfs_attr a;
	uint64_t gen0;
	bool fresh;
	int r;

	if (acl_mode_of(fs, ino, value, size, flags, &sa.mode)) {
		gen0 = next_gen(fs, ino);
		r = sbx_rfs_setattr(fs->rfs, cred, path, &sa, &a, NULL);
		if (r < 0)
			return r;
		acl_mode(fs, ino, a.mode);
		xattr_changed(fs, ino, name, false, &a, gen0);
		return 0;
	}
	r = value ? sbx_rfs_setxattr(fs->rfs, cred, path, name, value, size, flags, NULL)
		  : sbx_rfs_removexattr(fs->rfs, cred, path, name, NULL);
	if (r < 0)
		return r;
	gen0 = next_gen(fs, ino); /* what the stat below saw, unless changed since */
	fresh = sbx_rfs_stat(fs->rfs, path, &a, NULL) == 0;
	if (fresh)
		acl_mode(fs, ino, a.mode);
	xattr_changed(fs, ino, name, !value, fresh ? &a : NULL, gen0);
	return 0;
}

/* setxattr (value) or removexattr (value NULL) of name; ctl_err is the
 * answer for /.ctl. An access ACL that is a mode may be a pending chmod
 * (acl_as_chmod). Else a file only created here is stored first: the call
 * goes to the sandbox by name. Answered when the sandbox replies, but for
 * an access ACL (change_acl). */
static void change_xattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			 size_t size, int flags, int ctl_err)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_cred cb;
	const struct sbx_rfs_cred *cred = fs_cred_of(req, fs->uid, &cb);
	struct later *l;
	int r;

	r = ctl_is(ino)			? ctl_err
	    : !strcmp(name, LABEL_NAME) ? -EOPNOTSUPP
	    : fs->opts->ro		? -EROFS
					: 0;
	if (r == 0 && value && !strcmp(name, ACL_NAME))
		r = acl_as_chmod(fs, ino, cred, value, size, flags);
	if (r == 1) {
		fuse_reply_err(req, 0);
		return;
	}
	if (r == 0 && !value && !cred && known_absent(fs, ino, name)) {
		FS_COUNT(fs, xattr_hit); /* the kernel checked the permission */
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (r == 0)
		dattr_settle(fs, ino); /* a chmod behind would change an ACL after it */
	r = r ?: fcache_settle(fs, ino) ?: prepare(fs, ino, &path, NULL, NULL, NULL, NULL, NULL);
	if (r == 0 && !strcmp(name, ACL_NAME)) {
		r = change_acl(fs, ino, cred, path.data, name, value, size, flags);
		sbx_buf_release(&path);
		fuse_reply_err(req, fs_errno(r));
		return;
	}
	l = xattr_later(fs, req, r, changed_then, name, ino, 0, 0, cred);
	if (l) {
		l->q.xop = value ? SBX_RFS_XATTR_SET : SBX_RFS_XATTR_REMOVE;
		l->q.set_value = value;
		l->q.set_len = size;
		l->q.set_flags = flags;
		l->q.path = path.data;
		l->q.name = l->name;
		l->q.cred = l->has_cred ? &l->cred : NULL;
		later_submit(l);
	}
	sbx_buf_release(&path);
}

void ops_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
		  int flags)
{
	FS_COUNT_OP(fs_of(req), FS_SETXATTR);
	change_xattr(req, ino, name, value ? value : "", size, flags, -ENOTSUP);
}

void ops_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	FS_COUNT_OP(fs_of(req), FS_REMOVEXATTR);
	change_xattr(req, ino, name, NULL, 0, 0, -ENODATA);
}
