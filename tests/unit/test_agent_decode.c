/* test_agent_decode.c - sbx-agent's request decoder (src/agent/decode.c)
 * alone, without a process: what each request shape turns into, and the
 * answer for everything it must refuse (-EPROTO malformed, -EINVAL
 * relative path, -ENOSYS unknown op), with nothing left owned after a
 * refusal. test_agent.c checks the same requests end to end. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "agent/req.h"

static struct agent_req *q;

static void setup(void)
{
	q = calloc(1, sizeof(*q));
	ck_assert_ptr_nonnull(q);
}

static void teardown(void)
{
	agent_req_release(q);
	free(q);
}

/* A payload after a credential block (uid SBXA_ID_SELF, no groups). */
static void cred(struct sbxa_w *w)
{
	sbxa_put_cred(w, SBXA_ID_SELF, 0, 0, NULL);
}

static int decode(uint16_t op, struct sbxa_w *w)
{
	int r = agent_req_decode(q, 42, op, w->p, w->len);

	sbxa_w_release(w);
	return r;
}

START_TEST(hello_and_cred)
{
	struct sbxa_w w = {0};
	uint32_t g[3] = {5, 6, 7};

	sbxa_put_u32(&w, SBXA_MAGIC);
	sbxa_put_u32(&w, 9);
	ck_assert_int_eq(decode(SBXA_OP_HELLO, &w), 0);
	ck_assert_uint_eq(q->id, 42);
	ck_assert_uint_eq(q->num, SBXA_MAGIC);
	ck_assert_uint_eq(q->num2, 9);
	ck_assert_uint_eq(q->cred.uid, SBXA_ID_SELF);
	sbxa_put_cred(&w, 1000, 100, 3, g);
	sbxa_put_cstr(&w, "/a");
	ck_assert_int_eq(decode(SBXA_OP_LSTAT, &w), 0);
	ck_assert_uint_eq(q->cred.uid, 1000);
	ck_assert_uint_eq(q->cred.gid, 100);
	ck_assert_uint_eq(q->cred.ngroups, 3);
	ck_assert_uint_eq(q->cred.groups[2], 7);
	ck_assert_str_eq(q->path, "/a");
}
END_TEST

/* A path past PATH_MAX is taken (the agent walks it in steps); one past
 * SBXA_LONGPATH_MAX is ENAMETOOLONG, not malformed; RENAME's second too. */
START_TEST(long_paths)
{
	static char p[SBXA_LONGPATH_MAX + 2];
	struct sbxa_w w = {0};

	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[5000] = '\0';
	cred(&w);
	sbxa_put_cstr(&w, p);
	ck_assert_int_eq(decode(SBXA_OP_LSTAT, &w), 0);
	ck_assert_uint_eq(strlen(q->path), 5000);
	p[5000] = 'a';
	p[SBXA_LONGPATH_MAX] = '\0';
	cred(&w);
	sbxa_put_cstr(&w, p);
	ck_assert_int_eq(decode(SBXA_OP_UNLINK, &w), 0);
	p[SBXA_LONGPATH_MAX] = 'a';
	cred(&w);
	sbxa_put_cstr(&w, p);
	ck_assert_int_eq(decode(SBXA_OP_UNLINK, &w), -ENAMETOOLONG);
	cred(&w);
	sbxa_put_cstr(&w, "/a");
	sbxa_put_cstr(&w, p);
	sbxa_put_u32(&w, 0);
	ck_assert_int_eq(decode(SBXA_OP_RENAME, &w), -ENAMETOOLONG);
	cred(&w);
	sbxa_put_cstr(&w, p);
	sbxa_put_u32(&w, 1); /* trailing bytes: malformed wins */
	ck_assert_int_eq(decode(SBXA_OP_UNLINK, &w), -EPROTO);
}
END_TEST

START_TEST(refusals)
{
	struct sbxa_w w = {0};

	ck_assert_int_eq(decode(99, &w), -ENOSYS);
	ck_assert_int_eq(decode(SBXA_REPLY | SBXA_OP_LSTAT, &w), -ENOSYS);
	cred(&w);
	sbxa_put_cstr(&w, "rel");
	ck_assert_int_eq(decode(SBXA_OP_LSTAT, &w), -EINVAL);
	cred(&w);
	sbxa_put_cstr(&w, "");
	ck_assert_int_eq(decode(SBXA_OP_LSTAT, &w), -EPROTO); /* empty path */
	cred(&w);
	sbxa_put_cstr(&w, "rel");
	sbxa_put_u32(&w, 1);
	ck_assert_int_eq(decode(SBXA_OP_LSTAT, &w), -EPROTO); /* malformed wins */
	cred(&w);
	sbxa_put_u32(&w, SBXA_PATH_MAX + 1);
	ck_assert_int_eq(decode(SBXA_OP_LSTAT, &w), -EPROTO);
	cred(&w);
	sbxa_put_cstr(&w, "/a");
	sbxa_put_cstr(&w, "b"); /* RENAME's second path relative */
	sbxa_put_u32(&w, 0);
	ck_assert_int_eq(decode(SBXA_OP_RENAME, &w), -EINVAL);
	cred(&w);
	sbxa_put_cstr(&w, "/a");
	sbxa_put_u64(&w, 0);
	sbxa_put_u64(&w, 1);
	sbxa_put_u32(&w, 0);
	sbxa_put_u64(&w, 0);
	sbxa_put_u64(&w, 0);
	sbxa_put_u64(&w, 0);
	sbxa_put_u32(&w, 1000000000u); /* nanoseconds out of range */
	sbxa_put_u64(&w, 0);
	sbxa_put_u32(&w, 0);
	ck_assert_int_eq(decode(SBXA_OP_READ, &w), -EPROTO);
}
END_TEST

