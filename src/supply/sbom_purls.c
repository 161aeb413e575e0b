/* The purls of the catalog's Debian packages, in the form Syft writes:
 * pkg:deb/debian/<name>@<version>?arch=<arch>&distro=debian-<version_id>
 * with upstream=<source> (or <source>@<version>) for a binary package built
 * from a differently named source package. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supply/purl.h"
#include "supply/sbom.h"

static int package_purl(struct sbom_package *pkg, const struct sbom_distro *distro,
	struct wd_error *err)
{
	const char *id = distro->id ? distro->id : "debian";
	char distro_value[256] = "";
	char upstream[512] = "";
	struct purl_qualifier qualifiers[3];
	size_t count = 0;

	if (distro->version_id)
		snprintf(distro_value, sizeof(distro_value), "%s-%s", id, distro->version_id);
	else if (distro->id)
		snprintf(distro_value, sizeof(distro_value), "%s", id);

	if (pkg->source && pkg->source_version)
		snprintf(upstream, sizeof(upstream), "%s@%s", pkg->source, pkg->source_version);
	else if (pkg->source)
		snprintf(upstream, sizeof(upstream), "%s", pkg->source);

	qualifiers[count++] = (struct purl_qualifier){ "arch", pkg->arch };
	qualifiers[count++] = (struct purl_qualifier){ "distro", distro_value };
	qualifiers[count++] = (struct purl_qualifier){ "upstream", upstream };

	struct purl_parts parts = {
		.type = "deb",
		.namespace = id,
		.name = pkg->name,
		.version = pkg->version,
		.qualifiers = qualifiers,
		.qualifier_count = count,
	};

	return purl_build(&parts, &pkg->purl, err);
}

int sbom_catalog_set_purls(struct sbom_catalog *catalog, const struct sbom_distro *distro,
	struct wd_error *err)
{
	for (size_t i = 0; i < catalog->count; i++) {
		struct sbom_package *pkg = &catalog->packages[i];

		if (pkg->type == SBOM_TYPE_DEB && !pkg->purl)
			WD_TRY(package_purl(pkg, distro, err));
	}
	return 0;
}
