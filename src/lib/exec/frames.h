/* frames.h - encoding and decoding of exec WebSocket messages.
 *
 * Pure functions over the JSON shapes of docs/executor-protocol.md §3.2/§3.3. Client
 * frames are the Koyeb CLI's: every frame repeats id, idType and
 * body.command; the first frame carries body.disableTty = true; stdin data is
 * standard base64 with padding, at most SBX_FRAME_STDIN_MAX raw bytes per
 * frame, so that our own messages stay small (§6.1).
 */
#ifndef SBX_EXEC_FRAMES_H
#define SBX_EXEC_FRAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Raw stdin bytes per frame: 32 KiB rounded down to a multiple of 3, so the
 * base64 of consecutive chunks also concatenates to valid base64. */
#define SBX_FRAME_STDIN_MAX (32768 - 32768 % 3)
/* Longest error message kept from an error frame. */
#define SBX_FRAME_MSG_MAX 400

/* Appends the first frame:
 *   {"id":I,"idType":"INSTANCE_ID","body":{"command":[…],"disableTty":true}}
 * 0, -EINVAL (argc 0) or -ENOMEM. */
int sbx_frame_first(struct sbx_buf *out, const char *id, const char *const *argv, size_t argc);
/* Appends the first frame of a command on a terminal of rows x cols (0:
 * no size): as above with "disableTty":false and, with a size,
 * "tty_size":{"height":R,"width":C}. */
int sbx_frame_first_tty(struct sbx_buf *out, const char *id, const char *const *argv, size_t argc,
			unsigned rows, unsigned cols);
/* Appends a terminal resize frame, as the Koyeb CLI sends it (no id):
 *   {"body":{"tty_size":{"height":R,"width":C}}} */
int sbx_frame_resize(struct sbx_buf *out, unsigned rows, unsigned cols);
/* Appends a stdin frame carrying n bytes (n <= SBX_FRAME_STDIN_MAX):
 *   {"id":I,"idType":"INSTANCE_ID","body":{"command":[…],"stdin":{"data":B64}}} */
int sbx_frame_stdin(struct sbx_buf *out, const char *id, const char *const *argv, size_t argc,
		    const void *data, size_t n);
/* Appends the end-of-stdin frame: as above with "stdin":{"close":true}. */
int sbx_frame_stdin_close(struct sbx_buf *out, const char *id, const char *const *argv,
			  size_t argc);

/* One decoded server message. Data from the frame is appended to out/err so
 * a caller can process it before acting on exited (§3.3). */
struct sbx_frame_in {
	struct sbx_buf out; /* decoded result.stdout.data */
	struct sbx_buf err; /* decoded result.stderr.data */
	bool has_code;	    /* result.exit_code was present */
	int exit_code;
	bool exited;			   /* result.exited was true */
	bool is_error;			   /* the message was an error frame */
	int error_code;			   /* error.code (gRPC-style), 2 (UNKNOWN) if absent */
	char error_msg[SBX_FRAME_MSG_MAX]; /* error.message, truncated */
};

/* Decodes one message into f (which must be zeroed, or reset with
 * sbx_frame_in_reset()). Returns 0, or -EPROTO for anything but a JSON
 * object, for a result/stdout/stderr member of the wrong type, for data that
 * is not base64, or for an exit code outside int32; -ENOMEM. A message with
 * neither result nor error is accepted and carries nothing. exited:true with
 * no exit_code means exit code 0 (has_code is then set). */
int sbx_frame_decode(const char *msg, size_t n, struct sbx_frame_in *f);
/* The same with json-c only, without the fast path for output frames that
 * sbx_frame_decode() takes first: the reference the fast path is tested
 * against (same return value and same fields for every input). */
int sbx_frame_decode_json(const char *msg, size_t n, struct sbx_frame_in *f);
void sbx_frame_in_reset(struct sbx_frame_in *f);
void sbx_frame_in_release(struct sbx_frame_in *f);

/* Maps an error frame's gRPC code to a negative errno: 5 → -SBX_ENOTFOUND,
 * 16 → -SBX_EAUTH, 7 → -SBX_EPERM, 9 and 14 → -SBX_ENOTHEALTHY,
 * 4 → -SBX_ETIMEDOUT, anything else → -SBX_EIO. */
int sbx_frame_grpc_errno(int code);

#endif
