/* changes.c - a change reported by the agent, applied to the caches where
 * it happened (see changes.h).
 *
 * The kernel is told after fs->lock is released (its notifications may
 * wait for kernel locks that requests our workers serve are holding).
 */
#include "fs/changes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/dirlist.h"
#include "fs/fcache.h"
#include "fs/fs.h"
#include "fs/inval.h"
#include "fs/later.h"

/* What to tell the kernel once fs->lock is released. */
struct notes {
	uint64_t inode[2]; /* attributes and pages to drop (0: none) */
	uint64_t parent;   /* a name to drop: parent's id and name (0: none) */
	struct fs_ids sib; /* the file's other names (hard links): the same */
};

void fs_change_free(struct fs_change *ch)
{
	if (!ch)
		return;
	free(ch->dir);
	free(ch->name);
	free(ch);
}

void fs_on_change(void *ud, const char *dir, const char *name, unsigned mask,
		  const struct sbx_rfs_attr *attr, uint64_t seq)
{
	struct sbx_fs *fs = ud;
	struct inval *iv = __atomic_load_n(&fs->inval, __ATOMIC_ACQUIRE);
	struct fs_change *ch;

	if (!iv)
		return; /* not serving yet, or going: nothing to keep true */
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return;
	ch->dir = strdup(dir);
	ch->name = strdup(name);
	ch->mask = mask;
	ch->seq = seq;
	if (attr) {
		ch->has_attr = true;
		ch->attr = *attr;
	}
	if (!ch->dir || !ch->name) {
		/* cannot keep it: make it a reset, which needs no names */
		ch->mask = SBX_RFS_CH_RESET;
	}
	inval_post_change(iv, ch);
}

/* The node of a remote directory path, or NULL when nothing of it is
 * cached (or it is outside the mounted directory). fs->lock held. */
static struct node *resolve(struct sbx_fs *fs, const char *dir)
{
	size_t rl = strlen(fs->root);
	struct node *n = fs->nodes.root;
	const char *p, *e;
	char comp[256];

	if (strncmp(dir, fs->root, rl) || (dir[rl] && dir[rl] != '/'))
		return NULL;
	for (p = dir + rl; n && *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		e = e ? e : p + strlen(p);
		if ((size_t)(e - p) >= sizeof(comp))
			return NULL;
		memcpy(comp, p, (size_t)(e - p));
		comp[e - p] = '\0';
		n = node_child(&fs->nodes, n, comp);
		p = e;
	}
	return n;
}

