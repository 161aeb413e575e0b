/* METADATA annotations: blocks parsed and attached by the parser, their
 * parse errors, and rego.metadata.rule() / rego.metadata.chain(). */
#include "test_eval_support.h"

#include "policy/ast.h"

/* Parses src as t.rego and returns the first error's message (static
 * storage), checking the error count and position. */
static const char *first_error(const char *src, size_t want_count, uint32_t row, uint32_t col)
{
	static struct rego_error errs[8];
	size_t n = 0;
	struct rego_module *m = rego_parse_module("t.rego", src, strlen(src), errs, 8, &n);

	assert_null(m);
	assert_int_equal(n, want_count);
	assert_string_equal(errs[0].code, "rego_parse_error");
	assert_string_equal(errs[0].file, "t.rego");
	assert_int_equal(errs[0].row, row);
	assert_int_equal(errs[0].col, col);
	return errs[0].message;
}

/* The JSON text of an annotation list, "null" for none (caller frees). */
static char *annotations_json(const struct rv *list)
{
	struct wd_buf out;
	char *text;

	wd_buf_init(&out, 64, 1u << 20);
	if (list)
		assert_int_equal(rv_write_json(list, &out), 0);
	else
		assert_int_equal(wd_buf_append_str(&out, "null"), 0);
	text = wd_buf_take(&out, NULL);
	wd_buf_free(&out);
	return text;
}

static struct rego_module *parse_ok(const char *src)
{
	struct rego_error errs[4];
	size_t n = 0;
	struct rego_module *m = rego_parse_module("t.rego", src, strlen(src), errs, 4, &n);

	if (!m)
		fail_msg("unexpected parse error: %s", n ? errs[0].message : "(none)");
	return m;
}

static void assert_annotations(const struct rv *list, const char *want)
{
	char *got = annotations_json(list);

	assert_string_equal(got, want);
	free(got);
}

/* ---- attachment ---- */

static void test_attach_package_and_rules(void **state)
{
	struct rego_module *m;

	(void)state;
	m = parse_ok("# METADATA\n"
		     "# description: checks on deployments\n"
		     "package deploy.checks\n"
		     "\n"
		     "# METADATA\n"
		     "# scope: document\n"
		     "# title: replicas\n"
		     "\n"
		     "# METADATA\n"
		     "# title: too few replicas\n"
		     "# organizations: [Acme, 42]\n"
		     "low contains msg if {\n"
		     "\tmsg := \"low\"\n"
		     "}\n"
		     "\n"
		     "high := 1\n");
	assert_annotations(m->annotations,
			   "[{\"description\":\"checks on deployments\",\"scope\":\"package\"}]");
	assert_int_equal(m->rules_len, 2);
	assert_annotations(m->rules[0]->annotations,
			   "[{\"scope\":\"document\",\"title\":\"replicas\"},"
			   "{\"organizations\":[\"Acme\",\"42\"],\"scope\":\"rule\","
			   "\"title\":\"too few replicas\"}]");
	assert_null(m->rules[1]->annotations);
	rego_module_free(m);
}

static void test_attach_fields(void **state)
{
	struct rego_module *m;

	(void)state;
	m = parse_ok("package fields\n"
		     "\n"
		     "# METADATA\n"
		     "# title: 7\n"
		     "# entrypoint: true\n"
		     "# related_resources:\n"
		     "# - https://example.com/runbook\n"
		     "# - ref: ' https://example.com/a '\n"
		     "#   description: ' why '\n"
		     "# authors:\n"
		     "# - Ada   Lovelace <ada@example.com>\n"
		     "# - <ops@example.com>\n"
		     "# - {name: ' Grace ', email: 5}\n"
		     "# schemas:\n"
		     "# - input.spec: schema.pod\n"
		     "# - data.limits: {type: object}\n"
		     "# custom:\n"
		     "#   severity: HIGH\n"
		     "#   tags: [a, b]\n"
		     "allow := true\n");
	assert_annotations(m->rules[0]->annotations,
			   "[{\"authors\":[{\"email\":\"ada@example.com\",\"name\":\"Ada Lovelace\"},"
			   "{\"email\":\"ops@example.com\"},{\"name\":\"Grace\"}],"
			   "\"custom\":{\"severity\":\"HIGH\",\"tags\":[\"a\",\"b\"]},"
			   "\"entrypoint\":true,"
			   "\"related_resources\":[{\"ref\":\"https://example.com/runbook\"},"
			   "{\"description\":\"why\",\"ref\":\"https://example.com/a\"}],"
			   "\"schemas\":[{\"path\":[\"input\",\"spec\"],\"schema\":[\"schema\",\"pod\"]},"
			   "{\"definition\":{\"type\":\"object\"},\"path\":[\"data\",\"limits\"]}],"
			   "\"scope\":\"document\",\"title\":\"7\"}]");
	rego_module_free(m);
}

