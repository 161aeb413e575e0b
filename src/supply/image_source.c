/* The members of an image: files of a tar archive or of an OCI layout
 * directory. A tar archive has no index, so it is read again from the
 * start for each member; libarchive seeks over the data of an
 * uncompressed one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <archive_entry.h>

#include "supply/image_internal.h"

int image_source_open(struct image_source *source, const char *path, struct wd_error *err)
{
	struct stat st;

	memset(source, 0, sizeof(*source));
	source->dirfd = -1;
	source->member_fd = -1;
	source->path = path;
	if (stat(path, &st) < 0)
		return wd_error_set(err, errno == ENOENT ? WD_ENOTFOUND : WD_EIO, "cannot read %s: %s",
			path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		source->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (source->dirfd < 0)
			return wd_error_set(err, WD_EIO, "cannot open %s: %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return wd_error_set(err, WD_EINVAL, "%s is neither a regular file nor a directory",
			path);
	return 0;
}

void image_source_close(struct image_source *source)
{
	image_source_close_member(source);
	if (source->dirfd >= 0)
		close(source->dirfd);
	source->dirfd = -1;
}

void image_source_close_member(struct image_source *source)
{
	if (source->member)
		archive_read_free(source->member);
	source->member = NULL;
	if (source->member_fd >= 0)
		close(source->member_fd);
	source->member_fd = -1;
}

/* Opens name below the layout directory, with openat2 keeping the whole
 * resolution beneath it. A kernel without openat2 gets O_NOFOLLOW, which
 * only keeps the last component from being a symlink. */
