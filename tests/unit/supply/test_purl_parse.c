/* Unit tests of purl parsing and of the catalog packages made from purls
 * when an SBOM is read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supply/purl.h"
#include "supply/sbom_read.h"

static void parses_all_components(void **state)
{
	struct purl p;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(purl_parse("pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12"
				    "&upstream=bash%405.2.15-2#usr/bin/../bin/./bash/", &p, &err), 0);
	assert_string_equal(p.type, "deb");
	assert_string_equal(p.namespace, "debian");
	assert_string_equal(p.name, "bash");
	assert_string_equal(p.version, "5.2.15-2+b8");
	assert_int_equal(p.qualifier_count, 3);
	assert_string_equal(p.qualifiers[0].key, "arch");
	assert_string_equal(purl_qualifier(&p, "distro"), "debian-12");
	assert_string_equal(purl_qualifier(&p, "upstream"), "bash@5.2.15-2");
	assert_null(purl_qualifier(&p, "epoch"));
	assert_string_equal(p.subpath, "usr/bin/bin/bash");
	purl_free(&p);
}

static void normalizes_by_type(void **state)
{
	struct purl p;
	struct wd_error err = { 0 };

	(void)state;
	/* Scheme and type are case-insensitive; pypi names are lowercased
	 * with '_' as '-'; an empty qualifier value is dropped; slashes after
	 * the scheme are ignored. */
	assert_int_equal(purl_parse("PKG://PYPI/Django_package@1.11.1.dev1?empty=&a=b", &p, &err),
		0);
	assert_string_equal(p.type, "pypi");
	assert_null(p.namespace);
	assert_string_equal(p.name, "django-package");
	assert_string_equal(p.version, "1.11.1.dev1");
	assert_int_equal(p.qualifier_count, 1);
	assert_string_equal(p.qualifiers[0].key, "a");
	purl_free(&p);

	/* An '@' that starts a segment is an npm scope, not a version. */
	assert_int_equal(purl_parse("pkg:npm/@babel/core#/googleapis/api/", &p, &err), 0);
	assert_string_equal(p.namespace, "@babel");
	assert_string_equal(p.name, "core");
	assert_null(p.version);
	assert_string_equal(p.subpath, "googleapis/api");
	purl_free(&p);

	/* npm and golang keep their case; namespaces keep their segments. */
	assert_int_equal(purl_parse("pkg:npm/%40Angular/Animation@12.3.1", &p, &err), 0);
	assert_string_equal(p.namespace, "@Angular");
	assert_string_equal(p.name, "Animation");
	purl_free(&p);
	assert_int_equal(purl_parse("pkg:golang/github.com/Gorilla//context@v1.1.1", &p, &err), 0);
	assert_string_equal(p.namespace, "github.com/Gorilla");
	assert_string_equal(p.name, "context");
	assert_string_equal(p.version, "v1.1.1");
	purl_free(&p);

	assert_int_equal(purl_parse("pkg:deb/Debian/LibSSL3@3.0.11", &p, &err), 0);
	assert_string_equal(p.namespace, "debian");
	assert_string_equal(p.name, "libssl3");
	purl_free(&p);
}

static void rejects_invalid(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "EnterpriseLibrary.Common@6.0.1304",
		  "invalid purl \"EnterpriseLibrary.Common@6.0.1304\": missing pkg: scheme" },
		{ "pkg:EnterpriseLibrary.Common@6.0.1304",
		  "invalid purl \"pkg:EnterpriseLibrary.Common@6.0.1304\": missing or invalid type" },
		{ "pkg:3nginx/nginx@0.8.9", "invalid purl \"pkg:3nginx/nginx@0.8.9\": missing or "
					    "invalid type" },
		{ "pkg:nginx:a/nginx@0.8.9", "invalid purl \"pkg:nginx:a/nginx@0.8.9\": missing or "
					     "invalid type" },
		{ "pkg:maven/@1.3.4", "invalid purl \"pkg:maven/@1.3.4\": missing name" },
		{ "pkg%3Amaven/org.apache.commons/io", "invalid purl \"pkg%3Amaven/org.apache.commons/"
						       "io\": missing pkg: scheme" },
		{ "pkg:npm/myartifact@1.0.0?in%20production=true",
		  "invalid purl qualifier \"in%20production=true\"" },
		{ "pkg:npm/a@1?x=1&x=2", "duplicate purl qualifier \"x\"" },
		{ "pkg:rpm/fedora/curl@7.50.3?Arch=i386", "purl qualifier key \"Arch\" is not "
							  "lowercase" },
		{ "pkg:npm/a@1?novalue", "invalid purl qualifier \"novalue\"" },
		{ "pkg:npm/a%2@1", "invalid percent-encoding in purl name" },
		{ "pkg:npm/a%zz@1", "invalid percent-encoding in purl name" },
		{ "pkg:npm/a%00b@1", "purl name is not valid UTF-8 or contains NUL" },
		{ "pkg:npm/a%C0%AF@1", "purl name is not valid UTF-8 or contains NUL" },
		{ "pkg:npm/a@1%ff", "purl version is not valid UTF-8 or contains NUL" },
		/* Found by fuzz_purl_parse: the segment read back as two. */
		{ "pkg:d/].#.%2F/].#.%2F....", "purl subpath segment contains an encoded '/'" },
		{ "pkg:generic/a%2Fb/name", "purl namespace segment contains an encoded '/'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct purl p = { .type = (char *)"stale" };
		struct wd_error err = { 0 };

		assert_int_equal(purl_parse(cases[i].text, &p, &err), WD_EINVAL);
		if (strcmp(err.detail, cases[i].message))
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err.detail,
				cases[i].message);
		assert_null(p.type);
	}
}

