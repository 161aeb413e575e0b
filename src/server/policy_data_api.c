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

	/* If-None-Match: * forbids overwriting, and OPA replies 304. */
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

/* Reads one JSON Patch operation (RFC 6902 add, remove or replace) whose
 * pointer is relative to the request path. The path segments go to *pieces,
 * which the caller frees. */
static int patch_op_read(const struct rv *op, size_t index, char **base, size_t base_count,
	struct policy_patch_op *ret_op, char ***ret_pieces, char ***ret_full,
	struct wd_error *err)
{
	const struct rv *kind = rv_is(op, RV_OBJECT) ? rv_object_get_str(op, "op") : NULL;
	const struct rv *pointer = rv_is(op, RV_OBJECT) ? rv_object_get_str(op, "path") : NULL;
	char **tail = NULL;
	char **full;
	size_t tail_count = 0;

	if (!rv_is(kind, RV_STRING) || !rv_is(pointer, RV_STRING))
		return wd_error_set(err, WD_EINVAL, "patch operation %zu needs \"op\" and \"path\" "
			"strings", index);
	if (strcmp(rv_str(kind), "add") == 0)
		ret_op->kind = POLICY_PATCH_ADD;
	else if (strcmp(rv_str(kind), "remove") == 0)
		ret_op->kind = POLICY_PATCH_REMOVE;
	else if (strcmp(rv_str(kind), "replace") == 0)
		ret_op->kind = POLICY_PATCH_REPLACE;
	else
		return wd_error_set(err, WD_EINVAL, "patch operation %zu: unsupported op \"%.32s\": "
			"expected add, remove or replace", index, rv_str(kind));
	ret_op->value = rv_object_get_str(op, "value");
	if (ret_op->kind != POLICY_PATCH_REMOVE && !ret_op->value)
		return wd_error_set(err, WD_EINVAL, "patch operation %zu: \"%s\" needs a \"value\"",
			index, rv_str(kind));

	WD_TRY(opa_path_split(rv_str(pointer), &tail, &tail_count));
	full = calloc(base_count + tail_count + 1, sizeof(char *));
	if (!full) {
		free(tail);
		return WD_ENOMEM;
	}
	for (size_t i = 0; i < base_count; i++)
		full[i] = base[i];
	for (size_t i = 0; i < tail_count; i++)
		full[base_count + i] = tail[i];
	ret_op->path = (const char *const *)full;
	ret_op->path_len = base_count + tail_count;
	*ret_pieces = tail;
	*ret_full = full;
	return 0;
}

int handle_opa_data_patch(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct rego_errors errs = { 0 };
	struct policy_patch_op *patch = NULL;
	char ***pieces = NULL;
	char ***full = NULL;
	struct caller caller;
	struct rv *ops = NULL;
	char **segments = NULL;
	size_t count = 0;
	size_t n = 0;
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

	n = rv_array_len(ops);
	patch = calloc(n + 1, sizeof(*patch));
	pieces = calloc(n + 1, sizeof(*pieces));
	full = calloc(n + 1, sizeof(*full));
	if (!patch || !pieces || !full || request_path(req, &segments, &count) < 0) {
		rc = wd_error_set(err, WD_ENOMEM, "out of memory reading the patch");
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = patch_op_read(rv_array_at(ops, i), i, segments, count, &patch[i], &pieces[i],
			&full[i], err);
	if (rc == 0)
		rc = policy_state_patch_data(ctx->policy, patch, n, &errs, err);
	audit_write(ctx, &caller, "policy.data.patch", net_request_param(req, "path"), rc, err);
out:
	for (size_t i = 0; pieces && full && i < n; i++) {
		free(pieces[i]);
		free(full[i]);
	}
	free(pieces);
	free(full);
	free(patch);
	free(segments);
	rv_unref(ops);
	if (rc < 0)
		return reply_write_error(req, &errs, err);
	return net_reply_text(req, 204, "application/json", "", 0);
}
