/* opts.c - the command line of sbxfs and its credentials; see opts.h.
 *
 * The fuse_opt table follows libfuse's own pattern (offsetof into the
 * options struct, keys for what needs code). Everything here is pure apart
 * from reading the token and sbxd.json files, so it is unit-tested.
 */
#include "fs/fuse_inc.h"

#include "fs/opts.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/statedir.h"

enum {
	KEY_FOREGROUND,
	KEY_SINGLE,
	KEY_DEBUG,
	KEY_HELP,
	KEY_VERSION,
	KEY_TOKEN,
	KEY_ALLOW_OTHER,
	KEY_DEFAULT_PERMISSIONS,
};

#define OPT(t, p, v)                                                                               \
	{                                                                                          \
		t, offsetof(struct sbxfs_opts, p), v                                               \
	}

static const struct fuse_opt table[] = {
    OPT("token_file=%s", token_file, 0), OPT("api_host=%s", api_host, 0),
    OPT("cache_dir=%s", cache_dir, 0), OPT("transport=%s", transport, 0),
    OPT("attr_timeout=%lf", attr_timeout, 0), OPT("entry_timeout=%lf", entry_timeout, 0),
    OPT("negative_timeout=%lf", negative_timeout, 0),
    OPT("dir_cache_timeout=%lf", dir_cache_timeout, 0), OPT("op_timeout=%lf", op_timeout, 0),
    OPT("watch_timeout=%lf", watch_timeout, 0), OPT("empty_delay=%lf", empty_delay, 0),
    OPT("prefetch=%d", prefetch_kb, 0), OPT("tree=%d", tree_entries, 0),
    OPT("max_threads=%d", max_threads, 0), OPT("data_cache=%d", data_cache_mb, 0),
    OPT("whole_max=%d", whole_max_kb, 0), OPT("max_conns=%d", max_conns, 0),
    OPT("ctl_visible", ctl_visible, 1), OPT("sync_create", sync_create, 1),
    OPT("sync_close", sync_close, 1), OPT("ro", ro, 1), OPT("rw", ro, 0),
    FUSE_OPT_KEY("token=", KEY_TOKEN), FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
    FUSE_OPT_KEY("default_permissions", KEY_DEFAULT_PERMISSIONS),
    /* fstab-only options: accepted and dropped */
    FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD), FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD), FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD), FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD), FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("-f", KEY_FOREGROUND), FUSE_OPT_KEY("-s", KEY_SINGLE),
    FUSE_OPT_KEY("-d", KEY_DEBUG), FUSE_OPT_KEY("debug", KEY_DEBUG), FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP), FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION), FUSE_OPT_END};

