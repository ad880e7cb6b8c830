/* script.c - builds the sh scripts of the filesystem primitives; see script.h.
 *
 * Every script is the same preamble (locale, marker helpers) followed by the
 * operation. Each path is assigned once to a shell variable and used as
 * "$p" after that, so a path full of quotes costs its quoted length once.
 *
 * Helpers of the preamble:
 *  sbx_fail E    print the marker line for E to stderr and exit 3;
 *  sbx_why P     P does not exist (or cannot be seen): fail like the kernel
 *                by the deepest existing ancestor: ENOTDIR when it is not
 *                a directory, EACCES when it cannot be searched, else
 *                ENOENT;
 *  sbx_isdir P   P must be a directory: ENOTDIR if it is something else,
 *                sbx_why if it is missing.
 */
#include "script.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util/shquote.h"

static const char preamble[] =
    "LC_ALL=C; export LC_ALL; unset CDPATH\n"
    "sbx_fail() { printf '%s\\n' \"" SBX_FS_MARK "$1${sbx_i:+ at file $sbx_i}\" >&2; exit 3; }\n"
    "sbx_why() {\n"
    "\tsbx_d=$1\n"
    "\twhile :; do\n"
    "\t\tcase $sbx_d in */*) sbx_d=${sbx_d%/*} ;; *) break ;; esac\n"
    "\t\t[ -n \"$sbx_d\" ] || break\n"
    "\t\tif [ -e \"$sbx_d\" ]; then\n"
    "\t\t\t[ -d \"$sbx_d\" ] || sbx_fail ENOTDIR\n"
    "\t\t\t[ -x \"$sbx_d\" ] || sbx_fail EACCES\n"
    "\t\t\tbreak\n"
    "\t\tfi\n"
    "\tdone\n"
    "\tsbx_fail ENOENT\n"
    "}\n"
    "sbx_isdir() { [ -d \"$1\" ] || { [ -e \"$1\" ] && sbx_fail ENOTDIR; sbx_why \"$1\"; }; }\n";

/* sbx_put P T N S [CMD...]: stdin (or the stdout of CMD) becomes the
 * content of P, hashed on the way (sbxs_recv). A
 * new P, or a regular file with one link, is replaced through the guarded
 * temporary T (store.h) that first gets P's mode and owner (stat -c is in
 * GNU coreutils and busybox; without it, in place); a symlink, a special
 * file or a file with other links is written in place, as `cat > P` would
 * (a regular one is still checked, so a short store fails). */
static const char put_fn[] =
    "sbx_put() {\n"
    "\tsbx_a=\n"
    "\tif [ -f \"$1\" ] && [ ! -L \"$1\" ]; then\n"
    "\t\tsbx_a=$(stat -c '%a %u:%g %h' -- \"$1\" 2>/dev/null) || sbx_a=i\n"
    "\t\tcase $sbx_a in *' 1') ;; *) sbx_a=i ;; esac\n"
    "\telif [ -e \"$1\" ] || [ -L \"$1\" ]; then\n"
    "\t\tsbx_a=i\n"
    "\tfi\n"
    "\tsbx_pp=$1 sbx_pt=$2 sbx_pn=$3 sbx_ps=$4\n"
    "\tshift 4\n"
    "\tif [ \"$sbx_a\" != i ] && sbxs_begin \"$sbx_pt\"; then\n"
    "\t\tif [ -n \"$sbx_a\" ]; then\n"
    "\t\t\tsbx_o=${sbx_a#* }\n"
    "\t\t\tchown \"${sbx_o% *}\" -- \"$sbx_pt\" 2>/dev/null\n"
    "\t\t\tchmod \"${sbx_a%% *}\" -- \"$sbx_pt\" || { sbxs_drop; exit 1; }\n"
    "\t\tfi\n"
    "\t\tsbxs_recv \"$sbx_pt\" \"$@\" || { sbxs_drop; exit 1; }\n"
    "\t\tsbxs_commit \"$sbx_pt\" \"$sbx_pp\" \"$sbx_pn\" \"$sbx_ps\"\n"
    "\telse\n"
    "\t\tsbxs_recv \"$sbx_pp\" \"$@\" || exit 1\n"
    "\t\t[ ! -f \"$sbx_pp\" ] || sbxs_check \"$sbx_pp\" \"$sbx_pn\" \"$sbx_ps\" ||\n"
    "\t\t\tsbxs_die \"$sbxs_why\"\n"
    "\tfi\n"
    "}\n";

