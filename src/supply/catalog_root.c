/* Every cataloger run over one root filesystem, in a fixed order so the
 * catalog does not depend on which cataloger finds a package first. */
#include "supply/catalog_os.h"
#include "supply/catalog_lang.h"
#include "supply/sbom.h"

struct cataloger {
	const char *name;
	int (*run)(const char *root, struct sbom_catalog *catalog, struct wd_error *err);
};

/* Catalogers add one row each here. */
static const struct cataloger catalogers[] = {
	{ "dpkg", dpkg_catalog_root },
	{ "apk", apk_catalog_root },
	{ "rpm", rpm_catalog_root },
	/* These share one walk of the root (sbom_catalog_files). */
	{ "python", python_catalog_root },
	{ "npm", npm_catalog_root },
	{ "binary", binaries_catalog_root },
};

int sbom_catalog_root(const char *root, struct sbom_catalog *catalog, struct wd_error *err)
{
	for (size_t i = 0; i < sizeof(catalogers) / sizeof(catalogers[0]); i++) {
		int rc = catalogers[i].run(root, catalog, err);

		if (rc < 0)
			return rc;
	}
	return 0;
}
