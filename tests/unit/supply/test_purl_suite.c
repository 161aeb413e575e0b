/* Conformance of purl_build with the build cases of the purl specification's
 * test suite (package-url/purl-spec tests/spec and tests/types JSON): the
 * generic rules, and the deb and generic types that warden builds. Other
 * types add name normalizations that purl_build does not implement.
 * PURL_TEST_SUITE_DIR names the suite's tests directory; the test skips
 * (exit 77) with the reason when it is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "supply/purl.h"

#define MAX_QUALIFIERS 16

static const char *const suite_files[] = {
	"spec/specification-test.json",
	"types/deb-test.json",
	"types/generic-test.json",
};

static const char *suite_dir(void)
{
	const char *dir = getenv("PURL_TEST_SUITE_DIR");

	return dir && dir[0] ? dir : NULL;
}

static const char *string_or_null(json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

/* Runs one build case; returns the number of failures (0 or 1). */
static int run_case(json_t *test, const char *file)
{
	json_t *input = json_object_get(test, "input");
	json_t *qualifier_object = json_object_get(input, "qualifiers");
	const char *expected = string_or_null(test, "expected_output");
	const char *description = string_or_null(test, "description");
	bool expect_failure = json_is_true(json_object_get(test, "expected_failure"));
	struct purl_qualifier qualifiers[MAX_QUALIFIERS];
	size_t count = 0;
	const char *key;
	json_t *value;
	struct wd_error err = { 0 };
	char *purl = NULL;
	int rc, failures = 0;

	json_object_foreach(qualifier_object, key, value) {
		assert_true(count < MAX_QUALIFIERS);
		qualifiers[count++] = (struct purl_qualifier){ key, json_string_value(value) };
	}
	struct purl_parts parts = {
		.type = string_or_null(input, "type"),
		.namespace = string_or_null(input, "namespace"),
		.name = string_or_null(input, "name"),
		.version = string_or_null(input, "version"),
		.qualifiers = qualifiers,
		.qualifier_count = count,
		.subpath = string_or_null(input, "subpath"),
	};

	rc = purl_build(&parts, &purl, &err);
	if (expect_failure && rc == 0) {
		fprintf(stderr, "%s: \"%s\": built %s, expected a failure\n", file, description,
			purl);
		failures = 1;
	} else if (!expect_failure && rc < 0) {
		fprintf(stderr, "%s: \"%s\": failed (%s), expected %s\n", file, description,
			err.detail, expected);
		failures = 1;
	} else if (!expect_failure && (!expected || strcmp(purl, expected) != 0)) {
		fprintf(stderr, "%s: \"%s\": built %s, expected %s\n", file, description, purl,
			expected ? expected : "(none)");
		failures = 1;
	}
	free(purl);
	return failures;
}

static void suite_build_cases(void **state)
{
	size_t cases = 0;
	int failures = 0;

	(void)state;
	for (size_t f = 0; f < sizeof(suite_files) / sizeof(suite_files[0]); f++) {
		char path[1024];
		json_error_t json_err;
		json_t *root, *tests, *test;
		size_t i;

		snprintf(path, sizeof(path), "%s/%s", suite_dir(), suite_files[f]);
		root = json_load_file(path, 0, &json_err);
		if (!root)
			fail_msg("%s: %s", path, json_err.text);
		tests = json_object_get(root, "tests");
		assert_true(json_is_array(tests));
		json_array_foreach(tests, i, test) {
			if (strcmp(string_or_null(test, "test_type") ?: "", "build") != 0)
				continue;
			cases++;
			failures += run_case(test, suite_files[f]);
		}
		json_decref(root);
	}
	printf("purl test suite: %zu build cases, %d failed\n", cases, failures);
	assert_true(cases >= 10);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(suite_build_cases),
	};
	char probe[1024];

	if (!suite_dir()) {
		printf("SKIP: PURL_TEST_SUITE_DIR is not set; set it to the tests directory of a "
		       "package-url/purl-spec checkout to run the purl suite\n");
		return 77;
	}
	snprintf(probe, sizeof(probe), "%s/%s", suite_dir(), suite_files[0]);
	if (access(probe, R_OK) != 0) {
		printf("SKIP: purl test suite not found at %s; set PURL_TEST_SUITE_DIR to the "
		       "tests directory of a package-url/purl-spec checkout\n", suite_dir());
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
