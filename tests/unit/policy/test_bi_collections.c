/* Unit tests of the collections builtins: sets, arrays, type tests and
 * casts. Objects, graphs and walk are in test_bi_collections_object.c. */
#include "test_bi_numbers_support.h"

#define SET(...) "{\"$set\": [" __VA_ARGS__ "]}"

static void test_set_operators(void **state)
{
	(void)state;
	check_value("{2,3}", "and", SET("1, 2, 3"), SET("2, 3, 4"));
	check_value("set()", "and", SET("1"), SET("2"));
	check_value("{1}", "and", SET("1"), SET("1.0, 5"));
	check_value("{1,2,3,4}", "or", SET("1, 2, 3"), SET("2, 3, 4"));
	check_value("{[1],{\"a\":1}}", "or", SET("[1]"), SET("{\"a\": 1}"));
	check_value("{1}", "set_diff", SET("1, 2"), SET("2, 3"));
	check_error(TYPE_ERR, "and: operand 1 must be set but got array", "and", "[1]", SET("1"));
	check_error(TYPE_ERR, "or: operand 2 must be set but got object", "or", SET("1"), "{}");
	check_error(TYPE_ERR, "set_diff: operand 2 must be set but got number", "set_diff",
		     SET("1"), "1");
}

static void test_intersection_union(void **state)
{
	(void)state;
	check_value("set()", "intersection", SET(""));
	check_value("{2}", "intersection", SET(SET("1, 2, 3") "," SET("2")));
	check_value("set()", "intersection", SET(SET("1, 2") "," SET("3") "," SET("1")));
	check_value("{\"d\"}", "intersection",
		     SET(SET("\"a\", \"d\"") "," SET("\"b\", \"d\"") "," SET("\"d\"")));
	check_value("set()", "union", SET(""));
	check_value("{1,2,3}", "union", SET(SET("1, 2") "," SET("3") "," SET("")));
	check_error(TYPE_ERR, "intersection: operand 1 must be set but got number",
		     "intersection", SET("1," SET("1")));
	check_error(TYPE_ERR, "union: operand 1 must be set but got array", "union",
		     SET("[1]"));
	check_error(TYPE_ERR, "union: operand 1 must be set but got array", "union", "[]");
}

static void test_array_concat_reverse_flatten(void **state)
{
	(void)state;
	check_value("[1,2,3,4]", "array.concat", "[1, 2]", "[3, 4]");
	check_value("[]", "array.concat", "[]", "[]");
	check_value("[[1],[2]]", "array.concat", "[[1]]", "[[2]]");
	check_error(TYPE_ERR, "array.concat: operand 2 must be array but got object",
		     "array.concat", "[1]", "{\"a\": 1}");
	check_error(TYPE_ERR, "array.concat: operand 1 must be array but got set",
		     "array.concat", SET("1"), "[]");

	check_value("[3,2,1]", "array.reverse", "[1, 2, 3]");
	check_value("[]", "array.reverse", "[]");
	check_error(TYPE_ERR, "array.reverse: operand 1 must be array but got string",
		     "array.reverse", "\"abc\"");

	check_value("[1,[2],3,{1}]", "array.flatten", "[[1, [2]], 3, [], " SET("1") "]");
	check_value("[]", "array.flatten", "[[], []]");
	check_error(TYPE_ERR, "array.flatten: operand 1 must be array but got set",
		     "array.flatten", SET("[1]"));
}