void sbxfs_usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-o OPT[,OPT...]] SANDBOX[:/remote/dir] MOUNTPOINT\n"
	       "\n"
	       "Mounts a sandbox's filesystem; /.ctl inside the mount runs commands.\n"
	       "\n"
	       "sbxfs options:\n"
	       "  -f                     stay in the foreground\n"
	       "  -d, -o debug           FUSE debug output (implies -f)\n"
	       "  -o ro                  read-only (the /.ctl tree stays usable)\n"
	       "  -o token_file=FILE     API token (never on the command line); else\n"
	       "                         $KOYEB_API_TOKEN, else the local host sbxd's\n"
	       "  -o api_host=URL        API base URL; else $KOYEB_API_HOST or sbxd's\n"
	       "  -o attr_timeout=S      attribute cache (default %g)\n"
	       "  -o entry_timeout=S     name cache (default %g)\n"
	       "  -o negative_timeout=S  cache of missing names (default %g)\n"
	       "  -o dir_cache_timeout=S directory listings (default %g)\n"
	       "  -o op_timeout=S        deadline of one remote operation (default %g)\n"
	       "  -o watch_timeout=S     caches of directories whose changes the agent\n"
	       "                         reports (default %g; 0: no change events)\n"
	       "  -o prefetch=KIB        a listing brings the files of at most KIB\n"
	       "                         (default %d, 0..256; 0: none; agent only)\n"
	       "  -o tree=N              a listing brings its whole subtree, up to N\n"
	       "                         entries (default %d; 0: one directory;\n"
	       "                         agent with change reports only)\n"
	       "  -o cache_dir=DIR       local file cache (default $TMPDIR or /tmp)\n"
	       "  -o ctl_visible         list /.ctl in the root directory\n"
	       "  -o sync_create         a create waits for the sandbox (default: deferred to the\n"
	       "                         first store when the listing shows the name is free)\n"
	       "  -o sync_close          the close of a file created here waits for its store\n"
	       "                         (default: queued, stored behind the caller)\n"
	       "  -o empty_delay=S       the store of a new file closed empty (a lock\n"
	       "                         file) waits S seconds (default %g, 0..%g): a\n"
	       "                         file removed by then never reaches the sandbox\n"
	       "  -o max_threads=N       FUSE worker threads (default %d)\n"
	       "  -o data_cache=MB       contents of closed files kept (default %d)\n"
	       "  -o whole_max=KIB       files up to this size are fetched whole, larger\n"
	       "                         ones by ranges with read-ahead (default %d)\n"
	       "  -o max_conns=N         sessions for ranged reads, each with its own\n"
	       "                         transport thread, the others opened at the first\n"
	       "                         bulk read (default %d, 1..8; agent only)\n"
	       "  -o transport=T         agent: sbx-agent in the sandbox over one session;\n"
	       "                         shell: one exec + POSIX sh per operation;\n"
	       "                         auto (default): agent, else shell\n"
	       "  -o allow_other         other users may use the files (modes are then\n"
	       "                         checked: default_permissions); /.ctl stays yours\n"
	       "Also: fsname=, and the other options of mount.fuse3(8);\n"
	       "_netdev, noauto, user, nofail are ignored.\n",
	       prog, SBXFS_DEF_ATTR_TIMEOUT, SBXFS_DEF_ENTRY_TIMEOUT, SBXFS_DEF_NEGATIVE_TIMEOUT,
	       SBXFS_DEF_DIR_CACHE_TIMEOUT, SBXFS_DEF_OP_TIMEOUT, SBXFS_DEF_WATCH_TIMEOUT,
	       SBXFS_DEF_PREFETCH_KB, SBXFS_DEF_TREE_ENTRIES, SBXFS_DEF_EMPTY_DELAY,
	       SBXFS_EMPTY_DELAY_MAX, SBXFS_DEF_MAX_THREADS, SBXFS_DEF_DATA_CACHE_MB,
	       SBXFS_DEF_WHOLE_MAX_KB, SBXFS_DEF_MAX_CONNS);
}

/* Appends "/comp" for each path component, resolving "." and refusing "..". */
static int normalise_dir(const char *dir, struct sbx_buf *out)
{
	const char *p = dir, *q;
	int r = 0;

	if (dir[0] != '/')
		return -EINVAL;
	while (!r && *p) {
		while (*p == '/')
			p++;
		q = p;
		while (*q && *q != '/')
			q++;
		if (q - p == 1 && p[0] == '.')
			;
		else if (q - p == 2 && p[0] == '.' && p[1] == '.')
			r = -EINVAL;
		else if (q > p)
			r = sbx_buf_putc(out, '/') ?: sbx_buf_append(out, p, (size_t)(q - p));
		p = q;
	}
	if (!r && out->len > PATH_MAX)
		r = -ENAMETOOLONG;
	return r;
}

