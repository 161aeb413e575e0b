/* Helpers for the string, regex, encoding and misc builtin tests: arguments
 * written as a JSON array (an object {"$set": [...]} stands for a set), a
 * call through the registry, and checks on the JSON text of the result or on
 * the exact error. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "policy/builtin.h"
#include "policy/value.h"

/* Rebuilds v with every {"$set": [...]} object turned into a set. */
static struct rv *ts_convert(struct rv *v)
{
	struct rv *out;

	if (rv_is(v, RV_OBJECT) && rv_len(v) == 1) {
		struct rv *items = rv_object_get_str(v, "$set");

		if (items && rv_is(items, RV_ARRAY)) {
			out = rv_set_new(rv_array_len(items));
			assert_non_null(out);
			for (size_t i = 0; i < rv_array_len(items); i++)
				assert_int_equal(rv_set_add(out, ts_convert(rv_array_at(items, i))), 0);
			return out;
		}
	}
	if (rv_is(v, RV_ARRAY)) {
		out = rv_array_new(rv_array_len(v));
		assert_non_null(out);
		for (size_t i = 0; i < rv_array_len(v); i++)
			assert_int_equal(rv_array_push(out, ts_convert(rv_array_at(v, i))), 0);
		return out;
	}
	if (rv_is(v, RV_OBJECT)) {
		out = rv_object_new(rv_len(v));
		assert_non_null(out);
		for (size_t i = 0; i < rv_len(v); i++) {
			struct rv *key, *value;

			rv_map_at(v, i, &key, &value);
			assert_int_equal(rv_object_put(out, ts_convert(key), ts_convert(value)), 0);
		}
		return out;
	}
	return rv_ref(v);
}

static struct rv *ts_value(const char *json)
{
	struct rv *parsed = rv_parse_json(json, strlen(json), 256, NULL);
	struct rv *out;

	if (!parsed)
		fail_msg("test value does not parse: %s", json);
	out = ts_convert(parsed);
	rv_unref(parsed);
	return out;
}

/* Calls builtin name with the arguments of the JSON array args_json. Returns
 * the builtin's code; on success *ret_text holds the result as JSON. */
static int ts_call(const char *name, const char *args_json, struct rego_bctx *ctx,
		   char **ret_text)
{
	const struct rego_builtin *bi = rego_builtin_find(name);
	struct rv *args = ts_value(args_json);
	struct rv *result = NULL;
	struct wd_buf out;
	int rc;

	if (!bi)
		fail_msg("no builtin %s", name);
	assert_int_equal(rv_array_len(args), bi->arity);
	memset(ctx, 0, sizeof(*ctx));
	ctx->name = name;

	rc = bi->fn(ctx, args->u.arr.items, rv_array_len(args), &result);
	*ret_text = NULL;
	if (rc == 0) {
		assert_non_null(result);
		wd_buf_init(&out, 64, 1 << 24);
		assert_int_equal(rv_write_json(result, &out), 0);
		*ret_text = wd_buf_take(&out, NULL);
		rv_unref(result);
	}
	rv_unref(args);
	return rc;
}

/* The result of name(args) must print as the JSON text want. */
#define expect_ok(name, args, want)                                                    \
	do {                                                                           \
		struct rego_bctx ctx_;                                                 \
		char *text_ = NULL;                                                    \
		int rc_ = ts_call((name), (args), &ctx_, &text_);                      \
		if (rc_ != 0)                                                          \
			fail_msg("%s%s failed (%d): %s", (name), (args), rc_, ctx_.err_msg); \
		assert_string_equal(text_, (want));                                    \
		free(text_);                                                           \
	} while (0)

/* name(args) must fail with the error code and the whole message. */
#define expect_err(name, args, code, msg)                                              \
	do {                                                                           \
		struct rego_bctx ctx_;                                                 \
		char *text_ = NULL;                                                    \
		int rc_ = ts_call((name), (args), &ctx_, &text_);                      \
		if (rc_ >= 0)                                                          \
			fail_msg("%s%s did not fail: %s", (name), (args), text_ ? text_ : "undefined"); \
		assert_string_equal(ctx_.err_code, (code));                            \
		assert_string_equal(ctx_.err_msg, (msg));                              \
	} while (0)

/* name(args) must be undefined. */
#define expect_undefined(name, args)                                                   \
	do {                                                                           \
		struct rego_bctx ctx_;                                                 \
		char *text_ = NULL;                                                    \
		int rc_ = ts_call((name), (args), &ctx_, &text_);                      \
		free(text_);                                                           \
		assert_int_equal(rc_, REGO_UNDEFINED);                                 \
	} while (0)

/* name(args) must return a string whose bytes equal want. */
#define expect_str(bname, args, want)                                                   \
	do {                                                                           \
		const struct rego_builtin *bi_ = rego_builtin_find(bname);              \
		struct rv *args_ = ts_value(args);                                     \
		struct rv *res_ = NULL;                                                \
		struct rego_bctx ctx_ = { .name = (bname) };                            \
		assert_non_null(bi_);                                                  \
		assert_int_equal(bi_->fn(&ctx_, args_->u.arr.items, rv_array_len(args_), &res_), 0); \
		assert_true(rv_is(res_, RV_STRING));                                   \
		assert_string_equal(rv_str(res_), (want));                             \
		rv_unref(res_);                                                        \
		rv_unref(args_);                                                       \
	} while (0)
