/* Unit tests of the npm lock file and package.json parsers, and of the
 * cataloger's rule that a lock file covers the node_modules beside it. */
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

#include "supply/catalog_lang.h"

static const char lock_v1[] =
	"{\"name\": \"app\", \"version\": \"1.0.0\", \"lockfileVersion\": 1,\n"
	" \"dependencies\": {\n"
	"  \"@babel/code-frame\": {\"version\": \"7.22.13\", \"dev\": true},\n"
	"  \"debug\": {\"version\": \"4.3.4\", \"requires\": {\"ms\": \"2.1.2\"},\n"
	"    \"dependencies\": {\"ms\": {\"version\": \"2.1.2\"}}},\n"
	"  \"send\": {\"version\": \"0.18.0\",\n"
	"    \"dependencies\": {\"ms\": {\"version\": \"2.1.2\"},\n"
	"                     \"debug\": {\"version\": \"2.6.9\"}}},\n"
	"  \"my-lodash\": {\"version\": \"npm:lodash@4.17.21\"}\n"
	" }}\n";

static const char lock_v3[] =
	"{\"name\": \"app\", \"version\": \"1.0.0\", \"lockfileVersion\": 3, \"requires\": true,\n"
	" \"packages\": {\n"
	"  \"\": {\"name\": \"app\", \"version\": \"1.0.0\", \"license\": \"ISC\",\n"
	"         \"workspaces\": [\"packages/*\"]},\n"
	"  \"node_modules/@types/node\": {\"version\": \"20.8.10\", \"license\": \"MIT\"},\n"
	"  \"node_modules/express\": {\"version\": \"4.18.2\", \"license\": \"MIT\"},\n"
	"  \"node_modules/express/node_modules/debug\": {\"version\": \"2.6.9\"},\n"
	"  \"node_modules/send/node_modules/debug\": {\"version\": \"2.6.9\"},\n"
	"  \"node_modules/string-width-cjs\": {\"name\": \"string-width\", \"version\": \"4.2.3\"},\n"
	"  \"node_modules/tools\": {\"resolved\": \"packages/tools\", \"link\": true},\n"
	"  \"packages/tools\": {\"name\": \"@app/tools\", \"version\": \"0.1.0\"},\n"
	"  \"packages/unnamed\": {\"version\": \"0.0.1\"},\n"
	"  \"node_modules/fsevents\": {\"optional\": true}\n"
	" }}\n";

static const struct sbom_package *find(const struct sbom_catalog *catalog, const char *name,
	const char *version)
{
	for (size_t i = 0; i < catalog->count; i++) {
		if (strcmp(catalog->packages[i].name, name) == 0 &&
		    strcmp(catalog->packages[i].version, version) == 0)
			return &catalog->packages[i];
	}
	fail_msg("package %s@%s not found", name, version);
	return NULL;
}

static void lock_v1_walks_tree(void **state)
{
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	const struct sbom_package *pkg;

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(npm_lock_parse(lock_v1, strlen(lock_v1), "/app/package-lock.json",
		&catalog, &err), 0);

	/* ms@2.1.2 is nested twice but listed once. */
	assert_int_equal(catalog.count, 6);
	pkg = find(&catalog, "@babel/code-frame", "7.22.13");
	assert_int_equal(pkg->type, SBOM_TYPE_NPM);
	assert_string_equal(pkg->purl, "pkg:npm/%40babel/code-frame@7.22.13");
	assert_string_equal(pkg->location, "/app/package-lock.json");
	assert_string_equal(find(&catalog, "ms", "2.1.2")->purl, "pkg:npm/ms@2.1.2");
	find(&catalog, "debug", "4.3.4");
	find(&catalog, "debug", "2.6.9");
	find(&catalog, "send", "0.18.0");

	/* An alias is listed under the package it installs. */
	assert_string_equal(find(&catalog, "lodash", "4.17.21")->purl, "pkg:npm/lodash@4.17.21");
	sbom_catalog_free(&catalog);
}

