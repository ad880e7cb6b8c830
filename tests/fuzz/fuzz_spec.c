/* fuzz_spec.c - sbxd's parser of a service's deployment definition
 * (src/host/spec.c), the body of POST /v1/services, arbitrary bytes from a
 * client.
 *
 * The bytes go through the JSON parse of a request body (sbx_json_parse),
 * then sbxd_spec_parse() runs on the body's "definition" member, as
 * POST /v1/services does, and on the body itself; the validation errors are
 * rendered into the reply body as sbxd would send them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/render.h"
#include "host/spec.h"
#include "util/json.h"

static void check(json_object *def)
{
	struct sbxd_verrs errs = {.n = 0};
	struct sbxd_spec spec;
	size_t i;
	int r;

	r = sbxd_spec_parse(def, &spec, &errs);
	if (r == 0) {
		if (errs.n || !spec.name || !spec.image || !spec.argv || !spec.argv[0] ||
		    !spec.env || !spec.itype || !spec.hostname[0])
			abort();
		for (i = 0; spec.env[i]; i++)
			if (!strchr(spec.env[i], '='))
				abort();
		sbxd_spec_getenv(spec.env, "SANDBOX_SECRET");
		sbxd_spec_release(&spec);
	} else if (r == -EINVAL) {
		json_object *o = sbxd_render_field_errors(&errs, "validation error");

		if (!errs.n)
			abort();
		sbx_json_put(o);
	} else if (r != -ENOMEM) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL;

	if (sbx_json_parse((const char *)data, size, &o) < 0)
		return 0;
	check(sbx_json_get(o, "definition"));
	check(o);
	sbx_json_put(o);
	return 0;
}
