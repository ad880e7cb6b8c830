/* fuzz_exec_frames.c - libsbx's decoder of the exec messages a server sends
 * (src/lib/exec/frames.c): {"result":{"stdout":{"data":B64},…}} and
 * {"error":{…}}, arbitrary bytes from the network.
 *
 * Each input is decoded twice into the same struct (as the exec loop reuses
 * it after sbx_frame_in_reset()), and the decoded fields must keep the
 * contract of frames.h. It is also decoded by json-c alone
 * (sbx_frame_decode_json()), which must agree with sbx_frame_decode() and
 * its fast path for output frames in the return value and every field.
 * Last, the input as base64: the strict decoder (sbx_b64_decode_raw()) must
 * accept exactly what the lenient one accepts when there is no whitespace,
 * with the same bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/frames.h"
#include "util/b64.h"

static int same_buf(const struct sbx_buf *a, const struct sbx_buf *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

static void check_same(const struct sbx_frame_in *a, const struct sbx_frame_in *b)
{
	if (!same_buf(&a->out, &b->out) || !same_buf(&a->err, &b->err) ||
	    a->has_code != b->has_code || a->exit_code != b->exit_code || a->exited != b->exited ||
	    a->is_error != b->is_error || a->error_code != b->error_code ||
	    strcmp(a->error_msg, b->error_msg))
		abort();
}

static void check_b64(const uint8_t *data, size_t size)
{
	struct sbx_buf lenient = SBX_BUF_INIT;
	unsigned char *raw = malloc(sbx_b64_decoded_max(size));
	int spaces = 0, r;
	long got;
	size_t i;

	if (!raw)
		return;
	for (i = 0; i < size; i++)
		spaces |= strchr(" \t\n\v\f\r", data[i]) && data[i];
	r = sbx_b64_decode(&lenient, (const char *)data, size);
	got = sbx_b64_decode_raw(raw, (const char *)data, size);
	if (got > (long)sbx_b64_decoded_max(size) || (got < 0 && got != -EINVAL))
		abort();
	if (!spaces && r != -ENOMEM &&
	    ((r == 0) != (got >= 0) ||
	     (got >= 0 &&
	      ((size_t)got != lenient.len || (got && memcmp(raw, lenient.data, (size_t)got))))))
		abort();
	sbx_buf_release(&lenient);
	free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_frame_in f, ref;
	int pass, r, rr;

	memset(&f, 0, sizeof(f));
	memset(&ref, 0, sizeof(ref));
	for (pass = 0; pass < 2; pass++) {
		sbx_frame_in_reset(&f);
		r = sbx_frame_decode((const char *)data, size, &f);
		if (r < 0 && r != -EPROTO && r != -ENOMEM)
			abort();
		if (r == 0 && f.is_error) {
			if (f.error_code < 0 ||
			    strnlen(f.error_msg, sizeof(f.error_msg)) == sizeof(f.error_msg))
				abort();
			sbx_frame_grpc_errno(f.error_code);
		}
		if (r == 0 && f.exited && !f.has_code)
			abort();
		/* decoded base64 is at most 3/4 of the input */
		if (f.out.len + f.err.len > size)
			abort();
	}
	rr = sbx_frame_decode_json((const char *)data, size, &ref);
	if (r != -ENOMEM && rr != -ENOMEM) {
		if (r != rr)
			abort();
		if (r == 0)
			check_same(&f, &ref);
	}
	sbx_frame_in_release(&f);
	sbx_frame_in_release(&ref);
	check_b64(data, size);
	return 0;
}
