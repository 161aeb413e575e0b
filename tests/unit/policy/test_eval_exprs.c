/* Evaluator tests: unification, negation, some/every, comprehensions,
 * with, string templates, print, builtin errors and expression values. */
#include "test_eval_support.h"

#include "policy/eval_internal.h"

static struct rego_engine *one(const char *module)
{
	const char *mods[] = { module, NULL };
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	if (!e)
		fail_msg("compile: %s: %s", errs.len ? errs.items[0].code : "?",
			 errs.len ? errs.items[0].message : "?");
	return e;
}

static void unify_patterns(void **state)
{
	struct rego_engine *e = one("package u\n");

	(void)state;
	TE_EXPECT(e, "[x, 1] = [2, y]", NULL, "[{\"x\":2,\"y\":1}]");
	TE_EXPECT(e, "{\"a\": x, \"b\": 2} = {\"a\": 1, \"b\": y}", NULL, "[{\"x\":1,\"y\":2}]");
	TE_EXPECT(e, "[x, [y]] := [1, [\"z\"]]", NULL, "[{\"x\":1,\"y\":\"z\"}]");
	TE_EXPECT(e, "[x, 1] = [2, 3]", NULL, "[]");
	TE_EXPECT(e, "x = [1, 2][i]", NULL, "[{\"i\":0,\"x\":1}, {\"i\":1,\"x\":2}]");
	/* Equal numbers unify whatever their notation. */
	TE_EXPECT(e, "1 = 1.0", NULL, "[{}]");
	rego_engine_unref(e);
}

static void negation_some_every(void **state)
{
	struct rego_engine *e = one(
		"package n\n"
		"banned := {\"eve\"}\n"
		"ok(u) if not banned[u]\n"
		"all_small if every x in input.xs { x < 10 }\n"
		"pairs contains [k, v] if some k, v in input.m\n");

	(void)state;
	TE_EXPECT(e, "data.n.ok(\"bob\")", NULL, "[{}]");
	TE_EXPECT(e, "data.n.ok(\"eve\")", NULL, "[]");
	TE_EXPECT(e, "x := data.n.all_small", "{\"xs\": [1, 2]}", "[{\"x\":true}]");
	TE_EXPECT(e, "x := data.n.all_small", "{\"xs\": [1, 20]}", "[]");
	/* An empty domain satisfies every; an undefined one does not. */
	TE_EXPECT(e, "x := data.n.all_small", "{\"xs\": []}", "[{\"x\":true}]");
	TE_EXPECT(e, "x := data.n.all_small", "{}", "[]");
	TE_EXPECT(e, "x := data.n.pairs", "{\"m\": {\"b\": 2, \"a\": 1}}",
		  "[{\"x\":[[\"a\",1],[\"b\",2]]}]");
	TE_EXPECT(e, "not 1 in [2, 3]", NULL, "[{}]");
	TE_EXPECT(e, "\"a\", 1 in {\"a\": 1}", NULL, "[{}]");
	rego_engine_unref(e);
}

static void comprehensions(void **state)
{
	struct rego_engine *e = one(
		"package c\n"
		"evens := [x | some x in input.xs; x % 2 == 0]\n"
		"uniq := {x | some x in input.xs}\n"
		"index := {x: i | some i, x in input.xs}\n"
		"clash := {k: v | some v in [1, 2]; k := \"same\"}\n");

	(void)state;
	TE_EXPECT(e, "x := data.c.evens", "{\"xs\": [4, 1, 2, 2]}", "[{\"x\":[4,2,2]}]");
	TE_EXPECT(e, "x := data.c.uniq", "{\"xs\": [4, 1, 2, 2]}", "[{\"x\":[1,2,4]}]");
	TE_EXPECT(e, "x := data.c.index", "{\"xs\": [\"a\", \"b\"]}", "[{\"x\":{\"a\":0,\"b\":1}}]");
	TE_EXPECT_ERROR(e, "x := data.c.clash", NULL, "eval_conflict_error",
			"object keys must be unique");
	/* Variables bound inside stay inside. */
	TE_EXPECT(e, "y := [x | x := 1]; x := 2", NULL, "[{\"x\":2,\"y\":[1]}]");
	rego_engine_unref(e);
}

