/* libFuzzer harness: parses arbitrary bytes as Python core metadata and
 * checks that a parsed package has the fields and purl the writers use. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supply/catalog_lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbom_package pkg;
	struct wd_error err = { 0 };
	int rc = python_metadata_parse((const char *)data, size, &pkg, &err);

	/* Invariants: a failure has a detail and leaves the package empty; a
	 * success has a name, a version and a pypi purl. */
	if (rc < 0 && (err.detail[0] == '\0' || pkg.name || pkg.purl))
		__builtin_trap();
	if (rc == 0 && (!pkg.name || !pkg.version || !pkg.purl ||
			strncmp(pkg.purl, "pkg:pypi/", 9) != 0))
		__builtin_trap();
	sbom_package_free(&pkg);
	return 0;
}
