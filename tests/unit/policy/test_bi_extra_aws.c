/* Unit tests of providers.aws.sign_req: SigV4 signatures, the URL parts that
 * are signed, and OPA's operand errors. */
#include "test_bi_strings_support.h"

#define SIGN "providers.aws.sign_req"

/* The "get-vanilla" case of AWS's Signature Version 4 test suite: a bare GET
 * to a non-S3 service signs host and x-amz-date only. */
static void test_aws_vanilla_vector(void **state)
{
	(void)state;
	expect_ok(SIGN,
		  "[{\"method\": \"GET\", \"url\": \"https://example.amazonaws.com/\"},"
		  " {\"aws_access_key\": \"AKIDEXAMPLE\","
		  "  \"aws_secret_access_key\": \"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\","
		  "  \"aws_service\": \"service\", \"aws_region\": \"us-east-1\"},"
		  " 1440938160000000000]",
		  "{\"headers\":{\"Authorization\":\"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
		  "20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,"
		  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\","
		  "\"host\":\"example.amazonaws.com\",\"x-amz-date\":\"20150830T123600Z\"},"
		  "\"method\":\"GET\",\"url\":\"https://example.amazonaws.com/\"}");
}

/* S3 with a JSON body, a session token, request headers (two of them left
 * unsigned), userinfo, a port, an escaped path kept as written, a query and a
 * fragment. The time is the last nanosecond of a leap day. */
static void test_aws_s3_full_request(void **state)
{
	(void)state;
	expect_ok(SIGN,
		  "[{\"method\": \"PUT\","
		  "  \"url\": \"https://user:pw@bucket.example.test:8443/dir/a%20b/%7Efile"
		  "?versionId=3&x=y%20z#frag\","
		  "  \"headers\": {\"Content-Type\": \"application/json\", \"X-Custom\": \"V\","
		  "   \"User-Agent\": \"ua\", \"authorization\": \"old\"},"
		  "  \"body\": {\"name\": \"a<b\", \"items\": [1, 2]}},"
		  " {\"aws_access_key\": \"AKIDTEST\", \"aws_secret_access_key\": \"secret/key+1\","
		  "  \"aws_session_token\": \"TOKEN-1\", \"aws_service\": \"s3\","
		  "  \"aws_region\": \"eu-west-3\", \"disable_payload_signing\": false},"
		  " 1709251199999999999]",
		  "{\"body\":{\"items\":[1,2],\"name\":\"a\\u003cb\"},\"headers\":{"
		  "\"Authorization\":\"AWS4-HMAC-SHA256 Credential=AKIDTEST/20240229/eu-west-3/s3/"
		  "aws4_request,SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;"
		  "x-amz-security-token;x-custom,"
		  "Signature=8de7ba379467d59ffb452752767b85161ce98ccb1546153a7cc75a00e69fbda4\","
		  "\"Content-Type\":\"application/json\",\"User-Agent\":\"ua\",\"X-Custom\":\"V\","
		  "\"authorization\":\"old\",\"host\":\"bucket.example.test:8443\","
		  "\"x-amz-content-sha256\":"
		  "\"438162e9f8e517f80040fb730849d14d3d76f764da1d5c069e6b4f952d0cb24d\","
		  "\"x-amz-date\":\"20240229T235959Z\",\"x-amz-security-token\":\"TOKEN-1\"},"
		  "\"method\":\"PUT\",\"url\":\"https://user:pw@bucket.example.test:8443/dir/a%20b/"
		  "%7Efile?versionId=3\\u0026x=y%20z#frag\"}");
}

/* An unsigned payload replaces the body hash; a request header named like an
 * AWS one is signed with the request's value but replaced in the output. */
static void test_aws_unsigned_payload(void **state)
{
	(void)state;
	expect_ok(SIGN,
		  "[{\"method\": \"post\", \"url\": \"http://h.test/p\","
		  "  \"headers\": {\"X-Amz-Date\": \"19990101T000000Z\"}, \"raw_body\": \"ignored\"},"
		  " {\"aws_access_key\": \"K\", \"aws_secret_access_key\": \"S\","
		  "  \"aws_service\": \"glacier\", \"aws_region\": \"r\","
		  "  \"disable_payload_signing\": true},"
		  " 0]",
		  "{\"headers\":{\"Authorization\":\"AWS4-HMAC-SHA256 Credential=K/19700101/r/"
		  "glacier/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
		  "Signature=cd3ae8fb533f9d9e3c88b33da94b72a823b04e8c2d1e232092dabcc19a183fce\","
		  "\"X-Amz-Date\":\"19990101T000000Z\",\"host\":\"h.test\","
		  "\"x-amz-content-sha256\":\"UNSIGNED-PAYLOAD\","
		  "\"x-amz-date\":\"19700101T000000Z\"},\"method\":\"post\","
		  "\"raw_body\":\"ignored\",\"url\":\"http://h.test/p\"}");
}

