/* Unit tests of purl building: percent-encoding, qualifier order, and the
 * Debian purls of the catalog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supply/purl.h"
#include "supply/sbom.h"

static char *build(const struct purl_parts *parts)
{
	struct wd_error err = { 0 };
	char *purl = NULL;

	assert_int_equal(purl_build(parts, &purl, &err), 0);
	assert_non_null(purl);
	return purl;
}

static void purl_encodes_version(void **state)
{
	static const struct purl_qualifier qualifiers[] = {
		{ "arch", "amd64" },
	};
	struct purl_parts parts = {
		.type = "deb", .namespace = "debian", .name = "attr", .version = "1:2.4.47-2+b1",
		.qualifiers = qualifiers, .qualifier_count = 1,
	};
	char *purl;

	(void)state;
	purl = build(&parts);
	/* ':' stays, '+' becomes %2B. */
	assert_string_equal(purl, "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64");
	free(purl);
}

static void purl_sorts_qualifiers(void **state)
{
	static const struct purl_qualifier qualifiers[] = {
		{ "upstream", "bash@5.2.15-2" },
		{ "Distro", "debian-12" },
		{ "arch", "amd64" },
		{ "empty", "" },
		{ "unset", NULL },
	};
	struct purl_parts parts = {
		.type = "DEB", .namespace = "debian", .name = "bash", .version = "5.2.15-2+b8",
		.qualifiers = qualifiers, .qualifier_count = 5,
	};
	char *purl;

	(void)state;
	purl = build(&parts);
	assert_string_equal(purl,
		"pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12"
		"&upstream=bash%405.2.15-2");
	free(purl);
}

static void purl_encodes_reserved(void **state)
{
	static const struct purl_qualifier qualifiers[] = {
		{ "checksum", "sha1:ad9503c3e994a4f,sha256:41bf9088b3a1e6c1ef1d" },
		{ "note", "a b&c=d/e?f#g" },
	};
	struct purl_parts parts = {
		.type = "generic", .namespace = "/a b//c/", .name = "n@m/e", .version = "1.0 beta",
		.qualifiers = qualifiers, .qualifier_count = 2, .subpath = "./dir/../x y/",
	};
	char *purl;

	(void)state;
	purl = build(&parts);
	assert_string_equal(purl,
		"pkg:generic/a%20b/c/n%40m%2Fe@1.0%20beta"
		"?checksum=sha1:ad9503c3e994a4f%2Csha256:41bf9088b3a1e6c1ef1d"
		"&note=a%20b%26c%3Dd%2Fe%3Ff%23g#dir/x%20y");
	free(purl);

	/* Bytes outside ASCII are encoded one by one from their UTF-8 form. */
	parts = (struct purl_parts){ .type = "generic", .name = "caf\xc3\xa9" };
	purl = build(&parts);
	assert_string_equal(purl, "pkg:generic/caf%C3%A9");
	free(purl);
}

static void purl_rejects_invalid(void **state)
{
	static const struct purl_qualifier bad_key[] = { { "1arch", "x" } };
	static const struct purl_qualifier duplicate[] = { { "arch", "x" }, { "ARCH", "y" } };
	static const struct {
		struct purl_parts parts;
		const char *detail;
	} cases[] = {
		{ { .type = NULL, .name = "nginx" }, "invalid purl type \"\"" },
		{ { .type = "3deb", .name = "nginx" }, "invalid purl type \"3deb\"" },
		{ { .type = "de b", .name = "nginx" }, "invalid purl type \"de b\"" },
		{ { .type = "deb", .name = "" }, "purl of type deb without a name" },
		{ { .type = "deb", .name = "a", .qualifiers = bad_key, .qualifier_count = 1 },
		  "invalid purl qualifier key \"1arch\"" },
		{ { .type = "deb", .name = "a", .qualifiers = duplicate, .qualifier_count = 2 },
		  "duplicate purl qualifier \"ARCH\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wd_error err = { 0 };
		char *purl = (char *)"unchanged";

		assert_int_equal(purl_build(&cases[i].parts, &purl, &err), WD_EINVAL);
		assert_null(purl);
		assert_string_equal(err.detail, cases[i].detail);
	}
}

static void catalog_purls_like_syft(void **state)
{
	static const char status[] =
		"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
		"Source: glibc\nVersion: 2.36-9+deb12u4\n\n"
		"Package: bash\nStatus: install ok installed\nArchitecture: amd64\n"
		"Source: bash (5.2.15-2)\nVersion: 5.2.15-2+b8\n\n"
		"Package: base-files\nStatus: install ok installed\nArchitecture: amd64\n"
		"Source: base-files\nVersion: 12.4+deb12u5\n";
	struct sbom_distro distro = { .id = (char *)"debian", .version_id = (char *)"12" };
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 10);
	assert_int_equal(dpkg_status_parse(status, strlen(status), 1, &catalog, &err), 0);
	sbom_catalog_sort(&catalog);
	assert_int_equal(sbom_catalog_set_purls(&catalog, &distro, &err), 0);

	assert_string_equal(catalog.packages[0].purl,
		"pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12");
	assert_string_equal(catalog.packages[1].purl,
		"pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12"
		"&upstream=bash%405.2.15-2");
	assert_string_equal(catalog.packages[2].purl,
		"pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
		"&upstream=glibc");
	sbom_catalog_free(&catalog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(purl_encodes_version),
		cmocka_unit_test(purl_sorts_qualifiers),
		cmocka_unit_test(purl_encodes_reserved),
		cmocka_unit_test(purl_rejects_invalid),
		cmocka_unit_test(catalog_purls_like_syft),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
