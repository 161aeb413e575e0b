/* Whole-file reads with a size ceiling, atomic writes, directory creation and
 * the permission check for key files. Errors name the path and the reason. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/macros.h"

/* Reads the regular file at path into malloc'd bytes, NUL-terminated (the
 * NUL is not counted in ret_len). Fails with WD_ETOOBIG when the file is
 * longer than max bytes, and otherwise with WD_ENOTFOUND, WD_EPERM, WD_EINVAL
 * (not a regular file) or WD_EIO. err (which may be NULL) names the path. */
WD_MUST_CHECK int wd_file_read(const char *path, size_t max, uint8_t **ret_data, size_t *ret_len,
	struct wd_error *err);

/* Replaces path with len bytes of data and the given mode, so a reader sees
 * the old file or the new one and never a partial one. A temporary file in
 * the same directory is written, fsync'd and renamed over path, and then the
 * directory is fsync'd. On failure the temporary file is removed. */
WD_MUST_CHECK int wd_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
	struct wd_error *err);

/* Creates path and any missing parent directories with mode (less the
 * umask), like mkdir -p. Existing directories are left as they are; an
 * existing non-directory in the path fails with WD_EEXIST. */
WD_MUST_CHECK int wd_mkdir_p(const char *path, mode_t mode, struct wd_error *err);

/* Checks that path (after symlinks) is a regular file owned by the effective
 * user or root, with no permission bits for group or others, as a private
 * key file must be. WD_EPERM names the path and its mode otherwise. */
WD_MUST_CHECK int wd_file_check_private(const char *path, struct wd_error *err);
