/* Unit tests for JSON and Rego text of values: the parser with its errors,
 * OPA's output order and escaping, and jansson conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "policy/value.h"

static struct rv *js(const char *text)
{
	struct wd_buf err;
	struct rv *v;

	wd_buf_init(&err, 64, 4096);
	v = rv_parse_json(text, strlen(text), 0, &err);
	if (!v)
		fail_msg("%s: %s", text, wd_buf_str(&err));
	wd_buf_free(&err);
	return v;
}

static void assert_text(int (*writer)(const struct rv *, struct wd_buf *), struct rv *v,
			const char *want)
{
	struct wd_buf buf;

	wd_buf_init(&buf, 64, 1 << 24);
	assert_int_equal(writer(v, &buf), 0);
	assert_string_equal(wd_buf_str(&buf), want);
	wd_buf_free(&buf);
	rv_unref(v);
}

/* Parses and writes back compact JSON. */
static void assert_roundtrip(const char *in, const char *want)
{
	assert_text(rv_write_json, js(in), want);
}

static void assert_parse_error(const char *in, size_t len, size_t depth, const char *want)
{
	struct wd_buf err;

	wd_buf_init(&err, 64, 4096);
	assert_null(rv_parse_json(in, len, depth, &err));
	assert_string_equal(wd_buf_str(&err), want);
	wd_buf_free(&err);
}

static void json_parse_values(void **state)
{
	(void)state;
	assert_roundtrip(" null ", "null");
	assert_roundtrip("true", "true");
	assert_roundtrip("[false, true,null]", "[false,true,null]");
	assert_roundtrip("{\"b\": 1, \"a\": [1.50, -0, 1e2, 1E-2]}", "{\"a\":[1.5,0,100,0.01],\"b\":1}");
	assert_roundtrip("123456789012345678901234567890", "123456789012345678901234567890");
	assert_roundtrip("0.1000000000000000000000000001", "0.1000000000000000000000000001");
	assert_roundtrip("{\"a\":1,\"a\":2}", "{\"a\":2}");
	assert_roundtrip("{}", "{}");
	assert_roundtrip("[]", "[]");
	assert_roundtrip("[[[[]]]]", "[[[[]]]]");
	assert_roundtrip("\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"", "\"é😀\\n\\t\\\"\\\\/\"");
	/* Lone surrogates become U+FFFD, as Go's decoder makes them. */
	assert_roundtrip("\"\\ud800x\\udc00\\ud800\\u0041\"", "\"�x��A\"");
	assert_roundtrip("\"ü€😀\"", "\"ü€😀\"");
}

static void json_parse_shares_strings(void **state)
{
	struct rv *v = js("[{\"name\":\"x\"},{\"name\":\"x\"}]");
	struct rv *k1, *k2, *v1, *v2;

	(void)state;
	rv_map_at(rv_array_at(v, 0), 0, &k1, &v1);
	rv_map_at(rv_array_at(v, 1), 0, &k2, &v2);
	assert_true(k1 == k2);
	assert_true(v1 == v2);
	rv_unref(v);
}

