/* scripts.c - the sh scripts of the remote filesystem operations; see
 * scripts.h for the rules every script keeps.
 *
 * Tools beyond POSIX that the scripts use: find -printf (GNU findutils),
 * mv -T, truncate, touch -h -d @S.N, stat -f -c, dd iflag=skip_bytes (GNU
 * coreutils). Where GNU tools print a text that is not strerror()'s (mv
 * refusing to replace a directory), errmap knows it, and where a tool would
 * silently do the wrong thing (ln into an existing directory, mv -n), the
 * script checks first and fails with a marker.
 */
#include "rfs/scripts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "rfs/parse.h"
#include "util/shquote.h"

#define PREAMBLE                                                                                   \
	"LC_ALL=C; export LC_ALL\n"                                                                \
	"m() { printf '@sbx:%s\\n' \"$1\" >&2; exit 3; }\n"

/* find P -maxdepth 0 -printf 'ATTR\0' */
#define ATTR_PRINTF "-maxdepth 0 -printf '" SBX_RFS_ATTR_FMT "\\0'"

static int abs_path(const char *p)
{
	return p && p[0] == '/' ? 0 : -EINVAL;
}

/* Appends the pieces: literal strings, with each NULL-prefixed argument
 * quoted. Usage: emit(b, "rm -- ", Q(path), "\n", END). */
static const char end_mark[] = "";
#define Q(s) (const char *)NULL, (s)
#define END  end_mark

static int emit(struct sbx_buf *b, ...)
{
	va_list ap;
	const char *s;
	int r = 0;

	va_start(ap, b);
	while (!r && (s = va_arg(ap, const char *)) != END) {
		if (s)
			r = sbx_buf_puts(b, s);
		else
			r = sbx_shquote(b, va_arg(ap, const char *));
	}
	va_end(ap);
	return r;
}

/* "find P ATTR_PRINTF\n" */
static int attr_of(struct sbx_buf *b, const char *p)
{
	return emit(b, "find ", Q(p), " " ATTR_PRINTF "\n", END);
}

int sbx_rfs_script_stat(struct sbx_buf *b, const char *path)
{
	if (abs_path(path))
		return -EINVAL;
	return emit(b, PREAMBLE, END) ?: attr_of(b, path);
}

int sbx_rfs_script_readdir(struct sbx_buf *b, const char *path)
{
	if (abs_path(path))
		return -EINVAL;
	return emit(b, PREAMBLE "find ", Q(path),
		    " -mindepth 0 -maxdepth 1 -printf '%P\\0" SBX_RFS_ATTR_FMT "\\0%l\\0'\n", END);
}

int sbx_rfs_script_readlink(struct sbx_buf *b, const char *path)
{
	if (abs_path(path))
		return -EINVAL;
	return emit(b, PREAMBLE "find ", Q(path), " -maxdepth 0 -printf '%y\\0%l\\0'\n", END);
}

int sbx_rfs_script_mkdir(struct sbx_buf *b, const char *path, uint32_t mode)
{
	char m[16];

	if (abs_path(path))
		return -EINVAL;
	snprintf(m, sizeof(m), "%o", (unsigned)(mode & 07777));
	return emit(b, PREAMBLE "mkdir -m ", m, " -- ", Q(path), " || exit 1\n", END)
		   ?: attr_of(b, path);
}

int sbx_rfs_script_create(struct sbx_buf *b, const char *path, uint32_t mode, bool excl)
{
	char m[16];
	int r;

	if (abs_path(path) || (!S_ISREG(mode) && !S_ISFIFO(mode)))
		return -EINVAL;
	snprintf(m, sizeof(m), "%o", (unsigned)(mode & 07777));
	r = emit(b, PREAMBLE "if [ -e ", Q(path), " ] || [ -L ", Q(path), " ]; then\n", END);
	if (!r && excl)
		r = emit(b, "  m EEXIST\n", END);
	else if (!r)
		r = emit(b, "  if [ -d ", Q(path), " ]; then m EISDIR; fi\n", END);
	if (!r && S_ISREG(mode))
		r = emit(b, "else\n  umask 077\n  (set -C; : > ", Q(path), ") || exit 1\n", END);
	else if (!r)
		r = emit(b, "else\n  mkfifo -m ", m, " -- ", Q(path), " || exit 1\n", END);
	if (!r)
		r = emit(b, "  chmod ", m, " -- ", Q(path), " || exit 1\nfi\n", END);
	return r ?: attr_of(b, path);
}

