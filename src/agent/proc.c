/* Reads of /proc/PID files for workload attestation. Every read goes through
 * a directory fd opened once on /proc/PID, so a pid reused by another
 * process after the open cannot redirect the reads, and every read is capped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/proc.h"
#include "common/alloc.h"

/* Maps the errno of a failed open or read under /proc/PID to an error code.
 * ESRCH is what the kernel returns for a process that exited after its
 * directory was opened. */
static int proc_errno_code(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ESRCH:
		return WD_ENOTFOUND;
	case EACCES:
	case EPERM:
		return WD_EPERM;
	case ENOMEM:
		return WD_ENOMEM;
	default:
		return WD_EIO;
	}
}

int attest_proc_open(const char *proc_root, pid_t pid, int *ret_fd, struct wd_error *err)
{
	char path[PATH_MAX];
	int len;
	int fd;

	*ret_fd = -1;
	if (pid <= 0)
		return wd_error_set(err, WD_EINVAL, "invalid pid %d: must be positive", (int)pid);

	len = snprintf(path, sizeof(path), "%s/%d", proc_root ? proc_root : "/proc", (int)pid);
	if (len < 0 || (size_t)len >= sizeof(path))
		return wd_error_set(err, WD_EINVAL, "proc root \"%.200s\" is too long", proc_root);

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int code = proc_errno_code(errno);

		if (code == WD_ENOTFOUND)
			return wd_error_set(err, code, "process %d not found (%s)", (int)pid, path);
		return wd_error_set(err, code, "cannot open %s: %s", path, strerror(errno));
	}
	*ret_fd = fd;
	return 0;
}

int attest_proc_read(int dir_fd, pid_t pid, const char *name, size_t max, char **ret_text,
	size_t *ret_len, struct wd_error *err)
{
	_wd_cleanup_(wd_closep) int fd = -1;
	char *text = NULL;
	size_t cap = 0;
	size_t len = 0;
	int rc = 0;

	*ret_text = NULL;
	*ret_len = 0;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = proc_errno_code(errno);
		if (rc == WD_ENOTFOUND)
			rc = wd_error_set(err, rc, "process %d exited (cannot open /proc/%d/%s)",
				(int)pid, (int)pid, name);
		else
			rc = wd_error_set(err, rc, "cannot open /proc/%d/%s: %s", (int)pid, name,
				strerror(errno));
		goto out;
	}

	/* /proc files report size 0, so read until end of file, growing the
	 * buffer up to max + 1 bytes to tell "exactly max" from "longer". */
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			size_t new_cap = cap ? cap * 2 : 1024;
			char *grown;

			if (new_cap > max + 2)
				new_cap = max + 2;
			if (new_cap <= cap) {
				rc = wd_error_set(err, WD_ETOOBIG,
					"/proc/%d/%s is longer than the maximum %zu bytes", (int)pid,
					name, max);
				goto out;
			}
			grown = realloc(text, new_cap);
			WD_ENSURE(grown, wd_error_set(err, WD_ENOMEM, "out of memory reading /proc/%d/%s",
				(int)pid, name));
			text = grown;
			cap = new_cap;
		}

		n = read(fd, text + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = proc_errno_code(errno);
			rc = wd_error_set(err, rc, "cannot read /proc/%d/%s: %s", (int)pid, name,
				strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			rc = wd_error_set(err, WD_ETOOBIG,
				"/proc/%d/%s is longer than the maximum %zu bytes", (int)pid, name, max);
			goto out;
		}
	}

	if (!text) {
		text = malloc(1);
		WD_ENSURE(text, wd_error_set(err, WD_ENOMEM, "out of memory reading /proc/%d/%s",
			(int)pid, name));
	}
	text[len] = '\0';
	if (memchr(text, '\0', len)) {
		rc = wd_error_set(err, WD_EINVAL, "/proc/%d/%s contains a NUL byte", (int)pid, name);
		goto out;
	}

	*ret_text = WD_TAKE_PTR(text);
	*ret_len = len;
out:
	free(text);
	return rc;
}

/* Parses the decimal uint64 at *cursor, which must not pass end, and moves
 * *cursor past its digits. WD_EINVAL for no digits or an overflow. */
static int parse_u64(const char **cursor, const char *end, uint64_t *ret_value)
{
	const char *p = *cursor;
	uint64_t value = 0;

	if (p >= end || *p < '0' || *p > '9')
		return WD_EINVAL;
	while (p < end && *p >= '0' && *p <= '9') {
		if (__builtin_mul_overflow(value, 10, &value) ||
		    __builtin_add_overflow(value, (uint64_t)(*p - '0'), &value))
			return WD_EINVAL;
		p++;
	}
	*cursor = p;
	*ret_value = value;
	return 0;
}

