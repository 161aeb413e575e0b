/* Unit tests of the regex and glob builtins: Go regexp semantics on PCRE2. */
#include "test_bi_strings_support.h"

static void test_match_and_validity(void **state)
{
	(void)state;
	expect_ok("regex.match", "[\"^v[0-9]+$\", \"v12\"]", "true");
	expect_ok("re_match", "[\"^v[0-9]+$\", \"v12\\n\"]", "false");
	expect_ok("regex.match", "[\"(?i)ABC\", \"xabcx\"]", "true");
	expect_ok("regex.is_valid", "[\"a(?=b)\"]", "false");
	expect_ok("regex.is_valid", "[\"(a)\\\\1\"]", "false");
	expect_ok("regex.is_valid", "[\"a++\"]", "false");
	expect_ok("regex.is_valid", "[\"a{1001}\"]", "false");
	expect_ok("regex.is_valid", "[\"(?P<year>\\\\d{4})-\\\\pL\"]", "true");
	expect_ok("regex.is_valid", "[7]", "false");
	expect_err("regex.match", "[\"[a-\", \"x\"]", "eval_builtin_error",
		   "regex.match: error parsing regexp: missing closing ]: `[a-`");
	expect_err("regex.match", "[\"(?<!a)b\", \"b\"]", "eval_builtin_error",
		   "regex.match: error parsing regexp: invalid or unsupported Perl syntax: `(?<!a)b`");
}

static void test_find_and_split(void **state)
{
	(void)state;
	expect_ok("regex.find_n", "[\"[0-9]+\", \"a1b22c333\", 2]", "[\"1\",\"22\"]");
	expect_ok("regex.find_n", "[\"x*\", \"axb\", -1]", "[\"\",\"x\",\"\"]");
	expect_ok("regex.find_all_string_submatch_n",
		  "[\"(\\\\w)=(\\\\d)?\", \"a=1 b= c=3\", -1]",
		  "[[\"a=1\",\"a\",\"1\"],[\"b=\",\"b\",\"\"],[\"c=3\",\"c\",\"3\"]]");
	expect_ok("regex.split", "[\",\\\\s*\", \"a, b,c\"]", "[\"a\",\"b\",\"c\"]");
	expect_ok("regex.split", "[\"\", \"ab\"]", "[\"a\",\"b\"]");
	expect_ok("regex.split", "[\"x\", \"\"]", "[\"\"]");
}

static void test_replace(void **state)
{
	(void)state;
	expect_ok("regex.replace", "[\"2024-05-06\", \"(\\\\d+)-(\\\\d+)-(\\\\d+)\", \"$3/$2/$1\"]",
		  "\"06/05/2024\"");
	expect_ok("regex.replace", "[\"key=val\", \"(?P<k>\\\\w+)=(?P<v>\\\\w+)\", \"${v}:${k}$$\"]",
		  "\"val:key$\"");
	expect_ok("regex.replace", "[\"abc\", \"x*\", \"-\"]", "\"-a-b-c-\"");
	expect_ok("regex.replace", "[\"aaa\", \"^a\", \"b\"]", "\"baa\"");
	expect_ok("regex.replace", "[\"ab\", \"(a)\", \"$1x\"]", "\"b\"");
}

static void test_template_match(void **state)
{
	(void)state;
	expect_ok("regex.template_match", "[\"id:<[0-9]+>.v<[a-z]>\", \"id:42.vq\", \"<\", \">\"]",
		  "true");
	expect_ok("regex.template_match", "[\"id:<[0-9]+>\", \"id:4x\", \"<\", \">\"]", "false");
	expect_err("regex.template_match", "[\"a{b\", \"ab\", \"{\", \"}\"]", "eval_builtin_error",
		   "regex.template_match: unbalanced braces in \"a{b\"");
	expect_err("regex.template_match", "[\"a\", \"a\", \"{{\", \"}\"]", "eval_builtin_error",
		   "regex.template_match: start delimiter has to be exactly one character long but is 2 long");
}

static void test_glob(void **state)
{
	(void)state;
	expect_ok("glob.match", "[\"*.svc.local\", [\".\"], \"api.svc.local\"]", "true");
	expect_ok("glob.match", "[\"*.local\", [\".\"], \"api.svc.local\"]", "false");
	expect_ok("glob.match", "[\"**.local\", [\".\"], \"api.svc.local\"]", "true");
	expect_ok("glob.match", "[\"*.local\", null, \"api.svc.local\"]", "true");
	expect_ok("glob.match", "[\"a?c\", [], \"a.c\"]", "false");
	expect_ok("glob.match", "[\"/api/*/x\", [\"/\"], \"/api/v1/x\"]", "true");
	expect_ok("glob.match", "[\"{dev,prod}-[0-9]\", [], \"prod-7\"]", "true");
	expect_ok("glob.match", "[\"[!a-c]x\", [], \"dx\"]", "true");
	expect_ok("glob.match", "[\"\\\\*x\", [], \"*x\"]", "true");
	expect_ok("glob.match", "[\"\\\\*x\", [], \"ax\"]", "false");
	expect_err("glob.match", "[\"[ab\", [], \"a\"]", "eval_builtin_error",
		   "glob.match: unexpected end of input");
	expect_err("glob.match", "[\"a\", [\"ab\"], \"a\"]", "eval_type_error",
		   "glob.match: operand 2 must be array of runes but got array containing string");
	expect_err("glob.match", "[\"a\", \"x\", \"a\"]", "eval_type_error",
		   "glob.match: operand 2 must be one of {array, null} but got string");
	expect_ok("glob.quote_meta", "[\"*.[a]{b}?\"]", "\"\\\\*.\\\\[a\\\\]\\\\{b\\\\}\\\\?\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_validity),
		cmocka_unit_test(test_find_and_split),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_template_match),
		cmocka_unit_test(test_glob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
