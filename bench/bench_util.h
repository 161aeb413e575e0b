/* Helpers shared by the benchmark drivers: a monotonic clock, option
 * parsing, scratch directories and latency percentiles. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"

/* Returns CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Reads the user + system CPU time of pid in clock ticks (fields 14 and 15
 * of /proc/PID/stat, proc(5)); -1 when the process is gone. */
int bench_cpu_ticks(unsigned long pid, unsigned long long *ret_ticks);

/* CPU time of the whole machine since boot, from the first line of
 * /proc/stat (proc(5)), in clock ticks summed over all CPUs. */
struct bench_machine_ticks {
	unsigned long long busy;   /* user, nice, system, irq and softirq */
	unsigned long long steal;  /* taken by the hypervisor for other guests */
	unsigned long long total;  /* busy, steal, idle and iowait */
};

/* Reads the machine's CPU time; -1 when /proc/stat cannot be read. */
int bench_machine_ticks(struct bench_machine_ticks *ret_ticks);

/* Returns the user + system CPU time of this process in seconds
 * (getrusage). */
double bench_self_cpu_seconds(void);

/* The machine's and this process's CPU time at the start of a measured
 * window. */
struct bench_window {
	struct bench_machine_ticks machine;
	double self_cpu_s;
};

/* Records the start of a measured window. */
void bench_window_start(struct bench_window *ret_window);

/* Prints " client_cpu_s=C machine_busy_s=B machine_steal_s=S
 * machine_total_s=T" to stdout: this process's CPU time and the machine's
 * since window started, in CPU seconds summed over all CPUs. */
void bench_window_print(const struct bench_window *window);

/* Parses a decimal integer from min to max; prints the option name and the
 * value to stderr and returns -1 when text is not one. */
WD_MUST_CHECK int bench_parse_uint(const char *option, const char *text, unsigned long min,
	unsigned long max, unsigned long *ret_value);

/* Creates a directory /tmp/PREFIX-XXXXXX (or under $TMPDIR) with mode 0700
 * and returns its path (malloc'd), or NULL with a message on stderr. */
char *bench_tmpdir_create(const char *prefix);

/* Removes the directory tree at path; accepts NULL. Failures are printed to
 * stderr and otherwise ignored. */
void bench_tmpdir_remove(const char *path);

/* Reads the text file at path (at most BENCH_MAX_FILE_BYTES) into a new
 * NUL-terminated buffer. Returns NULL after a message on stderr that starts
 * with program. */
#define BENCH_MAX_FILE_BYTES (1u << 20)
char *bench_read_file(const char *program, const char *path);

/* Sorts samples in place and returns the value at quantile q (0..1) by the
 * nearest-rank method; 0 for an empty array. */
uint64_t bench_percentile(uint64_t *samples, size_t count, double q);
