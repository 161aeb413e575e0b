/* OPA's REST API on the server: replies in OPA's JSON shapes, shared by the
 * data, policy and query handlers. Not part of the public interface. */
#pragma once

#include "policy/policy.h"
#include "server/server_internal.h"

/* Replies with OPA's error body {"code": code, "message": message} and,
 * when errs has entries, "errors": [{code, message, location}]. Returns 0. */
int opa_reply_error(struct net_request *req, int status, const char *code, const char *message,
	const struct rego_errors *errs);

/* Replies with the OPA error that matches a warden error: 401/403 for a
 * refused caller, 404, 400 or 500. */
int opa_reply_wd_error(struct net_request *req, const struct wd_error *err);

/* Replies with status and the JSON text in body. */
int opa_reply_text(struct net_request *req, int status, const struct wd_buf *body);

/* Parses the request body as JSON into a value; NULL body -> *ret_value NULL.
 * WD_EINVAL naming the byte offset of bad JSON. */
WD_MUST_CHECK int opa_body_value(struct net_request *req, struct rv **ret_value,
	struct wd_error *err);

/* Splits a "a/b/c" document path into segments (malloc'd array of pointers
 * into a copy of path, freed with free(*ret_segments)). */
WD_MUST_CHECK int opa_path_split(const char *path, char ***ret_segments, size_t *ret_count);

/* Builds the Rego reference data["a"]["b"] for segments. */
WD_MUST_CHECK int opa_path_ref(char *const *segments, size_t count, struct wd_buf *out);

/* Evaluates the document at ref for a caller and audits the decision;
 * replies itself. wrap_result: {"result": v} (the Data API) or v alone
 * (POST /). */
int opa_decide(struct server_ctx *ctx, struct net_request *req, const struct caller *caller,
	const char *ref, struct rv *input, bool wrap_result);

/* Handlers. */
int handle_opa_data_get(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_data_post(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_data_put(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_data_patch(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_data_delete(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_policy_list(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_policy_get(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_policy_put(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_policy_delete(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_query(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_main(struct net_request *req, void *arg, struct wd_error *err);
int handle_opa_health(struct net_request *req, void *arg, struct wd_error *err);
