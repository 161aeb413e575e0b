/* Evaluator tests: the step, depth and memory limits end hostile queries
 * with eval_cancel_error, and indexed rules stay cheap at scale. */
#include "test_eval_support.h"

static void expect_cancel(struct rego_engine *e, const char *query,
			  const struct rego_limits *limits, const char *message)
{
	struct te_opts o = { .limits = limits };
	struct rego_errors errs;
	int rc = 0;
	char *got = te_query_opts(e, query, &o, &errs, &rc);

	if (got)
		fail_msg("query %s gave %s", query, got);
	assert_int_equal(rc, WD_EINVAL);
	assert_string_equal(errs.items[0].code, "eval_cancel_error");
	assert_string_equal(errs.items[0].message, message);
}

static void step_limit(void **state)
{
	static const char *const mods[] = {
		"package l\n"
		"spin if {\n"
		"\tsome i in numbers.range(1, 100000)\n"
		"\ti < 0\n"
		"}\n",
		NULL,
	};
	struct rego_limits limits = { .max_steps = 1000 };
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	(void)state;
	assert_non_null(e);
	expect_cancel(e, "data.l.spin", &limits,
		      "caller cancelled query execution: step limit of 1000 exceeded");
	TE_EXPECT(e, "data.l.spin", NULL, "[]");
	rego_engine_unref(e);
}

static void depth_limit(void **state)
{
	struct wd_buf src;
	const char *mods[2];
	struct rego_limits limits = { .max_depth = 20 };
	struct rego_errors errs;
	struct rego_engine *e;

	(void)state;
	/* p0 := p1, p1 := p2, ... a chain of 50 rules. */
	wd_buf_init(&src, 1024, 1u << 20);
	assert_int_equal(wd_buf_append_str(&src, "package d\n"), 0);
	for (int i = 0; i < 50; i++)
		assert_int_equal(wd_buf_appendf(&src, "p%d := p%d\n", i, i + 1), 0);
	assert_int_equal(wd_buf_append_str(&src, "p50 := \"end\"\n"), 0);
	mods[0] = wd_buf_str(&src);
	mods[1] = NULL;
	e = te_compile(mods, NULL, &errs);
	assert_non_null(e);
	expect_cancel(e, "x := data.d.p0", &limits,
		      "caller cancelled query execution: call depth limit of 20 exceeded");
	TE_EXPECT(e, "x := data.d.p0", NULL, "[{\"x\":\"end\"}]");
	rego_engine_unref(e);
	wd_buf_free(&src);
}

static void memory_limit(void **state)
{
	static const char *const mods[] = {
		"package m\n"
		"big := [concat(\"-\", [format_int(i, 10), \"padding-padding-padding\"]) |\n"
		"\tsome i in numbers.range(1, 200000)]\n",
		NULL,
	};
	struct rego_limits limits = { .max_memory = 1u << 20 };
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);

	(void)state;
	assert_non_null(e);
	expect_cancel(e, "x := count(data.m.big)", &limits,
		      "caller cancelled query execution: memory limit of 1048576 bytes exceeded");
	TE_EXPECT(e, "x := count(data.m.big)", NULL, "[{\"x\":200000}]");
	rego_engine_unref(e);
}

/* Ten thousand rules testing input.path against constants are indexed:
 * a query evaluates one candidate, not all of them. */