int sbxfs_parse_spec(const char *spec, char **ret_sandbox, char **ret_dir)
{
	struct sbx_buf dir = SBX_BUF_INIT;
	const char *colon = strchr(spec, ':');
	char *sb = NULL;
	int r;

	sb = colon ? strndup(spec, (size_t)(colon - spec)) : strdup(spec);
	if (!sb)
		return -ENOMEM;
	r = *sb ? 0 : -EINVAL;
	if (!r && colon && colon[1])
		r = normalise_dir(colon + 1, &dir);
	if (r < 0) {
		free(sb);
		sbx_buf_release(&dir);
		return r;
	}
	*ret_sandbox = sb;
	*ret_dir = sbx_buf_detach(&dir, NULL);
	if (!*ret_dir) {
		free(sb);
		return -ENOMEM;
	}
	return 0;
}

static int proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct sbxfs_opts *o = data;
	char *abs;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!o->sandbox && !o->mountpoint) {
			if (sbxfs_parse_spec(arg, &o->sandbox, &o->remote_dir) < 0) {
				fprintf(stderr,
					"sbxfs: bad sandbox spec '%s' (want "
					"SANDBOX[:/remote/dir])\n",
					arg);
				return -1;
			}
			return 0;
		}
		if (!o->mountpoint) {
			abs = realpath(arg, NULL);
			o->mountpoint = abs ? abs : strdup(arg);
			return o->mountpoint ? 0 : -1;
		}
		fprintf(stderr, "sbxfs: unexpected argument '%s'\n", arg);
		return -1;
	case KEY_FOREGROUND: o->foreground = 1; return 0;
	case KEY_SINGLE: o->singlethread = 1; return 0;
	case KEY_DEBUG:
		o->debug = 1;
		o->foreground = 1;
		return 1; /* libfuse: debug */
	case KEY_HELP: o->show_help = 1; return 0;
	case KEY_VERSION: o->show_version = 1; return 0;
	case KEY_TOKEN: o->token_given = 1; return 0;
	case KEY_ALLOW_OTHER: o->allow_other = 1; return 1;		    /* and for libfuse */
	case KEY_DEFAULT_PERMISSIONS: o->default_permissions = 1; return 1; /* likewise */
	default: return 1;						    /* for libfuse */
	}
}

static int check(struct sbxfs_opts *o)
{
	if (o->token_given) {
		fprintf(stderr, "sbxfs: a token is never taken from the command line; use "
				"-o token_file=FILE or $KOYEB_API_TOKEN\n");
		return -EINVAL;
	}
	if (o->show_help || o->show_version)
		return 0;
	if (!o->sandbox || !o->mountpoint) {
		fprintf(stderr, "sbxfs: missing %s (see sbxfs -h)\n",
			o->sandbox ? "MOUNTPOINT" : "SANDBOX and MOUNTPOINT");
		return -EINVAL;
	}
	if (o->transport && strcmp(o->transport, "shell") && strcmp(o->transport, "agent") &&
	    strcmp(o->transport, "auto")) {
		fprintf(stderr, "sbxfs: unknown transport '%s' (agent, shell or auto)\n",
			o->transport);
		return -EINVAL;
	}
	/* written so that NaN fails too */
	if (!(o->attr_timeout >= 0 && o->attr_timeout <= SBXFS_TIMEOUT_MAX) ||
	    !(o->entry_timeout >= 0 && o->entry_timeout <= SBXFS_TIMEOUT_MAX) ||
	    !(o->negative_timeout >= 0 && o->negative_timeout <= SBXFS_TIMEOUT_MAX) ||
	    !(o->dir_cache_timeout >= 0 && o->dir_cache_timeout <= SBXFS_TIMEOUT_MAX) ||
	    !(o->watch_timeout >= 0 && o->watch_timeout <= SBXFS_TIMEOUT_MAX) ||
	    !(o->empty_delay >= 0 && o->empty_delay <= SBXFS_EMPTY_DELAY_MAX) ||
	    !(o->op_timeout > 0 && o->op_timeout <= SBXFS_TIMEOUT_MAX) || o->max_threads < 1 ||
	    o->max_threads > 1024 || o->data_cache_mb < 0 || o->prefetch_kb < 0 ||
	    o->prefetch_kb > 256 || o->tree_entries < 0 || o->tree_entries > 100000 ||
	    o->whole_max_kb < 0 || o->whole_max_kb > SBXFS_WHOLE_MAX_KB_MAX || o->max_conns < 1 ||
	    o->max_conns > 8) {
		fprintf(stderr,
			"sbxfs: a timeout is not a number of seconds in 0..%.0f, "
			"empty_delay is out of 0..%.0f, "
			"data_cache is negative, prefetch is out of 0..256, tree is out of "
			"0..100000, whole_max is out of 0..%d, max_conns is out of 1..8, or "
			"max_threads is out of 1..1024\n",
			SBXFS_TIMEOUT_MAX, SBXFS_EMPTY_DELAY_MAX, SBXFS_WHOLE_MAX_KB_MAX);
		return -EINVAL;
	}
	return 0;
}

