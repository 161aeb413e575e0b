/* Unit tests of reading SBOMs back: SPDX 2.3 and CycloneDX 1.5 documents
 * as warden and Syft write them, the distribution they name, and what is
 * passed over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supply/sbom_read.h"

static const char spdx_doc[] =
	"{\"spdxVersion\": \"SPDX-2.3\", \"SPDXID\": \"SPDXRef-DOCUMENT\", \"packages\": [\n"
	" {\"name\": \"zlib1g\", \"versionInfo\": \"1:1.2.13.dfsg-1\",\n"
	"  \"sourceInfo\": \"acquired package info from /var/lib/dpkg/status; built from source "
	"package zlib\",\n"
	"  \"externalRefs\": [{\"referenceCategory\": \"SECURITY\", \"referenceType\": \"cpe23Type\","
	" \"referenceLocator\": \"cpe:2.3:a:zlib1g:zlib1g:1:*:*:*:*:*:*:*\"},\n"
	"   {\"referenceCategory\": \"PACKAGE-MANAGER\", \"referenceType\": \"purl\",\n"
	"    \"referenceLocator\": \"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&"
	"distro=debian-12&upstream=zlib\"}]},\n"
	" {\"name\": \"PyYAML\", \"versionInfo\": \"5.3\",\n"
	"  \"sourceInfo\": \"acquired package info from installed python package manifest file: "
	"/usr/lib/python3/dist-packages/PyYAML-5.3.dist-info/METADATA\",\n"
	"  \"externalRefs\": [{\"referenceCategory\": \"PACKAGE_MANAGER\", \"referenceType\": "
	"\"purl\", \"referenceLocator\": \"pkg:pypi/PyYAML@5.3\"}]},\n"
	" {\"name\": \"nopurl\", \"versionInfo\": \"1\"},\n"
	" {\"name\": \"crate\", \"externalRefs\": [{\"referenceCategory\": \"PACKAGE-MANAGER\", "
	"\"referenceType\": \"purl\", \"referenceLocator\": \"pkg:cargo/crate@1.0.0\"}]},\n"
	" {\"name\": \"bad\", \"externalRefs\": [{\"referenceCategory\": \"PACKAGE-MANAGER\", "
	"\"referenceType\": \"purl\", \"referenceLocator\": \"pkg:npm/%zz@1\"}]}\n"
	"]}";

static void reads_spdx(void **state)
{
	struct sbom_catalog catalog;
	struct sbom_distro distro;
	struct sbom_read_stats stats;
	enum sbom_format format;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(sbom_read(spdx_doc, strlen(spdx_doc), &catalog, &distro, &format, &stats,
		&err), 0);
	assert_int_equal(format, SBOM_FORMAT_SPDX_JSON);
	assert_string_equal(sbom_format_name(format), "spdx-json");
	assert_int_equal(catalog.count, 2);
	assert_string_equal(catalog.packages[0].name, "zlib1g");
	assert_string_equal(catalog.packages[0].source, "zlib");
	assert_string_equal(catalog.packages[0].location, "/var/lib/dpkg/status");
	assert_string_equal(catalog.packages[1].name, "pyyaml");
	assert_string_equal(catalog.packages[1].location,
		"/usr/lib/python3/dist-packages/PyYAML-5.3.dist-info/METADATA");
	assert_string_equal(distro.id, "debian");
	assert_string_equal(distro.version_id, "12");
	assert_int_equal(stats.entries, 5);
	assert_int_equal(stats.no_purl, 1);
	assert_int_equal(stats.unsupported, 1);
	assert_int_equal(stats.invalid, 1);
	assert_string_equal(stats.first_invalid, "invalid percent-encoding in purl name");
	sbom_distro_free(&distro);
	sbom_catalog_free(&catalog);
}

static const char cyclonedx_doc[] =
	"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\",\n"
	" \"metadata\": {\"component\": {\"type\": \"file\", \"name\": \"rootfs\"}},\n"
	" \"components\": [\n"
	"  {\"type\": \"library\", \"name\": \"libcrypto3\", \"version\": \"3.1.4-r5\",\n"
	"   \"purl\": \"pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&upstream=openssl&"
	"distro=alpine-3.18.4\",\n"
	"   \"properties\": [{\"name\": \"syft:location:0:path\", \"value\": "
	"\"/lib/apk/db/installed\"}],\n"
	"   \"components\": [{\"type\": \"library\", \"name\": \"inner\", \"purl\": "
	"\"pkg:npm/inner@2.0.0\"}]},\n"
	"  {\"type\": \"operating-system\", \"name\": \"alpine\", \"version\": \"3.19.1\"}\n"
	" ]}";

static void reads_cyclonedx(void **state)
{
	struct sbom_catalog catalog;
	struct sbom_distro distro;
	struct sbom_read_stats stats;
	enum sbom_format format;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(sbom_read(cyclonedx_doc, strlen(cyclonedx_doc), &catalog, &distro, &format,
		&stats, &err), 0);
	assert_int_equal(format, SBOM_FORMAT_CYCLONEDX_JSON);
	assert_int_equal(catalog.count, 2);
	assert_string_equal(catalog.packages[0].name, "libcrypto3");
	assert_string_equal(catalog.packages[0].location, "/lib/apk/db/installed");
	assert_string_equal(catalog.packages[1].name, "inner");
	assert_null(catalog.packages[1].location);
	/* The operating-system component wins over the purl's qualifier. */
	assert_string_equal(distro.id, "alpine");
	assert_string_equal(distro.version_id, "3.19.1");
	assert_int_equal(stats.entries, 2);
	sbom_distro_free(&distro);
	sbom_catalog_free(&catalog);
}

