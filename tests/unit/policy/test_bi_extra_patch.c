/* Unit tests of json.patch on sets and on paths without a leading slash. */
#include "test_bi_strings_support.h"

static void test_patch_set_members(void **state)
{
	(void)state;
	expect_ok("json.patch",
		  "[{\"s\": {\"$set\": [\"x\", \"y\"]}}, [{\"op\": \"remove\", \"path\": \"s/x\"}]]",
		  "{\"s\":[\"y\"]}");
	expect_ok("json.patch",
		  "[{\"s\": {\"$set\": [\"x\"]}}, [{\"op\": \"add\", \"path\": \"/s/z\", \"value\": \"z\"}]]",
		  "{\"s\":[\"x\",\"z\"]}");
	expect_ok("json.patch",
		  "[{\"s\": {\"$set\": [\"x\"]}, \"t\": {\"$set\": []}},"
		  " [{\"op\": \"move\", \"from\": \"s/x\", \"path\": \"t/x\"}]]",
		  "{\"s\":[],\"t\":[\"x\"]}");

	/* A set member added under another name is rejected. */
	expect_undefined("json.patch",
			 "[{\"s\": {\"$set\": [\"x\"]}}, [{\"op\": \"add\", \"path\": \"s/k\", \"value\": \"v\"}]]");
}

static void test_patch_relative_path(void **state)
{
	(void)state;
	expect_ok("json.patch", "[{\"o\": {}}, [{\"op\": \"add\", \"path\": \"o/k\", \"value\": 1}]]",
		  "{\"o\":{\"k\":1}}");
	expect_ok("json.patch", "[{\"o\": 2}, [{\"op\": \"replace\", \"path\": \"//o\", \"value\": 3}]]",
		  "{\"o\":3}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patch_set_members),
		cmocka_unit_test(test_patch_relative_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