int sbx_rfs_script_unlink(struct sbx_buf *b, const char *path)
{
	if (abs_path(path))
		return -EINVAL;
	/* rm never prompts: stdin is not a terminal */
	return emit(b, PREAMBLE "if [ -d ", Q(path), " ] && [ ! -L ", Q(path),
		    " ]; then m EISDIR; fi\nrm -- ", Q(path), "\n", END);
}

int sbx_rfs_script_rmdir(struct sbx_buf *b, const char *path)
{
	if (abs_path(path))
		return -EINVAL;
	return emit(b, PREAMBLE "rmdir -- ", Q(path), "\n", END);
}

int sbx_rfs_script_rename(struct sbx_buf *b, const char *from, const char *to, unsigned flags)
{
	int r;

	if (abs_path(from) || abs_path(to) || (flags & ~SBX_RFS_NOREPLACE))
		return -EINVAL;
	r = emit(b, PREAMBLE "if [ ! -e ", Q(from), " ] && [ ! -L ", Q(from),
		 " ]; then m ENOENT; fi\n", END);
	if (!r && (flags & SBX_RFS_NOREPLACE))
		r = emit(b, "if [ -e ", Q(to), " ] || [ -L ", Q(to), " ]; then m EEXIST; fi\n",
			 END);
	/* rename(2) of two names of one file does nothing; GNU mv refuses */
	if (!r)
		r = emit(b, "if [ ", Q(from), " -ef ", Q(to), " ] && [ ! -L ", Q(from),
			 " ]; then exit 0; fi\nmv -f -T -- ", Q(from), " ", Q(to), "\n", END);
	return r;
}

int sbx_rfs_script_link(struct sbx_buf *b, const char *from, const char *to)
{
	if (abs_path(from) || abs_path(to))
		return -EINVAL;
	return emit(b, PREAMBLE "if [ -e ", Q(to), " ] || [ -L ", Q(to), " ]; then m EEXIST; fi\n",
		    "if [ -d ", Q(from), " ] && [ ! -L ", Q(from),
		    " ]; then echo 'link: Operation not permitted' >&2; exit 1; fi\n", "ln -- ",
		    Q(from), " ", Q(to), " || exit 1\n", END)
		   ?: attr_of(b, to);
}

int sbx_rfs_script_symlink(struct sbx_buf *b, const char *target, const char *path)
{
	if (abs_path(path) || !target)
		return -EINVAL;
	if (!*target)
		return emit(b, PREAMBLE "m ENOENT\n", END);
	return emit(b, PREAMBLE "if [ -e ", Q(path), " ] || [ -L ", Q(path),
		    " ]; then m EEXIST; fi\nln -s -- ", Q(target), " ", Q(path), " || exit 1\n",
		    END)
		   ?: attr_of(b, path);
}

/* "@SEC.NSEC" for touch -d; handles times before 1970. */
static void touch_time(char *out, size_t cap, const struct timespec *t)
{
	long long s = (long long)t->tv_sec;
	long ns = t->tv_nsec;

	if (s < 0 && ns > 0)
		snprintf(out, cap, "@-%lld.%09ld", -(s + 1), 1000000000L - ns);
	else
		snprintf(out, cap, "@%lld.%09ld", s, ns);
}

/* touch commands for the time bits of sa, applied to tgt (a quoted word). */
static int touches(struct sbx_buf *b, const char *tgt, const struct sbx_rfs_setattr *sa)
{
	bool a = sa->valid & (SBX_RFS_SET_ATIME | SBX_RFS_SET_ATIME_NOW);
	bool m = sa->valid & (SBX_RFS_SET_MTIME | SBX_RFS_SET_MTIME_NOW);
	bool a_now = sa->valid & SBX_RFS_SET_ATIME_NOW, m_now = sa->valid & SBX_RFS_SET_MTIME_NOW;
	char ta[48] = "", tm[48] = "";
	int r = 0;

	if (a && !a_now)
		touch_time(ta, sizeof(ta), &sa->atime);
	if (m && !m_now)
		touch_time(tm, sizeof(tm), &sa->mtime);
	if (a && m && a_now == m_now && !strcmp(ta, tm))
		return emit(b, "touch -c -h", a_now ? "" : " -d ", ta, " -- ", tgt, " || exit 1\n",
			    END);
	if (a)
		r = emit(b, "touch -c -h -a", a_now ? "" : " -d ", ta, " -- ", tgt, " || exit 1\n",
			 END);
	if (!r && m)
		r = emit(b, "touch -c -h -m", m_now ? "" : " -d ", tm, " -- ", tgt, " || exit 1\n",
			 END);
	return r;
}

