/* ops.h - the FUSE low-level handlers of sbxfs (ops_*.c), gathered into
 * the operations table by lowlevel.c. Each replies exactly once (or, for a
 * /.ctl read that waits, hands its request to the job that will reply).
 */
#ifndef SBX_FS_OPS_H
#define SBX_FS_OPS_H

#include "fs/fs.h"

/* ops_attr.c */
void ops_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void ops_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void ops_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void ops_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ops_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		 struct fuse_file_info *fi);
void ops_readlink(fuse_req_t req, fuse_ino_t ino);
void ops_statfs(fuse_req_t req, fuse_ino_t ino);
/* Attaches or refreshes a child with remote attributes (fs->lock held). */
struct dirlist;
/* A listing of directory id: the cached one, or one round trip (with
 * change reports, the whole subtree: ops_dir.c), answered later
 * (later.h): l->after(l) runs with l->q.rc (0 or a negative errno) and
 * l->list (the listing, owned by l; take it by setting it NULL), l->ino
 * = id; on the completion thread when a tree listing went to the
 * sandbox, else before this returns. l's op, then and request fields
 * are this function's. fs->lock NOT held. */
struct later;
void ops_get_list_later(struct later *l, uint64_t id);
/* The contents a listing of n brought along become idle file caches of
 * n's children (taken out of d either way; n NULL: dropped). fs->lock
 * held; returns how many, and the caller runs fcache_reap() after. */
size_t ops_prime_locked(struct sbx_fs *fs, struct node *n, struct sbx_rfs_dir *d);
/* Replies the node's attributes (fs->lock held; released). */
void ops_reply_attr_unlock(struct sbx_fs *fs, fuse_req_t req, struct node *n);
struct node *ops_child_with_attr(struct sbx_fs *fs, struct node *parent, const char *name,
				 const struct sbx_rfs_attr *a, int64_t expire, uint64_t gen0);

/* ops_dir.c */
/* The listings of the directories below the one a tree listing t of
 * tpath (directory id) was asked for, t->dirs[1..]: cached as if each had
 * been listed, unless we changed a directory meanwhile (own0) or caches
 * were dropped (ep); contents that came along become idle caches. With
 * with_data (a SBX_RFS_TREE_DATA listing) a directory all of whose small
 * files came is marked filled, so its first read costs no round trip.
 * fs->lock NOT held. */
struct sbx_rfs_tree;
void ops_install_subdirs(struct sbx_fs *fs, uint64_t id, const char *tpath,
			 struct sbx_rfs_tree *t, uint64_t ep, uint64_t own0, bool with_data);
void ops_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void ops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi);
void ops_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* At teardown, once no request can come: releases the directory handles
 * the kernel never released. */
void ops_releasedir_all(struct sbx_fs *fs);
void ops_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);

/* ops_ns.c */
void ops_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void ops_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void ops_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void ops_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void ops_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		const char *newname, unsigned int flags);
void ops_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void ops_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);

/* ops_file.c */
void ops_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ops_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		struct fuse_file_info *fi);
void ops_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void ops_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi);
void ops_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ops_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void ops_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* At teardown, once no request can come: releases the file handles the
 * kernel never released (what they hold is stored first, as at a close). */
void ops_release_all(struct sbx_fs *fs);

/* ops_xattr.c */
void ops_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void ops_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void ops_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
		  int flags);
void ops_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
/* A node we just created has no security.capability (fs->lock held). */
void fs_nocap_set_locked(struct sbx_fs *fs, struct node *n);
/* A directory n we just made in parent: when parent is known to have no
 * default ACL, n has no extended attribute (it would only have inherited
 * ACLs; security labels are not shown), so an xattr call on it (cp -a
 * removes the default ACL of every directory it makes) needs no round
 * trip: true then (fs->lock held). */
bool ops_xattr_new_dir_locked(struct sbx_fs *fs, struct node *parent, struct node *n);
/* Asks for the names of ino's extended attributes and keeps them, waited
 * for by nothing (a directory just made whose parent's are not known). */
void ops_xattr_learn(struct sbx_fs *fs, uint64_t ino);

#endif
