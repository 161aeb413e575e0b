/* Unit tests for YAML values: go-yaml v2's scalar rules, keys, anchors and
 * merges, the limits against hostile documents, error wording, and the
 * marshalled form with its key order and quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/value.h"

/* Parses text and returns its compact JSON, or "ERROR: <message>". */
static char *yaml_to_json(const char *text)
{
	struct wd_buf err, out;
	struct rv *v;
	char *result;

	wd_buf_init(&err, 64, 4096);
	wd_buf_init(&out, 64, 1 << 20);
	v = rv_parse_yaml(text, strlen(text), &err);
	if (v)
		assert_int_equal(rv_write_json(v, &out), 0);
	else
		assert_int_equal(wd_buf_appendf(&out, "ERROR: %s", wd_buf_str(&err)), 0);
	rv_unref(v);
	result = strdup(wd_buf_str(&out));
	wd_buf_free(&err);
	wd_buf_free(&out);
	return result;
}

static void check_json(const char *yaml, const char *expected)
{
	char *got = yaml_to_json(yaml);

	assert_string_equal(got, expected);
	free(got);
}

/* Parses JSON (a test fixture) and marshals it to YAML. */
static char *json_to_yaml(const char *json)
{
	struct wd_buf out;
	struct rv *v = rv_parse_json(json, strlen(json), 100, NULL);
	char *result;

	assert_non_null(v);
	wd_buf_init(&out, 64, 1 << 20);
	assert_int_equal(rv_write_yaml(v, &out), 0);
	result = strdup(wd_buf_str(&out));
	rv_unref(v);
	wd_buf_free(&out);
	return result;
}

static void check_yaml(const char *json, const char *expected)
{
	char *got = json_to_yaml(json);

	assert_string_equal(got, expected);
	free(got);
}

/* The core schema (case and configuration files) keeps the YAML 1.1 word
 * booleans as strings, in keys and values alike. */
static void yaml_core_schema_booleans(void **state)
{
	static const char text[] = "y: yes\nn: [no, on, off, Y]\nt: true\nf: FALSE\nv: 1\n";
	struct wd_buf out;
	struct rv *v;

	(void)state;
	wd_buf_init(&out, 64, 4096);
	v = rv_parse_yaml_core(text, strlen(text), NULL);
	assert_non_null(v);
	assert_int_equal(rv_write_json(v, &out), 0);
	assert_string_equal(wd_buf_str(&out),
		"{\"f\":false,\"n\":[\"no\",\"on\",\"off\",\"Y\"],\"t\":true,\"v\":1,\"y\":\"yes\"}");
	rv_unref(v);
	wd_buf_free(&out);

	/* yaml.unmarshal reads the same text by YAML 1.1: the key n is false. */
	check_json("n: [no, on]\n", "{\"false\":[false,true]}");
}

static void yaml_plain_booleans_and_null(void **state)
{
	(void)state;
	check_json("[true, True, yes, on, Y, y]", "[true,true,true,true,true,true]");
	check_json("[false, NO, off, n]", "[false,false,false,false]");
	check_json("[null, ~, Null]", "[null,null,null]");
	check_json("- \n- NULL\n", "[null,null]");
	check_json("", "null");
	check_json("[yes please, truth, nil]", "[\"yes please\",\"truth\",\"nil\"]");
}

static void yaml_plain_integers(void **state)
{
	(void)state;
	check_json("[0x1F, 0o17, 017, 0b101, -0b101, 1_000, +5, -0]", "[31,15,15,5,-5,1000,5,0]");
	check_json("[9223372036854775807, -9223372036854775808]",
		   "[9223372036854775807,-9223372036854775808]");
	/* Above int64: go-yaml reads it as an unsigned integer. */
	check_json("18446744073709551615", "18446744073709551615");
	/* Not octal, so it is read as the float 8, which JSON writes as 8. */
	check_json("08", "8");
}

