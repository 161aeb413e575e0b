/* The one walk over a root filesystem that the language and binary
 * catalogers share. Directories are opened relative to their parent with
 * O_NOFOLLOW, so a symbolic link never leads the walk out of the root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supply/progress.h"
#include "supply/sbom_files.h"

#define WALK_PATH_MAX 4096

struct walker {
	struct sbom_files *files;
	struct progress *progress;
	bool skip_kernel_dirs;  /* the root is "/", whose /proc, /sys and /dev are not files */
	size_t entries;
	char path[WALK_PATH_MAX];  /* the directory being read, relative to the root */
	size_t path_len;
	struct wd_error *err;
};

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

static int add_file(struct walker *w, const char *name, const char *tail,
	enum sbom_file_kind kind, const struct stat *st)
{
	struct sbom_files *files = w->files;
	struct sbom_file *item;
	int len;

	if (files->count >= SBOM_MAX_INDEX_FILES)
		return wd_error_set(w->err, WD_ETOOBIG, "more than %u files to catalog under %s",
			SBOM_MAX_INDEX_FILES, files->root);
	if (files->count == files->cap) {
		size_t cap = files->cap ? files->cap * 2 : 256;
		struct sbom_file *grown = reallocarray(files->items, cap, sizeof(*grown));

		if (!grown)
			return wd_error_set(w->err, WD_ENOMEM, "out of memory for the file index");
		files->items = grown;
		files->cap = cap;
	}

	item = &files->items[files->count];
	*item = (struct sbom_file){ .kind = kind };
	len = asprintf(&item->path, "%.*s/%s%s", (int)w->path_len, w->path, name, tail);
	if (len < 0) {
		item->path = NULL;
		return wd_error_set(w->err, WD_ENOMEM, "out of memory for the file index");
	}
	if (st) {
		item->size = (uint64_t)st->st_size;
		item->dev = (uint64_t)st->st_dev;
		item->ino = (uint64_t)st->st_ino;
	}
	files->count++;
	return 0;
}

/* The metadata file inside a Python metadata directory, or NULL when name is
 * no such directory. */
static const char *python_metadata_in(const char *name)
{
	if (has_suffix(name, ".dist-info"))
		return "/METADATA";
	if (has_suffix(name, ".egg-info") || strcmp(name, "EGG-INFO") == 0)
		return "/PKG-INFO";
	return NULL;
}

/* True when the directory being read is node_modules/<name> or
 * node_modules/@scope/<name>, whose package.json describes an installed
 * package (other package.json files inside a package are not packages). */
static bool in_node_modules_package(const struct walker *w)
{
	const char *path = w->path;
	const char *end = path + w->path_len;
	const char *last = end, *parent, *grandparent;

	while (last > path && last[-1] != '/')
		last--;
	if (last == path || *last == '.' || last == end)
		return false;
	parent = last - 1;
	while (parent > path && parent[-1] != '/')
		parent--;
	if ((size_t)(last - 1 - parent) == strlen("node_modules") &&
	    strncmp(parent, "node_modules", strlen("node_modules")) == 0)
		return *last != '@';
	if (*parent != '@' || parent == path)
		return false;
	grandparent = parent - 1;
	while (grandparent > path && grandparent[-1] != '/')
		grandparent--;
	return (size_t)(parent - 1 - grandparent) == strlen("node_modules") &&
	       strncmp(grandparent, "node_modules", strlen("node_modules")) == 0;
}

/* True when the directory being read is inside a node_modules directory. */
static bool under_node_modules(const struct walker *w)
{
	static const char dir[] = "/node_modules";
	size_t dir_len = sizeof(dir) - 1;

	return memmem(w->path, w->path_len, "/node_modules/", dir_len + 1) ||
	       (w->path_len >= dir_len && memcmp(w->path + w->path_len - dir_len, dir,
		dir_len) == 0);
}

static int visit_regular(struct walker *w, int dir_fd, const char *name)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;  /* gone or replaced since readdir */

	if (strcmp(name, "package-lock.json") == 0 || strcmp(name, "npm-shrinkwrap.json") == 0) {
		/* A lock inside node_modules belongs to a dependency's own
		 * development, not to what is installed. */
		if (!under_node_modules(w))
			WD_TRY(add_file(w, name, "", SBOM_FILE_NPM_LOCK, &st));
	} else if (strcmp(name, "package.json") == 0) {
		if (in_node_modules_package(w))
			WD_TRY(add_file(w, name, "", SBOM_FILE_NPM_PACKAGE, &st));
	} else if (has_suffix(name, ".egg-info")) {
		WD_TRY(add_file(w, name, "", SBOM_FILE_PYTHON_METADATA, &st));
	}
	if (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))
		WD_TRY(add_file(w, name, "", SBOM_FILE_EXECUTABLE, &st));
	return 0;
}

