/* Unit tests for workload selector sets: grammar, ordering, deduplication,
 * ceilings and SPIRE's subset matching rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/selectors.h"
#include "common/error.h"

static struct agent_selector_set *set_of(const char *const *selectors, size_t count)
{
	struct agent_selector_set *set = NULL;
	struct wd_error err;

	assert_int_equal(agent_selector_set_parse(selectors, count, 0, &set, &err), 0);
	assert_non_null(set);
	return set;
}

static void selector_validate_accepts(void **state)
{
	static const char *const valid[] = {
		"unix:uid:1000",
		"k8s:ns:prod",
		"cgroup:/system.slice/foo.service",
		"a:b",
		"type_with-dash9:value with spaces and :colons:",
	};

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(valid); i++)
		assert_int_equal(agent_selector_validate(valid[i], NULL), 0);
}

static void selector_validate_rejects(void **state)
{
	static const struct {
		const char *selector;
		const char *problem;
	} cases[] = {
		{ "", "expected type:value" },
		{ "unix", "expected type:value" },
		{ ":value", "expected type:value" },
		{ "unix:", "expected type:value" },
		{ "Unix:uid:1", "type must match [a-z0-9_-]+" },
		{ "un ix:uid:1", "type must match [a-z0-9_-]+" },
		{ "unix.x:uid:1", "type must match [a-z0-9_-]+" },
		{ "unix:uid\n1", "value must be printable ASCII" },
		{ "unix:caf\xc3\xa9", "value must be printable ASCII" },
		{ "unix:tab\there", "value must be printable ASCII" },
	};
	struct wd_error err;

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		wd_error_clear(&err);
		assert_int_equal(agent_selector_validate(cases[i].selector, &err), WD_EINVAL);
		assert_non_null(strstr(err.detail, cases[i].problem));
		assert_non_null(strstr(err.detail, "invalid selector \""));
	}
	assert_int_equal(agent_selector_validate(NULL, &err), WD_EINVAL);
	assert_string_equal(err.detail, "missing selector");
}

static void selector_validate_length_limits(void **state)
{
	char selector[AGENT_SELECTOR_MAX_LEN + 2];
	char type[AGENT_SELECTOR_TYPE_MAX_LEN + 4];
	struct wd_error err;

	(void)state;
	memset(selector, 'a', sizeof(selector));
	selector[0] = 'u';
	selector[1] = ':';
	selector[AGENT_SELECTOR_MAX_LEN] = '\0';
	assert_int_equal(agent_selector_validate(selector, NULL), 0);
	selector[AGENT_SELECTOR_MAX_LEN] = 'a';
	selector[AGENT_SELECTOR_MAX_LEN + 1] = '\0';
	assert_int_equal(agent_selector_validate(selector, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "longer than 1024 bytes"));
	/* The detail quotes at most 200 bytes of the selector. */
	assert_true(strlen(err.detail) < 300);

	memset(type, 't', AGENT_SELECTOR_TYPE_MAX_LEN);
	memcpy(type + AGENT_SELECTOR_TYPE_MAX_LEN, ":v", 3);
	assert_int_equal(agent_selector_validate(type, NULL), 0);
	memset(type, 't', AGENT_SELECTOR_TYPE_MAX_LEN + 1);
	memcpy(type + AGENT_SELECTOR_TYPE_MAX_LEN + 1, ":v", 3);
	assert_int_equal(agent_selector_validate(type, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "type longer than 64 bytes"));
}

static void set_sorts_and_deduplicates(void **state)
{
	static const char *const input[] = {
		"unix:uid:1000", "unix-a:x", "unix:gid:5", "cgroup:/a", "unix:uid:1000", "unix:x",
	};
	struct agent_selector_set *set = set_of(input, WD_ARRAY_LEN(input));

	(void)state;
	assert_int_equal(agent_selector_set_count(set), 5);
	/* Type first, then value: "unix:..." before "unix-a:..." although '-'
	 * sorts below ':' in ASCII. */
	assert_string_equal(agent_selector_set_get(set, 0), "cgroup:/a");
	assert_string_equal(agent_selector_set_get(set, 1), "unix:gid:5");
	assert_string_equal(agent_selector_set_get(set, 2), "unix:uid:1000");
	assert_string_equal(agent_selector_set_get(set, 3), "unix:x");
	assert_string_equal(agent_selector_set_get(set, 4), "unix-a:x");
	assert_null(agent_selector_set_get(set, 5));

	assert_true(agent_selector_set_contains(set, "unix:gid:5"));
	assert_false(agent_selector_set_contains(set, "unix:gid:6"));
	assert_false(agent_selector_set_contains(set, "unix"));
	assert_false(agent_selector_set_contains(set, NULL));
	agent_selector_set_free(set);
}

