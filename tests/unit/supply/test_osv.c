/* Unit tests of the OSV loader: the JSON tokenizer, the fields of a record
 * with their exact values, the errors that name the bad field, the id
 * table, the index and the directory walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "supply/osv.h"
#include "supply/osv_internal.h"

static struct osv_db *new_db(void)
{
	struct osv_db *db = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(osv_db_new(&db, &err), 0);
	return db;
}

static void add_ok(struct osv_db *db, const char *path, const char *text)
{
	struct wd_error err = { 0 };
	int rc = osv_db_add(db, path, text, strlen(text), &err);

	if (rc != 0)
		fail_msg("%s: %s", path, err.detail);
}

/* Adds text, which must be rejected, and returns the error detail. */
static const char *add_bad(struct osv_db *db, const char *text, struct wd_error *err)
{
	*err = (struct wd_error){ 0 };
	assert_int_equal(osv_db_add(db, "bad.json", text, strlen(text), err), WD_EINVAL);
	return err->detail;
}

static const char full_record[] =
	"{\n"
	"  \"schema_version\": \"1.6.0\",\n"
	"  \"id\": \"GHSA-xxxx-0001\",\n"
	"  \"modified\": \"2024-03-01T10:00:00Z\",\n"
	"  \"published\": \"2024-02-01T00:00:00Z\",\n"
	"  \"aliases\": [\"CVE-2024-0001\", \"PYSEC-2024-1\"],\n"
	"  \"summary\": \"Caf\\u00e9 overflow \\ud83d\\ude00 in \\\"parse\\\"\",\n"
	"  \"details\": \"long text\",\n"
	"  \"severity\": [\n"
	"    {\"type\": \"CVSS_V2\", \"score\": \"AV:N/AC:L/Au:N/C:P/I:P/A:P\"},\n"
	"    {\"type\": \"CVSS_V3\", \"score\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\"}\n"
	"  ],\n"
	"  \"affected\": [\n"
	"    {\n"
	"      \"package\": {\"ecosystem\": \"PyPI\", \"name\": \"Django_Utils\",\n"
	"                  \"purl\": \"pkg:pypi/django-utils\"},\n"
	"      \"ranges\": [\n"
	"        {\"type\": \"GIT\", \"repo\": \"https://example.org/r.git\",\n"
	"         \"events\": [{\"introduced\": \"abc\"}]},\n"
	"        {\"type\": \"ECOSYSTEM\", \"events\": [\n"
	"          {\"fixed\": \"2.0.1\"}, {\"introduced\": \"2.0\"},\n"
	"          {\"introduced\": \"0\"}, {\"fixed\": \"1.4\"}]}\n"
	"      ],\n"
	"      \"versions\": [\"1.0\", \"1.3\", \"2.0\"],\n"
	"      \"database_specific\": {\"severity\": \"LOW\"},\n"
	"      \"ecosystem_specific\": {\"affected_functions\": [\"x.y\"]}\n"
	"    },\n"
	"    {\n"
	"      \"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"python-django-utils\"},\n"
	"      \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"},\n"
	"                   {\"last_affected\": \"1.2-3\"}, {\"limit\": \"*\"}]}],\n"
	"      \"ecosystem_specific\": {\"urgency\": \"unimportant\"}\n"
	"    },\n"
	"    {\"package\": {\"ecosystem\": \"Maven\", \"name\": \"org.example:utils\"},\n"
	"     \"versions\": [\"1.0\"]}\n"
	"  ],\n"
	"  \"database_specific\": {\"severity\": \"HIGH\", \"cwe_ids\": [\"CWE-787\"]},\n"
	"  \"references\": [{\"type\": \"WEB\", \"url\": \"https://example.org\"}]\n"
	"}\n";

