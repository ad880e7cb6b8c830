/* test_transport.c - the names of libsbx's transports
 * (src/lib/exec/transport.c), as SBX_EXEC_TRANSPORT spells them. */
#include <check.h>
#include <stdlib.h>

#include "sbx/client.h"

START_TEST(names)
{
	static const enum sbx_transport all[] = {SBX_TRANSPORT_AUTO, SBX_TRANSPORT_WEBSOCKET,
						 SBX_TRANSPORT_EXECUTOR, SBX_TRANSPORT_AGENT};
	enum sbx_transport t;
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		t = (enum sbx_transport)99;
		ck_assert_int_eq(sbx_transport_parse(sbx_transport_name(all[i]), &t), 0);
		ck_assert_int_eq(t, all[i]);
	}
	ck_assert_str_eq(sbx_transport_name(SBX_TRANSPORT_AUTO), "auto");
	ck_assert_str_eq(sbx_transport_name(SBX_TRANSPORT_WEBSOCKET), "websocket");
	ck_assert_str_eq(sbx_transport_name(SBX_TRANSPORT_EXECUTOR), "executor");
	ck_assert_str_eq(sbx_transport_name(SBX_TRANSPORT_AGENT), "agent");
	ck_assert_int_eq(sbx_transport_parse("agent", &t), 0);
	ck_assert_int_eq(t, SBX_TRANSPORT_AGENT);
	ck_assert_int_eq(sbx_transport_parse("Agent", &t), -SBX_EINVAL);
	ck_assert_int_eq(sbx_transport_parse("agent ", &t), -SBX_EINVAL);
	ck_assert_int_eq(sbx_transport_parse("sbx-agent", &t), -SBX_EINVAL);
	t = SBX_TRANSPORT_EXECUTOR;
	ck_assert_int_eq(sbx_transport_parse("Executor", &t), -SBX_EINVAL);
	ck_assert_int_eq(sbx_transport_parse("ws", &t), -SBX_EINVAL);
	ck_assert_int_eq(sbx_transport_parse("", &t), -SBX_EINVAL);
	ck_assert_int_eq(sbx_transport_parse(NULL, &t), -SBX_EINVAL);
	ck_assert_int_eq(t, SBX_TRANSPORT_EXECUTOR); /* untouched on failure */
}
END_TEST

int main(void)
{
	Suite *su = suite_create("transport");
	TCase *tc = tcase_create("transport");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, names);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
