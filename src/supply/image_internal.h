/* Internals of image unpacking shared by the archive readers, the layer
 * applier and the unit tests: entry path rules, whiteouts, symlink targets,
 * the work tree and the member sources. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <archive.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "supply/image.h"

/* NAME_MAX of Linux: the longest single path component. */
#define IMAGE_MAX_COMPONENT 255

/* Bytes moved per read when copying file contents and layer streams. */
#define IMAGE_COPY_BUFFER (64u * 1024)

/* The outcome of normalizing an entry name. */
enum image_path_status {
	IMAGE_PATH_OK,
	IMAGE_PATH_ROOT,           /* the name is the image root itself ("./") */
	IMAGE_PATH_EMPTY,          /* an empty name */
	IMAGE_PATH_ABSOLUTE,       /* the name starts with '/' */
	IMAGE_PATH_ESCAPES,        /* ".." climbs above the image root */
	IMAGE_PATH_TOO_LONG,       /* longer than the limit once normalized */
	IMAGE_PATH_COMPONENT_TOO_LONG,
};

/* The reason text for a status, for reports and errors. */
const char *image_path_reason(enum image_path_status status);

/* Normalizes an archive entry name into ret (size bytes): components joined
 * by single slashes, without ".", empty components, ".." or a trailing
 * slash. A leading "./" is dropped, and ".." removes the component before
 * it. A ".." at the root is IMAGE_PATH_ESCAPES and an absolute name
 * IMAGE_PATH_ABSOLUTE, unless clamp is set: then ".." stays at the root, as
 * the kernel's ".." does there, and an absolute name starts at the root.
 * max_len bounds the result (excluding the NUL). */
enum image_path_status image_path_normalize(const char *name, bool clamp, size_t max_len,
	char *ret, size_t size);

/* The kinds of base names under the OCI whiteout rules (OCI image
 * specification, "Representing Changes in a layer"). */
enum image_whiteout {
	IMAGE_WHITEOUT_NONE,      /* an ordinary name */
	IMAGE_WHITEOUT_FILE,      /* ".wh.NAME": NAME from lower layers is deleted */
	IMAGE_WHITEOUT_OPAQUE,    /* ".wh..wh..opq": the directory hides lower layers */
	IMAGE_WHITEOUT_META,      /* another ".wh..wh." name: aufs metadata, ignored */
	IMAGE_WHITEOUT_INVALID,   /* ".wh." with an empty, "." or ".." NAME */
};

/* Classifies base (one path component); for IMAGE_WHITEOUT_FILE, stores
 * a pointer to NAME inside base in ret_target. */
enum image_whiteout image_whiteout_classify(const char *base, const char **ret_target);

/* Rewrites the target of a symlink at link_path (a normalized entry path)
 * so that resolving it on the host stays inside the work directory. The
 * target is resolved against the image root as inside the container:
 * absolute targets start at the root, and ".." stops there. The result is
 * the shortest path from the link's directory, "../" steps then plain
 * names, so "python3" or "../lib/x" stay as they are. Returns
 * IMAGE_PATH_OK, IMAGE_PATH_EMPTY or IMAGE_PATH_TOO_LONG. */
enum image_path_status image_symlink_rewrite(const char *link_path, const char *target,
	char *ret, size_t size);

/* Writes name into ret (size bytes) for a message: bytes outside printable
 * ASCII become \xNN, and a long name is cut with "..." so the message
 * stays readable and a hostile name cannot drive the terminal. */
void image_quote(const char *name, char *ret, size_t size);

/* A set of inode numbers: the entries one layer has created, which its
 * whiteouts must not delete. */
struct image_inode_set {
	uint64_t *slots;  /* open addressing; 0 marks an empty slot */
	size_t count;
	size_t cap;
	bool has_zero;    /* inode 0 cannot live in a slot */
	size_t max;       /* ceiling on count */
};