static void test_attach_next_statement_by_row(void **state)
{
	struct rego_module *m;

	(void)state;
	/* A block inside a body goes to the next statement; one not starting
	 * in column 1 is an ordinary comment. */
	m = parse_ok("package rows\n"
		     "\n"
		     "p if {\n"
		     "# METADATA\n"
		     "# title: inner\n"
		     "\ttrue\n"
		     "}\n"
		     "q := 2\n"
		     "  # METADATA\n"
		     "# title: indented\n"
		     "r := 3\n");
	assert_null(m->rules[0]->annotations);
	assert_annotations(m->rules[1]->annotations, "[{\"scope\":\"rule\",\"title\":\"inner\"}]");
	assert_null(m->rules[2]->annotations);
	rego_module_free(m);
}

static void test_attach_no_blocks(void **state)
{
	struct rego_module *m;

	(void)state;
	m = parse_ok("package plain\n# just a comment\np := 1\n");
	assert_null(m->annotations);
	assert_null(m->rules[0]->annotations);
	rego_module_free(m);
}

/* ---- parse errors ---- */

static void test_error_blank_block(void **state)
{
	(void)state;
	assert_string_equal(first_error("package a\n\n# METADATA\n#\n#   \np := 1\n", 1, 3, 1),
			    "expected METADATA block, found whitespace");
	assert_string_equal(first_error("package a\n# METADATA\n", 1, 2, 1),
			    "expected METADATA block, found whitespace");
}

static void test_error_bad_yaml_with_hint(void **state)
{
	(void)state;
	assert_string_equal(first_error("package a\n\n# METADATA\n# title:x\n# tags: [\np := 1\n",
					1, 5, 1),
			    "yaml: line 2: mapping values are not allowed in this context\n"
			    "  Hint: on line 4, symbol(s) ['x'] immediately following a key/value "
			    "separator ':' is not a legal yaml space character");
}

static void test_error_field_types(void **state)
{
	(void)state;
	assert_string_equal(first_error("package a\n\n# METADATA\n# title: [1]\n"
					"# entrypoint: yes\n# organizations: solo\np := 1\n",
					1, 5, 1),
			    "yaml: unmarshal errors:\n"
			    "  line 1: cannot unmarshal !!seq into string\n"
			    "  line 2: cannot unmarshal !!str `yes` into bool\n"
			    "  line 3: cannot unmarshal !!str `solo` into []string");
	assert_string_equal(first_error("package a\n\n# METADATA\n# - a\np := 1\n", 1, 4, 1),
			    "yaml: unmarshal errors:\n"
			    "  line 1: cannot unmarshal !!seq into ast.rawAnnotation");
	assert_string_equal(first_error("package a\n\n# METADATA\n# custom: averyverylongword\n"
					"p := 1\n", 1, 4, 1),
			    "yaml: unmarshal errors:\n"
			    "  line 1: cannot unmarshal !!str `averyve...` into map[string]interface {}");
}

static void test_error_entries(void **state)
{
	(void)state;
	assert_string_equal(first_error("package a\n\n# METADATA\n# related_resources:\n# - \"\"\n"
					"p := 1\n", 1, 3, 1),
			    "invalid related-resource definition : ref URL may not be empty string");
	assert_string_equal(first_error("package a\n\n# METADATA\n# related_resources:\n"
					"# - {description: d}\np := 1\n", 1, 3, 1),
			    "invalid related-resource definition map[description:d]: "
			    "'ref' value required in object");
	assert_string_equal(first_error("package a\n\n# METADATA\n# authors:\n# - \" \"\np := 1\n",
					1, 3, 1),
			    "invalid author definition  : author is an empty string");
	assert_string_equal(first_error("package a\n\n# METADATA\n# authors:\n# - {x: 1}\np := 1\n",
					1, 3, 1),
			    "invalid author definition map[x:%!s(int=1)]: "
			    "'name' and/or 'email' values required in object");
	assert_string_equal(first_error("package a\n\n# METADATA\n# authors:\n# - [1]\np := 1\n",
					1, 3, 1),
			    "invalid author definition [%!s(int=1)]: "
			    "invalid value type, must be string or map");
	assert_string_equal(first_error("package a\n\n# METADATA\n# schemas:\n"
					"# - input.x: other.y\np := 1\n", 1, 3, 1),
			    "invalid schema reference");
	assert_string_equal(first_error("package a\n\n# METADATA\n# schemas:\n"
					"# - \"1 +\": schema.y\np := 1\n", 1, 3, 1),
			    "invalid document reference");
	assert_string_equal(first_error("package a\n\n# METADATA\n# schemas:\n"
					"# - input.x: [1]\np := 1\n", 1, 3, 1),
			    "invalid schema declaration for path \"input.x\"");
}

