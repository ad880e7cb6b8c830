/* test_idcache.c - the sandbox id cache (src/lib/api/idcache.c) and the
 * private-file helpers under it (util/statedir.c): lookups keyed by host,
 * token and name, forgetting by service and by name, the entry bound, the
 * id alphabet, and the refusal of files and directories that are not the
 * caller's own. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/idcache.h"
#include "util/statedir.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-idcache.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct sbx_idcache_ids ids_of(const char *svc, const char *inst)
{
	struct sbx_idcache_ids ids;

	snprintf(ids.service, sizeof(ids.service), "%s", svc);
	snprintf(ids.instance, sizeof(ids.instance), "%s", inst);
	return ids;
}

static const struct sbx_idcache_key KA = {"http://127.0.0.1:7070", "tokenA", "alpha"};

START_TEST(put_get_keyed)
{
	struct sbx_idcache_key other_host = KA, other_tok = KA, other_name = KA;
	struct sbx_idcache_ids ids = ids_of("svc-1", "inst-1"), got;
	struct stat st;
	char path[128];

	ck_assert_int_eq(sbx_idcache_get(dir, &KA, &got), -ENOENT);
	ck_assert_int_eq(sbx_idcache_put(dir, &KA, &ids), 0);
	ck_assert_int_eq(sbx_idcache_get(dir, &KA, &got), 0);
	ck_assert_str_eq(got.service, "svc-1");
	ck_assert_str_eq(got.instance, "inst-1");
	snprintf(path, sizeof(path), "%s/%s", dir, SBX_IDCACHE_FILE);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	other_host.host = "https://app.koyeb.com";
	other_tok.token = "tokenB";
	other_name.name = "beta";
	ck_assert_int_eq(sbx_idcache_get(dir, &other_host, &got), -ENOENT);
	ck_assert_int_eq(sbx_idcache_get(dir, &other_tok, &got), -ENOENT);
	ck_assert_int_eq(sbx_idcache_get(dir, &other_name, &got), -ENOENT);
	/* a new answer for the same key replaces the old one */
	ids = ids_of("svc-1", "inst-2");
	ck_assert_int_eq(sbx_idcache_put(dir, &KA, &ids), 0);
	ck_assert_int_eq(sbx_idcache_get(dir, &KA, &got), 0);
	ck_assert_str_eq(got.instance, "inst-2");
}
END_TEST

START_TEST(forget_by_service_and_name)
{
	struct sbx_idcache_key byid = KA, beta = KA, none = KA;
	struct sbx_idcache_ids a = ids_of("svc-a", "inst-a"), b = ids_of("svc-b", "inst-b"), got;

	byid.name = "svc-a";
	beta.name = "beta";
	none.name = NULL;
	ck_assert_int_eq(sbx_idcache_put(dir, &KA, &a), 0);
	ck_assert_int_eq(sbx_idcache_put(dir, &byid, &a), 0);
	ck_assert_int_eq(sbx_idcache_put(dir, &beta, &b), 0);
	ck_assert_int_eq(sbx_idcache_forget(dir, &none, "svc-a"), 0);
	ck_assert_int_eq(sbx_idcache_get(dir, &KA, &got), -ENOENT);
	ck_assert_int_eq(sbx_idcache_get(dir, &byid, &got), -ENOENT);
	ck_assert_int_eq(sbx_idcache_get(dir, &beta, &got), 0);
	/* by name, whatever the service */
	ck_assert_int_eq(sbx_idcache_forget(dir, &beta, "svc-other"), 0);
	ck_assert_int_eq(sbx_idcache_get(dir, &beta, &got), -ENOENT);
}
END_TEST

START_TEST(bounds)
{
	struct sbx_idcache_key k = KA;
	struct sbx_idcache_ids ids = ids_of("svc", "inst"), got;
	char name[32], longid[SBX_IDCACHE_ID_MAX + 2];
	int i;

	for (i = 0; i < SBX_IDCACHE_ENTRIES + 6; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		k.name = name;
		ck_assert_int_eq(sbx_idcache_put(dir, &k, &ids), 0);
	}
	k.name = "n0"; /* the oldest went */
	ck_assert_int_eq(sbx_idcache_get(dir, &k, &got), -ENOENT);
	snprintf(name, sizeof(name), "n%d", SBX_IDCACHE_ENTRIES + 5);
	k.name = name;
	ck_assert_int_eq(sbx_idcache_get(dir, &k, &got), 0);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert(!sbx_idcache_id_ok(longid));
	ck_assert(!sbx_idcache_id_ok(""));
	ck_assert(!sbx_idcache_id_ok("a/b"));
	ck_assert(!sbx_idcache_id_ok("a?id_type=SERVICE_ID"));
	ck_assert(sbx_idcache_id_ok("0d6c1bd4-0e8a-4b7e-9c3f-aa01b2c3d4e5"));
	ids = ids_of("svc", "inst&x=1");
	ck_assert_int_eq(sbx_idcache_put(dir, &KA, &ids), -EINVAL);
}
END_TEST

START_TEST(not_private)
{
	struct sbx_idcache_ids ids = ids_of("svc", "inst"), got;
	char path[128], link[160];

	ck_assert_int_eq(sbx_idcache_put(dir, &KA, &ids), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, SBX_IDCACHE_FILE);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(sbx_idcache_get(dir, &KA, &got), -ENOENT);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(sbx_idcache_get(dir, &KA, &got), 0);
	ck_assert_int_eq(chmod(dir, 0711), 0);
	ck_assert_int_eq(sbx_idcache_get(dir, &KA, &got), -EPERM);
	ck_assert_int_eq(sbx_idcache_put(dir, &KA, &ids), -EPERM);
	ck_assert_int_eq(chmod(dir, 0700), 0);
	/* a symlinked directory is refused too */
	snprintf(link, sizeof(link), "%s.link", dir);
	ck_assert_int_eq(symlink(dir, link), 0);
	ck_assert_int_eq(sbx_idcache_get(link, &KA, &got), -EPERM);
	unlink(link);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("idcache");
	TCase *tc = tcase_create("idcache");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, put_get_keyed);
	tcase_add_test(tc, forget_by_service_and_name);
	tcase_add_test(tc, bounds);
	tcase_add_test(tc, not_private);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
