/* test_spawn_msg.c - the packets between sbxd and a sandbox's spawner
 * (src/host/runtime/spawn_msg.c): round trips, every bound, and packets a
 * decoder must refuse (truncated, unterminated, trailing bytes, wrong
 * counts or types, replies out of range). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/runtime/spawn_msg.h"

static struct sbxd_spawn_req *req_new(void)
{
	struct sbxd_spawn_req *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	return r;
}

START_TEST(round_trip)
{
	char *argv[] = {"sh", "-c", "echo \"$X\"", "", NULL};
	char *envp[] = {"PATH=/bin", "X=a b", NULL};
	struct sbx_buf b = SBX_BUF_INIT;
	struct sbxd_spawn_req *r = req_new();

	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 7, argv, envp), 0);
	ck_assert_int_eq(sbxd_spawn_msg_decode(b.data, b.len, r), 0);
	ck_assert_uint_eq(r->type, SBX_SPAWN_SPAWN);
	ck_assert_uint_eq(r->id, 7);
	ck_assert_str_eq(r->argv[0], "sh");
	ck_assert_str_eq(r->argv[2], "echo \"$X\"");
	ck_assert_str_eq(r->argv[3], "");
	ck_assert_ptr_null(r->argv[4]);
	ck_assert_str_eq(r->envp[1], "X=a b");
	ck_assert_ptr_null(r->envp[2]);
	/* no environment at all is fine */
	sbx_buf_reset(&b);
	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 1, argv, NULL), 0);
	ck_assert_int_eq(sbxd_spawn_msg_decode(b.data, b.len, r), 0);
	ck_assert_ptr_null(r->envp[0]);
	sbx_buf_release(&b);
	free(r);
}
END_TEST

START_TEST(encode_bounds)
{
	struct sbx_buf b = SBX_BUF_INIT;
	char *empty[] = {NULL}, *one[] = {"x", NULL};
	char **many = calloc(SBX_SPAWN_ARGC_MAX + 2, sizeof(char *));
	char *big = malloc(SBX_SPAWN_MSG_MAX);
	char *bigv[] = {big, NULL};
	size_t i;

	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 1, empty, NULL), -EINVAL);
	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 1, NULL, NULL), -EINVAL);
	for (i = 0; i <= SBX_SPAWN_ARGC_MAX; i++)
		many[i] = "a";
	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 1, many, NULL), -E2BIG);
	many[SBX_SPAWN_ARGC_MAX] = NULL; /* exactly the bound */
	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 1, many, NULL), 0);
	sbx_buf_reset(&b);
	for (i = 0; i <= SBX_SPAWN_ENVC_MAX; i++)
		many[i] = "K=v";
	many[SBX_SPAWN_ENVC_MAX + 1] = NULL;
	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 1, one, many), -E2BIG);
	/* a string that fills the packet by itself: one byte too many */
	memset(big, 'x', SBX_SPAWN_MSG_MAX - 1);
	big[SBX_SPAWN_MSG_MAX - sizeof(struct sbxd_spawn_hdr) - 1] = '\0';
	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 1, bigv, NULL), 0);
	ck_assert_uint_eq(b.len, SBX_SPAWN_MSG_MAX);
	sbx_buf_reset(&b);
	big[SBX_SPAWN_MSG_MAX - sizeof(struct sbxd_spawn_hdr) - 1] = 'x';
	big[SBX_SPAWN_MSG_MAX - sizeof(struct sbxd_spawn_hdr)] = '\0';
	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 1, bigv, NULL), -E2BIG);
	ck_assert_uint_eq(b.len, 0);
	sbx_buf_release(&b);
	free(many);
	free(big);
}
END_TEST

/* Builds a raw packet: header then bytes as given. */
static size_t raw(char *out, uint32_t type, uint32_t argc, uint32_t envc, const char *p, size_t n)
{
	struct sbxd_spawn_hdr h = {type, 9, argc, envc};

	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), p, n);
	return sizeof(h) + n;
}

