/* Conformance of the OSV loader and matcher with real records from the
 * public databases (GitHub, PyPA, Go, RustSec, Debian, Alpine, Ubuntu,
 * OSS-Fuzz): every file loads, and known packages match with the fixed
 * versions and severities those records state. OSV_SAMPLES_DIR names the
 * directory of records; without it the test skips (exit 77) with the
 * reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supply/osv.h"
#include "supply/scan.h"

static struct osv_db *db;

static const struct osv_record *record_of(const char *ecosystem, const char *name,
	const char *id)
{
	for (const struct osv_affected *a = osv_db_lookup(db, ecosystem, name); a; a = a->next) {
		if (!strcmp(a->record->id, id))
			return a->record;
	}
	fail_msg("%s %s: record %s not found", ecosystem, name, id);
	return NULL;
}

static void samples_load_without_problems(void **state)
{
	const struct osv_db_stats *stats = osv_db_stats(db);

	(void)state;
	assert_int_equal(stats->records, stats->files);
	assert_true(stats->records >= 20);
	assert_int_equal(stats->skipped, 0);
	assert_int_equal(stats->unusable_ranges, 0);
	assert_int_equal(osv_db_problem_total(db), 0);
}

static void samples_severities(void **state)
{
	const struct osv_record *r;

	(void)state;
	r = record_of("crates.io", "smallvec", "GHSA-43w2-9j62-hq99");
	assert_int_equal(r->severity.rating, OSV_RATING_CRITICAL);
	assert_int_equal(r->severity.score, 98);
	assert_string_equal(r->aliases[0], "CVE-2021-25900");

	r = record_of("Alpine", "openssl", "CVE-2018-5407");
	assert_int_equal(r->severity.score, 47);
	assert_int_equal(r->severity.rating, OSV_RATING_MEDIUM);

	r = record_of("Go", "github.com/ipfs/go-bitfield", "GHSA-2h6c-j3gf-xp9r");
	assert_int_equal(r->severity.rating, OSV_RATING_MEDIUM);
	assert_string_equal(r->severity.origin, "database_specific.severity");

	r = record_of("Ubuntu", "linux", "UBUNTU-CVE-2025-38094");
	assert_int_equal(r->severity.rating, OSV_RATING_MEDIUM);
	assert_string_equal(r->severity.origin, "severity Ubuntu");
	assert_string_equal(r->affected[0].release, "Pro:14.04:LTS");

	r = record_of("crates.io", "time", "RUSTSEC-2020-0071");
	assert_int_equal(r->affected[0].severity.score, 62);
	assert_string_equal(r->affected[0].severity.origin, "database_specific.cvss");

	r = record_of("Debian", "chromium", "CVE-2024-3847");
	assert_int_equal(r->affected[0].severity.rating, OSV_RATING_LOW);
	assert_string_equal(r->affected[0].severity.origin, "ecosystem_specific.urgency");
}

struct sample_match {
	enum sbom_package_type type;
	const char *name;
	const char *version;
	const char *id;
	const char *fixed;  /* NULL: no fix */
};

static void samples_match_packages(void **state)
{
	static const struct sample_match expected[] = {
		{ SBOM_TYPE_APK, "openssl", "1.0.2p-r0", "CVE-2018-5407", "1.0.2q-r0" },
		{ SBOM_TYPE_PYTHON, "PyYAML", "5.3", "PYSEC-2021-142", "5.4" },
		{ SBOM_TYPE_PYTHON, "cryptography", "3.3.1", "PYSEC-2021-63", "3.3.2" },
		{ SBOM_TYPE_GO_MODULE, "github.com/gin-gonic/gin", "v1.5.0", "GO-2020-0001", "1.6.0" },
		{ SBOM_TYPE_NPM, "semver", "7.5.1", "GHSA-c2qf-rxjj-qqgw", "7.5.2" },
	};
	struct sbom_distro alpine = { .id = (char *)"alpine", .version_id = (char *)"3.8.5" };
	struct scan_result result = { 0 };
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 100);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		struct sbom_package pkg = {
			.type = expected[i].type,
			.name = strdup(expected[i].name),
			.version = strdup(expected[i].version),
		};

		assert_int_equal(sbom_catalog_add(&catalog, &pkg, &err), 0);
	}
	/* Versions outside the records' ranges. */
	{
		struct sbom_package pkg = { .type = SBOM_TYPE_NPM, .name = strdup("semver"),
					    .version = strdup("7.5.2") };

		assert_int_equal(sbom_catalog_add(&catalog, &pkg, &err), 0);
	}
	sbom_catalog_sort(&catalog);
	assert_int_equal(scan_catalog(&catalog, &alpine, db, &result, &err), 0);

	assert_int_equal(result.count, sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < result.count; i++) {
		const struct scan_match *m = &result.matches[i];
		bool found = false;

		for (size_t j = 0; j < sizeof(expected) / sizeof(expected[0]); j++) {
			if (strcmp(m->package->name, expected[j].name) ||
			    strcmp(m->package->version, expected[j].version))
				continue;
			found = true;
			assert_string_equal(m->record->id, expected[j].id);
			assert_string_equal(m->fixed, expected[j].fixed);
		}
		if (!found)
			fail_msg("unexpected match %s %s %s", m->package->name, m->package->version,
				m->record->id);
	}
	scan_result_free(&result);
	sbom_catalog_free(&catalog);
}

int main(void)
{
	const char *dir = getenv("OSV_SAMPLES_DIR");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(samples_load_without_problems),
		cmocka_unit_test(samples_severities),
		cmocka_unit_test(samples_match_packages),
	};
	struct wd_error err = { 0 };
	int rc;

	if (!dir || !dir[0]) {
		printf("skipped: OSV_SAMPLES_DIR is not set to a directory of OSV records\n");
		return 77;
	}
	if (osv_db_new(&db, &err) < 0 || osv_db_load_dir(db, dir, &err) < 0) {
		fprintf(stderr, "loading %s failed: %s\n", dir, err.detail);
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	osv_db_free(db);
	return rc;
}
