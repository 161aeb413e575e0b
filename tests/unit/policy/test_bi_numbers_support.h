/* Helpers for the builtin unit tests: values written as JSON (an object
 * {"$set": [...]} stands for a set), calls through the registry, and a
 * printer that distinguishes sets from arrays. */
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
static struct rv *tv_convert(struct rv *v)
{
	struct rv *out = NULL;

	if (rv_is(v, RV_OBJECT) && rv_len(v) == 1) {
		struct rv *items = rv_object_get_str(v, "$set");

		if (items && rv_is(items, RV_ARRAY)) {
			out = rv_set_new(rv_array_len(items));
			assert_non_null(out);
			for (size_t i = 0; i < rv_array_len(items); i++)
				assert_int_equal(rv_set_add(out, tv_convert(rv_array_at(items, i))), 0);
			return out;
		}
	}
	if (rv_is(v, RV_ARRAY)) {
		out = rv_array_new(rv_array_len(v));
		assert_non_null(out);
		for (size_t i = 0; i < rv_array_len(v); i++)
			assert_int_equal(rv_array_push(out, tv_convert(rv_array_at(v, i))), 0);
		return out;
	}
	if (rv_is(v, RV_OBJECT)) {
		out = rv_object_new(rv_len(v));
		assert_non_null(out);
		for (size_t i = 0; i < rv_len(v); i++) {
			struct rv *key, *value;

			rv_map_at(v, i, &key, &value);
			assert_int_equal(rv_object_put(out, tv_convert(key), tv_convert(value)), 0);
		}
		return out;
	}
	return rv_ref(v);
}

/* Parses a test value; a failure to parse fails the test. */
static struct rv *tv(const char *text)
{
	struct rv *parsed = rv_parse_json(text, strlen(text), 256, NULL);
	struct rv *out;

	if (!parsed)
		fail_msg("test value does not parse: %s", text);
	out = tv_convert(parsed);
	rv_unref(parsed);
	return out;
}

/* Prints v as JSON, except that sets print as {a,b} (set() when empty) in
 * sorted order, so a test can tell them from arrays. */
static void tshow_into(const struct rv *v, struct wd_buf *out)
{
	size_t n;

	switch (rv_kind_of(v)) {
	case RV_ARRAY:
		assert_int_equal(wd_buf_append_byte(out, '['), 0);
		for (size_t i = 0; i < rv_array_len(v); i++) {
			if (i)
				assert_int_equal(wd_buf_append_byte(out, ','), 0);
			tshow_into(rv_array_at(v, i), out);
		}
		assert_int_equal(wd_buf_append_byte(out, ']'), 0);
		return;
	case RV_OBJECT:
	case RV_SET:
		n = rv_len(v);
		if (rv_is(v, RV_SET) && n == 0) {
			assert_int_equal(wd_buf_append_str(out, "set()"), 0);
			return;
		}
		assert_int_equal(wd_buf_append_byte(out, '{'), 0);
		for (size_t i = 0; i < n; i++) {
			struct rv *key, *value;

			rv_map_sorted_at(v, i, &key, &value);
			if (i)
				assert_int_equal(wd_buf_append_byte(out, ','), 0);
			tshow_into(key, out);
			if (rv_is(v, RV_OBJECT)) {
				assert_int_equal(wd_buf_append_byte(out, ':'), 0);
				tshow_into(value, out);
			}
		}
		assert_int_equal(wd_buf_append_byte(out, '}'), 0);
		return;
	default:
		assert_int_equal(rv_write_json(v, out), 0);
		return;
	}
}

/* The result of one builtin call. */
struct tcall {
	int rc;
	char shown[1 << 16];
	struct rego_bctx ctx;
};

static void tcall_run(struct tcall *call, const char *name, const char *const *args, size_t n)
{
	const struct rego_builtin *bi = rego_builtin_find(name);
	struct rv *argv[REGO_BUILTIN_MAX_ARGS] = { 0 };
	struct rv *ret = NULL;
	struct wd_buf out;

	if (!bi)
		fail_msg("no builtin named %s", name);
	assert_int_equal(bi->arity, n);

	memset(call, 0, sizeof(*call));
	call->ctx.name = name;
	for (size_t i = 0; i < n; i++)
		argv[i] = tv(args[i]);

	call->rc = bi->fn(&call->ctx, argv, n, &ret);
	if (call->rc == 0) {
		assert_non_null(ret);
		wd_buf_init(&out, 256, 1u << 24);
		tshow_into(ret, &out);
		snprintf(call->shown, sizeof(call->shown), "%s", wd_buf_str(&out));
		wd_buf_free(&out);
		rv_unref(ret);
	}
	for (size_t i = 0; i < n; i++)
		rv_unref(argv[i]);
}

#define TARGS(...) ((const char *const[]){ __VA_ARGS__ }), \
	(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* Asserts that name(args...) returns the value printed as want. */
#define check_value(want, name, ...)                                          \
	do {                                                                   \
		struct tcall call_;                                            \
		tcall_run(&call_, name, TARGS(__VA_ARGS__));                   \
		if (call_.rc != 0)                                             \
			fail_msg("%s failed (%d): %s", name, call_.rc,         \
				 call_.ctx.err_msg);                           \
		assert_string_equal(call_.shown, want);                        \
	} while (0)

/* Asserts that name(args...) has no result. */
#define check_undefined(name, ...)                                            \
	do {                                                                   \
		struct tcall call_;                                            \
		tcall_run(&call_, name, TARGS(__VA_ARGS__));                   \
		assert_int_equal(call_.rc, REGO_UNDEFINED);                    \
	} while (0)

/* Asserts that name(args...) fails with OPA's error code and message. */
#define check_error(code, message, name, ...)                                 \
	do {                                                                   \
		struct tcall call_;                                            \
		tcall_run(&call_, name, TARGS(__VA_ARGS__));                   \
		assert_true(call_.rc < 0);                                     \
		assert_non_null(call_.ctx.err_code);                           \
		assert_string_equal(call_.ctx.err_code, code);                 \
		assert_string_equal(call_.ctx.err_msg, message);               \
	} while (0)

#define TYPE_ERR "eval_type_error"
#define BUILTIN_ERR "eval_builtin_error"
#define CANCEL_ERR "eval_cancel_error"