static void yaml_plain_floats(void **state)
{
	(void)state;
	check_json("[1.5, .5, -2.25, 1e3, 1.0, 2E-1]", "[1.5,0.5,-2.25,1000,1,0.2]");
	check_json("[1.2.3, 1e, 0x, 12:30, 1e400]",
		   "[\"1.2.3\",\"1e\",\"0x\",\"12:30\",\"1e400\"]");
	check_json(".nan", "ERROR: json: unsupported value: NaN");
	check_json("[.inf]", "ERROR: json: unsupported value: +Inf");
	check_json("x: -.Inf", "ERROR: json: unsupported value: -Inf");
}

static void yaml_strings_stay_strings(void **state)
{
	(void)state;
	check_json("['true', \"1\", plain text, 2001-12-14]",
		   "[\"true\",\"1\",\"plain text\",\"2001-12-14\"]");
	check_json("\"caf\\u00e9\\n\"", "\"caf\u00e9\\n\"");
	check_json("|\n  line one\n  line two\n", "\"line one\\nline two\\n\"");
	check_json("folded: >\n  a\n  b\n", "{\"folded\":\"a b\\n\"}");
}

static void yaml_explicit_tags(void **state)
{
	(void)state;
	check_json("[!!int \"3\", !!str 3, !!float 2, !!bool \"yes\", !local 7]",
		   "[3,\"3\",2,true,\"7\"]");
	check_json("!!binary aGVsbG8=", "\"hello\"");
	check_json("!!int abc", "ERROR: yaml: cannot decode !!str `abc` as a !!int");
	check_json("!!binary '***'", "ERROR: yaml: !!binary value contains invalid base64 data");
}

static void yaml_keys_become_strings(void **state)
{
	(void)state;
	check_json("{1: a, 1.5: b, true: c, on: d, 1e6: e}",
		   "{\"1\":\"a\",\"1.5\":\"b\",\"1e+06\":\"e\",\"true\":\"d\"}");
	check_json("{~: a}", "ERROR: yaml: unsupported map key: null");
	check_json("{[1]: a}", "ERROR: yaml: invalid map key: a array");
	/* A later duplicate replaces the earlier value. */
	check_json("{a: 1, a: 2}", "{\"a\":2}");
}

static void yaml_anchors_and_merges(void **state)
{
	(void)state;
	check_json("base: &b {u: 1, w: 2}\nuse: *b\n",
		   "{\"base\":{\"u\":1,\"w\":2},\"use\":{\"u\":1,\"w\":2}}");
	check_json("a: &a {u: 1, w: 2}\nb:\n  <<: *a\n  w: 3\n",
		   "{\"a\":{\"u\":1,\"w\":2},\"b\":{\"u\":1,\"w\":3}}");
	/* y is the boolean true in YAML 1.1, so the key is "true". */
	check_json("{y: 1}", "{\"true\":1}");
	/* Earlier maps of a merged list take precedence over later ones. */
	check_json("p: &p {k: 1}\nq: &q {k: 2, z: 0}\nr:\n  <<: [*p, *q]\n",
		   "{\"p\":{\"k\":1},\"q\":{\"k\":2,\"z\":0},\"r\":{\"k\":1,\"z\":0}}");
	check_json("a:\n  <<: 5\n",
		   "ERROR: yaml: map merge requires map or sequence of maps as the value");
	/* Quoted, << is a string (which JSON writes with < escaped). */
	check_json("['<<']", "[\"\\u003c\\u003c\"]");
	check_json("*missing", "ERROR: yaml: unknown anchor 'missing' referenced");
	check_json("&loop [1, *loop]", "ERROR: yaml: anchor 'loop' value contains itself");
}

