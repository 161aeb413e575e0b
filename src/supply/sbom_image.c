/* The image a document describes, when the target was a container image:
 * the CycloneDX metadata component and the SPDX package. */
#include <string.h>

#include "supply/sbom_internal.h"

/* The hex part of "sha256:<hex>". */
static const char *digest_hex(const char *digest)
{
	const char *colon = strchr(digest, ':');

	return colon ? colon + 1 : digest;
}

int sbom_cyclonedx_set_image(json_t *component, const struct sbom_subject *subject)
{
	json_t *hashes = json_array(), *hash = json_object();
	int failed;

	failed = !hashes || !hash ||
		 sbom_json_set_string(component, "type", "container") < 0 ||
		 sbom_json_set_string(component, "version", subject->image_digest) < 0 ||
		 sbom_json_set_string(hash, "alg", "SHA-256") < 0 ||
		 sbom_json_set_string(hash, "content", digest_hex(subject->image_digest)) < 0 ||
		 json_array_append(hashes, hash) < 0 ||
		 json_object_set(component, "hashes", hashes) < 0;
	json_decref(hashes);
	json_decref(hash);
	return failed ? -1 : 0;
}

json_t *sbom_spdx_image_package(const struct sbom_subject *subject, const char *id)
{
	json_t *object = json_object(), *checksums = json_array(), *checksum = json_object();
	int failed;

	failed = !object || !checksums || !checksum ||
		 sbom_json_set_string(object, "SPDXID", id) < 0 ||
		 sbom_json_set_string(object, "name", subject->name) < 0 ||
		 sbom_json_set_string(object, "versionInfo", subject->image_digest) < 0 ||
		 sbom_json_set_string(object, "supplier", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "downloadLocation", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "licenseConcluded", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "licenseDeclared", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "copyrightText", "NOASSERTION") < 0 ||
		 sbom_json_set_string(object, "primaryPackagePurpose", "CONTAINER") < 0 ||
		 json_object_set_new(object, "filesAnalyzed", json_false()) < 0 ||
		 sbom_json_set_string(checksum, "algorithm", "SHA256") < 0 ||
		 sbom_json_set_string(checksum, "checksumValue",
			 digest_hex(subject->image_digest)) < 0 ||
		 json_array_append(checksums, checksum) < 0 ||
		 json_object_set(object, "checksums", checksums) < 0;
	json_decref(checksum);
	json_decref(checksums);
	if (failed) {
		json_decref(object);
		return NULL;
	}
	return object;
}
