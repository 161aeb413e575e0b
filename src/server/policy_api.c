/* OPA's REST API: the reply and error shapes OPA's clients parse, and the
 * decision path that evaluates a document and writes it to the audit chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/encoding.h"
#include "common/random.h"
#include "server/policy_api.h"
#include "server/policy_state.h"

/* Bytes of a decision's result quoted in its audit record; a longer result
 * is recorded by its SHA-256 alone. */
#define DECISION_AUDIT_RESULT_MAX 256

/* Nesting accepted in request bodies (input documents, data). */
#define OPA_BODY_MAX_DEPTH 512

static int write_json_string(struct wd_buf *out, const char *s)
{
	struct rv *v = rv_cstring(s);
	int rc;

	if (!v)
		return WD_ENOMEM;
	rc = rv_write_json(v, out);
	rv_unref(v);
	return rc;
}

int opa_reply_text(struct net_request *req, int status, const struct wd_buf *body)
{
	return net_reply_text(req, status, "application/json", wd_buf_str(body), wd_buf_len(body));
}

int opa_reply_error(struct net_request *req, int status, const char *code, const char *message,
	const struct rego_errors *errs)
{
	struct wd_buf body;
	int rc;

	wd_buf_init(&body, 256, (size_t)1 << 20);
	WD_GUARD(wd_buf_append_str(&body, "{\"code\":"));
	WD_GUARD(write_json_string(&body, code));
	WD_GUARD(wd_buf_append_str(&body, ",\"message\":"));
	WD_GUARD(write_json_string(&body, message));
	if (errs && errs->len) {
		struct rv *list = rego_errors_to_value(errs);
		struct rv *items = list ? rv_object_get_str(list, "errors") : NULL;

		if (items) {
			rc = wd_buf_append_str(&body, ",\"errors\":");
			if (rc == 0)
				rc = rv_write_json(items, &body);
		}
		rv_unref(list);
		WD_GUARD(rc);
	}
	WD_GUARD(wd_buf_append_byte(&body, '}'));
	rc = opa_reply_text(req, status, &body);
out:
	if (rc < 0)
		rc = net_reply_error(req, WD_ENOMEM, "out of memory writing the error");
	wd_buf_free(&body);
	return rc;
}

int opa_reply_wd_error(struct net_request *req, const struct wd_error *err)
{
	const char *message = wd_error_text(err);

	switch (err->code) {
	case WD_EAUTH:
		return opa_reply_error(req, 401, "unauthorized", message, NULL);
	case WD_EPERM:
		return opa_reply_error(req, 403, "unauthorized", message, NULL);
	case WD_ENOTFOUND:
		return opa_reply_error(req, 404, "resource_not_found", message, NULL);
	case WD_EINVAL:
	case WD_ETOOBIG:
		return opa_reply_error(req, 400, "invalid_parameter", message, NULL);
	case WD_ECONFLICT:
		return opa_reply_error(req, 409, "resource_conflict", message, NULL);
	default:
		return opa_reply_error(req, 500, "internal_error", message, NULL);
	}
}

int opa_body_value(struct net_request *req, struct rv **ret_value, struct wd_error *err)
{
	struct wd_buf why;
	const uint8_t *body;
	size_t len = 0;
	int rc = 0;

	*ret_value = NULL;
	body = net_request_body(req, &len);
	if (!body || len == 0)
		return 0;

	wd_buf_init(&why, 128, 1024);
	*ret_value = rv_parse_json((const char *)body, len, OPA_BODY_MAX_DEPTH, &why);
	if (!*ret_value)
		rc = wd_error_set(err, WD_EINVAL, "request body is not valid JSON: %s",
			wd_buf_len(&why) ? wd_buf_str(&why) : "out of memory");
	wd_buf_free(&why);
	return rc;
}

int opa_path_split(const char *path, char ***ret_segments, size_t *ret_count)
{
	size_t count = 0;
	size_t len = strlen(path);
	char **segments;
	char *copy;

	*ret_segments = NULL;
	*ret_count = 0;
	/* The array and the copy share one allocation, so one free releases
	 * both. */
	segments = malloc((len / 2 + 2) * sizeof(char *) + len + 1);
	if (!segments)
		return WD_ENOMEM;
	copy = (char *)(segments + len / 2 + 2);
	memcpy(copy, path, len + 1);

	for (char *p = copy; *p;) {
		char *slash = strchr(p, '/');

		if (slash)
			*slash = '\0';
		if (*p)
			segments[count++] = p;
		if (!slash)
			break;
		p = slash + 1;
	}
	*ret_segments = segments;
	*ret_count = count;
	return 0;
}

int opa_path_ref(char *const *segments, size_t count, struct wd_buf *out)
{
	WD_TRY(wd_buf_append_str(out, "data"));
	for (size_t i = 0; i < count; i++) {
		WD_TRY(wd_buf_append_byte(out, '['));
		WD_TRY(write_json_string(out, segments[i]));
		WD_TRY(wd_buf_append_byte(out, ']'));
	}
	return 0;
}

static void hex_digest(const void *data, size_t len, char out[65])
{
	unsigned char digest[32];
	unsigned int digest_len = 0;

	if (!EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) || digest_len != 32) {
		snprintf(out, 65, "-");
		return;
	}
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* Audits one decision: its id, the document, a digest of the input and the
 * result (quoted when short). */
