/* Evaluator tests: complete, multi-value and ref-head rules, functions,
 * defaults, else chains and the conflict errors OPA raises for them. */
#include "test_eval_support.h"

static void complete_rules_values(void **state)
{
	static const char *const mods[] = {
		"package shop\n"
		"tax_rate := 0.2\n"
		"open if input.hour >= 9\n"
		"price := p if { p := data.catalog[input.item] }\n"
		"label := {\"rate\": tax_rate, \"open\": open}\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, "{\"catalog\": {\"pen\": 3, \"ink\": 7}}", &errs);

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.shop.tax_rate", NULL, "[{\"x\":0.2}]");
	TE_EXPECT(e, "x := data.shop.price", "{\"item\": \"ink\"}", "[{\"x\":7}]");
	TE_EXPECT(e, "x := data.shop.price", "{\"item\": \"cup\"}", "[]");
	TE_EXPECT(e, "x := data.shop.label", "{\"hour\": 10}",
		  "[{\"x\":{\"open\":true,\"rate\":0.2}}]");
	TE_EXPECT(e, "x := data.shop.label", "{\"hour\": 8}", "[]");
	TE_EXPECT(e, "x := data.shop", "{\"hour\": 12, \"item\": \"pen\"}",
		  "[{\"x\":{\"label\":{\"open\":true,\"rate\":0.2},\"open\":true,"
		  "\"price\":3,\"tax_rate\":0.2}}]");
	rego_engine_unref(e);
}

static void complete_rule_conflict(void **state)
{
	static const char *const mods[] = {
		"package c\n"
		"owner := \"ann\" if input.a\n"
		"owner := \"bob\" if input.b\n"
		"same := 1 if input.a\n"
		"same := 1 if input.b\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.c.owner", "{\"a\": true}", "[{\"x\":\"ann\"}]");
	TE_EXPECT(e, "x := data.c.same", "{\"a\": true, \"b\": true}", "[{\"x\":1}]");
	TE_EXPECT_ERROR(e, "x := data.c.owner", "{\"a\": true, \"b\": true}", "eval_conflict_error",
			"complete rules must not produce multiple outputs");
	rego_engine_unref(e);
}

static void multi_value_rules(void **state)
{
	static const char *const mods[] = {
		"package team\n"
		"members contains name if some name in input.devs\n"
		"members contains name if some name in input.ops\n"
		"lead contains \"zoe\"\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);
	const char *in = "{\"devs\": [\"kim\", \"al\"], \"ops\": [\"al\", \"bo\"]}";

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.team.members", in, "[{\"x\":[\"al\",\"bo\",\"kim\"]}]");
	TE_EXPECT(e, "data.team.members[x]", in, "[{\"x\":\"al\"}, {\"x\":\"bo\"}, {\"x\":\"kim\"}]");
	TE_EXPECT(e, "data.team.members.bo", in, "[{}]");
	TE_EXPECT(e, "data.team.members.max", in, "[]");
	/* A multi-value rule with no members is the empty set, not undefined. */
	TE_EXPECT(e, "x := data.team.members", "{}", "[{\"x\":[]}]");
	rego_engine_unref(e);
}

static void object_rules_and_keys(void **state)
{
	static const char *const mods[] = {
		"package acl\n"
		"roles[user] := role if some user, role in input.assign\n"
		"dup[k] := v if { some k in [\"a\", \"a\"]; some v in [1, 2] }\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);
	const char *in = "{\"assign\": {\"u1\": \"admin\", \"u2\": \"viewer\"}}";

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.acl.roles", in, "[{\"x\":{\"u1\":\"admin\",\"u2\":\"viewer\"}}]");
	TE_EXPECT(e, "x := data.acl.roles.u2", in, "[{\"x\":\"viewer\"}]");
	TE_EXPECT(e, "data.acl.roles[u] == \"admin\"", in, "[{\"u\":\"u1\"}]");
	TE_EXPECT_ERROR(e, "x := data.acl.dup", NULL, "eval_conflict_error",
			"object keys must be unique");
	rego_engine_unref(e);
}

static void general_ref_heads(void **state)
{
	static const char *const mods[] = {
		"package tree\n"
		"node[name].size := n if some name, n in input.sizes\n"
		"node.root.size := 0\n"
		"tags[t] contains x if { some x in input.items; t := x.kind }\n"
		"a.b.c := 1\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);
	const char *in = "{\"sizes\": {\"etc\": 4, \"root\": 0}, "
			 "\"items\": [{\"kind\": \"k1\"}, {\"kind\": \"k2\"}]}";

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.tree.node", in,
		  "[{\"x\":{\"etc\":{\"size\":4},\"root\":{\"size\":0}}}]");
	TE_EXPECT(e, "x := data.tree.node.etc.size", in, "[{\"x\":4}]");
	TE_EXPECT(e, "x := data.tree.tags.k2", in, "[{\"x\":[{\"kind\":\"k2\"}]}]");
	TE_EXPECT(e, "x := data.tree.a", in, "[{\"x\":{\"b\":{\"c\":1}}}]");
	/* A different value under a key another rule defines conflicts. */
	TE_EXPECT_ERROR(e, "x := data.tree.node", "{\"sizes\": {\"root\": 5}}",
			"eval_conflict_error", "object keys must be unique");
	rego_engine_unref(e);
}

static void functions_and_conflicts(void **state)
{
	static const char *const mods[] = {
		"package fn\n"
		"double(x) := x * 2\n"
		"kind(0) := \"zero\"\n"
		"kind(x) := \"pos\" if x > 0\n"
		"kind(x) := \"neg\" if x < 0\n"
		"twice(x) := y if { y := [1, 2][_] }\n"
		"pair([a, b]) := a + b\n"
		"default label(_) := \"none\"\n"
		"label(x) := x.name\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.fn.double(21)", NULL, "[{\"x\":42}]");
	TE_EXPECT(e, "x := data.fn.kind(-3)", NULL, "[{\"x\":\"neg\"}]");
	TE_EXPECT(e, "x := data.fn.kind(0)", NULL, "[{\"x\":\"zero\"}]");
	TE_EXPECT(e, "x := data.fn.pair([3, 4])", NULL, "[{\"x\":7}]");
	TE_EXPECT(e, "x := data.fn.pair(3)", NULL, "[]");
	TE_EXPECT(e, "x := data.fn.label({})", NULL, "[{\"x\":\"none\"}]");
	TE_EXPECT(e, "x := data.fn.label({\"name\": \"n\"})", NULL, "[{\"x\":\"n\"}]");
	TE_EXPECT(e, "data.fn.double(4, y)", NULL, "[{\"y\":8}]");
	TE_EXPECT_ERROR(e, "x := data.fn.twice(1)", NULL, "eval_conflict_error",
			"functions must not produce multiple outputs for same inputs");
	rego_engine_unref(e);
}

static void defaults_and_else(void **state)
{
	static const char *const mods[] = {
		"package grade\n"
		"default allow := false\n"
		"allow if input.admin\n"
		"letter := \"A\" if input.score >= 90\n"
		"else := \"B\" if input.score >= 80\n"
		"else := \"C\"\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.grade.allow", "{}", "[{\"x\":false}]");
	TE_EXPECT(e, "x := data.grade.allow", "{\"admin\": true}", "[{\"x\":true}]");
	TE_EXPECT(e, "x := data.grade.letter", "{\"score\": 95}", "[{\"x\":\"A\"}]");
	TE_EXPECT(e, "x := data.grade.letter", "{\"score\": 85}", "[{\"x\":\"B\"}]");
	TE_EXPECT(e, "x := data.grade.letter", "{\"score\": 5}", "[{\"x\":\"C\"}]");
	rego_engine_unref(e);
}

static void base_and_virtual_documents(void **state)
{
	static const char *const mods[] = {
		"package app\n"
		"extra := 2\n",
		"package app.sub\n"
		"f(x) := x\n"
		"v := 3\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, "{\"app\": {\"base\": 1}, \"other\": [5]}", &errs);

	(void)state;
	assert_non_null(e);
	/* Functions are not part of a package's document. */
	TE_EXPECT(e, "x := data.app", NULL,
		  "[{\"x\":{\"base\":1,\"extra\":2,\"sub\":{\"v\":3}}}]");
	TE_EXPECT(e, "data.app[k]", NULL, "[{\"k\":\"base\"}, {\"k\":\"extra\"}, {\"k\":\"sub\"}]");
	TE_EXPECT(e, "x := data.other[0]", NULL, "[{\"x\":5}]");
	TE_EXPECT(e, "x := data.missing.deep", NULL, "[]");
	rego_engine_unref(e);
}

static void eval_ref_api(void **state)
{
	static const char *const mods[] = { "package p\nno := false\nyes := true\n", NULL };
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);
	struct rv *v = NULL;

	(void)state;
	assert_non_null(e);
	assert_int_equal(rego_engine_eval_ref(e, "data.p.no", NULL, &v, &errs), 0);
	assert_non_null(v);
	assert_true(rv_is(v, RV_BOOL) && !v->u.boolean);
	rv_unref(v);
	assert_int_equal(rego_engine_eval_ref(e, "data.p.absent", NULL, &v, &errs), 0);
	assert_null(v);
	rego_engine_unref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(complete_rules_values),
		cmocka_unit_test(complete_rule_conflict),
		cmocka_unit_test(multi_value_rules),
		cmocka_unit_test(object_rules_and_keys),
		cmocka_unit_test(general_ref_heads),
		cmocka_unit_test(functions_and_conflicts),
		cmocka_unit_test(defaults_and_else),
		cmocka_unit_test(base_and_virtual_documents),
		cmocka_unit_test(eval_ref_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
