/* Internal interface of the seal endpoints: the status shapes that
 * sys/unseal, sys/seal-status and sys/health return (sys_seal_status.c)
 * and the choice of the sys/health status code (sys_health.c). Only
 * sys_seal*.c and sys_health.c include this. */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/secrets_internal.h"

/* Barrier path of the cluster's name and id, {"name","id"}. */
#define SYS_CLUSTER_PATH "core/cluster"

struct sys_cluster {
	char name[64];   /* "vault-cluster-1a2b3c4d" */
	char id[37];     /* UUID */
};

/* Loads the cluster name and id from the unsealed barrier, creating them
 * on first use as Vault does at its first unseal. */
WD_MUST_CHECK int sys_cluster_identity(struct secrets *secrets, struct sys_cluster *ret_cluster,
	struct wd_error *err);

/* Returns the version string the seal endpoints report: "warden-0.1.0". */
const char *sys_seal_version(void);

/* Builds Vault's seal-status object (type, initialized, sealed, t, n,
 * progress, nonce, version, build_date, migration, recovery_seal,
 * storage_type, and cluster_name and cluster_id when unsealed). */
WD_MUST_CHECK int sys_seal_status_json(struct secrets *secrets, json_t **ret_status,
	struct wd_error *err);

/* Returns a query parameter of the request, or NULL. */
typedef const char *(*sys_query_fn)(void *context, const char *name);

/* Picks the sys/health status as Vault does: 200 active, 501 not
 * initialized, 503 sealed, each replaced by the activecode, uninitcode and
 * sealedcode query parameters. standbyok, perfstandbyok and the standby
 * codes are checked for syntax only, since warden has no standby nodes.
 * WD_EINVAL naming a parameter that is not a status code (200 to 599) or
 * a boolean. */
WD_MUST_CHECK int sys_health_code(bool initialized, bool sealed, sys_query_fn query,
	void *context, int *ret_code, struct wd_error *err);

/* Serves GET and HEAD sys/health. */
WD_MUST_CHECK int sys_health_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);
