/* spawn_msg.h - the messages between sbxd and a sandbox's spawner.
 *
 * The channel is a SOCK_SEQPACKET socketpair: one message per packet, so a
 * message is never split or merged, and a packet is never larger than
 * SBX_SPAWN_MSG_MAX (a longer one is truncated by the kernel, seen as
 * MSG_TRUNC and refused). Integers are in host byte order: both ends are
 * the same sbxd binary.
 *
 * sbxd -> spawner:
 *   SPAWN   header {type, id, argc, envc}, then argc + envc NUL-terminated
 *           strings back to back (argv, then the complete environment),
 *           nothing else; exactly three descriptors ride along in
 *           SCM_RIGHTS: the command's stdin, stdout and stderr.
 *   RELEASE header {type, id, 0, 0}: sbxd has handled the EXITED of id;
 *           the spawner may now reap it (until then the zombie keeps the
 *           pid from being reused, so sbxd can still kill its tree by pid).
 * spawner -> sbxd, a reply {type, id, value}:
 *   STARTED value = the command's pid, in sbxd's (the host's) PID namespace
 *   FAILED  value = a positive errno; nothing was started
 *   EXITED  value = the wait status (as waitpid() gives it)
 *
 * Every decoder checks the size, the type and every count and length
 * against the bounds below before it touches the payload; the decoded
 * request points into the caller's buffer (no allocation: the spawner may
 * decode in a forked child).
 */
#ifndef SBX_HOST_SPAWN_MSG_H
#define SBX_HOST_SPAWN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define SBX_SPAWN_MSG_MAX  (64u * 1024) /* a whole SPAWN packet */
#define SBX_SPAWN_ARGC_MAX 4096u	/* argv entries */
#define SBX_SPAWN_ENVC_MAX 1024u	/* environment entries */

enum sbxd_spawn_type {
	SBX_SPAWN_SPAWN = 1,
	SBX_SPAWN_RELEASE = 2,
	SBX_SPAWN_STARTED = 3,
	SBX_SPAWN_FAILED = 4,
	SBX_SPAWN_EXITED = 5,
};

struct sbxd_spawn_hdr {
	uint32_t type, id, argc, envc;
};

struct sbxd_spawn_reply {
	uint32_t type, id;
	int32_t value;
};

/* A decoded request; argv and envp point into the decoded buffer and end
 * with NULL. For RELEASE both are empty. */
struct sbxd_spawn_req {
	uint32_t type, id;
	char *argv[SBX_SPAWN_ARGC_MAX + 1];
	char *envp[SBX_SPAWN_ENVC_MAX + 1];
};

/* Appends a SPAWN message for id to out (which the caller owns). argv must
 * be non-empty. 0, -EINVAL (empty argv), -E2BIG (more entries or bytes than
 * the bounds: the caller must use another way), -ENOMEM. */
int sbxd_spawn_msg_encode(struct sbx_buf *out, uint32_t id, char *const *argv, char *const *envp);

/* Fills h with a RELEASE of id. */
void sbxd_spawn_msg_release(struct sbxd_spawn_hdr *h, uint32_t id);

/* Decodes one packet of len bytes in buf (borrowed; strings stay in it).
 * 0, or -EBADMSG for anything malformed (the spawner then stops: only sbxd
 * writes to it, so a bad packet is a bug, never something to guess at). */
int sbxd_spawn_msg_decode(char *buf, size_t len, struct sbxd_spawn_req *ret);

/* Checks one reply packet of len bytes: 0 with *ret, or -EBADMSG (wrong
 * size, unknown type, a pid <= 1, an errno or status out of range). */
int sbxd_spawn_reply_decode(const void *buf, size_t len, struct sbxd_spawn_reply *ret);

#endif
