/* Unit tests of the numbers builtins: arithmetic, comparison, to_number,
 * bits and numbers.range, with OPA's results and error messages. */
#include "test_bi_numbers_support.h"

static void test_plus_mul(void **state)
{
	(void)state;
	check_value("5", "plus", "2", "3");
	check_value("0.75", "plus", "0.5", "0.25");
	check_value("9223372036854775808", "plus", "9223372036854775807", "1");
	check_value("-9223372036854775809", "plus", "-9223372036854775808", "-1");
	check_value("98765432109876543210", "plus", "98765432109876543209", "1");
	check_value("42", "mul", "6", "7");
	check_value("85070591730234615847396907784232501249", "mul",
		     "9223372036854775807", "9223372036854775807");
	check_value("1", "mul", "0.5", "2");
	check_error(TYPE_ERR, "plus: operand 2 must be number but got string", "plus", "1",
		     "\"2\"");
	check_error(TYPE_ERR, "plus: operand 1 must be number but got null", "plus", "null",
		     "1");
	check_error(TYPE_ERR, "mul: operand 1 must be number but got array", "mul", "[2]", "3");
}

static void test_minus_numbers_and_sets(void **state)
{
	(void)state;
	check_value("-1", "minus", "2", "3");
	check_value("0.5", "minus", "1", "0.5");
	check_value("{1,3}", "minus", "{\"$set\": [1, 2, 3]}", "{\"$set\": [2]}");
	check_value("set()", "minus", "{\"$set\": [1]}", "{\"$set\": [1.0]}");
	check_value("{\"a\"}", "minus", "{\"$set\": [\"a\"]}", "{\"$set\": []}");

	/* Which operand OPA blames depends on what the first one is. */
	check_error(TYPE_ERR, "minus: operand 1 must be one of {number, set} but got string",
		     "minus", "\"a\"", "1");
	check_error(TYPE_ERR, "minus: operand 2 must be set but got number", "minus",
		     "{\"$set\": [1]}", "1");
	check_error(TYPE_ERR, "minus: operand 2 must be number but got set", "minus", "1",
		     "{\"$set\": [1]}");
	check_error(TYPE_ERR, "minus: operand 1 must be one of {number, set} but got array",
		     "minus", "[1]", "[1]");
}

static void test_div_rem(void **state)
{
	(void)state;
	check_value("3.5", "div", "7", "2");
	check_value("2", "div", "6", "3");
	check_value("-4", "div", "-12", "3");
	check_error(BUILTIN_ERR, "div: divide by zero", "div", "1", "0");
	check_error(BUILTIN_ERR, "div: divide by zero", "div", "1.5", "0.0");
	check_error(TYPE_ERR, "div: operand 2 must be number but got boolean", "div", "1",
		     "true");

	check_value("3", "rem", "7", "4");
	check_value("-3", "rem", "-7", "4");
	check_value("3", "rem", "7", "-4");
	check_value("0", "rem", "8", "2.0");
	check_value("1", "rem", "18446744073709551617", "18446744073709551616");
	check_value("10", "rem", "10", "18446744073709551616");
	check_error(BUILTIN_ERR, "rem: modulo by zero", "rem", "7", "0");
	check_error(BUILTIN_ERR, "rem: modulo by zero", "rem", "7", "0.0");
	check_error(BUILTIN_ERR, "rem: modulo on floating-point number", "rem", "7.5", "2");
	check_error(BUILTIN_ERR, "rem: modulo on floating-point number", "rem", "7.5", "0");
	check_error(TYPE_ERR, "rem: operand 1 must be number but got string", "rem", "\"7\"",
		     "2");
}

static void test_rounding(void **state)
{
	(void)state;
	check_value("4", "abs", "-4");
	check_value("2.5", "abs", "-2.5");
	check_value("9223372036854775808", "abs", "-9223372036854775808");
	check_value("3", "round", "2.5");
	check_value("-3", "round", "-2.5");
	check_value("2", "round", "2.4999");
	check_value("7", "round", "7");
	check_value("2", "ceil", "1.01");
	check_value("-1", "ceil", "-1.99999");
	check_value("2223", "ceil", "2222.2222222222");
	check_value("1", "floor", "1.5");
	check_value("-2", "floor", "-1.001");
	check_value("99", "floor", "99.99999");
	check_error(TYPE_ERR, "round: operand 1 must be number but got string", "round",
		     "\"1.5\"");
	check_error(TYPE_ERR, "abs: operand 1 must be number but got object", "abs", "{}");
}

