/* SHA-256 of a process's executable, read through /proc/PID/exe (the file
 * the process runs, even if its path was replaced since), with a cache keyed
 * by device, inode, size, mtime and ctime. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "agent/attest_unix.h"
#include "common/error.h"
#include "common/macros.h"

#define ATTEST_SHA256_HEX_LEN 64

/* Hashes the file behind dir_fd's exe link into 64 lowercase hex digits in
 * ret_hex, consulting and filling cache when it is not NULL. WD_ETOOBIG when
 * the file is larger than max_size bytes, WD_EINVAL when it is not a regular
 * file, WD_ECONFLICT when it changed while it was read, WD_ENOTFOUND when the
 * process has exited, WD_EPERM, WD_EIO, WD_ENOMEM. */
WD_MUST_CHECK int attest_exe_hash(int dir_fd, pid_t pid, uint64_t max_size,
	struct attest_cache *cache, char ret_hex[static ATTEST_SHA256_HEX_LEN + 1],
	struct wd_error *err);
