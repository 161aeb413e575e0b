/* Helpers for the crypto, JWT, time and net builtin tests: arguments written
 * as JSON (an object {"$set": [...]} is read as a set), calls through the
 * registry, and exact checks of results and error messages. */
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

/* The query time the tests run at: 2024-02-29T12:00:00Z. */
#define TB_NOW_NS INT64_C(1709208000000000000)

/* Rebuilds v with every {"$set": [...]} object turned into a set. */
static inline struct rv *tb_convert(struct rv *v)
{
	struct rv *out;

	if (rv_is(v, RV_OBJECT) && rv_len(v) == 1 && rv_object_get_str(v, "$set")) {
		struct rv *items = rv_object_get_str(v, "$set");

		out = rv_set_new(rv_array_len(items));
		assert_non_null(out);
		for (size_t i = 0; i < rv_array_len(items); i++)
			assert_int_equal(rv_set_add(out, tb_convert(rv_array_at(items, i))), 0);
		return out;
	}
	if (rv_is(v, RV_ARRAY)) {
		out = rv_array_new(rv_array_len(v));
		assert_non_null(out);
		for (size_t i = 0; i < rv_array_len(v); i++)
			assert_int_equal(rv_array_push(out, tb_convert(rv_array_at(v, i))), 0);
		return out;
	}
	if (rv_is(v, RV_OBJECT)) {
		out = rv_object_new(rv_len(v));
		assert_non_null(out);
		for (size_t i = 0; i < rv_len(v); i++) {
			struct rv *key, *value;

			rv_map_at(v, i, &key, &value);
			assert_int_equal(rv_object_put(out, tb_convert(key), tb_convert(value)), 0);
		}
		return out;
	}
	return rv_ref(v);
}

/* Parses the JSON array of arguments; a parse failure fails the test. */
static inline struct rv *tb_args(const char *json)
{
	struct rv *parsed = rv_parse_json(json, strlen(json), 256, NULL);
	struct rv *out;

	if (!parsed || !rv_is(parsed, RV_ARRAY))
		fail_msg("test arguments do not parse: %.200s", json);
	out = tb_convert(parsed);
	rv_unref(parsed);
	return out;
}

/* The outcome of one call: the result as JSON, or the error. */
struct tb_result {
	int rc;
	char json[1 << 16];
	const char *code;
	char message[1024];
};

/* Calls builtin name with the arguments in the JSON array args. */
static inline void tb_call_values(const char *name, struct rv *args, struct tb_result *res)
{
	const struct rego_builtin *bi = rego_builtin_find(name);
	struct rego_bctx ctx = { .name = name, .now_ns = TB_NOW_NS };
	struct rv *ret = NULL;
	struct wd_buf out;

	if (!bi)
		fail_msg("builtin %s is not registered", name);
	assert_int_equal(rv_array_len(args), bi->arity);
	memset(res, 0, sizeof(*res));
	res->rc = bi->fn(&ctx, args->u.arr.items, rv_array_len(args), &ret);
	if (res->rc < 0) {
		res->code = ctx.err_code;
		snprintf(res->message, sizeof(res->message), "%s", ctx.err_msg);
		return;
	}
	if (res->rc == REGO_UNDEFINED)
		return;
	wd_buf_init(&out, 256, sizeof(res->json) - 1);
	assert_int_equal(rv_write_json(ret, &out), 0);
	snprintf(res->json, sizeof(res->json), "%s", wd_buf_str(&out));
	wd_buf_free(&out);
	rv_unref(ret);
}

static inline void tb_call(const char *name, const char *args_json, struct tb_result *res)
{
	struct rv *args = tb_args(args_json);

	tb_call_values(name, args, res);
	rv_unref(args);
}

/* Asserts that name(args) returns the value written as want (JSON). */
static inline void tb_expect(const char *name, const char *args_json, const char *want)
{
	static struct tb_result res;

	tb_call(name, args_json, &res);
	if (res.rc != 0)
		fail_msg("%s(%.300s): error %s", name, args_json, res.message);
	assert_string_equal(res.json, want);
}

/* Asserts that name(args) fails with code and the exact message. */
static inline void tb_expect_error(const char *name, const char *args_json, const char *code,
			    const char *message)
{
	static struct tb_result res;

	tb_call(name, args_json, &res);
	if (res.rc >= 0)
		fail_msg("%s(%.300s): expected an error, got %s", name, args_json, res.json);
	assert_string_equal(res.code, code);
	assert_string_equal(res.message, message);
}

/* Appends s to out as a JSON string literal. */
static inline void tb_json_string(struct wd_buf *out, const char *s)
{
	assert_int_equal(wd_buf_append_byte(out, '"'), 0);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			assert_int_equal(wd_buf_appendf(out, "\\%c", *s), 0);
		else if (*s == '\n')
			assert_int_equal(wd_buf_append_str(out, "\\n"), 0);
		else
			assert_int_equal(wd_buf_append_byte(out, (uint8_t)*s), 0);
	}
	assert_int_equal(wd_buf_append_byte(out, '"'), 0);
}
