/* Unit tests of scanning: the ecosystem, release, source name and version
 * each package is looked up as; matching a catalog; the ignore file with a
 * fixed clock; --fail-on; and the table, JSON and SARIF reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "supply/osv.h"
#include "supply/scan.h"

/* 2025-01-15T12:00:00Z */
#define NOW 1736942400

static struct sbom_package package(enum sbom_package_type type, const char *name,
	const char *version, const char *source, const char *source_version)
{
	struct sbom_package pkg = { .type = type };

	pkg.name = strdup(name);
	pkg.version = strdup(version);
	pkg.source = source ? strdup(source) : NULL;
	pkg.source_version = source_version ? strdup(source_version) : NULL;
	return pkg;
}

static struct sbom_distro distro(const char *id, const char *version_id)
{
	return (struct sbom_distro){ .id = (char *)id, .version_id = (char *)version_id };
}

static void queries_debian_use_source(void **state)
{
	struct sbom_package pkg = package(SBOM_TYPE_DEB, "bash", "5.2.15-2+b8", "bash", "5.2.15-2");
	struct sbom_package zlib = package(SBOM_TYPE_DEB, "zlib1g", "1:1.2.13.dfsg-1", "zlib", NULL);
	struct sbom_distro debian = distro("debian", "12");
	struct scan_query q[2];
	size_t count;
	const char *note;

	(void)state;
	scan_package_queries(&pkg, &debian, q, 2, &count, &note);
	assert_int_equal(count, 1);
	assert_null(note);
	assert_string_equal(q[0].ecosystem, "Debian");
	assert_string_equal(q[0].name, "bash");
	/* A binNMU: the source version is what Debian's records compare. */
	assert_string_equal(q[0].version, "5.2.15-2");
	assert_int_equal(q[0].release_count, 2);
	assert_string_equal(q[0].releases[0], "");
	assert_string_equal(q[0].releases[1], "12");
	assert_true(scan_query_accepts(&q[0], "12"));
	assert_true(scan_query_accepts(&q[0], ""));
	assert_false(scan_query_accepts(&q[0], "11"));

	scan_package_queries(&zlib, &debian, q, 2, &count, &note);
	assert_int_equal(count, 1);
	assert_string_equal(q[0].name, "zlib");
	assert_string_equal(q[0].version, "1:1.2.13.dfsg-1");

	/* Without os-release only records without a release apply. */
	scan_package_queries(&zlib, NULL, q, 2, &count, &note);
	assert_int_equal(count, 1);
	assert_int_equal(q[0].release_count, 1);
	assert_false(scan_query_accepts(&q[0], "12"));
	assert_string_equal(note, "the distribution is unknown, so only Debian records without a "
				  "release apply");
	sbom_package_free(&pkg);
	sbom_package_free(&zlib);
}

static void queries_ubuntu_alpine(void **state)
{
	struct sbom_package deb = package(SBOM_TYPE_DEB, "libssl3", "3.0.2-0ubuntu1.15", "openssl",
		NULL);
	struct sbom_package apk = package(SBOM_TYPE_APK, "libcrypto3", "3.1.4-r5", "openssl", NULL);
	struct sbom_distro ubuntu = distro("ubuntu", "22.04");
	struct sbom_distro alpine = distro("alpine", "3.18.4");
	struct sbom_distro wolfi = distro("wolfi", "20230201");
	struct scan_query q[2];
	size_t count;
	const char *note;

	(void)state;
	scan_package_queries(&deb, &ubuntu, q, 2, &count, &note);
	assert_int_equal(count, 1);
	assert_string_equal(q[0].ecosystem, "Ubuntu");
	assert_string_equal(q[0].name, "openssl");
	assert_true(scan_query_accepts(&q[0], "22.04:LTS"));
	assert_true(scan_query_accepts(&q[0], "22.04"));
	assert_false(scan_query_accepts(&q[0], "Pro:22.04:LTS"));
	assert_false(scan_query_accepts(&q[0], ""));

	scan_package_queries(&apk, &alpine, q, 2, &count, &note);
	assert_int_equal(count, 1);
	assert_string_equal(q[0].ecosystem, "Alpine");
	assert_string_equal(q[0].name, "openssl");
	assert_string_equal(q[0].version, "3.1.4-r5");
	assert_true(scan_query_accepts(&q[0], "v3.18"));
	assert_false(scan_query_accepts(&q[0], "v3.1"));

	scan_package_queries(&apk, &wolfi, q, 2, &count, &note);
	assert_int_equal(count, 1);
	assert_string_equal(q[0].ecosystem, "Wolfi");
	assert_true(scan_query_accepts(&q[0], ""));

	scan_package_queries(&apk, NULL, q, 2, &count, &note);
	assert_int_equal(count, 0);
	assert_string_equal(note, "the Alpine release is unknown, so no Alpine record applies");
	sbom_package_free(&deb);
	sbom_package_free(&apk);
}