static void lock_v3_reads_packages(void **state)
{
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	const struct sbom_package *pkg;

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(npm_lock_parse(lock_v3, strlen(lock_v3), "/package-lock.json", &catalog,
		&err), 0);
	/* debug@2.6.9 is installed twice but listed once; the unnamed
	 * workspace folder has no package name. */
	assert_int_equal(catalog.count, 6);

	pkg = find(&catalog, "app", "1.0.0");
	assert_string_equal(pkg->license, "ISC");
	pkg = find(&catalog, "@types/node", "20.8.10");
	assert_string_equal(pkg->purl, "pkg:npm/%40types/node@20.8.10");
	assert_string_equal(pkg->license, "MIT");
	assert_null(find(&catalog, "debug", "2.6.9")->license);
	find(&catalog, "express", "4.18.2");
	find(&catalog, "string-width", "4.2.3");
	find(&catalog, "@app/tools", "0.1.0");
	sbom_catalog_free(&catalog);
}

static void lock_v2_prefers_packages(void **state)
{
	static const char text[] =
		"{\"lockfileVersion\": 2,\n"
		" \"packages\": {\"node_modules/a\": {\"version\": \"2.0.0\"}},\n"
		" \"dependencies\": {\"a\": {\"version\": \"2.0.0\"}, \"b\": {\"version\": \"1\"}}}";
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(npm_lock_parse(text, strlen(text), "/l", &catalog, &err), 0);
	assert_int_equal(catalog.count, 1);
	assert_string_equal(catalog.packages[0].purl, "pkg:npm/a@2.0.0");
	sbom_catalog_free(&catalog);
}

static void lock_rejects_malformed(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *detail;
	} cases[] = {
		{ "{\"lockfileVersion\": 3, \"packages\": {", WD_EINVAL,
		  "invalid JSON at line 1 column 36: string or '}' expected near end of file" },
		{ "[1, 2]", WD_EINVAL, "expected a JSON object" },
		{ "{\"packages\": {}}", WD_EINVAL, "missing lockfileVersion" },
		{ "{\"lockfileVersion\": \"3\"}", WD_EINVAL, "lockfileVersion is not an integer" },
		{ "{\"lockfileVersion\": 4}", WD_EUNSUPPORTED,
		  "unsupported lockfileVersion 4: expected 1, 2 or 3" },
		{ "{\"lockfileVersion\": 3, \"packages\": []}", WD_EINVAL,
		  "\"packages\" is not an object" },
		{ "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/a\": 1}}", WD_EINVAL,
		  "package \"node_modules/a\" is not an object" },
		{ "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/a\": {\"version\": 1}}}",
		  WD_EINVAL, "\"name\" or \"version\" of package \"node_modules/a\" is not a string" },
		{ "{\"lockfileVersion\": 1, \"dependencies\": {\"a\": {\"version\": true}}}",
		  WD_EINVAL, "\"version\" of dependency \"a\" is not a string" },
		{ "{\"lockfileVersion\": 1, \"dependencies\": {\"a\": []}}", WD_EINVAL,
		  "dependency \"a\" is not an object" },
		{ "{\"lockfileVersion\": 1, \"lockfileVersion\": 1}", WD_EINVAL,
		  "invalid JSON at line 1 column 40: duplicate object key near '\"lockfileVersion\"'" },
		{ "{\"lockfileVersion\": 1, \"dependencies\": {\"ok\": {\"version\": \"1\"},"
		  " \"bad\": 7}}", WD_EINVAL, "dependency \"bad\" is not an object" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbom_catalog catalog;
		struct wd_error err = { 0 };

		sbom_catalog_init(&catalog, 100);
		assert_int_equal(npm_lock_parse(cases[i].text, strlen(cases[i].text), "/l", &catalog,
			&err), cases[i].code);
		assert_string_equal(err.detail, cases[i].detail);
		/* A failed parse adds nothing. */
		assert_int_equal(catalog.count, 0);
		sbom_catalog_free(&catalog);
	}
}