START_TEST(symlink_target_and_setattr)
{
	struct sbxa_w w = {0};
	struct sbxa_setattr sa = {.valid = SBXA_SET_MODE | SBXA_SET_MTIME,
				  .mode = 0640,
				  .mtime = {.sec = -5, .nsec = 999999999u}};

	cred(&w);
	sbxa_put_cstr(&w, "../rel/target"); /* a target may be relative */
	sbxa_put_cstr(&w, "/l");
	ck_assert_int_eq(decode(SBXA_OP_SYMLINK, &w), 0);
	ck_assert_str_eq(q->path2, "../rel/target");
	ck_assert_str_eq(q->path, "/l");
	cred(&w);
	sbxa_put_cstr(&w, "/f");
	sbxa_put_setattr(&w, &sa);
	ck_assert_int_eq(decode(SBXA_OP_SETATTR, &w), 0);
	ck_assert_uint_eq(q->sa.valid, SBXA_SET_MODE | SBXA_SET_MTIME);
	ck_assert_uint_eq(q->sa.mode, 0640);
	ck_assert_int_eq(q->sa.mtime.sec, -5);
	ck_assert_uint_eq(q->sa.mtime.nsec, 999999999u);
}
END_TEST

START_TEST(data_is_borrowed)
{
	struct sbxa_w w = {0};
	const uint8_t *base;
	size_t n;

	cred(&w);
	sbxa_put_u32(&w, 7);
	sbxa_put_u64(&w, 4096);
	sbxa_put_bytes(&w, "abc", 3);
	base = w.p;
	n = w.len;
	ck_assert_int_eq(agent_req_decode(q, 1, SBXA_OP_PWRITE, w.p, w.len), 0);
	ck_assert_uint_eq(q->handle, 7);
	ck_assert_uint_eq(q->off, 4096);
	ck_assert_uint_eq(q->data_len, 3);
	ck_assert_ptr_eq(q->data, base + n - 3);
	sbxa_w_release(&w);
	cred(&w);
	sbxa_put_u32(&w, 3);
	ck_assert_int_eq(decode(SBXA_OP_JOB_STDIN, &w), 0);
	ck_assert_uint_eq(q->num, 3);
	ck_assert_uint_eq(q->data_len, 0); /* empty: close the job's stdin */
}
END_TEST

START_TEST(job_start)
{
	struct sbxa_w w = {0};

	cred(&w);
	sbxa_put_u32(&w, 2);
	sbxa_put_cstr(&w, "sh");
	sbxa_put_cstr(&w, "-c");
	sbxa_put_u32(&w, 1);
	sbxa_put_cstr(&w, "A=1");
	sbxa_put_cstr(&w, "");
	sbxa_put_u32(&w, SBXA_JOB_STDIN);
	ck_assert_int_eq(decode(SBXA_OP_JOB_START, &w), 0);
	ck_assert_str_eq(q->argv[0], "sh");
	ck_assert_str_eq(q->argv[1], "-c");
	ck_assert_ptr_null(q->argv[2]);
	ck_assert_str_eq(q->envp[0], "A=1");
	ck_assert_ptr_null(q->envp[1]);
	ck_assert_str_eq(q->path, "/"); /* empty cwd */
	ck_assert_uint_eq(q->flags, SBXA_JOB_STDIN);
	/* no argv; an argc the payload cannot hold; a relative cwd */
	cred(&w);
	sbxa_put_u32(&w, 0);
	sbxa_put_u32(&w, 0);
	sbxa_put_cstr(&w, "/");
	sbxa_put_u32(&w, 0);
	ck_assert_int_eq(decode(SBXA_OP_JOB_START, &w), -EINVAL);
	ck_assert_ptr_null(q->argv);
	cred(&w);
	sbxa_put_u32(&w, 1000);
	sbxa_put_cstr(&w, "x");
	ck_assert_int_eq(decode(SBXA_OP_JOB_START, &w), -EPROTO);
	ck_assert_ptr_null(q->strs);
	cred(&w);
	sbxa_put_u32(&w, 1);
	sbxa_put_cstr(&w, "ls");
	sbxa_put_u32(&w, 0);
	sbxa_put_cstr(&w, "tmp");
	sbxa_put_u32(&w, 0);
	ck_assert_int_eq(decode(SBXA_OP_JOB_START, &w), -EINVAL);
	ck_assert_ptr_null(q->argv);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_decode");
	TCase *tc = tcase_create("decode");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hello_and_cred);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, long_paths);
	tcase_add_test(tc, symlink_target_and_setattr);
	tcase_add_test(tc, data_is_borrowed);
	tcase_add_test(tc, job_start);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
