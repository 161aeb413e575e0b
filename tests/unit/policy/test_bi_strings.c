/* Unit tests of the string builtins: results and errors as OPA gives them. */
#include "test_bi_strings_support.h"

static void test_concat_array_and_set(void **state)
{
	(void)state;
	expect_ok("concat", "[\"-\", [\"x\", \"\", \"y\"]]", "\"x--y\"");
	expect_ok("concat", "[\", \", {\"$set\": [\"b\", \"a\"]}]", "\"a, b\"");
	expect_ok("concat", "[\"/\", []]", "\"\"");
	expect_err("concat", "[\"/\", [\"a\", 7]]", "eval_type_error",
		   "concat: operand 2 must be array of strings but got array containing number");
	expect_err("concat", "[\"/\", \"ab\"]", "eval_type_error",
		   "concat: operand 2 must be one of {set, array} but got string");
}

static void test_search(void **state)
{
	(void)state;
	expect_ok("contains", "[\"warden\", \"rde\"]", "true");
	expect_ok("contains", "[\"warden\", \"wd\"]", "false");
	expect_ok("startswith", "[\"spiffe://x\", \"spiffe://\"]", "true");
	expect_ok("endswith", "[\"a.rego\", \".json\"]", "false");
	expect_ok("indexof", "[\"naïve café\", \"café\"]", "6");
	expect_ok("indexof", "[\"abc\", \"z\"]", "-1");
	expect_ok("indexof_n", "[\"aaaa\", \"aa\"]", "[0,1,2]");
	expect_ok("indexof_n", "[\"ünïcödé ünï\", \"ünï\"]", "[0,8]");
	expect_err("indexof", "[\"abc\", \"\"]", "eval_builtin_error",
		   "indexof: empty search character");
	expect_ok("strings.count", "[\"banana\", \"ana\"]", "1");
	expect_ok("strings.count", "[\"héllo\", \"\"]", "6");
	expect_err("contains", "[1, \"a\"]", "eval_type_error",
		   "contains: operand 1 must be string but got number");
}

static void test_substring(void **state)
{
	(void)state;
	expect_ok("substring", "[\"policy\", 1, 3]", "\"oli\"");
	expect_ok("substring", "[\"ßüñ€x\", 1, 2]", "\"üñ\"");
	expect_ok("substring", "[\"ßüñ€x\", 2, -1]", "\"ñ€x\"");
	expect_ok("substring", "[\"abc\", 7, 1]", "\"\"");
	expect_err("substring", "[\"abc\", -2, 1]", "eval_builtin_error",
		   "substring: negative offset");
	expect_err("substring", "[\"abc\", 1.5, 1]", "eval_type_error",
		   "substring: operand 2 must be integer number but got floating-point number");
}

static void test_case_and_reverse(void **state)
{
	(void)state;
	expect_ok("upper", "[\"Grüße, world\"]", "\"GRÜßE, WORLD\"");
	expect_ok("lower", "[\"ÀÉÎ Ab\"]", "\"àéî ab\"");
	expect_ok("strings.reverse", "[\"añb😀\"]", "\"😀bña\"");
	expect_err("strings.reverse", "[[1]]", "eval_type_error",
		   "strings.reverse: operand 1 must be string but got array");
}

static void test_split(void **state)
{
	(void)state;
	expect_ok("split", "[\"a::b::\", \"::\"]", "[\"a\",\"b\",\"\"]");
	expect_ok("split", "[\"hé\", \"\"]", "[\"h\",\"é\"]");
	expect_ok("split", "[\"\", \"\"]", "[]");
	expect_ok("split", "[\"\", \",\"]", "[\"\"]");
	expect_ok("strings.split_n", "[\"a,b,c,d\", \",\", 2]", "[\"a\",\"b\"]");
	expect_ok("strings.split_n", "[\"a,b,c,d\", \",\", -3]", "[\"b\",\"c\",\"d\"]");
	expect_ok("strings.split_n", "[\"a,b\", \",\", 0]", "[]");
	expect_ok("strings.split_n", "[\"a,b\", \",\", 9]", "[\"a\",\"b\"]");
	expect_ok("strings.split_n", "[\"a,b\", \",\", -9]", "[\"a\",\"b\"]");
}

static void test_replace(void **state)
{
	(void)state;
	expect_ok("replace", "[\"aaaa\", \"aa\", \"b\"]", "\"bb\"");
	expect_ok("replace", "[\"ab\", \"\", \"-\"]", "\"-a-b-\"");
	expect_ok("strings.replace_n", "[{\"ab\": \"1\", \"a\": \"2\"}, \"abac\"]", "\"2b2c\"");
	expect_ok("strings.replace_n", "[{\"-\": \"_\", \"x\": \"\"}, \"a-x-b\"]", "\"a__b\"");
	expect_err("strings.replace_n", "[{\"a\": 1}, \"abc\"]", "eval_type_error",
		   "strings.replace_n: operand 1 non-string value found in pattern object");
	expect_err("strings.replace_n", "[[], \"abc\"]", "eval_type_error",
		   "strings.replace_n: operand 1 must be object but got array");
}

