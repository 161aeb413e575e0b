/* CycloneDX 1.5 JSON documents: the target as metadata.component and one
 * library component per catalog entry. */
#include <stdio.h>
#include <string.h>

#include "supply/sbom_internal.h"

/* Appends {"name": name, "value": value} to properties when value is set. */
static int add_property(json_t *properties, const char *name, const char *value)
{
	json_t *property;

	if (!value)
		return 0;
	property = json_object();
	if (!property || sbom_json_set_string(property, "name", name) < 0 ||
	    sbom_json_set_string(property, "value", value) < 0) {
		json_decref(property);
		return -1;
	}
	return json_array_append_new(properties, property);
}

/* Sets "licenses": [{"license": {"name": license}}] when the package
 * declares a license; the name form takes any text. */
static int set_license(json_t *object, const char *license)
{
	json_t *licenses, *choice, *named;

	if (!license)
		return 0;
	licenses = json_array();
	choice = json_object();
	named = json_object();
	if (!licenses || !choice || !named || sbom_json_set_string(named, "name", license) < 0 ||
	    json_object_set(choice, "license", named) < 0 ||
	    json_array_append(licenses, choice) < 0 ||
	    json_object_set(object, "licenses", licenses) < 0) {
		json_decref(named);
		json_decref(choice);
		json_decref(licenses);
		return -1;
	}
	json_decref(named);
	json_decref(choice);
	json_decref(licenses);
	return 0;
}

/* Sets "hashes": [{"alg": "SHA-256", "content": hex}] for a file digest. */
static int set_hashes(json_t *object, const char *sha256)
{
	json_t *hashes, *hash;

	if (!sha256)
		return 0;
	hashes = json_array();
	hash = json_object();
	if (!hashes || !hash || sbom_json_set_string(hash, "alg", "SHA-256") < 0 ||
	    sbom_json_set_string(hash, "content", sha256) < 0 ||
	    json_array_append(hashes, hash) < 0 || json_object_set(object, "hashes", hashes) < 0) {
		json_decref(hash);
		json_decref(hashes);
		return -1;
	}
	json_decref(hash);
	json_decref(hashes);
	return 0;
}

static json_t *cyclonedx_component(const struct sbom_package *pkg, struct wd_error *err)
{
	const char *type = sbom_package_type_name(pkg->type);
	char ref[SBOM_MAX_FIELD_BYTES + 64];
	char kind[64];
	json_t *object, *properties;
	int failed;

	snprintf(kind, sizeof(kind), "pkg-%s", type);
	if (sbom_package_id(pkg, kind, ref, sizeof(ref), err) < 0)
		return NULL;
	object = json_object();
	properties = json_array();
	failed = !object || !properties ||
		 sbom_json_set_string(object, "bom-ref", ref) < 0 ||
		 sbom_json_set_string(object, "type",
			 pkg->type == SBOM_TYPE_BINARY ? "application" : "library") < 0 ||
		 sbom_json_set_string(object, "name", pkg->name) < 0 ||
		 (pkg->version && sbom_json_set_string(object, "version", pkg->version) < 0) ||
		 (pkg->purl && sbom_json_set_string(object, "purl", pkg->purl) < 0) ||
		 (pkg->cpe && sbom_json_set_string(object, "cpe", pkg->cpe) < 0) ||
		 set_license(object, pkg->license) < 0 ||
		 set_hashes(object, pkg->sha256) < 0 ||
		 (pkg->maintainer &&
		  sbom_json_set_string(object, "publisher", pkg->maintainer) < 0) ||
		 add_property(properties, "warden:package:type", type) < 0 ||
		 add_property(properties, "warden:location:0:path", pkg->location) < 0 ||
		 add_property(properties, "warden:metadata:architecture", pkg->arch) < 0 ||
		 add_property(properties, "warden:metadata:installedSize",
			 pkg->installed_size) < 0 ||
		 add_property(properties, "warden:metadata:source", pkg->source) < 0 ||
		 add_property(properties, "warden:metadata:sourceVersion",
			 pkg->source_version) < 0 ||
		 json_object_set(object, "properties", properties) < 0;
	json_decref(properties);
	if (failed) {
		json_decref(object);
		wd_error_set(err, WD_ENOMEM, "out of memory for component %.64s", pkg->name);
		return NULL;
	}
	return object;
}