/* write_files: stdin is, per file, a line "PLEN QLEN DLEN" then PLEN bytes
 * of path, QLEN bytes of its parent directory and DLEN bytes of content.
 * Only the lengths go through `read` (which never reads past a newline);
 * every byte string goes through sbx_rd, exact by count, so the script is
 * the same for any number of files (every stdin frame repeats it).
 *
 * GNU head -c never reads past its count; the head -c of busybox and the
 * BSDs reads through stdio and swallows what follows, and POSIX head has no
 * -c at all. The probe keeps head only when the bytes after its count are
 * still there; else dd bs=1, which is exact everywhere (one read per byte:
 * slow, but correct). sbx_str reads N bytes into sbx_s (the "x" keeps
 * trailing newlines from $(...)). */
static const char files_body[] =
    "if [ \"$(printf abc | { head -c 1 >/dev/null 2>&1; cat; })\" = bc ]; then\n"
    "\tsbx_rd() { head -c \"$1\"; }\n"
    "else\n"
    "\tsbx_rd() { dd bs=1 count=\"$1\" 2>/dev/null; }\n"
    "fi\n"
    "sbx_str() {\n"
    "\tsbx_s=$(sbx_rd \"$1\"; echo x) || exit 1\n"
    "\tsbx_s=${sbx_s%x}\n"
    "\t[ ${#sbx_s} -eq \"$1\" ] || sbx_fail \"EIO bad stream\"\n"
    "}\n"
    "sbx_i=0\n"
    "while read -r sbx_pl sbx_ql sbx_dl sbx_sum; do\n"
    "\tsbx_i=$((sbx_i + 1))\n"
    "\tcase \"$sbx_pl:$sbx_ql:$sbx_dl\" in\n"
    "\t*[!0-9:]* | :* | *::* | *:) sbx_fail \"EIO bad stream\" ;;\n"
    "\tesac\n"
    "\tcase $sbx_sum in '' | *[!0-9a-f]*) sbx_fail \"EIO bad stream\" ;; esac\n"
    "\tsbx_str \"$sbx_pl\"; p=$sbx_s\n"
    "\tsbx_str \"$sbx_ql\"; d=$sbx_s\n"
    "\t[ -d \"$p\" ] && sbx_fail EISDIR\n"
    "\tsbx_isdir \"$d\"\n"
    "\tsbx_put \"$p\" \"$d/" SBX_FS_STORE_TMP "$sbx_sfx$sbx_i\" \"$sbx_dl\" \"$sbx_sum\" "
    "sbx_rd \"$sbx_dl\"\n"
    "done\n";

