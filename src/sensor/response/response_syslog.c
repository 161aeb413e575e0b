/* Sends alerts to a syslog socket in the format of glibc's syslog(3):
 * "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE" (RFC 3164 section 4.1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "sensor/response/response_syslog.h"

struct response_syslog {
	int fd;
	int facility;
	struct sockaddr_un addr;
};

static int connect_socket(struct response_syslog *log, struct wd_error *err)
{
	if (log->fd >= 0)
		close(log->fd);
	log->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (log->fd < 0)
		return wd_error_set(err, WD_EIO, "cannot create a syslog socket: %s", strerror(errno));
	if (connect(log->fd, (const struct sockaddr *)&log->addr, sizeof(log->addr)) < 0) {
		int saved = errno;

		close(log->fd);
		log->fd = -1;
		return wd_error_set(err, WD_EIO, "cannot connect to syslog at %s: %s",
			log->addr.sun_path, strerror(saved));
	}
	return 0;
}

int response_syslog_open(const char *socket_path, int facility, struct response_syslog **ret,
	struct wd_error *err)
{
	struct response_syslog *log;
	const char *path = socket_path ? socket_path : RESPONSE_SYSLOG_DEFAULT_SOCKET;
	int rc;

	*ret = NULL;
	if (strlen(path) >= sizeof(log->addr.sun_path))
		return wd_error_set(err, WD_EINVAL, "syslog socket path %s is too long", path);
	log = calloc(1, sizeof(*log));
	if (!log)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	log->fd = -1;
	log->facility = facility;
	log->addr.sun_family = AF_UNIX;
	snprintf(log->addr.sun_path, sizeof(log->addr.sun_path), "%s", path);
	rc = connect_socket(log, err);
	if (rc < 0) {
		response_syslog_free(log);
		return rc;
	}
	*ret = log;
	return 0;
}

int response_syslog_severity(enum rules_priority priority)
{
	static const int severities[] = {
		[RULES_EMERGENCY] = LOG_EMERG, [RULES_ALERT] = LOG_ALERT,
		[RULES_CRITICAL] = LOG_CRIT, [RULES_ERROR] = LOG_ERR,
		[RULES_WARNING] = LOG_WARNING, [RULES_NOTICE] = LOG_NOTICE,
		[RULES_INFORMATIONAL] = LOG_INFO, [RULES_DEBUG] = LOG_DEBUG,
	};

	return (unsigned)priority < WD_ARRAY_LEN(severities) ? severities[priority] : LOG_WARNING;
}

int response_syslog_send(struct response_syslog *log, int severity, const char *message,
	struct wd_error *err)
{
	char header[96];
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	int header_len;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	header_len = snprintf(header, sizeof(header), "<%d>%s %s[%d]: ",
		(log->facility & LOG_FACMASK) | (severity & LOG_PRIMASK), stamp, RESPONSE_SYSLOG_IDENT,
		(int)getpid());
	iov[0] = (struct iovec){ header, (size_t)header_len };
	iov[1] = (struct iovec){ (void *)message, strlen(message) };

	for (int attempt = 0; attempt < 2; attempt++) {
		if (log->fd >= 0 && sendmsg(log->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		if (log->fd >= 0 && errno != ECONNREFUSED && errno != ENOTCONN)
			break;
		/* The daemon restarted and bound a new socket: connect again. */
		if (attempt == 0 && connect_socket(log, err) < 0)
			return err ? err->code : WD_EIO;
	}
	return wd_error_set(err, WD_EIO, "cannot send to syslog at %s: %s", log->addr.sun_path,
		strerror(errno));
}

void response_syslog_free(struct response_syslog *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	free(log);
}
