/* The purls of the catalog's distribution packages, in the forms Syft
 * writes, with the qualifiers sorted as the purl specification requires:
 *   pkg:deb/debian/<name>@<version>?arch=<arch>&distro=debian-<version_id>
 *     with upstream=<source> (or <source>@<version>) for a binary package
 *     built from a differently named source package;
 *   pkg:apk/alpine/<name>@<version>?arch=<arch>&distro=alpine-<version_id>
 *     with upstream=<origin> when the origin differs from the name;
 *   pkg:rpm/<id>/<name>@<version>-<release>?arch=<arch>&distro=<id>-<version_id>
 *     with epoch=<epoch> when the package has one and upstream=<source rpm>. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supply/purl.h"
#include "supply/sbom.h"

/* Room for an os-release ID or VERSION_ID; longer ones are cut. */
#define DISTRO_TEXT_BYTES 256

/* Stores "<id>-<version_id>" in ret_value, or "<id>" without a VERSION_ID,
 * or "" without an ID: the distro qualifier. */
static void distro_qualifier(const struct sbom_distro *distro, const char *id,
	char ret_value[static 2 * DISTRO_TEXT_BYTES])
{
	ret_value[0] = '\0';
	if (distro->id && distro->version_id)
		snprintf(ret_value, 2 * DISTRO_TEXT_BYTES, "%s-%s", id, distro->version_id);
	else if (distro->id)
		snprintf(ret_value, 2 * DISTRO_TEXT_BYTES, "%s", id);
}

/* Stores text lowercased in ret_text: the apk and rpm purl types define a
 * lowercase namespace. */
static void lowercase(const char *text, char ret_text[static DISTRO_TEXT_BYTES])
{
	size_t i = 0;

	for (; text[i] && i + 1 < DISTRO_TEXT_BYTES; i++)
		ret_text[i] = (char)tolower((unsigned char)text[i]);
	ret_text[i] = '\0';
}

static int deb_purl(struct sbom_package *pkg, const struct sbom_distro *distro,
	struct wd_error *err)
{
	const char *id = distro->id ? distro->id : "debian";
	char distro_value[2 * DISTRO_TEXT_BYTES];
	char upstream[512] = "";
	struct purl_qualifier qualifiers[3];
	size_t count = 0;

	distro_qualifier(distro, id, distro_value);
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

/* The namespace is the os-release ID lowercased, as Syft writes it, and
 * "alpine" for a root without one. The apk cataloger leaves source unset
 * when the origin equals the name. */
static int apk_purl(struct sbom_package *pkg, const struct sbom_distro *distro,
	struct wd_error *err)
{
	char id[DISTRO_TEXT_BYTES];
	char distro_value[2 * DISTRO_TEXT_BYTES];

	lowercase(distro->id ? distro->id : "alpine", id);
	distro_qualifier(distro, distro->id ? distro->id : "", distro_value);

	struct purl_qualifier qualifiers[] = {
		{ "arch", pkg->arch },
		{ "distro", distro_value },
		{ "upstream", pkg->source },
	};
	struct purl_parts parts = {
		.type = "apk",
		.namespace = id,
		.name = pkg->name,
		.version = pkg->version,
		.qualifiers = qualifiers,
		.qualifier_count = WD_ARRAY_LEN(qualifiers),
	};

	return purl_build(&parts, &pkg->purl, err);
}

/* The namespace of an rpm purl, as Syft chooses it: the os-release ID, with
 * Red Hat's "rhel" written "redhat" and every openSUSE flavour "opensuse".
 * A root without an ID gets none. */
static void rpm_namespace(const struct sbom_distro *distro, char ret_text[static DISTRO_TEXT_BYTES])
{
	ret_text[0] = '\0';
	if (!distro->id)
		return;
	lowercase(distro->id, ret_text);
	if (strcmp(ret_text, "rhel") == 0)
		snprintf(ret_text, DISTRO_TEXT_BYTES, "redhat");
	else if (strncmp(ret_text, "opensuse", strlen("opensuse")) == 0)
		snprintf(ret_text, DISTRO_TEXT_BYTES, "opensuse");
}

/* The rpm cataloger writes the version as "[epoch:]version-release", and
 * the purl carries the epoch as a qualifier and version-release as its
 * version. The cataloger rejects a ':' in the version or release, so the
 * first ':' ends the epoch. */
static int rpm_purl(struct sbom_package *pkg, const struct sbom_distro *distro,
	struct wd_error *err)
{
	char namespace[DISTRO_TEXT_BYTES];
	char distro_value[2 * DISTRO_TEXT_BYTES];
	char epoch[32] = "";
	const char *version = pkg->version;
	const char *colon = strchr(version, ':');

	if (colon && (size_t)(colon - version) < sizeof(epoch)) {
		memcpy(epoch, version, (size_t)(colon - version));
		epoch[colon - version] = '\0';
		version = colon + 1;
	}
	rpm_namespace(distro, namespace);
	distro_qualifier(distro, distro->id ? distro->id : "", distro_value);

	struct purl_qualifier qualifiers[] = {
		{ "arch", pkg->arch },
		{ "distro", distro_value },
		{ "epoch", epoch },
		{ "upstream", pkg->source },
	};
	struct purl_parts parts = {
		.type = "rpm",
		.namespace = namespace,
		.name = pkg->name,
		.version = version,
		.qualifiers = qualifiers,
		.qualifier_count = WD_ARRAY_LEN(qualifiers),
	};

	return purl_build(&parts, &pkg->purl, err);
}

/* The package types whose purl depends on the distribution. Catalogers of
 * other types set their purls themselves. */
static const struct {
	enum sbom_package_type type;
	int (*build)(struct sbom_package *pkg, const struct sbom_distro *distro,
		struct wd_error *err);
} purl_builders[] = {
	{ SBOM_TYPE_DEB, deb_purl },
	{ SBOM_TYPE_APK, apk_purl },
	{ SBOM_TYPE_RPM, rpm_purl },
};

int sbom_catalog_set_purls(struct sbom_catalog *catalog, const struct sbom_distro *distro,
	struct wd_error *err)
{
	for (size_t i = 0; i < catalog->count; i++) {
		struct sbom_package *pkg = &catalog->packages[i];

		for (size_t b = 0; b < WD_ARRAY_LEN(purl_builders) && !pkg->purl; b++) {
			if (purl_builders[b].type == pkg->type)
				WD_TRY(purl_builders[b].build(pkg, distro, err));
		}
	}
	return 0;
}