static void test_trims(void **state)
{
	(void)state;
	expect_ok("trim", "[\"xxhixyx\", \"xy\"]", "\"hi\"");
	expect_ok("trim", "[\"«hi»\", \"»«\"]", "\"hi\"");
	expect_ok("trim_left", "[\"  a  \", \" \"]", "\"a  \"");
	expect_ok("trim_right", "[\"  a  \", \" \"]", "\"  a\"");
	expect_ok("trim_prefix", "[\"v1.2\", \"v\"]", "\"1.2\"");
	expect_ok("trim_prefix", "[\"v1.2\", \"x\"]", "\"v1.2\"");
	expect_ok("trim_suffix", "[\"a.rego\", \".rego\"]", "\"a\"");
	expect_ok("trim_space", "[\"\\u00a0\\t x y \\n\\u3000\"]", "\"x y\"");
	expect_ok("trim", "[\"abc\", \"\"]", "\"abc\"");
}

static void test_affix_match(void **state)
{
	(void)state;
	expect_ok("strings.any_prefix_match", "[[\"x/1\", \"y/2\"], [\"z/\", \"y/\"]]", "true");
	expect_ok("strings.any_prefix_match", "[\"x/1\", {\"$set\": [\"z\"]}]", "false");
	expect_ok("strings.any_suffix_match", "[{\"$set\": [\"a.json\"]}, \".json\"]", "true");
	expect_ok("strings.any_suffix_match", "[[], \".json\"]", "false");
	expect_err("strings.any_prefix_match", "[[\"a\", null], \"a\"]", "eval_type_error",
		   "strings.any_prefix_match: operand 1 must be array of strings but got array containing null");
	expect_err("strings.any_suffix_match", "[\"a\", {}]", "eval_type_error",
		   "strings.any_suffix_match: operand 2 must be one of {string, set, array} but got object");
}

static void test_format_int(void **state)
{
	(void)state;
	expect_ok("format_int", "[255, 16]", "\"ff\"");
	expect_ok("format_int", "[-5, 2]", "\"-101\"");
	expect_ok("format_int", "[9.99, 10]", "\"9\"");
	expect_ok("format_int", "[-8.5, 8]", "\"-10\"");
	expect_ok("format_int", "[36893488147419103232, 16]", "\"20000000000000000\"");
	expect_err("format_int", "[1, 3]", "eval_type_error",
		   "format_int: operand 2 must be one of {2, 8, 10, 16}");
}

static void test_sprintf(void **state)
{
	(void)state;
	expect_str("sprintf", "[\"%s has %d (%05.1f%%)\", [\"svc\", 3, 2.25]]", "svc has 3 (002.2%)");
	expect_str("sprintf", "[\"%v|%v|%v\", [[1, \"a\"], 1.5e-7, {\"$set\": [2, 1]}]]",
		   "[1, \"a\"]|1.5e-07|{1, 2}");
	expect_str("sprintf", "[\"%x %X %o %b %c %q %U\", [255, 255, 8, 5, 65, 66, 9731]]",
		   "ff FF 10 101 A 'B' U+2603");
	expect_str("sprintf", "[\"%-4s|%4s|%.2s|%q\", [\"ab\", \"é\", \"xyz\", \"a\\n\"]]",
		   "ab  |   é|xy|\"a\\n\"");
	expect_str("sprintf", "[\"%d %s\", [\"x\", 7]]", "%!d(string=x) %!s(int=7)");
	expect_str("sprintf", "[\"%d %d\", [1]]", "1 %!d(MISSING)");
	expect_str("sprintf", "[\"%d\", [1, true]]", "1%!(EXTRA string=true)");
	expect_str("sprintf", "[\"%[2]d %[1]d\", [1, 2]]", "2 1");
	expect_str("sprintf", "[\"%s %x\", [123456789012345678901234, 4294967296000000000000]]",
		   "123456789012345678901234 e8d4a5100000000000");
	expect_str("sprintf", "[\"%e %g %.3g %v\", [1234.5678, 0.000012, 1234.5678, 123456789.5]]",
		   "1.234568e+03 1.2e-05 1.23e+03 1.234567895e+08");
	expect_str("sprintf", "[\"%*d|%-*d|%\", [3, 1, 3, 2]]", "  1|2  |%!(NOVERB)");
	expect_str("sprintf", "[\"%t\", [true]]", "%!t(string=true)");
	expect_err("sprintf", "[\"%d\", 1]", "eval_type_error",
		   "sprintf: operand 2 must be array but got number");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concat_array_and_set),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_substring),
		cmocka_unit_test(test_case_and_reverse),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_trims),
		cmocka_unit_test(test_affix_match),
		cmocka_unit_test(test_format_int),
		cmocka_unit_test(test_sprintf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
