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

/* Sorts samples in place and returns the value at quantile q (0..1) by the
 * nearest-rank method; 0 for an empty array. */
uint64_t bench_percentile(uint64_t *samples, size_t count, double q);