static void indexed_rules_at_scale(void **state)
{
	struct wd_buf src;
	const char *mods[2];
	struct rego_errors errs;
	struct rego_engine *e;
	struct rego_results *res = NULL;
	struct rv *input;
	struct rego_query_opts opts = { 0 };
	const char *query = "data.big.allow";

	(void)state;
	wd_buf_init(&src, 1u << 16, 1u << 24);
	assert_int_equal(wd_buf_append_str(&src, "package big\n"), 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(wd_buf_appendf(&src,
						"allow if {\n\tinput.path == \"/r/%d\"\n"
						"\tinput.method == \"GET\"\n}\n", i), 0);
	mods[0] = wd_buf_str(&src);
	mods[1] = NULL;
	e = te_compile(mods, NULL, &errs);
	assert_non_null(e);

	{
		const char *text = "{\"path\": \"/r/9876\", \"method\": \"GET\"}";

		input = rv_parse_json(text, strlen(text), 0, NULL);
	}
	assert_non_null(input);
	opts.input = input;
	assert_int_equal(rego_engine_query(e, query, strlen(query), &opts, &res, &errs), 0);
	assert_int_equal(res->len, 1);
	assert_true(res->steps < 20);
	rego_results_free(res);
	rv_unref(input);

	TE_EXPECT(e, "data.big.allow", "{\"path\": \"/r/10001\", \"method\": \"GET\"}", "[]");
	TE_EXPECT(e, "data.big.allow", "{\"path\": \"/r/5\", \"method\": \"PUT\"}", "[]");
	TE_EXPECT(e, "data.big.allow", "{\"path\": \"/r/5\", \"method\": \"GET\"}", "[{}]");
	rego_engine_unref(e);
	wd_buf_free(&src);
}

/* The index uses the path most rules test, even when the first rule tests
 * none, and keeps unconditional rules in every candidate list. */
static void index_picks_common_path(void **state)
{
	struct wd_buf src;
	const char *mods[2];
	struct rego_errors errs;
	struct rego_engine *e;

	(void)state;
	wd_buf_init(&src, 4096, 1u << 20);
	assert_int_equal(wd_buf_append_str(&src, "package ix\nallow if input.admin\n"), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(wd_buf_appendf(&src, "allow if input.op == \"op%d\"\n", i), 0);
	assert_int_equal(wd_buf_append_str(&src, "allow if input.user == \"root\"\n"), 0);
	mods[0] = wd_buf_str(&src);
	mods[1] = NULL;
	e = te_compile(mods, NULL, &errs);
	assert_non_null(e);
	TE_EXPECT(e, "data.ix.allow", "{\"op\": \"op39\"}", "[{}]");
	TE_EXPECT(e, "data.ix.allow", "{\"op\": \"op40\"}", "[]");
	TE_EXPECT(e, "data.ix.allow", "{\"admin\": true}", "[{}]");
	TE_EXPECT(e, "data.ix.allow", "{\"op\": \"op1\", \"user\": \"root\"}", "[{}]");
	TE_EXPECT(e, "data.ix.allow", "{\"op\": \"none\", \"user\": \"root\"}", "[{}]");
	rego_engine_unref(e);
	wd_buf_free(&src);
}

static void hostile_queries(void **state)
{
	static const char *const mods[] = { "package h\n", NULL };
	struct rego_limits limits = { .max_steps = 5000 };
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);
	struct wd_buf q;

	(void)state;
	assert_non_null(e);
	/* A cross product of ranges runs out of steps, never hangs. */
	expect_cancel(e, "x := [a | some a in numbers.range(1, 1000); some b in numbers.range(1, 1000)]",
		      &limits, "caller cancelled query execution: step limit of 5000 exceeded");

	/* A long body of ordinary expressions evaluates normally. */
	wd_buf_init(&q, 4096, 1u << 20);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(wd_buf_appendf(&q, "%sx%d := %d", i ? "; " : "", i, i), 0);
	{
		struct rego_errors qerrs;
		int rc = 0;
		char *got = te_query(e, wd_buf_str(&q), NULL, &qerrs, &rc);

		assert_non_null(got);
		assert_true(strstr(got, "\"x1999\":1999") != NULL);
		free(got);
	}
	wd_buf_free(&q);
	rego_engine_unref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(step_limit),
		cmocka_unit_test(depth_limit),
		cmocka_unit_test(memory_limit),
		cmocka_unit_test(indexed_rules_at_scale),
		cmocka_unit_test(index_picks_common_path),
		cmocka_unit_test(hostile_queries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
