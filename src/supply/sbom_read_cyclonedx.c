/* Reading CycloneDX 1.5 JSON documents: components, nested ones included,
 * with their purls. The file each was found in comes from the
 * "<tool>:location:0:path" property that warden and Syft write. The
 * distribution comes from warden's metadata properties or the
 * operating-system component that Syft writes. */
#include <string.h>

#include "supply/sbom_read_internal.h"

/* Returns the value of the property named name, or NULL. */
static const char *property(json_t *object, const char *name)
{
	json_t *properties = json_object_get(object, "properties");
	size_t i;
	json_t *item;

	json_array_foreach(properties, i, item) {
		const char *key = json_string_value(json_object_get(item, "name"));

		if (key && !strcmp(key, name))
			return json_string_value(json_object_get(item, "value"));
	}
	return NULL;
}

static const char *location_of(json_t *component)
{
	const char *location = property(component, "warden:location:0:path");

	return location ? location : property(component, "syft:location:0:path");
}

static int read_components(struct sbom_reader *reader, json_t *components, unsigned depth,
	struct wd_error *err)
{
	size_t i;
	json_t *component;

	if (!components)
		return 0;
	if (!json_is_array(components))
		return wd_error_set(err, WD_EINVAL, "CycloneDX components: expected an array");
	if (depth > SBOM_READ_MAX_DEPTH)
		return wd_error_set(err, WD_EINVAL, "CycloneDX components nested deeper than %u",
			SBOM_READ_MAX_DEPTH);
	json_array_foreach(components, i, component) {
		const char *type = json_string_value(json_object_get(component, "type"));

		if (!json_is_object(component))
			return wd_error_set(err, WD_EINVAL, "CycloneDX components[%zu]: expected an "
							    "object", i);
		if (type && !strcmp(type, "operating-system")) {
			WD_TRY(sbom_reader_set_distro(reader,
				json_string_value(json_object_get(component, "name")),
				json_string_value(json_object_get(component, "version")), err));
		} else {
			WD_TRY(sbom_reader_add(reader,
				json_string_value(json_object_get(component, "purl")),
				location_of(component), err));
		}
		WD_TRY(read_components(reader, json_object_get(component, "components"), depth + 1,
			err));
	}
	return 0;
}

int sbom_read_cyclonedx(struct sbom_reader *reader, json_t *root, struct wd_error *err)
{
	json_t *target = json_object_get(json_object_get(root, "metadata"), "component");

	WD_TRY(sbom_reader_set_distro(reader, property(target, "warden:distro:id"),
		property(target, "warden:distro:versionID"), err));
	return read_components(reader, json_object_get(root, "components"), 1, err);
}
