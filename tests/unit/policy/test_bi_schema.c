/* Unit tests for json.match_schema and json.verify_schema: keyword checks,
 * error records, schema errors and hostile schemas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "policy/builtin.h"

struct call {
	struct rego_bctx ctx;
	int rc;
	char *json;
};

/* Arguments are JSON ("j:") or a Rego string holding the text ("s:"). */
static struct rv *arg_value(const char *text)
{
	struct rv *v;

	if (strncmp(text, "s:", 2) == 0)
		return rv_cstring(text + 2);
	v = rv_parse_json(text + 2, strlen(text + 2), 1000, NULL);
	assert_non_null(v);
	return v;
}

static struct call run(const char *name, const char *a, const char *b)
{
	const struct rego_builtin *bi = rego_builtin_find(name);
	struct rv *args[2] = { arg_value(a), b ? arg_value(b) : NULL };
	struct rv *ret = NULL;
	struct call c;

	memset(&c, 0, sizeof(c));
	c.ctx.name = name;
	assert_non_null(bi);
	c.rc = bi->fn(&c.ctx, args, b ? 2 : 1, &ret);
	if (c.rc == 0) {
		struct wd_buf out;

		wd_buf_init(&out, 256, 1 << 20);
		assert_int_equal(rv_write_json(ret, &out), 0);
		c.json = strdup(wd_buf_str(&out));
		wd_buf_free(&out);
		rv_unref(ret);
	}
	rv_unref(args[0]);
	rv_unref(args[1]);
	return c;
}

static void expect_match(const char *doc, const char *schema, const char *want)
{
	struct call c = run("json.match_schema", doc, schema);

	assert_int_equal(c.rc, 0);
	assert_string_equal(c.json, want);
	free(c.json);
}

static void expect_verify(const char *schema, const char *want)
{
	struct call c = run("json.verify_schema", schema, NULL);

	assert_int_equal(c.rc, 0);
	assert_string_equal(c.json, want);
	free(c.json);
}

static void expect_match_error(const char *doc, const char *schema, const char *want)
{
	struct call c = run("json.match_schema", doc, schema);

	assert_true(c.rc < 0);
	assert_string_equal(c.ctx.err_code, "eval_builtin_error");
	assert_string_equal(c.ctx.err_msg, want);
}

#define ERR(field, type, desc) \
	"{\"desc\":\"" desc "\",\"error\":\"" field ": " desc "\",\"field\":\"" field "\",\"type\":\"" type "\"}"

static void match_valid_documents(void **state)
{
	static const char schema[] =
		"j:{\"type\":\"object\",\"required\":[\"name\"],\"properties\":{\"name\":{\"type\":"
		"\"string\",\"minLength\":1},\"age\":{\"type\":\"integer\",\"minimum\":0}}}";

	(void)state;
	expect_match("j:{\"name\":\"ada\",\"age\":36}", schema, "[true,[]]");
	expect_match("s:{\"name\": \"ada\", \"age\": 36.0}", schema, "[true,[]]");
	expect_match("j:{\"name\":\"ada\"}", "s:{\"type\": \"object\"}", "[true,[]]");
	expect_match("j:[1,2]", "j:{\"type\":\"array\",\"items\":{\"type\":\"number\"}}", "[true,[]]");
	expect_match("j:{\"a\":1}", "j:{}", "[true,[]]");
}

static void match_type_and_required_errors(void **state)
{
	static const char schema[] =
		"j:{\"type\":\"object\",\"required\":[\"name\",\"id\"],\"properties\":{\"name\":"
		"{\"type\":[\"string\",\"null\"]},\"id\":{\"type\":\"integer\"}}}";

	(void)state;
	expect_match("j:{\"name\":5,\"id\":1.5}", schema,
		     "[false,[" ERR("id", "invalid_type", "Invalid type. Expected: integer, given: number") ","
		     ERR("name", "invalid_type", "Invalid type. Expected: [string,null], given: integer") "]]");
	expect_match("j:{}", schema,
		     "[false,[" ERR("(root)", "required", "name is required") ","
		     ERR("(root)", "required", "id is required") "]]");
	expect_match("j:[]", schema,
		     "[false,[" ERR("(root)", "invalid_type", "Invalid type. Expected: object, given: array") "]]");
}

