/* One layer blob through two libarchive readers: the first only
 * decompresses (raw format, in-process filters), the second reads the tar
 * stream. Every byte passes two SHA-256 digests on the way, the blob's
 * digest over the stored bytes and the diff_id over the uncompressed ones,
 * and the uncompressed bytes count against max-extract-bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive_entry.h>

#include "supply/image_internal.h"

struct layer_stream {
	struct image_tree *tree;
	image_read_fn read;
	void *read_ctx;
	struct archive *raw;          /* decompressor, the tar reader's source */
	struct image_digest stored;
	struct image_digest uncompressed;
	uint64_t stored_bytes;
	unsigned char stored_buf[IMAGE_COPY_BUFFER];
	unsigned char tar_buf[IMAGE_COPY_BUFFER];
	struct wd_error err;          /* the first failure inside a callback */
};

/* libarchive's source callback for the decompressor: the stored bytes. */
static la_ssize_t read_stored(struct archive *archive, void *ctx, const void **ret_buf)
{
	struct layer_stream *s = ctx;
	ssize_t n = s->read(s->read_ctx, s->stored_buf, sizeof(s->stored_buf), &s->err);

	*ret_buf = s->stored_buf;
	if (n < 0 || image_digest_update(&s->stored, s->stored_buf, (size_t)(n < 0 ? 0 : n),
		&s->err) < 0) {
		archive_set_error(archive, EIO, "%s", wd_error_text(&s->err));
		return -1;
	}
	s->stored_bytes += (uint64_t)n;
	return n;
}

/* Stores "layer N" in ret, with the entry whose data is being read when
 * there is one. */
static void stream_position(const struct image_tree *tree, char *ret, size_t size)
{
	if (tree->entry[0])
		snprintf(ret, size, "layer %zu entry \"%s\"", tree->layer, tree->entry);
	else
		snprintf(ret, size, "layer %zu", tree->layer);
}

/* Pulls the next uncompressed bytes into s->tar_buf. */
static la_ssize_t pull_uncompressed(struct layer_stream *s)
{
	struct image_tree *tree = s->tree;
	char position[200];
	la_ssize_t n;

	if (tree->cancel && *tree->cancel) {
		stream_position(tree, position, sizeof(position));
		wd_error_set(&s->err, WD_EIO, "%s: interrupted", position);
		return -1;
	}
	n = archive_read_data(s->raw, s->tar_buf, sizeof(s->tar_buf));

	if (n < 0) {
		if (!s->err.code)
			wd_error_set(&s->err, WD_EINVAL, "layer %zu: decompression failed: %s",
				tree->layer, archive_error_string(s->raw) ?
				archive_error_string(s->raw) : "unknown error");
		return -1;
	}
	tree->streamed += (uint64_t)n;
	if (tree->streamed > tree->limits.max_extract_bytes) {
		stream_position(tree, position, sizeof(position));
		wd_error_set(&s->err, WD_ETOOBIG, "%s: uncompressed layer data exceeds "
				"max-extract-bytes (%llu bytes)", position,
				(unsigned long long)tree->limits.max_extract_bytes);
		return -1;
	}
	if (image_digest_update(&s->uncompressed, s->tar_buf, (size_t)n, &s->err) < 0)
		return -1;
	return n;
}

/* libarchive's source callback for the tar reader. */
static la_ssize_t read_uncompressed(struct archive *archive, void *ctx, const void **ret_buf)
{
	struct layer_stream *s = ctx;
	la_ssize_t n = pull_uncompressed(s);

	*ret_buf = s->tar_buf;
	if (n < 0)
		archive_set_error(archive, EIO, "%s", wd_error_text(&s->err));
	return n;
}

/* Compares a computed digest with the expected one. */
static int check_digest(const char *what, const char *name, const char *expected,
	const char *actual, struct wd_error *err)
{
	char quoted[160];

	if (!expected || strcmp(expected, actual) == 0)
		return 0;
	image_quote(name, quoted, sizeof(quoted));
	return wd_error_set(err, WD_ECORRUPT, "layer \"%s\": %s %s does not match the expected %s",
		quoted, what, actual, expected);
}

/* Reads what the readers left of the streams, so the digests cover every
 * byte: tar padding after the end marker, data after the compressed
 * stream. */
static int drain(struct layer_stream *s, bool raw_open)
{
	while (raw_open) {
		la_ssize_t n = pull_uncompressed(s);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
	}
	for (;;) {
		ssize_t n = s->read(s->read_ctx, s->stored_buf, sizeof(s->stored_buf), &s->err);

		if (n < 0 || image_digest_update(&s->stored, s->stored_buf,
			(size_t)(n < 0 ? 0 : n), &s->err) < 0)
			return -1;
		if (n == 0)
			return 0;
		s->stored_bytes += (uint64_t)n;
	}
}

