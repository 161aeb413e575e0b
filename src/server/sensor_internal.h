/* State shared by the files of the sensor endpoints (sensor_alert.c,
 * sensor_revoke.c, sensor_tokens.c). Not part of the public interface. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/server_internal.h"

/* Maximum selectors of a revocation request (the agent's default ceiling
 * of one workload's set), and maximum entries of one node it may match. */
#define SENSOR_MAX_SELECTORS 1024
#define SENSOR_MAX_MATCHED 1024

/* Maximum length of a revocation request's rule name, in bytes. */
#define SENSOR_RULE_MAX 1024

/* A parsed POST /v1/sensor/revoke body; strings borrow from the JSON. */
struct sensor_revoke_request {
	int64_t pid;
	const char **selectors;      /* malloc'd array, sorted with strcmp */
	size_t selector_count;
	const char *rule;            /* may be NULL */
	const char *reason;          /* may be NULL */
	const char *agent_id;        /* may be NULL; required on the admin socket */
};

/* One revocation in progress and what it changed so far. */
struct sensor_revocation {
	const struct sensor_revoke_request *request;
	const char *actor;
	char agent_id[SPIFFE_ID_MAX_LEN + 1];   /* the node, canonical */
	struct registry_entry **own;            /* matched entries with parent agent_id */
	size_t own_count;
	json_t *entries;     /* [{id, spiffe_id, parent_id}] of own */
	json_t *shared;      /* matched entries other nodes share, left alone */
	json_t *serials;     /* revoked serials, hex */
	json_t *accessors;   /* accessors of revoked tokens (kept out of the reply) */
	json_t *leases;      /* revoked lease ids */
};

/* SPIRE's matching rule over plain strings: every selector of the entry is
 * in sorted (strcmp order); no entry selectors match nothing. */
bool sensor_selectors_subset(char *const *entry_selectors, size_t entry_count,
	const char *const *sorted, size_t count);

/* Revokes the secrets tokens that the workloads of revocation->own got by
 * logging in with their SVIDs, and the leases of those tokens; audits each
 * token and lease. WD_EUNAVAILABLE while the secrets service is sealed. */
WD_MUST_CHECK int sensor_revoke_tokens(struct server_ctx *ctx,
	struct sensor_revocation *revocation, struct wd_error *err);

/* True when text is the SPIFFE ID of a node agent of the server's trust
 * domain. */
bool sensor_is_agent_id(const struct server_ctx *ctx, const char *text);
