/* OCI image layouts (OCI image specification 1.1, "OCI Image Layout"):
 * oci-layout, index.json, and content-addressed blobs under blobs/sha256.
 * index.json leads, possibly through nested indexes, to an image manifest,
 * which names the config and the layers in the order they apply. Docker's
 * schema 2 manifest and manifest list media types are read the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "supply/image_internal.h"

/* A ceiling on the image manifests an index tree may list. */
#define MAX_CANDIDATES 256

/* The platform of this build, as OCI spells GOOS/GOARCH. */
#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__arm__)
#define HOST_ARCH "arm"
#elif defined(__i386__)
#define HOST_ARCH "386"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ARCH "ppc64le"
#elif defined(__s390x__)
#define HOST_ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_ARCH "riscv64"
#else
#define HOST_ARCH "unknown"
#endif
#define HOST_PLATFORM "linux/" HOST_ARCH

/* One image manifest an index lists. */
struct candidate {
	char *digest;
	char *platform;  /* "os/arch[/variant]", NULL when the index gives none */
	char *name;      /* the image name annotation of the top-level descriptor */
};

struct candidates {
	struct candidate items[MAX_CANDIDATES];
	size_t count;
};

static void candidates_free(struct candidates *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].digest);
		free(list->items[i].platform);
		free(list->items[i].name);
	}
	list->count = 0;
}

static bool is_manifest_type(const char *type)
{
	return type && (strcmp(type, "application/vnd.oci.image.manifest.v1+json") == 0 ||
		strcmp(type, "application/vnd.docker.distribution.manifest.v2+json") == 0);
}

