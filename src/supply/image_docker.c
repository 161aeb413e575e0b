/* docker-archive: the tarball `docker save` writes. manifest.json lists
 * the image's config file, its tags (RepoTags) and its layer tarballs in
 * the order they apply; Docker 25 and later name the files
 * blobs/sha256/<hex>, older versions <hex>.json and <id>/layer.tar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "supply/image_internal.h"

/* The digest a member name carries: "blobs/sha256/<hex>" or "<hex>.json"
 * name their own SHA-256. Stores "sha256:<hex>" in ret (72 bytes), or an
 * empty string when the name carries none. */
static void digest_from_name(const char *name, char ret[static 72])
{
	const char *hex = NULL;

	ret[0] = '\0';
	if (strncmp(name, "blobs/sha256/", 13) == 0 && strlen(name) == 13 + 64)
		hex = name + 13;
	else if (strlen(name) == 64 + 5 && strcmp(name + 64, ".json") == 0)
		hex = name;
	if (hex && strspn(hex, "0123456789abcdef") >= 64)
		snprintf(ret, 72, "sha256:%.64s", hex);
}

/* The image entry of manifest.json: exactly one, since one SBOM describes
 * one image. */
static int manifest_entry(json_t *manifest, json_t **ret_entry, struct wd_error *err)
{
	size_t count;

	*ret_entry = NULL;
	if (!json_is_array(manifest))
		return wd_error_set(err, WD_EINVAL, "manifest.json: expected an array of images");
	count = json_array_size(manifest);
	if (count == 0)
		return wd_error_set(err, WD_EINVAL, "manifest.json lists no image");
	if (count > 1)
		return wd_error_set(err, WD_EUNSUPPORTED, "manifest.json lists %zu images: save one "
				"image per archive (docker save IMAGE)", count);
	*ret_entry = json_array_get(manifest, 0);
	if (!json_is_object(*ret_entry))
		return wd_error_set(err, WD_EINVAL, "manifest.json: the image entry is not an object");
	return 0;
}

/* The first RepoTag, when the entry has one. */
static int first_tag(json_t *entry, char **ret_name, struct wd_error *err)
{
	json_t *tags = json_object_get(entry, "RepoTags");
	const char *tag;

	*ret_name = NULL;
	if (!tags || json_is_null(tags) || json_array_size(tags) == 0)
		return 0;
	tag = json_string_value(json_array_get(tags, 0));
	if (!json_is_array(tags) || !tag || !tag[0])
		return wd_error_set(err, WD_EINVAL, "manifest.json: RepoTags is not an array of "
				"strings");
	*ret_name = wd_strdup(tag);
	if (!*ret_name)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the image name");
	return 0;
}

int image_docker_unpack(struct image_source *source, struct image_tree *tree,
	struct image *image, struct wd_error *err)
{
	json_t *manifest = NULL, *config = NULL, *entry, *layers;
	const char **diff_ids = NULL;
	size_t diff_count = 0, layer_count;
	const char *config_name;
	char expected[72], actual[72];
	int rc = 0;

	WD_GUARD(image_source_read_json(source, "manifest.json", NULL, &manifest, NULL, err));
	WD_GUARD(manifest_entry(manifest, &entry, err));
	config_name = json_string_value(json_object_get(entry, "Config"));
	layers = json_object_get(entry, "Layers");
	WD_ENSURE(config_name && config_name[0], wd_error_set(err, WD_EINVAL,
		"manifest.json: the image has no Config"));
	WD_ENSURE(json_is_array(layers), wd_error_set(err, WD_EINVAL,
		"manifest.json: the image has no Layers array"));
	layer_count = json_array_size(layers);
	WD_ENSURE(layer_count <= IMAGE_MAX_LAYERS, wd_error_set(err, WD_ETOOBIG,
		"manifest.json lists %zu layers, more than %d", layer_count, IMAGE_MAX_LAYERS));
	WD_GUARD(first_tag(entry, &image->name, err));

	/* The image ID is the SHA-256 of the config file. */
	digest_from_name(config_name, expected);
	WD_GUARD(image_source_read_json(source, config_name, expected[0] ? expected : NULL,
		&config, actual, err));
	image->config_digest = wd_strdup(actual);
	WD_ENSURE(image->config_digest, wd_error_set(err, WD_ENOMEM, "out of memory"));
	WD_GUARD(image_config_diff_ids(config, &diff_ids, &diff_count, err));
	WD_ENSURE(diff_count == 0 || diff_count == layer_count, wd_error_set(err, WD_EINVAL,
		"the image config lists %zu diff_ids for %zu layers", diff_count, layer_count));

	for (size_t i = 0; i < layer_count; i++) {
		const char *name = json_string_value(json_array_get(layers, i));
		struct image_layer_ref ref = { .size = -1 };

		WD_ENSURE(name && name[0], wd_error_set(err, WD_EINVAL,
			"manifest.json: layer %zu is not a file name", i + 1));
		digest_from_name(name, expected);
		ref.name = name;
		ref.digest = expected[0] ? expected : NULL;
		ref.diff_id = diff_count ? diff_ids[i] : NULL;

		tree->layer = i + 1;
		WD_GUARD(image_source_open_member(source, name, err));
		rc = image_layer_apply(tree, &ref, image_source_read, source, err);
		image_source_close_member(source);
		WD_GUARD(rc);
	}
	image->layer_count = layer_count;
out:
	free(diff_ids);
	json_decref(config);
	json_decref(manifest);
	return rc;
}
