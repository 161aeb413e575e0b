/* Shared steps of the SPDX and CycloneDX readers. */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "supply/sbom_read.h"

struct sbom_reader {
	struct sbom_catalog *catalog;
	struct sbom_distro *distro;
	bool distro_from_document;  /* the document named the distribution itself */
	struct sbom_read_stats *stats;
};

/* Adds the package of one SPDX package or CycloneDX component, given its
 * purl (NULL when it has none) and the file it was found in (or NULL).
 * Unusable purls are counted, not fatal; WD_ETOOBIG and WD_ENOMEM are. */
WD_MUST_CHECK int sbom_reader_add(struct sbom_reader *reader, const char *purl,
	const char *location, struct wd_error *err);

/* Sets the distribution from the document when it names one; the first
 * call wins over the purls' distro qualifiers. */
WD_MUST_CHECK int sbom_reader_set_distro(struct sbom_reader *reader, const char *id,
	const char *version_id, struct wd_error *err);

/* Reads the packages of a parsed CycloneDX document. */
WD_MUST_CHECK int sbom_read_cyclonedx(struct sbom_reader *reader, json_t *root,
	struct wd_error *err);
