/* Built-in functions: json.match_schema and json.verify_schema, JSON Schema
 * drafts 4, 6 and 7 with the results and messages of OPA 1.20 (which uses a
 * fork of gojsonschema). */
#include <string.h>

#include "common/error.h"
#include "policy/builtin.h"
#include "policy/jsonschema.h"

/* Nesting accepted in a schema or document given as JSON text.
 * NOTE: deeper text is reported as invalid JSON, where OPA has no limit. */
#define JS_MAX_JSON_DEPTH 512

/* Reads an argument as gojsonschema's loaders do: JSON text, or an object
 * or array value. On failure stores OPA's message in err. Returns a new
 * reference. */
static struct rv *load(const struct rv *arg, struct wd_buf *err)
{
	if (rv_is(arg, RV_STRING)) {
		struct rv *v = rv_parse_json(rv_str(arg), rv_str_len(arg), JS_MAX_JSON_DEPTH, NULL);

		if (!v && wd_buf_append_str(err, "invalid JSON string") < 0)
			return NULL;
		return v;
	}
	if (rv_is(arg, RV_OBJECT) || rv_is(arg, RV_ARRAY))
		return rv_ref((struct rv *)arg);
	if (wd_buf_append_str(err, "wrong type, expected string or object") < 0)
		return NULL;
	return NULL;
}

static struct rv *pair(struct rv *first, struct rv *second)
{
	struct rv *arr = rv_array_new(2);

	if (!arr) {
		rv_unref(first);
		rv_unref(second);
		return NULL;
	}
	if (rv_array_push(arr, first) < 0 || rv_array_push(arr, second) < 0) {
		rv_unref(arr);
		return NULL;
	}
	return arr;
}

/* [true, null] for a schema that compiles, else [false, "jsonschema: ..."]. */
static int bi_verify_schema(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			    struct rv **ret)
{
	struct wd_buf err, text;
	struct js_compiled compiled;
	struct rv *schema, *out;
	int rc = 0;

	(void)nargs;
	wd_buf_init(&err, 128, 4096);
	wd_buf_init(&text, 128, 8192);
	memset(&compiled, 0, sizeof(compiled));
	schema = load(args[0], &err);
	if (schema) {
		rc = js_compile(&compiled, schema, &err);
		if (rc < 0 && rc != WD_EINVAL) {
			rc = rego_bi_error(ctx, "out of memory");
			goto out;
		}
	}
	if (!schema || rc == WD_EINVAL) {
		if (wd_buf_appendf(&text, "jsonschema: %s", wd_buf_str(&err)) < 0) {
			rc = rego_bi_error(ctx, "out of memory");
			goto out;
		}
		out = pair(rv_bool(false), rv_string(wd_buf_str(&text), wd_buf_len(&text)));
	} else {
		out = pair(rv_bool(true), rv_null());
	}
	rc = 0;
	if (!out) {
		rc = rego_bi_error(ctx, "out of memory");
		goto out;
	}
	*ret = out;
out:
	js_compiled_free(&compiled);
	rv_unref(schema);
	wd_buf_free(&err);
	wd_buf_free(&text);
	return rc;
}

/* [valid, errors] where each error is {error, type, field, desc}; a schema
 * or document that cannot be read is an error. */
static int bi_match_schema(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			   struct rv **ret)
{
	struct wd_buf err;
	struct js_compiled compiled;
	struct rv *doc = NULL, *schema = NULL, *errors = NULL, *out;
	int rc;

	(void)nargs;
	wd_buf_init(&err, 128, 4096);
	memset(&compiled, 0, sizeof(compiled));

	doc = load(args[0], &err);
	if (!doc) {
		rc = rego_bi_error(ctx, "%s", wd_buf_len(&err) ? wd_buf_str(&err) : "out of memory");
		goto out;
	}
	schema = load(args[1], &err);
	if (!schema) {
		rc = rego_bi_error(ctx, "%s", wd_buf_len(&err) ? wd_buf_str(&err) : "out of memory");
		goto out;
	}
	rc = js_compile(&compiled, schema, &err);
	if (rc < 0) {
		rc = rego_bi_error(ctx, "%s", rc == WD_EINVAL ? wd_buf_str(&err) : "out of memory");
		goto out;
	}

	errors = rv_array_new(0);
	if (!errors) {
		rc = rego_bi_error(ctx, "out of memory");
		goto out;
	}
	rc = js_validate(ctx, &compiled, doc, errors);
	if (rc < 0)
		goto out;
	out = pair(rv_bool(rv_array_len(errors) == 0), errors);
	errors = NULL;
	if (!out) {
		rc = rego_bi_error(ctx, "out of memory");
		goto out;
	}
	*ret = out;
out:
	rv_unref(errors);
	js_compiled_free(&compiled);
	rv_unref(schema);
	rv_unref(doc);
	wd_buf_free(&err);
	return rc;
}

#define ANY_JSON (RK_STRING | RK_OBJECT)

const struct rego_builtin rego_builtins_schema[] = {
	{ .name = "json.match_schema", .arity = 2, .arg_types = { ANY_JSON, ANY_JSON },
	  .result_type = RK_ARRAY, .fn = bi_match_schema },
	{ .name = "json.verify_schema", .arity = 1, .arg_types = { ANY_JSON },
	  .result_type = RK_ARRAY, .fn = bi_verify_schema },
	{ .name = NULL },
};
