/* Unit tests of the JSON request helpers: parsing limits and the exact
 * error texts of the typed getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_json.h"

static json_t *parse_ok(const char *text)
{
	struct wd_error err;
	json_t *obj = NULL;

	wd_error_clear(&err);
	assert_int_equal(net_json_parse_object(text, strlen(text), 0, &obj, &err), 0);
	assert_non_null(obj);
	return obj;
}

static void expect_parse_error(const char *text, const char *message)
{
	struct wd_error err;
	json_t *obj = (json_t *)1;

	wd_error_clear(&err);
	assert_int_equal(net_json_parse_object(text, strlen(text), 0, &obj, &err), WD_EINVAL);
	assert_null(obj);
	assert_int_equal(err.code, WD_EINVAL);
	assert_string_equal(err.detail, message);
}

static void parse_syntax_errors(void **state)
{
	(void)state;
	expect_parse_error("{\"a\":}", "invalid JSON at line 1 column 6: unexpected token "
		"near '}'");
	expect_parse_error("{\"a\":1,\"a\":2}", "invalid JSON at line 1 column 10: duplicate "
		"object key near '\"a\"'");
	expect_parse_error("", "invalid JSON at line 1 column 0: '[' or '{' expected near end "
		"of file");
	expect_parse_error("{\"a\":1} x", "invalid JSON at line 1 column 9: end of file "
		"expected near 'x'");
	expect_parse_error("{\"a\":\"\\u0000\"}", "invalid JSON at line 1 column 13: \\u0000 "
		"is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'");
	expect_parse_error("[1]", "request body must be a JSON object");
}

static void parse_embedded_nul_byte(void **state)
{
	static const char body[] = "{\"a\":1}\0{}";
	struct wd_error err;
	json_t *obj = NULL;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(net_json_parse_object(body, sizeof(body) - 1, 0, &obj, &err),
		WD_EINVAL);
	assert_null(obj);
}

static void parse_depth_limit(void **state)
{
	char deep[256];
	struct wd_error err;
	json_t *obj = NULL;
	size_t n = 0;

	(void)state;
	/* {"a":[[[ ... ]]]}: one object and 31 arrays is 32 levels. */
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"a\":");
	for (int i = 0; i < 31; i++)
		deep[n++] = '[';
	for (int i = 0; i < 31; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	json_decref(parse_ok(deep));

	wd_error_clear(&err);
	assert_int_equal(net_json_parse_object(deep, n, 31, &obj, &err), WD_EINVAL);
	assert_string_equal(err.detail, "JSON nesting is deeper than 31 levels");
	assert_null(obj);
}

static void check_fields_unknown(void **state)
{
	static const char *const allowed[] = { "spiffe_id", "ttl" };
	json_t *obj = parse_ok("{\"spiffe_id\":\"x\",\"spife_id\":1}");
	json_t *ok = parse_ok("{\"ttl\":1}");
	json_t *hostile = parse_ok("{\"a\\nb\\\"c\":1}");
	struct wd_error err;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(net_json_check_fields(ok, allowed, 2, &err), 0);
	assert_int_equal(net_json_check_fields(obj, allowed, 2, &err), WD_EINVAL);
	assert_string_equal(err.detail, "unknown field \"spife_id\"");
	assert_int_equal(net_json_check_fields(hostile, allowed, 2, &err), WD_EINVAL);
	assert_string_equal(err.detail, "unknown field \"a?b?c\"");
	json_decref(obj);
	json_decref(ok);
	json_decref(hostile);
}

static void get_string_cases(void **state)
{
	json_t *obj = parse_ok("{\"spiffe_id\":\"spiffe://example.org/a\",\"n\":5,"
		"\"empty\":null}");
	const char *value = "stale";
	struct wd_error err;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(net_json_get_string(obj, "spiffe_id", true, 64, &value, &err), 1);
	assert_string_equal(value, "spiffe://example.org/a");

	assert_int_equal(net_json_get_string(obj, "spiffe_id", true, 10, &value, &err),
		WD_EINVAL);
	assert_null(value);
	assert_string_equal(err.detail, "field \"spiffe_id\" is longer than 10 bytes");

	assert_int_equal(net_json_get_string(obj, "n", true, 10, &value, &err), WD_EINVAL);
	assert_string_equal(err.detail, "field \"n\" must be a string");

	assert_int_equal(net_json_get_string(obj, "missing", true, 10, &value, &err), WD_EINVAL);
	assert_string_equal(err.detail, "missing field \"missing\"");

	assert_int_equal(net_json_get_string(obj, "missing", false, 10, &value, &err), 0);
	assert_null(value);
	assert_int_equal(net_json_get_string(obj, "empty", false, 10, &value, &err), 0);
	assert_int_equal(net_json_get_string(obj, "empty", true, 10, &value, &err), WD_EINVAL);
	assert_string_equal(err.detail, "missing field \"empty\"");
	json_decref(obj);
}

