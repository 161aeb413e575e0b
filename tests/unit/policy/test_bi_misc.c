/* Unit tests of units, semver, uuid, rand, opa.runtime and the network
 * builtins. */
#include "test_bi_strings_support.h"

static void test_units_parse(void **state)
{
	(void)state;
	expect_ok("units.parse", "[\"3k\"]", "3000");
	expect_ok("units.parse", "[\"2Ki\"]", "2048");
	expect_ok("units.parse", "[\"4M\"]", "4000000");
	expect_ok("units.parse", "[\"250m\"]", "0.25");
	expect_ok("units.parse", "[\"1.5Gi\"]", "1610612736");
	expect_ok("units.parse", "[\"\\\"7E\\\"\"]", "7000000000000000000");
	expect_ok("units.parse", "[\"2.5e2\"]", "250");
	expect_ok("units.parse", "[\"-1.25e1m\"]", "-0.0125");
	expect_err("units.parse", "[\"k\"]", "eval_builtin_error", "units.parse: no amount provided");
	expect_err("units.parse", "[\"1 k\"]", "eval_builtin_error",
		   "units.parse: spaces not allowed in resource strings");
	expect_err("units.parse", "[\"1..2\"]", "eval_builtin_error",
		   "units.parse: could not parse amount to a number");
	expect_err("units.parse", "[\"5Q\"]", "eval_builtin_error",
		   "units.parse: unit Q not recognized");
	expect_err("units.parse", "[\"1e1234567\"]", "eval_builtin_error",
		   "units.parse: exponent too large");
}

static void test_units_parse_bytes(void **state)
{
	(void)state;
	expect_ok("units.parse_bytes", "[\"3KB\"]", "3000");
	expect_ok("units.parse_bytes", "[\"3KiB\"]", "3072");
	expect_ok("units.parse_bytes", "[\"1.3KiB\"]", "1331");
	expect_ok("units.parse_bytes", "[\"2m\"]", "2000000");
	expect_ok("units.parse_bytes", "[\"16eib\"]", "18446744073709551616");
	expect_ok("units.parse_bytes", "[\"2.5e1k\"]", "25000");
	expect_ok("units.parse_bytes", "[\"0.9\"]", "0");
	expect_err("units.parse_bytes", "[\"MB\"]", "eval_builtin_error",
		   "units.parse_bytes: no byte amount provided");
	expect_err("units.parse_bytes", "[\"1.2.3kb\"]", "eval_builtin_error",
		   "units.parse_bytes: could not parse byte amount to a number");
	expect_err("units.parse_bytes", "[\"4zb\"]", "eval_builtin_error",
		   "units.parse_bytes: byte unit zb not recognized");
}

static void test_semver(void **state)
{
	(void)state;
	expect_ok("semver.compare", "[\"1.2.3\", \"1.10.0\"]", "-1");
	expect_ok("semver.compare", "[\"1.0.0-alpha\", \"1.0.0\"]", "-1");
	expect_ok("semver.compare", "[\"1.0.0-rc.10\", \"1.0.0-rc.9\"]", "1");
	expect_ok("semver.compare", "[\"1.0.0-2\", \"1.0.0-beta\"]", "-1");
	expect_ok("semver.compare", "[\"2.0.0+build.5\", \"2.0.0+other\"]", "0");
	expect_err("semver.compare", "[\"1.2\", \"1.0.0\"]", "eval_builtin_error",
		   "semver.compare: operand 1: string \"1.2\" is not a valid SemVer");
	expect_err("semver.compare", "[\"1.0.0\", \"v1.0.0\"]", "eval_builtin_error",
		   "semver.compare: operand 2: string \"v1.0.0\" is not a valid SemVer");
	expect_ok("semver.is_valid", "[\"0.1.0-x.7+meta\"]", "true");
	expect_ok("semver.is_valid", "[\"1.2.3-\"]", "true");
	expect_ok("semver.is_valid", "[\"1.2.3-a..b\"]", "false");
	expect_ok("semver.is_valid", "[\"1.2.3.4\"]", "false");
	expect_ok("semver.is_valid", "[[1]]", "false");
}

static void test_uuid(void **state)
{
	struct rego_bctx ctx;
	char *text = NULL;

	(void)state;
	assert_int_equal(ts_call("uuid.rfc4122", "[\"k\"]", &ctx, &text), 0);
	assert_int_equal(strlen(text), 38);
	assert_int_equal(text[15], '4');
	assert_non_null(strchr("89ab", text[20]));
	free(text);

	expect_ok("uuid.parse", "[\"{6ba7b810-9dad-41d1-80b4-00c04fd430c8}\"]",
		  "{\"variant\":\"RFC4122\",\"version\":4}");
	expect_ok("uuid.parse", "[\"URN:UUID:6ba7b810-9dad-51d1-c0b4-00c04fd430c8\"]",
		  "{\"variant\":\"Microsoft\",\"version\":5}");
	expect_ok("uuid.parse", "[\"c232ab00-9414-11ec-b3c8-9f6bdeced846\"]",
		  "{\"clocksequence\":13256,\"macvariables\":\"local:multicast\","
		  "\"nodeid\":\"9f-6b-de-ce-d8-46\",\"time\":1645557742000000000,"
		  "\"variant\":\"RFC4122\",\"version\":1}");
	expect_undefined("uuid.parse", "[\"6ba7b810-9dad-41d1-80b4-00c04fd430c\"]");
	expect_undefined("uuid.parse", "[\"6ba7b810x9dad-41d1-80b4-00c04fd430c8\"]");
}

static void test_rand_runtime_network(void **state)
{
	struct rego_bctx ctx;
	char *text = NULL;

	(void)state;
	assert_int_equal(ts_call("rand.intn", "[\"k\", -3]", &ctx, &text), 0);
	assert_true(strcmp(text, "0") == 0 || strcmp(text, "1") == 0 || strcmp(text, "2") == 0);
	free(text);
	expect_ok("rand.intn", "[\"k\", 0]", "0");
	expect_err("rand.intn", "[\"k\", 2.5]", "eval_type_error",
		   "rand.intn: operand 2 must be integer number but got floating-point number");
	expect_ok("opa.runtime", "[]", "{}");
	expect_err("http.send", "[{\"method\": \"get\", \"url\": \"http://127.0.0.1\"}]",
		   "eval_builtin_error",
		   "http.send: network access is disabled in warden's policy engine");
	/* A malformed request gets OPA's type error before the refusal. */
	expect_err("http.send", "[{\"url\": \"http://127.0.0.1\"}]", "eval_type_error",
		   "http.send: missing required request parameters(s): {\"method\"}");
	expect_err("http.send", "[{\"method\": \"get\", \"url\": \"u\", \"zz\": 1, \"aa\": 2}]",
		   "eval_type_error", "http.send: invalid request parameters(s): {\"aa\", \"zz\"}");
	expect_err("net.lookup_ip_addr", "[\"localhost\"]", "eval_builtin_error",
		   "net.lookup_ip_addr: network access is disabled in warden's policy engine");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units_parse),
		cmocka_unit_test(test_units_parse_bytes),
		cmocka_unit_test(test_semver),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_rand_runtime_network),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
