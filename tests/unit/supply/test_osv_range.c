/* Unit tests of range evaluation: the OSV schema's algorithm in the version
 * order of each ecosystem, with last_affected, limit, versions lists and
 * the fixed version reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supply/osv.h"
#include "supply/osv_internal.h"

struct range_case {
	const char *ecosystem;
	const char *ranges;    /* the JSON of "ranges", or NULL */
	const char *versions;  /* the JSON of "versions", or NULL */
	const char *installed;
	bool affected;
	const char *fixed;     /* expected fix, or NULL */
	bool by_versions;
};

/* Reads a one-entry record and returns its affected entry. */
static const struct osv_affected *read_affected(struct osv_json *json, struct osv_arena *arena,
	const char *ecosystem, const char *ranges, const char *versions)
{
	char text[4096];
	struct osv_record *record = NULL;
	struct wd_error err = { 0 };
	int rc;

	snprintf(text, sizeof(text),
		"{\"id\": \"T-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		"\"package\": {\"ecosystem\": \"%s\", \"name\": \"p\"}%s%s%s%s}]}",
		ecosystem, ranges ? ", \"ranges\": " : "", ranges ? ranges : "",
		versions ? ", \"versions\": " : "", versions ? versions : "");
	rc = osv_record_read(json, arena, "t.json", text, strlen(text), &record, &err);
	if (rc != 0)
		fail_msg("%s: %s", text, err.detail);
	return &record->affected[0];
}

#define INTRO_FIXED(i, f) "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"" i "\"}, " \
	"{\"fixed\": \"" f "\"}]}]"

