/* The target process of a response: a pidfd that cannot hit a reused pid,
 * and SIGKILL through it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sensor/response/response_priv.h"

int response_read_small(const char *path, char *buf, size_t size, struct wd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return wd_error_set(err, errno == ENOENT || errno == ESRCH ? WD_ENOTFOUND : WD_EIO,
			"cannot open %s: %s", path, strerror(errno));
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			close(fd);
			return wd_error_set(err, saved == ESRCH ? WD_ENOTFOUND : WD_EIO,
				"cannot read %s: %s", path, strerror(saved));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len + 1 >= size)
		return wd_error_set(err, WD_ETOOBIG, "%s is longer than %zu bytes", path, size - 1);
	return 0;
}

/* Reads field 22 of /proc/PID/stat: the start time in clock ticks after
 * boot (proc(5)). The command name (field 2) may hold spaces and
 * parentheses, so fields are counted from its last ')'. */
static int read_start_ticks(uint32_t pid, unsigned long long *ret, struct wd_error *err)
{
	char path[64];
	char stat[1024];
	const char *p;
	int field = 2;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	WD_TRY(response_read_small(path, stat, sizeof(stat), err));
	p = strrchr(stat, ')');
	while (p && *p && field < 22) {
		p = strchr(p + 1, ' ');
		if (p)
			field++;
	}
	if (!p || sscanf(p, " %llu", ret) != 1)
		return wd_error_set(err, WD_EIO, "cannot parse the start time in %s", path);
	return 0;
}

/* Returns CLOCK_BOOTTIME minus CLOCK_MONOTONIC in ns: the time suspended. */
static int64_t suspended_ns(void)
{
	struct timespec boot;
	struct timespec mono;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)boot.tv_sec - mono.tv_sec) * 1000000000 + (boot.tv_nsec - mono.tv_nsec);
}

static int signal_pidfd(int pidfd, int signo)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
}

int response_pidfd_open(uint32_t pid, uint64_t event_ns, int *ret_fd, struct wd_error *err)
{
	unsigned long long ticks = 0;
	long hz = sysconf(_SC_CLK_TCK);
	int fd;
	int rc;

	*ret_fd = -1;
	if (pid == 0 || pid > INT32_MAX)
		return wd_error_set(err, WD_EINVAL, "invalid pid %u", pid);
	fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (fd < 0)
		return wd_error_set(err, errno == ESRCH ? WD_ENOTFOUND : WD_EIO,
			"cannot open pid %u: %s", pid, errno == ESRCH ? "the process has exited"
			: strerror(errno));

	/* The stat read below describes the pidfd's process only if that
	 * process is still alive afterwards, because no other process can get
	 * its pid before it exits. */
	rc = event_ns ? read_start_ticks(pid, &ticks, err) : 0;
	if (rc == 0 && signal_pidfd(fd, 0) < 0)
		rc = wd_error_set(err, WD_ENOTFOUND, "pid %u: the process has exited", pid);
	if (rc == 0 && event_ns && hz > 0) {
		/* Ticks are rounded down, so allow one tick of slack. */
		int64_t start_ns = (int64_t)(ticks * (1000000000ull / (unsigned long)hz)) -
			suspended_ns();

		if (start_ns > (int64_t)event_ns + 1000000000 / hz)
			rc = wd_error_set(err, WD_ECONFLICT, "pid %u was reused: the process now "
				"holding it started after the event", pid);
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*ret_fd = fd;
	return 0;
}

int response_pidfd_alive(int pidfd, uint32_t pid, struct wd_error *err)
{
	if (signal_pidfd(pidfd, 0) < 0)
		return wd_error_set(err, WD_ENOTFOUND, "pid %u: the process has exited", pid);
	return 0;
}

int response_pidfd_kill(int pidfd, uint32_t pid, struct wd_error *err)
{
	if (signal_pidfd(pidfd, SIGKILL) < 0)
		return wd_error_set(err, errno == ESRCH ? WD_ENOTFOUND : WD_EIO,
			"cannot kill pid %u: %s", pid, errno == ESRCH ? "the process has exited"
			: strerror(errno));
	return 0;
}