static void test_aws_config_errors(void **state)
{
	(void)state;
	expect_err(SIGN,
		   "[{\"method\": \"GET\", \"url\": \"http://h\"}, {\"aws_service\": \"s3\"}, 1]",
		   "eval_builtin_error",
		   SIGN ": operand 2 missing required AWS config parameters(s): "
		   "{\"aws_access_key\", \"aws_region\", \"aws_secret_access_key\"}");

	/* The message names the key whose value is wrong, never the value. */
	expect_err(SIGN,
		   "[{\"method\": \"GET\", \"url\": \"http://h\"},"
		   " {\"aws_access_key\": \"K\", \"aws_secret_access_key\": [\"hunter2\"],"
		   "  \"aws_service\": \"s3\", \"aws_region\": 7}, 1]",
		   "eval_builtin_error",
		   SIGN ": operand 2 invalid values for required AWS config parameters(s): "
		   "{\"aws_region\", \"aws_secret_access_key\"}");

	expect_err(SIGN,
		   "[{\"method\": \"GET\", \"url\": \"http://h\"},"
		   " {\"aws_access_key\": \"K\", \"aws_secret_access_key\": \"hunter2\","
		   "  \"aws_service\": \"s3\", \"aws_region\": \"r\","
		   "  \"disable_payload_signing\": \"yes\"}, 1]",
		   "eval_builtin_error",
		   SIGN ": operand 2 invalid value for 'disable_payload_signing' in AWS config");

	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"http://h\"}, [], 1]",
		   "eval_type_error", SIGN ": operand 2 must be object but got array");
}

#define CONFIG "{\"aws_access_key\": \"K\", \"aws_secret_access_key\": \"hunter2\"," \
	       " \"aws_service\": \"s3\", \"aws_region\": \"r\"}"

static void test_aws_request_errors(void **state)
{
	(void)state;
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"http://h\"}, " CONFIG ", 1.5]",
		   "eval_builtin_error",
		   SIGN ": operand 3 could not convert time_ns value into a unix timestamp");
	expect_err(SIGN,
		   "[{\"method\": \"GET\", \"url\": \"http://h\"}, " CONFIG
		   ", 99999999999999999999]",
		   "eval_builtin_error",
		   SIGN ": operand 3 could not convert time_ns value into a unix timestamp");
	expect_err(SIGN,
		   "[{\"method\": \"GET\", \"url\": \"http://h\", \"verb\": 1, \"proxy\": 2}, "
		   CONFIG ", 1]",
		   "eval_builtin_error",
		   SIGN ": operand 1 invalid request parameters(s): {\"proxy\", \"verb\"}");
	expect_err(SIGN, "[{\"body\": {}}, " CONFIG ", 1]", "eval_builtin_error",
		   SIGN ": operand 1 missing required request parameters(s): {\"method\", \"url\"}");
	expect_err(SIGN,
		   "[{\"method\": \"GET\", \"url\": \"http://h\", \"headers\": \"x\"}, " CONFIG
		   ", 1]",
		   "eval_type_error", SIGN ": operand 0 must be object but got string");
	expect_err(SIGN, "[{\"method\": 1, \"url\": null}, " CONFIG ", 1]", "eval_builtin_error",
		   SIGN ": operand 1 invalid values for required request parameters(s): "
		   "{\"method\", \"url\"}");
}

static void test_aws_url_errors(void **state)
{
	(void)state;
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"http://[::1/x\"}, " CONFIG ", 1]",
		   "eval_builtin_error", SIGN ": parse \"http://[::1/x\": missing ']' in host");
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"http://h:8o/\"}, " CONFIG ", 1]",
		   "eval_builtin_error",
		   SIGN ": parse \"http://h:8o/\": invalid port \":8o\" after host");
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"http://h/a%zzb\"}, " CONFIG ", 1]",
		   "eval_builtin_error",
		   SIGN ": parse \"http://h/a%zzb\": invalid URL escape \"%zz\"");
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"http://h/x#%4\"}, " CONFIG ", 1]",
		   "eval_builtin_error",
		   SIGN ": parse \"http://h/x#%4\": invalid URL escape \"%4\"");
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \":8080/x\"}, " CONFIG ", 1]",
		   "eval_builtin_error", SIGN ": parse \":8080/x\": missing protocol scheme");
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"a:b/c\\td\"}, " CONFIG ", 1]",
		   "eval_builtin_error",
		   SIGN ": parse \"a:b/c\\td\": net/url: invalid control character in URL");
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"ho st:1/x\"}, " CONFIG ", 1]",
		   "eval_builtin_error",
		   SIGN ": parse \"ho st:1/x\": first path segment in URL cannot contain colon");
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"http://a b/\"}, " CONFIG ", 1]",
		   "eval_builtin_error",
		   SIGN ": parse \"http://a b/\": invalid character \" \" in host name");
	expect_err(SIGN, "[{\"method\": \"GET\", \"url\": \"http://u^v@h/\"}, " CONFIG ", 1]",
		   "eval_builtin_error", SIGN ": parse \"http://u^v@h/\": net/url: invalid userinfo");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_vanilla_vector),
		cmocka_unit_test(test_aws_s3_full_request),
		cmocka_unit_test(test_aws_unsigned_payload),
		cmocka_unit_test(test_aws_config_errors),
		cmocka_unit_test(test_aws_request_errors),
		cmocka_unit_test(test_aws_url_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