static void with_modifier(void **state)
{
	struct rego_engine *e = one(
		"package w\n"
		"user := input.user\n"
		"limit := data.config.limit\n"
		"n := count(input.items)\n"
		"double(x) := x * 2\n"
		"quad(x) := double(double(x))\n");

	(void)state;
	TE_EXPECT(e, "x := data.w.user with input as {\"user\": \"al\"}", NULL, "[{\"x\":\"al\"}]");
	TE_EXPECT(e, "x := data.w.user with input.user as \"bo\"", "{\"user\": \"al\"}",
		  "[{\"x\":\"bo\"}]");
	TE_EXPECT(e, "x := data.w.limit with data.config.limit as 9", NULL, "[{\"x\":9}]");
	TE_EXPECT(e, "x := data.w.user with data.w.user as \"virt\"", NULL, "[{\"x\":\"virt\"}]");
	TE_EXPECT(e, "x := data.w.n with count as 42", "{\"items\": [1]}", "[{\"x\":42}]");
	TE_EXPECT(e, "x := data.w.quad(1) with data.w.double as 7", NULL, "[{\"x\":7}]");
	/* The rest of the body sees the original input again. */
	TE_EXPECT(e, "x := data.w.user with input.user as \"in\"; y := data.w.user",
		  "{\"user\": \"out\"}", "[{\"x\":\"in\",\"y\":\"out\"}]");
	rego_engine_unref(e);
}

static void templates_and_print(void **state)
{
	struct rego_engine *e = one(
		"package t\n"
		"who := \"ann\"\n"
		"msg := $\"{who} has {count([1, 2])} items, set {{1}}, miss {input.none}\"\n"
		"shout if print(\"value\", who, [1], input.none)\n"
		"each if print([1, 2][_], {\"a\"})\n");
	struct wd_buf printed;
	struct te_opts o = { .input = "{}", .print = &printed };
	struct rego_errors errs;
	char *got;

	(void)state;
	TE_EXPECT(e, "x := data.t.msg", "{}",
		  "[{\"x\":\"ann has 2 items, set {1}, miss \\u003cundefined\\u003e\"}]");

	wd_buf_init(&printed, 64, 4096);
	got = te_query_opts(e, "data.t.shout", &o, &errs, NULL);
	assert_non_null(got);
	assert_string_equal(got, "[{}]");
	assert_string_equal(wd_buf_str(&printed), "value ann [1] <undefined>\n");
	free(got);

	/* One line per combination of the arguments' values. */
	wd_buf_reset(&printed);
	got = te_query_opts(e, "data.t.each", &o, &errs, NULL);
	assert_non_null(got);
	assert_string_equal(got, "[{}]");
	assert_string_equal(wd_buf_str(&printed), "1 {\"a\"}\n2 {\"a\"}\n");
	free(got);
	wd_buf_free(&printed);
	rego_engine_unref(e);
}

static void builtin_errors(void **state)
{
	struct rego_engine *e = one("package b\nq := x if x := 1 / input.d\n");
	struct te_opts strict = { .input = "{\"d\": 0}", .strict = true };
	struct rego_errors errs;
	int rc = 0;
	char *got;

	(void)state;
	/* Without strict mode a failing builtin is undefined. */
	TE_EXPECT(e, "x := data.b.q", "{\"d\": 0}", "[]");
	TE_EXPECT(e, "x := data.b.q", "{\"d\": 4}", "[{\"x\":0.25}]");
	got = te_query_opts(e, "x := data.b.q", &strict, &errs, &rc);
	assert_null(got);
	assert_int_equal(rc, WD_EINVAL);
	assert_string_equal(errs.items[0].code, "eval_builtin_error");
	assert_string_equal(errs.items[0].message, "div: divide by zero");
	assert_string_equal(errs.items[0].file, "m0.rego");
	assert_int_equal(errs.items[0].row, 2);
	rego_engine_unref(e);
}

