/* The sensor of a build without eBPF support (meson -Dsensor=disabled, or
 * clang, bpftool, libbpf or the kernel's BTF missing at build time). */
#include "sensor/sensor.h"

int sensor_open(unsigned type_mask, struct sensor **ret_sensor, struct wd_error *err)
{
	(void)type_mask;
	*ret_sensor = NULL;
	return wd_error_set(err, WD_EUNSUPPORTED,
		"this warden was built without the eBPF sensor (see docs/sensor.md)");
}

int sensor_poll(struct sensor *sensor, int timeout_ms, sensor_event_fn fn, void *ctx,
	struct wd_error *err)
{
	(void)sensor, (void)timeout_ms, (void)fn, (void)ctx;
	return wd_error_set(err, WD_EUNSUPPORTED, "this warden was built without the sensor");
}

int sensor_drops(struct sensor *sensor, uint64_t ret_counts[SENSOR_DROP_REASON_COUNT],
	struct wd_error *err)
{
	(void)sensor;
	for (int i = 0; i < SENSOR_DROP_REASON_COUNT; i++)
		ret_counts[i] = 0;
	return wd_error_set(err, WD_EUNSUPPORTED, "this warden was built without the sensor");
}

int sensor_deny_exec_add(struct sensor *sensor, const char *path, struct wd_error *err)
{
	(void)sensor, (void)path;
	return wd_error_set(err, WD_EUNSUPPORTED, "this warden was built without the sensor");
}

int sensor_filter_open_paths(struct sensor *sensor, const char *const *prefixes,
	size_t count, const char *const *suffixes, size_t suffix_count, struct wd_error *err)
{
	(void)sensor, (void)prefixes, (void)count, (void)suffixes, (void)suffix_count;
	return wd_error_set(err, WD_EUNSUPPORTED, "this warden was built without the sensor");
}

uint64_t sensor_malformed(const struct sensor *sensor)
{
	(void)sensor;
	return 0;
}

void sensor_close(struct sensor *sensor)
{
	(void)sensor;
}