static void reads_warden_distro_properties(void **state)
{
	const char *doc =
		"{\"bomFormat\": \"CycloneDX\", \"metadata\": {\"component\": {\"properties\": [\n"
		" {\"name\": \"warden:distro:id\", \"value\": \"ubuntu\"},\n"
		" {\"name\": \"warden:distro:versionID\", \"value\": \"22.04\"}]}},\n"
		" \"components\": [{\"purl\": \"pkg:deb/debian/x@1?distro=debian-12\"}]}";
	struct sbom_catalog catalog;
	struct sbom_distro distro;
	struct sbom_read_stats stats;
	enum sbom_format format;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(sbom_read(doc, strlen(doc), &catalog, &distro, &format, &stats, &err), 0);
	assert_string_equal(distro.id, "ubuntu");
	assert_string_equal(distro.version_id, "22.04");
	sbom_distro_free(&distro);
	sbom_catalog_free(&catalog);
}

static void rejects_other_documents(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "{\"bomFormat\": \"Other\"}", "not an SPDX or CycloneDX JSON document: expected "
					       "\"spdxVersion\" or \"bomFormat\": \"CycloneDX\"" },
		{ "[1]", "not an SPDX or CycloneDX JSON document: expected \"spdxVersion\" or "
			 "\"bomFormat\": \"CycloneDX\"" },
		{ "{", "invalid JSON at line 1 column 1: string or '}' expected near end of file" },
		{ "{\"spdxVersion\": \"SPDX-2.3\", \"packages\": {}}",
		  "SPDX packages: expected an array" },
		{ "{\"bomFormat\": \"CycloneDX\", \"components\": [1]}",
		  "CycloneDX components[0]: expected an object" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbom_catalog catalog;
		struct sbom_distro distro;
		struct sbom_read_stats stats;
		enum sbom_format format;
		struct wd_error err = { 0 };

		sbom_catalog_init(&catalog, 100);
		assert_int_equal(sbom_read(cases[i].text, strlen(cases[i].text), &catalog, &distro,
			&format, &stats, &err), WD_EINVAL);
		if (strcmp(err.detail, cases[i].message))
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err.detail,
				cases[i].message);
		assert_null(distro.id);
		sbom_catalog_free(&catalog);
	}
}

static void enforces_catalog_ceiling(void **state)
{
	struct sbom_catalog catalog;
	struct sbom_distro distro;
	struct sbom_read_stats stats;
	enum sbom_format format;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 1);
	assert_int_equal(sbom_read(spdx_doc, strlen(spdx_doc), &catalog, &distro, &format, &stats,
		&err), WD_ETOOBIG);
	assert_string_equal(err.detail, "more than 1 packages");
	sbom_catalog_free(&catalog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_spdx),
		cmocka_unit_test(reads_cyclonedx),
		cmocka_unit_test(reads_warden_distro_properties),
		cmocka_unit_test(rejects_other_documents),
		cmocka_unit_test(enforces_catalog_ceiling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
