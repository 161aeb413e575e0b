/* The optional Rego hook: after the ACL allowed a request, the rule
 * data.warden.secrets.allow of one module decides again, with the token's
 * identity, the operation, the path, the time and the request's address
 * and body keys as input. Only the boolean true allows. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/file.h"
#include "policy/policy.h"
#include "secrets/acl_internal.h"
#include "secrets/token.h"

/* Largest module file read, in bytes. */
#define ACL_REGO_MAX_BYTES (4u * 1024u * 1024u)
/* Budget of one decision. The hook runs on the event loop thread, so it
 * gets far less than the engine's defaults.
 * NOTE: sized by estimate, not measured; a policy that needs more fails
 * closed with eval_cancel_error. */
#define ACL_REGO_MAX_STEPS 1000000u
#define ACL_REGO_MAX_MEMORY (64u * 1024u * 1024u)

static const char allow_rule[] = "data.warden.secrets.allow";

struct policy_hook {
	struct rego_engine *engine;
	struct rego_limits limits;
};

/* Formats the first Rego errors as "file:row: code: message" lines joined
 * by "; ". */
static void format_errors(const struct rego_errors *errs, char *out, size_t size)
{
	struct wd_buf text;
	size_t len;

	wd_buf_init(&text, 256, 4096);
	if (rego_errors_write(errs, &text) < 0 || wd_buf_len(&text) == 0) {
		snprintf(out, size, "%.300s", errs->len ? errs->items[0].message : "unknown error");
		wd_buf_free(&text);
		return;
	}
	snprintf(out, size, "%s", wd_buf_str(&text));
	len = strlen(out);
	while (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (out[i] == '\n')
			out[i] = ';';
	}
	wd_buf_free(&text);
}

static int compile_module(const char *module_path, const uint8_t *text, size_t len,
	const struct rego_limits *limits, struct rego_engine **ret_engine, struct wd_error *err)
{
	struct rego_builder *builder = rego_builder_new(limits);
	struct rego_errors errs = { 0 };
	char detail[400];
	int rc = 0;

	*ret_engine = NULL;
	if (!builder)
		return wd_error_set(err, WD_ENOMEM, "out of memory compiling %s", module_path);
	rc = rego_builder_add_module(builder, module_path, (const char *)text, len, &errs);
	if (rc == 0) {
		*ret_engine = rego_builder_compile(builder, &errs);
		rc = *ret_engine ? 0 : WD_EINVAL;
	}
	rego_builder_free(builder);
	if (rc < 0) {
		format_errors(&errs, detail, sizeof(detail));
		return wd_error_set(err, rc == WD_ENOMEM ? WD_ENOMEM : WD_EINVAL,
			"Rego module %s failed to compile: %s", module_path, detail);
	}
	return 0;
}

int acl_rego_open(const char *module_path, struct policy_hook **ret_hook, struct wd_error *err)
{
	static const char *const rule_path[] = { "warden", "secrets", "allow" };
	struct policy_hook *hook = NULL;
	struct rego_engine *engine = NULL;
	uint8_t *text = NULL;
	size_t len = 0;
	int rc = 0;

	*ret_hook = NULL;
	WD_GUARD(wd_file_read(module_path, ACL_REGO_MAX_BYTES, &text, &len, err));

	hook = calloc(1, sizeof(*hook));
	if (!hook) {
		rc = wd_error_set(err, WD_ENOMEM, "out of memory opening %s", module_path);
		goto out;
	}
	hook->limits.max_steps = ACL_REGO_MAX_STEPS;
	hook->limits.max_memory = ACL_REGO_MAX_MEMORY;
	hook->limits.max_module_bytes = ACL_REGO_MAX_BYTES;
	WD_GUARD(compile_module(module_path, text, len, &hook->limits, &engine, err));

	/* A module without the rule would deny every request, so reject it at start. */
	if (!rego_engine_path_has_rules(engine, rule_path, WD_ARRAY_LEN(rule_path), NULL, 0)) {
		rc = wd_error_set(err, WD_EINVAL, "Rego module %s defines no rule %s", module_path,
			allow_rule);
		goto out;
	}
	hook->engine = WD_TAKE_PTR(engine);
	*ret_hook = WD_TAKE_PTR(hook);
out:
	rego_engine_unref(engine);
	acl_rego_free(hook);
	free(text);
	return rc;
}

