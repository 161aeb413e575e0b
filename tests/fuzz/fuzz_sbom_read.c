/* libFuzzer harness: reads arbitrary bytes as an SPDX or CycloneDX JSON
 * SBOM and as an ignore file of `warden scan`, the two documents a scan
 * takes besides the OSV records. */
#include <stddef.h>
#include <stdint.h>

#include "supply/sbom_read.h"
#include "supply/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbom_catalog catalog;
	struct sbom_distro distro;
	struct sbom_read_stats stats;
	struct scan_ignore ignore;
	enum sbom_format format;
	struct wd_error err = { 0 };

	sbom_catalog_init(&catalog, 1000);
	if (sbom_read((const char *)data, size, &catalog, &distro, &format, &stats, &err) == 0) {
		for (size_t i = 0; i < catalog.count; i++) {
			if (!catalog.packages[i].name || !catalog.packages[i].version)
				__builtin_trap();
		}
		if (stats.entries < catalog.count)
			__builtin_trap();
		sbom_distro_free(&distro);
	} else if (!err.detail[0]) {
		__builtin_trap();
	}
	sbom_catalog_free(&catalog);

	err = (struct wd_error){ 0 };
	if (scan_ignore_parse((const char *)data, size, 1736942400, &ignore, &err) == 0) {
		for (size_t i = 0; i < ignore.count; i++) {
			if (!ignore.rules[i].id || !ignore.rules[i].reason)
				__builtin_trap();
		}
		scan_ignore_free(&ignore);
	} else if (!err.detail[0]) {
		__builtin_trap();
	}
	return 0;
}
