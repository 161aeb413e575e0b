/* Image targets of `warden sbom`: recognizes the format, unpacks the
 * layers into a work directory, and names the image. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "supply/image_internal.h"

void image_limits_default(struct image_limits *limits)
{
	limits->max_extract_bytes = IMAGE_DEFAULT_MAX_EXTRACT_BYTES;
	limits->max_entry_bytes = IMAGE_DEFAULT_MAX_ENTRY_BYTES;
	limits->max_entries = IMAGE_DEFAULT_MAX_ENTRIES;
}

const char *image_format_name(enum image_format format)
{
	switch (format) {
	case IMAGE_FORMAT_DOCKER_ARCHIVE:
		return "docker-archive";
	case IMAGE_FORMAT_OCI_ARCHIVE:
		return "oci-archive";
	case IMAGE_FORMAT_OCI_DIR:
		return "oci-dir";
	}
	return "unknown";
}

bool image_is_layout_dir(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool found;

	if (fd < 0)
		return false;
	found = fstatat(fd, "oci-layout", &st, 0) == 0 && S_ISREG(st.st_mode);
	close(fd);
	return found;
}

/* The target's last path component, the name of an image that names
 * itself nowhere else. */
static char *target_name(const char *target)
{
	size_t len = strlen(target);
	size_t start;

	while (len > 1 && target[len - 1] == '/')
		len--;
	start = len;
	while (start > 0 && target[start - 1] != '/')
		start--;
	return wd_strndup(target + start, len - start);
}

/* Detects the layout that source contains and unpacks it. A docker-archive
 * written by Docker 25 or later is also an OCI layout; its manifest.json
 * is read, because it carries the RepoTags. */
static int unpack_source(struct image_source *source, struct image_tree *tree,
	const struct image_options *options, struct image *image, struct wd_error *err)
{
	bool docker = false, oci = false;

	if (source->dirfd >= 0) {
		image->format = IMAGE_FORMAT_OCI_DIR;
		return image_oci_unpack(source, tree, options->platform, image, err);
	}
	WD_TRY(image_source_exists(source, "manifest.json", &docker, err));
	if (docker) {
		image->format = IMAGE_FORMAT_DOCKER_ARCHIVE;
		return image_docker_unpack(source, tree, image, err);
	}
	WD_TRY(image_source_exists(source, "oci-layout", &oci, err));
	if (oci) {
		image->format = IMAGE_FORMAT_OCI_ARCHIVE;
		return image_oci_unpack(source, tree, options->platform, image, err);
	}
	return wd_error_set(err, WD_EINVAL, "%s is neither a docker-archive (no manifest.json) "
			"nor an OCI image layout (no oci-layout)", source->path);
}

int image_unpack(const char *target, const struct image_options *options,
	struct image **ret_image, struct wd_error *err)
{
	struct image_source source = { .dirfd = -1, .member_fd = -1 };
	struct image *image = calloc(1, sizeof(*image));
	int rc = 0;

	*ret_image = NULL;
	WD_ENSURE(image, wd_error_set(err, WD_ENOMEM, "out of memory for an image"));
	image->tree = calloc(1, sizeof(*image->tree));
	WD_ENSURE(image->tree, wd_error_set(err, WD_ENOMEM, "out of memory for an image"));
	image->tree->rootfd = -1;

	WD_GUARD(image_source_open(&source, target, err));
	WD_GUARD(image_tree_create(image->tree, options, err));
	WD_GUARD(unpack_source(&source, image->tree, options, image, err));
	if (!image->name)
		image->name = target_name(target);
	image->root = wd_strdup(image->tree->path);
	WD_ENSURE(image->name && image->root, wd_error_set(err, WD_ENOMEM, "out of memory"));
	*ret_image = WD_TAKE_PTR(image);
out:
	image_source_close(&source);
	image_free(image);
	return rc;
}

void image_free(struct image *image)
{
	if (!image)
		return;
	/* NOTE: a work directory that cannot be removed stays behind; the
	 * caller has no better way to handle it than the user does. */
	(void)image_tree_destroy(image->tree);
	free(image->tree);
	free(image->name);
	free(image->manifest_digest);
	free(image->config_digest);
	free(image->root);
	free(image);
}
