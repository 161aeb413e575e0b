/* Evaluator tests: one compiled engine answers queries from several
 * threads at once, each with its own input, caches and results. */
#include <pthread.h>

#include "test_eval_support.h"

#define THREADS 4
#define ROUNDS 200

struct worker {
	struct rego_engine *e;
	int id;
	int failures;
};

static void *run_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < ROUNDS; i++) {
		char input[128], want[128];
		struct rego_errors errs;
		int rc = 0;
		char *got;
		int n = w->id * 1000 + i;

		snprintf(input, sizeof(input), "{\"n\": %d, \"role\": \"%s\"}", n,
			 i % 2 ? "admin" : "guest");
		snprintf(want, sizeof(want), "[{\"x\":{\"allow\":%s,\"double\":%d,\"tags\":[\"%s\"]}}]",
			 i % 2 ? "true" : "false", n * 2, i % 2 ? "admin" : "guest");
		got = te_query(w->e, "x := data.mt", input, &errs, &rc);
		if (!got || strcmp(got, want) != 0)
			w->failures++;
		free(got);
	}
	return NULL;
}

static void concurrent_queries(void **state)
{
	static const char *const mods[] = {
		"package mt\n"
		"default allow := false\n"
		"allow if input.role == data.roles[_]\n"
		"double := twice(input.n)\n"
		"twice(x) := x * 2\n"
		"tags contains input.role\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, "{\"roles\": [\"admin\"]}", &errs);
	pthread_t threads[THREADS];
	struct worker workers[THREADS];

	(void)state;
	assert_non_null(e);
	for (int i = 0; i < THREADS; i++) {
		workers[i] = (struct worker){ .e = e, .id = i };
		assert_int_equal(pthread_create(&threads[i], NULL, run_worker, &workers[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(workers[i].failures, 0);
	}
	rego_engine_unref(e);
}

struct evict_worker {
	struct rego_engine *e;
	int id;
	int failures;
};

/* Distinct query texts, more than the cache holds, so entries are evicted
 * while other threads still run them. */
static void *run_evicting(void *arg)
{
	struct evict_worker *w = arg;

	for (int i = 0; i < 300; i++) {
		char query[64], want[64];
		struct rego_errors errs;
		int rc = 0;
		int k = (i * 7 + w->id * 13) % 150;
		char *got;

		snprintf(query, sizeof(query), "x := data.mt.twice(%d)", k);
		snprintf(want, sizeof(want), "[{\"x\":%d}]", 2 * k);
		got = te_query(w->e, query, NULL, &errs, &rc);
		if (!got || strcmp(got, want) != 0)
			w->failures++;
		free(got);
	}
	return NULL;
}

static void query_cache_eviction(void **state)
{
	static const char *const mods[] = { "package mt\ntwice(x) := x * 2\n", NULL };
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);
	pthread_t threads[THREADS];
	struct evict_worker workers[THREADS];

	(void)state;
	assert_non_null(e);
	for (int i = 0; i < THREADS; i++) {
		workers[i] = (struct evict_worker){ .e = e, .id = i };
		assert_int_equal(pthread_create(&threads[i], NULL, run_evicting, &workers[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(workers[i].failures, 0);
	}

	/* A query that fails to compile reports its error every time. */
	for (int i = 0; i < 2; i++) {
		int rc = 0;
		char *got = te_query(e, "x > 1", NULL, &errs, &rc);

		assert_null(got);
		assert_int_equal(rc, WD_EINVAL);
		assert_string_equal(errs.items[0].code, "rego_unsafe_var_error");
	}
	rego_engine_unref(e);
}

/* An engine stays valid for queries after its builder is gone and while
 * a newer engine replaces it. */
static void engine_outlives_builder(void **state)
{
	struct rego_builder *b = rego_builder_new(NULL);
	struct rego_errors errs = { .len = 0 };
	struct rego_engine *old, *new;
	const char *v1 = "package swap\nversion := 1\n";
	const char *v2 = "package swap\nversion := 2\n";

	(void)state;
	assert_int_equal(rego_builder_add_module(b, "swap.rego", v1, strlen(v1), &errs), 0);
	old = rego_builder_compile(b, &errs);
	assert_non_null(old);
	assert_int_equal(rego_builder_add_module(b, "swap.rego", v2, strlen(v2), &errs), 0);
	new = rego_builder_compile(b, &errs);
	assert_non_null(new);
	rego_builder_free(b);

	TE_EXPECT(old, "x := data.swap.version", NULL, "[{\"x\":1}]");
	TE_EXPECT(new, "x := data.swap.version", NULL, "[{\"x\":2}]");
	assert_int_equal(rego_engine_module_count(new), 1);
	assert_string_equal(rego_engine_module_at(new, 0)->file, "swap.rego");
	rego_engine_unref(old);
	rego_engine_unref(new);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(concurrent_queries),
		cmocka_unit_test(engine_outlives_builder),
		cmocka_unit_test(query_cache_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