static void yaml_syntax_errors(void **state)
{
	(void)state;
	check_json("[1,2,3", "ERROR: yaml: line 1: did not find expected ',' or ']'");
	/* go-yaml names a line only past the first one. */
	check_json("a: b: c", "ERROR: yaml: mapping values are not allowed in this context");
	check_json("a: 1\nb: c: d", "ERROR: yaml: line 2: mapping values are not allowed in "
				     "this context");
	check_json("a:\n\t- b", "ERROR: yaml: line 2: found character that cannot start any "
				"token");
	check_json("key: \"unterminated", "ERROR: yaml: found unexpected end of stream");
	check_json("a: 1\nkey: \"unterminated",
		   "ERROR: yaml: line 2: found unexpected end of stream");
}

static void yaml_first_document_only(void **state)
{
	(void)state;
	check_json("a: 1\n---\nb: 2\n", "{\"a\":1}");
	check_json("--- 5\n...\n", "5");
}

static void yaml_billion_laughs_rejected(void **state)
{
	const char *doc =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";

	(void)state;
	check_json(doc, "ERROR: yaml: document contains excessive aliasing");
	/* Modest reuse stays within the allowance. */
	check_json("a: &a [1, 2]\nb: [*a, *a, *a]\n", "{\"a\":[1,2],\"b\":[[1,2],[1,2],[1,2]]}");
}

static void yaml_depth_limit(void **state)
{
	char deep[2101];

	(void)state;
	memset(deep, '[', 1001);
	deep[1001] = '\0';
	check_json(deep, "ERROR: yaml: exceeded max depth of 1000");

	memset(deep, '[', 1000);
	memset(deep + 1000, ']', 1000);
	deep[2000] = '\0';
	{
		struct rv *v = rv_parse_yaml(deep, 2000, NULL);

		assert_non_null(v);
		assert_true(rv_is(v, RV_ARRAY));
		rv_unref(v);
	}
}

static void yaml_hostile_bytes(void **state)
{
	static const char nul_doc[] = "a: \0b";
	struct wd_buf err;
	struct rv *v;

	(void)state;
	check_json("a: \x80", "ERROR: yaml: invalid leading UTF-8 octet");
	wd_buf_init(&err, 64, 4096);
	v = rv_parse_yaml(nul_doc, sizeof(nul_doc) - 1, &err);
	assert_null(v);
	assert_string_equal(wd_buf_str(&err), "yaml: control characters are not allowed");
	wd_buf_free(&err);
	/* Without an error buffer the failure is still reported by NULL. */
	assert_null(rv_parse_yaml("[", 1, NULL));
}

static void yaml_marshal_layout(void **state)
{
	(void)state;
	check_yaml("{\"b\": [1, 2], \"a\": {\"c\": null}}", "a:\n  c: null\nb:\n- 1\n- 2\n");
	check_yaml("{}", "{}\n");
	check_yaml("[]", "[]\n");
	check_yaml("\"text\"", "text\n");
	check_yaml("[true, 1.5, -3]", "- true\n- 1.5\n- -3\n");
	check_yaml("{\"k\": \"two\\nlines\"}", "k: |-\n  two\n  lines\n");
}

static void yaml_marshal_quotes_ambiguous_strings(void **state)
{
	(void)state;
	check_yaml("[\"true\", \"yes\", \"1\", \"0x1\", \"\", \"null\", \"1:30\", \"<<\"]",
		   "- \"true\"\n- \"yes\"\n- \"1\"\n- \"0x1\"\n- \"\"\n- \"null\"\n- \"1:30\"\n"
		   "- \"<<\"\n");
	check_yaml("[\"a: b\", \"- x\", \"#c\", \"plain words\"]",
		   "- 'a: b'\n- '- x'\n- '#c'\n- plain words\n");
}

static void yaml_marshal_replaces_bad_utf8(void **state)
{
	struct rv *v = rv_string("a\xff" "b", 3);
	struct wd_buf out;

	(void)state;
	wd_buf_init(&out, 16, 4096);
	assert_int_equal(rv_write_yaml(v, &out), 0);
	/* encoding/json turns each invalid byte into U+FFFD first. */
	assert_string_equal(wd_buf_str(&out), "a\xef\xbf\xbd" "b\n");
	rv_unref(v);
	wd_buf_free(&out);
}