static int open_readers(struct layer_stream *s, struct archive **ret_tar, bool *ret_raw_open,
	struct wd_error *err)
{
	struct archive_entry *entry;
	struct archive *tar;
	int r;

	*ret_tar = NULL;
	*ret_raw_open = false;
	s->raw = archive_read_new();
	if (!s->raw)
		return wd_error_set(err, WD_ENOMEM, "out of memory for a decompressor");
	WD_TRY(image_filters_register(s->raw, err));
	if (archive_read_support_format_raw(s->raw) != ARCHIVE_OK ||
	    archive_read_support_format_empty(s->raw) != ARCHIVE_OK ||
	    archive_read_open(s->raw, s, NULL, read_stored, NULL) != ARCHIVE_OK)
		return wd_error_set(err, s->err.code ? s->err.code : WD_EINVAL,
			"layer %zu: cannot read the layer: %s", s->tree->layer,
			archive_error_string(s->raw) ? archive_error_string(s->raw) : "unknown error");
	r = archive_read_next_header(s->raw, &entry);
	if (r == ARCHIVE_EOF)
		return 0;  /* an empty blob: a layer without entries */
	if (r < ARCHIVE_WARN)
		return wd_error_set(err, s->err.code ? s->err.code : WD_EINVAL,
			"layer %zu: cannot decompress the layer: %s", s->tree->layer,
			archive_error_string(s->raw) ? archive_error_string(s->raw) : "unknown error");
	*ret_raw_open = true;

	tar = archive_read_new();
	if (!tar)
		return wd_error_set(err, WD_ENOMEM, "out of memory for a tar reader");
	if (archive_read_support_format_tar(tar) != ARCHIVE_OK ||
	    archive_read_support_format_empty(tar) != ARCHIVE_OK ||
	    archive_read_open(tar, s, NULL, read_uncompressed, NULL) != ARCHIVE_OK) {
		wd_error_set(err, s->err.code ? s->err.code : WD_EINVAL,
			"layer %zu: not a tar stream: %s", s->tree->layer,
			archive_error_string(tar) ? archive_error_string(tar) : "unknown error");
		archive_read_free(tar);
		return err ? err->code : WD_EINVAL;
	}
	*ret_tar = tar;
	return 0;
}

int image_layer_apply(struct image_tree *tree, const struct image_layer_ref *ref,
	image_read_fn read, void *read_ctx, struct wd_error *err)
{
	struct layer_stream *s = calloc(1, sizeof(*s));
	struct archive *tar = NULL;
	char stored_digest[72], diff_id[72];
	bool raw_open = false;
	int rc = 0;

	if (!s)
		return wd_error_set(err, WD_ENOMEM, "out of memory for a layer stream");
	s->tree = tree;
	s->read = read;
	s->read_ctx = read_ctx;
	WD_GUARD(image_digest_init(&s->stored, err));
	WD_GUARD(image_digest_init(&s->uncompressed, err));

	WD_GUARD(open_readers(s, &tar, &raw_open, err));
	if (tar)
		rc = image_tree_apply(tree, tar, err);
	/* A failure inside a stream callback reaches libarchive as a bare
	 * read error, so the callback's own record names the limit or digest. */
	if (rc < 0 && s->err.code) {
		if (err)
			*err = s->err;
		rc = s->err.code;
	}
	WD_GUARD(rc);
	if (drain(s, raw_open) < 0) {
		if (err)
			*err = s->err;
		WD_ENSURE(0, s->err.code ? s->err.code : WD_EIO);
	}

	WD_GUARD(image_digest_final(&s->stored, stored_digest, err));
	WD_GUARD(image_digest_final(&s->uncompressed, diff_id, err));
	WD_GUARD(check_digest("digest", ref->name, ref->digest, stored_digest, err));
	WD_GUARD(check_digest("uncompressed digest", ref->name, ref->diff_id, diff_id, err));
	if (ref->size >= 0 && (uint64_t)ref->size != s->stored_bytes) {
		char quoted[160];

		image_quote(ref->name, quoted, sizeof(quoted));
		WD_ENSURE(0, wd_error_set(err, WD_ECORRUPT, "layer \"%s\": %llu bytes where the "
				"manifest says %lld", quoted, (unsigned long long)s->stored_bytes,
				(long long)ref->size));
	}
out:
	if (tar)
		archive_read_free(tar);
	if (s->raw)
		archive_read_free(s->raw);
	image_digest_free(&s->stored);
	image_digest_free(&s->uncompressed);
	free(s);
	return rc;
}
