/* libFuzzer harness: parses arbitrary bytes as an rpm header blob, builds
 * the purl of the package, and checks the parser's contract. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supply/catalog_os.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sbom_distro distro = {
		.id = (char *)"fedora",
		.version_id = (char *)"39",
	};
	struct sbom_catalog catalog;
	struct sbom_package pkg;
	struct wd_error err = { 0 };
	int rc;

	rc = rpm_header_parse(data, size, &pkg, &err);

	/* Invariants: a failure has a detail and leaves the package empty. A
	 * success has a name and a version "[epoch:]version-release". */
	if (rc < 0) {
		if (err.detail[0] == '\0' || pkg.name || pkg.version)
			__builtin_trap();
		return 0;
	}
	if (pkg.type != SBOM_TYPE_RPM || !pkg.name || !pkg.name[0] || !pkg.version ||
	    !strchr(pkg.version, '-'))
		__builtin_trap();

	sbom_catalog_init(&catalog, 1);
	if (sbom_catalog_add(&catalog, &pkg, &err) < 0)
		__builtin_trap();
	if (sbom_catalog_set_purls(&catalog, &distro, &err) == 0 &&
	    strncmp(catalog.packages[0].purl, "pkg:rpm/fedora/", 15))
		__builtin_trap();
	sbom_catalog_free(&catalog);
	return 0;
}
