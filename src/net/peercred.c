/* Unix sockets (admin and gRPC): binding with a fixed file mode and reading the peer's
 * credentials with SO_PEERCRED (unix(7)). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/net_private.h"

int peercred_read(int fd, uid_t *ret_uid, gid_t *ret_gid, pid_t *ret_pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	*ret_uid = (uid_t)-1;
	*ret_gid = (gid_t)-1;
	*ret_pid = 0;
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    len != sizeof(cred))
		return WD_EIO;
	*ret_uid = cred.uid;
	*ret_gid = cred.gid;
	*ret_pid = cred.pid;
	return 0;
}

bool unix_socket_in_use(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	bool in_use;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return false;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	in_use = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	return in_use;
}

/* Removes a socket file left by an earlier run. A socket that still accepts
 * connections belongs to a running server and is left alone, and so is any
 * other file type, so a wrong path never deletes data. */
static int unlink_stale(const char *path, const char *label, struct wd_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return wd_error_set(err, WD_EIO, "cannot stat %s %s: %s", label, path,
			strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return wd_error_set(err, WD_EINVAL, "%s path %s exists and is not a "
			"socket", label, path);
	if (unix_socket_in_use(path))
		return wd_error_set(err, WD_ECONFLICT, "another process is listening on %s %s: "
			"stop it or choose another path", label, path);
	if (unlink(path) < 0)
		return wd_error_set(err, WD_EIO, "cannot remove stale %s %s: %s", label, path,
			strerror(errno));
	return 0;
}

int unix_socket_bind(const char *path, mode_t mode, const char *label, int *ret_fd,
	struct wd_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t path_len = path ? strlen(path) : 0;
	int fd = -1;
	int rc = 0;
	mode_t old_umask;

	*ret_fd = -1;
	if (path_len == 0 || path_len >= sizeof(addr.sun_path))
		return wd_error_set(err, WD_EINVAL, "%s path \"%s\" must have 1 to %zu "
			"bytes", label, path ? path : "", sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, path_len + 1);
	WD_GUARD(unlink_stale(path, label, err));

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = wd_error_set(err, WD_EIO, "cannot create Unix socket: %s", strerror(errno));
		goto out;
	}

	/* bind() creates the file with 0777 & ~umask, so the umask closes the
	 * window in which a wider mode would exist; chmod then sets the exact
	 * mode whatever the process umask.
	 * NOTE: umask is process-wide, so a file another thread creates during
	 * bind also gets this mask. */
	old_umask = umask((mode_t)~mode & 0777);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		umask(old_umask);
		rc = wd_error_set(err, WD_EIO, "cannot bind %s %s: %s", label, path,
			strerror(errno));
		goto out;
	}
	umask(old_umask);
	if (chmod(path, mode & 07777) < 0 || listen(fd, SOMAXCONN) < 0) {
		rc = wd_error_set(err, WD_EIO, "cannot set up %s %s: %s", label, path,
			strerror(errno));
		unlink(path);
		goto out;
	}
	*ret_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
