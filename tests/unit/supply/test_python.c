/* Unit tests of the Python metadata parser, PEP 503 name normalization and
 * the cataloger over a site-packages tree built here. */
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

static const char wheel_metadata[] =
	"Metadata-Version: 2.1\n"
	"Name: Flask_SQLAlchemy\n"
	"Version: 3.1.1\n"
	"Summary: Add SQLAlchemy support to your Flask application.\n"
	"Author-email: Pallets <contact@palletsprojects.com>\n"
	"License: BSD-3-Clause\n"
	"Classifier: License :: OSI Approved :: BSD License\n"
	"Requires-Dist: flask>=2.2.5\n"
	"Requires-Dist: sqlalchemy>=2.0.16\n"
	"\n"
	"Flask-SQLAlchemy\n"
	"================\n"
	"Name: not-a-header (the description may contain anything)\n";

static void metadata_parses_wheel(void **state)
{
	struct sbom_package pkg;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(python_metadata_parse(wheel_metadata, strlen(wheel_metadata), &pkg, &err),
		0);
	assert_int_equal(pkg.type, SBOM_TYPE_PYTHON);
	assert_string_equal(pkg.name, "Flask_SQLAlchemy");
	assert_string_equal(pkg.version, "3.1.1");
	assert_string_equal(pkg.license, "BSD-3-Clause");
	assert_string_equal(pkg.maintainer, "Pallets <contact@palletsprojects.com>");
	assert_string_equal(pkg.purl, "pkg:pypi/flask-sqlalchemy@3.1.1");
	assert_null(pkg.location);
	sbom_package_free(&pkg);
}

static void metadata_prefers_license_expression(void **state)
{
	static const char text[] =
		"Metadata-Version: 2.4\r\n"
		"name: attrs\r\n"
		"version: 24.2.0\r\n"
		"License: MIT License\r\n"
		"License-Expression: MIT\r\n"
		"Author: Hynek Schlawack\r\n"
		"Author-email: hs@ox.cx\r\n";
	struct sbom_package pkg;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(python_metadata_parse(text, strlen(text), &pkg, &err), 0);
	assert_string_equal(pkg.name, "attrs");
	assert_string_equal(pkg.license, "MIT");
	assert_string_equal(pkg.maintainer, "Hynek Schlawack");
	sbom_package_free(&pkg);
}

static void metadata_skips_license_text(void **state)
{
	/* setuptools folds a multi-line License with eight spaces: that is the
	 * license text, not its name. distutils writes UNKNOWN for unset. */
	static const char text[] =
		"Metadata-Version: 1.1\n"
		"Name: PyYAML\n"
		"Version: 6.0.1\n"
		"Author: UNKNOWN\n"
		"Author-email: xi@resolvent.net\n"
		"License: Copyright (c) 2017-2021 Ingy dot Net\n"
		"        Copyright (c) 2006-2016 Kirill Simonov\n"
		"        \n"
		"        Permission is hereby granted, free of charge\n"
		"Platform: Any\n";
	struct sbom_package pkg;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(python_metadata_parse(text, strlen(text), &pkg, &err), 0);
	assert_null(pkg.license);
	assert_string_equal(pkg.maintainer, "xi@resolvent.net");
	assert_string_equal(pkg.purl, "pkg:pypi/pyyaml@6.0.1");
	sbom_package_free(&pkg);

	static const char unknown[] = "Name: x\nVersion: 1\nLicense: UNKNOWN\n";
	assert_int_equal(python_metadata_parse(unknown, strlen(unknown), &pkg, &err), 0);
	assert_null(pkg.license);
	assert_null(pkg.maintainer);
	sbom_package_free(&pkg);
}

static void metadata_rejects_malformed(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *detail;
	} cases[] = {
		{ "Version: 1.0\n", WD_EINVAL, "missing Name" },
		{ "Name: UNKNOWN\nVersion: 1.0\n", WD_EINVAL, "missing Name" },
		{ "Name: foo\nSummary: x\n\nVersion: 1.0\n", WD_EINVAL, "missing Version for foo" },
		{ " continued\nName: foo\n", WD_EINVAL,
		  "line 1: continuation line outside a field" },
		{ "Name: foo\nthis is not a header\n", WD_EINVAL,
		  "line 2: expected \"Field: value\"" },
		{ "Name: foo\n: empty field name\n", WD_EINVAL, "line 2: expected \"Field: value\"" },
		{ "Name: foo\nVersion: 1\nName: bar\n", WD_EINVAL, "line 3: duplicate field Name" },
		{ "", WD_EINVAL, "missing Name" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbom_package pkg;
		struct wd_error err = { 0 };

		assert_int_equal(python_metadata_parse(cases[i].text, strlen(cases[i].text), &pkg,
			&err), cases[i].code);
		assert_string_equal(err.detail, cases[i].detail);
		assert_null(pkg.name);
	}
}

