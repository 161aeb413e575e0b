/* Unit tests of the encoding builtins: base64, hex, urlquery and json.*. */
#include "test_bi_strings_support.h"

static void test_base64(void **state)
{
	(void)state;
	expect_ok("base64.encode", "[\"warden\"]", "\"d2FyZGVu\"");
	expect_ok("base64.encode", "[\"ab?\"]", "\"YWI/\"");
	expect_ok("base64.decode", "[\"d2Fy\\nZGVu\"]", "\"warden\"");
	expect_err("base64.decode", "[\"d2FyZ\"]", "eval_builtin_error",
		   "base64.decode: illegal base64 data at input byte 4");
	expect_err("base64.decode", "[\"d2F*\"]", "eval_builtin_error",
		   "base64.decode: illegal base64 data at input byte 3");
	expect_ok("base64.is_valid", "[\"YQ==\"]", "true");
	expect_ok("base64.is_valid", "[\"YQ=\"]", "false");
	expect_ok("base64url.encode", "[\"ab?\"]", "\"YWI_\"");
	expect_ok("base64url.encode_no_pad", "[\"a\"]", "\"YQ\"");
	expect_ok("base64url.decode", "[\"YWI_\"]", "\"ab?\"");
	expect_ok("base64url.decode", "[\"YQ\"]", "\"a\"");
	expect_err("base64url.decode", "[\"YWJjZ\"]", "eval_builtin_error",
		   "base64url.decode: illegal base64url string: YWJjZ");
}

static void test_hex(void **state)
{
	(void)state;
	expect_ok("hex.encode", "[\"Az\"]", "\"417a\"");
	expect_ok("hex.decode", "[\"417A\"]", "\"Az\"");
	expect_err("hex.decode", "[\"4q\"]", "eval_builtin_error",
		   "hex.decode: encoding/hex: invalid byte: U+0071 'q'");
	expect_err("hex.decode", "[\"417\"]", "eval_builtin_error",
		   "hex.decode: encoding/hex: odd length hex string");
}

static void test_urlquery(void **state)
{
	(void)state;
	expect_ok("urlquery.encode", "[\"a b/c~\"]", "\"a+b%2Fc~\"");
	expect_ok("urlquery.decode", "[\"a+b%2fc\"]", "\"a b/c\"");
	expect_err("urlquery.decode", "[\"100%\"]", "eval_builtin_error",
		   "urlquery.decode: invalid URL escape \"%\"");
	expect_str("urlquery.encode_object", "[{\"b\": [\"2\", \"1\"], \"a\": \"x y\"}]",
		   "a=x+y&b=2&b=1");
	expect_ok("urlquery.decode_object", "[\"k=1&&j&k=%3D\"]",
		  "{\"j\":[\"\"],\"k\":[\"1\",\"=\"]}");
	expect_err("urlquery.decode_object", "[\"a=1;b=2\"]", "eval_builtin_error",
		   "urlquery.decode_object: invalid semicolon separator in query");
}

static void test_json(void **state)
{
	(void)state;
	expect_ok("json.marshal", "[{\"b\": [1, {\"$set\": [\"y\", \"x\"]}], \"a\": null}]",
		  "\"{\\\"a\\\":null,\\\"b\\\":[1,[\\\"x\\\",\\\"y\\\"]]}\"");
	expect_ok("json.marshal_with_options", "[[1, {\"k\": true}], {\"indent\": \" \"}]",
		  "\"[\\n 1,\\n {\\n  \\\"k\\\": true\\n }\\n]\"");
	expect_str("json.marshal_with_options", "[{}, {\"prefix\": \"> \"}]", "> {}");
	expect_ok("json.marshal_with_options", "[[1], {\"pretty\": false, \"indent\": \"x\"}]",
		  "\"[1]\"");
	expect_err("json.marshal_with_options", "[[1], {\"width\": 3}]", "eval_type_error",
		   "json.marshal_with_options: object contained unknown key \"width\"");
	expect_ok("json.unmarshal", "[\"{\\\"n\\\": [1.5, true]}\"]", "{\"n\":[1.5,true]}");
	expect_ok("json.is_valid", "[\"[1,\"]", "false");
	expect_ok("json.is_valid", "[3]", "false");
}

static void test_json_filter_remove(void **state)
{
	(void)state;
	expect_ok("json.filter", "[{\"a\": {\"b\": 1, \"c\": 2}, \"d\": 3}, [\"a/c\", [\"d\"]]]",
		  "{\"a\":{\"c\":2},\"d\":3}");
	expect_ok("json.filter", "[{\"a\": [5, 6, 7]}, {\"$set\": [\"a/2\", \"a/0\"]}]",
		  "{\"a\":[5,7]}");
	expect_ok("json.filter", "[{\"a\": {\"b\": 1}}, [\"a\", \"a/b/c\"]]", "{\"a\":{\"b\":1}}");
	expect_ok("json.remove", "[{\"a\": {\"b\": 1, \"c\": 2}, \"d\": [1, 2, 3]}, [\"a/b\", \"d/1\"]]",
		  "{\"a\":{\"c\":2},\"d\":[1,3]}");
	expect_ok("json.remove", "[{\"x/y\": 1, \"z\": 2}, [\"x~1y\"]]", "{\"z\":2}");
	expect_err("json.filter", "[{}, \"a\"]", "eval_type_error",
		   "json.filter: operand 2 must be one of {set, array} but got string");
}

static void test_json_patch(void **state)
{
	(void)state;
	expect_ok("json.patch", "[{\"a\": [1, 3]}, [{\"op\": \"add\", \"path\": \"/a/1\", \"value\": 2}]]",
		  "{\"a\":[1,2,3]}");
	expect_ok("json.patch", "[{\"a\": [1]}, [{\"op\": \"add\", \"path\": \"/a/-\", \"value\": 9}]]",
		  "{\"a\":[1,9]}");
	expect_ok("json.patch",
		  "[{\"a\": {\"x\": 1}, \"b\": {}}, [{\"op\": \"move\", \"from\": \"/a/x\", \"path\": \"/b/y\"}]]",
		  "{\"a\":{},\"b\":{\"y\":1}}");
	expect_ok("json.patch",
		  "[{\"a\": 1}, [{\"op\": \"copy\", \"from\": \"/a\", \"path\": \"/b\"}, {\"op\": \"test\", \"path\": \"/b\", \"value\": 1}]]",
		  "{\"a\":1,\"b\":1}");
	expect_ok("json.patch", "[{\"a\": 1}, [{\"op\": \"replace\", \"path\": \"\", \"value\": [0]}]]",
		  "[0]");
	expect_undefined("json.patch", "[{\"a\": 1}, [{\"op\": \"test\", \"path\": \"/a\", \"value\": 2}]]");
	expect_undefined("json.patch", "[[1, 2], [{\"op\": \"add\", \"path\": \"/01\", \"value\": 0}]]");
	expect_undefined("json.patch", "[[1, 2], [{\"op\": \"remove\", \"path\": \"/2\"}]]");
	expect_ok("json.patch", "[{}, [{\"op\": \"add\", \"path\": \"a\", \"value\": 0}]]",
		  "{\"a\":0}");
	expect_undefined("json.patch", "[{\"a\": {}}, [{\"op\": \"move\", \"from\": \"/a\", \"path\": \"/a/b\"}]]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_urlquery),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_filter_remove),
		cmocka_unit_test(test_json_patch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