static const struct range_case cases[] = {
	/* dpkg: epochs, tildes, revisions. */
	{ "Debian:12", INTRO_FIXED("0", "1:1.2.13.dfsg-2"), NULL, "1:1.2.13.dfsg-1", true,
	  "1:1.2.13.dfsg-2", false },
	{ "Debian:12", INTRO_FIXED("0", "1:1.2.13.dfsg-2"), NULL, "1:1.2.13.dfsg-2", false, NULL,
	  false },
	{ "Debian:12", INTRO_FIXED("0", "1:1.2.13.dfsg-2"), NULL, "1.2.14", true,
	  "1:1.2.13.dfsg-2", false },
	{ "Debian:12", INTRO_FIXED("0", "1.0-2"), NULL, "1.0-2~deb12u1", true, "1.0-2", false },
	{ "Debian:12", INTRO_FIXED("0", "1.0-2"), NULL, "1.0-2+b1", false, NULL, false },
	/* last_affected is inclusive. */
	{ "Debian", "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"5.2.15-1\"}, "
		    "{\"last_affected\": \"5.2.15-2\"}]}]", NULL, "5.2.15-2", true, NULL, false },
	{ "Debian", "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"5.2.15-1\"}, "
		    "{\"last_affected\": \"5.2.15-2\"}]}]", NULL, "5.2.15-2+b1", false, NULL, false },
	{ "Debian", "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"5.2.15-1\"}, "
		    "{\"last_affected\": \"5.2.15-2\"}]}]", NULL, "5.2.14-9", false, NULL, false },
	/* apk: letters, suffixes and -rN. */
	{ "Alpine:v3.18", INTRO_FIXED("0", "1.0.2q-r0"), NULL, "1.0.2p-r1", true, "1.0.2q-r0",
	  false },
	{ "Alpine:v3.18", INTRO_FIXED("0", "1.0.2q-r0"), NULL, "1.0.2q_rc1-r0", true, "1.0.2q-r0",
	  false },
	{ "Alpine:v3.18", INTRO_FIXED("0", "1.0.2q-r0"), NULL, "1.0.2q-r0", false, NULL, false },
	/* rpm: the epoch decides first, then the release. */
	{ "Rocky Linux:9", INTRO_FIXED("0", "1:3.0.7-16.el9"), NULL, "1:3.0.7-6.el9", true,
	  "1:3.0.7-16.el9", false },
	{ "Rocky Linux:9", INTRO_FIXED("0", "1:3.0.7-16.el9"), NULL, "3.0.7-20.el9", true,
	  "1:3.0.7-16.el9", false },
	{ "Rocky Linux:9", INTRO_FIXED("0", "1:3.0.7-16.el9"), NULL, "1:3.0.7-16.el9_2", false,
	  NULL, false },
	/* npm ECOSYSTEM ranges in semver order, two branches. */
	{ "npm", "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"7.0.0\"}, "
		 "{\"fixed\": \"7.5.2\"}, {\"introduced\": \"6.0.0\"}, {\"fixed\": \"6.3.1\"}]}]",
	  NULL, "6.3.0", true, "6.3.1", false },
	{ "npm", "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"7.0.0\"}, "
		 "{\"fixed\": \"7.5.2\"}, {\"introduced\": \"6.0.0\"}, {\"fixed\": \"6.3.1\"}]}]",
	  NULL, "7.5.2-beta.1", true, "7.5.2", false },
	{ "npm", "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"7.0.0\"}, "
		 "{\"fixed\": \"7.5.2\"}, {\"introduced\": \"6.0.0\"}, {\"fixed\": \"6.3.1\"}]}]",
	  NULL, "6.4.0", false, NULL, false },
	{ "npm", "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"7.0.0\"}, "
		 "{\"fixed\": \"7.5.2\"}, {\"introduced\": \"6.0.0\"}, {\"fixed\": \"6.3.1\"}]}]",
	  NULL, "v7.1.0", true, "7.5.2", false },
	/* PEP 440: pre-releases before the release, post-releases after. */
	{ "PyPI", INTRO_FIXED("3.2", "3.3.2"), NULL, "3.3.2rc1", true, "3.3.2", false },
	{ "PyPI", INTRO_FIXED("3.2", "3.3.2"), NULL, "3.3", true, "3.3.2", false },
	{ "PyPI", INTRO_FIXED("3.2", "3.3.2"), NULL, "3.3.2.post1", false, NULL, false },
	{ "PyPI", INTRO_FIXED("3.2", "3.3.2"), NULL, "3.1.9", false, NULL, false },
	/* Go: OSV versions without 'v' against module versions with it. */
	{ "Go", "[{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"0\"}, "
		"{\"fixed\": \"1.6.0\"}]}]", NULL, "v1.5.9", true, "1.6.0", false },
	{ "Go", "[{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"0\"}, "
		"{\"fixed\": \"1.6.0\"}]}]", NULL, "v0.0.0-20191109021931-daa7c04131f5", true,
	  "1.6.0", false },
	{ "Go", "[{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"0\"}, "
		"{\"fixed\": \"1.6.0\"}]}]", NULL, "v1.6.0", false, NULL, false },
	/* limit: only versions below one of them count. */
	{ "crates.io", "[{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"1.0.0\"}, "
		       "{\"limit\": \"2.0.0\"}]}]", NULL, "1.5.0", true, NULL, false },
	{ "crates.io", "[{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"1.0.0\"}, "
		       "{\"limit\": \"2.0.0\"}]}]", NULL, "2.0.0", false, NULL, false },
	{ "crates.io", "[{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"1.0.0\"}, "
		       "{\"limit\": \"2.0.0\"}]}]", NULL, "0.9.0", false, NULL, false },
	{ "crates.io", "[{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"1.0.0\"}, "
		       "{\"limit\": \"2.0.0\"}, {\"limit\": \"*\"}]}]", NULL, "3.0.0", true, NULL,
	  false },
	{ "crates.io", "[{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"1.0.0\"}, "
		       "{\"last_affected\": \"1.4.0\"}, {\"limit\": \"1.2.0\"}]}]", NULL, "1.3.0",
	  false, NULL, false },
	/* Unsorted events are sorted first. */
	{ "npm", "[{\"type\": \"SEMVER\", \"events\": [{\"fixed\": \"2.0.1\"}, "
		 "{\"introduced\": \"2.0.0\"}, {\"fixed\": \"1.0.1\"}, {\"introduced\": \"0\"}]}]",
	  NULL, "1.5.0", false, NULL, false },
	{ "npm", "[{\"type\": \"SEMVER\", \"events\": [{\"fixed\": \"2.0.1\"}, "
		 "{\"introduced\": \"2.0.0\"}, {\"fixed\": \"1.0.1\"}, {\"introduced\": \"0\"}]}]",
	  NULL, "2.0.0", true, "2.0.1", false },
	/* versions lists: exact text, with the fix taken from a range. */
	{ "PyPI", NULL, "[\"3.1\", \"3.1.1\"]", "3.1.1", true, NULL, true },
	{ "PyPI", NULL, "[\"3.1\", \"3.1.1\"]", "3.1.2", false, NULL, false },
	{ "PyPI", INTRO_FIXED("3.1", "3.1.2"), "[\"3.1\", \"3.1.1\"]", "3.1.1", true, "3.1.2",
	  true },
	/* An ecosystem without a known order: only the list applies. */
	{ "Maven", INTRO_FIXED("0", "2.0"), "[\"1.0\"]", "1.0", true, NULL, true },
	{ "Maven", INTRO_FIXED("0", "2.0"), "[\"1.0\"]", "1.5", false, NULL, false },
	/* A GIT range alone matches nothing. */
	{ "OSS-Fuzz", "[{\"type\": \"GIT\", \"repo\": \"r\", \"events\": [{\"introduced\": "
		      "\"abc\"}]}]", NULL, "1.0", false, NULL, false },
};

