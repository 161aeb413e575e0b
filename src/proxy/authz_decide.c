/* One authorization decision: verify the bearer token, build the input,
 * evaluate the decision rule, and read allow and reason from the result. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/random.h"
#include "common/time.h"
#include "proxy/authz_internal.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Verified claims of the request's bearer token, or NULL; why a token
 * did not verify goes to jwt_error. */
static struct rv *verified_claims(struct proxy_authz *authz, const struct http1_head *head,
	struct wd_error *jwt_error)
{
	const char *token;
	size_t len;
	struct rv *claims = NULL;

	if (!authz->jwt || !head || !authz_bearer_token(head, &token, &len))
		return NULL;
	if (proxy_jwt_verify(authz->jwt, token, len, wd_now(), &claims, jwt_error) < 0)
		return NULL;
	return claims;
}

/* Allows on true, or on an object whose "allow" is true; a "reason" string
 * of an object is copied whatever the outcome. */
static void read_result(const struct proxy_authz *authz, const struct rv *result,
	struct proxy_decision *decision)
{
	const struct rv *reason = NULL;

	if (rv_is(result, RV_OBJECT)) {
		decision->allow = rv_is_true(rv_object_get_str(result, "allow"));
		reason = rv_object_get_str(result, "reason");
	} else {
		decision->allow = rv_is_true(result);
	}
	if (rv_is(reason, RV_STRING))
		snprintf(decision->reason, sizeof(decision->reason), "%s", rv_str(reason));
	else
		snprintf(decision->reason, sizeof(decision->reason), "%s",
			decision->allow ? authz->reason_allowed : authz->reason_denied);
}

static void write_error(struct proxy_decision *decision, const struct rego_errors *errs, int rc)
{
	if (errs->len > 0)
		snprintf(decision->reason, sizeof(decision->reason), "%.40s: %.200s", errs->items[0].code,
			errs->items[0].message);
	else
		snprintf(decision->reason, sizeof(decision->reason), "policy evaluation failed: %s",
			wd_strerror(rc));
}

void proxy_authz_decide(struct proxy_authz *authz, const struct proxy_request_info *request,
	struct proxy_decision *ret_decision)
{
	struct rego_engine *engine = NULL;
	struct rego_query_opts opts = { 0 };
	struct rego_errors errs = { 0 };
	struct wd_error jwt_error = { 0 };
	struct rv *claims = NULL, *input = NULL, *result = NULL;
	uint64_t start;
	int rc;

	memset(ret_decision, 0, sizeof(*ret_decision));
	if (wd_random_uuid(ret_decision->decision_id) < 0)
		snprintf(ret_decision->decision_id, sizeof(ret_decision->decision_id), "%s",
			"00000000-0000-0000-0000-000000000000");
	if (!authz || !request) {
		snprintf(ret_decision->reason, sizeof(ret_decision->reason), "%s",
			"no policy or request to decide on");
		return;
	}

	claims = verified_claims(authz, request->head, &jwt_error);
	if (authz_input_build(request, claims, &input) < 0) {
		snprintf(ret_decision->reason, sizeof(ret_decision->reason), "%s",
			"out of memory building the policy input");
		goto out;
	}

	engine = authz_engine_current(authz);
	opts.input = input;
	opts.limits = &authz->limits;
	start = monotonic_ns();
	rc = rego_engine_eval_ref(engine, authz->decision, &opts, &result, &errs);
	ret_decision->eval_ns = monotonic_ns() - start;

	if (rc < 0)
		write_error(ret_decision, &errs, rc);
	else if (!result)
		snprintf(ret_decision->reason, sizeof(ret_decision->reason), "%s",
			authz->reason_undefined);
	else
		read_result(authz, result, ret_decision);

	/* A rejected token explains many denials; the detail names no secret. */
	if (!ret_decision->allow && jwt_error.code < 0) {
		size_t used = strlen(ret_decision->reason);

		snprintf(ret_decision->reason + used, sizeof(ret_decision->reason) - used,
			" (JWT not accepted: %s)", wd_error_text(&jwt_error));
	}
out:
	rv_unref(result);
	rv_unref(input);
	rv_free_frozen(claims);
	rego_engine_unref(engine);
}
