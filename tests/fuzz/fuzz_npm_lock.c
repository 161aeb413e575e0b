/* libFuzzer harness: parses arbitrary bytes as an npm lock file and as a
 * package.json, and checks what a failure leaves and what a success adds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supply/catalog_lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_npm_package(const struct sbom_package *pkg)
{
	if (!pkg->name || !pkg->version || !pkg->purl || strncmp(pkg->purl, "pkg:npm/", 8) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbom_catalog catalog;
	struct sbom_package pkg;
	struct wd_error err = { 0 };
	int rc;

	/* Invariants: a failed parse has a detail and adds nothing; every
	 * package added has a location, a name, a version and an npm purl. */
	sbom_catalog_init(&catalog, 1000);
	rc = npm_lock_parse((const char *)data, size, "/package-lock.json", &catalog, &err);
	if (rc < 0 && (err.detail[0] == '\0' || catalog.count != 0))
		__builtin_trap();
	for (size_t i = 0; i < catalog.count; i++) {
		check_npm_package(&catalog.packages[i]);
		if (!catalog.packages[i].location)
			__builtin_trap();
	}
	sbom_catalog_free(&catalog);

	memset(&err, 0, sizeof(err));
	rc = npm_package_json_parse((const char *)data, size, &pkg, &err);
	if (rc < 0 && (err.detail[0] == '\0' || pkg.name))
		__builtin_trap();
	if (rc == 0)
		check_npm_package(&pkg);
	sbom_package_free(&pkg);
	return 0;
}
