/* Hostile policies against the engine's limits: each must end with a
 * parse, compile or eval_cancel_error naming the limit, or with the right
 * value, and never crash, hang or run out of memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/policy.h"

/* Compiles src as one module named "t.rego"; NULL with errs filled when
 * it does not compile. */
static struct rego_engine *compile_src(const char *src, const struct rego_limits *limits,
				       struct rego_errors *errs)
{
	struct rego_builder *b = rego_builder_new(limits);
	struct rego_engine *e = NULL;

	assert_non_null(b);
	memset(errs, 0, sizeof(*errs));
	if (rego_builder_add_module(b, "t.rego", src, strlen(src), errs) == 0)
		e = rego_builder_compile(b, errs);
	rego_builder_free(b);
	if (!e && errs->len > 0)
		print_message("compile: %s: %s\n", errs->items[0].code, errs->items[0].message);
	return e;
}

/* Evaluates ref on a compiled src with input (NULL for none) and returns
 * the query's return code. */
static int eval_src_input(const char *src, const char *ref, struct rv *input, bool strict,
			  struct rv **ret_value, struct rego_errors *errs)
{
	struct rego_query_opts opts = { .input = input, .strict_builtin_errors = strict };
	struct rego_engine *e = compile_src(src, NULL, errs);
	int rc;

	*ret_value = NULL;
	assert_non_null(e);
	rc = rego_engine_eval_ref(e, ref, &opts, ret_value, errs);
	rego_engine_unref(e);
	return rc;
}

static int eval_src(const char *src, const char *ref, bool strict, struct rv **ret_value,
		    struct rego_errors *errs)
{
	return eval_src_input(src, ref, NULL, strict, ret_value, errs);
}

/* Builds head, then body repeated n times, then tail. */
static char *repeat_src(const char *head, const char *body, size_t n, const char *tail)
{
	size_t len = strlen(head) + strlen(body) * n + strlen(tail) + 1;
	char *s = malloc(len);
	char *p = s;

	assert_non_null(s);
	p += snprintf(p, len, "%s", head);
	for (size_t i = 0; i < n; i++)
		p += snprintf(p, len - (size_t)(p - s), "%s", body);
	snprintf(p, len - (size_t)(p - s), "%s", tail);
	return s;
}

static void assert_int_value(const struct rv *v, int64_t want)
{
	int64_t got = 0;

	assert_non_null(v);
	assert_true(rv_number_to_i64(v, &got));
	assert_int_equal(got, want);
}

/* 100,000 else branches parse in a loop and evaluate to the last one. */
static void test_else_chain_long(void **state)
{
	char *src = repeat_src("package t\nr := 1 if false\n", "else := 1 if false\n", 100000,
			       "else := 7\n");
	struct rego_errors errs;
	struct rv *v = NULL;

	(void)state;
	assert_int_equal(eval_src(src, "data.t.r", false, &v, &errs), 0);
	assert_int_equal(errs.len, 0);
	assert_int_value(v, 7);
	rv_unref(v);
	free(src);
}

/* `1 + 1 + ...` nests one call per operator: past the parser's depth limit
 * it is a parse error, not a stack overflow in the compiler. */
static void test_operator_chain_deep(void **state)
{
	char *src = repeat_src("package t\nr := 1", " + 1", 200000, "\n");
	struct rego_errors errs;
	struct rego_engine *e;

	(void)state;
	e = compile_src(src, NULL, &errs);
	assert_null(e);
	assert_int_equal(errs.len, 1);
	assert_string_equal(errs.items[0].code, "rego_parse_error");
	assert_string_equal(errs.items[0].message, "max parsing recursion depth exceeded");
	assert_string_equal(errs.items[0].file, "t.rego");
	assert_int_equal(errs.items[0].row, 2);
	assert_int_equal(errs.items[0].col, 7978);
	free(src);
}

/* A chain below the limit still evaluates. */
static void test_operator_chain_ok(void **state)
{
	char *src = repeat_src("package t\nr := 1", " + 1", 1500, "\n");
	struct rego_errors errs;
	struct rv *v = NULL;

	(void)state;
	assert_int_equal(eval_src(src, "data.t.r", false, &v, &errs), 0);
	assert_int_value(v, 1501);
	rv_unref(v);
	free(src);
}

/* An array literal of 200,000 constants is built in a loop, not by one
 * nested call per item. */
static void test_array_literal_constants(void **state)
{
	char *src = repeat_src("package t\nr := count([0", ",1", 199999, "])\n");
	struct rego_errors errs;
	struct rv *v = NULL;

	(void)state;
	assert_int_equal(eval_src(src, "data.t.r", false, &v, &errs), 0);
	assert_int_value(v, 200000);
	rv_unref(v);
	free(src);
}

/* Items that need evaluation still nest, so too many of them end with the
 * stack check's eval_cancel_error instead of a stack overflow. */
static void test_array_literal_refs(void **state)
{
	char *src = repeat_src("package t\nr := count([input.a", ",input.a", 199999, "])\n");
	struct rv *input = rv_parse_json("{\"a\": 1}", 8, 0, NULL);
	struct rego_errors errs;
	struct rv *v = NULL;

	(void)state;
	assert_non_null(input);
	assert_int_equal(eval_src_input(src, "data.t.r", input, false, &v, &errs), WD_EINVAL);
	assert_null(v);
	assert_int_equal(errs.len, 1);
	assert_string_equal(errs.items[0].code, "eval_cancel_error");
	assert_string_equal(errs.items[0].message,
			    "caller cancelled query execution: evaluation nested too deeply");
	rv_unref(input);
	free(src);
}

