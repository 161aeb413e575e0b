/* The private work directory an image is unpacked into: its creation and
 * removal, and the resolution of entry paths inside it that never follows
 * a symlink, so no entry can be written or deleted outside it. */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/alloc.h"
#include "supply/image_internal.h"

int image_tree_create(struct image_tree *tree, const struct image_options *options,
	struct wd_error *err)
{
	const char *tmpdir = getenv("TMPDIR");
	size_t len;
	int rc = 0;

	memset(tree, 0, sizeof(*tree));
	tree->rootfd = -1;
	tree->limits = options->limits;
	tree->warn = options->warn;
	tree->warn_ctx = options->warn_ctx;
	tree->cancel = options->cancel;
	image_inode_set_init(&tree->created, (size_t)(options->limits.max_entries > SIZE_MAX / 2
		? SIZE_MAX / 2 : options->limits.max_entries));
	if (!tmpdir || !tmpdir[0])
		tmpdir = "/tmp";

	len = strlen(tmpdir) + sizeof("/warden-image-XXXXXX");
	tree->path = malloc(len);
	tree->buf = malloc(IMAGE_COPY_BUFFER);
	WD_ENSURE(tree->path && tree->buf, wd_error_set(err, WD_ENOMEM,
		"out of memory for the work directory"));
	snprintf(tree->path, len, "%s/warden-image-XXXXXX", tmpdir);
	/* mkdtemp creates the directory with mode 0700, so processes of other
	 * users (root aside) cannot swap a path under it. */
	if (!mkdtemp(tree->path)) {
		rc = wd_error_set(err, WD_EIO, "cannot create a work directory in %s: %s "
				"(set TMPDIR to a writable directory)", tmpdir, strerror(errno));
		free(tree->path);
		tree->path = NULL;
		goto out;
	}
	tree->rootfd = open(tree->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	WD_ENSURE(tree->rootfd >= 0, wd_error_set(err, WD_EIO, "cannot open the work directory "
		"%s: %s", tree->path, strerror(errno)));

	/* Entry paths must fit below the work directory within PATH_MAX, so
	 * the catalogers can open every file by its full path. */
	WD_ENSURE(strlen(tree->path) + 2 + 64 < PATH_MAX, wd_error_set(err, WD_ETOOBIG,
		"the work directory path %s is too long: set TMPDIR to a shorter directory",
		tree->path));
	tree->max_path = PATH_MAX - 2 - strlen(tree->path);
out:
	if (rc < 0)
		(void)image_tree_destroy(tree);
	return rc;
}

/* Removes the file tree at full_path (an absolute or work-relative path
 * under the work directory) bottom-up. fts(3) with FTS_PHYSICAL reports
 * symlinks as themselves and never follows them, and reads each directory
 * whole before descending, so deep trees do not use up descriptors. */
static int remove_path(const char *full_path, struct wd_error *err)
{
	char *paths[] = { (char *)full_path, NULL };
	FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	FTSENT *ent;
	int rc = 0;

	if (!fts)
		return wd_error_set(err, WD_EIO, "cannot walk %s: %s", full_path, strerror(errno));
	while ((ent = fts_read(fts)) != NULL) {
		int failed = 0;

		switch (ent->fts_info) {
		case FTS_D:
			continue;
		case FTS_DP:
			failed = rmdir(ent->fts_accpath) < 0;
			break;
		case FTS_DNR:
		case FTS_ERR:
		case FTS_NS:
			errno = ent->fts_errno;
			failed = 1;
			break;
		default:
			failed = unlink(ent->fts_accpath) < 0;
			break;
		}
		if (failed && errno != ENOENT && rc == 0)
			rc = wd_error_set(err, WD_EIO, "cannot remove %s: %s", ent->fts_path,
				strerror(errno));
	}
	fts_close(fts);
	return rc;
}

int image_tree_destroy(struct image_tree *tree)
{
	int rc = 0;

	if (!tree)
		return 0;
	if (tree->rootfd >= 0)
		close(tree->rootfd);
	tree->rootfd = -1;
	if (tree->path && remove_path(tree->path, NULL) < 0)
		rc = -1;
	free(tree->path);
	tree->path = NULL;
	free(tree->buf);
	tree->buf = NULL;
	image_inode_set_free(&tree->created);
	return rc;
}

/* openat2(2) confined to the work directory, or -1 with errno ENOSYS on a
 * kernel before Linux 5.6. */
static int open_beneath(int dirfd, const char *path, uint64_t resolve)
{
#ifdef SYS_openat2
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = resolve,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
#else
	(void)dirfd;
	(void)path;
	(void)resolve;
	errno = ENOSYS;
	return -1;
#endif
}

/* Opens the directory path (a normalized entry path) one component at a
 * time with O_NOFOLLOW, creating missing ones when create is set. The
 * error names the first component that is missing, a symlink or not a
 * directory. */
static int walk_dirs(struct image_tree *tree, const char *path, bool create, int *ret_fd,
	struct wd_error *err)
{
	char prefix[PATH_MAX];
	const char *p = path;
	int fd = fcntl(tree->rootfd, F_DUPFD_CLOEXEC, 3);

