/* sandbox_list.c - sbx_sandbox_list(): the account's sandboxes.
 *
 * Pages through GET /v1/services?limit=100&offset=N (at most LIST_MAX_PAGES
 * pages) and keeps the services that are sandboxes: named
 * "sandbox-service-<name>" (ours and the early SDK's) or of type SANDBOX
 * (the current SDKs, which name the service after the sandbox).
 */
#include "sbx/sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/rest.h"

#define LIST_PAGE      100
#define LIST_MAX_PAGES 1000

void sbx_sandbox_info_free(struct sbx_sandbox_info *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].id);
		free(v[i].name);
		free(v[i].app_id);
		free(v[i].status);
		free(v[i].created_at);
	}
	free(v);
}

/* Appends the sandboxes of one page to *v. */
static int collect_page(json_object *arr, size_t n, struct sbx_sandbox_info **v, size_t *nv)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct sbx_service_info s = {0};
		struct sbx_sandbox_info *nvv, *e;
		const char *name;

		if (sbx_parse_service(json_object_array_get_idx(arr, i), &s) < 0)
			continue;
		name = sbx_service_sandbox_name(&s);
		if (!name) {
			sbx_service_info_release(&s);
			continue;
		}
		nvv = realloc(*v, (*nv + 1) * sizeof(**v));
		if (!nvv) {
			sbx_service_info_release(&s);
			return -ENOMEM;
		}
		*v = nvv;
		e = &nvv[(*nv)++];
		e->id = s.id;
		e->name = strdup(name);
		e->app_id = s.app_id;
		e->status = s.status;
		e->created_at = s.created_at;
		free(s.name);
		free(s.latest_deployment_id);
		free(s.type);
		if (!e->name)
			return -ENOMEM;
	}
	return 0;
}

int sbx_sandbox_list(struct sbx_client *c, struct sbx_sandbox_info **ret, size_t *n,
		     struct sbx_err *err)
{
	struct sbx_sandbox_info *v = NULL;
	size_t nv = 0, page, cnt;
	bool more = true;
	int r = 0;

	for (page = 0; more && page < LIST_MAX_PAGES; page++) {
		char path[96];
		json_object *o = NULL, *arr;

		snprintf(path, sizeof(path), "/v1/services?limit=%d&offset=%zu", LIST_PAGE,
			 page * LIST_PAGE);
		r = sbx_rest_call(c, "GET", path, NULL, &o, err);
		if (r < 0)
			break;
		r = sbx_parse_services_page(o, LIST_PAGE, &arr, &cnt, &more);
		if (r < 0)
			r = sbx_err_set(err, -SBX_EPROTO, 0,
					"unexpected reply to GET /v1/services");
		else if ((r = collect_page(arr, cnt, &v, &nv)) < 0)
			sbx_err_set(err, r, 0, "out of memory");
		sbx_json_put(o);
		if (r < 0 || cnt == 0)
			break;
	}
	if (r < 0) {
		sbx_sandbox_info_free(v, nv);
		return r;
	}
	*ret = v;
	*n = nv;
	return 0;
}