static void match_number_keywords(void **state)
{
	(void)state;
	expect_match("j:[7, 0.3, 10]",
		     "j:{\"items\":{\"multipleOf\":0.1,\"exclusiveMaximum\":10,\"minimum\":1}}",
		     "[false,[" ERR("1", "number_gte", "Must be greater than or equal to 1") ","
		     ERR("2", "number_lt", "Must be less than 10") "]]");
	/* Draft 4 spells an exclusive bound as a flag on minimum. */
	expect_match("s:5",
		     "j:{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"minimum\":5,"
		     "\"exclusiveMinimum\":true}",
		     "[false,[" ERR("(root)", "number_gt", "Must be greater than 5") "]]");
	expect_match("s:7", "j:{\"multipleOf\":2}",
		     "[false,[" ERR("(root)", "multiple_of", "Must be a multiple of 2") "]]");
	expect_match("s:2.5", "j:{\"maximum\":2.25}",
		     "[false,[" ERR("(root)", "number_lte", "Must be less than or equal to 2.25") "]]");
}

static void match_string_keywords(void **state)
{
	(void)state;
	expect_match("s:\"h\xc3\xa9llo\"", "j:{\"maxLength\":4,\"pattern\":\"^[a-z]+$\"}",
		     "[false,[" ERR("(root)", "string_lte", "String length must be less than or equal to 4") ","
		     ERR("(root)", "pattern", "Does not match pattern '^[a-z]+$'") "]]");
	expect_match("s:\"h\xc3\xa9llo\"", "j:{\"minLength\":5,\"maxLength\":5}", "[true,[]]");
	expect_match("j:{\"d\":\"2021-02-29\",\"t\":\"2021-03-01T10:00:00Z\",\"u\":\"not a uuid\"}",
		     "j:{\"properties\":{\"d\":{\"format\":\"date\"},\"t\":{\"format\":\"date-time\"},"
		     "\"u\":{\"format\":\"uuid\"},\"x\":{\"format\":\"no-such-format\"}}}",
		     "[false,[" ERR("d", "format", "Does not match format 'date'") ","
		     ERR("u", "format", "Does not match format 'uuid'") "]]");
}

static void match_array_keywords(void **state)
{
	(void)state;
	expect_match("j:[1,\"a\",1,true]",
		     "j:{\"items\":[{\"type\":\"integer\"},{\"type\":\"string\"}],\"additionalItems\":false,"
		     "\"uniqueItems\":true,\"minItems\":5}",
		     "[false,[" ERR("(root)", "array_no_additional_items", "No additional items allowed on array") ","
		     ERR("(root)", "array_min_items", "Array must have at least 5 items") ","
		     ERR("(root)", "unique", "array items[0,2] must be unique") "]]");
	expect_match("j:[1,2]", "j:{\"contains\":{\"type\":\"string\"}}",
		     "[false,[" ERR("(root)", "contains", "At least one of the items must match") ","
		     ERR("0", "invalid_type", "Invalid type. Expected: string, given: integer") "]]");
	/* 1 and 1.0 are the same item once written as JSON numbers. */
	expect_match("j:[1,1.0]", "j:{\"uniqueItems\":true}",
		     "[false,[" ERR("(root)", "unique", "array items[0,1] must be unique") "]]");
}

static void match_object_keywords(void **state)
{
	(void)state;
	expect_match("j:{\"a\":1,\"b\":2,\"x-c\":\"s\"}",
		     "j:{\"properties\":{\"a\":{}},\"patternProperties\":{\"^x-\":{\"type\":\"integer\"}},"
		     "\"additionalProperties\":false,\"maxProperties\":2,\"dependencies\":{\"a\":[\"z\"]}}",
		     "[false,[" ERR("(root)", "missing_dependency", "Has a dependency on z") ","
		     ERR("(root)", "array_max_properties", "Must have at most 2 properties") ","
		     ERR("(root)", "additional_property_not_allowed", "Additional property b is not allowed") ","
		     ERR("x-c", "invalid_type", "Invalid type. Expected: integer, given: string") "]]");
	expect_match("j:{\"Ab\":1}", "j:{\"propertyNames\":{\"pattern\":\"^[a-z]+$\"}}",
		     "[false,[" ERR("(root)", "invalid_property_name", "Property name of \\\"Ab\\\" does not match") ","
		     ERR("(root)", "pattern", "Does not match pattern '^[a-z]+$'") "]]");
}

