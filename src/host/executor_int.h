/* executor_int.h - what the executor's files share (executor.c: routing,
 * auth, files; executor_run.c: /run and /run_streaming; executor_proc.c:
 * background processes; portfwd.c: ports). Not for use elsewhere. */
#ifndef SBX_HOST_EXECUTOR_INT_H
#define SBX_HOST_EXECUTOR_INT_H

#include "host/executor.h"
#include "util/buf.h"

#define XEC_MAX_ENV	   256
#define XEC_MAX_LINE	   (1u << 20)  /* an output line past it is split */
#define XEC_MAX_RUN_OUTPUT (16u << 20) /* per stream of /run; the rest is dropped */
#define XEC_HIGH_WATER	   (1u << 20)  /* a stream's queue that pauses its command */

struct xproc;
struct sbxd_portfwd;

/* Executor state of sbxd (d->executor), made on first use. */
struct sbxd_executor {
	struct xproc *procs; /* background processes of every sandbox */
	size_t nprocs;
	struct sbxd_portfwd *fwds;
};

/* One request to an executor endpoint. */
struct xcall {
	struct sbxd *d;
	struct sbxd_svc *v;
	struct sbxd_http_conn *c;
	const struct sbxd_http_req *req;
	const char *body;
	size_t len;
	struct sbxd_http_resp *resp;
};

/* A parsed {"cmd","cwd","env"}. */
struct xcmdreq {
	char *cmd, *cwd; /* owned; cwd NULL when absent or "" */
	char **env;	 /* owned "K=V", NULL-terminated, or NULL */
};

struct sbxd_executor *xec_get(struct sbxd *d);

/* A text/plain reply as Go's http.Error writes it (text plus newline). */
void xec_text(struct xcall *k, int status, const char *text);
/* A JSON reply (body given as text). */
void xec_json(struct xcall *k, int status, const char *json);
/* The body as a JSON object, or NULL with 400 "Invalid request" set. */
json_object *xec_body(struct xcall *k);
/* Fills r from the body: 0, or -EINVAL with the 400 set ("Invalid request",
 * "Command is required"). */
int xec_cmdreq(struct xcall *k, struct xcmdreq *r);
void xec_cmdreq_release(struct xcmdreq *r);
/* argv for sh -c cmd (in cwd when set). Owned array, borrowed strings. */
char **xec_argv(const struct xcmdreq *r);
/* "2026-12-02T03:40:00.123456789Z" */
void xec_timestamp(char out[40]);

void xec_run(struct xcall *k, bool streaming, int *ret);
void xec_start_process(struct xcall *k, int *ret);
void xec_list_processes(struct xcall *k);
void xec_kill_process(struct xcall *k);
void xec_process_logs(struct xcall *k, int *ret);
void xec_bind_port(struct xcall *k);
void xec_unbind_port(struct xcall *k);
void xec_procs_forget(struct sbxd *d, const char *svc_id);
void xec_procs_free(struct sbxd *d);

/* portfwd.c: the sandbox's proxy port on the host, opened on first use.
 * > 0, or -errno. */
int sbxd_portfwd_port(struct sbxd *d, struct sbxd_svc *v);
void sbxd_portfwd_forget(struct sbxd *d, const char *svc_id);
void sbxd_portfwd_free_all(struct sbxd *d);

#endif