static void test_error_scopes(void **state)
{
	(void)state;
	assert_string_equal(first_error("package a\n\n# METADATA\n# scope: rule\nimport data.x\n",
					1, 3, 1),
			    "annotation scope 'rule' must be applied to rule (have import)");
	assert_string_equal(first_error("package a\n\n# METADATA\n# scope: subpackages\np := 1\n",
					1, 3, 1),
			    "annotation scope 'subpackages' must be applied to package (have rule)");
	assert_string_equal(first_error("# METADATA\n# scope: document\npackage a\n", 1, 1, 1),
			    "annotation scope 'document' must be applied to rule (have package)");
	assert_string_equal(first_error("package a\n\n# METADATA\n# scope: nope\np := 1\n", 1, 3, 1),
			    "invalid annotation scope 'nope'. Use one of 'rule', 'document', "
			    "'package', or 'subpackages'");
	assert_string_equal(first_error("package a\n\np := 1\n# METADATA\n# title: end\n", 1, 4, 1),
			    "invalid annotation scope ''. Use one of 'rule', 'document', "
			    "'package', or 'subpackages'");
	assert_string_equal(first_error("package a\n\n# METADATA\n# entrypoint: true\n"
					"# scope: rule\np := 1\n", 1, 3, 1),
			    "annotation entrypoint applied to non-document or package scope 'rule'");
}

static void test_error_hostile_yaml(void **state)
{
	struct wd_buf src;
	struct rego_error errs[2];
	size_t n = 0;

	(void)state;
	/* Deep nesting and a huge scalar must fail or pass cleanly. */
	wd_buf_init(&src, 1024, 1u << 24);
	assert_int_equal(wd_buf_append_str(&src, "package a\n# METADATA\n# custom: "), 0);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(wd_buf_append_byte(&src, '['), 0);
	assert_int_equal(wd_buf_append_str(&src, "\np := 1\n"), 0);
	assert_null(rego_parse_module("t.rego", wd_buf_str(&src), wd_buf_len(&src), errs, 2, &n));
	assert_int_equal(n, 1);
	assert_int_equal(strncmp(errs[0].message, "yaml: ", 6), 0);
	wd_buf_free(&src);
}

/* ---- rego.metadata builtins ---- */

static char *run(const char *const *mods, const char *query)
{
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);
	char *out;
	int rc = 0;

	if (!e)
		fail_msg("compile failed: %s", errs.len ? errs.items[0].message : "?");
	out = te_query(e, query, NULL, &errs, &rc);
	if (!out)
		fail_msg("query failed: %s", errs.len ? errs.items[0].message : "?");
	rego_engine_unref(e);
	return out;
}

static void test_rule_closest_block(void **state)
{
	static const char *const mods[] = {
		"package svc\n"
		"\n"
		"# METADATA\n"
		"# scope: document\n"
		"# title: doc\n"
		"\n"
		"# METADATA\n"
		"# title: first\n"
		"\n"
		"# METADATA\n"
		"# title: second\n"
		"# custom: {level: 2}\n"
		"meta := rego.metadata.rule()\n"
		"\n"
		"bare := x if {\n"
		"\tx := rego.metadata.rule()\n"
		"}\n",
		NULL,
	};
	char *out;

	(void)state;
	out = run(mods, "x := data.svc.meta");
	assert_string_equal(out, "[{\"x\":{\"custom\":{\"level\":2},\"scope\":\"rule\","
				 "\"title\":\"second\"}}]");
	free(out);
	out = run(mods, "x := data.svc.bare");
	assert_string_equal(out, "[{\"x\":{}}]");
	free(out);
}

