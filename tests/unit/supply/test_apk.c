/* Unit tests of the apk installed-database parser, its root cataloger and
 * the apk purls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "supply/catalog_os.h"

static const char installed_text[] =
	"C:Q1Qb8Vx4Cw9rC8O7L2w6ZxIOSb7ys=\n"
	"P:musl\n"
	"V:1.2.4_git20230717-r4\n"
	"A:x86_64\n"
	"S:407547\n"
	"I:667648\n"
	"T:the musl c library (libc) implementation\n"
	"U:https://musl.libc.org/\n"
	"L:MIT\n"
	"o:musl\n"
	"m:Timo Teräs <timo.teras@iki.fi>\n"
	"t:1705332946\n"
	"F:lib\n"
	"R:ld-musl-x86_64.so.1\n"
	"a:0:0:755\n"
	"Z:Q1oYyYpAr1hMDkmpUh8hv5mkPj6SM=\n"
	"\n"
	"P:libcrypto3\n"
	"V:3.1.4-r5\n"
	"A:x86_64\n"
	"I:4530176\n"
	"L:Apache-2.0\n"
	"o:openssl\n"
	"m:Ariadne Conill <ariadne@dereferenced.org>\n"
	"D:so:libc.musl-x86_64.so.1\n"
	"p:so:libcrypto.so.3=3\n"
	"\n"
	"\n"
	"P:alpine-baselayout-data\n"
	"V:3.4.3-r2\n"
	"A:x86_64\n"
	"L:\n"
	"o:alpine-baselayout\n"
	"T:value with: a colon";

static void installed_parses_records(void **state)
{
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(apk_installed_parse(installed_text, strlen(installed_text), &catalog,
		&err), 0);
	assert_int_equal(catalog.count, 3);

	const struct sbom_package *musl = &catalog.packages[0];
	assert_int_equal(musl->type, SBOM_TYPE_APK);
	assert_string_equal(musl->name, "musl");
	assert_string_equal(musl->version, "1.2.4_git20230717-r4");
	assert_string_equal(musl->arch, "x86_64");
	assert_string_equal(musl->license, "MIT");
	assert_string_equal(musl->maintainer, "Timo Teräs <timo.teras@iki.fi>");
	assert_string_equal(musl->installed_size, "667648");
	/* An origin equal to the name is no upstream. */
	assert_null(musl->source);
	assert_null(musl->location);
	assert_null(musl->purl);

	const struct sbom_package *crypto = &catalog.packages[1];
	assert_string_equal(crypto->name, "libcrypto3");
	assert_string_equal(crypto->version, "3.1.4-r5");
	assert_string_equal(crypto->source, "openssl");
	assert_string_equal(crypto->maintainer, "Ariadne Conill <ariadne@dereferenced.org>");

	/* The last record needs no blank line after it, and an empty L: sets
	 * no license. */
	const struct sbom_package *data = &catalog.packages[2];
	assert_string_equal(data->name, "alpine-baselayout-data");
	assert_string_equal(data->source, "alpine-baselayout");
	assert_null(data->license);
	assert_null(data->maintainer);
	assert_null(data->installed_size);
	sbom_catalog_free(&catalog);
}

static void installed_reads_crlf(void **state)
{
	static const char text[] = "P:zlib\r\nV:1.3.1-r0\r\nA:aarch64\r\n\r\nP:b\r\nV:2\r\n";
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(apk_installed_parse(text, strlen(text), &catalog, &err), 0);
	assert_int_equal(catalog.count, 2);
	assert_string_equal(catalog.packages[0].version, "1.3.1-r0");
	assert_string_equal(catalog.packages[0].arch, "aarch64");
	assert_string_equal(catalog.packages[1].name, "b");
	sbom_catalog_free(&catalog);

	/* An empty database has no packages. */
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(apk_installed_parse("", 0, &catalog, &err), 0);
	assert_int_equal(apk_installed_parse("\n\n", 2, &catalog, &err), 0);
	assert_int_equal(catalog.count, 0);
	sbom_catalog_free(&catalog);
}

static void installed_rejects_malformed(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *detail;
	} cases[] = {
		{ "P:a\nV1\n", WD_EINVAL, "line 2: expected \"X:value\", got \"V1\"" },
		{ "P:a\nV\n", WD_EINVAL, "line 2: expected \"X:value\", got \"V\"" },
		{ "P:a\n:V:1\n", WD_EINVAL, "line 2: expected \"X:value\", got \":V:1\"" },
		{ "P:a\nPackage: a\n", WD_EINVAL,
		  "line 2: expected \"X:value\", got \"Package: a\"" },
		{ "P:a\nV:1\nP:b\n", WD_EINVAL, "line 3: duplicate field P" },
		{ "P:a\nV:1\nV:2\n", WD_EINVAL, "line 3: duplicate field V" },
		{ "V:1\nA:x86_64\n", WD_EINVAL, "line 1: package without name (P:)" },
		{ "P:a\nV:1\n\nT:no name\nP:\nV:2\n", WD_EINVAL,
		  "line 4: package without name (P:)" },
		{ "P:a\nV:1\n\n\nP:b\nA:x86_64\n", WD_EINVAL,
		  "line 5: package without version (V:)" },
		{ "P:a\nV:1\nI:12kB\n", WD_EINVAL, "line 3: invalid installed size \"12kB\"" },
		{ "P:a\nV:1\nI:-1\n", WD_EINVAL, "line 3: invalid installed size \"-1\"" },
		{ "P:a\nV:1\nI:123456789012345678901\n", WD_EINVAL,
		  "line 3: invalid installed size \"123456789012345678901\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbom_catalog catalog;
		struct wd_error err = { 0 };

		sbom_catalog_init(&catalog, 100);
		assert_int_equal(apk_installed_parse(cases[i].text, strlen(cases[i].text), &catalog,
			&err), cases[i].code);
		assert_string_equal(err.detail, cases[i].detail);
		sbom_catalog_free(&catalog);
	}
}

