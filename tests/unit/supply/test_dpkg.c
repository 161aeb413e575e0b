/* Unit tests of the dpkg status parser, the status.d reader and
 * os-release parsing. */
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

#include "supply/sbom.h"

static const char status_text[] =
	"Package: libc6\n"
	"Status: install ok installed\n"
	"Priority: optional\n"
	"Installed-Size: 12987\n"
	"Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n"
	"Architecture: amd64\n"
	"Multi-Arch: same\n"
	"Source: glibc\n"
	"Version: 2.36-9+deb12u4\n"
	"Description: GNU C Library: Shared libraries\n"
	" Contains the standard libraries that are used by nearly all programs on\n"
	" the system.\n"
	" .\n"
	" Version: 9.9 (a continuation line that looks like a field)\n"
	"\n"
	"Package: oldpkg\n"
	"Status: deinstall ok config-files\n"
	"Architecture: amd64\n"
	"Version: 1.0\n"
	"\n"
	"Package: bash\n"
	"Status: install ok installed\n"
	"Architecture: amd64\n"
	"Source: bash (5.2.15-2)\n"
	"Version: 5.2.15-2+b8\n"
	"Conffiles:\n"
	" /etc/bash.bashrc 89269e1298235f1b12b4c16e4065ad0d\n"
	"\n"
	"\n"
	"Package: zlib1g\n"
	"status: install ok installed\n"
	"Architecture: amd64\n"
	"Source: zlib\n"
	"Version: 1:1.2.13.dfsg-1\n";

static void status_parses_installed(void **state)
{
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(dpkg_status_parse(status_text, strlen(status_text), 1, &catalog, &err), 0);
	assert_int_equal(catalog.count, 3);

	const struct sbom_package *libc = &catalog.packages[0];
	assert_string_equal(libc->name, "libc6");
	assert_string_equal(libc->version, "2.36-9+deb12u4");
	assert_string_equal(libc->arch, "amd64");
	assert_string_equal(libc->source, "glibc");
	assert_null(libc->source_version);
	assert_string_equal(libc->maintainer,
		"GNU Libc Maintainers <debian-glibc@lists.debian.org>");
	assert_string_equal(libc->installed_size, "12987");

	const struct sbom_package *bash = &catalog.packages[1];
	assert_string_equal(bash->name, "bash");
	assert_string_equal(bash->source, "bash");
	assert_string_equal(bash->source_version, "5.2.15-2");
	assert_null(bash->maintainer);

	/* Field names are case-insensitive, as dpkg reads them. */
	const struct sbom_package *zlib = &catalog.packages[2];
	assert_string_equal(zlib->name, "zlib1g");
	assert_string_equal(zlib->version, "1:1.2.13.dfsg-1");
	sbom_catalog_free(&catalog);
}

static void status_skips_not_installed(void **state)
{
	static const char text[] =
		"Package: a\nStatus: deinstall ok config-files\nVersion: 1\n\n"
		"Package: b\nStatus: install ok half-installed\nVersion: 1\n\n"
		"Package: c\nStatus: purge ok not-installed\n\n"
		"Package: d\nVersion: 1\n\n"
		"Package: e\r\nStatus: install ok installed\r\nVersion: 2\r\n";
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(dpkg_status_parse(text, strlen(text), 1, &catalog, &err), 0);
	assert_int_equal(catalog.count, 1);
	assert_string_equal(catalog.packages[0].name, "e");
	assert_string_equal(catalog.packages[0].version, "2");
	sbom_catalog_free(&catalog);

	/* Without require_status (status.d), a stanza without Status counts. */
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(dpkg_status_parse(text, strlen(text), 0, &catalog, &err), 0);
	assert_int_equal(catalog.count, 2);
	assert_string_equal(catalog.packages[0].name, "d");
	assert_string_equal(catalog.packages[1].name, "e");
	sbom_catalog_free(&catalog);
}