static void yaml_marshal_key_order(void **state)
{
	(void)state;
	/* go-yaml orders digit runs by value, and other characters before
	 * letters. */
	check_yaml("{\"a10\": 1, \"a2\": 2, \"b\": 3, \"_z\": 4, \"A\": 5}",
		   "_z: 4\nA: 5\na2: 2\na10: 1\nb: 3\n");
}

static void yaml_marshal_numbers(void **state)
{
	(void)state;
	/* Integers beyond 64 bits become float64, as go-yaml reads the JSON. */
	check_yaml("[123456789012345678901234, 18446744073709551615, 1e300, 0.000001]",
		   "- 1.2345678901234569e+23\n- 18446744073709551615\n- 1e+300\n- 1e-06\n");
}

static void yaml_round_trip_with_set(void **state)
{
	struct rv *arr = rv_array_new(1);
	struct rv *obj = rv_object_new(1);
	struct rv *set = rv_set_new(3);
	struct rv *back;
	struct wd_buf out, json;

	(void)state;
	assert_int_equal(rv_set_add(set, rv_int(3)), 0);
	assert_int_equal(rv_set_add(set, rv_int(1)), 0);
	assert_int_equal(rv_set_add(set, rv_int(2)), 0);
	assert_int_equal(rv_object_put(obj, rv_cstring("foo"), set), 0);
	assert_int_equal(rv_array_push(arr, obj), 0);

	wd_buf_init(&out, 64, 4096);
	wd_buf_init(&json, 64, 4096);
	assert_int_equal(rv_write_yaml(arr, &out), 0);
	assert_string_equal(wd_buf_str(&out), "- foo:\n  - 1\n  - 2\n  - 3\n");
	back = rv_parse_yaml(wd_buf_str(&out), wd_buf_len(&out), NULL);
	assert_non_null(back);
	assert_int_equal(rv_write_json(back, &json), 0);
	assert_string_equal(wd_buf_str(&json), "[{\"foo\":[1,2,3]}]");
	rv_unref(back);
	rv_unref(arr);
	wd_buf_free(&out);
	wd_buf_free(&json);
}

static void yaml_marshal_ceiling(void **state)
{
	struct rv *v = rv_cstring("a string longer than the ceiling");
	struct wd_buf out;

	(void)state;
	wd_buf_init(&out, 4, 8);
	assert_int_equal(rv_write_yaml(v, &out), WD_ETOOBIG);
	assert_int_equal(wd_buf_len(&out), 0);
	rv_unref(v);
	wd_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(yaml_plain_booleans_and_null),
		cmocka_unit_test(yaml_core_schema_booleans),
		cmocka_unit_test(yaml_plain_integers),
		cmocka_unit_test(yaml_plain_floats),
		cmocka_unit_test(yaml_strings_stay_strings),
		cmocka_unit_test(yaml_explicit_tags),
		cmocka_unit_test(yaml_keys_become_strings),
		cmocka_unit_test(yaml_anchors_and_merges),
		cmocka_unit_test(yaml_syntax_errors),
		cmocka_unit_test(yaml_first_document_only),
		cmocka_unit_test(yaml_billion_laughs_rejected),
		cmocka_unit_test(yaml_depth_limit),
		cmocka_unit_test(yaml_hostile_bytes),
		cmocka_unit_test(yaml_marshal_layout),
		cmocka_unit_test(yaml_marshal_quotes_ambiguous_strings),
		cmocka_unit_test(yaml_marshal_replaces_bad_utf8),
		cmocka_unit_test(yaml_marshal_key_order),
		cmocka_unit_test(yaml_marshal_numbers),
		cmocka_unit_test(yaml_round_trip_with_set),
		cmocka_unit_test(yaml_marshal_ceiling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
