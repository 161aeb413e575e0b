/* Compiler tests: safety reordering and unsafe variables, recursion,
 * undefined functions and arity, local redeclaration and rule conflicts. */
#include <pthread.h>

#include "test_eval_support.h"

/* Compiles one module and asserts the first error. */
static void expect_compile_error(const char *module, const char *code, const char *message,
				 uint32_t row)
{
	const char *mods[] = { module, NULL };
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	if (e)
		fail_msg("module compiled: %s", module);
	assert_true(errs.len >= 1);
	assert_string_equal(errs.items[0].code, code);
	assert_string_equal(errs.items[0].message, message);
	assert_string_equal(errs.items[0].file, "m0.rego");
	assert_int_equal(errs.items[0].row, row);
}

static void unsafe_variables(void **state)
{
	(void)state;
	expect_compile_error("package s\np if {\n\tx > 1\n}\n", "rego_unsafe_var_error",
			     "var x is unsafe", 3);
	expect_compile_error("package s\np[k] := 1 if input.a\n", "rego_unsafe_var_error",
			     "var k is unsafe", 2);
	expect_compile_error("package s\np if {\n\tnot q[x]\n}\nq := {1}\n",
			     "rego_unsafe_var_error", "var x is unsafe", 3);
}

static void safety_reorders_body(void **state)
{
	static const char *const mods[] = {
		"package r\n"
		"p := x if {\n"
		"\tx = y + 1\n"
		"\ty = input.n\n"
		"}\n"
		"q := [z | z = w * 2; w = input.m[_]]\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.r.p", "{\"n\": 4}", "[{\"x\":5}]");
	TE_EXPECT(e, "x := data.r.q", "{\"m\": [1, 2]}", "[{\"x\":[2,4]}]");
	TE_EXPECT(e, "y > 1; y = 3", NULL, "[{\"y\":3}]");
	rego_engine_unref(e);
}

static void recursion(void **state)
{
	(void)state;
	expect_compile_error("package r\np if q\nq if p\n", "rego_recursion_error",
			     "rule data.r.p is recursive: data.r.p -> data.r.q -> data.r.p", 2);
	expect_compile_error("package r\nf(x) := f(x)\n", "rego_recursion_error",
			     "rule data.r.f is recursive: data.r.f -> data.r.f", 2);
}

static void functions_checked(void **state)
{
	(void)state;
	expect_compile_error("package f\np if nosuch(1)\n", "rego_type_error",
			     "undefined function nosuch", 2);
	expect_compile_error("package f\np if data.f.g(1)\n", "rego_type_error",
			     "undefined function data.f.g", 2);
	expect_compile_error("package f\np if count([1], 2, 3)\n", "rego_type_error",
			     "count: too many arguments", 2);
	expect_compile_error("package f\np if concat(\",\")\n", "rego_type_error",
			     "concat: too few arguments", 2);
	expect_compile_error("package f\ng(a, b) := a\np if g(1, 2, 3, 4)\n", "rego_type_error",
			     "data.f.g: too many arguments", 3);
}

static void locals_and_conflicts(void **state)
{
	(void)state;
	expect_compile_error("package l\np if {\n\tx := 1\n\tx := 2\n}\n", "rego_compile_error",
			     "var x assigned above", 4);
	expect_compile_error("package l\np if {\n\tx = 1\n\tx := 2\n}\n", "rego_compile_error",
			     "var x referenced above", 4);
	expect_compile_error("package l\np := 1\np contains 2\n", "rego_type_error",
			     "conflicting rules data.l.p found", 2);
	expect_compile_error("package l\ndefault p := 1\ndefault p := 2\n", "rego_type_error",
			     "multiple default rules data.l.p found", 3);
	expect_compile_error("package l\np if {\n\tsome x\n\ttrue\n}\n", "rego_compile_error",
			     "declared var x unused", 3);
	expect_compile_error("package l\np := 1\np.q := 2\np.r.s := 3\n", "rego_type_error",
			     "rule data.l.p conflicts with [data.l.p.q, data.l.p.r.s]", 2);
}

static void parse_and_query_errors(void **state)
{
	struct rego_builder *b = rego_builder_new(NULL);
	struct rego_errors errs = { .len = 0 };
	static const char *const mods[] = { "package q\np := 1\n", NULL };
	struct rego_engine *e;
	int rc = 0;
	char *got;

	(void)state;
	assert_int_equal(rego_builder_add_module(b, "bad.rego", "package", 7, &errs), WD_EINVAL);
	assert_true(errs.len >= 1);
	assert_string_equal(errs.items[0].code, "rego_parse_error");
	rego_builder_free(b);

	e = te_compile(mods, NULL, &errs);
	assert_non_null(e);
	got = te_query(e, "x > 1", NULL, &errs, &rc);
	assert_null(got);
	assert_int_equal(rc, WD_EINVAL);
	assert_string_equal(errs.items[0].code, "rego_unsafe_var_error");
	assert_string_equal(errs.items[0].message, "var x is unsafe");
	got = te_query(e, "data.q.p(1)", NULL, &errs, &rc);
	assert_null(got);
	assert_string_equal(errs.items[0].code, "rego_type_error");
	assert_string_equal(errs.items[0].message, "undefined function data.q.p");
	rego_engine_unref(e);
}

