/* spec.h - a service's deployment definition, validated (pure functions).
 *
 * POST /v1/services carries a Koyeb DeploymentDefinition (docs/executor-protocol.md
 * 2.3). sbxd keeps the JSON as posted (clients read it back) and derives the
 * runtime spec from it here. Unknown members are ignored; integers are read
 * leniently (number or digit string).
 *
 * Limits on what a client may ask for: name <= 128 bytes, image <= 512
 * bytes, at most 256 env entries (key <= 256, value <= 64 KiB), command +
 * args at most 1024 strings of at most 64 KiB each.
 */
#ifndef SBX_HOST_SPEC_H
#define SBX_HOST_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "util/json.h"

struct sbxd_itype {
	const char *name;
	uint64_t memory; /* bytes */
	int cpu_milli;	 /* 1000 = one core */
	int pids;
	uint64_t disk; /* bytes: the sandbox's disk (runtime/disk.h) */
};

/* The instance type called name, or NULL. */
const struct sbxd_itype *sbxd_itype_find(const char *name);
/* The table (NULL-named entry at the end). */
const struct sbxd_itype *sbxd_itype_table(void);

#define SBX_VERR_MAX 8

struct sbxd_verr {
	char field[64];
	char description[192];
};

struct sbxd_verrs {
	struct sbxd_verr e[SBX_VERR_MAX];
	size_t n;
};

/* Records one validation error (silently dropped past SBX_VERR_MAX). */
void sbxd_verr_add(struct sbxd_verrs *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct sbxd_spec {
	char *name;  /* definition.name */
	char *image; /* definition.docker.image */
	char **argv; /* NULL-terminated; entrypoint + command + args, or
		      * "sleep infinity" when the definition gives none */
	char **env;  /* NULL-terminated "KEY=VALUE" list of definition.env */
	const struct sbxd_itype *itype;
	char region[16];   /* first of definition.regions, default "eu" */
	char type[16];	   /* service type: WEB, WORKER, DATABASE or SANDBOX */
	char hostname[64]; /* derived from name: [a-z0-9-], at most 63 */
};

/* Fills spec from a definition object (borrowed). 0; -EINVAL with errs
 * filled (fields named "definition.xxx"); -ENOMEM. On failure spec is left
 * released. */
int sbxd_spec_parse(json_object *def, struct sbxd_spec *spec, struct sbxd_verrs *errs);
void sbxd_spec_release(struct sbxd_spec *spec);

/* Value of KEY in a "KEY=VALUE" list, or NULL. */
const char *sbxd_spec_getenv(char *const *env, const char *key);

#endif