void acl_rego_free(struct policy_hook *hook)
{
	if (!hook)
		return;
	rego_engine_unref(hook->engine);
	free(hook);
}

static int put(struct rv *object, const char *key, struct rv *value)
{
	return rv_object_put(object, rv_cstring(key), value);
}

static struct rv *string_or_empty(const char *text)
{
	return rv_cstring(text ? text : "");
}

static struct rv *identity_value(const struct vault_token *token)
{
	struct rv *identity;

	if (!token)
		return rv_null();
	identity = rv_object_new(4);
	if (!identity)
		return NULL;
	if (put(identity, "display_name", string_or_empty(token->display_name)) < 0 ||
	    put(identity, "policies", token->policies ? rv_from_json(token->policies) : rv_array_new(0)) < 0 ||
	    put(identity, "meta", token->meta ? rv_from_json(token->meta) : rv_object_new(0)) < 0 ||
	    put(identity, "path", string_or_empty(token->path)) < 0) {
		rv_unref(identity);
		return NULL;
	}
	return identity;
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The body's top-level keys, sorted; never its values, which may be
 * secrets. */
static struct rv *body_keys_value(const json_t *body)
{
	size_t count = json_object_size(body), i = 0;
	const char **keys;
	const char *key;
	json_t *value;
	struct rv *array;

	keys = calloc(count ? count : 1, sizeof(*keys));
	array = keys ? rv_array_new(count) : NULL;
	if (!array) {
		free(keys);
		return NULL;
	}
	json_object_foreach((json_t *)body, key, value) {
		keys[i++] = key;
	}
	qsort(keys, count, sizeof(*keys), compare_keys);
	for (i = 0; i < count; i++) {
		if (rv_array_push(array, rv_cstring(keys[i])) < 0) {
			rv_unref(array);
			array = NULL;
			break;
		}
	}
	free(keys);
	return array;
}

static struct rv *request_value(const struct vault_request *req)
{
	struct rv *request = rv_object_new(2);

	if (!request)
		return NULL;
	if (put(request, "remote_address", rv_cstring(req->remote_address)) < 0 ||
	    put(request, "body_keys", body_keys_value(req->body)) < 0) {
		rv_unref(request);
		return NULL;
	}
	return request;
}

static struct rv *build_input(const struct vault_request *req, int64_t now_ns)
{
	struct rv *input = rv_object_new(5);

	if (!input)
		return NULL;
	if (put(input, "identity", identity_value(req->token)) < 0 ||
	    put(input, "operation", rv_cstring(vault_op_name(req->op))) < 0 ||
	    put(input, "path", string_or_empty(req->path)) < 0 ||
	    put(input, "time_ns", rv_int(now_ns)) < 0 ||
	    put(input, "request", request_value(req)) < 0) {
		rv_unref(input);
		return NULL;
	}
	return input;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int acl_rego_check(struct secrets *secrets, const struct vault_request *req,
	struct wd_error *err)
{
	struct policy_hook *hook = secrets->rego;
	struct rego_query_opts opts = { 0 };
	struct rego_errors errs = { 0 };
	struct rv *input, *result = NULL;
	int rc;

	if (!hook)
		return 0;
	opts.now_ns = realtime_ns();
	input = build_input(req, opts.now_ns);
	if (!input)
		return wd_error_set(err, WD_ENOMEM, "out of memory building the policy input");
	opts.input = input;
	opts.limits = &hook->limits;

	rc = rego_engine_eval_ref(hook->engine, allow_rule, &opts, &result, &errs);
	if (rc < 0 && errs.len > 0) {
		/* The reply names the error code and line only: the message may
		 * quote input values, and the module's path is the server's. */
		rc = wd_error_set(err, WD_EPERM, "permission denied by policy (%s at line %u)",
			errs.items[0].code ? errs.items[0].code : "evaluation error", errs.items[0].row);
	} else if (rc < 0) {
		rc = wd_error_set(err, WD_EPERM, "permission denied by policy (%s)", wd_strerror(rc));
	} else if (!rv_is_true(result)) {
		rc = wd_error_set(err, WD_EPERM, "permission denied by policy");
	}
	rv_unref(result);
	rv_unref(input);
	return rc;
}