static void imports_and_aliases(void **state)
{
	static const char *const mods[] = {
		"package lib.util\n"
		"inc(x) := x + 1\n"
		"names := {\"a\"}\n",
		"package app\n"
		"import data.lib.util\n"
		"import data.lib.util.names as known\n"
		"import input.user\n"
		"import rego.v1\n"
		"p := util.inc(1)\n"
		"q if user in known\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.app.p", NULL, "[{\"x\":2}]");
	TE_EXPECT(e, "x := data.app.q", "{\"user\": \"a\"}", "[{\"x\":true}]");
	TE_EXPECT(e, "x := data.app.q", "{\"user\": \"b\"}", "[]");
	rego_engine_unref(e);
}

/* A subpackage's name is not a rule of its parent package, so it can be
 * a local variable there. */
static void subpackage_names_not_global(void **state)
{
	static const char *const mods[] = {
		"package top\n"
		"p := b if b := 7\n",
		"package top.b\n"
		"q := 1\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	(void)state;
	assert_non_null(e);
	TE_EXPECT(e, "x := data.top.p", NULL, "[{\"x\":7}]");
	TE_EXPECT(e, "x := data.top.b.q", NULL, "[{\"x\":1}]");
	rego_engine_unref(e);
}

/* Thousands of distinct rule names compile without quadratic cost. */
static void many_rule_names(void **state)
{
	struct wd_buf src;
	const char *mods[2];
	struct rego_errors errs;
	struct rego_engine *e;

	(void)state;
	wd_buf_init(&src, 1u << 16, 1u << 24);
	assert_int_equal(wd_buf_append_str(&src, "package many\n"), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(wd_buf_appendf(&src, "r%d := r%d + 1\n", i, i + 1), 0);
	assert_int_equal(wd_buf_append_str(&src, "r5000 := 0\n"), 0);
	mods[0] = wd_buf_str(&src);
	mods[1] = NULL;
	e = te_compile(mods, NULL, &errs);
	assert_non_null(e);
	TE_EXPECT(e, "x := data.many.r4990", NULL, "[{\"x\":10}]");
	rego_engine_unref(e);
	wd_buf_free(&src);
}

struct chain_job {
	const char *source;
	bool compiled;
};

static void *compile_chain(void *arg)
{
	struct chain_job *job = arg;
	const char *mods[] = { job->source, NULL };
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	job->compiled = e != NULL;
	rego_engine_unref(e);
	return NULL;
}

/* The recursion check walks a long chain of rules with its own stack: a
 * thread with 512 KiB of stack compiles twenty thousand chained rules. */
static void long_rule_chain_small_stack(void **state)
{
	struct wd_buf src;
	struct chain_job job = { 0 };
	pthread_attr_t attr;
	pthread_t thread;

	(void)state;
	wd_buf_init(&src, 1u << 16, 1u << 24);
	assert_int_equal(wd_buf_append_str(&src, "package chain\n"), 0);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(wd_buf_appendf(&src, "p%d := p%d\n", i, i + 1), 0);
	assert_int_equal(wd_buf_append_str(&src, "p20000 := 1\n"), 0);
	job.source = wd_buf_str(&src);

	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, 512u << 10), 0);
	assert_int_equal(pthread_create(&thread, &attr, compile_chain, &job), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	pthread_attr_destroy(&attr);
	assert_true(job.compiled);
	wd_buf_free(&src);
}

static void deep_heads_rejected(void **state)
{
	struct wd_buf src;

	(void)state;
	wd_buf_init(&src, 4096, 1u << 20);
	assert_int_equal(wd_buf_append_str(&src, "package d\n"), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(wd_buf_append_str(&src, "a."), 0);
	assert_int_equal(wd_buf_append_str(&src, "b := 1\n"), 0);
	expect_compile_error(wd_buf_str(&src), "rego_compile_error",
			     "rule head has more than 128 segments", 2);
	wd_buf_free(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unsafe_variables),
		cmocka_unit_test(safety_reorders_body),
		cmocka_unit_test(recursion),
		cmocka_unit_test(functions_checked),
		cmocka_unit_test(locals_and_conflicts),
		cmocka_unit_test(parse_and_query_errors),
		cmocka_unit_test(imports_and_aliases),
		cmocka_unit_test(subpackage_names_not_global),
		cmocka_unit_test(many_rule_names),
		cmocka_unit_test(long_rule_chain_small_stack),
		cmocka_unit_test(deep_heads_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
