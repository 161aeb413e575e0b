/* libFuzzer harness: parses arbitrary bytes as a dpkg status file, with and
 * without the Status requirement, builds the purls, and checks that every
 * package has the fields the document writers rely on. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supply/sbom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sbom_distro distro = {
		.id = (char *)"debian",
		.version_id = (char *)"12",
	};

	for (int require_status = 0; require_status <= 1; require_status++) {
		struct sbom_catalog catalog;
		struct wd_error err = { 0 };
		int rc;

		sbom_catalog_init(&catalog, 1000);
		rc = dpkg_status_parse((const char *)data, size, require_status, &catalog, &err);

		/* Invariants: a failure has a detail; every package has a name and
		 * a version, and gets a purl. */
		if (rc < 0 && err.detail[0] == '\0')
			__builtin_trap();
		for (size_t i = 0; i < catalog.count; i++) {
			if (!catalog.packages[i].name || !catalog.packages[i].version)
				__builtin_trap();
		}
		if (rc == 0) {
			sbom_catalog_sort(&catalog);
			if (sbom_catalog_set_purls(&catalog, &distro, &err) == 0) {
				for (size_t i = 0; i < catalog.count; i++) {
					if (strncmp(catalog.packages[i].purl, "pkg:deb/debian/", 15))
						__builtin_trap();
				}
			}
		}
		sbom_catalog_free(&catalog);
	}
	return 0;
}
