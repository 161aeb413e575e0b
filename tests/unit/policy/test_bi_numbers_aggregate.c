/* Unit tests of the aggregate builtins: count, sum, product, max, min, sort,
 * all and any. */
#include "test_bi_numbers_support.h"

static void test_count(void **state)
{
	(void)state;
	expect_value("3", "count", "[1, [2], {}]");
	expect_value("0", "count", "[]");
	expect_value("2", "count", "{\"a\": 1, \"b\": 2}");
	expect_value("2", "count", "{\"$set\": [1, 1.0, 2]}");
	expect_value("5", "count", "\"h\\u00e9llo\"");
	expect_value("1", "count", "\"\\ud83d\\ude00\"");
	expect_value("0", "count", "\"\"");
	expect_error(TYPE_ERR, "count: operand 1 must be one of {array, object, set, string} but "
		     "got number", "count", "5");
	expect_error(TYPE_ERR, "count: operand 1 must be one of {array, object, set, string} but "
		     "got null", "count", "null");
	expect_error(TYPE_ERR, "count: operand 1 must be one of {array, object, set, string} but "
		     "got boolean", "count", "false");
}

static void test_sum_product(void **state)
{
	(void)state;
	expect_value("10", "sum", "[1, 2, 3, 4]");
	expect_value("0", "sum", "[]");
	expect_value("3", "sum", "{\"$set\": [1, 2]}");
	expect_value("6.5", "sum", "[1, 2, 3.5]");
	expect_value("3", "sum", "[2.0, 1]");
	expect_value("18446744073709551614", "sum",
		     "[9223372036854775807, 9223372036854775807]");
	expect_value("0", "sum", "[-9223372036854775808, 9223372036854775807, 1]");
	expect_value("24", "product", "[1, 2, 3, 4]");
	expect_value("1", "product", "[]");
	expect_value("24", "product", "{\"$set\": [1, 2, 3, 4]}");
	expect_value("5", "product", "[2, 2.5]");
	expect_value("340282366920938463463374607431768211456", "product",
		     "[18446744073709551616, 18446744073709551616]");

	expect_error(TYPE_ERR, "sum: operand 1 must be array of numbers but got array containing "
		     "string", "sum", "[1, \"2\", null]");
	expect_error(TYPE_ERR, "sum: operand 1 must be array of numbers but got array containing "
		     "null", "sum", "[1.5, null]");
	/* A set is visited in sorted order: null comes before strings. */
	expect_error(TYPE_ERR, "sum: operand 1 must be set of numbers but got set containing null",
		     "sum", "{\"$set\": [1, \"2\", null]}");
	expect_error(TYPE_ERR, "product: operand 1 must be array of numbers but got array "
		     "containing object", "product", "[{}]");
	expect_error(TYPE_ERR, "sum: operand 1 must be one of {set, array} but got object", "sum",
		     "{}");
	expect_error(TYPE_ERR, "product: operand 1 must be one of {set, array} but got string",
		     "product", "\"12\"");
}

static void test_max_min(void **state)
{
	(void)state;
	expect_value("4", "max", "[1, 4, 2]");
	expect_value("4", "max", "{\"$set\": [1, 4, 2]}");
	expect_value("\"a\"", "max", "[1, \"a\", null, 2]");
	expect_value("[0]", "max", "[1, [0], \"z\"]");
	expect_value("null", "min", "[1, \"a\", null, 2]");
	expect_value("-7", "min", "[3, 2, 1, 4, 6, -7, 10]");
	expect_value("1", "min", "{\"$set\": [3, 1, 2]}");
	expect_value("false", "min", "{\"$set\": [\"x\", false, true]}");

	/* Among equal items OPA keeps the last one. */
	expect_value("1.0", "max", "[1, 1.0]");
	expect_value("1", "min", "[1.0, 1]");

	expect_undefined("max", "[]");
	expect_undefined("min", "{\"$set\": []}");
	expect_error(TYPE_ERR, "max: operand 1 must be one of {set, array} but got number", "max",
		     "1");
	expect_error(TYPE_ERR, "min: operand 1 must be one of {set, array} but got object", "min",
		     "{\"a\": 1}");
}

static void test_sort(void **state)
{
	(void)state;
	expect_value("[1,2,3,4]", "sort", "[4, 3, 2, 1]");
	expect_value("[null,false,1,\"a\",[],{},set()]", "sort",
		     "[{\"$set\": []}, {}, [], \"a\", 1, false, null]");
	expect_value("[1,2,3]", "sort", "{\"$set\": [3, 1, 2]}");
	expect_value("[]", "sort", "[]");
	expect_value("[[1],[1,2],[2]]", "sort", "[[2], [1, 2], [1]]");
	expect_value("[1,1,2]", "sort", "[2, 1, 1]");
	expect_error(TYPE_ERR, "sort: operand 1 must be one of {set, array} but got string",
		     "sort", "\"cba\"");
}

static void test_all_any(void **state)
{
	(void)state;
	expect_value("true", "all", "[]");
	expect_value("true", "all", "[true, true]");
	expect_value("false", "all", "[true, 1]");
	expect_value("false", "all", "{\"$set\": [true, false]}");
	expect_value("false", "any", "[]");
	expect_value("true", "any", "[false, true]");
	expect_value("false", "any", "[\"true\", 1]");
	expect_value("true", "any", "{\"$set\": [true, false]}");
	expect_value("false", "any", "{\"$set\": []}");
	expect_error(TYPE_ERR, "all: operand 1 must be one of {array, set} but got boolean",
		     "all", "true");
	expect_error(TYPE_ERR, "any: operand 1 must be one of {array, set} but got object", "any",
		     "{}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_sum_product),
		cmocka_unit_test(test_max_min),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_all_any),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