static bool is_index_type(const char *type)
{
	return type && (strcmp(type, "application/vnd.oci.image.index.v1+json") == 0 ||
		strcmp(type, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

/* The blob path of a checked digest: blobs/sha256/<hex>. */
static void blob_path(const char *digest, char ret[static 96])
{
	snprintf(ret, 96, "blobs/sha256/%s", digest + 7);
}

/* The descriptor's digest, checked; what names the descriptor. */
static int descriptor_digest(json_t *desc, const char *what, const char **ret_digest,
	struct wd_error *err)
{
	*ret_digest = json_string_value(json_object_get(desc, "digest"));
	return image_digest_check(*ret_digest, what, err);
}

/* The image name a descriptor's annotations give: containerd's full
 * reference, else an OCI ref.name that is a whole reference rather than
 * only a tag. */
static const char *annotated_name(json_t *desc)
{
	json_t *annotations = json_object_get(desc, "annotations");
	const char *name = json_string_value(json_object_get(annotations,
		"io.containerd.image.name"));

	if (name && name[0])
		return name;
	name = json_string_value(json_object_get(annotations, "org.opencontainers.image.ref.name"));
	if (name && (strchr(name, '/') || strchr(name, ':')))
		return name;
	return NULL;
}

static char *platform_of(json_t *desc)
{
	json_t *platform = json_object_get(desc, "platform");
	const char *os = json_string_value(json_object_get(platform, "os"));
	const char *arch = json_string_value(json_object_get(platform, "architecture"));
	const char *variant = json_string_value(json_object_get(platform, "variant"));
	char text[256];

	if (!os || !arch)
		return NULL;
	snprintf(text, sizeof(text), "%.80s/%.80s%s%.80s", os, arch, variant ? "/" : "",
		variant ? variant : "");
	return wd_strdup(text);
}

/* Docker's build attestations sit in the index as manifests of platform
 * unknown/unknown; they hold no file system. */
static bool is_attestation(json_t *desc)
{
	const char *type = json_string_value(json_object_get(json_object_get(desc, "annotations"),
		"vnd.docker.reference.type"));

	return type && strcmp(type, "attestation-manifest") == 0;
}

static int collect(struct image_source *source, json_t *index, size_t depth,
	const char *name, struct candidates *list, struct wd_error *err);

static int collect_one(struct image_source *source, json_t *desc, size_t depth,
	const char *name, struct candidates *list, struct wd_error *err)
{
	const char *type = json_string_value(json_object_get(desc, "mediaType"));
	const char *digest;
	char path[96];
	json_t *nested = NULL;
	int rc = 0;

	if (depth == 0)
		name = annotated_name(desc);
	if (is_manifest_type(type)) {
		struct candidate *c;

		if (is_attestation(desc))
			return 0;
		WD_TRY(descriptor_digest(desc, "index.json manifest", &digest, err));
		if (list->count == MAX_CANDIDATES)
			return wd_error_set(err, WD_ETOOBIG, "index.json lists more than %d image "
					"manifests", MAX_CANDIDATES);
		c = &list->items[list->count];
		memset(c, 0, sizeof(*c));
		c->digest = wd_strdup(digest);
		c->platform = platform_of(desc);
		c->name = wd_strdup(name);
		list->count++;
		if (!c->digest || (name && !c->name))
			return wd_error_set(err, WD_ENOMEM, "out of memory for a manifest descriptor");
		return 0;
	}
	if (!is_index_type(type))
		return 0;  /* another artifact: not an image */

	WD_TRY(descriptor_digest(desc, "index.json nested index", &digest, err));
	if (depth + 1 >= IMAGE_MAX_INDEX_DEPTH)
		return wd_error_set(err, WD_ETOOBIG, "index.json nests indexes deeper than %d",
			IMAGE_MAX_INDEX_DEPTH);
	blob_path(digest, path);
	WD_GUARD(image_source_read_json(source, path, digest, &nested, NULL, err));
	WD_GUARD(collect(source, nested, depth + 1, name, list, err));
out:
	json_decref(nested);
	return rc;
}

static int collect(struct image_source *source, json_t *index, size_t depth,
	const char *name, struct candidates *list, struct wd_error *err)
{
	json_t *manifests = json_object_get(index, "manifests");

	if (json_integer_value(json_object_get(index, "schemaVersion")) != 2)
		return wd_error_set(err, WD_EINVAL, "image index: schemaVersion is not 2");
	if (!json_is_array(manifests))
		return wd_error_set(err, WD_EINVAL, "image index: manifests is not an array");
	for (size_t i = 0; i < json_array_size(manifests); i++)
		WD_TRY(collect_one(source, json_array_get(manifests, i), depth, name, list, err));
	return 0;
}

/* True when a candidate's "os/arch[/variant]" matches the expected one. An
 * expected platform without a variant matches every variant. */
static bool platform_matches(const char *have, const char *expected)
{
	size_t len = strlen(expected);

	if (!have)
		return false;
	if (strchr(expected, '/') != strrchr(expected, '/'))
		return strcmp(have, expected) == 0;
	return strncmp(have, expected, len) == 0 && (have[len] == '\0' || have[len] == '/');
}

static int choose(const struct candidates *list, const char *platform, size_t *ret_index,
	struct wd_error *err)
{
	const char *expected = platform ? platform : HOST_PLATFORM;
	size_t matches = 0;

	if (list->count == 0)
		return wd_error_set(err, WD_EINVAL, "index.json lists no image manifest");
	if (list->count == 1 && !platform) {
		*ret_index = 0;
		return 0;
	}
	for (size_t i = 0; i < list->count; i++) {
		if (platform_matches(list->items[i].platform, expected)) {
			if (matches++ == 0)
				*ret_index = i;
		}
	}
	if (matches == 1)
		return 0;
	return wd_error_set(err, WD_EINVAL, "index.json lists %zu image manifests and %s of them "
			"match the platform %.80s: choose one with --platform OS/ARCH[/VARIANT]",
			list->count, matches == 0 ? "none" : "several", expected);
}

/* The storage a layer's media type declares; NULL when it is no layer
 * warden can unpack (an encrypted or unknown type). */
static const char *layer_encoding(const char *type)
{
	static const struct {
		const char *type;
		const char *encoding;
	} types[] = {
		{ "application/vnd.oci.image.layer.v1.tar", "tar" },
		{ "application/vnd.oci.image.layer.v1.tar+gzip", "gzip" },
		{ "application/vnd.oci.image.layer.v1.tar+zstd", "zstd" },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar", "tar" },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip" },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", "zstd" },
		{ "application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip" },
		{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "gzip" },
	};

	for (size_t i = 0; type && i < WD_ARRAY_LEN(types); i++) {
		if (strcmp(type, types[i].type) == 0)
			return types[i].encoding;
	}
	return NULL;
}

static int apply_layers(struct image_source *source, struct image_tree *tree, json_t *layers,
	const char **diff_ids, size_t diff_count, struct wd_error *err)
{
	size_t count = json_array_size(layers);
	int rc = 0;

	for (size_t i = 0; i < count; i++) {
		json_t *desc = json_array_get(layers, i);
		const char *type = json_string_value(json_object_get(desc, "mediaType"));
		const char *encoding = layer_encoding(type);
		struct image_layer_ref ref = { .size = -1 };
		char path[96], quoted[160];

		image_quote(type ? type : "", quoted, sizeof(quoted));
		if (!encoding)
			return wd_error_set(err, WD_EUNSUPPORTED, "layer %zu: unsupported media type "
					"\"%s\"", i + 1, quoted);
		if (strcmp(encoding, "zstd") == 0 && !image_filters_have_zstd())
			return wd_error_set(err, WD_EUNSUPPORTED, "layer %zu: zstd layers need a "
					"libarchive built with libzstd", i + 1);
		WD_TRY(descriptor_digest(desc, "image manifest layer", &ref.digest, err));
		if (json_is_integer(json_object_get(desc, "size")))
			ref.size = (int64_t)json_integer_value(json_object_get(desc, "size"));
		ref.diff_id = diff_count ? diff_ids[i] : NULL;
		blob_path(ref.digest, path);
		ref.name = path;

		tree->layer = i + 1;
		WD_TRY(image_source_open_member(source, path, err));
		rc = image_layer_apply(tree, &ref, image_source_read, source, err);
		image_source_close_member(source);
		WD_TRY(rc);
	}
	return 0;
}

/* Reads the manifest, checks its config, and applies its layers. */
static int unpack_manifest(struct image_source *source, struct image_tree *tree,
	const struct candidate *chosen, struct image *image, struct wd_error *err)
{
	json_t *manifest = NULL, *config = NULL, *config_desc, *layers;
	const char **diff_ids = NULL;
	const char *type, *config_digest;
	size_t diff_count = 0, layer_count;
	char path[96];
	int rc = 0;

	blob_path(chosen->digest, path);
	WD_GUARD(image_source_read_json(source, path, chosen->digest, &manifest, NULL, err));
	type = json_string_value(json_object_get(manifest, "mediaType"));
	WD_ENSURE(!type || is_manifest_type(type), wd_error_set(err, WD_EINVAL,
		"manifest %s: not an image manifest", chosen->digest));
	config_desc = json_object_get(manifest, "config");
	layers = json_object_get(manifest, "layers");
	WD_ENSURE(json_is_object(config_desc) && json_is_array(layers), wd_error_set(err,
		WD_EINVAL, "manifest %s: config or layers missing", chosen->digest));
	layer_count = json_array_size(layers);
	WD_ENSURE(layer_count <= IMAGE_MAX_LAYERS, wd_error_set(err, WD_ETOOBIG,
		"manifest %s lists %zu layers, more than %d", chosen->digest, layer_count,
		IMAGE_MAX_LAYERS));

	WD_GUARD(descriptor_digest(config_desc, "image manifest config", &config_digest, err));
	blob_path(config_digest, path);
	WD_GUARD(image_source_read_json(source, path, config_digest, &config, NULL, err));
	WD_GUARD(image_config_diff_ids(config, &diff_ids, &diff_count, err));
	WD_ENSURE(diff_count == 0 || diff_count == layer_count, wd_error_set(err, WD_EINVAL,
		"the image config lists %zu diff_ids for %zu layers", diff_count, layer_count));

	WD_GUARD(apply_layers(source, tree, layers, diff_ids, diff_count, err));
	image->config_digest = wd_strdup(config_digest);
	image->manifest_digest = wd_strdup(chosen->digest);
	image->name = wd_strdup(chosen->name);
	image->layer_count = layer_count;
	WD_ENSURE(image->config_digest && image->manifest_digest &&
		(!chosen->name || image->name), wd_error_set(err, WD_ENOMEM, "out of memory"));
out:
	free(diff_ids);
	json_decref(config);
	json_decref(manifest);
	return rc;
}

int image_oci_unpack(struct image_source *source, struct image_tree *tree,
	const char *platform, struct image *image, struct wd_error *err)
{
	struct candidates *list = calloc(1, sizeof(*list));
	json_t *layout = NULL, *index = NULL;
	const char *version;
	size_t chosen = 0;
	int rc = 0;

	if (!list)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the image index");
	WD_GUARD(image_source_read_json(source, "oci-layout", NULL, &layout, NULL, err));
	version = json_string_value(json_object_get(layout, "imageLayoutVersion"));
	WD_ENSURE(version && strncmp(version, "1.", 2) == 0, wd_error_set(err, WD_EUNSUPPORTED,
		"oci-layout: imageLayoutVersion is not 1.x"));
	WD_GUARD(image_source_read_json(source, "index.json", NULL, &index, NULL, err));
	WD_GUARD(collect(source, index, 0, NULL, list, err));
	WD_GUARD(choose(list, platform, &chosen, err));
	WD_GUARD(unpack_manifest(source, tree, &list->items[chosen], image, err));
out:
	candidates_free(list);
	free(list);
	json_decref(index);
	json_decref(layout);
	return rc;
}