static int open_in_dir(struct image_source *source, const char *name, struct wd_error *err)
{
	char quoted[160];
	struct stat st;
	int fd = -1;

#ifdef SYS_openat2
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	fd = (int)syscall(SYS_openat2, source->dirfd, name, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
#endif
		fd = openat(source->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	image_quote(name, quoted, sizeof(quoted));
	if (fd < 0)
		return wd_error_set(err, errno == ENOENT ? WD_ENOTFOUND : WD_EIO,
			"cannot open %s/%s: %s", source->path, quoted, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wd_error_set(err, WD_EINVAL, "%s/%s is not a regular file", source->path,
			quoted);
	}
	source->member_fd = fd;
	return 0;
}

static int open_in_archive(struct image_source *source, const char *name, struct wd_error *err)
{
	char expected[PATH_MAX], found[PATH_MAX], quoted[160];
	struct archive_entry *entry;
	struct archive *archive = archive_read_new();
	int rc = 0;

	if (!archive)
		return wd_error_set(err, WD_ENOMEM, "out of memory for an archive reader");
	WD_GUARD(image_filters_register(archive, err));
	WD_ENSURE(archive_read_support_format_tar(archive) == ARCHIVE_OK,
		wd_error_set(err, WD_EINTERNAL, "libarchive has no tar reader"));
	WD_ENSURE(archive_read_open_filename(archive, source->path, IMAGE_COPY_BUFFER) ==
		ARCHIVE_OK, wd_error_set(err, WD_EINVAL, "cannot read %s as an image archive: %s",
			source->path,
			archive_error_string(archive) ? archive_error_string(archive) : "unknown error"));
	if (image_path_normalize(name, true, PATH_MAX - 1, expected, sizeof(expected)) !=
	    IMAGE_PATH_OK)
		WD_ENSURE(0, wd_error_set(err, WD_EINVAL, "invalid member name"));
	image_quote(expected, quoted, sizeof(quoted));

	for (;;) {
		int r = archive_read_next_header(archive, &entry);
		const char *entry_name;

		if (r == ARCHIVE_EOF)
			WD_ENSURE(0, wd_error_set(err, WD_ENOTFOUND, "%s has no member \"%s\"",
				source->path, quoted));
		WD_ENSURE(r >= ARCHIVE_WARN, wd_error_set(err, WD_EINVAL, "%s is not a valid tar "
				"archive: %s", source->path, archive_error_string(archive) ?
				archive_error_string(archive) : "unknown error"));
		entry_name = archive_entry_pathname(entry);
		if (!entry_name || image_path_normalize(entry_name, true, PATH_MAX - 1, found,
			sizeof(found)) != IMAGE_PATH_OK || strcmp(found, expected) != 0)
			continue;
		/* The first member of that name counts. */
		WD_ENSURE(archive_entry_filetype(entry) == AE_IFREG && !archive_entry_hardlink(entry),
			wd_error_set(err, WD_EINVAL, "member \"%s\" of %s is not a regular file",
				quoted, source->path));
		source->member = archive;
		return 0;
	}
out:
	archive_read_free(archive);
	return rc;
}

int image_source_open_member(struct image_source *source, const char *name,
	struct wd_error *err)
{
	image_source_close_member(source);
	if (source->dirfd >= 0)
		return open_in_dir(source, name, err);
	return open_in_archive(source, name, err);
}

ssize_t image_source_read(void *ctx, void *buf, size_t len, struct wd_error *err)
{
	struct image_source *source = ctx;

	if (source->member) {
		la_ssize_t n = archive_read_data(source->member, buf, len);

		if (n < 0)
			wd_error_set(err, WD_EINVAL, "reading %s failed: %s", source->path,
				archive_error_string(source->member) ?
				archive_error_string(source->member) : "unknown error");
		return n < 0 ? -1 : n;
	}
	if (source->member_fd >= 0) {
		for (;;) {
			ssize_t n = read(source->member_fd, buf, len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				wd_error_set(err, WD_EIO, "reading %s failed: %s", source->path,
					strerror(errno));
			return n;
		}
	}
	wd_error_set(err, WD_EINTERNAL, "no member of %s is open", source->path);
	return -1;
}

int image_source_exists(struct image_source *source, const char *name, bool *ret_exists,
	struct wd_error *err)
{
	int rc = image_source_open_member(source, name, err);

	*ret_exists = rc == 0;
	image_source_close_member(source);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	return rc < 0 ? rc : 0;
}

int image_source_read_file(struct image_source *source, const char *name, size_t max,
	char **ret_data, size_t *ret_len, struct wd_error *err)
{
	char *data = NULL;
	size_t len = 0, cap = 0;
	char quoted[160];
	int rc = 0;

	*ret_data = NULL;
	*ret_len = 0;
	image_quote(name, quoted, sizeof(quoted));
	WD_GUARD(image_source_open_member(source, name, err));
	for (;;) {
		ssize_t n;

		if (cap - len < IMAGE_COPY_BUFFER + 1) {
			char *bigger;

			cap = cap ? cap * 2 : 2 * IMAGE_COPY_BUFFER;
			bigger = realloc(data, cap);
			WD_ENSURE(bigger, wd_error_set(err, WD_ENOMEM, "out of memory for \"%s\"",
				quoted));
			data = bigger;
		}
		n = image_source_read(source, data + len, IMAGE_COPY_BUFFER, err);
		WD_ENSURE(n >= 0, err && err->code ? err->code : WD_EIO);
		if (n == 0)
			break;
		len += (size_t)n;
		WD_ENSURE(len <= max, wd_error_set(err, WD_ETOOBIG, "\"%s\" in %s is larger than "
				"%zu bytes", quoted, source->path, max));
	}
	data[len] = '\0';
	*ret_data = WD_TAKE_PTR(data);
	*ret_len = len;
out:
	image_source_close_member(source);
	free(data);
	return rc;
}

int image_source_read_json(struct image_source *source, const char *name, const char *digest,
	json_t **ret_json, char ret_digest[72], struct wd_error *err)
{
	struct image_digest sha = { 0 };
	char actual[72], quoted[160];
	char *data = NULL;
	size_t len = 0;
	json_error_t json_err;
	int rc = 0;

	*ret_json = NULL;
	image_quote(name, quoted, sizeof(quoted));
	WD_GUARD(image_source_read_file(source, name, IMAGE_MAX_JSON_BYTES, &data, &len, err));
	WD_GUARD(image_digest_init(&sha, err));
	WD_GUARD(image_digest_update(&sha, data, len, err));
	WD_GUARD(image_digest_final(&sha, actual, err));
	WD_ENSURE(!digest || strcmp(digest, actual) == 0, wd_error_set(err, WD_ECORRUPT,
		"\"%s\": digest %s does not match the expected %s", quoted, actual, digest));
	if (ret_digest)
		memcpy(ret_digest, actual, sizeof(actual));

	/* Duplicate keys are rejected: two readers could pick different ones. */
	*ret_json = json_loadb(data, len, JSON_REJECT_DUPLICATES, &json_err);
	if (!*ret_json) {
		char reason[160];

		image_quote(json_err.text, reason, sizeof(reason));
		WD_ENSURE(0, wd_error_set(err, WD_EINVAL, "\"%s\": invalid JSON at line %d: %s",
			quoted, json_err.line, reason));
	}
out:
	image_digest_free(&sha);
	free(data);
	return rc;
}

int image_config_diff_ids(json_t *config, const char ***ret_ids, size_t *ret_count,
	struct wd_error *err)
{
	json_t *ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	const char **list;
	size_t count;

	*ret_ids = NULL;
	*ret_count = 0;
	if (!ids)
		return 0;
	if (!json_is_array(ids))
		return wd_error_set(err, WD_EINVAL, "image config: rootfs.diff_ids is not an array");
	count = json_array_size(ids);
	if (count == 0)
		return 0;
	if (count > IMAGE_MAX_LAYERS)
		return wd_error_set(err, WD_ETOOBIG, "image config lists %zu layers, more than %d",
			count, IMAGE_MAX_LAYERS);
	list = calloc(count, sizeof(list[0]));
	if (!list)
		return wd_error_set(err, WD_ENOMEM, "out of memory for %zu diff_ids", count);
	for (size_t i = 0; i < count; i++) {
		int rc;

		list[i] = json_string_value(json_array_get(ids, i));
		rc = image_digest_check(list[i], "image config rootfs.diff_ids", err);
		if (rc < 0) {
			free(list);
			return rc;
		}
	}
	*ret_ids = list;
	*ret_count = count;
	return 0;
}