/* chown / chmod / touch of sa (not size) on tgt (a quoted word); chown
 * failures are ignored when soft (a store keeping the owner of the file it
 * replaces, which only root may do). */
static int apply_attrs(struct sbx_buf *b, const char *tgt, const struct sbx_rfs_setattr *sa,
		       bool soft)
{
	char own[48] = "", m[16];
	int r = 0;

	if ((sa->valid & SBX_RFS_SET_UID) && (sa->valid & SBX_RFS_SET_GID))
		snprintf(own, sizeof(own), "%u:%u", sa->uid, sa->gid);
	else if (sa->valid & SBX_RFS_SET_UID)
		snprintf(own, sizeof(own), "%u", sa->uid);
	else if (sa->valid & SBX_RFS_SET_GID)
		snprintf(own, sizeof(own), ":%u", sa->gid);
	if (own[0])
		r = emit(b, "chown -h ", own, " -- ", tgt, soft ? " 2>/dev/null\n" : " || exit 1\n",
			 END);
	if (!r && (sa->valid & SBX_RFS_SET_MODE)) {
		snprintf(m, sizeof(m), "%o", (unsigned)(sa->mode & 07777));
		r = emit(b, "chmod ", m, " -- ", tgt, " || exit 1\n", END);
	}
	return r ?: touches(b, tgt, sa);
}

/* apply_attrs on a path, quoted here. */
static int apply_attrs_path(struct sbx_buf *b, const char *path, const struct sbx_rfs_setattr *sa,
			    bool soft)
{
	struct sbx_buf q = SBX_BUF_INIT;
	int r = sbx_shquote(&q, path);

	if (!r)
		r = apply_attrs(b, q.data, sa, soft);
	sbx_buf_release(&q);
	return r;
}

int sbx_rfs_script_setattr(struct sbx_buf *b, const char *path, const struct sbx_rfs_setattr *sa)
{
	char n[32];
	int r;

	if (abs_path(path) || !sa)
		return -EINVAL;
	r = emit(b, PREAMBLE, END);
	if (!r && (sa->valid & SBX_RFS_SET_SIZE)) {
		snprintf(n, sizeof(n), "%llu", (unsigned long long)sa->size);
		r = emit(b, "if [ -d ", Q(path), " ]; then m EISDIR; fi\ntruncate -s ", n, " -- ",
			 Q(path), " || exit 1\n", END);
	}
	return r ?: apply_attrs_path(b, path, sa, false) ?: attr_of(b, path);
}

int sbx_rfs_script_statfs(struct sbx_buf *b, const char *path)
{
	if (abs_path(path))
		return -EINVAL;
	return emit(b, PREAMBLE "stat -f -c '%S %b %f %a %c %d %l' -- ", Q(path), "\n", END);
}

int sbx_rfs_script_fetch(struct sbx_buf *b, const char *path, const char *validator)
{
	int r;

	if (abs_path(path))
		return -EINVAL;
	r = emit(b, PREAMBLE "a=$(find ", Q(path),
		 " -maxdepth 0 -printf '" SBX_RFS_ATTR_FMT
		 "') || exit 1\ncase $a in d*) m EISDIR;; f*) ;; *) m EINVAL;; esac\n"
		 "v=$(find ",
		 Q(path),
		 " -maxdepth 0 -printf '" SBX_RFS_VALID_FMT "') || exit 1\n"
		 "printf '%s\\0%s\\0' \"$a\" \"$v\"\n",
		 END);
	if (!r && validator)
		r = emit(b, "if [ \"$v\" = ", Q(validator), " ]; then printf U; exit 0; fi\n", END);
	return r ?: emit(b, "printf C\nexec cat -- ", Q(path), "\n", END);
}