static void set_add_pair_and_errors(void **state)
{
	struct agent_selector_set *set = agent_selector_set_new(3);
	struct wd_error err;

	(void)state;
	assert_non_null(set);
	assert_int_equal(agent_selector_set_add_pair(set, "unix", "uid:0", &err), 0);
	assert_int_equal(agent_selector_set_add(set, "unix:uid:0", &err), 0);
	assert_int_equal(agent_selector_set_count(set), 1);

	assert_int_equal(agent_selector_set_add(set, "bad type:x", &err), WD_EINVAL);
	assert_int_equal(agent_selector_set_count(set), 1);
	assert_int_equal(agent_selector_set_add_pair(set, NULL, "x", &err), WD_EINVAL);

	assert_int_equal(agent_selector_set_add(set, "a:1", &err), 0);
	assert_int_equal(agent_selector_set_add(set, "a:2", &err), 0);
	assert_int_equal(agent_selector_set_add(set, "a:3", &err), WD_ETOOBIG);
	assert_non_null(strstr(err.detail, "\"a:3\""));
	assert_non_null(strstr(err.detail, "maximum of 3"));
	/* A duplicate still succeeds in a full set. */
	assert_int_equal(agent_selector_set_add(set, "a:2", &err), 0);
	assert_int_equal(agent_selector_set_count(set), 3);
	agent_selector_set_free(set);
	agent_selector_set_free(NULL);
}

static void set_parse_names_bad_selector(void **state)
{
	static const char *const input[] = { "unix:uid:1", "unix:uid\x01", "k8s:ns:a" };
	static const char *const valid[] = { "unix:uid:1", "k8s:ns:a" };
	struct agent_selector_set *set = (struct agent_selector_set *)1;
	struct wd_error err;

	(void)state;
	assert_int_equal(agent_selector_set_parse(input, 3, 0, &set, &err), WD_EINVAL);
	assert_null(set);
	assert_non_null(strstr(err.detail, "value must be printable ASCII"));

	assert_int_equal(agent_selector_set_parse(input, 1, 0, &set, &err), 0);
	assert_int_equal(agent_selector_set_count(set), 1);
	agent_selector_set_free(set);

	assert_int_equal(agent_selector_set_parse(NULL, 2, 0, &set, &err), WD_EINVAL);
	assert_int_equal(agent_selector_set_parse(valid, 2, 1, &set, &err), WD_ETOOBIG);
	assert_null(set);
}

static void subset_matching_rules(void **state)
{
	static const char *const workload[] = { "unix:uid:1000", "unix:gid:1000",
		"unix:path:/usr/bin/app", "cgroup:/system.slice/app.service" };
	static const char *const one[] = { "unix:uid:1000" };
	static const char *const two[] = { "unix:path:/usr/bin/app", "unix:uid:1000" };
	static const char *const all[] = { "cgroup:/system.slice/app.service", "unix:gid:1000",
		"unix:path:/usr/bin/app", "unix:uid:1000" };
	static const char *const extra[] = { "unix:uid:1000", "unix:user:app" };
	static const char *const other[] = { "unix:uid:0" };
	static const char *const first_and_last[] = { "cgroup:/system.slice/app.service",
		"unix:uid:1000" };
	struct agent_selector_set *workload_set = set_of(workload, WD_ARRAY_LEN(workload));
	struct agent_selector_set *entry;
	struct agent_selector_set *empty = agent_selector_set_new(0);

	(void)state;
	entry = set_of(one, 1);
	assert_true(agent_selectors_subset(entry, workload_set));
	agent_selector_set_free(entry);

	entry = set_of(two, 2);
	assert_true(agent_selectors_subset(entry, workload_set));
	agent_selector_set_free(entry);

	entry = set_of(all, 4);
	assert_true(agent_selectors_subset(entry, workload_set));
	agent_selector_set_free(entry);

	entry = set_of(first_and_last, 2);
	assert_true(agent_selectors_subset(entry, workload_set));
	agent_selector_set_free(entry);

	/* One selector the workload lacks is enough to refuse the match. */
	entry = set_of(extra, 2);
	assert_false(agent_selectors_subset(entry, workload_set));
	agent_selector_set_free(entry);

	entry = set_of(other, 1);
	assert_false(agent_selectors_subset(entry, workload_set));
	/* The workload's set is not a subset of a smaller entry. */
	assert_false(agent_selectors_subset(workload_set, entry));
	agent_selector_set_free(entry);

	/* An entry without selectors matches nothing, even an empty workload. */
	assert_false(agent_selectors_subset(empty, workload_set));
	assert_false(agent_selectors_subset(empty, empty));
	assert_false(agent_selectors_subset(NULL, workload_set));
	assert_false(agent_selectors_subset(workload_set, NULL));

	assert_true(agent_selectors_subset_strings(two, 2, workload_set));
	assert_false(agent_selectors_subset_strings(extra, 2, workload_set));
	assert_false(agent_selectors_subset_strings(two, 0, workload_set));
	assert_false(agent_selectors_subset_strings(NULL, 1, workload_set));

	agent_selector_set_free(empty);
	agent_selector_set_free(workload_set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(selector_validate_accepts),
		cmocka_unit_test(selector_validate_rejects),
		cmocka_unit_test(selector_validate_length_limits),
		cmocka_unit_test(set_sorts_and_deduplicates),
		cmocka_unit_test(set_add_pair_and_errors),
		cmocka_unit_test(set_parse_names_bad_selector),
		cmocka_unit_test(subset_matching_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
