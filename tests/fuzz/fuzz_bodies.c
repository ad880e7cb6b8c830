/* fuzz_bodies.c - libsbx's parsers of REST replies (src/lib/api/bodies.c)
 * on arbitrary bytes from the control plane.
 *
 * The bytes go through the same JSON parse as a reply (sbx_json_parse), then
 * through every reply parser, and through sbx_parse_service() for each
 * element of a services page, as sbx_sandbox_list() does. A parsed id must
 * be one sbx_id_valid() accepts: it is pasted into URLs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "util/json.h"

static void check_id(const char *id, bool may_be_empty)
{
	if (!id || (!*id && !may_be_empty) || (*id && !sbx_id_valid(id)))
		abort();
}

static void services(json_object *o)
{
	struct sbx_service_info s;
	json_object *arr;
	size_t n, i;
	bool more;

	if (sbx_parse_services_page(o, 100, &arr, &n, &more) < 0 || !arr)
		return;
	for (i = 0; i < n && i < 1000; i++) {
		if (sbx_parse_service(json_object_array_get_idx(arr, i), &s) == 0) {
			check_id(s.id, false);
			check_id(s.app_id, true);
			check_id(s.latest_deployment_id, true);
			sbx_service_info_release(&s);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_service_info s;
	struct sbx_deploy_info d;
	enum sbx_status st;
	json_object *o = NULL;
	char *id = NULL;

	if (sbx_json_parse((const char *)data, size, &o) < 0)
		return 0;
	if (sbx_parse_app_reply(o, &id) == 0) {
		check_id(id, false);
		free(id);
	}
	id = NULL;
	if (sbx_parse_scaling_reply(o, &id) == 0 && id)
		check_id(id, false);
	free(id);
	if (sbx_parse_service_reply(o, &s) == 0) {
		check_id(s.id, false);
		sbx_service_info_release(&s);
	}
	sbx_parse_instance_reply(o, &st);
	if (sbx_parse_deployment_reply(o, &d) == 0) {
		if (!d.image || !d.instance_type || !d.region || !d.secret || !d.name)
			abort();
		sbx_deploy_info_release(&d);
	}
	services(o);
	sbx_json_put(o);
	return 0;
}
