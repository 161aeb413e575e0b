/* OPA's Policy API: list, read, create or replace, and delete Rego modules.
 * Writes need an admin; a module that does not compile changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "server/policy_api.h"
#include "server/policy_state.h"

/* Appends {"id": id, "raw": raw} to out. */
static int write_module(struct wd_buf *out, const char *id, const char *raw)
{
	struct rv *object = rv_object_new(2);
	int rc;

	if (!object)
		return WD_ENOMEM;
	rc = rv_object_put(object, rv_cstring("id"), rv_cstring(id));
	if (rc == 0)
		rc = rv_object_put(object, rv_cstring("raw"), rv_cstring(raw));
	if (rc == 0)
		rc = rv_write_json(object, out);
	rv_unref(object);
	return rc;
}

int handle_opa_policy_list(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct caller caller;
	struct wd_buf body;
	int rc;

	if (caller_identify(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);

	wd_buf_init(&body, 1024, (size_t)1 << 31);
	WD_GUARD(wd_buf_append_str(&body, "{\"result\":["));
	for (size_t i = 0; i < policy_state_module_count(ctx->policy); i++) {
		const char *id;
		const char *raw;

		policy_state_module_at(ctx->policy, i, &id, &raw);
		if (i)
			WD_GUARD(wd_buf_append_byte(&body, ','));
		WD_GUARD(write_module(&body, id, raw));
	}
	WD_GUARD(wd_buf_append_str(&body, "]}"));
	rc = opa_reply_text(req, 200, &body);
out:
	if (rc < 0)
		rc = opa_reply_error(req, 500, "internal_error", "out of memory listing policies",
			NULL);
	wd_buf_free(&body);
	return rc;
}

static int reply_not_found(struct net_request *req, const char *id)
{
	char message[512];

	snprintf(message, sizeof(message), "storage_not_found_error: policy id \"%.400s\"", id);
	return opa_reply_error(req, 404, "resource_not_found", message, NULL);
}

int handle_opa_policy_get(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	const char *id = net_request_param(req, "id");
	struct caller caller;
	struct wd_buf body;
	const char *module_id;
	const char *raw;
	long index;
	int rc;

	if (caller_identify(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);
	index = policy_state_module_find(ctx->policy, id);
	if (index < 0)
		return reply_not_found(req, id);

	policy_state_module_at(ctx->policy, (size_t)index, &module_id, &raw);
	wd_buf_init(&body, 1024, (size_t)1 << 31);
	WD_GUARD(wd_buf_append_str(&body, "{\"result\":"));
	WD_GUARD(write_module(&body, module_id, raw));
	WD_GUARD(wd_buf_append_byte(&body, '}'));
	rc = opa_reply_text(req, 200, &body);
out:
	if (rc < 0)
		rc = opa_reply_error(req, 500, "internal_error", "out of memory", NULL);
	wd_buf_free(&body);
	return rc;
}

int handle_opa_policy_put(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	const char *id = net_request_param(req, "id");
	struct rego_errors errs = { 0 };
	struct caller caller;
	const uint8_t *raw;
	size_t len = 0;
	int rc;

	if (caller_require_admin(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);
	raw = net_request_body(req, &len);
	if (len > ctx->config->policy.max_module_bytes)
		return opa_reply_error(req, 400, "invalid_parameter",
			"policy module is larger than policy.max_module_bytes", NULL);

	rc = policy_state_put_module(ctx->policy, id, raw ? (const char *)raw : "", len, &errs,
		err);
	if (rc < 0) {
		server_audit_failure(ctx, caller.actor, "policy.put", id, err);
		if (errs.len)
			return opa_reply_error(req, 400, "invalid_parameter",
				"error(s) occurred while compiling module(s)", &errs);
		return opa_reply_wd_error(req, err);
	}
	server_audit(ctx, caller.actor, "policy.put", id, "success", NULL);
	return net_reply_text(req, 200, "application/json", "{}", 2);
}

int handle_opa_policy_delete(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	const char *id = net_request_param(req, "id");
	struct rego_errors errs = { 0 };
	struct caller caller;
	int rc;

	if (caller_require_admin(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);

	rc = policy_state_delete_module(ctx->policy, id, &errs, err);
	if (rc == WD_ENOTFOUND)
		return reply_not_found(req, id);
	if (rc < 0) {
		server_audit_failure(ctx, caller.actor, "policy.delete", id, err);
		if (errs.len)
			return opa_reply_error(req, 400, "invalid_parameter",
				"error(s) occurred while compiling module(s)", &errs);
		return opa_reply_wd_error(req, err);
	}
	server_audit(ctx, caller.actor, "policy.delete", id, "success", NULL);
	return net_reply_text(req, 200, "application/json", "{}", 2);
}