static void match_combinators(void **state)
{
	(void)state;
	expect_match("j:{\"x\":1}",
		     "j:{\"anyOf\":[{\"type\":\"string\"},{\"required\":[\"y\"]}],\"not\":{\"type\":\"object\"}}",
		     "[false,[" ERR("(root)", "number_any_of", "Must validate at least one schema (anyOf)") ","
		     ERR("(root)", "required", "y is required") ","
		     ERR("(root)", "number_not", "Must not validate the schema (not)") "]]");
	expect_match("s:3", "j:{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}",
		     "[false,[" ERR("(root)", "number_one_of", "Must validate one and only one schema (oneOf)") "]]");
	expect_match("s:3", "j:{\"allOf\":[{\"type\":\"integer\"},{\"maximum\":2}]}",
		     "[false,[" ERR("(root)", "number_lte", "Must be less than or equal to 2") ","
		     ERR("(root)", "number_all_of", "Must validate all the schemas (allOf)") "]]");
	expect_match("j:{\"kind\":\"a\"}",
		     "j:{\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}}},\"then\":{\"required\":[\"n\"]}}",
		     "[false,[" ERR("(root)", "condition_then", "Must validate \\\"then\\\" as \\\"if\\\" was valid") ","
		     ERR("(root)", "required", "n is required") "]]");
	expect_match("s:\"b\"", "j:{\"enum\":[\"a\",1,{\"k\":null}]}",
		     "[false,[" ERR("(root)", "enum", "(root) must be one of the following: \\\"a\\\", 1, {\\\"k\\\":null}") "]]");
	expect_match("j:[1]", "j:{\"items\":{\"const\":2}}",
		     "[false,[" ERR("0", "const", "0 does not match: 2") "]]");
	expect_match("s:1", "s:false",
		     "[false,[" ERR("(root)", "false", "False always fails validation") "]]");
}

static void match_references(void **state)
{
	static const char tree[] =
		"j:{\"$ref\":\"#/definitions/node\",\"definitions\":{\"node\":{\"type\":\"object\","
		"\"properties\":{\"child\":{\"$ref\":\"#/definitions/node\"},\"v\":{\"type\":\"integer\"}}}}}";

	(void)state;
	expect_match("j:{\"child\":{\"child\":{\"v\":\"x\"}}}", tree,
		     "[false,[" ERR("child.child.v", "invalid_type", "Invalid type. Expected: integer, given: string") "]]");
	expect_match("j:{\"a\":[{\"a\":[]}]}",
		     "j:{\"properties\":{\"a\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}", "[true,[]]");
	expect_match("s:5", "j:{\"$defs\":{\"a~b\":{\"type\":\"string\"}},\"$ref\":\"#/$defs/a~0b\"}",
		     "[false,[" ERR("(root)", "invalid_type", "Invalid type. Expected: string, given: integer") "]]");
	expect_match_error("s:1", "j:{\"$ref\":\"#/definitions/missing\",\"definitions\":{}}",
			   "json.match_schema: Object has no key 'missing'");
	expect_match_error("s:1", "j:{\"$ref\":\"http://example.com/schema.json\"}",
			   "json.match_schema: Reference http://example.com/schema.json cannot be loaded: "
			   "only references within the schema are supported");
}

static void match_reports_bad_inputs(void **state)
{
	(void)state;
	expect_match_error("s:{not json", "j:{}", "json.match_schema: invalid JSON string");
	expect_match_error("j:5", "j:{}", "json.match_schema: wrong type, expected string or object");
	expect_match_error("j:{}", "j:{\"type\":\"unknown\"}",
			   "json.match_schema: has a primitive type that is NOT VALID -- given: /unknown/ "
			   "Expected valid values are:[array boolean integer number null object string]");
	expect_match_error("j:{}", "j:{\"type\":[\"string\",\"string\"]}",
			   "json.match_schema: string type is duplicated");
}

