// Unit tests of SPIFFE ID patterns and allow-lists: "*" within a segment,
// a final "/**", the pattern "*", and hostile patterns.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/authz.h"

struct match_case {
	const char *pattern;
	const char *id;
	bool expected;
};

static void check_matches(const struct match_case *cases, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		bool got = proxy_pattern_match(cases[i].pattern, cases[i].id);

		if (got != cases[i].expected)
			fail_msg("pattern \"%s\" on \"%s\": got %d, expected %d", cases[i].pattern,
				cases[i].id, got, cases[i].expected);
	}
}

static void literal_pattern_matches_exactly(void **state)
{
	static const struct match_case cases[] = {
		{ "spiffe://example.org/a", "spiffe://example.org/a", true },
		{ "spiffe://example.org/a", "spiffe://example.org/a/b", false },
		{ "spiffe://example.org/a", "spiffe://example.org/ab", false },
		{ "spiffe://example.org/a", "spiffe://example.org/A", false },
		{ "spiffe://example.org/a", "spiffe://example.com/a", false },
		{ "spiffe://example.org/a", "spiffe://example.org", false },
		{ "spiffe://example.org", "spiffe://example.org", true },
		{ "spiffe://example.org", "spiffe://example.org/a", false },
		{ "spiffe://example.org/a", "", false },
		{ "spiffe://example.org/a", "http://example.org/a", false },
	};

	(void)state;
	check_matches(cases, WD_ARRAY_LEN(cases));
}

static void star_stays_in_segment(void **state)
{
	static const struct match_case cases[] = {
		{ "spiffe://example.org/ns/*", "spiffe://example.org/ns/web", true },
		{ "spiffe://example.org/ns/*", "spiffe://example.org/ns/web/x", false },
		{ "spiffe://example.org/ns/*", "spiffe://example.org/ns", false },
		{ "spiffe://example.org/ns/*/sa", "spiffe://example.org/ns/prod/sa", true },
		{ "spiffe://example.org/ns/*/sa", "spiffe://example.org/ns/prod/x/sa", false },
		{ "spiffe://example.org/ns/web-*", "spiffe://example.org/ns/web-1", true },
		{ "spiffe://example.org/ns/web-*", "spiffe://example.org/ns/api-1", false },
		{ "spiffe://example.org/ns/*-db-*", "spiffe://example.org/ns/a-db-b", true },
		{ "spiffe://example.org/ns/*-db-*", "spiffe://example.org/ns/a-dbb", false },
		{ "spiffe://example.org/ns/a*b*c", "spiffe://example.org/ns/abbbc", true },
		{ "spiffe://example.org/ns/a*b*c", "spiffe://example.org/ns/ab/c", false },
		{ "spiffe://example.org/*", "spiffe://other.org/x", false },
	};

	(void)state;
	check_matches(cases, WD_ARRAY_LEN(cases));
}

static void double_star_matches_rest(void **state)
{
	static const struct match_case cases[] = {
		{ "spiffe://example.org/ns/**", "spiffe://example.org/ns", true },
		{ "spiffe://example.org/ns/**", "spiffe://example.org/ns/a", true },
		{ "spiffe://example.org/ns/**", "spiffe://example.org/ns/a/b/c", true },
		{ "spiffe://example.org/ns/**", "spiffe://example.org/nsx", false },
		{ "spiffe://example.org/ns/**", "spiffe://example.org/nsx/a", false },
		{ "spiffe://example.org/ns/**", "spiffe://example.org", false },
		{ "spiffe://example.org/**", "spiffe://example.org", true },
		{ "spiffe://example.org/**", "spiffe://example.org/x/y", true },
		{ "spiffe://example.org/**", "spiffe://example.org.evil/x", false },
		{ "spiffe://example.org/*/**", "spiffe://example.org/a/b", true },
		{ "spiffe://example.org/*/**", "spiffe://example.org", false },
	};

	(void)state;
	check_matches(cases, WD_ARRAY_LEN(cases));
}

static void lone_star_matches_any(void **state)
{
	(void)state;
	assert_true(proxy_pattern_match("*", "spiffe://example.org/a"));
	assert_true(proxy_pattern_match("*", "spiffe://other.org"));
	assert_false(proxy_pattern_match("*", ""));
	assert_false(proxy_pattern_match("*", NULL));
	assert_false(proxy_pattern_match(NULL, "spiffe://example.org/a"));
}

static void valid_patterns_accepted(void **state)
{
	static const char *const patterns[] = {
		"*",
		"spiffe://example.org",
		"spiffe://example.org/a",
		"spiffe://example.org/**",
		"spiffe://example.org/ns/*",
		"spiffe://example.org/ns/*/sa/**",
		"spiffe://example.org/ns/web-*",
	};
	struct wd_error err = { 0 };

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(patterns); i++) {
		if (proxy_pattern_validate(patterns[i], &err) != 0)
			fail_msg("pattern \"%s\" rejected: %s", patterns[i], wd_error_text(&err));
	}
}