static void queries_rpm_by_distro(void **state)
{
	struct sbom_package pkg = package(SBOM_TYPE_RPM, "openssl-libs", "1:3.0.7-16.el9",
		"openssl-3.0.7-16.el9.src.rpm", NULL);
	struct sbom_distro rhel = distro("rhel", "9.2");
	struct sbom_distro rocky = distro("rocky", "9.3");
	struct sbom_distro fedora = distro("fedora", "39");
	struct scan_query q[2];
	size_t count;
	const char *note;

	(void)state;
	/* Red Hat names binary or source RPMs: both are looked up. */
	scan_package_queries(&pkg, &rhel, q, 2, &count, &note);
	assert_int_equal(count, 2);
	assert_string_equal(q[0].ecosystem, "Red Hat");
	assert_string_equal(q[0].name, "openssl");
	assert_string_equal(q[1].name, "openssl-libs");
	assert_string_equal(q[0].version, "1:3.0.7-16.el9");
	assert_true(scan_query_accepts(&q[0], "enterprise_linux:9::appstream"));
	assert_true(scan_query_accepts(&q[0], "enterprise_linux:9"));
	assert_false(scan_query_accepts(&q[0], "enterprise_linux:90::baseos"));
	assert_false(scan_query_accepts(&q[0], "rhel_eus:9.2::baseos"));

	scan_package_queries(&pkg, &rocky, q, 2, &count, &note);
	assert_int_equal(count, 1);
	assert_string_equal(q[0].ecosystem, "Rocky Linux");
	assert_string_equal(q[0].name, "openssl");
	assert_true(scan_query_accepts(&q[0], "9"));
	assert_true(scan_query_accepts(&q[0], ""));

	scan_package_queries(&pkg, &fedora, q, 2, &count, &note);
	assert_int_equal(count, 0);
	assert_string_equal(note, "RPM packages are matched only on Red Hat Enterprise Linux, "
				  "Rocky Linux and AlmaLinux");
	sbom_package_free(&pkg);
}

static void queries_language_packages(void **state)
{
	struct sbom_package py = package(SBOM_TYPE_PYTHON, "PyYAML", "5.3", NULL, NULL);
	struct sbom_package go = package(SBOM_TYPE_GO_MODULE, "stdlib", "go1.21.3", NULL, NULL);
	struct sbom_package bin = package(SBOM_TYPE_BINARY, "tool", "1.0", NULL, NULL);
	struct sbom_distro debian = distro("debian", "12");
	struct scan_query q[2];
	size_t count;
	const char *note;

	(void)state;
	scan_package_queries(&py, &debian, q, 2, &count, &note);
	assert_int_equal(count, 1);
	assert_string_equal(q[0].ecosystem, "PyPI");
	assert_string_equal(q[0].name, "PyYAML");
	assert_true(scan_query_accepts(&q[0], ""));
	assert_false(scan_query_accepts(&q[0], "12"));

	scan_package_queries(&go, &debian, q, 2, &count, &note);
	assert_int_equal(count, 1);
	assert_string_equal(q[0].ecosystem, "Go");
	assert_string_equal(q[0].version, "1.21.3");

	scan_package_queries(&bin, &debian, q, 2, &count, &note);
	assert_int_equal(count, 0);
	assert_null(note);
	sbom_package_free(&py);
	sbom_package_free(&go);
	sbom_package_free(&bin);
}

static void add_record(struct osv_db *db, const char *path, const char *text)
{
	struct wd_error err = { 0 };

	if (osv_db_add(db, path, text, strlen(text), &err) != 0)
		fail_msg("%s: %s", path, err.detail);
}