static void status_rejects_malformed(void **state)
{
	static const struct {
		const char *text;
		const char *detail;
	} cases[] = {
		{ " leading continuation\n", "line 1: continuation line outside a field" },
		{ "Package: a\nno colon here\n", "line 2: expected \"Field: value\"" },
		{ "Package: a\nPackage: b\n", "line 2: duplicate field Package" },
		{ ": value\n", "line 1: expected \"Field: value\"" },
		{ "Status: install ok installed\nVersion: 1\n", "line 1: package without Package" },
		{ "Package: a\nStatus: install ok installed\n", "line 1: package without Version" },
		{ "Package: a\nStatus: install ok installed\nVersion: 1\nSource: s (1\n",
		  "line 1: invalid Source \"s (1\": expected \"name (version)\"" },
		{ "Package: a\nStatus: install ok installed\nVersion: 1\nSource: s ()\n",
		  "line 1: empty Source version" },
		{ "Package: a\nStatus: install ok installed\nVersion: 1\nSource: (1)\n",
		  "line 1: empty Source name" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbom_catalog catalog;
		struct wd_error err = { 0 };

		sbom_catalog_init(&catalog, 100);
		assert_int_equal(dpkg_status_parse(cases[i].text, strlen(cases[i].text), 1,
			&catalog, &err), WD_EINVAL);
		assert_string_equal(err.detail, cases[i].detail);
		assert_int_equal(catalog.count, 0);
		sbom_catalog_free(&catalog);
	}
}

static void status_enforces_ceilings(void **state)
{
	static const char text[] =
		"Package: a\nStatus: install ok installed\nVersion: 1\n\n"
		"Package: b\nStatus: install ok installed\nVersion: 1\n\n"
		"Package: c\nStatus: install ok installed\nVersion: 1\n";
	static const char with_nul[] = "Package: a\0\nVersion: 1\n";
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	char *long_field;
	size_t long_len = SBOM_MAX_FIELD_BYTES + 100;

	(void)state;
	sbom_catalog_init(&catalog, 2);
	assert_int_equal(dpkg_status_parse(text, strlen(text), 1, &catalog, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, "more than 2 packages");
	assert_int_equal(catalog.count, 2);
	sbom_catalog_free(&catalog);

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(dpkg_status_parse(with_nul, sizeof(with_nul) - 1, 1, &catalog, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "status file contains a NUL byte");

	long_field = malloc(long_len + 1);
	assert_non_null(long_field);
	memcpy(long_field, "Package: ", 9);
	memset(long_field + 9, 'x', long_len - 9);
	long_field[long_len] = '\0';
	assert_int_equal(dpkg_status_parse(long_field, long_len, 1, &catalog, &err), WD_ETOOBIG);
	free(long_field);
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

static void catalog_reads_status_d(void **state)
{
	char dir[] = "/tmp/wd-test-dpkg-XXXXXX";
	char command[128];
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "var/lib/dpkg/status.d/tzdata",
		"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n");
	write_file(dir, "var/lib/dpkg/status.d/base-files",
		"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n");
	write_file(dir, "var/lib/dpkg/status.d/base-files.md5sums",
		"0123456789abcdef0123456789abcdef  etc/debian_version\n");
	write_file(dir, "var/lib/dpkg/status.d/.hidden", "not a stanza\n");

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(dpkg_catalog_root(dir, &catalog, &err), 0);
	assert_int_equal(catalog.count, 2);
	/* status.d files are read in name order. */
	assert_string_equal(catalog.packages[0].name, "base-files");
	assert_string_equal(catalog.packages[0].version, "12.4+deb12u5");
	assert_string_equal(catalog.packages[1].name, "tzdata");
	assert_string_equal(catalog.packages[1].arch, "all");
	sbom_catalog_free(&catalog);

	/* A malformed file fails with its path in the detail. */
	write_file(dir, "var/lib/dpkg/status.d/zz-broken", "Package: a\n junk\nnonsense\n");
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(dpkg_catalog_root(dir, &catalog, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "status.d/zz-broken: line 3"));
	sbom_catalog_free(&catalog);

	snprintf(command, sizeof(command), "rm -rf %s", dir);
	assert_int_equal(system(command), 0);
}

static void catalog_empty_root(void **state)
{
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	char dir[] = "/tmp/wd-test-dpkg-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(dpkg_catalog_root(dir, &catalog, &err), 0);
	assert_int_equal(catalog.count, 0);
	sbom_catalog_free(&catalog);
	assert_int_equal(rmdir(dir), 0);
}

static void os_release_parses_quotes(void **state)
{
	static const char text[] =
		"# comment\n"
		"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
		"NAME=\"Debian GNU/Linux\"\n"
		"VERSION_ID='12'\n"
		"VERSION_CODENAME=bookworm\n"
		"ID=debian\n"
		"garbage line\n"
		"ID=\"debian\"\n"
		"HOME_URL=\"https://www.debian.org/\"\n";
	static const char escaped[] = "PRETTY_NAME=\"say \\\"hi\\\" \\$HOME\"\n";
	struct sbom_distro distro;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(os_release_parse(text, strlen(text), &distro, &err), 0);
	assert_string_equal(distro.id, "debian");
	assert_string_equal(distro.version_id, "12");
	assert_string_equal(distro.codename, "bookworm");
	assert_string_equal(distro.pretty_name, "Debian GNU/Linux 12 (bookworm)");
	sbom_distro_free(&distro);

	assert_int_equal(os_release_parse(escaped, strlen(escaped), &distro, &err), 0);
	assert_string_equal(distro.pretty_name, "say \"hi\" $HOME");
	assert_null(distro.id);
	sbom_distro_free(&distro);

	assert_int_equal(os_release_parse("ID=\"debian\n", 11, &distro, &err), WD_EINVAL);
	assert_string_equal(err.detail, "os-release line 1: unterminated quote");
	assert_null(distro.id);
}

static void os_release_falls_back(void **state)
{
	char dir[] = "/tmp/wd-test-osrel-XXXXXX";
	char command[128];
	struct sbom_distro distro;
	struct wd_error err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(os_release_read(dir, &distro, &err), WD_ENOTFOUND);

	write_file(dir, "usr/lib/os-release", "ID=debian\nVERSION_ID=\"11\"\n");
	assert_int_equal(os_release_read(dir, &distro, &err), 0);
	assert_string_equal(distro.version_id, "11");
	sbom_distro_free(&distro);

	/* etc/os-release wins over usr/lib/os-release. */
	write_file(dir, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
	assert_int_equal(os_release_read(dir, &distro, &err), 0);
	assert_string_equal(distro.version_id, "12");
	sbom_distro_free(&distro);

	snprintf(command, sizeof(command), "rm -rf %s", dir);
	assert_int_equal(system(command), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_parses_installed),
		cmocka_unit_test(status_skips_not_installed),
		cmocka_unit_test(status_rejects_malformed),
		cmocka_unit_test(status_enforces_ceilings),
		cmocka_unit_test(catalog_reads_status_d),
		cmocka_unit_test(catalog_empty_root),
		cmocka_unit_test(os_release_parses_quotes),
		cmocka_unit_test(os_release_falls_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