static void json_parse_errors(void **state)
{
	(void)state;
	assert_parse_error("", 0, 0, "invalid JSON at byte 0: unexpected end of input");
	assert_parse_error("   ", 3, 0, "invalid JSON at byte 3: unexpected end of input");
	assert_parse_error("[1,]", 4, 0, "invalid JSON at byte 3: expected a value");
	assert_parse_error("[,1]", 4, 0, "invalid JSON at byte 1: expected a value");
	assert_parse_error("{\"a\" 1}", 7, 0, "invalid JSON at byte 5: expected ':'");
	assert_parse_error("{1:2}", 5, 0, "invalid JSON at byte 1: expected string key");
	assert_parse_error("{\"a\":1,}", 8, 0, "invalid JSON at byte 7: expected string key");
	assert_parse_error("[1 2]", 5, 0, "invalid JSON at byte 3: expected ',' or ']'");
	assert_parse_error("{\"a\":1]", 7, 0, "invalid JSON at byte 6: expected ',' or '}'");
	assert_parse_error("1 2", 3, 0, "invalid JSON at byte 2: unexpected data after the value");
	assert_parse_error("tru", 3, 0, "invalid JSON at byte 0: invalid literal");
	assert_parse_error("nul", 3, 0, "invalid JSON at byte 0: invalid literal");
	assert_parse_error("01", 2, 0, "invalid JSON at byte 0: invalid number");
	assert_parse_error("-", 1, 0, "invalid JSON at byte 0: invalid number");
	assert_parse_error("1.e5", 4, 0, "invalid JSON at byte 0: invalid number");
	assert_parse_error("1e999999999999", 14, 0, "invalid JSON at byte 0: invalid number");
	assert_parse_error("NaN", 3, 0, "invalid JSON at byte 0: expected a value");
	assert_parse_error("\"abc", 4, 0, "invalid JSON at byte 4: unterminated string");
	assert_parse_error("\"a\\", 3, 0, "invalid JSON at byte 3: unterminated string");
	assert_parse_error("\"\\x\"", 4, 0, "invalid JSON at byte 2: invalid escape in string");
	assert_parse_error("\"\\u12zz\"", 8, 0, "invalid JSON at byte 3: invalid \\u escape");
	assert_parse_error("\"\\u12", 5, 0, "invalid JSON at byte 3: truncated \\u escape");
	assert_parse_error("\"a\tb\"", 5, 0, "invalid JSON at byte 2: control character in string");
	assert_parse_error("\"\xff\"", 3, 0, "invalid JSON at byte 1: invalid UTF-8 in string");
	assert_parse_error("\"\xc0\xaf\"", 4, 0, "invalid JSON at byte 1: invalid UTF-8 in string");
	assert_parse_error("\"\xed\xa0\x80\"", 5, 0, "invalid JSON at byte 1: invalid UTF-8 in string");
	assert_parse_error("\"\xe2\x82\"", 4, 0, "invalid JSON at byte 1: invalid UTF-8 in string");
	assert_parse_error("\"x\\n\xff\"", 6, 0, "invalid JSON at byte 4: invalid UTF-8 in string");
	assert_parse_error("[[[1]]]", 7, 2, "invalid JSON at byte 2: nesting too deep");
	assert_parse_error("{\"a\":{\"b\":1}}", 13, 1, "invalid JSON at byte 5: nesting too deep");
	assert_parse_error("[1]\0", 4, 0, "invalid JSON at byte 3: unexpected data after the value");
	assert_null(rv_parse_json("[", 1, 0, NULL));
}

static void json_parse_deep_default_limit(void **state)
{
	size_t n = 5000;
	char *deep = malloc(2 * n);
	struct rv *v;

	(void)state;
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	assert_parse_error(deep, 2 * n, 0, "invalid JSON at byte 1000: nesting too deep");
	v = rv_parse_json(deep, 2 * n, 100000, NULL);
	assert_non_null(v);
	rv_unref(v);
	free(deep);
}

static void json_write_sets_and_keys(void **state)
{
	struct rv *set = rv_set_new(0), *obj;

	(void)state;
	assert_int_equal(rv_set_add(set, rv_cstring("b")), 0);
	assert_int_equal(rv_set_add(set, rv_int(2)), 0);
	assert_int_equal(rv_set_add(set, rv_cstring("a")), 0);
	assert_int_equal(rv_set_add(set, rv_null()), 0);
	assert_text(rv_write_json, rv_ref(set), "[null,2,\"a\",\"b\"]");
	assert_text(rv_write_rego, set, "{null, 2, \"a\", \"b\"}");

	/* Non-string keys are written as their JSON text, then all keys sort
	 * as strings: "10" before "9" before "[1]". */
	obj = rv_object_new(0);
	assert_int_equal(rv_object_put(obj, rv_int(9), rv_cstring("nine")), 0);
	assert_int_equal(rv_object_put(obj, rv_int(10), rv_cstring("ten")), 0);
	assert_int_equal(rv_object_put(obj, js("[1]"), rv_bool(true)), 0);
	assert_int_equal(rv_object_put(obj, js("{\"k\":\"<\"}"), rv_null()), 0);
	assert_int_equal(rv_object_put(obj, rv_cstring("a"), rv_int(0)), 0);
	assert_text(rv_write_json, rv_ref(obj),
		    "{\"10\":\"ten\",\"9\":\"nine\",\"[1]\":true,\"a\":0,"
		    "\"{\\\"k\\\":\\\"\\\\u003c\\\"}\":null}");
	assert_text(rv_write_rego, obj,
		    "{9: \"nine\", 10: \"ten\", \"a\": 0, [1]: true, {\"k\": \"<\"}: null}");

	/* Two keys with the same text: the later in OPA's order wins. */
	obj = rv_object_new(0);
	assert_int_equal(rv_object_put(obj, rv_cstring("1"), rv_cstring("string")), 0);
	assert_int_equal(rv_object_put(obj, rv_int(1), rv_cstring("number")), 0);
	assert_text(rv_write_json, obj, "{\"1\":\"string\"}");
}