/* A catalog and database shared by the matching and report tests. */
struct fixture {
	struct sbom_catalog catalog;
	struct sbom_distro distro;
	struct osv_db *db;
	struct scan_result result;
};

static void add_package(struct fixture *f, struct sbom_package pkg, const char *location)
{
	struct wd_error err = { 0 };

	pkg.location = location ? strdup(location) : NULL;
	assert_int_equal(sbom_catalog_add(&f->catalog, &pkg, &err), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct wd_error err = { 0 };

	assert_non_null(f);
	f->distro = distro("debian", "12");
	sbom_catalog_init(&f->catalog, 100);
	add_package(f, package(SBOM_TYPE_DEB, "zlib1g", "1:1.2.13.dfsg-1", "zlib", NULL),
		"/var/lib/dpkg/status");
	add_package(f, package(SBOM_TYPE_DEB, "bash", "5.2.15-2+b8", "bash", "5.2.15-2"),
		"/var/lib/dpkg/status");
	add_package(f, package(SBOM_TYPE_DEB, "broken", "1.0-", NULL, NULL),
		"/var/lib/dpkg/status");
	add_package(f, package(SBOM_TYPE_PYTHON, "PyYAML", "5.3", NULL, NULL), NULL);
	sbom_catalog_sort(&f->catalog);
	assert_int_equal(osv_db_new(&f->db, &err), 0);

	/* Two entries of one record match zlib: one match. */
	add_record(f->db, "debian/DSA-1.json",
		"{\"id\": \"DSA-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"aliases\": "
		"[\"CVE-2023-45853\"], \"summary\": \"zlib overflow\", \"severity\": [{\"type\": "
		"\"CVSS_V3\", \"score\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}], "
		"\"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"zlib\"}, "
		"\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, "
		"{\"fixed\": \"1:1.2.13.dfsg-2\"}]}]}, {\"package\": {\"ecosystem\": \"Debian\", "
		"\"name\": \"zlib\"}, \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": "
		"[{\"introduced\": \"0\"}]}]}]}");
	/* Debian 11 only: no match on Debian 12. */
	add_record(f->db, "debian/DSA-2.json",
		"{\"id\": \"DSA-2\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		"\"package\": {\"ecosystem\": \"Debian:11\", \"name\": \"zlib\"}, \"ranges\": [{"
		"\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}]}]}]}");
	/* An affected-level urgency wins over the record's word. */
	add_record(f->db, "debian/DEB-3.json",
		"{\"id\": \"DEB-3\", \"modified\": \"2024-01-01T00:00:00Z\", \"database_specific\": "
		"{\"severity\": \"HIGH\"}, \"affected\": [{\"package\": {\"ecosystem\": "
		"\"Debian:12\", \"name\": \"bash\"}, \"ranges\": [{\"type\": \"ECOSYSTEM\", "
		"\"events\": [{\"introduced\": \"5.2.15-1\"}, {\"last_affected\": \"5.2.15-2\"}]}], "
		"\"ecosystem_specific\": {\"urgency\": \"low\"}}]}");
	add_record(f->db, "debian/DEB-4.json",
		"{\"id\": \"DEB-4\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		"\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"broken\"}, \"ranges\": [{"
		"\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}]}]}]}");
	add_record(f->db, "pypi/PYSEC-5.json",
		"{\"id\": \"PYSEC-5\", \"modified\": \"2024-01-01T00:00:00Z\", \"aliases\": "
		"[\"GHSA-aaaa\"], \"affected\": [{\"package\": {\"ecosystem\": \"PyPI\", "
		"\"name\": \"pyyaml\"}, \"versions\": [\"5.3\"], \"ranges\": [{\"type\": "
		"\"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"5.4\"}]}]}]}");
	assert_int_equal(scan_catalog(&f->catalog, &f->distro, f->db, &f->result, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	scan_result_free(&f->result);
	osv_db_free(f->db);
	sbom_catalog_free(&f->catalog);
	free(f);
	return 0;
}

static void catalog_matches_exact(void **state)
{
	struct fixture *f = *state;
	const struct scan_match *m = f->result.matches;

	assert_int_equal(f->result.count, 3);
	assert_int_equal(f->result.packages, 4);
	assert_int_equal(f->result.packages_queried, 4);

	/* Sorted by package name: PyYAML, bash, zlib1g. */
	assert_string_equal(m[0].package->name, "PyYAML");
	assert_string_equal(m[0].record->id, "PYSEC-5");
	assert_true(m[0].by_versions);
	assert_string_equal(m[0].fixed, "5.4");
	assert_int_equal(m[0].severity.rating, OSV_RATING_UNKNOWN);
	assert_string_equal(m[0].ecosystem, "PyPI");

	assert_string_equal(m[1].package->name, "bash");
	assert_string_equal(m[1].record->id, "DEB-3");
	assert_null(m[1].fixed);
	assert_string_equal(m[1].matched_name, "bash");
	assert_string_equal(m[1].matched_version, "5.2.15-2");
	assert_int_equal(m[1].severity.rating, OSV_RATING_LOW);

	assert_string_equal(m[2].package->name, "zlib1g");
	assert_string_equal(m[2].record->id, "DSA-1");
	assert_string_equal(m[2].matched_name, "zlib");
	assert_string_equal(m[2].fixed, "1:1.2.13.dfsg-2");
	assert_string_equal(m[2].affected->ecosystem, "Debian:12");
	assert_int_equal(m[2].severity.rating, OSV_RATING_CRITICAL);
	assert_int_equal(m[2].severity.score, 98);

	/* The package whose version dpkg rejects is reported, not matched. */
	assert_int_equal(f->result.warning_count, 1);
	assert_string_equal(f->result.warnings[0],
		"broken 1.0- (deb): invalid dpkg version \"1.0-\": empty revision; it was not "
		"matched against DEB-4 and later records");
}

static void fail_on_thresholds(void **state)
{
	struct fixture *f = *state;

	assert_true(scan_result_fails(&f->result, OSV_RATING_CRITICAL));
	assert_true(scan_result_fails(&f->result, OSV_RATING_NEGLIGIBLE));
	/* With zlib's match ignored, only bash's low one is left. */
	f->result.matches[2].ignored_by = (const struct scan_ignore_rule *)1;
	assert_false(scan_result_fails(&f->result, OSV_RATING_MEDIUM));
	assert_true(scan_result_fails(&f->result, OSV_RATING_LOW));
	f->result.matches[2].ignored_by = NULL;
}

static void ignore_file_parses(void **state)
{
	const char *text =
		"{\"ignore\": [\n"
		"  {\"id\": \"CVE-2023-45853\", \"package\": \"zlib\", \"reason\": \"not reachable\",\n"
		"   \"expires\": \"2025-01-16\"},\n"
		"  {\"id\": \"DEB-3\", \"reason\": \"accepted\", \"expires\": \"2025-01-15\"}\n"
		"]}";
	struct scan_ignore ignore;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(scan_ignore_parse(text, strlen(text), NOW, &ignore, &err), 0);
	assert_int_equal(ignore.count, 2);
	assert_string_equal(ignore.rules[0].id, "CVE-2023-45853");
	assert_string_equal(ignore.rules[0].package, "zlib");
	assert_string_equal(ignore.rules[0].reason, "not reachable");
	assert_string_equal(ignore.rules[0].expires, "2025-01-16");
	assert_int_equal(ignore.rules[0].expires_at, 1736985600);
	assert_false(ignore.rules[0].expired);
	/* It expired at 00:00 UTC on its date, twelve hours before NOW. */
	assert_null(ignore.rules[1].package);
	assert_int_equal(ignore.rules[1].expires_at, 1736899200);
	assert_true(ignore.rules[1].expired);
	assert_int_equal(ignore.rules[1].index, 1);
	scan_ignore_free(&ignore);

	/* The same file one second before the second rule expires. */
	assert_int_equal(scan_ignore_parse(text, strlen(text), 1736899199, &ignore, &err), 0);
	assert_false(ignore.rules[1].expired);
	scan_ignore_free(&ignore);
}

static void ignore_file_errors(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "[]", "expected a JSON object with an \"ignore\" array" },
		{ "{\"ignores\": []}", "unknown key \"ignores\"; expected \"ignore\"" },
		{ "{}", "ignore: expected an array of rules" },
		{ "{\"ignore\": [1]}", "ignore[0]: expected an object" },
		{ "{\"ignore\": [{\"id\": \"X\", \"expires\": \"2025-01-01\"}]}",
		  "ignore[0].reason: missing" },
		{ "{\"ignore\": [{\"id\": \"X\", \"reason\": \"\", \"expires\": \"2025-01-01\"}]}",
		  "ignore[0].reason: empty" },
		{ "{\"ignore\": [{\"id\": \"X\", \"reason\": \"r\"}]}", "ignore[0].expires: missing" },
		{ "{\"ignore\": [{\"id\": \"X\", \"reason\": \"r\", \"expire\": \"2025-01-01\"}]}",
		  "ignore[0]: unknown key \"expire\"; expected id, package, reason or expires" },
		{ "{\"ignore\": [{\"id\": \"X\", \"reason\": \"r\", \"expires\": \"2025-02-30\"}]}",
		  "ignore[0].expires: invalid date \"2025-02-30\"; expected YYYY-MM-DD" },
		{ "{\"ignore\": [{\"id\": \"X\", \"reason\": \"r\", \"expires\": \"2025-1-01\"}]}",
		  "ignore[0].expires: invalid date \"2025-1-01\"; expected YYYY-MM-DD" },
		{ "{\"ignore\": [{\"id\": 5, \"reason\": \"r\", \"expires\": \"2025-01-01\"}]}",
		  "ignore[0].id: expected a string" },
		{ "{\"ignore\": [], \"ignore\": []}",
		  "invalid JSON at line 1 column 23: duplicate object key near '\"ignore\"'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scan_ignore ignore = { 0 };
		struct wd_error err = { 0 };

		assert_int_equal(scan_ignore_parse(cases[i].text, strlen(cases[i].text), NOW, &ignore,
			&err), WD_EINVAL);
		if (strcmp(err.detail, cases[i].message))
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err.detail,
				cases[i].message);
		assert_int_equal(ignore.count, 0);
	}
}

static void ignore_rules_apply(void **state)
{
	struct fixture *f = *state;
	const char *text =
		"{\"ignore\": [\n"
		"  {\"id\": \"CVE-2023-45853\", \"package\": \"zlib\", \"reason\": \"r\",\n"
		"   \"expires\": \"2025-02-01\"},\n"
		"  {\"id\": \"DEB-3\", \"reason\": \"r\", \"expires\": \"2025-01-01\"},\n"
		"  {\"id\": \"GHSA-aaaa\", \"package\": \"other\", \"reason\": \"r\",\n"
		"   \"expires\": \"2026-01-01\"}\n"
		"]}";
	struct scan_ignore ignore;
	struct wd_error err = { 0 };

	assert_int_equal(scan_ignore_parse(text, strlen(text), NOW, &ignore, &err), 0);
	scan_ignore_apply(&ignore, &f->result);
	/* PyYAML: the alias matches, the package does not. */
	assert_null(f->result.matches[0].ignored_by);
	assert_null(f->result.matches[0].expired_rule);
	/* bash: only an expired rule covers it. */
	assert_null(f->result.matches[1].ignored_by);
	assert_ptr_equal(f->result.matches[1].expired_rule, &ignore.rules[1]);
	/* zlib1g: ignored through the alias and the source package name. */
	assert_ptr_equal(f->result.matches[2].ignored_by, &ignore.rules[0]);
	assert_false(scan_result_fails(&f->result, OSV_RATING_MEDIUM));
	for (size_t i = 0; i < f->result.count; i++) {
		f->result.matches[i].ignored_by = NULL;
		f->result.matches[i].expired_rule = NULL;
	}
	scan_ignore_free(&ignore);
}

static void table_report_exact(void **state)
{
	struct fixture *f = *state;
	struct scan_result empty = { 0 };
	struct wd_error err = { 0 };
	char *text = NULL;

	assert_int_equal(scan_table_write(&f->result, &text, &err), 0);
	assert_string_equal(text,
		"NAME    INSTALLED        FIXED-IN         TYPE    VULNERABILITY  SEVERITY\n"
		"PyYAML  5.3              5.4              python  PYSEC-5        unknown\n"
		"bash    5.2.15-2+b8                       deb     DEB-3          low\n"
		"zlib1g  1:1.2.13.dfsg-1  1:1.2.13.dfsg-2  deb     DSA-1          critical\n");
	free(text);

	assert_int_equal(scan_table_write(&empty, &text, &err), 0);
	assert_string_equal(text, "No vulnerabilities found\n");
	free(text);
}

static void json_report_fields(void **state)
{
	struct fixture *f = *state;
	struct scan_report report = {
		.target = "rootfs", .target_kind = "directory", .distro = &f->distro,
		.db_path = "db", .db = f->db, .tool_version = "9.9.9",
	};
	struct wd_error err = { 0 };
	char *text = NULL;
	json_t *root, *match, *vuln;

	assert_int_equal(scan_json_write(&f->result, &report, &text, &err), 0);
	root = json_loads(text, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "matches")), 3);
	assert_int_equal(json_array_size(json_object_get(root, "ignored")), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "tool"),
		"version")), "9.9.9");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "database"),
		"records")), 5);
	match = json_array_get(json_object_get(root, "matches"), 2);
	vuln = json_object_get(match, "vulnerability");
	assert_string_equal(json_string_value(json_object_get(vuln, "id")), "DSA-1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(vuln, "aliases"), 0)),
		"CVE-2023-45853");
	assert_string_equal(json_string_value(json_object_get(vuln, "severity")), "critical");
	assert_true(json_real_value(json_object_get(vuln, "cvss_score")) == 9.8);
	assert_string_equal(json_string_value(json_object_get(vuln, "source")), "debian/DSA-1.json");
	assert_string_equal(json_string_value(json_object_get(match, "fixed_version")),
		"1:1.2.13.dfsg-2");
	assert_string_equal(json_string_value(json_object_get(json_object_get(match, "matched"),
		"name")), "zlib");
	/* Numbers are printed short: 9.8, not 9.8000000000000007. */
	assert_non_null(strstr(text, "\"cvss_score\": 9.8,"));
	json_decref(root);
	free(text);
}