static void lock_bounds_nesting(void **state)
{
	size_t depth = SBOM_MAX_NPM_DEPTH + 2, len = 0, size = depth * 48 + 64;
	char *text = malloc(size);
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	assert_non_null(text);
	len += (size_t)snprintf(text + len, size - len, "{\"lockfileVersion\": 1, \"dependencies\": ");
	for (size_t i = 0; i < depth; i++)
		len += (size_t)snprintf(text + len, size - len,
			"{\"d\": {\"version\": \"1\", \"dependencies\": ");
	len += (size_t)snprintf(text + len, size - len, "{}");
	for (size_t i = 0; i < depth; i++)
		len += (size_t)snprintf(text + len, size - len, "}}");
	len += (size_t)snprintf(text + len, size - len, "}");

	sbom_catalog_init(&catalog, 1000);
	assert_int_equal(npm_lock_parse(text, len, "/l", &catalog, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, "dependencies nested deeper than 256 levels");
	assert_int_equal(catalog.count, 0);
	sbom_catalog_free(&catalog);
	free(text);
}

static void package_json_parses(void **state)
{
	static const struct {
		const char *text;
		const char *name, *version, *license, *author, *purl;
	} cases[] = {
		{ "{\"name\": \"@scope/pkg\", \"version\": \"1.2.3\", \"license\": \"Apache-2.0\","
		  " \"author\": {\"name\": \"Ann\", \"email\": \"ann@example.com\"}}",
		  "@scope/pkg", "1.2.3", "Apache-2.0", "Ann <ann@example.com>",
		  "pkg:npm/%40scope/pkg@1.2.3" },
		{ "{\"name\": \"old\", \"version\": \"0.1.0\", \"license\": {\"type\": \"MIT\"},"
		  " \"author\": \"Bob <bob@example.com> (https://example.com)\"}",
		  "old", "0.1.0", "MIT", "Bob <bob@example.com> (https://example.com)",
		  "pkg:npm/old@0.1.0" },
		{ "{\"name\": \"older\", \"version\": \"0.0.1\", \"licenses\": [{\"type\": \"MIT\"},"
		  " {\"type\": \"Apache-2.0\"}]}",
		  "older", "0.0.1", "MIT OR Apache-2.0", NULL, "pkg:npm/older@0.0.1" },
		{ "{\"name\": \"JSONStream\", \"version\": \"1.3.5\", \"author\": {\"name\": \"\"}}",
		  "JSONStream", "1.3.5", NULL, NULL, "pkg:npm/JSONStream@1.3.5" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbom_package pkg;
		struct wd_error err = { 0 };

		assert_int_equal(npm_package_json_parse(cases[i].text, strlen(cases[i].text), &pkg,
			&err), 0);
		assert_string_equal(pkg.name, cases[i].name);
		assert_string_equal(pkg.version, cases[i].version);
		assert_string_equal(pkg.purl, cases[i].purl);
		if (cases[i].license)
			assert_string_equal(pkg.license, cases[i].license);
		else
			assert_null(pkg.license);
		if (cases[i].author)
			assert_string_equal(pkg.maintainer, cases[i].author);
		else
			assert_null(pkg.maintainer);
		sbom_package_free(&pkg);
	}
}

static void package_json_rejects_malformed(void **state)
{
	static const struct {
		const char *text;
		const char *detail;
	} cases[] = {
		{ "{\"version\": \"1.0.0\"}", "missing name" },
		{ "{\"name\": \"a\"}", "missing version for a" },
		{ "{\"name\": 5, \"version\": \"1\"}", "\"name\" or \"version\" is not a string" },
		{ "{\"name\": \"@scope/\", \"version\": \"1\"}", "invalid npm package name \"@scope/\"" },
		{ "{\"name\": \"a\\u0001b\", \"version\": \"1\"}", "invalid npm package name \"a\x01" "b\"" },
		{ "\"text\"", "invalid JSON at line 1 column 6: '[' or '{' expected near '\"text\"'" },
		{ "{\"name\": \"a\\u0000\", \"version\": \"1\"}",
		  "invalid JSON at line 1 column 18: \\u0000 is not allowed without JSON_ALLOW_NUL "
		  "near '\"a\\u0000\"'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbom_package pkg;
		struct wd_error err = { 0 };

		assert_int_equal(npm_package_json_parse(cases[i].text, strlen(cases[i].text), &pkg,
			&err), WD_EINVAL);
		assert_string_equal(err.detail, cases[i].detail);
		assert_null(pkg.name);
	}
}

static void make_path(const char *root, const char *path)
{
	char command[1024];

	snprintf(command, sizeof(command), "mkdir -p '%s%s'", root, path);
	assert_int_equal(system(command), 0);
}

static void write_file(const char *root, const char *path, const char *text)
{
	char full[1024];
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	f = fopen(full, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void catalog_dedupes_lock_and_modules(void **state)
{
	char root[] = "/tmp/wd-npm-XXXXXX";
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	char command[256];

	(void)state;
	assert_non_null(mkdtemp(root));

	/* /app has a lock, so its node_modules adds nothing more. */
	make_path(root, "/app/node_modules/express");
	write_file(root, "/app/package-lock.json",
		"{\"lockfileVersion\": 3, \"packages\": {"
		"\"node_modules/express\": {\"version\": \"4.18.2\"}}}");
	write_file(root, "/app/node_modules/express/package.json",
		"{\"name\": \"express\", \"version\": \"4.18.2\"}");
	make_path(root, "/app/node_modules/extra");
	write_file(root, "/app/node_modules/extra/package.json",
		"{\"name\": \"extra\", \"version\": \"9.9.9\"}");

	/* /srv has none: each installed package.json counts, scoped and
	 * nested ones too, but not files inside a package. */
	make_path(root, "/srv/node_modules/@babel/core/lib");
	write_file(root, "/srv/node_modules/@babel/core/package.json",
		"{\"name\": \"@babel/core\", \"version\": \"7.23.2\", \"license\": \"MIT\"}");
	write_file(root, "/srv/node_modules/@babel/core/lib/package.json",
		"{\"type\": \"commonjs\"}");
	make_path(root, "/srv/node_modules/a/node_modules/b");
	write_file(root, "/srv/node_modules/a/package.json",
		"{\"name\": \"a\", \"version\": \"1.0.0\"}");
	write_file(root, "/srv/node_modules/a/node_modules/b/package.json",
		"{\"name\": \"b\", \"version\": \"2.0.0\"}");
	/* A lock inside node_modules is a dependency's own, not what is
	 * installed, and does not cover anything. */
	write_file(root, "/srv/node_modules/a/package-lock.json",
		"{\"lockfileVersion\": 3, \"packages\": {\"node_modules/zzz\": {\"version\": \"1\"}}}");
	make_path(root, "/node_modules");
	write_file(root, "/node_modules/package-lock.json",
		"{\"lockfileVersion\": 3, \"packages\": {\"node_modules/yyy\": {\"version\": \"1\"}}}");
	make_path(root, "/srv/node_modules/.bin");
	write_file(root, "/srv/node_modules/.bin/package.json", "{}");
	make_path(root, "/srv/node_modules/bad");
	write_file(root, "/srv/node_modules/bad/package.json", "{\"name\": \"bad\"");

	/* A malformed lock is a warning and covers nothing. */
	make_path(root, "/web/node_modules/left-pad");
	write_file(root, "/web/package-lock.json", "{\"lockfileVersion\": 9}");
	write_file(root, "/web/node_modules/left-pad/package.json",
		"{\"name\": \"left-pad\", \"version\": \"1.3.0\"}");

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(npm_catalog_root(root, &catalog, &err), 0);
	sbom_catalog_sort(&catalog);
	assert_int_equal(catalog.count, 5);
	assert_string_equal(catalog.packages[0].name, "@babel/core");
	assert_string_equal(catalog.packages[0].location,
		"/srv/node_modules/@babel/core/package.json");
	assert_string_equal(catalog.packages[0].license, "MIT");
	assert_string_equal(catalog.packages[1].name, "a");
	assert_string_equal(catalog.packages[2].name, "b");
	assert_string_equal(catalog.packages[2].location,
		"/srv/node_modules/a/node_modules/b/package.json");
	assert_string_equal(catalog.packages[3].name, "express");
	assert_string_equal(catalog.packages[3].location, "/app/package-lock.json");
	assert_string_equal(catalog.packages[4].name, "left-pad");

	assert_int_equal(catalog.warning_count, 2);
	assert_string_equal(catalog.warnings[0], "/web/package-lock.json: unsupported "
		"lockfileVersion 9: expected 1, 2 or 3");
	assert_string_equal(catalog.warnings[1], "/srv/node_modules/bad/package.json: invalid "
		"JSON at line 1 column 14: '}' expected near end of file");
	sbom_catalog_free(&catalog);

	snprintf(command, sizeof(command), "rm -rf '%s'", root);
	assert_int_equal(system(command), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lock_v1_walks_tree),
		cmocka_unit_test(lock_v3_reads_packages),
		cmocka_unit_test(lock_v2_prefers_packages),
		cmocka_unit_test(lock_rejects_malformed),
		cmocka_unit_test(lock_bounds_nesting),
		cmocka_unit_test(package_json_parses),
		cmocka_unit_test(package_json_rejects_malformed),
		cmocka_unit_test(catalog_dedupes_lock_and_modules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