int sbxfs_opts_parse(struct fuse_args *args, struct sbxfs_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->attr_timeout = SBXFS_DEF_ATTR_TIMEOUT;
	o->entry_timeout = SBXFS_DEF_ENTRY_TIMEOUT;
	o->negative_timeout = SBXFS_DEF_NEGATIVE_TIMEOUT;
	o->dir_cache_timeout = SBXFS_DEF_DIR_CACHE_TIMEOUT;
	o->watch_timeout = SBXFS_DEF_WATCH_TIMEOUT;
	o->empty_delay = SBXFS_DEF_EMPTY_DELAY;
	o->prefetch_kb = SBXFS_DEF_PREFETCH_KB;
	o->tree_entries = SBXFS_DEF_TREE_ENTRIES;
	o->op_timeout = SBXFS_DEF_OP_TIMEOUT;
	o->max_threads = SBXFS_DEF_MAX_THREADS;
	o->data_cache_mb = SBXFS_DEF_DATA_CACHE_MB;
	o->whole_max_kb = SBXFS_DEF_WHOLE_MAX_KB;
	o->max_conns = SBXFS_DEF_MAX_CONNS;
	if (fuse_opt_parse(args, o, table, proc) < 0)
		return -EINVAL;
	return check(o);
}

void sbxfs_opts_release(struct sbxfs_opts *o)
{
	free(o->sandbox);
	free(o->remote_dir);
	free(o->mountpoint);
	free(o->token_file);
	free(o->api_host);
	free(o->cache_dir);
	free(o->transport);
	memset(o, 0, sizeof(*o));
}

int sbxfs_opts_mount_args(const struct sbxfs_opts *o, char **ret)
{
	struct sbx_buf src = SBX_BUF_INIT;
	char *opt = NULL;
	int r;

	r = sbx_buf_printf(&src, "fsname=%s:%s", o->sandbox ? o->sandbox : "",
			   o->remote_dir && o->remote_dir[0] ? o->remote_dir : "/");
	r = r ?: fuse_opt_add_opt_escaped(&opt, src.data);
	r = r ?: fuse_opt_add_opt(&opt, "subtype=sbxfs");
	if (!r && o->allow_other && !o->default_permissions)
		r = fuse_opt_add_opt(&opt, "default_permissions");
	sbx_buf_release(&src);
	if (r < 0) {
		free(opt);
		return -ENOMEM;
	}
	*ret = opt;
	return 0;
}

/* Reads a token file: the first line, surrounding whitespace trimmed. */
static int read_token(const char *path, struct sbx_buf *out, char *msg, size_t cap)
{
	struct sbx_buf b = SBX_BUF_INIT;
	size_t s = 0, e;
	int r = sbx_read_small_file(path, 64 * 1024, &b);

	if (r < 0) {
		snprintf(msg, cap, "cannot read the token file %s: %s", path, strerror(-r));
		goto out;
	}
	while (s < b.len && strchr(" \t\r\n", b.data[s]))
		s++;
	for (e = s; e < b.len && !strchr("\r\n", b.data[e]); e++)
		;
	while (e > s && strchr(" \t", b.data[e - 1]))
		e--;
	if (e == s) {
		r = -EINVAL;
		snprintf(msg, cap, "the token file %s is empty", path);
		goto out;
	}
	r = sbx_buf_append(out, b.data + s, e - s);
out:
	sbx_buf_release(&b);
	return r;
}

