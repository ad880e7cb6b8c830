/* test_client.c - the client's lazily loaded libcurl (src/lib/client.c,
 * src/lib/api/curl_dl.c): nothing of libcurl until a REST call or
 * sbx_client_curl() asks, one table per client after that, and a REST call
 * that loads it on its own. No server: the port refuses connections. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest.h"
#include "client_priv.h"

static struct sbx_client *client(void)
{
	struct sbx_client_opts o = {.api_host = "http://127.0.0.1:1", .token = "tok"};
	struct sbx_client *c = NULL;
	struct sbx_err err = {0};

	ck_assert_int_eq(sbx_client_new(&o, &c, &err), 0);
	return c;
}

START_TEST(curl_table_once)
{
	struct sbx_client *c = client();
	const struct sbx_curl *t1 = NULL, *t2 = NULL;
	struct sbx_err err = {0};

	ck_assert_ptr_null(c->curl_fn.dl); /* not loaded by sbx_client_new */
	ck_assert_int_eq(sbx_client_curl(c, &t1, &err), 0);
	ck_assert_ptr_nonnull(t1->dl);
	ck_assert_int_eq(sbx_client_curl(c, &t2, &err), 0);
	ck_assert_ptr_eq(t1, t2);
	ck_assert_str_eq(t1->easy_strerror(CURLE_OK), "No error");
	sbx_client_free(c);
}
END_TEST

START_TEST(rest_loads_it)
{
	struct sbx_client *c = client();
	struct sbx_err err = {0};
	json_object *o = NULL;

	ck_assert_int_eq(sbx_rest_call(c, "POST", "/v1/apps", "{}", &o, &err), -SBX_ECONN);
	ck_assert_ptr_nonnull(c->curl_fn.dl);
	ck_assert_ptr_nonnull(c->curl);
	sbx_client_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("client");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, curl_table_once);
	tcase_add_test(tc, rest_loads_it);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
