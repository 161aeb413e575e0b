/* Unit tests of severities: CVSS v3 base scores against the scores NVD
 * publishes for the same vectors, vector syntax errors, rating names, and
 * which field of a record the severity is taken from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "supply/osv.h"
#include "supply/osv_internal.h"

struct score_case {
	const char *vector;
	int score;  /* times ten */
	enum osv_rating rating;
};

static void cvss3_known_vectors(void **state)
{
	static const struct score_case cases[] = {
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98, OSV_RATING_CRITICAL },
		{ "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98, OSV_RATING_CRITICAL },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 100, OSV_RATING_CRITICAL },
		{ "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 99, OSV_RATING_CRITICAL },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", 96, OSV_RATING_CRITICAL },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", 91, OSV_RATING_CRITICAL },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 88, OSV_RATING_HIGH },
		{ "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N", 81, OSV_RATING_HIGH },
		{ "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 78, OSV_RATING_HIGH },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 75, OSV_RATING_HIGH },
		{ "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 65, OSV_RATING_MEDIUM },
		{ "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 62, OSV_RATING_MEDIUM },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 61, OSV_RATING_MEDIUM },
		{ "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 55, OSV_RATING_MEDIUM },
		{ "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 54, OSV_RATING_MEDIUM },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 53, OSV_RATING_MEDIUM },
		{ "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N", 47, OSV_RATING_MEDIUM },
		{ "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N", 37, OSV_RATING_LOW },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, OSV_RATING_NEGLIGIBLE },
		/* Temporal and environmental metrics do not change the base. */
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C/CR:L/MAV:P", 98,
		  OSV_RATING_CRITICAL },
		/* Metrics may come in any order. */
		{ "CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N", 98, OSV_RATING_CRITICAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wd_error err = { 0 };
		enum osv_rating rating = OSV_RATING_UNKNOWN;
		int score = -1;

		if (osv_cvss3_score(cases[i].vector, &score, &rating, &err) != 0)
			fail_msg("%s: %s", cases[i].vector, err.detail);
		if (score != cases[i].score || rating != cases[i].rating)
			fail_msg("%s: score %d rating %s, expected %d %s", cases[i].vector, score,
				osv_rating_name(rating), cases[i].score, osv_rating_name(cases[i].rating));
	}
}

static void cvss3_invalid_vectors(void **state)
{
	static const struct {
		const char *vector;
		const char *message;
	} cases[] = {
		{ "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "invalid CVSS v3 vector \"AV:N/AC:L/PR:N/UI:N/"
		  "S:U/C:H/I:H/A:H\": expected CVSS:3.0/ or CVSS:3.1/ first" },
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		  "invalid CVSS v3 vector \"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/"
		  "SA:N\": expected CVSS:3.0/ or CVSS:3.1/ first" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "invalid CVSS v3 vector \"CVSS:3.1/AV:N/"
		  "AC:L/PR:N/UI:N/S:U/C:H/I:H\": missing base metric A" },
		{ "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "invalid CVSS v3 vector \"CVSS:3.1/"
		  "AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\": invalid value of metric AV" },
		{ "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "invalid CVSS v3 vector "
		  "\"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\": metric AV given twice" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:Q", "invalid CVSS v3 vector "
		  "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:Q\": unknown metric \"ZZ:Q\"" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "invalid CVSS v3 vector \"CVSS:3.1/"
		  "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/\": unknown metric \"\"" },
		{ "CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "invalid CVSS v3 vector \"CVSS:3.1/"
		  "AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\": invalid value of metric AV" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wd_error err = { 0 };
		enum osv_rating rating = OSV_RATING_HIGH;
		int score = 42;

		assert_int_equal(osv_cvss3_score(cases[i].vector, &score, &rating, &err), WD_EINVAL);
		if (strcmp(err.detail, cases[i].message))
			fail_msg("got \"%s\", expected \"%s\"", err.detail, cases[i].message);
		assert_int_equal(score, 42);
	}
}

static void rating_names_parse(void **state)
{
	enum osv_rating rating;
	struct wd_error err = { 0 };

	(void)state;
	assert_string_equal(osv_rating_name(OSV_RATING_UNKNOWN), "unknown");
	assert_string_equal(osv_rating_name(OSV_RATING_CRITICAL), "critical");
	assert_int_equal(osv_rating_parse("High", &rating, &err), 0);
	assert_int_equal(rating, OSV_RATING_HIGH);
	assert_int_equal(osv_rating_parse("negligible", &rating, &err), 0);
	assert_int_equal(rating, OSV_RATING_NEGLIGIBLE);
	assert_int_equal(osv_rating_parse("moderate", &rating, &err), WD_EINVAL);
	assert_string_equal(err.detail, "unknown severity \"moderate\": expected negligible, low, "
					"medium, high or critical");
	assert_int_equal(osv_rating_parse("unknown", &rating, &err), WD_EINVAL);
}

/* Reads a record whose top level has the given members and returns the
 * severity of the record (affected false) or its one affected entry. */
static struct osv_severity severity_of(const char *top, const char *affected_members,
	bool affected)
{
	static struct osv_json json;
	static struct osv_arena arena;
	char text[2048];
	struct osv_record *record = NULL;
	struct wd_error err = { 0 };

	if (!json.max_tokens) {
		osv_json_init(&json, 10000, 64);
		osv_arena_init(&arena, 1 << 24);
	}
	snprintf(text, sizeof(text),
		"{\"id\": \"S-1\", \"modified\": \"2024-01-01T00:00:00Z\"%s%s, \"affected\": [{"
		"\"package\": {\"ecosystem\": \"npm\", \"name\": \"p\"}%s%s}]}",
		top[0] ? ", " : "", top, affected_members[0] ? ", " : "", affected_members);
	if (osv_record_read(&json, &arena, "s.json", text, strlen(text), &record, &err) != 0)
		fail_msg("%s: %s", text, err.detail);
	return affected ? record->affected[0].severity : record->severity;
}

static void severity_sources_in_order(void **state)
{
	struct osv_severity s;

	(void)state;
	/* An Ubuntu priority. */
	s = severity_of("\"severity\": [{\"type\": \"Ubuntu\", \"score\": \"medium\"}]", "", false);
	assert_int_equal(s.rating, OSV_RATING_MEDIUM);
	assert_int_equal(s.score, -1);
	assert_null(s.vector);
	assert_string_equal(s.origin, "severity Ubuntu");

	/* An invalid CVSS_V3 vector is passed over for a valid one. */
	s = severity_of("\"severity\": [{\"type\": \"CVSS_V3\", \"score\": \"CVSS:3.1/AV:N\"}, "
			"{\"type\": \"CVSS_V3\", \"score\": "
			"\"CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N\"}]", "", false);
	assert_int_equal(s.rating, OSV_RATING_MEDIUM);
	assert_int_equal(s.score, 47);

	/* RustSec's vector in database_specific.cvss, at the affected level. */
	s = severity_of("", "\"database_specific\": {\"cvss\": "
			    "\"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\"}", true);
	assert_int_equal(s.rating, OSV_RATING_MEDIUM);
	assert_int_equal(s.score, 62);
	assert_string_equal(s.origin, "database_specific.cvss");

	/* GitHub's word, with a CVSS_V4 vector that is not scored. */
	s = severity_of("\"severity\": [{\"type\": \"CVSS_V4\", \"score\": \"CVSS:4.0/AV:N\"}], "
			"\"database_specific\": {\"severity\": \"MODERATE\"}", "", false);
	assert_int_equal(s.rating, OSV_RATING_MEDIUM);
	assert_string_equal(s.origin, "database_specific.severity");

	/* OSS-Fuzz and Debian in ecosystem_specific; "low**" is Debian's mark
	 * of an unconfirmed urgency. */
	s = severity_of("", "\"ecosystem_specific\": {\"severity\": \"HIGH\"}", true);
	assert_int_equal(s.rating, OSV_RATING_HIGH);
	assert_string_equal(s.origin, "ecosystem_specific.severity");
	s = severity_of("", "\"ecosystem_specific\": {\"urgency\": \"low**\"}", true);
	assert_int_equal(s.rating, OSV_RATING_LOW);
	assert_string_equal(s.origin, "ecosystem_specific.urgency");

	/* Words that are no rating leave it unknown. */
	s = severity_of("", "\"ecosystem_specific\": {\"urgency\": \"not yet assigned\"}", true);
	assert_int_equal(s.rating, OSV_RATING_UNKNOWN);
	assert_null(s.origin);
	s = severity_of("\"database_specific\": {\"severity\": 3}", "", false);
	assert_int_equal(s.rating, OSV_RATING_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cvss3_known_vectors),
		cmocka_unit_test(cvss3_invalid_vectors),
		cmocka_unit_test(rating_names_parse),
		cmocka_unit_test(severity_sources_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
