/* OPA's Query API: evaluates an ad hoc query and replies with the bindings
 * of each solution, {"result": [{"x": 1}, ...]}. */
#include <stdlib.h>
#include <string.h>

#include "server/policy_api.h"
#include "server/policy_state.h"

static int write_solutions(const struct rego_results *results, struct wd_buf *out)
{
	WD_TRY(wd_buf_append_str(out, "{\"result\":["));
	for (size_t i = 0; i < results->len; i++) {
		if (i)
			WD_TRY(wd_buf_append_byte(out, ','));
		WD_TRY(rv_write_json(results->solutions[i].bindings, out));
	}
	return wd_buf_append_str(out, "]}");
}

int handle_opa_query(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct rego_engine *engine = NULL;
	struct rego_results *results = NULL;
	struct rego_query_opts opts = { 0 };
	struct rego_errors errs = { 0 };
	struct caller caller;
	struct rv *body = NULL;
	const struct rv *query_value = NULL;
	const char *query;
	struct wd_buf reply;
	int rc;

	if (caller_identify(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);

	query = net_request_query(req, "q");
	if (strcmp(net_request_method(req), "POST") == 0) {
		if (opa_body_value(req, &body, err) < 0)
			return opa_reply_wd_error(req, err);
		if (!rv_is(body, RV_OBJECT)) {
			rv_unref(body);
			return opa_reply_error(req, 400, "invalid_parameter",
				"request body must be an object: {\"query\": ..., \"input\": ...}", NULL);
		}
		query_value = rv_object_get_str(body, "query");
		opts.input = rv_object_get_str(body, "input");
		query = rv_is(query_value, RV_STRING) ? rv_str(query_value) : NULL;
	}
	if (!query || !query[0]) {
		rv_unref(body);
		return opa_reply_error(req, 400, "invalid_parameter", "missing parameter 'query'",
			NULL);
	}

	wd_buf_init(&reply, 1024, (size_t)1 << 31);
	engine = policy_state_engine(ctx->policy);
	rc = rego_engine_query(engine, query, strlen(query), &opts, &results, &errs);
	if (rc < 0) {
		const char *code = errs.len ? errs.items[0].code : "";
		bool bad_query = strncmp(code, "rego_", 5) == 0;

		server_audit(ctx, caller.actor, "policy.query", "-", "error",
			errs.len ? errs.items[0].message : "query failed");
		rc = opa_reply_error(req, bad_query ? 400 : 500,
			bad_query ? "invalid_parameter" : "internal_error",
			errs.len ? errs.items[0].message : "query failed", &errs);
		goto out;
	}

	server_audit(ctx, caller.actor, "policy.query", "-", results->len ? "success" : "undefined",
		NULL);
	WD_GUARD(write_solutions(results, &reply));
	rc = opa_reply_text(req, 200, &reply);
out:
	if (rc < 0)
		rc = opa_reply_error(req, 500, "internal_error", "out of memory writing the result",
			NULL);
	rego_results_free(results);
	rego_engine_unref(engine);
	rv_unref(body);
	wd_buf_free(&reply);
	return rc;
}