static void audit_decision(struct server_ctx *ctx, const struct caller *caller,
	const char *decision_id, const char *ref, const struct rv *input,
	const struct wd_buf *result, const char *outcome, const char *error)
{
	struct wd_buf input_json;
	struct wd_buf detail;
	char input_digest[65] = "none";
	char result_digest[65];

	if (!ctx->config->policy.audit_allows && strcmp(outcome, "error") != 0)
		return;

	wd_buf_init(&input_json, 1024, (size_t)1 << 31);
	wd_buf_init(&detail, 512, 4096);
	if (input && rv_write_json(input, &input_json) == 0)
		hex_digest(wd_buf_data(&input_json), wd_buf_len(&input_json), input_digest);

	if (wd_buf_appendf(&detail, "decision_id=%s input_sha256=%s", decision_id,
		input_digest) < 0)
		goto out;
	if (error) {
		if (wd_buf_appendf(&detail, " error=%s", error) < 0)
			goto out;
	} else if (result && wd_buf_len(result) <= DECISION_AUDIT_RESULT_MAX) {
		if (wd_buf_appendf(&detail, " result=%s", wd_buf_str(result)) < 0)
			goto out;
	} else if (result) {
		hex_digest(wd_buf_data(result), wd_buf_len(result), result_digest);
		if (wd_buf_appendf(&detail, " result_sha256=%s", result_digest) < 0)
			goto out;
	}
	server_audit(ctx, caller->actor, "policy.decide", ref, outcome, wd_buf_str(&detail));
out:
	wd_buf_free(&input_json);
	wd_buf_free(&detail);
}

/* The HTTP status and OPA code of a failed evaluation. */
static void eval_error_status(const struct rego_errors *errs, int *ret_status,
	const char **ret_code)
{
	const char *first = errs->len ? errs->items[0].code : "";

	*ret_status = 500;
	*ret_code = "internal_error";
	if (strncmp(first, "rego_", 5) == 0) {
		*ret_status = 400;
		*ret_code = "invalid_parameter";
	}
}

int opa_decide(struct server_ctx *ctx, struct net_request *req, const struct caller *caller,
	const char *ref, struct rv *input, bool wrap_result)
{
	struct rego_engine *engine = policy_state_engine(ctx->policy);
	struct rego_query_opts opts = { .input = input };
	struct rego_errors errs = { 0 };
	struct wd_buf result;
	struct wd_buf body;
	struct rv *value = NULL;
	char decision_id[37] = "-";
	int rc;

	wd_buf_init(&result, 256, (size_t)1 << 31);
	wd_buf_init(&body, 256, (size_t)1 << 31);
	if (wd_random_uuid(decision_id) < 0)
		snprintf(decision_id, sizeof(decision_id), "-");
	opts.strict_builtin_errors = net_request_query(req, "strict-builtin-errors") != NULL;

	rc = rego_engine_eval_ref(engine, ref, &opts, &value, &errs);
	if (rc < 0) {
		int status;
		const char *code;

		eval_error_status(&errs, &status, &code);
		audit_decision(ctx, caller, decision_id, ref, input, NULL, "error",
			errs.len ? errs.items[0].message : "evaluation failed");
		rc = opa_reply_error(req, status, code, errs.len ? errs.items[0].message :
			"evaluation failed", &errs);
		goto out;
	}

	if (value)
		WD_GUARD(rv_write_json(value, &result));
	audit_decision(ctx, caller, decision_id, ref, input, value ? &result : NULL,
		value ? "success" : "undefined", NULL);

	if (!wrap_result) {
		/* POST / replies with the document itself, and 404 when it is
		 * undefined, as OPA's default decision does. */
		if (!value) {
			rc = opa_reply_error(req, 404, "undefined_document",
				"document missing: data.system.main", NULL);
			goto out;
		}
		rc = opa_reply_text(req, 200, &result);
		goto out;
	}

	WD_GUARD(wd_buf_appendf(&body, "{\"decision_id\":\"%s\"", decision_id));
	if (value) {
		WD_GUARD(wd_buf_append_str(&body, ",\"result\":"));
		WD_GUARD(wd_buf_append(&body, wd_buf_data(&result), wd_buf_len(&result)));
	}
	WD_GUARD(wd_buf_append_byte(&body, '}'));
	rc = opa_reply_text(req, 200, &body);
out:
	if (rc < 0)
		rc = opa_reply_error(req, 500, "internal_error", "out of memory writing the result",
			NULL);
	rv_unref(value);
	rego_engine_unref(engine);
	wd_buf_free(&result);
	wd_buf_free(&body);
	return rc;
}

int handle_opa_health(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct caller caller;

	if (caller_identify(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);
	return net_reply_text(req, 200, "application/json", "{}", 2);
}

int handle_opa_main(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct caller caller;
	struct rv *input = NULL;
	int rc;

	if (caller_identify(ctx, req, &caller, err) < 0)
		return opa_reply_wd_error(req, err);
	if (opa_body_value(req, &input, err) < 0)
		return opa_reply_wd_error(req, err);

	rc = opa_decide(ctx, req, &caller, "data.system.main", input, false);
	rv_unref(input);
	return rc;
}