static void installed_enforces_ceilings(void **state)
{
	static const char text[] = "P:a\nV:1\n\nP:b\nV:1\n\nP:c\nV:1\n";
	static const char with_nul[] = "P:a\0\nV:1\n";
	size_t long_len = SBOM_MAX_FIELD_BYTES + 100;
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	char *long_field;

	(void)state;
	sbom_catalog_init(&catalog, 2);
	assert_int_equal(apk_installed_parse(text, strlen(text), &catalog, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, "more than 2 packages");
	assert_int_equal(catalog.count, 2);
	sbom_catalog_free(&catalog);

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(apk_installed_parse(with_nul, sizeof(with_nul) - 1, &catalog, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "installed database contains a NUL byte");

	long_field = malloc(long_len + 1);
	assert_non_null(long_field);
	memcpy(long_field, "V:1\nL:", 6);
	memset(long_field + 6, 'x', long_len - 6);
	long_field[long_len] = '\0';
	assert_int_equal(apk_installed_parse(long_field, long_len, &catalog, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, "line 2: field L is longer than 65536 bytes");

	/* A long field the catalog does not keep is skipped. */
	long_field[4] = 'T';
	memcpy(long_field, "P:a\n", 4);
	assert_int_equal(apk_installed_parse(long_field, long_len, &catalog, &err), WD_EINVAL);
	assert_string_equal(err.detail, "line 1: package without version (V:)");
	free(long_field);
	assert_int_equal(catalog.count, 0);
	sbom_catalog_free(&catalog);
}

/* Writes text to dir/relative, creating the parent directories. */
static void write_file(const char *dir, const char *relative, const char *text)
{
	char path[512];
	FILE *file;

	snprintf(path, sizeof(path), "%s/%s", dir, relative);
	for (char *slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	file = fopen(path, "w");
	assert_non_null(file);
	assert_int_equal(fputs(text, file) >= 0, 1);
	assert_int_equal(fclose(file), 0);
}

static void catalog_reads_root(void **state)
{
	char dir[] = "/tmp/wd-test-apk-XXXXXX";
	char command[128];
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));

	/* A root without the database adds nothing. */
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(apk_catalog_root(dir, &catalog, &err), 0);
	assert_int_equal(catalog.count, 0);

	write_file(dir, "lib/apk/db/installed", "P:busybox\nV:1.36.1-r15\nA:x86_64\n");
	assert_int_equal(apk_catalog_root(dir, &catalog, &err), 0);
	assert_int_equal(catalog.count, 1);
	assert_string_equal(catalog.packages[0].name, "busybox");
	assert_string_equal(catalog.packages[0].location, "/lib/apk/db/installed");
	sbom_catalog_free(&catalog);

	/* A malformed database fails with its path and line in the detail. */
	write_file(dir, "lib/apk/db/installed", "P:busybox\nV:1\n\nbroken\n");
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(apk_catalog_root(dir, &catalog, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "/lib/apk/db/installed: line 4: expected \"X:value\""));
	sbom_catalog_free(&catalog);

	snprintf(command, sizeof(command), "rm -rf %s", dir);
	assert_int_equal(system(command), 0);
}

/* Returns the purl sbom_catalog_set_purls gives one apk package. */
static char *apk_purl(const char *id, const char *version_id, const char *origin)
{
	struct sbom_distro distro = { .id = (char *)id, .version_id = (char *)version_id };
	struct sbom_catalog catalog;
	struct sbom_package pkg = {
		.type = SBOM_TYPE_APK,
		.name = strdup("libcrypto3"),
		.version = strdup("3.1.4-r5"),
		.arch = strdup("x86_64"),
		.source = origin ? strdup(origin) : NULL,
	};
	struct wd_error err = { 0 };
	char *purl;

	sbom_catalog_init(&catalog, 10);
	assert_int_equal(sbom_catalog_add(&catalog, &pkg, &err), 0);
	assert_int_equal(sbom_catalog_set_purls(&catalog, &distro, &err), 0);
	purl = strdup(catalog.packages[0].purl);
	sbom_catalog_free(&catalog);
	return purl;
}

static void purl_of_apk_packages(void **state)
{
	static const struct {
		const char *id;
		const char *version_id;
		const char *origin;
		const char *purl;
	} cases[] = {
		{ "alpine", "3.19.1", "openssl",
		  "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&"
		  "upstream=openssl" },
		{ "alpine", "3.19.1", NULL,
		  "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1" },
		{ "wolfi", NULL, NULL, "pkg:apk/wolfi/libcrypto3@3.1.4-r5?arch=x86_64&distro=wolfi" },
		/* The namespace is lowercase; the distro qualifier keeps the ID. */
		{ "Alpine", "3.20.0", NULL,
		  "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=Alpine-3.20.0" },
		/* Without os-release the namespace is alpine, with no distro. */
		{ NULL, NULL, NULL, "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *purl = apk_purl(cases[i].id, cases[i].version_id, cases[i].origin);

		assert_string_equal(purl, cases[i].purl);
		free(purl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(installed_parses_records),
		cmocka_unit_test(installed_reads_crlf),
		cmocka_unit_test(installed_rejects_malformed),
		cmocka_unit_test(installed_enforces_ceilings),
		cmocka_unit_test(catalog_reads_root),
		cmocka_unit_test(purl_of_apk_packages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
