/* SPDX 2.3 JSON documents (SPDX specification 2.3, clauses 6 to 11): one
 * package per catalog entry, described by the document. */
#include <stdio.h>
#include <string.h>

#include "supply/sbom_internal.h"

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

static json_t *spdx_package(const struct sbom_package *pkg, const char *spdx_id)
{
	char supplier[SBOM_MAX_FIELD_BYTES + 16];
	json_t *object = json_object();
	json_t *refs = json_array();
	json_t *ref = json_object();
	int failed = !object || !refs || !ref;

	/* deb-control(5) Maintainer is "Name <email>"; SPDX 7.5 wants the
	 * supplier as "Person: name (email)" or NOASSERTION, and Syft writes the
	 * Maintainer text after "Person: " unchanged. */
	if (pkg->maintainer)
		snprintf(supplier, sizeof(supplier), "Person: %s", pkg->maintainer);
	else
		snprintf(supplier, sizeof(supplier), "NOASSERTION");

	failed = failed || sbom_json_set_string(object, "SPDXID", spdx_id) < 0 ||
		 sbom_json_set_string(object, "name", pkg->name) < 0 ||
		 sbom_json_set_string(object, "versionInfo", pkg->version) < 0 ||
		 sbom_json_set_string(object, "supplier", supplier) < 0 ||
		 sbom_json_set_string(object, "downloadLocation", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "licenseConcluded", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "licenseDeclared", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "copyrightText", "NOASSERTION") < 0 ||
		 json_object_set_new(object, "filesAnalyzed", json_false()) < 0 ||
		 sbom_json_set_string(ref, "referenceCategory", "PACKAGE-MANAGER") < 0 ||
		 sbom_json_set_string(ref, "referenceType", "purl") < 0 ||
		 sbom_json_set_string(ref, "referenceLocator", pkg->purl) < 0 ||
		 json_array_append(refs, ref) < 0 ||
		 json_object_set(object, "externalRefs", refs) < 0;
	if (!failed && pkg->source) {
		char info[2 * SBOM_MAX_FIELD_BYTES + 64];

		snprintf(info, sizeof(info), "built from source package %s%s%s", pkg->source,
			pkg->source_version ? " " : "",
			pkg->source_version ? pkg->source_version : "");
		failed = sbom_json_set_string(object, "sourceInfo", info) < 0;
	}

	json_decref(ref);
	json_decref(refs);
	if (failed) {
		json_decref(object);
		return NULL;
	}
	return object;
}

static json_t *spdx_relationship(const char *id)
{
	json_t *object = json_object();

	if (!object || sbom_json_set_string(object, "spdxElementId", "SPDXRef-DOCUMENT") < 0 ||
	    sbom_json_set_string(object, "relatedSpdxElement", id) < 0 ||
	    sbom_json_set_string(object, "relationshipType", "DESCRIBES") < 0) {
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

	for (size_t i = 0; i < catalog->count; i++) {
		char id[SBOM_MAX_FIELD_BYTES + 64];

		WD_GUARD(sbom_package_id(&catalog->packages[i], "SPDXRef-Package-deb", id,
			sizeof(id), err));
		WD_ENSURE(json_array_append_new(packages, spdx_package(&catalog->packages[i], id))
			== 0, WD_ENOMEM);
		WD_ENSURE(json_array_append_new(relationships, spdx_relationship(id)) == 0,
			WD_ENOMEM);
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