struct limit_case {
	const char *src;
	const char *message;  /* the expected eval_cancel_error message */
	uint32_t row;
	uint32_t col;
};

/* A builtin that reaches a resource limit fails the query even without
 * strict-builtin-errors. Before, the call was undefined, so `not deny`
 * held and each of these policies allowed. */
static const struct limit_case builtin_limit_cases[] = {
	{ "package t\na100 := concat(\"\", [\"a\" | some _ in numbers.range(1, 100)])\n"
	  "deny if regex.match(\"(a+)+$\", concat(\"\", [a100, \"!\"]))\nallow if not deny\n",
	  "regex.match: regular expression exceeded its match limit", 3, 9 },
	{ "package t\ndeny if count(numbers.range(0, 1000000000)) > 0\nallow if not deny\n",
	  "numbers.range: range of more than 4194304 numbers", 2, 15 },
	{ "package t\ns1 := concat(\"\", [\"0123456789abcdef\" | some _ in numbers.range(1, 65536)])\n"
	  "deny if count(concat(\"\", [s1 | some _ in numbers.range(1, 65)])) > 0\n"
	  "allow if not deny\n",
	  "concat: result exceeds the limit of 67108864 bytes", 3, 15 },
	{ "package t\ndeny if bits.lsh(1, 1048577) > 0\nallow if not deny\n",
	  "bits.lsh: shift count exceeds the limit of 1048576 bits", 2, 9 },
};

static void test_builtin_limit_not_undefined(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(builtin_limit_cases) / sizeof(builtin_limit_cases[0]); i++) {
		const struct limit_case *c = &builtin_limit_cases[i];
		struct rego_errors errs;
		struct rv *v = NULL;

		assert_int_equal(eval_src(c->src, "data.t.allow", false, &v, &errs), WD_EINVAL);
		assert_null(v);
		assert_int_equal(errs.len, 1);
		assert_string_equal(errs.items[0].code, "eval_cancel_error");
		assert_string_equal(errs.items[0].message, c->message);
		assert_int_equal(errs.items[0].row, c->row);
		assert_int_equal(errs.items[0].col, c->col);
	}
}

/* A function of 100,000 arguments fails on the local variable limit in
 * about linear time. The parser's term cache and the scope lookups were
 * quadratic in the argument count, so it took minutes. */
static void test_function_args_many(void **state)
{
	struct wd_buf src;
	struct rego_errors errs;
	struct rego_engine *e;

	(void)state;
	wd_buf_init(&src, 1u << 20, 1u << 22);
	assert_int_equal(wd_buf_append_str(&src, "package t\nf(x0"), 0);
	for (int i = 1; i < 100000; i++)
		assert_int_equal(wd_buf_appendf(&src, ", x%d", i), 0);
	assert_int_equal(wd_buf_append_str(&src, ") := 1\nr := 1\n"), 0);

	e = compile_src(wd_buf_str(&src), NULL, &errs);
	assert_null(e);
	assert_int_equal(errs.len, 1);
	assert_string_equal(errs.items[0].code, "rego_compile_error");
	assert_string_equal(errs.items[0].message, "too many local variables (max 4096)");
	wd_buf_free(&src);
}

/* A package path deeper than rule heads may go is a compile error with the
 * limit named, not a tree of 100,000 nodes. */
static void test_package_path_deep(void **state)
{
	struct rego_errors errs;
	struct rego_engine *e;
	struct wd_buf src;

	(void)state;
	wd_buf_init(&src, 1 << 16, 1 << 22);
	assert_int_equal(wd_buf_append_str(&src, "package p0"), 0);
	for (int i = 1; i < 100000; i++)
		assert_int_equal(wd_buf_appendf(&src, ".p%d", i), 0);
	assert_int_equal(wd_buf_append_str(&src, "\n\nx := 1\n"), 0);

	e = compile_src(wd_buf_str(&src), NULL, &errs);
	assert_null(e);
	assert_string_equal(errs.items[0].code, "rego_compile_error");
	assert_string_equal(errs.items[0].message, "package path has more than 128 segments");
	wd_buf_free(&src);
}

/* Many distinct rules compile and answer: the rule tree is built in
 * linear time, where it once took 13 s for 2,000 rules. */
static void test_many_rules_compile(void **state)
{
	struct rego_errors errs;
	struct rv *value = NULL;
	struct wd_buf src;

	(void)state;
	wd_buf_init(&src, 1 << 16, 1 << 22);
	assert_int_equal(wd_buf_append_str(&src, "package m\n\n"), 0);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(wd_buf_appendf(&src, "r%d := %d\n", i, i), 0);

	assert_int_equal(eval_src_input(wd_buf_str(&src), "data.m.r19999", NULL, false, &value,
					&errs), 0);
	assert_int_value(value, 19999);
	rv_unref(value);
	wd_buf_free(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_else_chain_long),
		cmocka_unit_test(test_operator_chain_deep),
		cmocka_unit_test(test_operator_chain_ok),
		cmocka_unit_test(test_array_literal_constants),
		cmocka_unit_test(test_array_literal_refs),
		cmocka_unit_test(test_builtin_limit_not_undefined),
		cmocka_unit_test(test_function_args_many),
		cmocka_unit_test(test_package_path_deep),
		cmocka_unit_test(test_many_rules_compile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
