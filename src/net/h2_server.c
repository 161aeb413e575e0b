/* Unix-socket listeners of the gRPC server: binding with a fixed file mode,
 * accepting with connection ceilings, and reading SO_PEERCRED (unix(7)) and
 * the identity of the peer process. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/alloc.h"
#include "net/grpc_private.h"
#include "net/net_private.h"

/* Parses field 22 (starttime) of a /proc/PID/stat line. The fields are
 * counted after the last ')', because comm (field 2) may itself contain
 * spaces and parentheses. */
static int parse_start_time(const char *stat, uint64_t *ret_ticks)
{
	const char *p = strrchr(stat, ')');
	char *end;
	unsigned long long ticks;

	if (!p)
		return WD_EINVAL;
	p++;
	/* Field 3 (state) is the first one after ')', so starttime is the 20th. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return WD_EINVAL;
	}
	errno = 0;
	ticks = strtoull(p + 1, &end, 10);
	if (errno != 0 || end == p + 1 || (*end != ' ' && *end != '\n' && *end != '\0'))
		return WD_EINVAL;
	*ret_ticks = ticks;
	return 0;
}

int grpc_peer_process_read(pid_t pid, struct grpc_peer_process *ret_process)
{
	char path[64];
	char stat_line[4096];
	struct stat exe;
	ssize_t len;
	int fd;

	memset(ret_process, 0, sizeof(*ret_process));
	if (pid <= 0)
		return WD_ENOTFOUND;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? WD_ENOTFOUND : WD_EIO;
	len = read(fd, stat_line, sizeof(stat_line) - 1);
	if (len < 0 && errno == ESRCH) {
		close(fd);
		return WD_ENOTFOUND;
	}
	close(fd);
	if (len <= 0)
		return WD_EIO;
	stat_line[len] = '\0';
	if (parse_start_time(stat_line, &ret_process->start_time) < 0)
		return WD_EIO;

	/* stat() follows the link to the file the process executes, even one
	 * that was deleted or replaced on disk since. */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &exe) == 0) {
		ret_process->has_exe = true;
		ret_process->exe_dev = exe.st_dev;
		ret_process->exe_ino = exe.st_ino;
	}
	return 0;
}

static size_t connections_of_uid(const struct grpc_server *server, bool has_cred, uid_t uid)
{
	const struct h2_conn *conn;
	size_t count = 0;

	TAILQ_FOREACH(conn, &server->conns, link) {
		if (conn->has_cred == has_cred && (!has_cred || conn->uid == uid))
			count++;
	}
	return count;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
	struct sockaddr *addr, int addr_len, void *arg)
{
	struct grpc_server *server = arg;
	struct bufferevent *bev;
	struct h2_conn *conn = NULL;
	struct grpc_peer_process process;
	bool has_process = false;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool has_cred;

	(void)listener;
	(void)addr;
	(void)addr_len;
	if (server->conn_count >= server->limits.max_connections) {
		grpc_server_report_reject(server, GRPC_REJECT_MAX_CONNECTIONS, WD_ETOOBIG,
			"rejected gRPC connection: %zu connections are open, the limit",
			server->conn_count);
		close(fd);
		return;
	}
	has_cred = peercred_read(fd, &uid, &gid, &pid) == 0;
	if (connections_of_uid(server, has_cred, uid) >= server->limits.max_connections_per_uid) {
		char uid_text[24] = "unknown";

		if (has_cred)
			snprintf(uid_text, sizeof(uid_text), "%lu", (unsigned long)uid);
		grpc_server_report_reject(server, GRPC_REJECT_MAX_CONNECTIONS_PER_UID,
			WD_ETOOBIG, "rejected gRPC connection from uid %s: it has %zu connections "
			"open, the per-uid limit", uid_text, server->limits.max_connections_per_uid);
		close(fd);
		return;
	}

	/* Handlers compare this record with the process as it is at call time,
	 * so a connection passed on to a process that then ran another program
	 * (fork, then execve in the parent) is not attested as that program.
	 * NOTE: a process that calls execve() between its connect() and this
	 * accept is recorded with its new executable; that window stays open.
	 * SO_PEERPIDFD (Linux 6.5) would pin the process against pid reuse but
	 * not against execve(). */
	if (has_cred)
		has_process = grpc_peer_process_read(pid, &process) == 0;

	bev = bufferevent_socket_new(server->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		grpc_server_report(server, WD_ENOMEM, "cannot create bufferevent for a gRPC "
			"connection");
		close(fd);
		return;
	}
	if (h2_conn_new(server, bev, &conn) < 0) {
		grpc_server_report(server, WD_ENOMEM, "cannot set up a gRPC connection");
		return;
	}
	conn->has_cred = has_cred;
	conn->uid = uid;
	conn->gid = gid;
	conn->pid = pid;
	conn->has_process = has_process;
	if (has_process)
		conn->process = process;
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
	int saved = EVUTIL_SOCKET_ERROR();

	(void)listener;
	/* EMFILE and friends are transient; libevent keeps the listener on. */
	grpc_server_report(arg, WD_EIO, "accept on gRPC socket failed: %s",
		evutil_socket_error_to_string(saved));
}

int grpc_server_listen_unix(struct grpc_server *server, const char *path, mode_t mode,
	struct wd_error *err)
{
	struct grpc_unix_listener *entry = NULL;
	int fd = -1;
	int rc = 0;

	WD_GUARD(unix_socket_bind(path, mode, "gRPC socket", &fd, err));
	entry = wd_calloc(1, sizeof(*entry));
	WD_ENSURE(entry, WD_ENOMEM);
	entry->path = wd_strdup(path);
	WD_ENSURE(entry->path, WD_ENOMEM);
	entry->listener = evconnlistener_new(server->base, on_accept, server,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	WD_ENSURE(entry->listener, WD_ENOMEM);
	fd = -1;
	evconnlistener_set_error_cb(entry->listener, on_accept_error);
	entry->next = server->listeners;
	server->listeners = entry;
	entry = NULL;
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "cannot allocate gRPC listener for %s", path);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	if (entry) {
		free(entry->path);
		free(entry);
	}
	return rc;
}

void grpc_server_close_listeners(struct grpc_server *server)
{
	struct grpc_unix_listener *entry;

	while ((entry = server->listeners) != NULL) {
		server->listeners = entry->next;
		evconnlistener_free(entry->listener);
		unlink(entry->path);
		free(entry->path);
		free(entry);
	}
}
