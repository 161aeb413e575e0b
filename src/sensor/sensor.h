/* The sensor's user-space side: loads and attaches the eBPF programs, sets
 * the kernel-side filter, and reads decoded events from the ring buffer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"
#include "sensor/sensor_event.h"

struct sensor;

/* Called for each decoded event; returns 0 to go on, 1 to stop polling. */
typedef int (*sensor_event_fn)(const struct sensor_event *event, void *ctx);

/* Fails with WD_EPERM naming the missing capability unless the process has
 * CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON, in its effective set. */
WD_MUST_CHECK int sensor_check_privileges(struct wd_error *err);

/* Mounts tracefs at /sys/kernel/tracing unless it is there already, since
 * libbpf looks up tracepoint ids in it. Fails with WD_EIO naming the path. */
WD_MUST_CHECK int sensor_mount_tracefs(struct wd_error *err);

/* Checks privileges, mounts tracefs, loads the programs, enables the types in
 * type_mask (SENSOR_TYPE_BIT()s) and attaches. *ret_sensor is owned by the
 * caller (sensor_close). WD_EUNSUPPORTED in a build without the sensor;
 * WD_EPERM without privileges; WD_EINTERNAL with libbpf's reason. */
WD_MUST_CHECK int sensor_open(unsigned type_mask, struct sensor **ret_sensor,
	struct wd_error *err);

/* Waits up to timeout_ms for events and hands each one to fn. Returns 0
 * after the wait or a signal, 1 when fn asked to stop, or a negative error.
 * Records that fail to decode are counted (sensor_malformed) and skipped. */
WD_MUST_CHECK int sensor_poll(struct sensor *sensor, int timeout_ms, sensor_event_fn fn,
	void *ctx, struct wd_error *err);

/* Sums the kernel's per-CPU drop counters into ret_counts, indexed by enum
 * sensor_drop_reason. */
WD_MUST_CHECK int sensor_drops(struct sensor *sensor,
	uint64_t ret_counts[SENSOR_DROP_REASON_COUNT], struct wd_error *err);

/* Adds the executable at path (after symbolic links) to the kernel's deny
 * list. From then on, every exec of that file, by any path or hard link, is
 * killed with SIGKILL before the new program runs. It is reported as an exec
 * event with SENSOR_EXEC_KILLED set, even when the type filter drops exec
 * events. The file is matched by device and inode, so a copy elsewhere is
 * not denied, and replacing the file (a new inode) lifts the denial. Fails
 * with WD_ENOTFOUND or WD_EIO naming a path that cannot be read, WD_EINVAL
 * for one that is not a regular file, and WD_ETOOBIG past 1024 entries. */
WD_MUST_CHECK int sensor_deny_exec_add(struct sensor *sensor, const char *path,
	struct wd_error *err);

/* Restricts open events to paths that start with one of the count
 * prefixes or end with one of the suffix_count suffixes. The kernel drops
 * the other opens before it reserves a record and counts them as
 * SENSOR_DROP_PATH_FILTERED. Paths the kernel cannot compare as the rules
 * see fd.name still pass: relative ones, ones of SENSOR_FILTER_LEN bytes or
 * more, and ones with "//", "/." or "..". A prefix or suffix
 * longer than the filter reads is cut, which lets more through. Before
 * this call every open passes. Fails with WD_EINVAL naming a prefix that
 * does not start with '/' or for an empty suffix, and WD_ETOOBIG past
 * SENSOR_FILTER_PREFIXES of either. */
WD_MUST_CHECK int sensor_filter_open_paths(struct sensor *sensor,
	const char *const *prefixes, size_t count, const char *const *suffixes,
	size_t suffix_count, struct wd_error *err);

/* Returns how many records failed to decode so far. */
uint64_t sensor_malformed(const struct sensor *sensor);

/* Detaches the programs and frees sensor; accepts NULL. */
void sensor_close(struct sensor *sensor);