static void test_chain_full(void **state)
{
	static const char *const mods[] = {
		"# METADATA\n"
		"# scope: subpackages\n"
		"# title: org\n"
		"package org\n",
		"# METADATA\n"
		"# scope: subpackages\n"
		"# title: team\n"
		"package org.team\n",
		"# METADATA\n"
		"# title: app\n"
		"package org.team.app\n"
		"\n"
		"# METADATA\n"
		"# scope: document\n"
		"# description: the decision\n"
		"\n"
		"# METADATA\n"
		"# title: near\n"
		"decision.allow := c if {\n"
		"\tc := rego.metadata.chain()\n"
		"}\n",
		NULL,
	};
	char *out;

	(void)state;
	out = run(mods, "x := data.org.team.app.decision.allow");
	assert_string_equal(out,
			    "[{\"x\":["
			    "{\"annotations\":{\"scope\":\"rule\",\"title\":\"near\"},"
			    "\"path\":[\"org\",\"team\",\"app\",\"decision\",\"allow\"]},"
			    "{\"annotations\":{\"description\":\"the decision\",\"scope\":\"document\"},"
			    "\"path\":[\"org\",\"team\",\"app\",\"decision\",\"allow\"]},"
			    "{\"annotations\":{\"scope\":\"package\",\"title\":\"app\"},"
			    "\"path\":[\"org\",\"team\",\"app\"]},"
			    "{\"annotations\":{\"scope\":\"subpackages\",\"title\":\"team\"},"
			    "\"path\":[\"org\",\"team\"]},"
			    "{\"annotations\":{\"scope\":\"subpackages\",\"title\":\"org\"},"
			    "\"path\":[\"org\"]}]}]");
	free(out);
}

static void test_chain_without_annotations(void **state)
{
	static const char *const mods[] = {
		"package plain\n"
		"\n"
		"f(x) := [x, rego.metadata.chain()]\n"
		"\n"
		"# METADATA\n"
		"# title: guarded\n"
		"g := 1 if {\n"
		"\tfalse\n"
		"} else := c if {\n"
		"\tc := rego.metadata.chain()\n"
		"}\n",
		NULL,
	};
	char *out;

	(void)state;
	out = run(mods, "x := data.plain.f(1)");
	assert_string_equal(out, "[{\"x\":[1,[{\"path\":[\"plain\",\"f\"]}]]}]");
	free(out);

	/* An else branch is a rule of its own, without the blocks. */
	out = run(mods, "x := data.plain.g");
	assert_string_equal(out, "[{\"x\":[{\"path\":[\"plain\",\"g\"]}]}]");
	free(out);
}

static void test_builtins_in_query(void **state)
{
	static const char *const mods[] = { "package q\np := 1\n", NULL };
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);
	struct te_opts o = { .strict = true };
	char *out;
	int rc = 0;

	(void)state;
	assert_non_null(e);
	out = te_query_opts(e, "x := rego.metadata.chain()", &o, &errs, &rc);
	assert_null(out);
	assert_int_equal(errs.len, 1);
	assert_string_equal(errs.items[0].code, "eval_builtin_error");
	assert_string_equal(errs.items[0].message,
			    "rego.metadata.chain: the rego.metadata.chain function must only be "
			    "called within the scope of a rule");

	/* Without strict errors the call is undefined. */
	out = te_query(e, "x := rego.metadata.rule()", NULL, &errs, &rc);
	assert_non_null(out);
	assert_string_equal(out, "[]");
	free(out);
	rego_engine_unref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_package_and_rules),
		cmocka_unit_test(test_attach_fields),
		cmocka_unit_test(test_attach_next_statement_by_row),
		cmocka_unit_test(test_attach_no_blocks),
		cmocka_unit_test(test_error_blank_block),
		cmocka_unit_test(test_error_bad_yaml_with_hint),
		cmocka_unit_test(test_error_field_types),
		cmocka_unit_test(test_error_entries),
		cmocka_unit_test(test_error_scopes),
		cmocka_unit_test(test_error_hostile_yaml),
		cmocka_unit_test(test_rule_closest_block),
		cmocka_unit_test(test_chain_full),
		cmocka_unit_test(test_chain_without_annotations),
		cmocka_unit_test(test_builtins_in_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