static void get_int_cases(void **state)
{
	json_t *obj = parse_ok("{\"ttl\":3600,\"neg\":-5,\"real\":1.0,\"text\":\"1\","
		"\"big\":9223372036854775807}");
	int64_t value = 7;
	struct wd_error err;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(net_json_get_int(obj, "ttl", true, 1, 86400, &value, &err), 1);
	assert_int_equal(value, 3600);
	assert_int_equal(net_json_get_int(obj, "big", true, INT64_MIN, INT64_MAX, &value, &err),
		1);
	assert_true(value == INT64_MAX);

	assert_int_equal(net_json_get_int(obj, "neg", true, 0, 10, &value, &err), WD_EINVAL);
	assert_int_equal(value, 0);
	assert_string_equal(err.detail, "field \"neg\" is -5, outside 0 to 10");

	assert_int_equal(net_json_get_int(obj, "ttl", true, 1, 60, &value, &err), WD_EINVAL);
	assert_string_equal(err.detail, "field \"ttl\" is 3600, outside 1 to 60");

	assert_int_equal(net_json_get_int(obj, "real", true, 0, 10, &value, &err), WD_EINVAL);
	assert_string_equal(err.detail, "field \"real\" must be an integer");
	assert_int_equal(net_json_get_int(obj, "text", true, 0, 10, &value, &err), WD_EINVAL);
	assert_string_equal(err.detail, "field \"text\" must be an integer");
	assert_int_equal(net_json_get_int(obj, "absent", false, 0, 10, &value, &err), 0);
	json_decref(obj);
}

static void get_bool_cases(void **state)
{
	json_t *obj = parse_ok("{\"admin\":true,\"off\":false,\"num\":1}");
	bool value = false;
	struct wd_error err;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(net_json_get_bool(obj, "admin", true, &value, &err), 1);
	assert_true(value);
	assert_int_equal(net_json_get_bool(obj, "off", true, &value, &err), 1);
	assert_false(value);
	assert_int_equal(net_json_get_bool(obj, "num", true, &value, &err), WD_EINVAL);
	assert_string_equal(err.detail, "field \"num\" must be true or false");
	assert_int_equal(net_json_get_bool(obj, "absent", true, &value, &err), WD_EINVAL);
	assert_string_equal(err.detail, "missing field \"absent\"");
	json_decref(obj);
}

static void get_string_array_cases(void **state)
{
	json_t *obj = parse_ok("{\"dns\":[\"a.example\",\"b.example\"],\"none\":[],"
		"\"mixed\":[\"a\",2],\"long\":[\"abcdef\"],\"scalar\":\"a\"}");
	const char **items = NULL;
	size_t count = 9;
	struct wd_error err;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(net_json_get_string_array(obj, "dns", true, 4, 16, &items, &count,
		&err), 1);
	assert_int_equal(count, 2);
	assert_string_equal(items[0], "a.example");
	assert_string_equal(items[1], "b.example");
	free(items);

	assert_int_equal(net_json_get_string_array(obj, "none", true, 4, 16, &items, &count,
		&err), 1);
	assert_int_equal(count, 0);
	assert_null(items);

	assert_int_equal(net_json_get_string_array(obj, "dns", true, 1, 16, &items, &count,
		&err), WD_EINVAL);
	assert_string_equal(err.detail, "field \"dns\" has 2 items, more than 1");
	assert_null(items);

	assert_int_equal(net_json_get_string_array(obj, "mixed", true, 4, 16, &items, &count,
		&err), WD_EINVAL);
	assert_string_equal(err.detail, "field \"mixed\" item 1 must be a string");

	assert_int_equal(net_json_get_string_array(obj, "long", true, 4, 5, &items, &count,
		&err), WD_EINVAL);
	assert_string_equal(err.detail, "field \"long\" item 0 is longer than 5 bytes");

	assert_int_equal(net_json_get_string_array(obj, "scalar", true, 4, 5, &items, &count,
		&err), WD_EINVAL);
	assert_string_equal(err.detail, "field \"scalar\" must be an array of strings");
	assert_int_equal(count, 0);
	json_decref(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_syntax_errors),
		cmocka_unit_test(parse_embedded_nul_byte),
		cmocka_unit_test(parse_depth_limit),
		cmocka_unit_test(check_fields_unknown),
		cmocka_unit_test(get_string_cases),
		cmocka_unit_test(get_int_cases),
		cmocka_unit_test(get_bool_cases),
		cmocka_unit_test(get_string_array_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