static void verify_schema_results(void **state)
{
	static const struct {
		const char *schema;
		const char *want;
	} cases[] = {
		{ "s:{\"type\": \"string\"}", "[true,null]" },
		{ "j:{\"properties\":{\"a\":{\"minimum\":1}}}", "[true,null]" },
		{ "j:{\"minLength\":-1}", "[false,\"jsonschema: minLength must be greater than or equal to 0\"]" },
		{ "j:{\"minLength\":1.5}", "[false,\"jsonschema: minLength must be of an integer\"]" },
		{ "j:{\"minLength\":3,\"maxLength\":2}", "[false,\"jsonschema: minLength cannot be greater than maxLength\"]" },
		{ "j:{\"pattern\":\"(?=x)\"}", "[false,\"jsonschema: pattern must be a valid regex\"]" },
		{ "j:{\"patternProperties\":{\"[\":{}}}", "[false,\"jsonschema: Invalid regex pattern '['\"]" },
		{ "j:{\"multipleOf\":0}", "[false,\"jsonschema: multipleOf must be strictly greater than 0\"]" },
		{ "j:{\"required\":[\"a\",\"a\"]}", "[false,\"jsonschema: required items must be unique\"]" },
		{ "j:{\"enum\":[1,1.0]}", "[false,\"jsonschema: enum items must be unique\"]" },
		{ "j:{\"properties\":[]}", "[false,\"jsonschema: properties must be of type object\"]" },
		{ "j:{\"items\":5}", "[false,\"jsonschema: Invalid type. Expected: valid schema/array of schemas, given: items\"]" },
		{ "j:{\"not\":5}", "[false,\"jsonschema: not must be of an object\"]" },
		{ "j:{\"properties\":{\"a\":5}}", "[false,\"jsonschema: Expected: valid schema, given: Invalid JSON\"]" },
		{ "j:{\"$schema\":5}", "[false,\"jsonschema: $schema must be of type string\"]" },
		{ "j:[1]", "[false,\"jsonschema: schema is invalid\"]" },
		{ "s:[", "[false,\"jsonschema: invalid JSON string\"]" },
		{ "j:{\"exclusiveMaximum\":true}", "[false,\"jsonschema: exclusiveMaximum cannot be used without maximum\"]" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_verify(cases[i].schema, cases[i].want);
}

/* A reference cycle with no progress and a deep schema stop with an error
 * instead of exhausting the stack. */
static void hostile_schemas_are_bounded(void **state)
{
	size_t depth = 300, n = 0;
	char *deep = malloc(depth * 12 + 16);
	struct call c;

	(void)state;
	c = run("json.match_schema", "s:1", "j:{\"$ref\":\"#\"}");
	assert_true(c.rc < 0);
	assert_string_equal(c.ctx.err_msg,
			    "json.match_schema: JSON Schema validation exceeds 2000000 steps or 800 levels");

	assert_non_null(deep);
	memcpy(deep, "j:", 2);
	n = 2;
	for (size_t i = 0; i < depth; i++, n += 7)
		memcpy(deep + n, "{\"not\":", 7);
	deep[n++] = '{';
	deep[n++] = '}';
	for (size_t i = 0; i < depth; i++)
		deep[n++] = '}';
	deep[n] = '\0';
	c = run("json.verify_schema", deep, NULL);
	assert_int_equal(c.rc, 0);
	assert_string_equal(c.json, "[false,\"jsonschema: schema nesting exceeds 200 levels\"]");
	free(c.json);
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(match_valid_documents),
		cmocka_unit_test(match_type_and_required_errors),
		cmocka_unit_test(match_number_keywords),
		cmocka_unit_test(match_string_keywords),
		cmocka_unit_test(match_array_keywords),
		cmocka_unit_test(match_object_keywords),
		cmocka_unit_test(match_combinators),
		cmocka_unit_test(match_references),
		cmocka_unit_test(match_reports_bad_inputs),
		cmocka_unit_test(verify_schema_results),
		cmocka_unit_test(hostile_schemas_are_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