static void sarif_report_structure(void **state)
{
	struct fixture *f = *state;
	struct scan_report report = {
		.target = "rootfs", .target_kind = "directory", .distro = &f->distro,
		.db_path = "db", .db = f->db, .tool_version = "9.9.9",
	};
	struct wd_error err = { 0 };
	char *text = NULL;
	json_t *root, *run, *rules, *result, *location;

	assert_int_equal(scan_sarif_write(&f->result, &report, &text, &err), 0);
	root = json_loads(text, 0, NULL);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "version")), "2.1.0");
	run = json_array_get(json_object_get(root, "runs"), 0);
	rules = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
	assert_int_equal(json_array_size(rules), 3);
	/* Rules sorted by id. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 0), "id")),
		"DEB-3");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(rules, 1), "properties"), "security-severity")), "9.8");
	result = json_array_get(json_object_get(run, "results"), 2);
	assert_string_equal(json_string_value(json_object_get(result, "ruleId")), "DSA-1");
	assert_int_equal(json_integer_value(json_object_get(result, "ruleIndex")), 1);
	assert_string_equal(json_string_value(json_object_get(result, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(json_object_get(result, "message"),
		"text")), "zlib1g 1:1.2.13.dfsg-1 (deb) is affected by DSA-1 (critical); fixed in "
			  "1:1.2.13.dfsg-2.");
	location = json_array_get(json_object_get(result, "locations"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
		location, "physicalLocation"), "artifactLocation"), "uri")), "var/lib/dpkg/status");
	/* PyYAML has no location: the target stands in. */
	result = json_array_get(json_object_get(run, "results"), 0);
	location = json_array_get(json_object_get(result, "locations"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
		location, "physicalLocation"), "artifactLocation"), "uri")), "rootfs");
	assert_string_equal(json_string_value(json_object_get(result, "level")), "warning");
	json_decref(root);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(queries_debian_use_source),
		cmocka_unit_test(queries_ubuntu_alpine),
		cmocka_unit_test(queries_rpm_by_distro),
		cmocka_unit_test(queries_language_packages),
		cmocka_unit_test(ignore_file_parses),
		cmocka_unit_test(ignore_file_errors),
		cmocka_unit_test_setup_teardown(catalog_matches_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(fail_on_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(ignore_rules_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(table_report_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(json_report_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(sarif_report_structure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
