/* Unit tests of uri.parse and uri.is_valid. */
#include "test_bi_strings_support.h"

static void test_uri_parse(void **state)
{
	(void)state;
	expect_ok("uri.parse", "[\"https://ops:secret@api.example.test:8443/v1%2Fx/y?a=1&b#top\"]",
		  "{\"fragment\":\"top\",\"hostname\":\"api.example.test\",\"path\":\"/v1/x/y\","
		  "\"port\":\"8443\",\"raw_path\":\"/v1%2Fx/y\",\"raw_query\":\"a=1\\u0026b\","
		  "\"scheme\":\"https\"}");
	/* An opaque URL has no host and no path; the scheme is lowercased. */
	expect_ok("uri.parse", "[\"URN:isbn:0451450523?x\"]",
		  "{\"raw_query\":\"x\",\"scheme\":\"urn\"}");
	expect_ok("uri.parse", "[\"http://[fd00::1]:9000\"]",
		  "{\"hostname\":\"fd00::1\",\"port\":\"9000\",\"scheme\":\"http\"}");
	expect_ok("uri.parse", "[\"/just/a/path\"]",
		  "{\"path\":\"/just/a/path\",\"raw_path\":\"/just/a/path\"}");
	expect_ok("uri.parse", "[\"\"]", "{}");
	expect_err("uri.parse", "[\"http://host:9x/\"]", "eval_builtin_error",
		   "uri.parse: parse \"http://host:9x/\": invalid port \":9x\" after host");
	expect_err("uri.parse", "[\"1a:b\"]", "eval_builtin_error",
		   "uri.parse: parse \"1a:b\": first path segment in URL cannot contain colon");
	expect_err("uri.parse", "[7]", "eval_type_error",
		   "uri.parse: operand 1 must be string but got number");
}

static void test_uri_is_valid(void **state)
{
	(void)state;
	expect_ok("uri.is_valid", "[\"https://example.test/a?b#c\"]", "true");
	expect_ok("uri.is_valid", "[\"relative/path\"]", "true");
	expect_ok("uri.is_valid", "[\"\"]", "false");
	expect_ok("uri.is_valid", "[\":no-scheme\"]", "false");
	expect_ok("uri.is_valid", "[\"http://bad%zzescape\"]", "false");
	expect_ok("uri.is_valid", "[42]", "false");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_parse),
		cmocka_unit_test(test_uri_is_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