static void expression_values(void **state)
{
	struct rego_engine *e = one("package v\np := [1, 2]\n");
	struct rego_results *res = NULL;
	struct rego_errors errs = { .len = 0 };
	const char *query = "data.v.p; x = 1; data.v.p[i] > 1";
	struct wd_buf out;

	(void)state;
	assert_int_equal(rego_engine_query(e, query, strlen(query), NULL, &res, &errs), 0);
	assert_int_equal(res->len, 1);
	assert_int_equal(res->expressions_len, 3);
	assert_int_equal(res->solutions[0].expressions_len, 3);
	wd_buf_init(&out, 64, 4096);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(rv_write_json(res->solutions[0].expressions[i], &out), 0);
		assert_int_equal(wd_buf_append_byte(&out, ';'), 0);
	}
	assert_string_equal(wd_buf_str(&out), "[1,2];true;true;");
	wd_buf_reset(&out);
	assert_int_equal(rv_write_json(res->solutions[0].bindings, &out), 0);
	assert_string_equal(wd_buf_str(&out), "{\"i\":1,\"x\":1}");
	wd_buf_free(&out);
	rego_results_free(res);
	rego_engine_unref(e);
}

static void metadata_annotations(void **state)
{
	struct rego_engine *e = one(
		"# METADATA\n"
		"# title: Pkg\n"
		"package meta\n"
		"\n"
		"# METADATA\n"
		"# title: Allow rule\n"
		"# authors:\n"
		"# - Ann Lee <ann@example.com>\n"
		"# - Bo\n"
		"# related_resources:\n"
		"# - https://example.com/doc\n"
		"allow := rego.metadata.rule()\n"
		"\n"
		"plain := rego.metadata.rule()\n"
		"\n"
		"chain := [e.path | some e in rego.metadata.chain()]\n");

	(void)state;
	TE_EXPECT(e, "x := data.meta.allow", NULL,
		  "[{\"x\":{\"authors\":[{\"email\":\"ann@example.com\",\"name\":\"Ann Lee\"},"
		  "{\"name\":\"Bo\"}],\"related_resources\":[{\"ref\":\"https://example.com/doc\"}],"
		  "\"scope\":\"rule\",\"title\":\"Allow rule\"}}]");
	TE_EXPECT(e, "x := data.meta.plain", NULL, "[{\"x\":{}}]");
	/* Chain paths leave out "data", as OPA's do. Malformed blocks are
	 * parse errors, tested in test_metadata. */
	TE_EXPECT(e, "x := data.meta.chain", NULL,
		  "[{\"x\":[[\"meta\",\"chain\"],[\"meta\"]]}]");
	rego_engine_unref(e);
}

/* A query of one expression without iteration answers false with a
 * solution, as opa eval prints "value": false; every other false fails. */
static void single_false_expression(void **state)
{
	struct rego_engine *e = one("package d\n\ndefault allow := false\n\n"
				    "allow if input.x == 1\n");

	(void)state;
	TE_EXPECT(e, "data.d.allow", NULL, "[{}]");
	TE_EXPECT(e, "1 == 2", NULL, "[{}]");
	TE_EXPECT(e, "data.d.allow; true", NULL, "[]");
	TE_EXPECT(e, "not true", NULL, "[]");
	TE_EXPECT(e, "[1, 2][_] == 3", NULL, "[]");
	TE_EXPECT(e, "x := false", NULL, "[{\"x\":false}]");
	TE_EXPECT(e, "x = data.d.allow", NULL, "[{\"x\":false}]");
	rego_engine_unref(e);
}

/* The evaluator tests calls by table position; the positions must name
 * the builtins they stand for. */
static void eval_builtin_positions(void **state)
{
	(void)state;
	assert_string_equal(eval_builtin_at(EVAL_BI_EQ)->name, "eq");
	assert_string_equal(eval_builtin_at(EVAL_BI_ASSIGN)->name, "assign");
	assert_string_equal(eval_builtin_at(EVAL_BI_PRINT)->name, "print");
	assert_string_equal(eval_builtin_at(EVAL_BI_INTERNAL_PRINT)->name, "internal.print");
	assert_null(eval_builtin_find("no.such.builtin"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unify_patterns),
		cmocka_unit_test(negation_some_every),
		cmocka_unit_test(comprehensions),
		cmocka_unit_test(with_modifier),
		cmocka_unit_test(templates_and_print),
		cmocka_unit_test(builtin_errors),
		cmocka_unit_test(expression_values),
		cmocka_unit_test(eval_builtin_positions),
		cmocka_unit_test(metadata_annotations),
		cmocka_unit_test(single_false_expression),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
