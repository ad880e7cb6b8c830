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

/* Fills the fields of m from its tree (m->root, an object). */
static void read_fields(struct sbxd_exec_msg *m)
{
	json_object *v;

	m->id = sbx_json_str(m->root, "id");
	m->id_type = sbx_json_str(m->root, "idType");
	if (!m->id_type)
		m->id_type = sbx_json_str(m->root, "id_type");
	v = sbx_json_get(m->root, "body.stdin.data");
	if (v && json_object_is_type(v, json_type_string)) {
		m->stdin_b64 = json_object_get_string(v);
		m->stdin_b64_len = (size_t)json_object_get_string_len(v);
	}
	m->stdin_close = sbx_json_bool(m->root, "body.stdin.close", false);
	v = sbx_json_get(m->root, "body.disableTty");
	m->want_tty = v && json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v);
	tty_size(m->root, &m->rows, &m->cols);
}

int sbxd_exec_msg_parse_json(const void *data, size_t len, struct sbxd_exec_msg *ret)
{
	struct sbxd_exec_msg m = {.root = NULL};

	memset(ret, 0, sizeof(*ret));
	if (sbx_json_parse(data, len, &m.root) < 0)
		return -EINVAL;
	if (!json_object_is_type(m.root, json_type_object)) {
		sbx_json_put(m.root);
		return -EINVAL;
	}
	read_fields(&m);
	*ret = m;
	return 0;
}

/* true when o.stdin.data is an empty string */
static bool empty_stdin(json_object *o)
{
	json_object *st, *d;

	return json_object_is_type(o, json_type_object) &&
	       json_object_object_get_ex(o, "stdin", &st) &&
	       json_object_is_type(st, json_type_object) &&
	       json_object_object_get_ex(st, "data", &d) &&
	       json_object_is_type(d, json_type_string) && !json_object_get_string_len(d);
}

/* The tree of s with the string between q0 and q1 (its quotes) read as "".
 * NULL unless that is one JSON object ending exactly at n. */
static json_object *parse_without(const char *s, size_t n, size_t q0, size_t q1)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = NULL;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, s, (int)q0 + 1);
	if (!o && json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, s + q1, (int)(n - q1));
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  json_tokener_get_parse_end(tok) != n - q1 ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* The stdin frames of a bulk upload, as libsbx writes them: stdin last,
 *   {…,"body":{…,"stdin":{"data":"B64"}}}
 * parsed with the base64 string skipped by json-c and decoded strictly,
 * straight from the message. A JSON tokenizer pass over the whole string
 * was a third of sbxd's CPU time in a large upload. Returns 1 when m is
 * filled, 0 when s is anything else (the caller parses it whole; the
 * result is the same for every message this takes), -ENOMEM.
 *
 * Why that is the same: the string ends the message ("}}} after it), so
 * nothing after it can override its key; the quote before "stdin" follows
 * a comma, so it is structural; and the string is body's only when root
 * has no other member with an empty stdin.data once it is read as "". */
static int parse_fast(const char *s, size_t n, struct sbxd_exec_msg *m)
{
	static const char lead[] = ",\"stdin\":{\"data\":\"";
	const size_t ll = sizeof(lead) - 1;
	const char *open;
	size_t q0, q1;
	long got;

	if (n < ll + 4 || n > SBX_JSON_MAX || memcmp(s + n - 4, "\"}}}", 4))
		return 0;
	q1 = n - 4;
	open = memrchr(s, '"', q1);
	if (!open || (size_t)(open - s) < ll - 1 || memcmp(open - (ll - 1), lead, ll))
		return 0;
	q0 = (size_t)(open - s);
	if (sbx_buf_reserve(&m->stdin_bytes, sbx_b64_decoded_max(q1 - q0 - 1)) < 0)
		return -ENOMEM;
	got = sbx_b64_decode_raw(m->stdin_bytes.data, s + q0 + 1, q1 - q0 - 1);
	if (got < 0)
		return 0; /* an escape, whitespace or worse: json-c decides */
	m->stdin_bytes.len = (size_t)got;
	m->stdin_bytes.data[got] = '\0';
	m->root = parse_without(s, n, q0, q1);
	if (!m->root)
		return 0;
	json_object_object_foreach(m->root, key, val)
	{
		if (strcmp(key, "body") ? empty_stdin(val) : !empty_stdin(val))
			return 0;
	}
	read_fields(m);
	m->stdin_b64 = s + q0 + 1;
	m->stdin_b64_len = q1 - q0 - 1;
	m->stdin_decoded = true;
	return 1;
}

int sbxd_exec_msg_parse(const void *data, size_t len, struct sbxd_exec_msg *ret)
{
	struct sbxd_exec_msg m = {.root = NULL};
	int r;

	memset(ret, 0, sizeof(*ret));
	r = parse_fast(data, len, &m);
	if (r > 0) {
		*ret = m;
		return 0;
	}
	sbxd_exec_msg_release(&m);
	return r < 0 ? r : sbxd_exec_msg_parse_json(data, len, ret);
}

void sbxd_exec_msg_release(struct sbxd_exec_msg *m)
{
	if (!m)
		return;
	sbx_json_put(m->root);
	sbx_buf_release(&m->stdin_bytes);
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
	if (m->stdin_decoded)
		return sbx_buf_append(out, m->stdin_bytes.data, m->stdin_bytes.len);
	return sbx_b64_decode(out, m->stdin_b64, m->stdin_b64_len);
}
