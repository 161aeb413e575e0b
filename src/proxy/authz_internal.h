/* The proxy's authorization inside: the state shared by authz.c (engine
 * swap and decisions), authz_load.c (policy files), authz_server.c (the
 * server's policy API) and authz_input.c (the policy input). */
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include "policy/policy.h"
#include "proxy/authz.h"

/* Bounds of a policy directory: files read and directory levels. */
#define AUTHZ_MAX_FILES 1024
#define AUTHZ_MAX_DEPTH 16

/* Bytes of one .rego file and of one data file. */
#define AUTHZ_MAX_MODULE_BYTES ((size_t)4 << 20)
#define AUTHZ_MAX_DATA_BYTES ((size_t)64 << 20)

/* Memory of values one decision may allocate (the data document, built
 * once, does not count). */
#define AUTHZ_MAX_QUERY_MEMORY ((size_t)64 << 20)

struct authz_server;

struct proxy_authz {
	char *path;
	char *server_url;
	char *server_id;
	char *decision;
	unsigned reload_interval_ms;
	struct rego_limits limits;
	struct proxy_jwt_verifier *jwt;
	struct proxy_identity_source *identity_source;

	pthread_mutex_t engine_lock;   /* guards engine */
	struct rego_engine *engine;
	atomic_uint_fast64_t generation;

	/* Reasons that name the decision, written once. */
	char reason_allowed[256];
	char reason_denied[256];
	char reason_undefined[256];

	/* Source identity of the loaded policy: a fingerprint of the files'
	 * stat data, or a hash of the modules the server returned. Only the
	 * reload thread touches it after start. */
	uint64_t source_fingerprint;
	struct authz_server *server;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stopping;
};

/* Hashes the stat data (path, inode, size, mtime) of every policy and data
 * file under path, so any change to them changes the result. */
WD_MUST_CHECK int authz_files_fingerprint(const char *path, uint64_t *ret_fingerprint,
	struct wd_error *err);

/* Reads and compiles the .rego files and data files under path (a file or
 * a directory). Writes the fingerprint taken before reading, so a change
 * made while reading is seen at the next check. WD_EINVAL names the file
 * and line of a compile error. */
WD_MUST_CHECK int authz_files_compile(const char *path, const struct rego_limits *limits,
	struct rego_engine **ret_engine, uint64_t *ret_fingerprint, struct wd_error *err);

/* Compiles modules (id and source pairs) with an empty data document. */
WD_MUST_CHECK int authz_modules_compile(const char *const *ids, const char *const *sources,
	size_t count, const struct rego_limits *limits, struct rego_engine **ret_engine,
	struct wd_error *err);

/* Server mode: connects lazily and fetches GET /v1/policies. Stores a new
 * engine in ret_engine when the modules differ from those last compiled
 * (by authz->source_fingerprint), else NULL. */
WD_MUST_CHECK int authz_server_poll(struct proxy_authz *authz, struct rego_engine **ret_engine,
	struct wd_error *err);
void authz_server_free(struct authz_server *server); /* accepts NULL */

/* Returns a new reference to the engine in force. */
struct rego_engine *authz_engine_current(struct proxy_authz *authz);

/* Builds the policy input of one request; jwt_claims (may be NULL) gains a
 * reference. */
WD_MUST_CHECK int authz_input_build(const struct proxy_request_info *request,
	struct rv *jwt_claims, struct rv **ret_input);

/* Finds the token of the request's single "Authorization: Bearer" header.
 * False when there is none, more than one Authorization header, or
 * another scheme. */
bool authz_bearer_token(const struct http1_head *head, const char **ret_token,
	size_t *ret_len);