static void record_fields_exact(void **state)
{
	struct osv_db *db = new_db();
	const struct osv_affected *a;
	const struct osv_record *r;
	const struct osv_range *range;

	(void)state;
	add_ok(db, "pypi/GHSA-xxxx-0001.json", full_record);
	a = osv_db_lookup(db, "PyPI", "django-utils");
	assert_non_null(a);
	r = a->record;

	assert_string_equal(r->id, "GHSA-xxxx-0001");
	assert_string_equal(r->path, "pypi/GHSA-xxxx-0001.json");
	assert_string_equal(r->modified, "2024-03-01T10:00:00Z");
	assert_string_equal(r->published, "2024-02-01T00:00:00Z");
	assert_null(r->withdrawn);
	assert_string_equal(r->summary, "Caf\xc3\xa9 overflow \xf0\x9f\x98\x80 in \"parse\"");
	assert_int_equal(r->alias_count, 2);
	assert_string_equal(r->aliases[0], "CVE-2024-0001");
	assert_string_equal(r->aliases[1], "PYSEC-2024-1");
	assert_int_equal(r->git_ranges, 1);
	assert_false(r->superseded);

	/* The top level: the CVSS_V3 vector wins over the V2 one before it
	 * and over database_specific. */
	assert_int_equal(r->severity.rating, OSV_RATING_HIGH);
	assert_int_equal(r->severity.score, 75);
	assert_string_equal(r->severity.vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H");
	assert_string_equal(r->severity.origin, "severity CVSS_V3");

	assert_int_equal(r->affected_count, 3);
	assert_ptr_equal(a, &r->affected[0]);
	assert_string_equal(a->ecosystem, "PyPI");
	assert_string_equal(a->release, "");
	assert_string_equal(a->name, "Django_Utils");
	assert_string_equal(a->purl, "pkg:pypi/django-utils");
	assert_true(a->has_scheme);
	assert_int_equal(a->scheme, SUPPLY_ECOSYSTEM_PEP440);
	assert_int_equal(a->version_count, 3);
	assert_string_equal(a->versions[2], "2.0");
	assert_int_equal(a->severity.rating, OSV_RATING_LOW);
	assert_int_equal(a->severity.score, -1);
	assert_string_equal(a->severity.origin, "database_specific.severity");

	/* The GIT range is dropped; the other is sorted by PEP 440 order. */
	assert_int_equal(a->range_count, 1);
	range = &a->ranges[0];
	assert_false(range->semver);
	assert_true(range->usable);
	assert_null(range->problem);
	assert_int_equal(range->scheme, SUPPLY_ECOSYSTEM_PEP440);
	assert_int_equal(range->event_count, 4);
	assert_int_equal(range->events[0].kind, OSV_EVENT_INTRODUCED);
	assert_string_equal(range->events[0].version, "0");
	assert_int_equal(range->events[1].kind, OSV_EVENT_FIXED);
	assert_string_equal(range->events[1].version, "1.4");
	assert_int_equal(range->events[2].kind, OSV_EVENT_INTRODUCED);
	assert_string_equal(range->events[2].version, "2.0");
	assert_int_equal(range->events[3].kind, OSV_EVENT_FIXED);
	assert_string_equal(range->events[3].version, "2.0.1");

	a = &r->affected[1];
	assert_string_equal(a->release, "12");
	assert_int_equal(a->severity.rating, OSV_RATING_NEGLIGIBLE);
	assert_string_equal(a->severity.origin, "ecosystem_specific.urgency");
	assert_int_equal(a->ranges[0].events[2].kind, OSV_EVENT_LIMIT);
	assert_ptr_equal(osv_db_lookup(db, "Debian", "python-django-utils"), a);
	assert_null(osv_db_lookup(db, "Debian:12", "python-django-utils"));

	/* Maven has no known order: kept, counted, not indexed. */
	assert_false(r->affected[2].has_scheme);
	assert_null(osv_db_lookup(db, "Maven", "org.example:utils"));
	assert_int_equal(osv_db_stats(db)->other_ecosystems, 1);
	assert_int_equal(osv_db_stats(db)->records, 1);
	assert_int_equal(osv_db_stats(db)->git_ranges, 1);
	osv_db_free(db);
}

static void pypi_names_normalized(void **state)
{
	char out[64];
	struct osv_db *db = new_db();

	(void)state;
	assert_int_equal(osv_pypi_normalize("Foo.__Bar-baz", out, sizeof(out)), 11);
	assert_string_equal(out, "foo-bar-baz");
	assert_int_equal(osv_pypi_normalize("abc", out, 3), -1);

	add_ok(db, "a.json", full_record);
	assert_non_null(osv_db_lookup(db, "PyPI", "DJANGO.utils"));
	assert_non_null(osv_db_lookup(db, "PyPI", "django__utils"));
	assert_null(osv_db_lookup(db, "PyPI", "djangoutils"));
	assert_null(osv_db_lookup(db, "pypi", "django-utils"));
	osv_db_free(db);
}

static void withdrawn_not_indexed(void **state)
{
	struct osv_db *db = new_db();

	(void)state;
	add_ok(db, "w.json",
		"{\"id\": \"OSV-1\", \"modified\": \"2024-01-01T00:00:00Z\", "
		"\"withdrawn\": \"2024-02-01T00:00:00Z\", \"affected\": [{\"package\": "
		"{\"ecosystem\": \"npm\", \"name\": \"left-pad\"}, \"versions\": [\"1.0.0\"]}]}");
	assert_null(osv_db_lookup(db, "npm", "left-pad"));
	assert_int_equal(osv_db_stats(db)->records, 1);
	assert_int_equal(osv_db_stats(db)->withdrawn, 1);
	osv_db_free(db);
}

static const char *record_with_id(char *buf, size_t size, const char *id, const char *modified,
	const char *version)
{
	snprintf(buf, size,
		"{\"id\": \"%s\", \"modified\": \"%s\", \"affected\": [{\"package\": "
		"{\"ecosystem\": \"npm\", \"name\": \"dup\"}, \"versions\": [\"%s\"]}]}",
		id, modified, version);
	return buf;
}

static void later_modified_wins(void **state)
{
	struct osv_db *db = new_db();
	const struct osv_affected *a;
	char text[512];
	int live = 0;

	(void)state;
	add_ok(db, "b/old.json", record_with_id(text, sizeof(text), "NPM-1",
		"2024-01-01T00:00:00Z", "1.0.0"));
	add_ok(db, "a/new.json", record_with_id(text, sizeof(text), "NPM-1",
		"2024-05-01T00:00:00+02:00", "2.0.0"));
	/* The same time: the path that sorts first wins, whatever the order
	 * of loading. */
	add_ok(db, "c/same.json", record_with_id(text, sizeof(text), "NPM-1",
		"2024-04-30T22:00:00Z", "3.0.0"));
	assert_int_equal(osv_db_stats(db)->superseded, 2);

	for (a = osv_db_lookup(db, "npm", "dup"); a; a = a->next) {
		if (a->record->superseded)
			continue;
		live++;
		assert_string_equal(a->versions[0], "2.0.0");
		assert_string_equal(a->record->path, "a/new.json");
	}
	assert_int_equal(live, 1);
	osv_db_free(db);
}

struct bad_case {
	const char *text;
	const char *message;
};

static void invalid_records_name_field(void **state)
{
	static const struct bad_case cases[] = {
		{ "[1]", "bad.json: expected a JSON object" },
		{ "{\"id\": 1}", "bad.json: id: expected a string" },
		{ "{\"modified\": \"2024-01-01T00:00:00Z\"}", "bad.json: id: missing" },
		{ "{\"id\": \"\", \"modified\": \"2024-01-01T00:00:00Z\"}", "bad.json: id: empty" },
		{ "{\"id\": \"A\\u0007B\", \"modified\": \"2024-01-01T00:00:00Z\"}",
		  "bad.json: id: control character" },
		{ "{\"id\": \"X\"}", "bad.json: modified: missing" },
		{ "{\"id\": \"X\", \"modified\": \"yesterday\"}",
		  "bad.json: modified: invalid RFC 3339 time \"yesterday\"" },
		{ "{\"id\": \"X\", \"id\": \"Y\", \"modified\": \"2024-01-01T00:00:00Z\"}",
		  "bad.json: id: duplicate key" },
		{ "{\"schema_version\": \"2.0.0\", \"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\"}",
		  "bad.json: schema_version: unsupported version \"2.0.0\"; expected 1.x" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"aliases\": [\"A\", 2]}",
		  "bad.json: aliases[1]: expected a string" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": {}}",
		  "bad.json: affected: expected an array" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{}, "
		  "{\"package\": {\"ecosystem\": \"npm\"}}]}",
		  "bad.json: affected[1].package.name: missing" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		  "\"package\": {\"ecosystem\": \"npm\", \"name\": \"a\"}, \"ranges\": [{\"type\": "
		  "\"SEMVER\", \"events\": [{\"introduced\": \"0\"}, {\"introduced\": \"1.0.0\", "
		  "\"fixed\": \"1.0.2\"}]}]}]}",
		  "bad.json: affected[0].ranges[0].events[1]: expected an object with one of "
		  "introduced, fixed, last_affected or limit" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		  "\"ranges\": [{\"type\": \"SEMVER\", \"events\": [{\"fixed\": \"1.0.0\"}]}]}]}",
		  "bad.json: affected[0].ranges[0].events: no introduced event" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		  "\"ranges\": [{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"0\"}, "
		  "{\"patched\": \"1.0.0\"}]}]}]}",
		  "bad.json: affected[0].ranges[0].events[1]: unknown event; expected introduced, "
		  "fixed, last_affected or limit" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		  "\"ranges\": [{\"type\": \"DATE\", \"events\": []}]}]}",
		  "bad.json: affected[0].ranges[0].type: unknown range type \"DATE\"; expected "
		  "ECOSYSTEM, SEMVER or GIT" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		  "\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": []}]}]}",
		  "bad.json: affected[0].ranges[0].events: expected a non-empty array" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		  "\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"\"}]}]}]}",
		  "bad.json: affected[0].ranges[0].events[0].introduced: empty version" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"severity\": [{"
		  "\"type\": \"CVSS_V3\"}]}", "bad.json: severity[0].score: missing" },
		{ "{\"id\": \"X\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		  "\"ecosystem_specific\": []}]}",
		  "bad.json: affected[0].ecosystem_specific: expected an object" },
		{ "{\"id\": \"X\",\n \"modified\": tru}",
		  "bad.json: invalid JSON at line 2 column 14: unexpected character" },
		{ "{\"id\": \"X\", }", "bad.json: invalid JSON at line 1 column 13: expected a string "
				    "key" },
	};
	struct osv_db *db = new_db();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wd_error err;
		const char *message = add_bad(db, cases[i].text, &err);

		if (strcmp(message, cases[i].message))
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, message, cases[i].message);
	}
	assert_int_equal(osv_db_stats(db)->records, 0);
	osv_db_free(db);
}

