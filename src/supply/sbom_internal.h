/* Helpers shared by the SBOM document writers. */
#pragma once

#include <jansson.h>

#include "supply/sbom.h"

/* Stores subject->created as "YYYY-MM-DDThh:mm:ssZ" (UTC) in ret_text. */
WD_MUST_CHECK int sbom_format_time(long long seconds, char ret_text[static 32],
	struct wd_error *err);

/* Stores in ret_uuid (37 bytes) the RFC 9562 version 5 UUID (SHA-1, URL
 * namespace) of "warden-sbom:<content hash>", so the same content always
 * gets the same identifier. */
WD_MUST_CHECK int sbom_document_uuid(const struct sbom_catalog *catalog,
	const struct sbom_subject *subject, char ret_uuid[static 37], struct wd_error *err);

/* Stores in ret_id "<kind>-<name>-<16 hex digits>", with every character
 * outside [A-Za-z0-9.-] of the name replaced by '-', as SPDX identifiers
 * allow. The digest keeps ids of equal names apart: SHA-256 of the purl for
 * OS packages, and of the purl, location and file digest for the others. */
WD_MUST_CHECK int sbom_package_id(const struct sbom_package *pkg, const char *kind,
	char *ret_id, size_t size, struct wd_error *err);

/* Serializes root (indented, keys sorted, ending in a newline) into
 * ret_text and releases root. */
WD_MUST_CHECK int sbom_json_finish(json_t *root, char **ret_text, struct wd_error *err);

/* Sets key of object to a new string of value; -1 when memory runs out. */
WD_MUST_CHECK int sbom_json_set_string(json_t *object, const char *key, const char *value);

/* Makes the CycloneDX metadata.component describe the image of subject:
 * type "container", the digest as version and as SHA-256 hash. */
WD_MUST_CHECK int sbom_cyclonedx_set_image(json_t *component, const struct sbom_subject *subject);

/* Builds the SPDX package of the image of subject, with SPDXID id:
 * primaryPackagePurpose CONTAINER, the digest as versionInfo and checksum.
 * NULL when memory runs out. */
json_t *sbom_spdx_image_package(const struct sbom_subject *subject, const char *id);
