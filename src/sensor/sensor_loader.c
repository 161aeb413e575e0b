/* The sensor's loader on the bpftool skeleton: load, filter, attach, and
 * read the ring buffer. */
#include "sensor/sensor.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The generated skeleton is not written for -Wconversion. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "sensor/sensor.skel.h"
#pragma GCC diagnostic pop

struct sensor {
	struct sensor_bpf *skel;
	struct ring_buffer *ring;
	sensor_event_fn fn;
	void *fn_ctx;
	bool stop;
	uint64_t malformed;
};

/* libbpf reports through a print callback. Library code must not print, so
 * the last warning is kept for the error detail. NOTE: a static buffer,
 * because loading happens once, on one thread. */
static char libbpf_message[256];

static int keep_libbpf_message(enum libbpf_print_level level, const char *format,
	va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(libbpf_message, sizeof(libbpf_message), format, args);
	libbpf_message[strcspn(libbpf_message, "\n")] = '\0';
	return 0;
}

static int handle_record(void *ctx, void *data, size_t len)
{
	struct sensor *sensor = ctx;
	struct sensor_event event;

	if (sensor_event_decode(data, len, &event, NULL) < 0) {
		sensor->malformed++;
		return 0;
	}
	if (sensor->fn(&event, sensor->fn_ctx) != 0) {
		sensor->stop = true;
		/* A negative return makes libbpf stop after this record. */
		return -ECANCELED;
	}
	return 0;
}

static int enable_types(struct sensor *sensor, unsigned type_mask, struct wd_error *err)
{
	int fd = bpf_map__fd(sensor->skel->maps.enabled_types);

	for (uint32_t type = 1; type < SENSOR_EVENT_TYPE_COUNT; type++) {
		uint32_t enabled = (type_mask & SENSOR_TYPE_BIT(type)) ? 1 : 0;

		if (bpf_map_update_elem(fd, &type, &enabled, BPF_ANY) < 0)
			return wd_error_set(err, WD_EINTERNAL, "cannot set the sensor's %s filter: %s",
				sensor_event_type_name(type), strerror(errno));
	}
	return 0;
}

static int libbpf_error(struct wd_error *err, const char *step, int code)
{
	return wd_error_set(err, WD_EINTERNAL, "cannot %s the sensor's eBPF programs: %s%s%s",
		step, strerror(code < 0 ? -code : code), libbpf_message[0] ? ": " : "",
		libbpf_message);
}

/* Leaves out the programs of system call tracepoints this kernel lacks: a
 * call an architecture does not have (open, creat, rename on arm64), or one
 * a configuration left out (init_module without CONFIG_MODULES). Attaching
 * them would fail the whole sensor. */
static void skip_missing_tracepoints(struct sensor *sensor)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, sensor->skel->obj) {
		const char *section = bpf_program__section_name(prog);
		const char *prefix = "tp/syscalls/";
		char path[PATH_MAX];

		if (strncmp(section, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/syscalls/%s",
			section + strlen(prefix));
		if (access(path, F_OK) != 0)
			bpf_program__set_autoload(prog, false);
	}
}

int sensor_open(unsigned type_mask, struct sensor **ret_sensor, struct wd_error *err)
{
	struct sensor *sensor = NULL;
	int rc;

	*ret_sensor = NULL;
	WD_TRY(sensor_check_privileges(err));
	WD_TRY(sensor_mount_tracefs(err));
	libbpf_message[0] = '\0';
	libbpf_set_print(keep_libbpf_message);

	sensor = calloc(1, sizeof(*sensor));
	if (!sensor)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	sensor->skel = sensor_bpf__open();
	if (!sensor->skel) {
		rc = libbpf_error(err, "open", errno);
		goto out;
	}
	skip_missing_tracepoints(sensor);
	rc = sensor_bpf__load(sensor->skel);
	if (rc < 0) {
		rc = libbpf_error(err, "load", rc);
		goto out;
	}
	WD_GUARD(enable_types(sensor, type_mask, err));
	rc = sensor_bpf__attach(sensor->skel);
	if (rc < 0) {
		rc = libbpf_error(err, "attach", rc);
		goto out;
	}
	sensor->ring = ring_buffer__new(bpf_map__fd(sensor->skel->maps.events), handle_record,
		sensor, NULL);
	if (!sensor->ring) {
		rc = libbpf_error(err, "read the ring buffer of", errno);
		goto out;
	}
	*ret_sensor = WD_TAKE_PTR(sensor);
	rc = 0;
out:
	sensor_close(sensor);
	return rc;
}

int sensor_poll(struct sensor *sensor, int timeout_ms, sensor_event_fn fn, void *ctx,
	struct wd_error *err)
{
	int rc;

	sensor->fn = fn;
	sensor->fn_ctx = ctx;
	sensor->stop = false;
	rc = ring_buffer__poll(sensor->ring, timeout_ms);
	/* The kernel side wakes the reader only for a full batch, so records
	 * that came after the last wakeup are read here. */
	if (rc >= 0 && !sensor->stop)
		rc = ring_buffer__consume(sensor->ring);
	if (sensor->stop)
		return 1;
	if (rc < 0 && rc != -EINTR)
		return wd_error_set(err, WD_EIO, "cannot poll the sensor's ring buffer: %s",
			strerror(-rc));
	return 0;
}