START_TEST(decode_refuses)
{
	struct sbxd_spawn_req *r = req_new();
	char pkt[256];
	size_t n;

	n = raw(pkt, SBX_SPAWN_SPAWN, 1, 0, "ls", 3);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), 0);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n - 1, r), -EBADMSG); /* no NUL */
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, 3, r), -EBADMSG);	  /* short header */
	n = raw(pkt, SBX_SPAWN_SPAWN, 1, 0, "ls\0x", 4);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), -EBADMSG); /* trailing bytes */
	n = raw(pkt, SBX_SPAWN_SPAWN, 2, 0, "ls", 3);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), -EBADMSG); /* fewer strings */
	n = raw(pkt, SBX_SPAWN_SPAWN, 1, 1, "ls", 3);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), -EBADMSG);
	n = raw(pkt, SBX_SPAWN_SPAWN, 0, 1, "A=b", 4);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), -EBADMSG); /* empty argv */
	n = raw(pkt, SBX_SPAWN_SPAWN, SBX_SPAWN_ARGC_MAX + 1, 0, "ls", 3);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), -EBADMSG);
	n = raw(pkt, SBX_SPAWN_SPAWN, 1, SBX_SPAWN_ENVC_MAX + 1, "ls", 3);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), -EBADMSG);
	n = raw(pkt, 0xdead, 1, 0, "ls", 3);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), -EBADMSG); /* unknown type */
	n = raw(pkt, SBX_SPAWN_STARTED, 1, 0, "ls", 3);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), -EBADMSG); /* a reply type */
	n = raw(pkt, SBX_SPAWN_RELEASE, 0, 0, "", 0);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), 0);
	ck_assert_uint_eq(r->type, SBX_SPAWN_RELEASE);
	ck_assert_uint_eq(r->id, 9);
	ck_assert_ptr_null(r->argv[0]);
	n = raw(pkt, SBX_SPAWN_RELEASE, 1, 0, "ls", 3);
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, n, r), -EBADMSG); /* RELEASE with strings */
	ck_assert_int_eq(sbxd_spawn_msg_decode(pkt, SBX_SPAWN_MSG_MAX + 1, r), -EBADMSG);
	free(r);
}
END_TEST

/* Every strict prefix of a valid packet is refused. */
START_TEST(decode_every_truncation)
{
	char *argv[] = {"cat", "/etc/hostname", NULL}, *envp[] = {"A=1", "B=", NULL};
	struct sbx_buf b = SBX_BUF_INIT;
	struct sbxd_spawn_req *r = req_new();
	size_t n;

	ck_assert_int_eq(sbxd_spawn_msg_encode(&b, 3, argv, envp), 0);
	for (n = 0; n < b.len; n++) {
		char *copy = malloc(n + 1);

		memcpy(copy, b.data, n);
		ck_assert_msg(sbxd_spawn_msg_decode(copy, n, r) == -EBADMSG, "prefix %zu", n);
		free(copy);
	}
	sbx_buf_release(&b);
	free(r);
}
END_TEST

START_TEST(release_header)
{
	struct sbxd_spawn_hdr h;
	struct sbxd_spawn_req *r = req_new();

	sbxd_spawn_msg_release(&h, 42);
	ck_assert_int_eq(sbxd_spawn_msg_decode((char *)&h, sizeof(h), r), 0);
	ck_assert_uint_eq(r->type, SBX_SPAWN_RELEASE);
	ck_assert_uint_eq(r->id, 42);
	free(r);
}
END_TEST

START_TEST(replies)
{
	struct sbxd_spawn_reply r, out;
	char longer[sizeof(r) + 1];

	r = (struct sbxd_spawn_reply){SBX_SPAWN_STARTED, 5, 1234};
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), 0);
	ck_assert_uint_eq(out.id, 5);
	ck_assert_int_eq(out.value, 1234);
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r) - 1, &out), -EBADMSG);
	memcpy(longer, &r, sizeof(r));
	ck_assert_int_eq(sbxd_spawn_reply_decode(longer, sizeof(longer), &out), -EBADMSG);
	r.value = 1; /* never init, never a kill(-1) */
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), -EBADMSG);
	r.value = 0;
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), -EBADMSG);
	r.value = -5;
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), -EBADMSG);
	r = (struct sbxd_spawn_reply){SBX_SPAWN_FAILED, 5, EAGAIN};
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), 0);
	r.value = 0;
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), -EBADMSG);
	r.value = 5000;
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), -EBADMSG);
	r = (struct sbxd_spawn_reply){SBX_SPAWN_EXITED, 5, 9};
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), 0);
	r.value = 0x10000;
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), -EBADMSG);
	r = (struct sbxd_spawn_reply){SBX_SPAWN_SPAWN, 5, 9};
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), -EBADMSG);
	r.type = SBX_SPAWN_RELEASE;
	ck_assert_int_eq(sbxd_spawn_reply_decode(&r, sizeof(r), &out), -EBADMSG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spawn_msg");
	TCase *tc = tcase_create("msg");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, encode_bounds);
	tcase_add_test(tc, decode_refuses);
	tcase_add_test(tc, decode_every_truncation);
	tcase_add_test(tc, release_header);
	tcase_add_test(tc, replies);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
