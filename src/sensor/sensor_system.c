/* The sensor's requirements on the running system: the capabilities that
 * loading tracing programs needs, and a mounted tracefs. */
#include "sensor/sensor.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TRACEFS_PATH "/sys/kernel/tracing"

static bool has_capability(const struct __user_cap_data_struct data[2], unsigned cap)
{
	return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

int sensor_check_privileges(struct wd_error *err)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
	bool bpf, perfmon;

	/* glibc has no capget wrapper, and libcap is one dependency more for
	 * three bits. */
	if (syscall(SYS_capget, &header, data) < 0)
		return wd_error_set(err, WD_EINTERNAL, "capget failed: %s", strerror(errno));
	if (has_capability(data, CAP_SYS_ADMIN))
		return 0;
	bpf = has_capability(data, CAP_BPF);
	perfmon = has_capability(data, CAP_PERFMON);
	if (bpf && perfmon)
		return 0;
	return wd_error_set(err, WD_EPERM,
		"the sensor needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN; missing %s "
		"(run as root)",
		!bpf && !perfmon ? "CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN" :
		!bpf ? "CAP_BPF (or CAP_SYS_ADMIN)" : "CAP_PERFMON (or CAP_SYS_ADMIN)");
}

int sensor_mount_tracefs(struct wd_error *err)
{
	if (access(TRACEFS_PATH "/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS_PATH, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return wd_error_set(err, WD_EIO, "cannot mount tracefs at %s: %s", TRACEFS_PATH,
			strerror(errno));
	return 0;
}