int attest_proc_parse_start_time(const char *stat, size_t len, uint64_t *ret_ticks)
{
	const char *end = stat + len;
	const char *p = NULL;
	uint64_t ticks;

	*ret_ticks = 0;

	/* comm may contain ") (", so the last ')' is the one that ends it. */
	for (const char *q = stat; q < end; q++) {
		if (*q == ')')
			p = q;
	}
	if (!p)
		return WD_EINVAL;
	p++;

	/* Fields 3 (state) through 21 come first: skip 19 space-separated
	 * fields, then parse field 22. */
	for (int field = 3; field <= 22; field++) {
		if (p >= end || *p != ' ')
			return WD_EINVAL;
		p++;
		if (field == 22)
			break;
		if (p >= end || *p == ' ')
			return WD_EINVAL;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
	}
	if (parse_u64(&p, end, &ticks) < 0)
		return WD_EINVAL;
	if (p < end && *p != ' ' && *p != '\n')
		return WD_EINVAL;

	*ret_ticks = ticks;
	return 0;
}

int attest_proc_read_start_time(int dir_fd, pid_t pid, uint64_t *ret_ticks, struct wd_error *err)
{
	char *text = NULL;
	size_t len;
	int rc;

	*ret_ticks = 0;
	WD_TRY(attest_proc_read(dir_fd, pid, "stat", ATTEST_PROC_STAT_MAX, &text, &len, err));
	rc = attest_proc_parse_start_time(text, len, ret_ticks);
	if (rc < 0)
		rc = wd_error_set(err, WD_EINVAL,
			"invalid /proc/%d/stat: no start time in field 22", (int)pid);
	free(text);
	return rc;
}

int attest_proc_parse_groups(const char *status, size_t len, size_t max, gid_t **ret_gids,
	size_t *ret_count)
{
	static const char prefix[] = "Groups:";
	const char *end = status + len;
	const char *line = status;
	const char *p = NULL;
	gid_t *gids = NULL;
	size_t count = 0;
	size_t cap = 0;
	int rc = 0;

	*ret_gids = NULL;
	*ret_count = 0;

	while (line < end) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));
		const char *line_end = newline ? newline : end;

		if ((size_t)(line_end - line) >= sizeof(prefix) - 1 &&
		    memcmp(line, prefix, sizeof(prefix) - 1) == 0) {
			p = line + sizeof(prefix) - 1;
			end = line_end;
			break;
		}
		line = newline ? newline + 1 : end;
	}
	if (!p)
		return WD_EINVAL;

	for (;;) {
		uint64_t value;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end)
			break;
		WD_GUARD(parse_u64(&p, end, &value));
		WD_ENSURE(p >= end || *p == ' ' || *p == '\t', WD_EINVAL);
		WD_ENSURE(value <= (gid_t)-1, WD_EINVAL);
		WD_ENSURE(count < max, WD_ETOOBIG);
		if (count == cap) {
			size_t new_cap = cap ? cap * 2 : 16;
			gid_t *grown;

			if (new_cap > max)
				new_cap = max;
			grown = wd_reallocarray(gids, new_cap, sizeof(*gids));
			WD_ENSURE(grown, WD_ENOMEM);
			gids = grown;
			cap = new_cap;
		}
		gids[count++] = (gid_t)value;
	}

	*ret_gids = WD_TAKE_PTR(gids);
	*ret_count = count;
out:
	free(gids);
	return rc;
}

int attest_proc_read_exe_path(int dir_fd, pid_t pid, char **ret_path, struct wd_error *err)
{
	char target[PATH_MAX + 1];
	ssize_t n;
	char *path;

	*ret_path = NULL;
	n = readlinkat(dir_fd, "exe", target, sizeof(target));
	if (n < 0) {
		int code = proc_errno_code(errno);

		if (code == WD_ENOTFOUND)
			return wd_error_set(err, code,
				"process %d has no executable (exited, zombie or kernel thread)",
				(int)pid);
		return wd_error_set(err, code, "cannot read /proc/%d/exe: %s", (int)pid,
			strerror(errno));
	}
	if ((size_t)n >= sizeof(target))
		return wd_error_set(err, WD_ETOOBIG,
			"executable path of process %d is longer than %d bytes", (int)pid, PATH_MAX);

	path = wd_strndup(target, (size_t)n);
	if (!path)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading /proc/%d/exe", (int)pid);
	*ret_path = path;
	return 0;
}