static json_t *cyclonedx_metadata(const struct sbom_distro *distro,
	const struct sbom_subject *subject, const char *uuid, struct wd_error *err)
{
	char timestamp[32];
	char ref[64];
	json_t *metadata = json_object(), *tools = json_object(), *tool_list = json_array();
	json_t *tool = json_object(), *component = json_object(), *properties = json_array();
	int failed;

	failed = sbom_format_time(subject->created, timestamp, err) < 0;
	snprintf(ref, sizeof(ref), "target-%.8s", uuid);
	failed = failed || !metadata || !tools || !tool_list || !tool || !component ||
		 !properties ||
		 sbom_json_set_string(tool, "type", "application") < 0 ||
		 sbom_json_set_string(tool, "name", "warden") < 0 ||
		 sbom_json_set_string(tool, "version", subject->tool_version) < 0 ||
		 json_array_append(tool_list, tool) < 0 ||
		 json_object_set(tools, "components", tool_list) < 0 ||
		 sbom_json_set_string(component, "bom-ref", ref) < 0 ||
		 sbom_json_set_string(component, "type", "file") < 0 ||
		 sbom_json_set_string(component, "name", subject->name) < 0 ||
		 (subject->image_digest && sbom_cyclonedx_set_image(component, subject) < 0) ||
		 add_property(properties, "warden:image:id", subject->image_id) < 0 ||
		 add_property(properties, "warden:distro:id", distro->id) < 0 ||
		 add_property(properties, "warden:distro:versionID", distro->version_id) < 0 ||
		 add_property(properties, "warden:distro:codename", distro->codename) < 0 ||
		 add_property(properties, "warden:distro:prettyName", distro->pretty_name) < 0 ||
		 (json_array_size(properties) > 0 &&
		  json_object_set(component, "properties", properties) < 0) ||
		 sbom_json_set_string(metadata, "timestamp", timestamp) < 0 ||
		 json_object_set(metadata, "tools", tools) < 0 ||
		 json_object_set(metadata, "component", component) < 0;

	json_decref(tools);
	json_decref(tool_list);
	json_decref(tool);
	json_decref(component);
	json_decref(properties);
	if (failed) {
		json_decref(metadata);
		if (err && err->code == 0)
			wd_error_set(err, WD_ENOMEM, "out of memory for the CycloneDX metadata");
		return NULL;
	}
	return metadata;
}

int sbom_cyclonedx_write(const struct sbom_catalog *catalog, const struct sbom_distro *distro,
	const struct sbom_subject *subject, char **ret_text, struct wd_error *err)
{
	char uuid[37];
	char serial[64];
	json_t *root = NULL, *metadata = NULL, *components = NULL;
	int rc = 0;

	*ret_text = NULL;
	WD_GUARD(sbom_document_uuid(catalog, subject, uuid, err));
	snprintf(serial, sizeof(serial), "urn:uuid:%s", uuid);

	metadata = cyclonedx_metadata(distro, subject, uuid, err);
	WD_ENSURE(metadata, err && err->code ? err->code : WD_ENOMEM);
	root = json_object();
	components = json_array();
	WD_ENSURE(root && components, WD_ENOMEM);

	for (size_t i = 0; i < catalog->count; i++) {
		json_t *component = cyclonedx_component(&catalog->packages[i], err);

		WD_ENSURE(component, err && err->code ? err->code : WD_ENOMEM);
		WD_ENSURE(json_array_append_new(components, component) == 0, WD_ENOMEM);
	}

	WD_ENSURE(sbom_json_set_string(root, "bomFormat", "CycloneDX") == 0 &&
		  sbom_json_set_string(root, "specVersion", "1.5") == 0 &&
		  sbom_json_set_string(root, "serialNumber", serial) == 0 &&
		  json_object_set_new(root, "version", json_integer(1)) == 0 &&
		  json_object_set(root, "metadata", metadata) == 0 &&
		  json_object_set(root, "components", components) == 0, WD_ENOMEM);

	rc = sbom_json_finish(root, ret_text, err);
	root = NULL;
out:
	json_decref(metadata);
	json_decref(components);
	json_decref(root);
	if (rc == WD_ENOMEM && err && err->code == 0)
		wd_error_set(err, rc, "out of memory for the CycloneDX document");
	return rc;
}