void image_inode_set_init(struct image_inode_set *set, size_t max);
void image_inode_set_clear(struct image_inode_set *set);
void image_inode_set_free(struct image_inode_set *set);
WD_MUST_CHECK int image_inode_set_add(struct image_inode_set *set, uint64_t ino,
	struct wd_error *err);
bool image_inode_set_contains(const struct image_inode_set *set, uint64_t ino);

/* The private directory a layer stack is unpacked into, with the counters
 * the limits apply to. */
struct image_tree {
	char *path;           /* absolute path of the work directory */
	int rootfd;           /* O_DIRECTORY descriptor of path */
	size_t max_path;      /* maximum entry path length that fits under path in PATH_MAX */
	struct image_limits limits;
	uint64_t extracted;   /* bytes written into files, all layers */
	uint64_t streamed;    /* uncompressed layer bytes read, all layers */
	uint64_t entries;     /* entries read, all layers */
	size_t layer;         /* 1-based index of the layer being applied */
	char entry[160];      /* the entry being applied, quoted; "" between entries */
	struct image_inode_set created;  /* inodes the current layer made */
	unsigned char *buf;   /* IMAGE_COPY_BUFFER bytes for file contents */
	image_warn_fn warn;
	void *warn_ctx;
	volatile sig_atomic_t *cancel;
};

/* Creates the work directory (mkdtemp under $TMPDIR, else /tmp; mode
 * 0700) and sets tree up with the given options. */
WD_MUST_CHECK int image_tree_create(struct image_tree *tree, const struct image_options *options,
	struct wd_error *err);

/* Removes the work directory and everything in it without following
 * symlinks, and frees tree; accepts a tree never created. Returns -1 when
 * something could not be removed. */
int image_tree_destroy(struct image_tree *tree);

/* Opens the directory at path (a normalized entry path, "" for the root)
 * without following any symlink, creating missing directories when create
 * is set. Fails with WD_ENOTFOUND for a missing directory and WD_EINVAL
 * naming the component that is a symlink or not a directory. */
WD_MUST_CHECK int image_tree_open_dir(struct image_tree *tree, const char *path, bool create,
	int *ret_fd, struct wd_error *err);

/* Opens the parent directory of path as image_tree_open_dir does and
 * points ret_base at path's last component. */
WD_MUST_CHECK int image_tree_open_parent(struct image_tree *tree, const char *path, bool create,
	int *ret_fd, const char **ret_base, struct wd_error *err);

/* Removes base in dirfd (path names it for messages and for the walk of
 * a directory), whatever its type, with everything under it. */
WD_MUST_CHECK int image_tree_remove_at(struct image_tree *tree, int dirfd, const char *base,
	const char *path, struct wd_error *err);

/* Deletes everything under the directory dir (resolved by the caller
 * without symlinks) that the current layer did not create: the effect of
 * an opaque whiteout. */
WD_MUST_CHECK int image_tree_prune(struct image_tree *tree, const char *dir,
	struct wd_error *err);

/* Applies the entries of one layer, read from tar (a libarchive reader
 * positioned before the first header), to tree. Rejected entries that
 * carry no package data are reported through tree->warn and skipped; any
 * other rejection fails with err naming the layer, the entry and the reason. */
WD_MUST_CHECK int image_tree_apply(struct image_tree *tree, struct archive *tar,
	struct wd_error *err);

/* Reads up to len bytes of a blob into buf; returns the count, 0 at the
 * end, -1 on failure with err set. */
typedef ssize_t (*image_read_fn)(void *ctx, void *buf, size_t len, struct wd_error *err);

/* The expected identity of a layer blob. Digests are "sha256:<hex>", or
 * NULL when there is nothing to check against. */
struct image_layer_ref {
	const char *name;         /* the blob's path, for messages */
	const char *digest;       /* of the bytes as stored (compressed) */
	int64_t size;             /* of the bytes as stored; -1 when unknown */
	const char *diff_id;      /* of the uncompressed tar stream */
};

/* Decompresses a layer (gzip, zstd, xz, bzip2 or none) from read, applies
 * it to tree, and checks the digests of ref once every byte is read. */
