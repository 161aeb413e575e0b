/* Unit tests for JSON and Rego text of values: the parser with its errors,
 * OPA's output order and escaping, and jansson conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	assert_roundtrip("{\"b\": 1, \"a\": [1.50, -0, 1e2, 1E-2]}", "{\"a\":[1.50,0,100,0.01],\"b\":1}");
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

/* A document above the arena threshold: records sharing one shape, shared
 * strings and numbers. */
static char *large_doc(size_t records, size_t *ret_len)
{
	struct wd_buf buf;

	wd_buf_init(&buf, 1 << 16, 1 << 26);
	assert_int_equal(wd_buf_append_str(&buf, "{\"records\":["), 0);
	for (size_t i = 0; i < records; i++) {
		assert_int_equal(wd_buf_appendf(&buf,
			"%s{\"id\":%zu,\"name\":\"n%zu\",\"tags\":[\"a\",\"b\"],"
			"\"score\":1.5,\"big\":12345678901,\"nested\":{\"k\":%zu},"
			"\"a\":0,\"b\":1,\"c\":2,\"d\":3}",
			i ? "," : "", i, i % 10, i), 0);
	}
	assert_int_equal(wd_buf_append_str(&buf, "]}"), 0);
	return wd_buf_take(&buf, ret_len);
}

static void json_large_document(void **state)
{
	size_t len;
	char *text = large_doc(2000, &len);
	struct rv *doc, *records, *r0, *r1, *k0, *k1, *v0, *v1, *copy;

	(void)state;
	assert_true(len > 64 * 1024);
	doc = js(text);
	records = rv_object_get_str(doc, "records");
	assert_int_equal(rv_array_len(records), 2000);
	r0 = rv_array_at(records, 0);
	r1 = rv_array_at(records, 1999);
	assert_int_equal(rv_len(r1), 10);
	assert_text(rv_write_json, rv_ref(r1),
		    "{\"a\":0,\"b\":1,\"big\":12345678901,\"c\":2,\"d\":3,\"id\":1999,"
		    "\"name\":\"n9\",\"nested\":{\"k\":1999},\"score\":1.5,\"tags\":[\"a\",\"b\"]}");

	/* Records share their keys, small strings and numbers. */
	rv_map_at(r0, 4, &k0, &v0);
	rv_map_at(r1, 4, &k1, &v1);
	assert_string_equal(rv_str(k0), "big");
	assert_true(k0 == k1);
	assert_true(v0 == v1);
	assert_string_equal(rv_str(rv_object_get_str(r1, "name")), "n9");
	assert_null(rv_object_get_str(r1, "missing"));
	assert_true(rv_object_get(r1, k0) == v1);

	/* Equal to the same record built by hand, hash included. */
	copy = js("{\"d\":3,\"c\":2,\"b\":1,\"a\":0,\"nested\":{\"k\":1999},"
		  "\"big\":12345678901,\"score\":1.5,\"tags\":[\"a\",\"b\"],\"name\":\"n9\","
		  "\"id\":1999}");
	assert_int_equal(rv_compare(copy, r1), 0);
	assert_true(rv_hash(copy) == rv_hash(r1));
	rv_unref(copy);

	/* A parsed record changes like any fresh object. */
	r1 = rv_ref(r1);
	rv_unref(doc);
	assert_int_equal(rv_object_put(r1, rv_cstring("name"), rv_cstring("renamed")), 0);
	assert_int_equal(rv_object_put(r1, rv_cstring("extra"), rv_int(7)), 0);
	assert_int_equal(rv_len(r1), 11);
	assert_string_equal(rv_str(rv_object_get_str(r1, "name")), "renamed");
	assert_int_equal(rv_array_push(rv_object_get_str(r1, "tags"), rv_cstring("c")), 0);
	assert_text(rv_write_json, r1,
		    "{\"a\":0,\"b\":1,\"big\":12345678901,\"c\":2,\"d\":3,\"extra\":7,"
		    "\"id\":1999,\"name\":\"renamed\",\"nested\":{\"k\":1999},\"score\":1.5,"
		    "\"tags\":[\"a\",\"b\",\"c\"]}");

	/* Frozen, then freed once though shapes and strings are shared. */
	doc = js(text);
	rv_freeze(doc);
	records = rv_object_get_str(doc, "records");
	rv_map_sorted_at(rv_array_at(records, 5), 9, &k0, &v0);
	assert_string_equal(rv_str(k0), "tags");
	rv_free_frozen(doc);
	free(text);
}