static void packages_from_purls(void **state)
{
	struct sbom_package pkg;
	struct sbom_distro distro = { 0 };
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(sbom_package_from_purl("pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&"
						"distro=debian-12&upstream=bash%405.2.15-2",
		&pkg, &distro, &err), 0);
	assert_int_equal(pkg.type, SBOM_TYPE_DEB);
	assert_string_equal(pkg.name, "bash");
	assert_string_equal(pkg.version, "5.2.15-2+b8");
	assert_string_equal(pkg.arch, "amd64");
	assert_string_equal(pkg.source, "bash");
	assert_string_equal(pkg.source_version, "5.2.15-2");
	assert_string_equal(pkg.purl, "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&"
				      "distro=debian-12&upstream=bash%405.2.15-2");
	assert_string_equal(distro.id, "debian");
	assert_string_equal(distro.version_id, "12");
	sbom_package_free(&pkg);

	/* An rpm epoch goes in front of the version; upstream is the source
	 * RPM's file name. */
	assert_int_equal(sbom_package_from_purl("pkg:rpm/redhat/openssl-libs@3.0.7-16.el9?arch=x86_64"
						"&epoch=1&upstream=openssl-3.0.7-16.el9.src.rpm&"
						"distro=rhel-9.2", &pkg, &distro, &err), 0);
	assert_int_equal(pkg.type, SBOM_TYPE_RPM);
	assert_string_equal(pkg.version, "1:3.0.7-16.el9");
	assert_string_equal(pkg.source, "openssl-3.0.7-16.el9.src.rpm");
	assert_null(pkg.source_version);
	assert_string_equal(distro.id, "rhel");
	assert_string_equal(distro.version_id, "9.2");
	sbom_package_free(&pkg);

	assert_int_equal(sbom_package_from_purl("pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&"
						"upstream=openssl&distro=alpine-3.18.4", &pkg, &distro,
		&err), 0);
	assert_int_equal(pkg.type, SBOM_TYPE_APK);
	assert_string_equal(pkg.source, "openssl");
	assert_string_equal(distro.version_id, "3.18.4");
	sbom_package_free(&pkg);

	/* A distro qualifier without a version names the namespace. */
	assert_int_equal(sbom_package_from_purl("pkg:deb/ubuntu/dpkg@1.19.0.4?distro=jammy", &pkg,
		&distro, &err), 0);
	assert_string_equal(distro.id, "ubuntu");
	assert_null(distro.version_id);
	sbom_package_free(&pkg);
	sbom_distro_free(&distro);

	assert_int_equal(sbom_package_from_purl("pkg:npm/%40babel/core@7.22.0", &pkg, NULL, &err), 0);
	assert_int_equal(pkg.type, SBOM_TYPE_NPM);
	assert_string_equal(pkg.name, "@babel/core");
	sbom_package_free(&pkg);
	assert_int_equal(sbom_package_from_purl("pkg:golang/github.com/gin-gonic/gin@v1.5.0", &pkg,
		NULL, &err), 0);
	assert_int_equal(pkg.type, SBOM_TYPE_GO_MODULE);
	assert_string_equal(pkg.name, "github.com/gin-gonic/gin");
	sbom_package_free(&pkg);
	assert_int_equal(sbom_package_from_purl("pkg:pypi/PyYAML@5.3", &pkg, NULL, &err), 0);
	assert_int_equal(pkg.type, SBOM_TYPE_PYTHON);
	assert_string_equal(pkg.name, "pyyaml");
	sbom_package_free(&pkg);

	assert_int_equal(sbom_package_from_purl("pkg:cargo/smallvec@1.6.0", &pkg, NULL, &err),
		WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "purl type \"cargo\" has no OSV ecosystem warden matches");
	assert_int_equal(sbom_package_from_purl("pkg:npm/left-pad", &pkg, NULL, &err),
		WD_EUNSUPPORTED);
	assert_int_equal(sbom_package_from_purl("npm/left-pad@1", &pkg, NULL, &err), WD_EINVAL);
	assert_null(pkg.name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_all_components),
		cmocka_unit_test(normalizes_by_type),
		cmocka_unit_test(rejects_invalid),
		cmocka_unit_test(packages_from_purls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