int sbx_rfs_script_read_range(struct sbx_buf *b, const char *path, uint64_t off, uint64_t len)
{
	char o[32], l[32];

	if (abs_path(path))
		return -EINVAL;
	snprintf(o, sizeof(o), "%llu", (unsigned long long)off);
	snprintf(l, sizeof(l), "%llu", (unsigned long long)len);
	return emit(b, PREAMBLE "if [ -d ", Q(path), " ]; then m EISDIR; fi\n",
		    "exec dd if=", Q(path), " bs=65536 iflag=skip_bytes,count_bytes skip=", o,
		    " count=", l, " status=none\n", END);
}

/* The attributes of a stored file, then what its check covered. */
#define STORE_TAIL                                                                                 \
	" -maxdepth 0 -printf '" SBX_RFS_ATTR_FMT "\\0" SBX_RFS_VALID_FMT "\\0'\n"                 \
	"printf '%s\\0' \"${sbxs_v:-none}\"\n"

int sbx_rfs_script_store(struct sbx_buf *b, const char *path, const struct sbx_rfs_store_opts *o,
			 const struct sbx_fs_store_check *chk)
{
	struct sbx_buf tmp = SBX_BUF_INIT, args = SBX_BUF_INIT;
	int r;

	if (abs_path(path) || !o || !chk)
		return -EINVAL;
	r = sbx_fs_store_tmp_path(&tmp, path, chk->suffix) ?: sbx_fs_store_check_args(&args, chk);
	if (!r)
		r = emit(b, PREAMBLE "umask 077\nif [ -d ", Q(path), " ]; then m EISDIR; fi\n", END)
			?: sbx_fs_store_helpers(b);
	if (!r && !o->in_place) {
		/* the temporary is registered in the journal and removed on any
		 * failure; only a complete, verified one is renamed (fs/store.h) */
		r = emit(b, "t=", Q(tmp.data), "\nif sbxs_begin \"$t\"; then\n",
			 "  sbxs_recv \"$t\" || { sbxs_drop; exit 1; }\n  (\n", END)
			?: apply_attrs(b, "\"$t\"", &o->attrs, true);
		/* in a subshell, each "|| exit 1" of apply_attrs only leaves the
		 * subshell, so that the temporary is dropped on any failure */
		if (!r)
			r = emit(b, "  :\n  ) || { sbxs_drop; exit 1; }\n  sbxs_commit \"$t\" ",
				 Q(path), args.data, "\nelse\n", END);
	}
	/* in place (hard links) cannot keep the old content; it still
	 * reports a short store */
	if (!r)
		r = emit(b, "  sbxs_recv ", Q(path), " || exit 1\n  sbxs_check ", Q(path),
			 args.data, " || sbxs_die \"$sbxs_why\"\n", END)
			?: apply_attrs_path(b, path, &o->attrs, true);
	if (!r && !o->in_place)
		r = emit(b, "fi\n", END);
	if (!r)
		r = emit(b, "find ", Q(path), STORE_TAIL, END);
	sbx_buf_release(&tmp);
	sbx_buf_release(&args);
	return r;
}

int sbx_rfs_script_signal_env(struct sbx_buf *b, const char *env_marker, const char *sig_name)
{
	size_t i;

	if (!env_marker || !strchr(env_marker, '=') || !sig_name || !*sig_name ||
	    strlen(sig_name) > 16)
		return -EINVAL;
	for (i = 0; sig_name[i]; i++)
		if (!((sig_name[i] >= 'A' && sig_name[i] <= 'Z') ||
		      (sig_name[i] >= '0' && sig_name[i] <= '9')))
			return -EINVAL;
	return emit(b, PREAMBLE "n=0\nfor d in /proc/[0-9]*; do\n  p=${d#/proc/}\n",
		    "  [ \"$p\" = \"$$\" ] && continue\n",
		    "  if tr '\\000' '\\n' < \"$d/environ\" 2>/dev/null | grep -qxF -e ",
		    Q(env_marker), "; then\n    kill -s ", sig_name,
		    " \"$p\" 2>/dev/null && n=$((n + 1))\n  fi\ndone\necho \"$n\"\n", END);
}
