/* req.h - one request of the sbx-agent protocol, decoded.
 *
 * agent_req_decode() turns a frame's type and payload into a struct
 * agent_req and makes no system call, so the fuzzer (tests/fuzz/
 * fuzz_agent_frames.c) can drive it alone. It never reads outside the
 * payload; every string it keeps is NUL-terminated and within its bound.
 */
#ifndef SBX_AGENT_REQ_H
#define SBX_AGENT_REQ_H

#include "proto.h"

/** A credential block: the filesystem ids and groups of one request. */
struct agent_cred {
	uint32_t uid, gid, ngroups; /**< uid SBXA_ID_SELF: the agent's own */
	uint32_t groups[SBXA_GROUPS_MAX];
};

/** One decoded request. Which fields are set depends on op (see proto.h). */
struct agent_req {
	uint32_t id;
	uint16_t op;
	/** 0; -EPROTO (malformed payload), -EINVAL (a relative path),
	 * -ENAMETOOLONG (a path past SBXA_LONGPATH_MAX), -ENOSYS (an unknown
	 * op). When not 0 no other field may be used. */
	int err;
	struct agent_cred cred;
	char path[SBXA_LONGPATH_MAX + 1];
	char path2[SBXA_LONGPATH_MAX + 1]; /**< RENAME/LINK: the second path; SYMLINK: target */
	char name[SBXA_NAME_MAX + 1];	   /**< xattr name */
	uint32_t handle, mode, flags;
	uint32_t num;  /**< HELLO magic, WATCH/UNWATCH wd, job id, xattr size, datasync */
	uint32_t num2; /**< HELLO version, JOB_SIGNAL signal */
	uint64_t off, len, rdev;
	struct sbxa_setattr sa;
	struct sbxa_validator val;
	const uint8_t *data; /**< PWRITE/JOB_STDIN bytes, SETXATTR value: borrowed from the frame */
	size_t data_len;
	/** JOB_START: NULL-terminated arrays into strs; cwd is in path ("/"
	 * when the wire's was empty). Owned: agent_req_release(). */
	char **argv, **envp;
	char *strs;
};

/** Decodes one request frame into q (its earlier contents released). The
 * payload p is borrowed: data points into it. Sets q->err; returns it. */
int agent_req_decode(struct agent_req *q, uint32_t id, uint16_t type, const uint8_t *p, size_t n);

/** Frees what a decode allocated (argv, envp, strs). Accepts a zeroed q. */
void agent_req_release(struct agent_req *q);

#endif
