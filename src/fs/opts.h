/* opts.h - the command line of sbxfs and where its credentials come from.
 *
 *   sbxfs [-f] [-d] [-s] [-o OPT[,OPT…]] SANDBOX[:/remote/dir] MOUNTPOINT
 *
 * Options are parsed with fuse_opt; what sbxfs does not know is left in the
 * argument list for libfuse (allow_other, default_permissions, fsname, …),
 * except the fstab-only options (_netdev, noauto, auto, user, users, nofail,
 * defaults), which are accepted and dropped. `token=` is refused: a token is
 * never taken from argv (use token_file= or $KOYEB_API_TOKEN). allow_other
 * and default_permissions are noted (access.h) and still passed on; with
 * allow_other the driver adds default_permissions (sbxfs_opts_mount_args),
 * so that the kernel checks modes for the other users.
 *
 * Credentials (sbxfs_creds_resolve): the token from token_file=, else
 * $KOYEB_API_TOKEN, else STATE/token of the local host sbxd (state dir rule
 * of util/statedir.h); the API host from api_host=, else $KOYEB_API_HOST
 * when the token came from the environment or a file, else the api_host of
 * STATE/sbxd.json when it came from the local host.
 */
#ifndef SBX_FS_OPTS_H
#define SBX_FS_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "sbx/client.h"
#include "util/buf.h"

struct fuse_args;

struct sbxfs_opts {
	/* from the positional arguments */
	char *sandbox;	  /* id or name */
	char *remote_dir; /* normalised absolute path, "" for "/" */
	char *mountpoint;

	/* -o options of sbxfs (fuse_opt fills these; strings are malloc'd) */
	char *token_file;
	char *api_host;
	char *cache_dir; /* local cache files; default $TMPDIR or /tmp */
	char *transport; /* "agent", "shell", "auto" or NULL (auto) */
	double attr_timeout;
	double entry_timeout;
	double negative_timeout;
	double dir_cache_timeout;
	double watch_timeout; /* caches of directories the agent watches; 0: no events */
	int prefetch_kb;      /* listings bring files of at most this many KiB */
	int tree_entries;     /* a listing brings its subtree, up to this many entries */
	double op_timeout;    /* one remote metadata operation */
	int ctl_visible;
	int sync_create;    /* every create waits for the sandbox (no deferred creates) */
	int sync_close;	    /* every close waits for its store (no write-behind, wback.h) */
	double empty_delay; /* the store of a new file closed empty waits (wback.h) */
	int ro;		    /* enforced by sbxfs, so that /.ctl stays writable */
	int max_threads;
	int data_cache_mb;		     /* idle file contents kept after close */
	int whole_max_kb;		     /* larger files are cached by ranges (fcache.h) */
	int max_conns;			     /* sessions for ranged reads (mount.c) */
	int foreground, debug, singlethread; /* -f, -d, -s */
	int show_help, show_version;
	int token_given; /* token= was on the command line: refused */
	/* seen on their way to libfuse (they stay in its arguments) */
	int allow_other;	 /* other users may use the files (never /.ctl) */
	int default_permissions; /* the kernel checks modes */
};

/* Default values of the timeouts (seconds). */
#define SBXFS_DEF_ATTR_TIMEOUT	    5.0
#define SBXFS_DEF_ENTRY_TIMEOUT	    5.0
#define SBXFS_DEF_NEGATIVE_TIMEOUT  0.0
#define SBXFS_DEF_DIR_CACHE_TIMEOUT 5.0
#define SBXFS_DEF_OP_TIMEOUT	    60.0
#define SBXFS_DEF_WATCH_TIMEOUT	    300.0
#define SBXFS_DEF_EMPTY_DELAY	    0.5
#define SBXFS_EMPTY_DELAY_MAX	    60.0
#define SBXFS_DEF_PREFETCH_KB	    64
#define SBXFS_DEF_TREE_ENTRIES	    20000
#define SBXFS_PREFETCH_DIR_MAX	    (8u << 20) /* bytes of files per listing */
/* Longest timeout accepted (one year): a deadline in milliseconds must fit
 * an int64_t. NaN and infinity are refused. */
#define SBXFS_TIMEOUT_MAX	31536000.0
#define SBXFS_DEF_MAX_THREADS	16
#define SBXFS_DEF_DATA_CACHE_MB 256
#define SBXFS_DEF_WHOLE_MAX_KB	4096
#define SBXFS_DEF_MAX_CONNS	2
#define SBXFS_WHOLE_MAX_KB_MAX	(16 << 20) /* 16 GiB */
/* FUSE background requests (reads) the kernel keeps in flight at most */
#define SBXFS_MAX_BACKGROUND 64

/* Parses args (argv[0] included). On success returns 0, fills *o, and leaves
 * in args what libfuse must see (argv[0], options it knows, -f/-d handled by
 * us are removed). On a usage error returns -EINVAL after printing why on
 * stderr. -h/-V set show_help/show_version and return 0 without requiring
 * the positional arguments. */
int sbxfs_opts_parse(struct fuse_args *args, struct sbxfs_opts *o);
void sbxfs_opts_release(struct sbxfs_opts *o);
/* The mount options sbxfs itself adds for libfuse, as one comma-separated
 * string (escaped as fuse_opt wants): fsname=SANDBOX:/dir, subtype=sbxfs,
 * and default_permissions when allow_other was given without it. Returns
 * 0 and a malloc'd string in *ret (the caller frees), or -ENOMEM. */
int sbxfs_opts_mount_args(const struct sbxfs_opts *o, char **ret);
void sbxfs_usage(const char *prog);

/* Splits "SANDBOX[:/dir]" into a sandbox and a normalised absolute remote
 * dir ("" for the root; "/a/b" with no trailing, doubled or "." parts).
 * -EINVAL for an empty sandbox, a relative dir, or a ".." component. */
int sbxfs_parse_spec(const char *spec, char **ret_sandbox, char **ret_dir);

/* Where the credentials were found. */
enum sbxfs_cred_src { SBXFS_CRED_FILE, SBXFS_CRED_ENV, SBXFS_CRED_LOCAL };

struct sbxfs_creds {
	struct sbx_buf token;	 /* NUL-terminated */
	struct sbx_buf api_host; /* empty: the libsbx default */
	enum sbxfs_cred_src src;
};

/* Resolves the credentials by the rule at the top. env_token/env_host are
 * the values of $KOYEB_API_TOKEN/$KOYEB_API_HOST (NULL when unset); state_dir
 * is the state directory (NULL when none can be found). Returns 0, or a
 * negative errno with a message for a human in msg (cap bytes). */
int sbxfs_creds_resolve(const struct sbxfs_opts *o, const char *env_token, const char *env_host,
			const char *state_dir, struct sbxfs_creds *ret, char *msg, size_t cap);
void sbxfs_creds_release(struct sbxfs_creds *c);
/* The API host and token of c in the options of a client (borrowed: c
 * must outlive the sbx_client_new() call). */
void sbxfs_creds_client_opts(const struct sbxfs_creds *c, struct sbx_client_opts *co);

#endif
