/* Reading SBOM documents back into a catalog. The document's own marker
 * ("spdxVersion" or "bomFormat") decides the format, and SPDX 2.3 packages
 * are identified by their purl external references. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "supply/sbom_read_internal.h"

const char *sbom_format_name(enum sbom_format format)
{
	return format == SBOM_FORMAT_SPDX_JSON ? "spdx-json" : "cyclonedx-json";
}

int sbom_reader_set_distro(struct sbom_reader *reader, const char *id, const char *version_id,
	struct wd_error *err)
{
	char *id_copy, *version_copy = NULL;

	if (reader->distro_from_document || !id || !id[0])
		return 0;
	id_copy = strdup(id);
	if (version_id && version_id[0])
		version_copy = strdup(version_id);
	if (!id_copy || (version_id && version_id[0] && !version_copy)) {
		free(id_copy);
		free(version_copy);
		return wd_error_set(err, WD_ENOMEM, "out of memory for the distribution");
	}
	free(reader->distro->id);
	free(reader->distro->version_id);
	reader->distro->id = id_copy;
	reader->distro->version_id = version_copy;
	reader->distro_from_document = true;
	return 0;
}

int sbom_reader_add(struct sbom_reader *reader, const char *purl, const char *location,
	struct wd_error *err)
{
	struct sbom_read_stats *stats = reader->stats;
	struct sbom_distro hint = { 0 };
	struct sbom_package pkg;
	struct wd_error purl_err = { 0 };
	int rc;

	stats->entries++;
	if (!purl) {
		stats->no_purl++;
		return 0;
	}
	rc = sbom_package_from_purl(purl, &pkg, &hint, &purl_err);
	if (rc == WD_EUNSUPPORTED) {
		stats->unsupported++;
		return 0;
	}
	if (rc == WD_EINVAL) {
		if (stats->invalid++ == 0)
			snprintf(stats->first_invalid, sizeof(stats->first_invalid), "%s",
				wd_error_text(&purl_err));
		return 0;
	}
	if (rc < 0)
		return wd_error_set(err, rc, "%s", wd_error_text(&purl_err));

	/* The first distro qualifier names the distribution, unless the
	 * document named it. */
	if (hint.id && !reader->distro->id && !reader->distro_from_document) {
		reader->distro->id = hint.id;
		reader->distro->version_id = hint.version_id;
		hint = (struct sbom_distro){ 0 };
	}
	sbom_distro_free(&hint);

	if (location && !(pkg.location = strdup(location))) {
		sbom_package_free(&pkg);
		return wd_error_set(err, WD_ENOMEM, "out of memory for the packages");
	}
	rc = sbom_catalog_add(reader->catalog, &pkg, err);
	sbom_package_free(&pkg);
	return rc;
}

/* The file an SPDX package was found in, from its sourceInfo: warden
 * writes "acquired package info from /var/lib/dpkg/status; ...", Syft
 * "acquired package info from DPKG DB: /var/lib/dpkg/status". The first
 * path is kept, into out. */
static const char *spdx_location(const char *source_info, char *out, size_t size)
{
	static const char prefix[] = "acquired package info from ";
	const char *start, *colon;
	size_t len;

	if (!source_info || strncmp(source_info, prefix, strlen(prefix)))
		return NULL;
	start = source_info + strlen(prefix);
	len = strcspn(start, ";,");
	colon = memchr(start, ':', len);
	if (colon && colon[1] == ' ') {
		len -= (size_t)(colon + 2 - start);
		start = colon + 2;
	}
	if (len == 0 || len >= size || start[0] != '/')
		return NULL;
	memcpy(out, start, len);
	out[len] = '\0';
	return out;
}

/* Returns the purl of an SPDX package: the referenceLocator of its
 * external reference of type "purl" (category PACKAGE-MANAGER, spelled
 * PACKAGE_MANAGER in SPDX 2.2 documents). */
static const char *spdx_purl(json_t *package)
{
	json_t *refs = json_object_get(package, "externalRefs");
	size_t i;
	json_t *ref;

	json_array_foreach(refs, i, ref) {
		const char *type = json_string_value(json_object_get(ref, "referenceType"));
		const char *category = json_string_value(json_object_get(ref, "referenceCategory"));

		if (type && !strcmp(type, "purl") && category &&
		    (!strcmp(category, "PACKAGE-MANAGER") || !strcmp(category, "PACKAGE_MANAGER")))
			return json_string_value(json_object_get(ref, "referenceLocator"));
	}
	return NULL;
}

static int read_spdx(struct sbom_reader *reader, json_t *root, struct wd_error *err)
{
	json_t *packages = json_object_get(root, "packages");
	size_t i;
	json_t *package;

	if (packages && !json_is_array(packages))
		return wd_error_set(err, WD_EINVAL, "SPDX packages: expected an array");
	json_array_foreach(packages, i, package) {
		char location[4096];

		if (!json_is_object(package))
			return wd_error_set(err, WD_EINVAL, "SPDX packages[%zu]: expected an object", i);
		WD_TRY(sbom_reader_add(reader, spdx_purl(package),
			spdx_location(json_string_value(json_object_get(package, "sourceInfo")),
				location, sizeof(location)), err));
	}
	return 0;
}

int sbom_read(const char *text, size_t len, struct sbom_catalog *catalog,
	struct sbom_distro *distro, enum sbom_format *ret_format, struct sbom_read_stats *ret_stats,
	struct wd_error *err)
{
	struct sbom_reader reader = { .catalog = catalog, .distro = distro, .stats = ret_stats };
	json_error_t jerr;
	json_t *root;
	const char *format;
	int rc;

	*ret_stats = (struct sbom_read_stats){ 0 };
	*distro = (struct sbom_distro){ 0 };
	if (len > SBOM_READ_MAX_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "SBOM larger than %u bytes", SBOM_READ_MAX_BYTES);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return wd_error_set(err, WD_EINVAL, "invalid JSON at line %d column %d: %s",
			jerr.line, jerr.column, jerr.text);

	format = json_string_value(json_object_get(root, "bomFormat"));
	if (json_is_object(root) && json_string_value(json_object_get(root, "spdxVersion"))) {
		*ret_format = SBOM_FORMAT_SPDX_JSON;
		rc = read_spdx(&reader, root, err);
	} else if (format && !strcmp(format, "CycloneDX")) {
		*ret_format = SBOM_FORMAT_CYCLONEDX_JSON;
		rc = sbom_read_cyclonedx(&reader, root, err);
	} else {
		rc = wd_error_set(err, WD_EINVAL, "not an SPDX or CycloneDX JSON document: expected "
						  "\"spdxVersion\" or \"bomFormat\": \"CycloneDX\"");
	}
	json_decref(root);
	if (rc < 0)
		sbom_distro_free(distro);
	return rc;
}

int sbom_read_file(const char *path, struct sbom_catalog *catalog, struct sbom_distro *distro,
	enum sbom_format *ret_format, struct sbom_read_stats *ret_stats, struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	*distro = (struct sbom_distro){ 0 };
	*ret_stats = (struct sbom_read_stats){ 0 };
	rc = wd_file_read(path, SBOM_READ_MAX_BYTES, &data, &len, err);
	if (rc < 0)
		return rc;
	rc = sbom_read((const char *)data, len, catalog, distro, ret_format, ret_stats, err);
	free(data);
	if (rc < 0) {
		char reason[sizeof(err->detail)];

		snprintf(reason, sizeof(reason), "%s", err ? err->detail : "");
		return wd_error_set(err, rc, "%s: %s", path, reason);
	}
	return 0;
}
