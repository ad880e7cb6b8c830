/* spawn_msg.c - see spawn_msg.h. */
#include "host/runtime/spawn_msg.h"

#include <errno.h>
#include <string.h>

static size_t count(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static int put_strings(struct sbx_buf *out, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sbx_buf_append(out, v[i], strlen(v[i]) + 1) < 0)
			return -ENOMEM;
	return 0;
}

int sbxd_spawn_msg_encode(struct sbx_buf *out, uint32_t id, char *const *argv, char *const *envp)
{
	size_t argc = count(argv), envc = count(envp), start = out->len,
	       bytes = sizeof(struct sbxd_spawn_hdr), i;
	struct sbxd_spawn_hdr h = {SBX_SPAWN_SPAWN, id, (uint32_t)argc, (uint32_t)envc};

	if (argc == 0)
		return -EINVAL;
	if (argc > SBX_SPAWN_ARGC_MAX || envc > SBX_SPAWN_ENVC_MAX)
		return -E2BIG;
	for (i = 0; i < argc && bytes <= SBX_SPAWN_MSG_MAX; i++)
		bytes += strlen(argv[i]) + 1;
	for (i = 0; i < envc && bytes <= SBX_SPAWN_MSG_MAX; i++)
		bytes += strlen(envp[i]) + 1;
	if (bytes > SBX_SPAWN_MSG_MAX)
		return -E2BIG;
	if (sbx_buf_append(out, &h, sizeof(h)) < 0 || put_strings(out, argv, argc) < 0 ||
	    put_strings(out, envp, envc) < 0) {
		out->len = start;
		return -ENOMEM;
	}
	return 0;
}

void sbxd_spawn_msg_release(struct sbxd_spawn_hdr *h, uint32_t id)
{
	memset(h, 0, sizeof(*h));
	h->type = SBX_SPAWN_RELEASE;
	h->id = id;
}

/* Points v[0..n-1] at n NUL-terminated strings from *p, not past end. */
static int take_strings(char **p, const char *end, char **v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		char *nul = memchr(*p, '\0', (size_t)(end - *p));

		if (!nul)
			return -EBADMSG;
		v[i] = *p;
		*p = nul + 1;
	}
	v[n] = NULL;
	return 0;
}

int sbxd_spawn_msg_decode(char *buf, size_t len, struct sbxd_spawn_req *ret)
{
	struct sbxd_spawn_hdr h;
	char *p = buf + sizeof(h), *end = buf + len;

	if (len < sizeof(h) || len > SBX_SPAWN_MSG_MAX)
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	ret->type = h.type;
	ret->id = h.id;
	ret->argv[0] = ret->envp[0] = NULL;
	if (h.type == SBX_SPAWN_RELEASE)
		return len == sizeof(h) && h.argc == 0 && h.envc == 0 ? 0 : -EBADMSG;
	if (h.type != SBX_SPAWN_SPAWN || h.argc == 0 || h.argc > SBX_SPAWN_ARGC_MAX ||
	    h.envc > SBX_SPAWN_ENVC_MAX)
		return -EBADMSG;
	if (take_strings(&p, end, ret->argv, h.argc) < 0 ||
	    take_strings(&p, end, ret->envp, h.envc) < 0 || p != end) {
		ret->argv[0] = ret->envp[0] = NULL;
		return -EBADMSG;
	}
	return 0;
}

int sbxd_spawn_reply_decode(const void *buf, size_t len, struct sbxd_spawn_reply *ret)
{
	struct sbxd_spawn_reply r;

	if (len != sizeof(r))
		return -EBADMSG;
	memcpy(&r, buf, sizeof(r));
	switch (r.type) {
	case SBX_SPAWN_STARTED:
		if (r.value <= 1)
			return -EBADMSG;
		break;
	case SBX_SPAWN_FAILED:
		if (r.value <= 0 || r.value > 4095)
			return -EBADMSG;
		break;
	case SBX_SPAWN_EXITED:
		if (r.value < 0 || r.value > 0xffff)
			return -EBADMSG;
		break;
	default: return -EBADMSG;
	}
	*ret = r;
	return 0;
}
