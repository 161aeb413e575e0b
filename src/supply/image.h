/* Container images as SBOM targets: docker-archive and OCI layout tarballs
 * and OCI layout directories, unpacked layer by layer into a private work
 * directory that the catalogers then read as a root filesystem. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

/* Default ceilings on what an image may make warden write. They leave room
 * for images with a few GiB of libraries, and a decompression bomb stops
 * once max_extract_bytes are written. The CLI can raise or lower each. */
#define IMAGE_DEFAULT_MAX_EXTRACT_BYTES (16ull * 1024 * 1024 * 1024)
#define IMAGE_DEFAULT_MAX_ENTRY_BYTES (4ull * 1024 * 1024 * 1024)
#define IMAGE_DEFAULT_MAX_ENTRIES 2000000ull

/* Fixed ceilings on the image metadata. */
#define IMAGE_MAX_LAYERS 1024
#define IMAGE_MAX_JSON_BYTES (4u * 1024 * 1024)
#define IMAGE_MAX_INDEX_DEPTH 4

struct image_limits {
	uint64_t max_extract_bytes;  /* uncompressed layer bytes, and file bytes written, all layers */
	uint64_t max_entry_bytes;    /* bytes of one file */
	uint64_t max_entries;        /* archive entries, all layers */
};

/* Sets limits to the defaults above. */
void image_limits_default(struct image_limits *limits);

/* Receives one skipped or changed entry: the 1-based layer, the entry name
 * as the archive spells it (untrusted bytes: quote before printing), and
 * the reason. */
typedef void (*image_warn_fn)(void *ctx, size_t layer, const char *entry, const char *reason);

struct image_options {
	struct image_limits limits;
	const char *platform;  /* "os/arch" or "os/arch/variant"; NULL for this machine's */
	image_warn_fn warn;    /* NULL drops the warnings */
	void *warn_ctx;
	/* Set to nonzero (from a signal handler) to stop unpacking: the next
	 * entry or data block fails with WD_EIO, "interrupted", and the work
	 * directory is removed as on any failure. NULL when unused. */
	volatile sig_atomic_t *cancel;
};

enum image_format {
	IMAGE_FORMAT_DOCKER_ARCHIVE,  /* `docker save` tarball */
	IMAGE_FORMAT_OCI_ARCHIVE,     /* OCI image layout in a tarball */
	IMAGE_FORMAT_OCI_DIR,         /* OCI image layout directory */
};

struct image_tree;

/* An unpacked image. Strings are malloc'd; root is the work directory,
 * removed by image_free. */
struct image {
	enum image_format format;
	char *name;             /* the first RepoTag or image name annotation, else the target's file name */
	char *manifest_digest;  /* "sha256:<hex>" of the manifest; NULL for a docker-archive */
	char *config_digest;    /* "sha256:<hex>" of the config: the image ID */
	size_t layer_count;
	char *root;
	struct image_tree *tree;
};

/* The format's name: "docker-archive", "oci-archive" or "oci-dir". */
const char *image_format_name(enum image_format format);

/* True when path is an OCI image layout directory (it has an oci-layout
 * file). */
bool image_is_layout_dir(const char *path);

/* Unpacks the image at target (an archive file or an OCI layout directory)
 * into a new work directory and stores it in ret_image. Fails with
 * WD_ETOOBIG naming the limit and the entry when a limit is reached, and
 * with WD_EINVAL for a malformed archive or an entry that would escape the
 * work directory; the work directory is removed on failure. */
WD_MUST_CHECK int image_unpack(const char *target, const struct image_options *options,
	struct image **ret_image, struct wd_error *err);

/* Removes the work directory and frees image; accepts NULL. */
void image_free(struct image *image);