static void test_comparison(void **state)
{
	(void)state;
	check_value("true", "equal", "1", "1.0");
	check_value("true", "equal", "[1, {\"a\": 2.0}]", "[1.0, {\"a\": 2}]");
	check_value("false", "equal", "\"1\"", "1");
	check_value("true", "neq", "28857836529306024611913", "28857836529306024611912");
	check_value("false", "neq", "{\"$set\": [1, 2]}", "{\"$set\": [2, 1]}");

	/* Kinds order first: null < boolean < number < string < array <
	 * object < set. */
	check_value("true", "lt", "null", "false");
	check_value("true", "lt", "true", "0");
	check_value("true", "lt", "99", "\"a\"");
	check_value("true", "lt", "\"z\"", "[]");
	check_value("true", "lt", "[9]", "{}");
	check_value("true", "lt", "{}", "{\"$set\": []}");
	check_value("true", "lt", "[1, 2]", "[1, 3]");
	check_value("true", "lt", "[1, 2]", "[1, 2, 0]");
	check_value("false", "lt", "1", "1.0");
	check_value("true", "lte", "1", "1.0");
	check_value("true", "gt", "-1", "-1.5");
	check_value("false", "gt", "\"a\"", "\"b\"");
	check_value("true", "gte", "\"b\"", "\"b\"");
	check_value("true", "gt", "18446744073709551616", "18446744073709551615.5");
}

static void test_to_number(void **state)
{
	(void)state;
	check_value("0", "to_number", "null");
	check_value("1", "to_number", "true");
	check_value("0", "to_number", "false");
	check_value("-2.5", "to_number", "-2.5");
	check_value("10", "to_number", "\"10\"");
	check_value("-1.5", "to_number", "\"-1.5\"");
	check_value("5", "to_number", "\"+5\"");
	check_value("0.5", "to_number", "\".5\"");
	check_value("5", "to_number", "\"5.\"");
	check_value("1000", "to_number", "\"1_000\"");
	check_value("16", "to_number", "\"0x10p0\"");
	check_value("12345678901234567890123", "to_number", "\"12345678901234567890123\"");

	check_error(BUILTIN_ERR,
		     "to_number: strconv.ParseFloat: parsing \"broken\": invalid syntax",
		     "to_number", "\"broken\"");
	check_error(BUILTIN_ERR, "to_number: strconv.ParseFloat: parsing \"\": invalid syntax",
		     "to_number", "\"\"");
	check_error(BUILTIN_ERR, "to_number: strconv.ParseFloat: parsing \" 1\": invalid syntax",
		     "to_number", "\" 1\"");
	check_error(BUILTIN_ERR,
		     "to_number: strconv.ParseFloat: parsing \"a\\\"b\\n\": invalid syntax",
		     "to_number", "\"a\\\"b\\n\"");
	check_error(BUILTIN_ERR, "to_number: strconv.ParseFloat: parsing \"1__0\": invalid syntax",
		     "to_number", "\"1__0\"");
	check_error(BUILTIN_ERR, "to_number: strconv.ParseFloat: parsing \"0x10\": invalid syntax",
		     "to_number", "\"0x10\"");
	check_error(BUILTIN_ERR,
		     "to_number: strconv.ParseFloat: parsing \"1e400\": value out of range",
		     "to_number", "\"1e400\"");

	/* OPA refuses the special values before parsing, as a type error. */
	check_error(TYPE_ERR, "to_number: operand 1 must be valid number string but got string",
		     "to_number", "\"-Inf\"");
	check_error(TYPE_ERR, "to_number: operand 1 must be valid number string but got string",
		     "to_number", "\"+-NaN\"");
	check_error(TYPE_ERR, "to_number: operand 1 must be valid number string but got string",
		     "to_number", "\"infinity\"");
	check_error(TYPE_ERR,
		     "to_number: operand 1 must be one of {null, boolean, number, string} but got "
		     "array", "to_number", "[]");
}