WD_MUST_CHECK int image_layer_apply(struct image_tree *tree, const struct image_layer_ref *ref,
	image_read_fn read, void *read_ctx, struct wd_error *err);

/* Registers on archive the decompression filters that libarchive runs in
 * process. A filter that would start an external program is left out, so
 * nothing from an image is ever handed to another program. */
WD_MUST_CHECK int image_filters_register(struct archive *archive, struct wd_error *err);

/* True when this libarchive decompresses zstd in process. */
bool image_filters_have_zstd(void);

/* A running SHA-256 with a "sha256:<hex>" result. */
struct image_digest {
	EVP_MD_CTX *ctx;
};

WD_MUST_CHECK int image_digest_init(struct image_digest *digest, struct wd_error *err);
WD_MUST_CHECK int image_digest_update(struct image_digest *digest, const void *data, size_t len,
	struct wd_error *err);
/* Stores "sha256:<64 hex>" in ret (72 bytes) and frees the context. */
WD_MUST_CHECK int image_digest_final(struct image_digest *digest, char ret[static 72],
	struct wd_error *err);
void image_digest_free(struct image_digest *digest);

/* Checks that text is "sha256:" and 64 lowercase hex digits. Other
 * algorithms are WD_EUNSUPPORTED, anything else WD_EINVAL; what names the
 * field in err. */
WD_MUST_CHECK int image_digest_check(const char *text, const char *what, struct wd_error *err);

/* The origin of an image's files: a tar archive, read again from the start
 * for each member because tar has no index, or an OCI layout directory. */
struct image_source {
	const char *path;
	int dirfd;                  /* the layout directory; -1 for an archive */
	struct archive *member;     /* the archive while a member is open */
	int member_fd;              /* the blob file while a member is open */
};

/* Opens path as a source: a directory (an OCI layout) or a tar archive,
 * compressed or not. */
WD_MUST_CHECK int image_source_open(struct image_source *source, const char *path,
	struct wd_error *err);
void image_source_close(struct image_source *source);

/* True when the source contains a regular file at name. */
WD_MUST_CHECK int image_source_exists(struct image_source *source, const char *name,
	bool *ret_exists, struct wd_error *err);

/* Opens member name for image_source_read; WD_ENOTFOUND when it is absent.
 * Only one member is open at a time. */
WD_MUST_CHECK int image_source_open_member(struct image_source *source, const char *name,
	struct wd_error *err);
ssize_t image_source_read(void *source, void *buf, size_t len, struct wd_error *err);
void image_source_close_member(struct image_source *source);

/* Reads member name whole (at most max bytes) into a NUL-terminated
 * malloc'd buffer. */
WD_MUST_CHECK int image_source_read_file(struct image_source *source, const char *name,
	size_t max, char **ret_data, size_t *ret_len, struct wd_error *err);

/* Reads member name as JSON (at most IMAGE_MAX_JSON_BYTES). When digest is
 * set, the bytes must have that SHA-256; ret_digest, when set, receives
 * the digest of the bytes. */
WD_MUST_CHECK int image_source_read_json(struct image_source *source, const char *name,
	const char *digest, json_t **ret_json, char ret_digest[72], struct wd_error *err);

/* The uncompressed digests of the layers from a config's rootfs.diff_ids;
 * *ret_count is 0 when the config lists none. The strings stay owned by
 * config. */
WD_MUST_CHECK int image_config_diff_ids(json_t *config, const char ***ret_ids,
	size_t *ret_count, struct wd_error *err);

/* Unpacks a docker-archive (`docker save`) from source into tree and fills
 * image. */
WD_MUST_CHECK int image_docker_unpack(struct image_source *source, struct image_tree *tree,
	struct image *image, struct wd_error *err);

/* Unpacks an OCI image layout (archive or directory) from source into tree
 * and fills image; platform chooses among several manifests. */
WD_MUST_CHECK int image_oci_unpack(struct image_source *source, struct image_tree *tree,
	const char *platform, struct image *image, struct wd_error *err);