static void json_large_duplicate_keys(void **state)
{
	struct wd_buf buf;
	struct rv *v;

	(void)state;
	/* The first "a" and its strings are freed by the second; the strings
	 * after it must not come from a stale cache. */
	wd_buf_init(&buf, 1 << 17, 1 << 20);
	for (int i = 0; i < 70000; i++)
		assert_int_equal(wd_buf_append_byte(&buf, ' '), 0);
	assert_int_equal(wd_buf_append_str(&buf,
		"{\"a\":{\"s\":\"word\",\"n\":2.5},\"a\":[\"word\",2.5],\"x\":\"word\","
		"\"y\":2.5,\"z\":{\"s\":\"word\",\"n\":2.5}}"), 0);
	v = rv_parse_json(wd_buf_str(&buf), wd_buf_len(&buf), 0, NULL);
	assert_non_null(v);
	assert_text(rv_write_json, v,
		    "{\"a\":[\"word\",2.5],\"x\":\"word\",\"y\":2.5,\"z\":{\"n\":2.5,\"s\":\"word\"}}");
	wd_buf_free(&buf);
}

/* Containers of more than 65536 items move them off the parse stack while
 * they grow; the result is the same. */
static void json_long_containers(void **state)
{
	struct wd_buf buf;
	struct rv *v, *arr, *obj;

	(void)state;
	wd_buf_init(&buf, 1 << 20, 1 << 24);
	assert_int_equal(wd_buf_append_str(&buf, "{\"arr\":["), 0);
	for (int i = 0; i < 200000; i++)
		assert_int_equal(wd_buf_appendf(&buf, "%s%d", i ? "," : "", i), 0);
	assert_int_equal(wd_buf_append_str(&buf, "],\"obj\":{"), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(wd_buf_appendf(&buf, "%s\"k%d\":\"v%d\"", i ? "," : "", i, i % 100),
				 0);
	/* A duplicate far from the first: the last value wins. */
	assert_int_equal(wd_buf_append_str(&buf, ",\"k5\":\"again\"}}"), 0);

	v = rv_parse_json(wd_buf_str(&buf), wd_buf_len(&buf), 0, NULL);
	assert_non_null(v);
	arr = rv_object_get_str(v, "arr");
	obj = rv_object_get_str(v, "obj");
	assert_int_equal(rv_array_len(arr), 200000);
	assert_int_equal(rv_compare(rv_array_at(arr, 199999), rv_array_at(arr, 199999)), 0);
	assert_true(rv_number_to_double(rv_array_at(arr, 123456)) == 123456.0);
	assert_int_equal(rv_len(obj), 100000);
	assert_string_equal(rv_str(rv_object_get_str(obj, "k5")), "again");
	assert_string_equal(rv_str(rv_object_get_str(obj, "k99999")), "v99");
	assert_int_equal(rv_array_push(arr, rv_int(7)), 0);
	rv_unref(v);

	/* An error after a spill frees what was built. */
	wd_buf_truncate(&buf, 600000);
	assert_null(rv_parse_json(wd_buf_str(&buf), wd_buf_len(&buf), 0, NULL));
	wd_buf_free(&buf);
}

static void json_parse_fd(void **state)
{
	char path[] = "/tmp/test_value_json_XXXXXX";
	int fd = mkstemp(path), fds[2];
	size_t len;
	char *text = large_doc(3000, &len);
	struct wd_buf err;
	struct rv *v;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	v = rv_parse_json_fd(fd, len, 0, NULL);
	assert_non_null(v);
	assert_int_equal(rv_array_len(rv_object_get_str(v, "records")), 3000);
	rv_unref(v);

	wd_buf_init(&err, 64, 4096);
	assert_null(rv_parse_json_fd(fd, len - 1, 0, &err));
	assert_string_equal(wd_buf_str(&err), "JSON document larger than 342792 bytes");
	wd_buf_free(&err);
	assert_true(len == 342793);
	close(fd);
	free(text);

	/* Pipes are read to the end, with the same ceiling. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "[1, {\"a\": \"b\"}]", 15), 15);
	close(fds[1]);
	assert_text(rv_write_json, rv_parse_json_fd(fds[0], 100, 0, NULL), "[1,{\"a\":\"b\"}]");
	close(fds[0]);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "[1, 2, 3]", 9), 9);
	close(fds[1]);
	wd_buf_init(&err, 64, 4096);
	assert_null(rv_parse_json_fd(fds[0], 4, 0, &err));
	assert_string_equal(wd_buf_str(&err), "JSON document larger than 4 bytes");
	wd_buf_free(&err);
	close(fds[0]);

	wd_buf_init(&err, 64, 4096);
	assert_null(rv_parse_json_fd(-1, 4, 0, &err));
	assert_string_equal(wd_buf_str(&err), "cannot read JSON document");
	wd_buf_free(&err);
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
		cmocka_unit_test(json_large_document),
		cmocka_unit_test(json_large_duplicate_keys),
		cmocka_unit_test(json_long_containers),
		cmocka_unit_test(json_parse_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
