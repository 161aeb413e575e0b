/* Unit tests of the aggregate builtins: count, sum, product, max, min, sort,
 * all and any. */
#include "test_bi_numbers_support.h"

static void test_count(void **state)
{
	(void)state;
	check_value("3", "count", "[1, [2], {}]");
	check_value("0", "count", "[]");
	check_value("2", "count", "{\"a\": 1, \"b\": 2}");
	check_value("2", "count", "{\"$set\": [1, 1.0, 2]}");
	check_value("5", "count", "\"h\\u00e9llo\"");
	check_value("1", "count", "\"\\ud83d\\ude00\"");
	check_value("0", "count", "\"\"");
	check_error(TYPE_ERR, "count: operand 1 must be one of {array, object, set, string} but "
		     "got number", "count", "5");
	check_error(TYPE_ERR, "count: operand 1 must be one of {array, object, set, string} but "
		     "got null", "count", "null");
	check_error(TYPE_ERR, "count: operand 1 must be one of {array, object, set, string} but "
		     "got boolean", "count", "false");
}

static void test_sum_product(void **state)
{
	(void)state;
	check_value("10", "sum", "[1, 2, 3, 4]");
	check_value("0", "sum", "[]");
	check_value("3", "sum", "{\"$set\": [1, 2]}");
	check_value("6.5", "sum", "[1, 2, 3.5]");
	check_value("3", "sum", "[2.0, 1]");
	check_value("18446744073709551614", "sum",
		     "[9223372036854775807, 9223372036854775807]");
	check_value("0", "sum", "[-9223372036854775808, 9223372036854775807, 1]");
	check_value("24", "product", "[1, 2, 3, 4]");
	check_value("1", "product", "[]");
	check_value("24", "product", "{\"$set\": [1, 2, 3, 4]}");
	check_value("5", "product", "[2, 2.5]");
	/* OPA's product rounds to a 53-bit mantissa at each step while reading
	 * each factor with 64 bits, so this is not the float64 product
	 * 0.006000000000000001. */
	check_value("0.006", "product", "[0.1, 0.2, 0.3]");
	check_value("0.000231", "product", "[0.1, 0.7, 3.3, 1e-3]");
	check_value("1499999999999999889089448902656", "product", "[1.5, 1e30]");
	check_value("0", "product", "[0.5, 0]");
	check_value("-0.25", "product", "{\"$set\": [-0.5, 0.5]}");
	check_value("340282366920938463463374607431768211456", "product",
		     "[18446744073709551616, 18446744073709551616]");

	check_error(TYPE_ERR, "sum: operand 1 must be array of numbers but got array containing "
		     "string", "sum", "[1, \"2\", null]");
	check_error(TYPE_ERR, "sum: operand 1 must be array of numbers but got array containing "
		     "null", "sum", "[1.5, null]");
	/* A set is visited in sorted order: null comes before strings. */
	check_error(TYPE_ERR, "sum: operand 1 must be set of numbers but got set containing null",
		     "sum", "{\"$set\": [1, \"2\", null]}");
	check_error(TYPE_ERR, "product: operand 1 must be array of numbers but got array "
		     "containing object", "product", "[{}]");
	check_error(TYPE_ERR, "sum: operand 1 must be one of {set, array} but got object", "sum",
		     "{}");
	check_error(TYPE_ERR, "product: operand 1 must be one of {set, array} but got string",
		     "product", "\"12\"");
}

static void test_max_min(void **state)
{
	(void)state;
	check_value("4", "max", "[1, 4, 2]");
	check_value("4", "max", "{\"$set\": [1, 4, 2]}");
	check_value("\"a\"", "max", "[1, \"a\", null, 2]");
	check_value("[0]", "max", "[1, [0], \"z\"]");
	check_value("null", "min", "[1, \"a\", null, 2]");
	check_value("-7", "min", "[3, 2, 1, 4, 6, -7, 10]");
	check_value("1", "min", "{\"$set\": [3, 1, 2]}");
	check_value("false", "min", "{\"$set\": [\"x\", false, true]}");


	check_undefined("max", "[]");
	check_undefined("min", "{\"$set\": []}");
	check_error(TYPE_ERR, "max: operand 1 must be one of {set, array} but got number", "max",
		     "1");
	check_error(TYPE_ERR, "min: operand 1 must be one of {set, array} but got object", "min",
		     "{\"a\": 1}");
}

/* Among equal items of an array (1 and 1.0) OPA keeps the last one. */
static void test_max_min_ties(void **state)
{
	struct rv *items = rv_array_new(2);
	struct rv *one = rv_int(1), *one_decimal = rv_number_parse("1.0", 3);
	struct rego_bctx ctx = { .name = "max" };
	struct rv *ret = NULL;

	(void)state;
	assert_non_null(items);
	assert_int_equal(rv_array_push(items, rv_ref(one)), 0);
	assert_int_equal(rv_array_push(items, rv_ref(one_decimal)), 0);

	assert_int_equal(rego_builtin_find("max")->fn(&ctx, &items, 1, &ret), 0);
	assert_ptr_equal(ret, one_decimal);
	rv_unref(ret);

	ctx.name = "min";
	assert_int_equal(rego_builtin_find("min")->fn(&ctx, &items, 1, &ret), 0);
	assert_ptr_equal(ret, one_decimal);
	rv_unref(ret);

	rv_unref(items);
	rv_unref(one);
	rv_unref(one_decimal);
}

static void test_sort(void **state)
{
	(void)state;
	check_value("[1,2,3,4]", "sort", "[4, 3, 2, 1]");
	check_value("[null,false,1,\"a\",[],{},set()]", "sort",
		     "[{\"$set\": []}, {}, [], \"a\", 1, false, null]");
	check_value("[1,2,3]", "sort", "{\"$set\": [3, 1, 2]}");
	check_value("[]", "sort", "[]");
	check_value("[[1],[1,2],[2]]", "sort", "[[2], [1, 2], [1]]");
	check_value("[1,1,2]", "sort", "[2, 1, 1]");
	check_error(TYPE_ERR, "sort: operand 1 must be one of {set, array} but got string",
		     "sort", "\"cba\"");
}

static void test_all_any(void **state)
{
	(void)state;
	check_value("true", "all", "[]");
	check_value("true", "all", "[true, true]");
	check_value("false", "all", "[true, 1]");
	check_value("false", "all", "{\"$set\": [true, false]}");
	check_value("false", "any", "[]");
	check_value("true", "any", "[false, true]");
	check_value("false", "any", "[\"true\", 1]");
	check_value("true", "any", "{\"$set\": [true, false]}");
	check_value("false", "any", "{\"$set\": []}");
	check_error(TYPE_ERR, "all: operand 1 must be one of {array, set} but got boolean",
		     "all", "true");
	check_error(TYPE_ERR, "any: operand 1 must be one of {array, set} but got object", "any",
		     "{}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_sum_product),
		cmocka_unit_test(test_max_min),
		cmocka_unit_test(test_max_min_ties),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_all_any),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
