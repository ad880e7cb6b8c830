/* exec_msg.h - decoding of what a client sends on the exec WebSocket
 * (docs/executor-protocol.md section 3.2); pure functions, no I/O.
 *
 * A message is one JSON object. id with idType (or id_type) names the
 * target, "INSTANCE_ID" or "SERVICE_ID"; body.command is the argv (used
 * from the first message only); body.stdin.data carries stdin bytes as
 * standard base64; body.stdin.close: true ends stdin. Unknown members are
 * ignored, as are members of the wrong type (apart from body.command, which
 * must then be valid). body.disableTty: false asks for a terminal (absent
 * means none, as the SDKs expect); body.tty_size.height/.width size it.
 *
 * Ownership: a parsed message owns its JSON tree; every string it hands out
 * is borrowed from it, or from the bytes it was parsed from (stdin_b64 of a
 * stdin frame in libsbx's shape, decoded at once), and lives until
 * sbxd_exec_msg_release() and while those bytes do.
 */
#ifndef SBX_HOST_EXEC_MSG_H
#define SBX_HOST_EXEC_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/json.h"

/* Most arguments a command may have. */
#define SBXD_EXEC_MAX_ARGC 4096

struct sbxd_exec_msg {
	json_object *root;     /* owned */
	const char *id;	       /* "id" when a string, else NULL */
	const char *id_type;   /* "idType", else "id_type", when a string, else NULL */
	const char *stdin_b64; /* body.stdin.data when a string, else NULL */
	size_t stdin_b64_len;
	bool stdin_close;	    /* body.stdin.close is true */
	bool want_tty;		    /* body.disableTty is present and false */
	unsigned rows, cols;	    /* body.tty_size, when both are in 1..65535; else 0 */
	bool stdin_decoded;	    /* stdin_b64 is already decoded into stdin_bytes */
	struct sbx_buf stdin_bytes; /* owned */
};

/* Decodes one message of len bytes. 0 with *ret filled (release it), or
 * -EINVAL when it is not one JSON object (*ret is then empty). */
int sbxd_exec_msg_parse(const void *data, size_t len, struct sbxd_exec_msg *ret);
/* The same with json-c over the whole message, without the fast path for
 * libsbx's stdin frames that sbxd_exec_msg_parse() takes first: the
 * reference that path is tested against (same result, same fields, same
 * stdin bytes for every input). */
int sbxd_exec_msg_parse_json(const void *data, size_t len, struct sbxd_exec_msg *ret);
/* Frees the tree; accepts a zeroed or released message. */
void sbxd_exec_msg_release(struct sbxd_exec_msg *m);

/* Which sandbox the message names: its own id when it has a non-empty one
 * (a service id when idType is "SERVICE_ID", else an instance id; with no
 * idType, an instance id), else qid from the URL query with q_is_service
 * (idType, when given, still decides). false when there is no id at all.
 * *ret_id is borrowed from m or is qid. */
bool sbxd_exec_msg_target(const struct sbxd_exec_msg *m, const char *qid, bool q_is_service,
			  const char **ret_id, bool *ret_by_service);

/* body.command as a NULL-terminated argv of strings borrowed from m; the
 * caller frees the array only. NULL when it is absent, not an array of 1 to
 * SBXD_EXEC_MAX_ARGC strings, when a string holds a NUL or the first is
 * empty, or when out of memory. */
char **sbxd_exec_msg_argv(const struct sbxd_exec_msg *m);

/* Appends the decoded body.stdin.data to out (nothing when absent). 0,
 * -EINVAL when it is not base64 (out may then hold part of it), -ENOMEM. */
int sbxd_exec_msg_stdin(const struct sbxd_exec_msg *m, struct sbx_buf *out);

#endif