/* The parse error quotes the text as Go does: valid UTF-8 as is, invalid
 * bytes and control characters as \x escapes. */
static void test_to_number_quoting(void **state)
{
	struct rv *arg = rv_string("\xc3\xa9\xff\x01\xed\xa0\x80", 7);
	struct rego_bctx ctx = { .name = "to_number" };
	struct rv *ret = NULL;

	(void)state;
	assert_non_null(arg);
	assert_true(rego_builtin_find("to_number")->fn(&ctx, &arg, 1, &ret) < 0);
	assert_string_equal(ctx.err_code, BUILTIN_ERR);
	assert_string_equal(ctx.err_msg, "to_number: strconv.ParseFloat: parsing "
			    "\"\xc3\xa9\\xff\\x01\\xed\\xa0\\x80\": invalid syntax");
	assert_null(ret);
	rv_unref(arg);
}

static void test_bits(void **state)
{
	(void)state;
	check_value("1", "bits.and", "7", "9");
	check_value("3", "bits.and", "18446744073709551619", "7");
	check_value("4", "bits.and", "4.0", "5");
	check_value("15", "bits.or", "7", "9");
	check_value("-2", "bits.or", "-10", "8");
	check_value("26", "bits.xor", "-10", "-20");
	check_value("0", "bits.xor", "42", "42");
	check_value("-43", "bits.negate", "42");
	check_value("-18446744073709551617", "bits.negate", "18446744073709551616");
	check_value("8", "bits.lsh", "1", "3");
	check_value("4294967294", "bits.lsh", "2147483647", "1");
	check_value("18446744073709551614", "bits.lsh", "9223372036854775807", "1");
	check_value("0", "bits.lsh", "0", "99999999999999999999");
	check_value("1", "bits.rsh", "8", "3");
	check_value("-4", "bits.rsh", "-8", "1");
	check_value("-1", "bits.rsh", "-1", "100");
	check_value("0", "bits.rsh", "5", "18446744073709551615");
	check_value("-1", "bits.rsh", "-5", "9223372036854775807");
	/* OPA shifts by the low 64 bits of a larger count: 2^70 + 1 is 1. */
	check_value("2", "bits.rsh", "5", "1180591620717411303425");
	check_value("10", "bits.lsh", "5", "1180591620717411303425");

	check_error(TYPE_ERR,
		     "bits.or: operand 1 must be integer number but got floating-point number",
		     "bits.or", "7.2", "42");
	check_error(TYPE_ERR,
		     "bits.xor: operand 2 must be integer number but got floating-point number",
		     "bits.xor", "1", "0.5");
	check_error(TYPE_ERR, "bits.and: operand 1 must be integer but got string", "bits.and",
		     "\"7\"", "1");
	check_error(TYPE_ERR, "bits.negate: operand 1 must be integer but got null",
		     "bits.negate", "null");
	check_error(TYPE_ERR,
		     "bits.lsh: operand 2 must be an unsigned integer number but got a negative "
		     "integer", "bits.lsh", "7", "-1");
	check_error(TYPE_ERR,
		     "bits.rsh: operand 2 must be an unsigned integer number but got a negative "
		     "integer", "bits.rsh", "7", "-1");
	check_error(CANCEL_ERR, "bits.lsh: shift count exceeds the limit of 1048576 bits",
		     "bits.lsh", "1", "1048577");
}