static void metadata_rejects_nul_and_long_fields(void **state)
{
	struct sbom_package pkg;
	struct wd_error err = { 0 };
	size_t long_len = SBOM_MAX_FIELD_BYTES + 32;
	char *text = malloc(long_len + 32);

	(void)state;
	assert_int_equal(python_metadata_parse("Name: a\0b\nVersion: 1\n", 21, &pkg, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "metadata contains a NUL byte");

	assert_non_null(text);
	memcpy(text, "Name: ", 6);
	memset(text + 6, 'a', long_len);
	memcpy(text + 6 + long_len, "\nVersion: 1\n", sizeof("\nVersion: 1\n"));
	assert_int_equal(python_metadata_parse(text, strlen(text), &pkg, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, "line 1: field Name is longer than 65536 bytes");
	free(text);
}

static void normalize_follows_pep503(void **state)
{
	static const struct {
		const char *name;
		const char *normalized;
	} cases[] = {
		{ "Flask_SQLAlchemy", "flask-sqlalchemy" },
		{ "zope.interface", "zope-interface" },
		{ "Friendly-Bard", "friendly-bard" },
		{ "FRIENDLY-._-BARD", "friendly-bard" },
		{ "ruamel.yaml.clib", "ruamel-yaml-clib" },
		{ "a", "a" },
	};
	char out[64];
	struct wd_error err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(python_normalize_name(cases[i].name, out, sizeof(out), &err), 0);
		assert_string_equal(out, cases[i].normalized);
	}
	assert_int_equal(python_normalize_name("abcdef", out, 4, &err), WD_ETOOBIG);
	assert_string_equal(out, "");
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

static void make_dir(const char *root, const char *path)
{
	char full[1024];

	snprintf(full, sizeof(full), "%s%s", root, path);
	assert_int_equal(mkdir(full, 0755), 0);
}

static void catalog_walks_site_packages(void **state)
{
	char root[] = "/tmp/wd-python-XXXXXX";
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	char command[256];

	(void)state;
	assert_non_null(mkdtemp(root));
	make_dir(root, "/usr");
	make_dir(root, "/usr/lib");
	make_dir(root, "/usr/lib/python3");
	make_dir(root, "/usr/lib/python3/dist-packages");
	make_dir(root, "/usr/lib/python3/dist-packages/six-1.16.0.egg-info");
	write_file(root, "/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
		"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n");
	write_file(root, "/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info",
		"Metadata-Version: 1.1\nName: python-apt\nVersion: 2.6.0\n");
	make_dir(root, "/opt");
	make_dir(root, "/opt/venv");
	make_dir(root, "/opt/venv/site-packages");
	make_dir(root, "/opt/venv/site-packages/Flask_SQLAlchemy-3.1.1.dist-info");
	write_file(root, "/opt/venv/site-packages/Flask_SQLAlchemy-3.1.1.dist-info/METADATA",
		wheel_metadata);
	make_dir(root, "/opt/venv/site-packages/broken-1.0.dist-info");
	write_file(root, "/opt/venv/site-packages/broken-1.0.dist-info/METADATA",
		"Name: broken\n");
	make_dir(root, "/opt/venv/site-packages/empty-1.0.dist-info");
	make_dir(root, "/opt/venv/site-packages/demo.egg");
	make_dir(root, "/opt/venv/site-packages/demo.egg/EGG-INFO");
	write_file(root, "/opt/venv/site-packages/demo.egg/EGG-INFO/PKG-INFO",
		"Name: demo\nVersion: 0.1\n");

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(python_catalog_root(root, &catalog, &err), 0);
	sbom_catalog_sort(&catalog);
	assert_int_equal(catalog.count, 4);
	assert_string_equal(catalog.packages[0].name, "Flask_SQLAlchemy");
	assert_string_equal(catalog.packages[0].location,
		"/opt/venv/site-packages/Flask_SQLAlchemy-3.1.1.dist-info/METADATA");
	assert_string_equal(catalog.packages[1].name, "demo");
	assert_string_equal(catalog.packages[1].location,
		"/opt/venv/site-packages/demo.egg/EGG-INFO/PKG-INFO");
	assert_string_equal(catalog.packages[2].name, "python-apt");
	assert_string_equal(catalog.packages[2].purl, "pkg:pypi/python-apt@2.6.0");
	assert_string_equal(catalog.packages[2].location,
		"/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info");
	assert_string_equal(catalog.packages[3].name, "six");
	assert_string_equal(catalog.packages[3].license, "MIT");

	/* The malformed file is a warning; the empty dist-info is not. */
	assert_int_equal(catalog.warning_count, 1);
	assert_string_equal(catalog.warnings[0],
		"/opt/venv/site-packages/broken-1.0.dist-info/METADATA: missing Version for broken");
	sbom_catalog_free(&catalog);

	snprintf(command, sizeof(command), "rm -rf '%s'", root);
	assert_int_equal(system(command), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(metadata_parses_wheel),
		cmocka_unit_test(metadata_prefers_license_expression),
		cmocka_unit_test(metadata_skips_license_text),
		cmocka_unit_test(metadata_rejects_malformed),
		cmocka_unit_test(metadata_rejects_nul_and_long_fields),
		cmocka_unit_test(normalize_follows_pep503),
		cmocka_unit_test(catalog_walks_site_packages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