static bool is_kernel_dir(const struct walker *w, const char *name)
{
	return w->skip_kernel_dirs && w->path_len == 0 &&
	       (strcmp(name, "proc") == 0 || strcmp(name, "sys") == 0 || strcmp(name, "dev") == 0);
}

static int walk_dir(struct walker *w, int dir_fd, size_t depth);

static int visit_dir(struct walker *w, int dir_fd, const char *name, size_t depth)
{
	const char *metadata = python_metadata_in(name);
	size_t saved = w->path_len, name_len = strlen(name);
	int fd, rc;

	if (is_kernel_dir(w, name))
		return 0;
	if (metadata)
		WD_TRY(add_file(w, name, metadata, SBOM_FILE_PYTHON_METADATA, NULL));
	if (depth + 1 > SBOM_MAX_WALK_DEPTH || saved + 1 + name_len + 1 > sizeof(w->path)) {
		w->files->too_deep_dirs++;
		return 0;
	}

	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		w->files->unreadable_dirs++;
		return 0;
	}
	w->path[w->path_len++] = '/';
	memcpy(w->path + w->path_len, name, name_len + 1);
	w->path_len += name_len;
	rc = walk_dir(w, fd, depth + 1);
	w->path_len = saved;
	w->path[saved] = '\0';
	return rc;
}

/* Reads the directory dir_fd (taking ownership of it) and everything below. */
static int walk_dir(struct walker *w, int dir_fd, size_t depth)
{
	DIR *dir = fdopendir(dir_fd);
	struct dirent *entry;
	int rc = 0;

	if (!dir) {
		close(dir_fd);
		w->files->unreadable_dirs++;
		return 0;
	}
	while ((entry = readdir(dir))) {
		const char *name = entry->d_name;
		unsigned char type = entry->d_type;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		WD_ENSURE(++w->entries <= SBOM_MAX_WALK_ENTRIES, wd_error_set(w->err, WD_ETOOBIG,
			"more than %u directory entries under %s", SBOM_MAX_WALK_ENTRIES,
			w->files->root));
		progress_add(w->progress, 1);

		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		}
		if (type == DT_DIR)
			WD_GUARD(visit_dir(w, dirfd(dir), name, depth));
		else if (type == DT_REG)
			WD_GUARD(visit_regular(w, dirfd(dir), name));
	}
out:
	closedir(dir);
	return rc;
}

static int compare_files(const void *a, const void *b)
{
	const struct sbom_file *left = a, *right = b;
	int c = strcmp(left->path, right->path);

	return c ? c : (int)left->kind - (int)right->kind;
}

void sbom_files_free(struct sbom_files *files)
{
	if (!files)
		return;
	for (size_t i = 0; i < files->count; i++)
		free(files->items[i].path);
	free(files->items);
	free(files->root);
	if (files->root_fd >= 0)
		close(files->root_fd);
	free(files);
}

static int open_root(const char *root, struct wd_error *err)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return wd_error_set(err, WD_ENOTFOUND, "%s: no such directory", root);
	return wd_error_set(err, WD_EIO, "%s: %s", root, strerror(errno));
}

int sbom_files_walk(const char *root, struct progress *progress, struct sbom_files **ret_files,
	struct wd_error *err)
{
	struct sbom_files *files;
	struct walker *w = NULL;
	char resolved[PATH_MAX];
	int rc = 0, fd;

	*ret_files = NULL;
	files = calloc(1, sizeof(*files));
	if (!files)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the file index");
	files->root_fd = -1;
	files->root = strdup(root);
	w = calloc(1, sizeof(*w));
	WD_ENSURE(files->root && w, wd_error_set(err, WD_ENOMEM, "out of memory for the walk"));

	WD_GUARD(files->root_fd = open_root(root, err));
	fd = fcntl(files->root_fd, F_DUPFD_CLOEXEC, 3);
	WD_ENSURE(fd >= 0, wd_error_set(err, WD_EIO, "%s: %s", root, strerror(errno)));

