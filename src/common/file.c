/* File helpers for keys, configuration and state: bounded reads, atomic
 * replacement, mkdir -p and the private-file check. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/file.h"

/* Bytes requested from read(2) per call while reading a whole file. */
#define READ_CHUNK 65536u

static int errno_to_code(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		return WD_ENOTFOUND;
	case EACCES:
	case EPERM:
	case EROFS:
		return WD_EPERM;
	case ENOMEM:
		return WD_ENOMEM;
	case EEXIST:
		return WD_EEXIST;
	default:
		return WD_EIO;
	}
}

/* Records the failed operation with the path and errno's text. */
static int file_error(struct wd_error *err, int errnum, const char *operation, const char *path)
{
	char text[128];
	const char *message = strerror_r(errnum, text, sizeof(text));

	return wd_error_set(err, errno_to_code(errnum), "cannot %s '%s': %s", operation, path,
		message);
}

int wd_file_read(const char *path, size_t max, uint8_t **ret_data, size_t *ret_len,
	struct wd_error *err)
{
	_wd_cleanup_(wd_closep) int fd = -1;
	struct wd_buf buf;
	struct stat st;
	int rc;

	*ret_data = NULL;
	*ret_len = 0;
	wd_buf_init(&buf, 0, max);

	/* O_NONBLOCK keeps open from hanging on a FIFO, which is then rejected
	 * as not a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return file_error(err, errno, "open", path);
	if (fstat(fd, &st) < 0)
		return file_error(err, errno, "stat", path);
	if (!S_ISREG(st.st_mode))
		return wd_error_set(err, WD_EINVAL, "cannot read '%s': not a regular file", path);
	if (st.st_size > 0 && (uintmax_t)st.st_size > max)
		return wd_error_set(err, WD_ETOOBIG, "'%s' is larger than the limit of %zu bytes",
			path, max);

	/* Read until EOF rather than trusting st_size, which is 0 for files in
	 * /proc and may change while the file is read. */
	for (;;) {
		uint8_t chunk[READ_CHUNK];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = file_error(err, errno, "read", path);
			goto out;
		}
		if (n == 0)
			break;
		rc = wd_buf_append(&buf, chunk, (size_t)n);
		if (rc == WD_ETOOBIG) {
			rc = wd_error_set(err, WD_ETOOBIG,
				"'%s' is larger than the limit of %zu bytes", path, max);
			goto out;
		}
		if (rc < 0) {
			rc = wd_error_set(err, rc, "cannot read '%s': out of memory", path);
			goto out;
		}
	}

	*ret_data = wd_buf_take(&buf, ret_len);
	if (!*ret_data) {
		rc = wd_error_set(err, WD_ENOMEM, "cannot read '%s': out of memory", path);
		goto out;
	}
	rc = 0;
out:
	wd_buf_free(&buf);
	return rc;
}

/* Writes all len bytes, retrying short writes and EINTR. */
static int write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Flushes the directory entry of a rename to disk (the rename itself is not
 * durable until its directory is synced, per fsync(2)). */
static int sync_directory(const char *dir, struct wd_error *err)
{
	_wd_cleanup_(wd_closep) int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return file_error(err, errno, "open directory", dir);
	if (fsync(fd) < 0)
		return file_error(err, errno, "sync directory", dir);
	return 0;
}

int wd_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
	struct wd_error *err)
{
	_wd_cleanup_(wd_closep) int fd = -1;
	_wd_cleanup_(wd_freep) char *dir = NULL;
	char tmp[PATH_MAX];
	const char *slash, *base;
	int n, rc;

	if (!path || !*path || (!data && len))
		return wd_error_set(err, WD_EINVAL, "invalid arguments for an atomic write");

	/* The temporary file must live in the destination directory, since
	 * rename(2) is atomic only within one file system. */
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base)
		return wd_error_set(err, WD_EINVAL, "cannot write '%s': the path names a directory",
			path);
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir)
		return wd_error_set(err, WD_ENOMEM, "cannot write '%s': out of memory", path);
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return wd_error_set(err, WD_EINVAL, "cannot write '%s': path too long", path);

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return file_error(err, errno, "create a temporary file for", path);

	/* fchmod sets the mode exactly, whatever the umask. */
	if (fchmod(fd, mode) < 0) {
		rc = file_error(err, errno, "set the mode of", tmp);
		goto fail;
	}
	if (write_all(fd, data, len) < 0) {
		rc = file_error(err, errno, "write", tmp);
		goto fail;
	}
	if (fsync(fd) < 0) {
		rc = file_error(err, errno, "sync", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = file_error(err, errno, "close", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = file_error(err, errno, "rename a temporary file to", path);
		goto fail;
	}
	return sync_directory(dir, err);

fail:
	unlink(tmp);
	return rc;
}

/* Creates one directory; an existing directory is success. */
static int mkdir_one(const char *path, mode_t mode, struct wd_error *err)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return file_error(err, errno, "create directory", path);
	if (stat(path, &st) < 0)
		return file_error(err, errno, "stat", path);
	if (!S_ISDIR(st.st_mode))
		return wd_error_set(err, WD_EEXIST, "cannot create directory '%s': a file is in the way",
			path);
	return 0;
}

int wd_mkdir_p(const char *path, mode_t mode, struct wd_error *err)
{
	char copy[PATH_MAX];
	size_t len;
	int rc;

	if (!path || !*path)
		return wd_error_set(err, WD_EINVAL, "missing directory path");
	len = strlen(path);
	if (len >= sizeof(copy))
		return wd_error_set(err, WD_EINVAL, "directory path too long (%zu bytes)", len);
	memcpy(copy, path, len + 1);

	/* Cut the path at each '/' after a component, create that prefix,
	 * then restore the '/'. The root itself is never created. */
	for (size_t i = 1; i < len; i++) {
		if (copy[i] != '/' || copy[i - 1] == '/')
			continue;
		copy[i] = '\0';
		rc = mkdir_one(copy, mode, err);
		copy[i] = '/';
		if (rc < 0)
			return rc;
	}
	return mkdir_one(copy, mode, err);
}

int wd_file_check_private(const char *path, struct wd_error *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return file_error(err, errno, "stat", path);
	if (!S_ISREG(st.st_mode))
		return wd_error_set(err, WD_EPERM, "'%s' is not a regular file", path);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return wd_error_set(err, WD_EPERM,
			"'%s' is owned by uid %u, not by this user or root", path, (unsigned)st.st_uid);
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return wd_error_set(err, WD_EPERM,
			"'%s' has mode %04o, which group or others can access; run chmod 600 on it",
			path, (unsigned)(st.st_mode & 07777));
	return 0;
}
