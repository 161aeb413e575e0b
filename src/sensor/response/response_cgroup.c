/* Quarantine: freezing the cgroup v2 of a process (cgroup.freeze, Linux
 * 5.2 and later), never the root, the sensor's own cgroup or an ancestor
 * of it, since that would freeze the sensor too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "sensor/response/response_priv.h"

static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2) {
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	}
	return false;
}

int response_cgroup_of(const char *pid_dir, char *buf, size_t size, struct wd_error *err)
{
	char path[256];
	char text[4096];
	const char *line;

	snprintf(path, sizeof(path), "%s/cgroup", pid_dir);
	WD_TRY(response_read_small(path, text, sizeof(text), err));
	/* The cgroup v2 line is "0::/path"; v1 hierarchies have other ids. */
	for (line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		size_t len = strcspn(line, "\n");

		if (len < 3 || strncmp(line, "0::", 3))
			continue;
		if (len - 3 >= size || line[3] != '/')
			return wd_error_set(err, WD_EIO, "invalid cgroup v2 entry in %s", path);
		memcpy(buf, line + 3, len - 3);
		buf[len - 3] = '\0';
		if (has_dotdot(buf))
			return wd_error_set(err, WD_EIO, "invalid cgroup v2 path in %s", path);
		return 0;
	}
	return wd_error_set(err, WD_ENOTFOUND, "%s has no cgroup v2 entry", path);
}

int response_cgroup_check(const char *path, const char *self, struct wd_error *err)
{
	size_t len = strlen(path);

	if (!strcmp(path, "/"))
		return wd_error_set(err, WD_EPERM, "refusing to freeze the root cgroup");
	if (!strcmp(path, self))
		return wd_error_set(err, WD_EPERM, "refusing to freeze %s: it is the sensor's own "
			"cgroup", path);
	if (!strncmp(self, path, len) && self[len] == '/')
		return wd_error_set(err, WD_EPERM, "refusing to freeze %s: it contains the "
			"sensor's cgroup %s", path, self);
	return 0;
}

int response_cgroup_mount(const char *mountinfo, char *buf, size_t size, struct wd_error *err)
{
	/* proc(5): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - TYPE
	 * SOURCE SUPER"; mount points escape spaces as \040 and are left so. */
	for (const char *line = mountinfo; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *dash = NULL;
		char point[1024];
		char type[32];

		for (const char *p = line; p + 2 < line + len; p++) {
			if (p[0] == ' ' && p[1] == '-' && p[2] == ' ') {
				dash = p;
				break;
			}
		}
		if (dash && sscanf(dash, " - %31s", type) == 1 && !strcmp(type, "cgroup2") &&
		    sscanf(line, "%*s %*s %*s %*s %1023s", point) == 1) {
			if (strlen(point) >= size)
				return wd_error_set(err, WD_ETOOBIG, "cgroup v2 mount point is too long");
			snprintf(buf, size, "%s", point);
			return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return wd_error_set(err, WD_ENOTFOUND, "no cgroup v2 file system is mounted");
}

int response_cgroup_freeze(const char *root, const char *path, struct wd_error *err)
{
	char file[4096 + 1024];
	int fd;
	ssize_t written;

	if ((size_t)snprintf(file, sizeof(file), "%s%s/cgroup.freeze", root, path) >= sizeof(file))
		return wd_error_set(err, WD_ETOOBIG, "cgroup path %s is too long", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return wd_error_set(err, WD_EIO, "cannot open %s: %s", file, strerror(errno));
	written = write(fd, "1", 1);
	if (written != 1) {
		int saved = errno;

		close(fd);
		return wd_error_set(err, WD_EIO, "cannot write %s: %s", file, strerror(saved));
	}
	close(fd);
	return 0;
}