static void test_array_slice(void **state)
{
	(void)state;
	check_value("[2,3]", "array.slice", "[1, 2, 3, 4, 5]", "1", "3");
	check_value("[1,2]", "array.slice", "[1, 2, 3, 4, 5]", "-1", "2");
	check_value("[4,5]", "array.slice", "[1, 2, 3, 4, 5]", "3", "6");
	check_value("[]", "array.slice", "[1, 2, 3, 4, 5]", "4", "1");
	check_value("[]", "array.slice", "[1, 2, 3, 4, 5]", "-4", "-1");
	check_value("[]", "array.slice", "[1, 2, 3]", "1000", "2000");
	check_value("[1,2,3]", "array.slice", "[1, 2, 3]", "-9223372036854775808",
		     "9223372036854775807");
	check_error(TYPE_ERR, "array.slice: operand 2 must be integer number but got "
		     "floating-point number", "array.slice", "[1]", "0.5", "1");
	check_error(TYPE_ERR, "array.slice: operand 3 must be integer number but got "
		     "floating-point number", "array.slice", "[1]", "0", "18446744073709551616");
	check_error(TYPE_ERR, "array.slice: operand 2 must be number but got string",
		     "array.slice", "[1]", "\"0\"", "1");
	check_error(TYPE_ERR, "array.slice: operand 1 must be array but got null",
		     "array.slice", "null", "0", "1");
}

static void test_type_tests(void **state)
{
	static const char *const values[] = {
		"null", "true", "-42.0", "\"s\"", "[1]", "{\"a\": 1}", SET("1"),
	};
	static const char *const tests[] = {
		"is_null", "is_boolean", "is_number", "is_string", "is_array", "is_object",
		"is_set",
	};
	static const char *const names[] = {
		"\"null\"", "\"boolean\"", "\"number\"", "\"string\"", "\"array\"",
		"\"object\"", "\"set\"",
	};

	(void)state;
	for (size_t t = 0; t < 7; t++) {
		for (size_t v = 0; v < 7; v++)
			check_value(t == v ? "true" : "false", tests[t], values[v]);
		check_value(names[t], "type_name", values[t]);
	}
	check_value("\"set\"", "type_name", SET(""));
	check_value("\"object\"", "type_name", "{}");
}

static void test_casts(void **state)
{
	(void)state;
	check_value("[1,2]", "cast_array", "[1, 2]");
	check_value("[1,2,3]", "cast_array", SET("3, 1, 2"));
	check_error(TYPE_ERR, "cast_array: operand 1 must be one of {array, set} but got object",
		     "cast_array", "{}");
	check_value("{1,2}", "cast_set", "[2, 1, 2]");
	check_value("{1}", "cast_set", SET("1"));
	check_error(TYPE_ERR, "cast_set: operand 1 must be one of {array, set} but got string",
		     "cast_set", "\"ab\"");
	check_value("\"x\"", "cast_string", "\"x\"");
	check_error(TYPE_ERR, "cast_string: operand 1 must be string but got number",
		     "cast_string", "1");
	check_value("true", "cast_boolean", "true");
	check_error(TYPE_ERR, "cast_boolean: operand 1 must be boolean but got string",
		     "cast_boolean", "\"true\"");
	check_value("null", "cast_null", "null");
	check_error(TYPE_ERR, "cast_null: operand 1 must be null but got boolean", "cast_null",
		     "false");
	check_value("{\"a\":1}", "cast_object", "{\"a\": 1}");
	check_error(TYPE_ERR, "cast_object: operand 1 must be object but got array",
		     "cast_object", "[]");
}

static void test_table_declarations(void **state)
{
	(void)state;
	assert_string_equal(rego_builtin_find("and")->infix, "&");
	assert_string_equal(rego_builtin_find("or")->infix, "|");
	assert_true(rego_builtin_find("or")->flags & REGO_BI_INFIX);
	assert_true(rego_builtin_find("walk")->flags & REGO_BI_RELATION);
	assert_true(rego_builtin_find("set_diff")->flags & REGO_BI_DEPRECATED);
	assert_true(rego_builtin_find("cast_set")->flags & REGO_BI_DEPRECATED);
	assert_int_equal(rego_builtin_find("object.get")->arity, 3);
	assert_int_equal(rego_builtin_find("graph.reachable_paths")->arg_types[1],
			 RK_ARRAY | RK_SET);
	assert_null(rego_builtin_find("intersect"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_operators),
		cmocka_unit_test(test_intersection_union),
		cmocka_unit_test(test_array_concat_reverse_flatten),
		cmocka_unit_test(test_array_slice),
		cmocka_unit_test(test_type_tests),
		cmocka_unit_test(test_casts),
		cmocka_unit_test(test_table_declarations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