int sensor_drops(struct sensor *sensor, uint64_t ret_counts[SENSOR_DROP_REASON_COUNT],
	struct wd_error *err)
{
	int fd = bpf_map__fd(sensor->skel->maps.drops);
	int cpus = libbpf_num_possible_cpus();
	uint64_t *values;

	for (int i = 0; i < SENSOR_DROP_REASON_COUNT; i++)
		ret_counts[i] = 0;
	if (cpus <= 0)
		return wd_error_set(err, WD_EINTERNAL, "cannot count the possible CPUs");
	values = calloc((size_t)cpus, sizeof(*values));
	if (!values)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	for (uint32_t reason = 0; reason < SENSOR_DROP_REASON_COUNT; reason++) {
		if (bpf_map_lookup_elem(fd, &reason, values) < 0) {
			free(values);
			return wd_error_set(err, WD_EINTERNAL, "cannot read drop counter %u: %s",
				reason, strerror(errno));
		}
		for (int cpu = 0; cpu < cpus; cpu++)
			ret_counts[reason] += values[cpu];
	}
	free(values);
	return 0;
}

int sensor_deny_exec_add(struct sensor *sensor, const char *path, struct wd_error *err)
{
	struct sensor_deny_key key = { 0 };
	uint32_t one = 1;
	struct stat st;

	if (stat(path, &st) < 0)
		return wd_error_set(err, errno == ENOENT ? WD_ENOTFOUND : WD_EIO,
			"cannot deny exec of '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return wd_error_set(err, WD_EINVAL, "cannot deny exec of '%s': not a regular file",
			path);
	/* On overlayfs, stat and exec both see the overlay's inode, so a path
	 * through the overlay is denied there, but the layer's own path is not. */
	key.ino = (uint64_t)st.st_ino;
	/* The kernel's own dev_t: 12 bits of major above 20 bits of minor. */
	key.dev = (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev));
	if (bpf_map_update_elem(bpf_map__fd(sensor->skel->maps.deny_exec), &key, &one,
		    BPF_ANY) < 0)
		return wd_error_set(err, errno == E2BIG ? WD_ETOOBIG : WD_EINTERNAL,
			"cannot deny exec of '%s': %s", path, strerror(errno));
	return 0;
}

/* Adds text to an LPM trie of the filter, reversed for the suffix trie. A
 * string longer than the filter reads is cut to the bytes next to the end
 * it is anchored at, which lets more through. */
static int add_to_trie(int fd, const char *what, const char *text, bool reversed,
	struct wd_error *err)
{
	struct sensor_prefix_key key = { 0 };
	size_t len = strlen(text);
	size_t keep = len < SENSOR_FILTER_LEN - 1 ? len : SENSOR_FILTER_LEN - 1;
	uint32_t one = 1;

	for (size_t i = 0; i < keep; i++)
		key.data[i] = (uint8_t)(reversed ? text[len - 1 - i] : text[i]);
	key.prefix_bits = (uint32_t)keep * 8;
	if (bpf_map_update_elem(fd, &key, &one, BPF_ANY) < 0)
		return wd_error_set(err, WD_EINTERNAL, "cannot filter open paths by %s '%s': %s",
			what, text, strerror(errno));
	return 0;
}

int sensor_filter_open_paths(struct sensor *sensor, const char *const *prefixes,
	size_t count, const char *const *suffixes, size_t suffix_count, struct wd_error *err)
{
	int prefix_fd = bpf_map__fd(sensor->skel->maps.open_prefixes);
	int suffix_fd = bpf_map__fd(sensor->skel->maps.open_suffixes);

	if (count > SENSOR_FILTER_PREFIXES || suffix_count > SENSOR_FILTER_PREFIXES)
		return wd_error_set(err, WD_ETOOBIG, "cannot filter open paths: %zu prefixes and "
			"%zu suffixes, the kernel side holds at most %u of each", count, suffix_count,
			SENSOR_FILTER_PREFIXES);
	for (size_t i = 0; i < count; i++) {
		if (prefixes[i][0] != '/')
			return wd_error_set(err, WD_EINVAL, "cannot filter open paths by prefix '%s': "
				"not an absolute path", prefixes[i]);
		WD_TRY(add_to_trie(prefix_fd, "prefix", prefixes[i], false, err));
	}
	for (size_t i = 0; i < suffix_count; i++) {
		if (!suffixes[i][0])
			return wd_error_set(err, WD_EINVAL, "cannot filter open paths by an empty "
				"suffix");
		WD_TRY(add_to_trie(suffix_fd, "suffix", suffixes[i], true, err));
	}
	/* Everything is in: from here the kernel compares. */
	__atomic_store_n(&sensor->skel->bss->open_filter_on, 1, __ATOMIC_RELEASE);
	return 0;
}

uint64_t sensor_malformed(const struct sensor *sensor)
{
	return sensor->malformed;
}

void sensor_close(struct sensor *sensor)
{
	if (!sensor)
		return;
	ring_buffer__free(sensor->ring);
	sensor_bpf__destroy(sensor->skel);
	free(sensor);
}
