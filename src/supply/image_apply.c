/* Applies the entries of one layer tar stream to the work tree: regular
 * files, directories and symlinks are created, whiteouts delete what lower
 * layers made, and everything else is rejected. An entry that could change
 * what the catalogers see, and cannot be applied safely, fails the layer.
 * An entry without package data (a device node, a FIFO) is skipped with a
 * warning. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive_entry.h>

#include "supply/image_internal.h"

/* One entry while it is applied. */
struct entry {
	struct archive_entry *ae;
	const char *name;         /* as the archive spells it */
	char quoted[160];         /* name, quoted for messages */
	char path[PATH_MAX];      /* normalized */
};

static void warn(struct image_tree *tree, const struct entry *e, const char *reason)
{
	if (tree->warn)
		tree->warn(tree->warn_ctx, tree->layer, e->name, reason);
}

/* Fails the entry with code: "layer N entry "NAME": reason". */
static int reject(struct image_tree *tree, const struct entry *e, int code, const char *reason,
	struct wd_error *err)
{
	return wd_error_set(err, code, "layer %zu entry \"%s\": %s", tree->layer, e->quoted,
		reason);
}

/* Prefixes the detail a helper left in err with the layer and entry. */
static int reject_with(struct image_tree *tree, const struct entry *e, int rc,
	struct wd_error *err)
{
	char detail[sizeof(err->detail)];

	if (!err)
		return rc;
	snprintf(detail, sizeof(detail), "%s", wd_error_text(err));
	return reject(tree, e, rc, detail, err);
}

/* Records an inode the current layer made or declared. */
static int remember(struct image_tree *tree, const struct entry *e, int dirfd, const char *base,
	struct wd_error *err)
{
	struct stat st;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return reject(tree, e, WD_EIO, strerror(errno), err);
	if (image_inode_set_add(&tree->created, (uint64_t)st.st_ino, err) < 0)
		return reject_with(tree, e, WD_ETOOBIG, err);
	return 0;
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies the entry's data into fd, counting it against both ceilings as
 * it arrives: the size in the header may be absent, and a sparse entry
 * expands its holes into zeros. */
static int copy_data(struct image_tree *tree, const struct entry *e, struct archive *tar, int fd,
	struct wd_error *err)
{
	uint64_t written = 0;
	char reason[160];

	for (;;) {
		la_ssize_t n = archive_read_data(tar, tree->buf, IMAGE_COPY_BUFFER);

		if (n == 0)
			return 0;
		if (n < 0) {
			snprintf(reason, sizeof(reason), "reading the file data failed: %s",
				archive_error_string(tar) ? archive_error_string(tar) : "unknown error");
			return reject(tree, e, WD_EINVAL, reason, err);
		}
		if (tree->cancel && *tree->cancel)
			return reject(tree, e, WD_EIO, "interrupted", err);
		written += (uint64_t)n;
		tree->extracted += (uint64_t)n;
		if (written > tree->limits.max_entry_bytes) {
			snprintf(reason, sizeof(reason), "file exceeds max-entry-bytes (%llu bytes)",
				(unsigned long long)tree->limits.max_entry_bytes);
			return reject(tree, e, WD_ETOOBIG, reason, err);
		}
		if (tree->extracted > tree->limits.max_extract_bytes) {
			snprintf(reason, sizeof(reason), "extracted data exceeds max-extract-bytes "
					"(%llu bytes)", (unsigned long long)tree->limits.max_extract_bytes);
			return reject(tree, e, WD_ETOOBIG, reason, err);
		}
		if (write_all(fd, tree->buf, (size_t)n) < 0) {
			snprintf(reason, sizeof(reason), "writing the file failed: %s",
				strerror(errno));
			return reject(tree, e, WD_EIO, reason, err);
		}
	}
}

/* Opens the entry's parent (creating missing directories) and removes
 * whatever is at the entry's path, unless both it and the new entry are
 * directories. */
static int prepare(struct image_tree *tree, const struct entry *e, bool is_dir, int *ret_fd,
	const char **ret_base, struct wd_error *err)
{
	struct stat st;
	int rc;

	rc = image_tree_open_parent(tree, e->path, true, ret_fd, ret_base, err);
	if (rc < 0)
		return reject_with(tree, e, rc, err);
	if (is_dir && fstatat(*ret_fd, *ret_base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode))
		return 0;
	rc = image_tree_remove_at(tree, *ret_fd, *ret_base, e->path, err);
	if (rc < 0) {
		close(*ret_fd);
		*ret_fd = -1;
		return reject_with(tree, e, rc, err);
	}
	return 0;
}

static int apply_file(struct image_tree *tree, struct entry *e, struct archive *tar,
	struct wd_error *err)
{
	mode_t mode = archive_entry_perm(e->ae);
	const char *base;
	char reason[160];
	int dirfd = -1, fd = -1, rc = 0;