	*w = (struct walker){ .files = files, .progress = progress, .err = err };
	w->skip_kernel_dirs = realpath(root, resolved) && strcmp(resolved, "/") == 0;
	progress_start(progress, "scanning files", PROGRESS_ITEMS, 0);
	rc = walk_dir(w, fd, 0);
	progress_finish(progress);
	WD_GUARD(rc);

	if (files->count > 1)
		qsort(files->items, files->count, sizeof(*files->items), compare_files);
	*ret_files = WD_TAKE_PTR(files);
out:
	free(w);
	sbom_files_free(files);
	return rc;
}

int sbom_catalog_files(const char *root, struct sbom_catalog *catalog,
	const struct sbom_files **ret_files, struct wd_error *err)
{
	*ret_files = NULL;
	if (catalog->files && strcmp(catalog->files->root, root) != 0) {
		sbom_files_free(catalog->files);
		catalog->files = NULL;
	}
	if (!catalog->files) {
		const struct sbom_files *files;

		WD_TRY(sbom_files_walk(root, catalog->progress, &catalog->files, err));
		files = catalog->files;
		if (files->unreadable_dirs > 0 && sbom_catalog_warn(catalog,
			"%zu %s that could not be opened", files->unreadable_dirs,
			files->unreadable_dirs == 1 ? "directory" : "directories") < 0)
			return wd_error_set(err, WD_ENOMEM, "out of memory");
		if (files->too_deep_dirs > 0 && sbom_catalog_warn(catalog,
			"%zu %s deeper than %d levels or %d bytes", files->too_deep_dirs,
			files->too_deep_dirs == 1 ? "directory" : "directories",
			SBOM_MAX_WALK_DEPTH, WALK_PATH_MAX) < 0)
			return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	*ret_files = catalog->files;
	return 0;
}

/* openat2(2) with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS: no component of
 * path may be a symbolic link or "..", so the file is inside the root. */
static int open_resolved(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned int)flags,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

	/* NOTE: kernels before 5.6 and some seccomp profiles lack openat2, and
	 * the fallback refuses a symbolic link only in the last component. */
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = openat(root_fd, path, flags | O_NOFOLLOW);
	return fd;
}

int sbom_open_beneath(int root_fd, const char *path, struct wd_error *err)
{
	const char *relative = path;
	struct stat st;
	int fd;

	while (*relative == '/')
		relative++;
	if (*relative == '\0')
		return wd_error_set(err, WD_EINVAL, "%s: not a regular file", path);

	fd = open_resolved(root_fd, relative, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int saved = errno;

		if (saved == ENOENT || saved == ENOTDIR)
			return wd_error_set(err, WD_ENOTFOUND, "%s: no such file", path);
		if (saved == EACCES || saved == EPERM)
			return wd_error_set(err, WD_EPERM, "%s: %s", path, strerror(saved));
		if (saved == ELOOP || saved == EXDEV)
			return wd_error_set(err, WD_EINVAL, "%s: reached through a symbolic link",
				path);
		return wd_error_set(err, WD_EIO, "%s: %s", path, strerror(saved));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wd_error_set(err, WD_EINVAL, "%s: not a regular file", path);
	}
	return fd;
}

int sbom_read_beneath(int root_fd, const char *path, size_t max, uint8_t **ret_data,
	size_t *ret_len, struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;
	int fd, rc = 0;

	*ret_data = NULL;
	*ret_len = 0;
	WD_TRY(fd = sbom_open_beneath(root_fd, path, err));
	for (;;) {
		ssize_t n;

		if (cap - len < 2) {
			size_t grown_cap = cap ? cap * 2 : 16384;
			uint8_t *grown;

			if (grown_cap > max + 2)
				grown_cap = max + 2;
			WD_ENSURE(grown_cap > cap, wd_error_set(err, WD_ETOOBIG,
				"%s: larger than %zu bytes", path, max));
			grown = realloc(data, grown_cap);
			WD_ENSURE(grown, wd_error_set(err, WD_ENOMEM, "out of memory reading %s", path));
			data = grown;
			cap = grown_cap;
		}
		n = read(fd, data + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		WD_ENSURE(n >= 0, wd_error_set(err, WD_EIO, "%s: %s", path, strerror(errno)));
		if (n == 0)
			break;
		len += (size_t)n;
		WD_ENSURE(len <= max, wd_error_set(err, WD_ETOOBIG, "%s: larger than %zu bytes",
			path, max));
	}
	data[len] = '\0';
	*ret_data = WD_TAKE_PTR(data);
	*ret_len = len;
out:
	free(data);
	close(fd);
	return rc;
}