/* api_host of STATE/sbxd.json. */
static int local_host(const char *state_dir, struct sbx_buf *out, char *msg, size_t cap)
{
	struct sbx_buf path = SBX_BUF_INIT, b = SBX_BUF_INIT;
	json_object *j = NULL;
	const char *h;
	int r;

	r = sbx_buf_printf(&path, "%s/sbxd.json", state_dir);
	if (!r)
		r = sbx_read_small_file(path.data, 64 * 1024, &b);
	if (r < 0) {
		snprintf(msg, cap,
			 "the local host sbxd is not running (no %s/sbxd.json); "
			 "start it with `sbx host start`",
			 state_dir);
		goto out;
	}
	r = sbx_json_parse(b.data, b.len, &j);
	h = r < 0 ? NULL : sbx_json_str(j, "api_host");
	if (!h || !*h) {
		r = -EINVAL;
		snprintf(msg, cap, "%s has no api_host", path.data);
		goto out;
	}
	r = sbx_buf_puts(out, h);
out:
	sbx_json_put(j);
	sbx_buf_release(&b);
	sbx_buf_release(&path);
	return r;
}

int sbxfs_creds_resolve(const struct sbxfs_opts *o, const char *env_token, const char *env_host,
			const char *state_dir, struct sbxfs_creds *ret, char *msg, size_t cap)
{
	struct sbx_buf path = SBX_BUF_INIT;
	int r;

	memset(ret, 0, sizeof(*ret));
	msg[0] = '\0';
	if (o->token_file) {
		ret->src = SBXFS_CRED_FILE;
		r = read_token(o->token_file, &ret->token, msg, cap);
	} else if (env_token && *env_token) {
		ret->src = SBXFS_CRED_ENV;
		r = sbx_buf_puts(&ret->token, env_token);
	} else if (state_dir) {
		ret->src = SBXFS_CRED_LOCAL;
		r = sbx_buf_printf(&path, "%s/token", state_dir);
		if (!r)
			r = read_token(path.data, &ret->token, msg, cap);
		if (r < 0)
			snprintf(msg, cap,
				 "no token: set $KOYEB_API_TOKEN, pass -o token_file=, "
				 "or start the local host sbxd (`sbx host start`)");
	} else {
		r = -ENOENT;
		snprintf(msg, cap, "no token: set $KOYEB_API_TOKEN or pass -o token_file=");
	}
	if (r < 0)
		goto out;
	if (o->api_host)
		r = sbx_buf_puts(&ret->api_host, o->api_host);
	else if (ret->src != SBXFS_CRED_LOCAL && env_host && *env_host)
		r = sbx_buf_puts(&ret->api_host, env_host);
	else if (ret->src == SBXFS_CRED_LOCAL)
		r = local_host(state_dir, &ret->api_host, msg, cap);
out:
	sbx_buf_release(&path);
	if (r < 0)
		sbxfs_creds_release(ret);
	return r;
}

void sbxfs_creds_client_opts(const struct sbxfs_creds *c, struct sbx_client_opts *co)
{
	co->api_host = c->api_host.len ? c->api_host.data : NULL;
	co->token = c->token.data;
}

void sbxfs_creds_release(struct sbxfs_creds *c)
{
	if (!c)
		return;
	if (c->token.data)
		memset(c->token.data, 0, c->token.len);
	sbx_buf_release(&c->token);
	sbx_buf_release(&c->api_host);
}