	/* Fail before writing when the header already gives the size. */
	if (archive_entry_size_is_set(e->ae) && archive_entry_size(e->ae) > 0 &&
	    (uint64_t)archive_entry_size(e->ae) > tree->limits.max_entry_bytes) {
		snprintf(reason, sizeof(reason), "file of %lld bytes exceeds max-entry-bytes "
				"(%llu bytes)", (long long)archive_entry_size(e->ae),
				(unsigned long long)tree->limits.max_entry_bytes);
		return reject(tree, e, WD_ETOOBIG, reason, err);
	}
	if (mode & (S_ISUID | S_ISGID))
		warn(tree, e, "setuid/setgid bits dropped");

	WD_GUARD(prepare(tree, e, false, &dirfd, &base, err));
	/* O_EXCL and O_NOFOLLOW: always a new inode, never an existing file or
	 * a symlink's target. Mode 0600 until the data is in. */
	fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	WD_ENSURE(fd >= 0, reject(tree, e, WD_EIO, strerror(errno), err));
	WD_GUARD(copy_data(tree, e, tar, fd, err));
	/* No setuid, setgid or sticky bit, no write for group or others; the
	 * owner can always read, for the catalogers, and write, for removal. */
	WD_ENSURE(fchmod(fd, (mode & 0755) | 0600) == 0,
		reject(tree, e, WD_EIO, strerror(errno), err));
	WD_GUARD(remember(tree, e, dirfd, base, err));
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

static int apply_dir(struct image_tree *tree, struct entry *e, struct wd_error *err)
{
	mode_t mode = archive_entry_perm(e->ae);
	const char *base;
	int dirfd = -1, fd = -1, rc = 0;

	WD_GUARD(prepare(tree, e, true, &dirfd, &base, err));
	if (mkdirat(dirfd, base, 0700) < 0 && errno != EEXIST)
		WD_ENSURE(0, reject(tree, e, WD_EIO, strerror(errno), err));
	fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	WD_ENSURE(fd >= 0, reject(tree, e, WD_EIO, strerror(errno), err));
	/* The owner keeps rwx so the walks can enter and clean every directory. */
	WD_ENSURE(fchmod(fd, (mode & 0755) | 0700) == 0,
		reject(tree, e, WD_EIO, strerror(errno), err));
	WD_GUARD(remember(tree, e, dirfd, base, err));
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

static int apply_symlink(struct image_tree *tree, struct entry *e, struct wd_error *err)
{
	const char *target = archive_entry_symlink(e->ae);
	char rewritten[PATH_MAX];
	enum image_path_status status;
	const char *base;
	int dirfd = -1, rc = 0;

	if (!target)
		return reject(tree, e, WD_EINVAL, "symlink without a target", err);
	status = image_symlink_rewrite(e->path, target, rewritten, sizeof(rewritten));
	if (status == IMAGE_PATH_EMPTY) {
		warn(tree, e, "symlink with an empty target not created");
		return 0;
	}
	if (status != IMAGE_PATH_OK)
		return reject(tree, e, WD_EINVAL, "symlink target too long", err);

	WD_GUARD(prepare(tree, e, false, &dirfd, &base, err));
	WD_ENSURE(symlinkat(rewritten, dirfd, base) == 0,
		reject(tree, e, WD_EIO, strerror(errno), err));
	WD_GUARD(remember(tree, e, dirfd, base, err));
out:
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

/* A hard link to a regular file of the tree. A link to anything else is
 * rejected: a link to a symlink would move the symlink to another
 * directory, where its relative target could lead out of the tree. */
static int apply_hardlink(struct image_tree *tree, struct entry *e, const char *link,
	struct wd_error *err)
{
	char target[PATH_MAX], quoted[160], reason[400];
	enum image_path_status status;
	const char *target_base, *base;
	struct stat st;
	int target_fd = -1, dirfd = -1, rc = 0;

	image_quote(link, quoted, sizeof(quoted));
	status = image_path_normalize(link, false, tree->max_path, target, sizeof(target));
	if (status != IMAGE_PATH_OK) {
		snprintf(reason, sizeof(reason), "hard link target \"%s\": %s", quoted,
			image_path_reason(status));
		return reject(tree, e, WD_EINVAL, reason, err);
	}
	if (strcmp(target, e->path) == 0)
		return 0;

	rc = image_tree_open_parent(tree, target, false, &target_fd, &target_base, err);
	if (rc < 0 || fstatat(target_fd, target_base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(reason, sizeof(reason), "hard link target \"%s\" not found in the image",
			quoted);
		WD_ENSURE(0, reject(tree, e, WD_EINVAL, reason, err));
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(reason, sizeof(reason), "hard link target \"%s\" is not a regular file",
			quoted);
		WD_ENSURE(0, reject(tree, e, WD_EINVAL, reason, err));
	}

	WD_GUARD(prepare(tree, e, false, &dirfd, &base, err));
	/* Flags 0: the link is made to target_base itself, never through a
	 * symlink. */
	WD_ENSURE(linkat(target_fd, target_base, dirfd, base, 0) == 0,
		reject(tree, e, WD_EIO, strerror(errno), err));
	WD_GUARD(remember(tree, e, dirfd, base, err));
out:
	if (target_fd >= 0)
		close(target_fd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

/* ".wh.NAME": deletes NAME as lower layers left it. Entries of this layer
 * stay, as the OCI image specification requires. */
static int apply_whiteout(struct image_tree *tree, struct entry *e, const char *name,
	struct wd_error *err)
{
	char path[PATH_MAX];
	size_t dir_len = (size_t)(strrchr(e->path, '/') ? strrchr(e->path, '/') - e->path : 0);
	const char *base;
	struct stat st;
	int dirfd = -1, rc;

	if ((size_t)snprintf(path, sizeof(path), "%.*s%s%s", (int)dir_len, e->path,
		dir_len ? "/" : "", name) >= sizeof(path))
		return reject(tree, e, WD_EINVAL, "path too long", err);
	rc = image_tree_open_parent(tree, path, false, &dirfd, &base, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return reject_with(tree, e, rc, err);
	rc = 0;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !image_inode_set_contains(&tree->created, (uint64_t)st.st_ino)) {
		rc = image_tree_remove_at(tree, dirfd, base, path, err);
		if (rc < 0)
			rc = reject_with(tree, e, rc, err);
	}
	close(dirfd);
	return rc;
}

/* ".wh..wh..opq": the directory keeps only what this layer puts in it. */
static int apply_opaque(struct image_tree *tree, struct entry *e, struct wd_error *err)
{
	char dir[PATH_MAX];
	size_t dir_len = (size_t)(strrchr(e->path, '/') ? strrchr(e->path, '/') - e->path : 0);
	int fd = -1, rc;

	snprintf(dir, sizeof(dir), "%.*s", (int)dir_len, e->path);
	/* Opening the directory without symlinks first makes sure the walk
	 * below starts at a real directory of the tree. */
	rc = image_tree_open_dir(tree, dir, false, &fd, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return reject_with(tree, e, rc, err);
	close(fd);
	rc = image_tree_prune(tree, dir, err);
	return rc < 0 ? reject_with(tree, e, rc, err) : 0;
}

static int apply_special(struct image_tree *tree, struct entry *e, struct wd_error *err)
{
	const char *target;

	switch (image_whiteout_classify(strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path,
		&target)) {
	case IMAGE_WHITEOUT_FILE:
		return apply_whiteout(tree, e, target, err);
	case IMAGE_WHITEOUT_OPAQUE:
		return apply_opaque(tree, e, err);
	case IMAGE_WHITEOUT_META:
		warn(tree, e, "aufs whiteout metadata ignored");
		return 0;
	case IMAGE_WHITEOUT_INVALID:
		return reject(tree, e, WD_EINVAL, "whiteout without a valid name", err);
	case IMAGE_WHITEOUT_NONE:
		break;
	}
	return 1;
}

static int apply_entry(struct image_tree *tree, struct archive *tar, struct entry *e,
	struct wd_error *err)
{
	enum image_path_status status;
	const char *link;
	int rc;

	e->name = archive_entry_pathname(e->ae);
	if (!e->name)
		e->name = "";
	image_quote(e->name, e->quoted, sizeof(e->quoted));
	memcpy(tree->entry, e->quoted, sizeof(tree->entry));

	tree->entries++;
	if (tree->entries > tree->limits.max_entries) {
		char reason[96];

		snprintf(reason, sizeof(reason), "more entries than max-entries (%llu)",
			(unsigned long long)tree->limits.max_entries);
		return reject(tree, e, WD_ETOOBIG, reason, err);
	}

	status = image_path_normalize(e->name, false, tree->max_path, e->path, sizeof(e->path));
	if (status == IMAGE_PATH_ROOT)
		return 0;
	if (status != IMAGE_PATH_OK)
		return reject(tree, e, WD_EINVAL, image_path_reason(status), err);

	rc = apply_special(tree, e, err);
	if (rc <= 0)
		return rc;

	link = archive_entry_hardlink(e->ae);
	if (link)
		return apply_hardlink(tree, e, link, err);

	switch (archive_entry_filetype(e->ae)) {
	case AE_IFREG:
		return apply_file(tree, e, tar, err);
	case AE_IFDIR:
		return apply_dir(tree, e, err);
	case AE_IFLNK:
		return apply_symlink(tree, e, err);
	case AE_IFCHR:
		warn(tree, e, "character device not created");
		return 0;
	case AE_IFBLK:
		warn(tree, e, "block device not created");
		return 0;
	case AE_IFIFO:
		warn(tree, e, "FIFO not created");
		return 0;
	case AE_IFSOCK:
		warn(tree, e, "socket not created");
		return 0;
	default:
		warn(tree, e, "entry of an unknown type not created");
		return 0;
	}
}

int image_tree_apply(struct image_tree *tree, struct archive *tar, struct wd_error *err)
{
	struct entry *e = malloc(sizeof(*e));
	int rc = 0;

	if (!e)
		return wd_error_set(err, WD_ENOMEM, "out of memory for a layer entry");
	image_inode_set_clear(&tree->created);
	tree->entry[0] = '\0';
	for (;;) {
		int r = archive_read_next_header(tar, &e->ae);

		if (r == ARCHIVE_EOF)
			break;
		if (tree->cancel && *tree->cancel) {
			rc = wd_error_set(err, WD_EIO, "layer %zu: interrupted", tree->layer);
			break;
		}
		/* ARCHIVE_WARN covers tolerable oddities such as unknown pax
		 * keywords; the entry itself is intact. */
		if (r < ARCHIVE_WARN) {
			rc = wd_error_set(err, WD_EINVAL, "layer %zu: invalid tar stream: %s",
				tree->layer, archive_error_string(tar) ? archive_error_string(tar)
								       : "unknown error");
			break;
		}
		rc = apply_entry(tree, tar, e, err);
		if (rc < 0)
			break;
	}
	tree->entry[0] = '\0';
	free(e);
	return rc;
}
