/* SPDX 2.3 JSON documents (SPDX specification 2.3, clauses 6 to 11): one
 * package per catalog entry, described by the document. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "supply/sbom_internal.h"

/* The SPDXID of the image package in an image's document. */
#define SPDX_IMAGE_ID "SPDXRef-DocumentRoot-Image"

static json_t *spdx_creation_info(const struct sbom_subject *subject, struct wd_error *err)
{
	char created[32];
	char tool[128];
	json_t *info, *creators;

	if (sbom_format_time(subject->created, created, err) < 0)
		return NULL;
	snprintf(tool, sizeof(tool), "Tool: warden-%s", subject->tool_version);

	creators = json_array();
	info = json_object();
	if (!creators || !info || json_array_append_new(creators, json_string(tool)) < 0 ||
	    sbom_json_set_string(info, "created", created) < 0 ||
	    json_object_set(info, "creators", creators) < 0) {
		json_decref(creators);
		json_decref(info);
		wd_error_set(err, WD_ENOMEM, "out of memory");
		return NULL;
	}
	json_decref(creators);
	return info;
}

/* An externalRefs item: {"referenceCategory", "referenceType",
 * "referenceLocator"}; NULL when memory runs out. */
static json_t *spdx_external_ref(const char *category, const char *type, const char *locator)
{
	json_t *ref = json_object();

	if (!ref || sbom_json_set_string(ref, "referenceCategory", category) < 0 ||
	    sbom_json_set_string(ref, "referenceType", type) < 0 ||
	    sbom_json_set_string(ref, "referenceLocator", locator) < 0) {
		json_decref(ref);
		return NULL;
	}
	return ref;
}

/* True when license is one SPDX license identifier ("MIT", "Apache-2.0"),
 * which licenseDeclared takes as it is; free text becomes NOASSERTION. */
static bool is_license_id(const char *license)
{
	if (!license || !license[0])
		return false;
	for (const char *p = license; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+'))
			return false;
	}
	return true;
}

/* The package's checksums: its file's SHA-256 when the cataloger took one. */
static int spdx_set_checksums(json_t *object, const struct sbom_package *pkg)
{
	json_t *checksums, *checksum;

	if (!pkg->sha256)
		return 0;
	checksums = json_array();
	checksum = json_object();
	if (!checksums || !checksum || sbom_json_set_string(checksum, "algorithm", "SHA256") < 0 ||
	    sbom_json_set_string(checksum, "checksumValue", pkg->sha256) < 0 ||
	    json_array_append(checksums, checksum) < 0 ||
	    json_object_set(object, "checksums", checksums) < 0) {
		json_decref(checksum);
		json_decref(checksums);
		return -1;
	}
	json_decref(checksum);
	json_decref(checksums);
	return 0;
}

/* sourceInfo: the file the package was found in and, for a binary package
 * built from a differently named source, that source. */
static int spdx_set_source_info(json_t *object, const struct sbom_package *pkg)
{
	char info[3 * SBOM_MAX_FIELD_BYTES + 128];
	int len = 0;

	if (!pkg->location && !pkg->source)
		return 0;
	if (pkg->location)
		len = snprintf(info, sizeof(info), "acquired package info from %s", pkg->location);
	if (pkg->source)
		snprintf(info + len, sizeof(info) - (size_t)len, "%sbuilt from source package %s%s%s",
			len ? "; " : "", pkg->source, pkg->source_version ? " " : "",
			pkg->source_version ? pkg->source_version : "");
	return sbom_json_set_string(object, "sourceInfo", info);
}