static bool same(const struct sbx_rfs_attr *a, const struct sbx_rfs_attr *b)
{
	return a->mode == b->mode && a->nlink == b->nlink && a->uid == b->uid && a->gid == b->gid &&
	       a->size == b->size && a->ino == b->ino && a->dev == b->dev &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void drop_list(struct node *dn)
{
	dirlist_unref(dn->list);
	dn->list = NULL;
}

/* The listing of dn after name now has attributes a. */
static void list_set(struct node *dn, const char *name, const struct sbx_rfs_attr *a)
{
	const struct sbx_rfs_dirent *de = dn->list ? dirlist_find(dn->list, name) : NULL;

	if (!dn->list || (de && (de->attr.seq > a->seq || same(&de->attr, a))))
		return;
	/* a symlink's target is not in the report: list it again */
	if (dn->list->refs != 1 || S_ISLNK(a->mode) || dirlist_set(dn->list, name, a, NULL) < 0)
		drop_list(dn);
}

/* The listing of dn after name went away (at seq). */
static void list_del(struct node *dn, const char *name, uint64_t seq)
{
	const struct sbx_rfs_dirent *de = dn->list ? dirlist_find(dn->list, name) : NULL;

	if (!de || de->attr.seq > seq)
		return;
	if (dn->list->refs == 1)
		dirlist_del(dn->list, name);
	else
		drop_list(dn);
}

/* The child c of dn now has attributes a (newer than what c holds). */
static void node_set(struct sbx_fs *fs, struct node *dn, struct node *c,
		     const struct sbx_rfs_attr *a, struct notes *nt)
{
	bool version = c->attr.ino != a->ino || c->attr.size != a->size ||
		       c->attr.mtime.tv_sec != a->mtime.tv_sec ||
		       c->attr.mtime.tv_nsec != a->mtime.tv_nsec;

	if (same(&c->attr, a)) {
		c->attr.seq = a->seq;
		return; /* our own change, already known */
	}
	/* an xattr change moves the ctime alone; a write (ours too, reported
	 * back) moves the mtime as well and adds no xattr */
	if (!version && (c->attr.ctime.tv_sec != a->ctime.tv_sec ||
			 c->attr.ctime.tv_nsec != a->ctime.tv_nsec))
		c->nocap = c->xlist_ok = false;
	if ((c->attr.mode & S_IFMT) != (a->mode & S_IFMT)) {
		/* replaced by another kind of file: the next lookup makes a
		 * new node (ops_child_with_attr), the kernel is told to ask */
		if (!(c->local && c->local_dirty))
			c->attr_expire = 0;
		nt->parent = dn->id;
		return;
	}
	if (!(c->local && c->local_dirty)) {
		c->attr = *a;
		fs_attr_keep_behind(c, &c->attr);
		c->attr_expire = fs_expiry(fs_node_attr_timeout(fs, c));
		if (!c->attr_expire)
			c->attr_expire = 1;
		c->attr_epoch = fs_epoch(fs);
		free(c->link);
		c->link = NULL;
		if (version)
			fcache_evict_locked(fs, c);
	}
	nt->inode[0] = c->id;
}

/* The entry name of dn exists with attributes a. */
static void entry_exists(struct sbx_fs *fs, struct node *dn, const struct fs_change *ch,
			 struct notes *nt)
{
	struct node *c = node_child(&fs->nodes, dn, ch->name);

	list_set(dn, ch->name, &ch->attr);
	if (c && c->attr.seq <= ch->attr.seq)
		node_set(fs, dn, c, &ch->attr, nt);
	/* the report names one name of the file: the others hold its old
	 * attributes (and contents, kept here or by the kernel) */
	if (ch->mask & (SBX_RFS_CH_DATA | SBX_RFS_CH_ATTRIB))
		fs_names_stale(fs, &ch->attr, dn, ch->name, &nt->sib);
	if (!c && (ch->mask & SBX_RFS_CH_CREATE)) {
		dn->gen++; /* our negative entries of the name are wrong now */
		/* unless it is ours, its reply not handled yet: the kernel
		 * would drop the entry that reply gives it, and forget the
		 * node, which the next lookup would list the directory for */
		if (!later_naming_pending(fs, dn->id, ch->name))
			nt->parent = dn->id;
	}
}

/* The entry name of dn went away (as of ch->seq). */
static void entry_gone(struct sbx_fs *fs, struct node *dn, const struct fs_change *ch,
		       struct notes *nt)
{
	struct node *c = node_child(&fs->nodes, dn, ch->name);

	list_del(dn, ch->name, ch->seq);
	/* not detached: a file of it open with unstored changes must still
	 * try its old path and report the failure; the next lookup finds
	 * the name missing, and the kernel is told to ask */
	if (c && c->attr.seq <= ch->seq) {
		if (!(c->local && c->local_dirty))
			c->attr_expire = 0;
		nt->parent = dn->id;
	}
}

/* The watched directory dn itself changed. With attributes: the agent's
 * report after names appeared or went away in it (their reports made dn's
 * attributes stale), which makes them fresh again. */
static void dir_itself(struct sbx_fs *fs, struct node *dn, const struct fs_change *ch,
		       struct notes *nt)
{
	if (ch->mask & SBX_RFS_CH_GONE || !ch->has_attr) {
		drop_list(dn);
		dn->watched = false;
		dn->attr_expire = 0;
		nt->inode[0] = dn->id;
	} else if (ch->attr.seq > dn->attr.seq && S_ISDIR(ch->attr.mode) &&
		   (dn->attr.mode & S_IFMT) == S_IFDIR) {
		struct sbx_rfs_attr v = ch->attr;

		fs_attr_keep_behind(dn, &v);
		if (!same(&dn->attr, &v))
			nt->inode[0] = dn->id;
		dn->attr = v;
		dn->attr_expire = fs_expiry(fs_node_attr_timeout(fs, dn));
		if (!dn->attr_expire)
			dn->attr_expire = 1;
		dn->attr_epoch = fs_epoch(fs);
	}
}

void fs_apply_change(struct sbx_fs *fs, const struct fs_change *ch)
{
	struct notes nt = {{0, 0}, 0, {.n = 0}};
	struct node *dn;
	size_t i;

	pthread_mutex_lock(&fs->lock);
	dn = resolve(fs, ch->dir);
	if (!dn) {
		pthread_mutex_unlock(&fs->lock);
		return;
	}
	FS_COUNT(fs, changes);
	if (!ch->name[0]) {
		dir_itself(fs, dn, ch, &nt);
	} else {
		if (ch->has_attr)
			entry_exists(fs, dn, ch, &nt);
		else
			entry_gone(fs, dn, ch, &nt);
		/* its mtime and link count moved: stale, unless the report
		 * of dn itself, with them, follows (the kernel is told then);
		 * else every store landing in a directory made the kernel's
		 * next create check there (default_permissions) a stat */
		if (ch->mask & (SBX_RFS_CH_CREATE | SBX_RFS_CH_DELETE) && !dn->local &&
		    !(ch->mask & SBX_RFS_CH_DIR_NEXT)) {
			dn->attr_expire = 0;
			nt.inode[1] = dn->id;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	fcache_reap(fs);
	for (i = 0; fs->se && i < 2; i++)
		if (nt.inode[i])
			fuse_lowlevel_notify_inval_inode(fs->se, nt.inode[i], 0, 0);
	for (i = 0; fs->se && i < nt.sib.n; i++)
		fuse_lowlevel_notify_inval_inode(fs->se, nt.sib.id[i], 0, 0);
	if (fs->se && nt.parent)
		fuse_lowlevel_notify_inval_entry(fs->se, nt.parent, ch->name, strlen(ch->name));
}