static void bad_range_version_dropped(void **state)
{
	struct osv_db *db = new_db();
	const struct osv_affected *a;

	(void)state;
	add_ok(db, "r.json",
		"{\"id\": \"DEB-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{"
		"\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"zlib\"}, \"ranges\": ["
		"{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"1.0-\"}]},"
		"{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"2.0\"}]}]}]}");
	a = osv_db_lookup(db, "Debian", "zlib");
	assert_non_null(a);
	assert_int_equal(a->range_count, 2);
	assert_false(a->ranges[0].usable);
	assert_string_equal(a->ranges[0].problem,
		"affected[0].ranges[0].events[1].fixed: invalid dpkg version \"1.0-\": empty "
		"revision");
	assert_true(a->ranges[1].usable);
	assert_int_equal(osv_db_stats(db)->unusable_ranges, 1);
	assert_int_equal(osv_db_problem_total(db), 1);
	assert_string_equal(osv_db_problem(db, 0)->path, "r.json");
	assert_false(osv_db_problem(db, 0)->skipped);
	osv_db_free(db);
}

/* The tokenizer alone: valid documents and the reason for invalid ones. */
static void json_tokenizer_cases(void **state)
{
	static const struct bad_case bad[] = {
		{ "", "invalid JSON at line 1 column 1: unexpected end of input" },
		{ "{\"a\": 01}", "invalid JSON at line 1 column 7: invalid number" },
		{ "{\"a\": 1.}", "invalid JSON at line 1 column 7: invalid number" },
		{ "{\"a\": -}", "invalid JSON at line 1 column 7: invalid number" },
		{ "{\"a\": \"\\x\"}", "invalid JSON at line 1 column 8: invalid escape in string" },
		{ "{\"a\": \"\\u12G4\"}", "invalid JSON at line 1 column 8: invalid \\u escape in "
					"string" },
		{ "{\"a\": \"\\u0000\"}", "invalid JSON at line 1 column 8: escaped NUL in string" },
		{ "{\"a\": \"\\ud800\"}", "invalid JSON at line 1 column 8: unpaired surrogate in "
					"string" },
		{ "{\"a\": \"\\udc00\"}", "invalid JSON at line 1 column 8: unpaired surrogate in "
					"string" },
		{ "{\"a\": \"\t\"}", "invalid JSON at line 1 column 8: control character in string" },
		{ "{\"a\": \"\xc0\xaf\"}", "invalid JSON at line 1 column 8: invalid UTF-8 in string" },
		{ "{\"a\": \"\xed\xa0\x80\"}", "invalid JSON at line 1 column 8: invalid UTF-8 in "
					     "string" },
		{ "{\"a\": \"abc", "invalid JSON at line 1 column 7: unterminated string" },
		{ "[1, 2", "invalid JSON at line 1 column 1: unterminated array" },
		{ "[1 2]", "invalid JSON at line 1 column 4: expected ',' or ']'" },
		{ "{\"a\" 1}", "invalid JSON at line 1 column 6: expected ':'" },
		{ "{} {}", "invalid JSON at line 1 column 4: text after the JSON value" },
		{ "[[[[1]]]]", "invalid JSON at line 1 column 4: nesting too deep" },
		{ "nul", "invalid JSON at line 1 column 1: unexpected character" },
	};
	struct osv_json json;
	struct osv_arena arena;
	struct wd_error err = { 0 };
	uint32_t value = 0;
	const char *good = " {\"k\\u0065y\": [true, false, null, -1.5e+3, \"x\\n\\/\"], \"e\": {}} ";
	char *text;

	(void)state;
	osv_json_init(&json, 100, 3);
	osv_arena_init(&arena, 1 << 20);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = (struct wd_error){ 0 };
		assert_int_equal(osv_json_parse(&json, bad[i].text, strlen(bad[i].text), &err),
			WD_EINVAL);
		if (strcmp(err.detail, bad[i].message))
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err.detail,
				bad[i].message);
	}

	assert_int_equal(osv_json_parse(&json, good, strlen(good), &err), 0);
	assert_int_equal(json.count, 10);
	assert_int_equal(json.tokens[0].type, OSV_JSON_OBJECT);
	assert_int_equal(json.tokens[0].count, 2);
	assert_int_equal(json.tokens[0].next, 10);
	/* The key is escaped; lookups compare the decoded text. */
	assert_int_equal(osv_json_member(&json, 0, "key", &value, &err), 1);
	assert_int_equal(value, 2);
	assert_int_equal(json.tokens[2].type, OSV_JSON_ARRAY);
	assert_int_equal(json.tokens[2].count, 5);
	assert_int_equal(json.tokens[2].next, 8);
	assert_int_equal(json.tokens[6].type, OSV_JSON_NUMBER);
	text = osv_json_string_dup(&json, 7, &arena);
	assert_string_equal(text, "x\n/");
	assert_int_equal(osv_json_member(&json, 0, "missing", &value, &err), 0);

	/* A ceiling on the values. */
	osv_json_free(&json);
	osv_json_init(&json, 3, 10);
	assert_int_equal(osv_json_parse(&json, "[1, 2, 3]", 9, &err), WD_ETOOBIG);
	osv_json_free(&json);
	osv_arena_free(&arena);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void load_dir_walks_tree(void **state)
{
	char dir[] = "/tmp/wd-osv-test-XXXXXX";
	char path[512], text[512];
	struct osv_db *db = new_db();
	struct wd_error err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/npm", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/npm/deep", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.git", dir);
	assert_int_equal(mkdir(path, 0755), 0);

	snprintf(path, sizeof(path), "%s/npm/deep/NPM-2.json", dir);
	write_file(path, record_with_id(text, sizeof(text), "NPM-2", "2024-01-01T00:00:00Z",
		"1.0.0"));
	snprintf(path, sizeof(path), "%s/NPM-3.json", dir);
	write_file(path, record_with_id(text, sizeof(text), "NPM-3", "2024-01-01T00:00:00Z",
		"1.0.0"));
	snprintf(path, sizeof(path), "%s/.git/NPM-4.json", dir);
	write_file(path, record_with_id(text, sizeof(text), "NPM-4", "2024-01-01T00:00:00Z",
		"1.0.0"));
	snprintf(path, sizeof(path), "%s/README.md", dir);
	write_file(path, "not a record");
	snprintf(path, sizeof(path), "%s/npm/broken.json", dir);
	write_file(path, "{\"id\": \"B\"");
	snprintf(path, sizeof(path), "%s/npm/link.json", dir);
	assert_int_equal(symlink("deep/NPM-2.json", path), 0);
	snprintf(path, sizeof(path), "%s/npm/loop", dir);
	assert_int_equal(symlink("..", path), 0);

	assert_int_equal(osv_db_load_dir(db, dir, &err), 0);
	/* NPM-2 through the link is a second copy of the same id. */
	assert_int_equal(osv_db_stats(db)->files, 4);
	assert_int_equal(osv_db_stats(db)->records, 3);
	assert_int_equal(osv_db_stats(db)->superseded, 1);
	assert_int_equal(osv_db_stats(db)->skipped, 1);
	assert_int_equal(osv_db_problem_count(db), 1);
	assert_string_equal(osv_db_problem(db, 0)->path, "npm/broken.json");
	assert_string_equal(osv_db_problem(db, 0)->message,
		"invalid JSON at line 1 column 1: unterminated object");
	assert_true(osv_db_problem(db, 0)->skipped);
	osv_db_free(db);

	db = new_db();
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(osv_db_load_dir(db, path, &err), WD_ENOTFOUND);
	osv_db_free(db);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record_fields_exact),
		cmocka_unit_test(pypi_names_normalized),
		cmocka_unit_test(withdrawn_not_indexed),
		cmocka_unit_test(later_modified_wins),
		cmocka_unit_test(invalid_records_name_field),
		cmocka_unit_test(bad_range_version_dropped),
		cmocka_unit_test(json_tokenizer_cases),
		cmocka_unit_test(load_dir_walks_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
