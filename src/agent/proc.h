/* Bounded reads of one process's files under /proc, relative to a directory
 * fd on /proc/PID, and parsers for the fields attestation needs. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/macros.h"

/* Ceilings on the files read, in bytes. stat is a few hundred bytes (comm is
 * at most 16). status grows with the Groups: line, up to about 11 bytes per
 * supplementary group. cgroup has one line per hierarchy. */
#define ATTEST_PROC_STAT_MAX (4u * 1024u)
#define ATTEST_PROC_STATUS_MAX (1024u * 1024u)
#define ATTEST_PROC_CGROUP_MAX (64u * 1024u)

/* Opens proc_root/pid as a directory (O_DIRECTORY, O_CLOEXEC) and stores the
 * fd, which the caller closes, in ret_fd. WD_ENOTFOUND names the pid when
 * the process does not exist; WD_EPERM or WD_EIO otherwise. */
WD_MUST_CHECK int attest_proc_open(const char *proc_root, pid_t pid, int *ret_fd,
	struct wd_error *err);

/* Reads the file name under dir_fd into malloc'd, NUL-terminated text of at
 * most max bytes. WD_ENOTFOUND when the process has exited, WD_ETOOBIG past
 * max, WD_EINVAL for a NUL byte in the text, WD_EPERM or WD_EIO; the detail
 * names the pid and the file. */
WD_MUST_CHECK int attest_proc_read(int dir_fd, pid_t pid, const char *name, size_t max,
	char **ret_text, size_t *ret_len, struct wd_error *err);

/* Parses field 22 (starttime, in clock ticks since boot) of a
 * /proc/PID/stat line. The fields are counted after the last ')', because
 * comm (field 2) may itself hold spaces and parentheses. WD_EINVAL when the
 * line is malformed. */
WD_MUST_CHECK int attest_proc_parse_start_time(const char *stat, size_t len, uint64_t *ret_ticks);

/* Reads and parses dir_fd's stat file: the errors of attest_proc_read and
 * attest_proc_parse_start_time. */
WD_MUST_CHECK int attest_proc_read_start_time(int dir_fd, pid_t pid, uint64_t *ret_ticks,
	struct wd_error *err);

/* Parses the "Groups:" line of /proc/PID/status into a malloc'd array of at
 * most max gids (the caller frees it; NULL when there are none).
 * WD_EINVAL when the line is missing or malformed, WD_ETOOBIG past max. */
WD_MUST_CHECK int attest_proc_parse_groups(const char *status, size_t len, size_t max,
	gid_t **ret_gids, size_t *ret_count);

/* Reads the target of dir_fd's exe link into a malloc'd string. WD_ENOTFOUND
 * when the process has no executable (a kernel thread or a zombie) or has
 * exited, WD_ETOOBIG when the target is longer than PATH_MAX. */
WD_MUST_CHECK int attest_proc_read_exe_path(int dir_fd, pid_t pid, char **ret_path,
	struct wd_error *err);
