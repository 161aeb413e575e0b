/* libFuzzer harness: parses arbitrary bytes as an apk installed database,
 * builds the purls, and checks that every package has the fields the
 * document writers rely on. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supply/catalog_os.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sbom_distro distro = {
		.id = (char *)"alpine",
		.version_id = (char *)"3.19.1",
	};
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	int rc;

	sbom_catalog_init(&catalog, 1000);
	rc = apk_installed_parse((const char *)data, size, &catalog, &err);

	/* Invariants: a failure has a detail. Every package has a type, a name,
	 * a version and no origin equal to its name, and gets an apk purl. */
	if (rc < 0 && err.detail[0] == '\0')
		__builtin_trap();
	for (size_t i = 0; i < catalog.count; i++) {
		const struct sbom_package *pkg = &catalog.packages[i];

		if (pkg->type != SBOM_TYPE_APK || !pkg->name || !pkg->version ||
		    (pkg->source && strcmp(pkg->source, pkg->name) == 0))
			__builtin_trap();
	}
	if (rc == 0) {
		sbom_catalog_sort(&catalog);
		if (sbom_catalog_set_purls(&catalog, &distro, &err) == 0) {
			for (size_t i = 0; i < catalog.count; i++) {
				if (strncmp(catalog.packages[i].purl, "pkg:apk/alpine/", 15))
					__builtin_trap();
			}
		}
	}
	sbom_catalog_free(&catalog);
	return 0;
}
