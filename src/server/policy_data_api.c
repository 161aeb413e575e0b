/* OPA's Data API: read and evaluate documents (GET/POST), and write the base
 * document (PUT/PATCH/DELETE) as an admin. */
#include <stdlib.h>
#include <string.h>

#include "server/policy_api.h"
#include "server/policy_state.h"

/* The document path of the request: the {path...} parameter, or none for
 * /v1/data itself. */
static int request_path(struct net_request *req, char ***ret_segments, size_t *ret_count)
{
	const char *path = net_request_param(req, "path");

	return opa_path_split(path ? path : "", ret_segments, ret_count);
}

static int decide_path(struct net_request *req, void *arg, struct wd_error *err, bool post)
{
	struct server_ctx *ctx = arg;
	struct caller caller;
	struct rv *body = NULL;
	struct rv *input = NULL;
	struct wd_buf ref;
	char **segments = NULL;
	size_t count = 0;
	int rc;

	if (caller_identify(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);

	/* POST carries {"input": ...}; a body without "input" evaluates with
	 * input undefined, as OPA does. */
	if (post) {
		if (opa_body_value(req, &body, err) < 0)
			return opa_reply_wd_error(req, err);
		if (body && !rv_is(body, RV_OBJECT)) {
			rv_unref(body);
			return opa_reply_error(req, 400, "invalid_parameter",
				"request body must be an object: {\"input\": ...}", NULL);
		}
		input = body ? rv_object_get_str(body, "input") : NULL;
	}

	wd_buf_init(&ref, 64, 65536);
	rc = request_path(req, &segments, &count);
	if (rc == 0)
		rc = opa_path_ref(segments, count, &ref);
	if (rc < 0)
		rc = opa_reply_error(req, 400, "invalid_parameter", "document path is too long",
			NULL);
	else
		rc = opa_decide(ctx, req, &caller, wd_buf_str(&ref), input, true);

	free(segments);
	wd_buf_free(&ref);
	rv_unref(body);
	return rc;
}

int handle_opa_data_get(struct net_request *req, void *arg, struct wd_error *err)
{
	return decide_path(req, arg, err, false);
}

int handle_opa_data_post(struct net_request *req, void *arg, struct wd_error *err)
{
	return decide_path(req, arg, err, true);
}

/* Replies to a failed write: compile errors keep OPA's error list. */
static int reply_write_error(struct net_request *req, const struct rego_errors *errs,
	const struct wd_error *err)
{
	if (errs->len)
		return opa_reply_error(req, 400, "invalid_parameter",
			"error(s) occurred while compiling module(s)", errs);
	return opa_reply_wd_error(req, err);
}

static void audit_write(struct server_ctx *ctx, const struct caller *caller, const char *action,
	const char *path, int rc, const struct wd_error *err)
{
	char object[512];

	snprintf(object, sizeof(object), "data/%s", path ? path : "");
	if (rc < 0)
		server_audit_failure(ctx, caller->actor, action, object, err);
	else
		server_audit(ctx, caller->actor, action, object, "success", NULL);
}

int handle_opa_data_put(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct rego_errors errs = { 0 };
	struct caller caller;
	struct rv *value = NULL;
	char **segments = NULL;
	size_t count = 0;
	int rc;

	if (caller_require_admin(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);
	if (opa_body_value(req, &value, err) < 0)
		return opa_reply_wd_error(req, err);
	if (!value)
		return opa_reply_error(req, 400, "invalid_parameter",
			"missing request body: expected a JSON document", NULL);
	if (request_path(req, &segments, &count) < 0) {
		rv_unref(value);
		return opa_reply_error(req, 500, "internal_error", "out of memory", NULL);
	}

	/* If-None-Match: * asks not to overwrite, and OPA answers 304. */
	if (net_request_header(req, "If-None-Match") &&
	    strcmp(net_request_header(req, "If-None-Match"), "*") == 0 &&
	    policy_state_data_exists(ctx->policy, (const char *const *)segments, count)) {
		rv_unref(value);
		free(segments);
		return net_reply_text(req, 304, "application/json", "", 0);
	}

	rc = policy_state_put_data(ctx->policy, (const char *const *)segments, count, value, &errs,
		err);
	audit_write(ctx, &caller, "policy.data.put", net_request_param(req, "path"), rc, err);
	free(segments);
	if (rc < 0)
		return reply_write_error(req, &errs, err);
	return net_reply_text(req, 204, "application/json", "", 0);
}

int handle_opa_data_delete(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct rego_errors errs = { 0 };
	struct caller caller;
	char **segments = NULL;
	size_t count = 0;
	int rc;

	if (caller_require_admin(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);
	if (request_path(req, &segments, &count) < 0)
		return opa_reply_error(req, 500, "internal_error", "out of memory", NULL);

	rc = policy_state_delete_data(ctx->policy, (const char *const *)segments, count, &errs,
		err);
	audit_write(ctx, &caller, "policy.data.delete", net_request_param(req, "path"), rc, err);
	free(segments);
	if (rc == WD_ENOTFOUND)
		return opa_reply_error(req, 404, "resource_not_found",
			"storage_not_found_error: document does not exist", NULL);
	if (rc < 0)
		return reply_write_error(req, &errs, err);
	return net_reply_text(req, 204, "application/json", "", 0);
}

/* Applies one JSON Patch operation (RFC 6902 add, remove, replace) under
 * the request path. */
static int patch_apply_one(struct server_ctx *ctx, char **base, size_t base_count,
	const struct rv *op, struct rego_errors *errs, struct wd_error *err)
{
	const struct rv *kind = rv_object_get_str(op, "op");
	const struct rv *pointer = rv_object_get_str(op, "path");
	const struct rv *value = rv_object_get_str(op, "value");
	char **tail = NULL;
	char **full = NULL;
	size_t tail_count = 0;
	int rc;

	if (!rv_is(kind, RV_STRING) || !rv_is(pointer, RV_STRING))
		return wd_error_set(err, WD_EINVAL, "each patch operation needs \"op\" and \"path\"");
	WD_TRY(opa_path_split(rv_str(pointer), &tail, &tail_count));
	full = calloc(base_count + tail_count + 1, sizeof(char *));
	WD_ENSURE(full, WD_ENOMEM);
	for (size_t i = 0; i < base_count; i++)
		full[i] = base[i];
	for (size_t i = 0; i < tail_count; i++)
		full[base_count + i] = tail[i];

	if (strcmp(rv_str(kind), "remove") == 0) {
		rc = policy_state_delete_data(ctx->policy, (const char *const *)full,
			base_count + tail_count, errs, err);
	} else if (strcmp(rv_str(kind), "add") == 0 || strcmp(rv_str(kind), "replace") == 0) {
		WD_ENSURE(value, wd_error_set(err, WD_EINVAL, "patch operation \"%s\" needs a "
			"\"value\"", rv_str(kind)));
		if (strcmp(rv_str(kind), "replace") == 0 &&
		    !policy_state_data_exists(ctx->policy, (const char *const *)full,
			    base_count + tail_count)) {
			rc = wd_error_set(err, WD_ENOTFOUND, "patch replace: no document at \"%.200s\"",
				rv_str(pointer));
			goto out;
		}
		rc = policy_state_put_data(ctx->policy, (const char *const *)full,
			base_count + tail_count, rv_ref((struct rv *)value), errs, err);
	} else {
		rc = wd_error_set(err, WD_EINVAL, "unsupported patch operation \"%.32s\": expected "
			"add, remove or replace", rv_str(kind));
	}
out:
	free(full);
	free(tail);
	return rc;
}

int handle_opa_data_patch(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct rego_errors errs = { 0 };
	struct caller caller;
	struct rv *ops = NULL;
	char **segments = NULL;
	size_t count = 0;
	int rc = 0;

	if (caller_require_admin(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);
	if (opa_body_value(req, &ops, err) < 0)
		return opa_reply_wd_error(req, err);
	if (!rv_is(ops, RV_ARRAY)) {
		rv_unref(ops);
		return opa_reply_error(req, 400, "invalid_parameter",
			"request body must be a JSON Patch array", NULL);
	}
	if (request_path(req, &segments, &count) < 0) {
		rv_unref(ops);
		return opa_reply_error(req, 500, "internal_error", "out of memory", NULL);
	}

	/* TODO: operations apply one by one, so a failing operation leaves the
	 * ones before it applied; OPA applies a patch in one transaction. */
	for (size_t i = 0; i < rv_array_len(ops) && rc == 0; i++) {
		const struct rv *op = rv_array_at(ops, i);

		if (!rv_is(op, RV_OBJECT))
			rc = wd_error_set(err, WD_EINVAL, "patch operation %zu is not an object", i);
		else
			rc = patch_apply_one(ctx, segments, count, op, &errs, err);
	}
	audit_write(ctx, &caller, "policy.data.patch", net_request_param(req, "path"), rc, err);
	free(segments);
	rv_unref(ops);
	if (rc < 0)
		return reply_write_error(req, &errs, err);
	return net_reply_text(req, 204, "application/json", "", 0);
}