static void test_numbers_range(void **state)
{
	(void)state;
	check_value("[0,1,2,3]", "numbers.range", "0", "3");
	check_value("[2,1,0,-1]", "numbers.range", "2", "-1");
	check_value("[-1]", "numbers.range", "-1", "-1");
	check_value("[2,3,4]", "numbers.range", "2.0", "4");
	check_value("[9223372036854775806,9223372036854775807,9223372036854775808]",
		     "numbers.range", "9223372036854775806", "9223372036854775808");
	check_value("[49649733057,49649733058]", "numbers.range", "49649733057", "49649733058");

	check_error(TYPE_ERR,
		     "numbers.range: operand 1 must be integer number but got floating-point "
		     "number", "numbers.range", "1.5", "3");
	check_error(TYPE_ERR, "numbers.range: operand 2 must be integer but got string",
		     "numbers.range", "1", "\"3\"");

	/* A huge range fails before allocating anything. */
	check_error(CANCEL_ERR, "numbers.range: range of more than 4194304 numbers",
		     "numbers.range", "0", "1e9");
	check_error(CANCEL_ERR, "numbers.range: range of more than 4194304 numbers",
		     "numbers.range", "-9223372036854775808", "9223372036854775807");

	check_value("[1,4,7,10]", "numbers.range_step", "1", "10", "3");
	check_value("[10,6,2]", "numbers.range_step", "10", "1", "4");
	check_value("[0,-2,-4]", "numbers.range_step", "0", "-5", "2");
	check_value("[2]", "numbers.range_step", "2", "2", "2");
	check_value("[0]", "numbers.range_step", "0", "10", "99999999999999999999");
	check_value("[0,400000000,800000000]", "numbers.range_step", "0", "1e9", "4e8");
	check_error(BUILTIN_ERR,
		     "numbers.range_step: numbers.range_step: step must be a positive integer",
		     "numbers.range_step", "0", "10", "-2");
	check_error(BUILTIN_ERR,
		     "numbers.range_step: numbers.range_step: step must be a positive integer",
		     "numbers.range_step", "0", "10", "0");
	check_error(TYPE_ERR,
		     "numbers.range_step: operand 3 must be integer number but got "
		     "floating-point number", "numbers.range_step", "0", "10", "0.5");
}

/* An integer written with a large exponent is not expanded past 100000
 * digits; only arithmetic can make one, as parsing refuses 1e100000. */
static void test_numbers_range_huge_bound(void **state)
{
	struct rv *factor = rv_number_parse("1e99999", 7);
	struct rv *args[2] = { rv_int(0), NULL };
	struct rego_bctx ctx = { .name = "numbers.range" };
	struct rv *ret = NULL;

	(void)state;
	assert_non_null(factor);
	args[1] = rv_num_mul(factor, factor);
	assert_non_null(args[1]);
	assert_true(rv_number_is_int(args[1]));

	assert_true(rego_builtin_find("numbers.range")->fn(&ctx, args, 2, &ret) < 0);
	assert_string_equal(ctx.err_code, BUILTIN_ERR);
	assert_string_equal(ctx.err_msg, "numbers.range: operand 2 has more than 100000 digits");
	assert_null(ret);

	rv_unref(args[0]);
	rv_unref(args[1]);
	rv_unref(factor);
}

static void test_table_declarations(void **state)
{
	static const struct {
		const char *name;
		const char *infix;
	} operators[] = {
		{ "plus", "+" }, { "minus", "-" }, { "mul", "*" }, { "div", "/" },
		{ "rem", "%" }, { "equal", "==" }, { "neq", "!=" }, { "lt", "<" },
		{ "lte", "<=" }, { "gt", ">" }, { "gte", ">=" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
		const struct rego_builtin *bi = rego_builtin_find(operators[i].name);

		assert_non_null(bi);
		assert_string_equal(bi->infix, operators[i].infix);
		assert_true(bi->flags & REGO_BI_INFIX);
		assert_int_equal(bi->arity, 2);
	}
	assert_true(rego_builtin_find("all")->flags & REGO_BI_DEPRECATED);
	assert_int_equal(rego_builtin_find("numbers.range_step")->arity, 3);
	assert_int_equal(rego_builtin_find("count")->arg_types[0],
			 RK_STRING | RK_ARRAY | RK_OBJECT | RK_SET);
	assert_int_equal(rego_builtin_find("minus")->result_type, RK_NUMBER | RK_SET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plus_mul),
		cmocka_unit_test(test_minus_numbers_and_sets),
		cmocka_unit_test(test_div_rem),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_comparison),
		cmocka_unit_test(test_to_number),
		cmocka_unit_test(test_to_number_quoting),
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_numbers_range),
		cmocka_unit_test(test_numbers_range_huge_bound),
		cmocka_unit_test(test_table_declarations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
