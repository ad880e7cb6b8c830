/* exec_msg.c - the exec WebSocket's client messages; see exec_msg.h.
 *
 * Kept apart from exec.c (sessions, processes, the event loop) so that the
 * decoding of bytes a client controls can be tested and fuzzed alone.
 */
#include "host/exec_msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64.h"

/* body.tty_size: both sides or neither, each in 1..65535 */
static void tty_size(json_object *root, unsigned *rows, unsigned *cols)
{
	json_object *h = sbx_json_get(root, "body.tty_size.height");
	json_object *w = sbx_json_get(root, "body.tty_size.width");
	int64_t hv, wv;

	*rows = *cols = 0;
	if (!h || !w || !json_object_is_type(h, json_type_int) ||
	    !json_object_is_type(w, json_type_int))
		return;
	hv = json_object_get_int64(h);
	wv = json_object_get_int64(w);
	if (hv < 1 || hv > 65535 || wv < 1 || wv > 65535)
		return;
	*rows = (unsigned)hv;
	*cols = (unsigned)wv;
}

int sbxd_exec_msg_parse(const void *data, size_t len, struct sbxd_exec_msg *ret)
{
	struct sbxd_exec_msg m = {.root = NULL};
	json_object *v;

	memset(ret, 0, sizeof(*ret));
	if (sbx_json_parse(data, len, &m.root) < 0)
		return -EINVAL;
	if (!json_object_is_type(m.root, json_type_object)) {
		sbx_json_put(m.root);
		return -EINVAL;
	}
	m.id = sbx_json_str(m.root, "id");
	m.id_type = sbx_json_str(m.root, "idType");
	if (!m.id_type)
		m.id_type = sbx_json_str(m.root, "id_type");
	v = sbx_json_get(m.root, "body.stdin.data");
	if (v && json_object_is_type(v, json_type_string)) {
		m.stdin_b64 = json_object_get_string(v);
		m.stdin_b64_len = (size_t)json_object_get_string_len(v);
	}
	m.stdin_close = sbx_json_bool(m.root, "body.stdin.close", false);
	v = sbx_json_get(m.root, "body.disableTty");
	m.want_tty = v && json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v);
	tty_size(m.root, &m.rows, &m.cols);
	*ret = m;
	return 0;
}

void sbxd_exec_msg_release(struct sbxd_exec_msg *m)
{
	if (!m)
		return;
	sbx_json_put(m->root);
	memset(m, 0, sizeof(*m));
}

bool sbxd_exec_msg_target(const struct sbxd_exec_msg *m, const char *qid, bool q_is_service,
			  const char **ret_id, bool *ret_by_service)
{
	const char *id = m->id;
	bool by_service = q_is_service;

	if (!id || !*id)
		id = qid;
	else if (!m->id_type)
		by_service = false;
	if (m->id_type)
		by_service = !strcmp(m->id_type, "SERVICE_ID");
	if (!id || !*id)
		return false;
	*ret_id = id;
	*ret_by_service = by_service;
	return true;
}

char **sbxd_exec_msg_argv(const struct sbxd_exec_msg *m)
{
	json_object *cmd = sbx_json_get(m->root, "body.command");
	size_t n, i;
	char **argv;

	if (!cmd || !json_object_is_type(cmd, json_type_array))
		return NULL;
	n = json_object_array_length(cmd);
	if (!n || n > SBXD_EXEC_MAX_ARGC)
		return NULL;
	argv = calloc(n + 1, sizeof(char *));
	for (i = 0; argv && i < n; i++) {
		json_object *a = json_object_array_get_idx(cmd, i);

		if (!json_object_is_type(a, json_type_string) ||
		    strlen(json_object_get_string(a)) != (size_t)json_object_get_string_len(a) ||
		    (i == 0 && !json_object_get_string_len(a))) {
			free(argv);
			return NULL;
		}
		argv[i] = (char *)json_object_get_string(a);
	}
	return argv;
}

int sbxd_exec_msg_stdin(const struct sbxd_exec_msg *m, struct sbx_buf *out)
{
	if (!m->stdin_b64)
		return 0;
	return sbx_b64_decode(out, m->stdin_b64, m->stdin_b64_len);
}
