/* Unit tests of the per-address token buckets and of path normalization
 * for routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_private.h"
#include "net/ratelimit.h"

static struct net_ratelimit_verdict take(struct net_ratelimit *limit, const char *key,
	uint64_t now_ms)
{
	struct net_ratelimit_verdict verdict;

	assert_int_equal(net_ratelimit_take(limit, key, now_ms, &verdict), 0);
	return verdict;
}

static void burst_then_rate(void **state)
{
	struct net_ratelimit *limit = NULL;
	struct net_ratelimit_verdict verdict;

	(void)state;
	assert_int_equal(net_ratelimit_new(1, 5, 16, &limit), 0);
	for (int i = 0; i < 5; i++)
		assert_true(take(limit, "10.0.0.1", 1000).allowed);

	verdict = take(limit, "10.0.0.1", 1000);
	assert_false(verdict.allowed);
	assert_int_equal(verdict.retry_after_ms, 1000);
	assert_true(verdict.first_refusal);

	verdict = take(limit, "10.0.0.1", 1400);
	assert_false(verdict.allowed);
	assert_int_equal(verdict.retry_after_ms, 600);
	assert_false(verdict.first_refusal);

	/* One token a second refills. */
	assert_true(take(limit, "10.0.0.1", 2000).allowed);
	assert_false(take(limit, "10.0.0.1", 2000).allowed);
	net_ratelimit_free(limit);
}

static void first_refusal_once_per_second(void **state)
{
	struct net_ratelimit *limit = NULL;
	int first = 0;

	(void)state;
	assert_int_equal(net_ratelimit_new(1, 1, 4, &limit), 0);
	assert_true(take(limit, "a", 0).allowed);
	/* 0.05 s apart for 1.9 s: the bucket refills once, at 1 s. */
	for (uint64_t t = 0; t < 1900; t += 50) {
		struct net_ratelimit_verdict verdict = take(limit, "a", t);

		if (!verdict.allowed && verdict.first_refusal)
			first++;
	}
	assert_int_equal(first, 2);
	net_ratelimit_free(limit);
}

static void keys_independent(void **state)
{
	struct net_ratelimit *limit = NULL;

	(void)state;
	assert_int_equal(net_ratelimit_new(1, 1, 4, &limit), 0);
	assert_true(take(limit, "a", 0).allowed);
	assert_false(take(limit, "a", 0).allowed);
	assert_true(take(limit, "b", 0).allowed);
	net_ratelimit_free(limit);
}

static void table_bounded_by_lru(void **state)
{
	struct net_ratelimit *limit = NULL;
	char key[32];

	(void)state;
	assert_int_equal(net_ratelimit_new(1, 1, 8, &limit), 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
		assert_true(take(limit, key, 0).allowed);
		assert_true(net_ratelimit_key_count(limit) <= 8);
	}
	/* The 8 most recent keys are still refused; an evicted one is new. */
	assert_false(take(limit, "10.0.3.231", 0).allowed);
	assert_true(take(limit, "10.0.0.0", 0).allowed);
	net_ratelimit_free(limit);
}

static void invalid_arguments(void **state)
{
	struct net_ratelimit *limit = NULL;
	struct net_ratelimit_verdict verdict;
	char key[NET_RATELIMIT_KEY_MAX + 2];

	(void)state;
	assert_int_equal(net_ratelimit_new(0, 1, 1, &limit), WD_EINVAL);
	assert_int_equal(net_ratelimit_new(1, 0, 1, &limit), WD_EINVAL);
	assert_int_equal(net_ratelimit_new(1, 1, 0, &limit), WD_EINVAL);
	assert_null(limit);
	assert_int_equal(net_ratelimit_new(1, 1, 1, &limit), 0);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(net_ratelimit_take(limit, key, 0, &verdict), WD_EINVAL);
	assert_false(verdict.allowed);
	net_ratelimit_free(limit);
	net_ratelimit_free(NULL);
}

static void path_normalize_cases(void **state)
{
	static const struct {
		const char *raw;
		const char *expected;
	} cases[] = {
		{ "/v1/%68ealth", "/v1/health" },
		{ "/v1/%7e%2D%2e%5F", "/v1/~-._" },
		{ "/v1/entries/a%2fb", "/v1/entries/a%2Fb" },
		{ "/v1/a%3ab%20c", "/v1/a%3Ab%20c" },
		{ "/v1/%zz%4", "/v1/%zz%4" },
		{ "/%", "/%" },
		{ "/", "/" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = router_path_normalize(cases[i].raw);

		assert_non_null(out);
		assert_string_equal(out, cases[i].expected);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_rate),
		cmocka_unit_test(first_refusal_once_per_second),
		cmocka_unit_test(keys_independent),
		cmocka_unit_test(table_bounded_by_lru),
		cmocka_unit_test(invalid_arguments),
		cmocka_unit_test(path_normalize_cases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