static json_t *spdx_package(const struct sbom_package *pkg, const char *spdx_id)
{
	char supplier[SBOM_MAX_FIELD_BYTES + 16];
	json_t *object = json_object();
	json_t *refs = json_array();
	int failed = !object || !refs;

	/* deb-control(5) Maintainer is "Name <email>"; SPDX 7.5 wants the
	 * supplier as "Person: name (email)" or NOASSERTION, and Syft writes the
	 * Maintainer text after "Person: " unchanged. An rpm's maintainer is its
	 * VENDOR, which Syft writes as an organization. */
	if (pkg->maintainer)
		snprintf(supplier, sizeof(supplier), "%s: %s",
			pkg->type == SBOM_TYPE_RPM ? "Organization" : "Person", pkg->maintainer);
	else
		snprintf(supplier, sizeof(supplier), "NOASSERTION");

	failed = failed || sbom_json_set_string(object, "SPDXID", spdx_id) < 0 ||
		 sbom_json_set_string(object, "name", pkg->name) < 0 ||
		 (pkg->version && sbom_json_set_string(object, "versionInfo", pkg->version) < 0) ||
		 (pkg->type == SBOM_TYPE_BINARY &&
		  sbom_json_set_string(object, "primaryPackagePurpose", "APPLICATION") < 0) ||
		 sbom_json_set_string(object, "supplier", supplier) < 0 ||
		 sbom_json_set_string(object, "downloadLocation", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "licenseConcluded", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "licenseDeclared",
			 is_license_id(pkg->license) ? pkg->license : "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "copyrightText", "NOASSERTION") < 0 ||
		 json_object_set_new(object, "filesAnalyzed", json_false()) < 0 ||
		 (pkg->cpe && json_array_append_new(refs,
			 spdx_external_ref("SECURITY", "cpe23Type", pkg->cpe)) < 0) ||
		 (pkg->purl && json_array_append_new(refs,
			 spdx_external_ref("PACKAGE-MANAGER", "purl", pkg->purl)) < 0) ||
		 (json_array_size(refs) > 0 && json_object_set(object, "externalRefs", refs) < 0) ||
		 spdx_set_checksums(object, pkg) < 0 ||
		 spdx_set_source_info(object, pkg) < 0;

	json_decref(refs);
	if (failed) {
		json_decref(object);
		return NULL;
	}
	return object;
}

static json_t *spdx_relationship(const char *from, const char *type, const char *to)
{
	json_t *object = json_object();

	if (!object || sbom_json_set_string(object, "spdxElementId", from) < 0 ||
	    sbom_json_set_string(object, "relatedSpdxElement", to) < 0 ||
	    sbom_json_set_string(object, "relationshipType", type) < 0) {
		json_decref(object);
		return NULL;
	}
	return object;
}

int sbom_spdx_write(const struct sbom_catalog *catalog, const struct sbom_distro *distro,
	const struct sbom_subject *subject, char **ret_text, struct wd_error *err)
{
	char uuid[37];
	char namespace[128];
	json_t *root = NULL, *packages = NULL, *relationships = NULL, *info = NULL;
	int rc = 0;

	(void)distro;
	*ret_text = NULL;
	WD_GUARD(sbom_document_uuid(catalog, subject, uuid, err));
	snprintf(namespace, sizeof(namespace), "https://spdx.org/spdxdocs/warden-%s", uuid);

	info = spdx_creation_info(subject, err);
	WD_ENSURE(info, err && err->code ? err->code : WD_ENOMEM);
	root = json_object();
	packages = json_array();
	relationships = json_array();
	WD_ENSURE(root && packages && relationships, WD_ENOMEM);

	/* An image is the package the document describes, and it contains
	 * the packages found in it; a directory's packages are described
	 * directly. */
	if (subject->image_digest) {
		WD_ENSURE(json_array_append_new(packages,
			sbom_spdx_image_package(subject, SPDX_IMAGE_ID)) == 0, WD_ENOMEM);
		WD_ENSURE(json_array_append_new(relationships, spdx_relationship(
			"SPDXRef-DOCUMENT", "DESCRIBES", SPDX_IMAGE_ID)) == 0, WD_ENOMEM);
	}
	for (size_t i = 0; i < catalog->count; i++) {
		const struct sbom_package *pkg = &catalog->packages[i];
		char id[SBOM_MAX_FIELD_BYTES + 64];
		char kind[64];

		snprintf(kind, sizeof(kind), "SPDXRef-Package-%s", sbom_package_type_name(pkg->type));
		WD_GUARD(sbom_package_id(pkg, kind, id, sizeof(id), err));
		WD_ENSURE(json_array_append_new(packages, spdx_package(&catalog->packages[i], id))
			== 0, WD_ENOMEM);
		WD_ENSURE(json_array_append_new(relationships, subject->image_digest ?
			spdx_relationship(SPDX_IMAGE_ID, "CONTAINS", id) :
			spdx_relationship("SPDXRef-DOCUMENT", "DESCRIBES", id)) == 0, WD_ENOMEM);
	}

	WD_ENSURE(sbom_json_set_string(root, "spdxVersion", "SPDX-2.3") == 0 &&
		  sbom_json_set_string(root, "dataLicense", "CC0-1.0") == 0 &&
		  sbom_json_set_string(root, "SPDXID", "SPDXRef-DOCUMENT") == 0 &&
		  sbom_json_set_string(root, "name", subject->name) == 0 &&
		  sbom_json_set_string(root, "documentNamespace", namespace) == 0 &&
		  json_object_set(root, "creationInfo", info) == 0 &&
		  json_object_set(root, "packages", packages) == 0 &&
		  json_object_set(root, "relationships", relationships) == 0, WD_ENOMEM);

	rc = sbom_json_finish(root, ret_text, err);
	root = NULL;
out:
	json_decref(info);
	json_decref(packages);
	json_decref(relationships);
	json_decref(root);
	if (rc == WD_ENOMEM && err && err->code == 0)
		wd_error_set(err, rc, "out of memory for the SPDX document");
	return rc;
}