static void json_write_escapes(void **state)
{
	(void)state;
	assert_text(rv_write_json, rv_string("<a&b>\"\\\n\r\t\b\f\x01\x1f\x7f", 15),
		    "\"\\u003ca\\u0026b\\u003e\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
	assert_text(rv_write_json, rv_cstring("\xe2\x80\xa8\xe2\x80\xa9é"),
		    "\"\\u2028\\u2029é\"");
	assert_text(rv_write_json, rv_string("a\xff" "b\0", 4), "\"a\\ufffdb\\u0000\"");
	assert_text(rv_write_rego, rv_string("<a>\"\\\n\a\v\x01\x7f\xff é\xe2\x80\xa8", 17),
		    "\"<a>\\\"\\\\\\n\\a\\v\\x01\\x7f\\xff é\\u2028\"");
}

static void json_write_pretty(void **state)
{
	(void)state;
	assert_text(rv_write_json_pretty, js("{\"b\":[1,{}],\"a\":{\"c\":[]},\"d\":\"x\"}"),
		    "{\n  \"a\": {\n    \"c\": []\n  },\n  \"b\": [\n    1,\n    {}\n  ],\n"
		    "  \"d\": \"x\"\n}");
	assert_text(rv_write_json_pretty, js("7"), "7");
}

static void json_write_rego(void **state)
{
	(void)state;
	assert_text(rv_write_rego, js("{\"b\":[1,2.5,null],\"a\":{}}"),
		    "{\"a\": {}, \"b\": [1, 2.5, null]}");
	assert_text(rv_write_rego, rv_set_new(0), "set()");
	assert_text(rv_write_rego, rv_array_new(0), "[]");
	assert_text(rv_write_rego, js("\"q\""), "\"q\"");
}

static void json_jansson(void **state)
{
	json_t *j = json_loads("{\"a\":[1,2.5,\"x\",null,true,false],\"b\":{\"c\":-3}}", 0, NULL);
	struct rv *v, *set;
	char *text;

	(void)state;
	v = rv_from_json(j);
	json_decref(j);
	assert_non_null(v);
	assert_text(rv_write_json, rv_ref(v), "{\"a\":[1,2.5,\"x\",null,true,false],\"b\":{\"c\":-3}}");

	j = rv_to_json(v);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"a\":[1,2.5,\"x\",null,true,false],\"b\":{\"c\":-3}}");
	free(text);
	json_decref(j);
	rv_unref(v);

	set = rv_set_new(0);
	assert_int_equal(rv_set_add(set, rv_int(3)), 0);
	assert_int_equal(rv_set_add(set, rv_int(1)), 0);
	v = rv_object_new(0);
	assert_int_equal(rv_object_put(v, rv_int(5), set), 0);
	j = rv_to_json(v);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"5\":[1,3]}");
	free(text);
	json_decref(j);
	rv_unref(v);
	assert_null(rv_from_json(NULL));
	assert_null(rv_to_json(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_parse_values),
		cmocka_unit_test(json_parse_shares_strings),
		cmocka_unit_test(json_parse_errors),
		cmocka_unit_test(json_parse_deep_default_limit),
		cmocka_unit_test(json_write_sets_and_keys),
		cmocka_unit_test(json_write_escapes),
		cmocka_unit_test(json_write_pretty),
		cmocka_unit_test(json_write_rego),
		cmocka_unit_test(json_jansson),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