static void hostile_patterns_rejected(void **state)
{
	static const struct {
		const char *pattern;
		const char *detail;
	} cases[] = {
		{ "", "SPIFFE ID pattern is empty" },
		{ "spiffe://", "SPIFFE ID pattern \"spiffe://\" is invalid: " },
		{ "spiffe:///a", "SPIFFE ID pattern \"spiffe:///a\" is invalid: " },
		{ "spiffe://example.org/**/a",
		  "SPIFFE ID pattern \"spiffe://example.org/**/a\" has \"**\" before the end" },
		{ "spiffe://example.org/a**",
		  "SPIFFE ID pattern \"spiffe://example.org/a**\" has \"**\" before the end" },
		{ "spiffe://example.org/***",
		  "SPIFFE ID pattern \"spiffe://example.org/***\" has \"**\" before the end" },
		{ "spiffe://*/a", "SPIFFE ID pattern \"spiffe://*/a\" has \"*\" in the trust domain" },
		{ "spiffe://ex*.org", "SPIFFE ID pattern \"spiffe://ex*.org\" has \"*\" in the trust domain" },
		{ "**", "SPIFFE ID pattern \"**\" does not start with spiffe://" },
		{ "example.org/a", "SPIFFE ID pattern \"example.org/a\" does not start with spiffe://" },
		{ "spiffe://example.org/a/", "SPIFFE ID pattern \"spiffe://example.org/a/\" is invalid: " },
		{ "spiffe://example.org//a", "SPIFFE ID pattern \"spiffe://example.org//a\" is invalid: " },
		{ "spiffe://example.org/../a", "SPIFFE ID pattern \"spiffe://example.org/../a\" is invalid: " },
		{ "spiffe://Example.org/a", "SPIFFE ID pattern \"spiffe://Example.org/a\" is invalid: " },
		{ "spiffe://example.org/a%2Fb", "SPIFFE ID pattern \"spiffe://example.org/a%2Fb\" is invalid: " },
	};
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(proxy_pattern_validate(NULL, &err), WD_EINVAL);
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		int rc = proxy_pattern_validate(cases[i].pattern, &err);

		if (rc != WD_EINVAL)
			fail_msg("pattern \"%s\": got %d, expected WD_EINVAL", cases[i].pattern, rc);
		if (strncmp(err.detail, cases[i].detail, strlen(cases[i].detail)) != 0)
			fail_msg("pattern \"%s\": detail \"%s\"", cases[i].pattern, err.detail);
	}
}

static void invalid_patterns_match_nothing(void **state)
{
	(void)state;
	assert_false(proxy_pattern_match("spiffe://example.org/**/a", "spiffe://example.org/x/a"));
	assert_false(proxy_pattern_match("spiffe://example.org/a**", "spiffe://example.org/ab"));
	assert_false(proxy_pattern_match("", ""));
	assert_false(proxy_pattern_match("spiffe://", "spiffe://"));
	assert_false(proxy_pattern_match("**", "spiffe://example.org/a"));
}

static void long_patterns_bounded(void **state)
{
	static char pattern[5000];
	static char id[5000];
	struct wd_error err = { 0 };
	size_t len;

	(void)state;
	// 2,048 bytes is the SPIFFE ID limit; with "/**" the pattern may have 3 more.
	memcpy(pattern, "spiffe://example.org/", 21);
	memset(pattern + 21, 'a', 2048 - 21);
	pattern[2048] = '\0';
	assert_int_equal(proxy_pattern_validate(pattern, &err), 0);
	memcpy(pattern + 2048, "/**", 4);
	assert_int_equal(proxy_pattern_validate(pattern, &err), 0);
	memcpy(pattern + 2048, "a", 2);
	assert_int_equal(proxy_pattern_validate(pattern, &err), WD_EINVAL);

	memset(pattern + 21, 'a', sizeof(pattern) - 22);
	pattern[sizeof(pattern) - 1] = '\0';
	assert_int_equal(proxy_pattern_validate(pattern, &err), WD_EINVAL);
	assert_string_equal(err.detail, "SPIFFE ID pattern is 4999 bytes; the limit is 2051");
	assert_false(proxy_pattern_match(pattern, pattern));

	// Many stars against a long segment that almost matches: the matcher
	// must finish (quadratic at worst) and return false.
	memcpy(pattern, "spiffe://example.org/", 21);
	len = 21;
	for (size_t i = 0; i < 1000; i++) {
		pattern[len++] = '*';
		pattern[len++] = 'a';
	}
	pattern[len++] = 'b';
	pattern[len] = '\0';
	assert_int_equal(proxy_pattern_validate(pattern, &err), 0);
	memcpy(id, "spiffe://example.org/", 21);
	memset(id + 21, 'a', 2000);
	id[2021] = '\0';
	assert_false(proxy_pattern_match(pattern, id));
	memcpy(id + 21 + 999, "b", 2); // 999 'a' then 'b': one 'a' short
	assert_false(proxy_pattern_match(pattern, id));
	memcpy(id + 21 + 999, "ab", 3);
	assert_true(proxy_pattern_match(pattern, id));
}

static void allow_list_matches_any_entry(void **state)
{
	static const char *const list[] = {
		"spiffe://example.org/a",
		"spiffe://example.org/ns/*",
	};

	(void)state;
	assert_true(proxy_allow_list_match(list, 2, "spiffe://example.org/a"));
	assert_true(proxy_allow_list_match(list, 2, "spiffe://example.org/ns/b"));
	assert_false(proxy_allow_list_match(list, 2, "spiffe://example.org/b"));
	assert_false(proxy_allow_list_match(list, 1, "spiffe://example.org/ns/b"));
	assert_false(proxy_allow_list_match(list, 0, "spiffe://example.org/a"));
	assert_false(proxy_allow_list_match(NULL, 2, "spiffe://example.org/a"));
	assert_false(proxy_allow_list_match(list, 2, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(literal_pattern_matches_exactly),
		cmocka_unit_test(star_stays_in_segment),
		cmocka_unit_test(double_star_matches_rest),
		cmocka_unit_test(lone_star_matches_any),
		cmocka_unit_test(valid_patterns_accepted),
		cmocka_unit_test(hostile_patterns_rejected),
		cmocka_unit_test(invalid_patterns_match_nothing),
		cmocka_unit_test(long_patterns_bounded),
		cmocka_unit_test(allow_list_matches_any_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