static void ranges_evaluate_per_ecosystem(void **state)
{
	struct osv_json json;
	struct osv_arena arena;
	int failures = 0;

	(void)state;
	osv_json_init(&json, 10000, 64);
	osv_arena_init(&arena, 1 << 24);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct range_case *c = &cases[i];
		const struct osv_affected *affected = read_affected(&json, &arena, c->ecosystem,
			c->ranges, c->versions);
		struct osv_verdict verdict;
		struct wd_error err = { 0 };

		if (osv_affected_check(affected, c->installed, &verdict, &err) != 0) {
			fprintf(stderr, "case %zu (%s %s): error %s\n", i, c->ecosystem, c->installed,
				err.detail);
			failures++;
			continue;
		}
		if (verdict.affected != c->affected || verdict.by_versions != c->by_versions ||
		    (c->fixed == NULL) != (verdict.fixed == NULL) ||
		    (c->fixed && strcmp(c->fixed, verdict.fixed))) {
			fprintf(stderr, "case %zu (%s %s): affected %d by_versions %d fixed %s, "
					"expected %d %d %s\n", i, c->ecosystem, c->installed,
				verdict.affected, verdict.by_versions,
				verdict.fixed ? verdict.fixed : "(none)", c->affected, c->by_versions,
				c->fixed ? c->fixed : "(none)");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
	osv_json_free(&json);
	osv_arena_free(&arena);
}

static void invalid_installed_version_rejected(void **state)
{
	struct osv_json json;
	struct osv_arena arena;
	const struct osv_affected *affected;
	struct osv_verdict verdict;
	struct wd_error err = { 0 };

	(void)state;
	osv_json_init(&json, 10000, 64);
	osv_arena_init(&arena, 1 << 20);
	affected = read_affected(&json, &arena, "Debian:12", INTRO_FIXED("0", "1.0-2"), NULL);
	assert_int_equal(osv_affected_check(affected, "1.0-", &verdict, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid dpkg version \"1.0-\": empty revision");
	assert_false(verdict.affected);

	/* "introduced: 0" compares without the version, which is checked
	 * all the same. */
	affected = read_affected(&json, &arena, "Debian:12",
		"[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}]}]", NULL);
	assert_int_equal(osv_affected_check(affected, "1.0-", &verdict, &err), WD_EINVAL);

	/* Listed versions are compared as text, so they still match. */
	affected = read_affected(&json, &arena, "Debian:12", INTRO_FIXED("0", "1.0-2"),
		"[\"1.0-\"]");
	assert_int_equal(osv_affected_check(affected, "1.0-", &verdict, &err), 0);
	assert_true(verdict.affected);
	assert_true(verdict.by_versions);
	assert_null(verdict.fixed);
	osv_json_free(&json);
	osv_arena_free(&arena);
}

static void equal_versions_keep_record_order(void **state)
{
	struct osv_json json;
	struct osv_arena arena;
	const struct osv_affected *affected;
	struct osv_verdict verdict;
	struct wd_error err = { 0 };

	(void)state;
	osv_json_init(&json, 10000, 64);
	osv_arena_init(&arena, 1 << 20);
	/* Introduced then fixed at the same version: fixed comes last, so the
	 * version itself is not affected. */
	affected = read_affected(&json, &arena, "npm",
		"[{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"1.0.0\"}, "
		"{\"fixed\": \"1.0.0\"}, {\"introduced\": \"0\"}]}]", NULL);
	assert_int_equal(affected->ranges[0].events[1].kind, OSV_EVENT_INTRODUCED);
	assert_int_equal(affected->ranges[0].events[2].kind, OSV_EVENT_FIXED);
	assert_int_equal(osv_affected_check(affected, "1.0.0", &verdict, &err), 0);
	assert_false(verdict.affected);
	assert_int_equal(osv_affected_check(affected, "0.5.0", &verdict, &err), 0);
	assert_true(verdict.affected);
	assert_string_equal(verdict.fixed, "1.0.0");
	osv_json_free(&json);
	osv_arena_free(&arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranges_evaluate_per_ecosystem),
		cmocka_unit_test(invalid_installed_version_rejected),
		cmocka_unit_test(equal_versions_keep_record_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