int sbx_fs_path_check(const char *path)
{
	if (!path || !*path)
		return -SBX_EINVAL;
	if (strlen(path) > SBX_FS_PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

char *sbx_fs_parent(const char *path)
{
	size_t n = strlen(path);
	char *r;

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return strdup(".");
	while (n > 1 && path[n - 1] == '/')
		n--;
	r = malloc(n + 1);
	if (!r)
		return NULL;
	memcpy(r, path, n);
	r[n] = '\0';
	return r;
}

/* Appends path as one sh word; "./" first when it starts with '-'. */
static int put_path(struct sbx_buf *b, const char *path)
{
	int r = 0;

	if (path[0] == '-')
		r = sbx_buf_puts(b, "./");
	return r ? r : sbx_shquote(b, path);
}

/* Appends "NAME=<path>\n". */
static int put_var(struct sbx_buf *b, const char *name, const char *path)
{
	int r = sbx_buf_printf(b, "%s=", name);

	if (!r)
		r = put_path(b, path);
	return r ? r : sbx_buf_putc(b, '\n');
}

/* Starts a script: preamble, then p=PATH (and d=PARENT when with_parent). */
static int begin(struct sbx_buf *out, const char *path, bool with_parent)
{
	char *parent = NULL;
	int r = sbx_fs_path_check(path);

	if (r)
		return r;
	r = sbx_buf_puts(out, preamble);
	if (!r)
		r = put_var(out, "p", path);
	if (!r && with_parent) {
		parent = sbx_fs_parent(path);
		r = parent ? put_var(out, "d", parent) : -ENOMEM;
	}
	free(parent);
	return r;
}

/* Appends the body and checks the final size. */
static int finish(struct sbx_buf *out, const char *body)
{
	int r = sbx_buf_puts(out, body);

	if (!r && out->len > SBX_FS_SCRIPT_MAX)
		r = -E2BIG;
	return r;
}

/* The store helpers of store.h and sbx_put. */
static int put_helpers(struct sbx_buf *out)
{
	int r = sbx_fs_store_helpers(out);

	return r ? r : sbx_buf_puts(out, put_fn);
}

int sbx_fs_script_write(struct sbx_buf *out, const char *path, const struct sbx_fs_store_check *c)
{
	struct sbx_buf t = SBX_BUF_INIT;
	int r = c ? begin(out, path, true) : -SBX_EINVAL;

	if (!r)
		r = sbx_fs_store_tmp_path(&t, path, c->suffix);
	if (!r)
		r = put_var(out, "t", t.data);
	if (!r)
		r = sbx_buf_puts(out, "[ -d \"$p\" ] && sbx_fail EISDIR\n"
				      "sbx_isdir \"$d\"\n");
	if (!r)
		r = put_helpers(out);
	if (!r)
		r = sbx_buf_puts(out, "sbx_put \"$p\" \"$t\"");
	if (!r)
		r = sbx_fs_store_check_args(out, c);
	sbx_buf_release(&t);
	return r ? r : finish(out, "\n");
}

int sbx_fs_script_read(struct sbx_buf *out, const char *path)
{
	int r = begin(out, path, false);

	return r ? r
		 : finish(out, "[ -e \"$p\" ] || sbx_why \"$p\"\n"
			       "[ -d \"$p\" ] && sbx_fail EISDIR\n"
			       "cat -- \"$p\"\n");
}

int sbx_fs_script_mkdir(struct sbx_buf *out, const char *path, bool recursive)
{
	int r = begin(out, path, !recursive);

	if (r)
		return r;
	if (recursive)
		return finish(out, "[ -d \"$p\" ] && exit 0\n"
				   "[ -e \"$p\" ] || [ -L \"$p\" ] && sbx_fail EEXIST\n"
				   "mkdir -p -- \"$p\"\n");
	return finish(out, "[ -e \"$p\" ] || [ -L \"$p\" ] && sbx_fail EEXIST\n"
			   "sbx_isdir \"$d\"\n"
			   "mkdir -- \"$p\"\n");
}

int sbx_fs_script_list(struct sbx_buf *out, const char *path)
{
	int r = begin(out, path, false);

	/* The three patterns cover every name but . and ..; a pattern that
	 * matches nothing stays as it is, hence the -e / -L check. */
	return r ? r
		 : finish(out, "sbx_isdir \"$p\"\n"
			       "cd \"$p\" || sbx_fail EACCES\n"
			       "[ -r . ] || sbx_fail EACCES\n"
			       "for sbx_f in * .[!.]* ..?*; do\n"
			       "\tif [ -e \"$sbx_f\" ] || [ -L \"$sbx_f\" ]; then\n"
			       "\t\tprintf '%s\\0' \"$sbx_f\"\n"
			       "\tfi\n"
			       "done\n");
}

int sbx_fs_script_delete_file(struct sbx_buf *out, const char *path)
{
	int r = begin(out, path, false);

	return r ? r
		 : finish(out, "[ -e \"$p\" ] || [ -L \"$p\" ] || sbx_why \"$p\"\n"
			       "[ -d \"$p\" ] && [ ! -L \"$p\" ] && sbx_fail EISDIR\n"
			       "rm -- \"$p\" </dev/null\n");
}

int sbx_fs_script_delete_dir(struct sbx_buf *out, const char *path)
{
	int r = begin(out, path, false);

	return r ? r
		 : finish(out, "[ -e \"$p\" ] || [ -L \"$p\" ] || sbx_why \"$p\"\n"
			       "[ -L \"$p\" ] && sbx_fail ENOTDIR\n"
			       "[ -d \"$p\" ] || sbx_fail ENOTDIR\n"
			       "rmdir -- \"$p\"\n");
}

static int begin2(struct sbx_buf *out, const char *from, const char *to)
{
	int r = sbx_fs_path_check(from);

	if (!r)
		r = sbx_fs_path_check(to);
	if (!r)
		r = sbx_buf_puts(out, preamble);
	if (!r)
		r = put_var(out, "a", from);
	if (!r)
		r = put_var(out, "b", to);
	return r;
}

int sbx_fs_script_rename(struct sbx_buf *out, const char *from, const char *to)
{
	int r = begin2(out, from, to);

	/* mv moves into an existing directory and follows a symlink to one;
	 * rename(2) replaces the name itself. -ef (same file: rename(2) does
	 * nothing) is in dash, bash, busybox and POSIX.1-2024; where test
	 * lacks it, the check is false and the rest still holds. */
	return r ? r
		 : finish(out,
			  "[ -e \"$a\" ] || [ -L \"$a\" ] || sbx_why \"$a\"\n"
			  "[ \"$a\" -ef \"$b\" ] 2>/dev/null && exit 0\n"
			  "if [ -d \"$b\" ] && [ ! -L \"$b\" ]; then\n"
			  "\t[ -d \"$a\" ] && [ ! -L \"$a\" ] || sbx_fail EISDIR\n"
			  "\trmdir -- \"$b\" || exit 1\n"
			  "elif [ -e \"$b\" ] || [ -L \"$b\" ]; then\n"
			  "\t[ -d \"$a\" ] && [ ! -L \"$a\" ] && sbx_fail ENOTDIR\n"
			  "\t[ -L \"$b\" ] && [ -d \"$b\" ] && { rm -f -- \"$b\" || exit 1; }\n"
			  "fi\n"
			  "mv -f -- \"$a\" \"$b\" </dev/null\n");
}

int sbx_fs_script_move(struct sbx_buf *out, const char *from, const char *to)
{
	int r = begin2(out, from, to);

	return r ? r
		 : finish(out, "[ -e \"$a\" ] || [ -L \"$a\" ] || sbx_why \"$a\"\n"
			       "mv -f -- \"$a\" \"$b\" </dev/null\n");
}

int sbx_fs_script_test(struct sbx_buf *out, const char *path, enum sbx_fs_test t)
{
	static const char *const bodies[] = {
	    [SBX_FS_TEST_EXISTS] = "if [ -e \"$p\" ]; then echo y; else echo n; fi\n",
	    [SBX_FS_TEST_FILE] = "if [ -f \"$p\" ]; then echo y; else echo n; fi\n",
	    [SBX_FS_TEST_DIR] = "if [ -d \"$p\" ]; then echo y; else echo n; fi\n",
	};
	int r;

	if ((unsigned)t > SBX_FS_TEST_DIR)
		return -SBX_EINVAL;
	r = begin(out, path, false);
	return r ? r : finish(out, bodies[t]);
}

int sbx_fs_script_rm(struct sbx_buf *out, const char *path, bool recursive)
{
	int r;

	if (!recursive)
		return sbx_fs_script_delete_file(out, path);
	r = begin(out, path, false);
	return r ? r : finish(out, "rm -rf -- \"$p\" </dev/null\n");
}

int sbx_fs_script_write_files(struct sbx_buf *out, const char *suffix)
{
	size_t i;
	int r;

	for (i = 0; suffix && suffix[i]; i++)
		if (!strchr("0123456789abcdef", suffix[i]))
			return -SBX_EINVAL;
	if (!suffix || !*suffix)
		return -SBX_EINVAL;
	r = sbx_buf_puts(out, preamble);
	if (!r)
		r = put_helpers(out);
	if (!r)
		r = sbx_buf_printf(out, "sbx_sfx=%s\n", suffix);
	return r ? r : sbx_buf_puts(out, files_body);
}

/* Appends a path as raw bytes, "./" first when it starts with '-'. */
static int put_raw(struct sbx_buf *b, const char *path)
{
	int r = path[0] == '-' ? sbx_buf_puts(b, "./") : 0;

	return r ? r : sbx_buf_puts(b, path);
}

int sbx_fs_write_files_head(struct sbx_buf *out, const struct sbx_file_spec *f, const char *sha256)
{
	char *parent;
	size_t pl, ql;
	int r = sbx_fs_path_check(f->path);

	if (!r && ((!f->data && f->len) || !sha256 || strlen(sha256) != SBX_FS_SHA256_HEX - 1 ||
		   strspn(sha256, "0123456789abcdef") != SBX_FS_SHA256_HEX - 1))
		r = -SBX_EINVAL;
	if (r)
		return r;
	parent = sbx_fs_parent(f->path);
	if (!parent)
		return -ENOMEM;
	pl = strlen(f->path) + (f->path[0] == '-' ? 2 : 0);
	ql = strlen(parent) + (parent[0] == '-' ? 2 : 0);
	r = sbx_buf_printf(out, "%zu %zu %zu %s\n", pl, ql, f->len, sha256);
	if (!r)
		r = put_raw(out, f->path);
	if (!r)
		r = put_raw(out, parent);
	free(parent);
	return r;
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Counts the NUL-terminated names of data; -SBX_EPROTO if malformed. */
static int count_names(const char *data, size_t len, size_t *ret_n)
{
	size_t i, n = 0;

	if (len && data[len - 1] != '\0')
		return -SBX_EPROTO;
	for (i = 0; i < len; i++) {
		if (data[i] != '\0')
			continue;
		if (i == 0 || data[i - 1] == '\0')
			return -SBX_EPROTO;
		n++;
	}
	*ret_n = n;
	return 0;
}

int sbx_fs_parse_names(const char *data, size_t len, char ***ret, size_t *ret_n)
{
	char **v;
	size_t i = 0, n = 0, off = 0;
	int r = count_names(data, len, &n);

	if (r)
		return r;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		v[i] = strdup(data + off);
		if (!v[i]) {
			sbx_strv_free(v);
			return -ENOMEM;
		}
		off += strlen(v[i]) + 1;
	}
	qsort(v, n, sizeof(*v), cmp_names);
	*ret = v;
	*ret_n = n;
	return 0;
}

int sbx_fs_parse_flag(const char *data, size_t len, bool *ret)
{
	if (len == 2 && data[1] == '\n' && (data[0] == 'y' || data[0] == 'n')) {
		*ret = data[0] == 'y';
		return 0;
	}
	return -SBX_EPROTO;
}
