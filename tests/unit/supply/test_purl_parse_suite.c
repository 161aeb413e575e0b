/* Conformance of purl_parse with the parse cases of the purl
 * specification's test suite (package-url/purl-spec tests/spec and
 * tests/types JSON): the generic rules, and the types whose packages
 * warden reads back from SBOMs plus those without special name rules.
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

#include <cmocka.h>
#include <jansson.h>

#include "supply/purl.h"

/* Types with normalizations beyond case and pypi's '_' (for example
 * hackage's kebab-case or maven's qualifier defaults) are not listed. */
static const char *const suite_files[] = {
	"spec/specification-test.json",
	"types/apk-test.json",
	"types/cargo-test.json",
	"types/deb-test.json",
	"types/generic-test.json",
	"types/github-test.json",
	"types/golang-test.json",
	"types/npm-test.json",
	"types/pypi-test.json",
	"types/rpm-test.json",
};

static const char *suite_dir(void)
{
	const char *dir = getenv("PURL_TEST_SUITE_DIR");

	return dir && dir[0] ? dir : NULL;
}

static bool same_text(const char *got, json_t *expected)
{
	const char *want = json_string_value(expected);

	if (!want || !want[0])
		return got == NULL;
	return got && !strcmp(got, want);
}

static bool same_qualifiers(const struct purl *p, json_t *expected)
{
	size_t count = json_is_object(expected) ? json_object_size(expected) : 0;
	const char *key;
	json_t *value;

	if (p->qualifier_count != count)
		return false;
	json_object_foreach(expected, key, value) {
		const char *got = purl_qualifier(p, key);

		if (!got || strcmp(got, json_string_value(value)))
			return false;
	}
	return true;
}

/* Runs one parse case; returns the number of failures (0 or 1). */
static int run_case(json_t *test, const char *file)
{
	const char *input = json_string_value(json_object_get(test, "input"));
	const char *description = json_string_value(json_object_get(test, "description"));
	json_t *expected = json_object_get(test, "expected_output");
	bool expect_failure = json_is_true(json_object_get(test, "expected_failure"));
	struct wd_error err = { 0 };
	struct purl p;
	int rc;

	if (!input)
		return 0;
	rc = purl_parse(input, &p, &err);
	if (expect_failure) {
		if (rc == 0) {
			fprintf(stderr, "%s: \"%s\": parsed %s, expected a failure\n", file,
				description, input);
			purl_free(&p);
			return 1;
		}
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: \"%s\": %s failed: %s\n", file, description, input, err.detail);
		return 1;
	}
	rc = same_text(p.type, json_object_get(expected, "type")) &&
	     same_text(p.namespace, json_object_get(expected, "namespace")) &&
	     same_text(p.name, json_object_get(expected, "name")) &&
	     same_text(p.version, json_object_get(expected, "version")) &&
	     same_qualifiers(&p, json_object_get(expected, "qualifiers")) &&
	     same_text(p.subpath, json_object_get(expected, "subpath"));
	if (!rc)
		fprintf(stderr, "%s: \"%s\": %s parsed as type=%s namespace=%s name=%s version=%s "
				"subpath=%s\n", file, description, input, p.type,
			p.namespace ? p.namespace : "(null)", p.name, p.version ? p.version : "(null)",
			p.subpath ? p.subpath : "(null)");
	purl_free(&p);
	return rc ? 0 : 1;
}

static void suite_parse_cases(void **state)
{
	int failures = 0, cases = 0;

	(void)state;
	for (size_t f = 0; f < sizeof(suite_files) / sizeof(suite_files[0]); f++) {
		char path[4096];
		json_error_t jerr;
		json_t *root, *tests, *test;
		size_t i;

		snprintf(path, sizeof(path), "%s/%s", suite_dir(), suite_files[f]);
		root = json_load_file(path, 0, &jerr);
		if (!root)
			fail_msg("%s: %s", path, jerr.text);
		tests = json_object_get(root, "tests");
		json_array_foreach(tests, i, test) {
			const char *type = json_string_value(json_object_get(test, "test_type"));

			if (!type || strcmp(type, "parse"))
				continue;
			cases++;
			failures += run_case(test, suite_files[f]);
		}
		json_decref(root);
	}
	printf("%d parse cases, %d failed\n", cases, failures);
	assert_true(cases > 0);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(suite_parse_cases),
	};

	if (!suite_dir()) {
		printf("skipped: PURL_TEST_SUITE_DIR is not set to the purl-spec tests directory\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