	*ret_fd = -1;
	if (fd < 0)
		return wd_error_set(err, WD_EIO, "cannot duplicate a descriptor: %s", strerror(errno));
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char name[IMAGE_MAX_COMPONENT + 1];
		struct stat st;
		int next;

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(p - path + (ptrdiff_t)n), path);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, name, 0700) < 0 && errno != EEXIST) {
				close(fd);
				return wd_error_set(err, WD_EIO, "cannot create directory \"%s\": %s",
					prefix, strerror(errno));
			}
			next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next >= 0 && (fchmod(next, 0755) < 0 || fstat(next, &st) < 0 ||
			    image_inode_set_add(&tree->created, (uint64_t)st.st_ino, err) < 0)) {
				close(next);
				close(fd);
				return err && err->code ? err->code : wd_error_set(err, WD_EIO,
					"cannot set up directory \"%s\": %s", prefix, strerror(errno));
			}
		}
		if (next < 0) {
			int saved = errno;

			if (saved == ENOENT) {
				close(fd);
				return wd_error_set(err, WD_ENOTFOUND, "directory \"%s\" does not exist",
					prefix);
			}
			if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
				close(fd);
				return wd_error_set(err, WD_EINVAL, "\"%s\" is a symlink: writing through "
						"a symlink is rejected", prefix);
			}
			close(fd);
			if (saved == ENOTDIR)
				return wd_error_set(err, WD_EINVAL, "\"%s\" is not a directory", prefix);
			return wd_error_set(err, WD_EIO, "cannot open directory \"%s\": %s", prefix,
				strerror(saved));
		}
		close(fd);
		fd = next;
		p = slash ? slash + 1 : p + n;
	}
	*ret_fd = fd;
	return 0;
}

int image_tree_open_dir(struct image_tree *tree, const char *path, bool create, int *ret_fd,
	struct wd_error *err)
{
	int fd;

	*ret_fd = -1;
	if (!path[0]) {
		fd = fcntl(tree->rootfd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return wd_error_set(err, WD_EIO, "cannot duplicate a descriptor: %s",
				strerror(errno));
		*ret_fd = fd;
		return 0;
	}
	/* The common case, a directory that exists, in one system call that
	 * the kernel confines: no symlinks, no escape from the work directory.
	 * Any failure takes the component walk, which creates what is missing
	 * and names the component at fault. */
	fd = open_beneath(tree->rootfd, path,
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	return walk_dirs(tree, path, create, ret_fd, err);
}

int image_tree_open_parent(struct image_tree *tree, const char *path, bool create, int *ret_fd,
	const char **ret_base, struct wd_error *err)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');

	*ret_base = slash ? slash + 1 : path;
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path) : 0, path);
	return image_tree_open_dir(tree, parent, create, ret_fd, err);
}

int image_tree_remove_at(struct image_tree *tree, int dirfd, const char *base, const char *path,
	struct wd_error *err)
{
	char full[PATH_MAX];
	struct stat st;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return wd_error_set(err, WD_EIO, "cannot inspect \"%s\": %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, base, 0) < 0 && errno != ENOENT)
			return wd_error_set(err, WD_EIO, "cannot remove \"%s\": %s", path,
				strerror(errno));
		return 0;
	}
	/* The path has only real directories in it (the caller resolved its
	 * parent without symlinks), so the path-based walk stays inside. */
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", tree->path, path) >= sizeof(full))
		return wd_error_set(err, WD_ETOOBIG, "path too long: \"%s\"", path);
	return remove_path(full, err);
}

int image_tree_prune(struct image_tree *tree, const char *dir, struct wd_error *err)
{
	char full[PATH_MAX];
	char *paths[] = { full, NULL };
	FTS *fts;
	FTSENT *ent;
	int rc = 0;

	if ((size_t)snprintf(full, sizeof(full), "%s%s%s", tree->path, dir[0] ? "/" : "", dir) >=
	    sizeof(full))
		return wd_error_set(err, WD_ETOOBIG, "path too long: \"%s\"", dir);
	fts = fts_open(paths, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	if (!fts)
		return wd_error_set(err, WD_EIO, "cannot walk \"%s\": %s", dir, strerror(errno));

	/* Post-order: files and symlinks from lower layers go first, then
	 * each lower-layer directory that is empty afterwards. A directory
	 * still holding entries of this layer stays as their parent. */
	while ((ent = fts_read(fts)) != NULL && rc == 0) {
		bool mine;

		if (ent->fts_level == 0 || ent->fts_info == FTS_D)
			continue;
		if (ent->fts_info == FTS_DNR || ent->fts_info == FTS_ERR || ent->fts_info == FTS_NS) {
			rc = wd_error_set(err, WD_EIO, "cannot walk %s: %s", ent->fts_path,
				strerror(ent->fts_errno));
			break;
		}
		mine = image_inode_set_contains(&tree->created, (uint64_t)ent->fts_statp->st_ino);
		if (ent->fts_info == FTS_DP) {
			if (!mine && rmdir(ent->fts_accpath) < 0 && errno != ENOTEMPTY &&
			    errno != EEXIST)
				rc = wd_error_set(err, WD_EIO, "cannot remove %s: %s", ent->fts_path,
					strerror(errno));
		} else if (!mine && unlink(ent->fts_accpath) < 0) {
			rc = wd_error_set(err, WD_EIO, "cannot remove %s: %s", ent->fts_path,
				strerror(errno));
		}
	}
	fts_close(fts);
	return rc;
}
