/* Helpers shared by the benchmark drivers. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_parse_uint(const char *option, const char *text, unsigned long min,
	unsigned long max, unsigned long *ret_value)
{
	unsigned long value;
	char *end = NULL;

	*ret_value = 0;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value < min ||
	    value > max) {
		fprintf(stderr, "invalid %s \"%s\": expected an integer from %lu to %lu\n", option,
			text, min, max);
		return -1;
	}
	*ret_value = value;
	return 0;
}

char *bench_tmpdir_create(const char *prefix)
{
	const char *base = getenv("TMPDIR");
	char path[PATH_MAX];
	int n;

	if (!base || base[0] == '\0')
		base = "/tmp";
	n = snprintf(path, sizeof(path), "%s/%s-XXXXXX", base, prefix);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "temporary directory path under \"%s\" is too long\n", base);
		return NULL;
	}
	if (!mkdtemp(path)) {
		fprintf(stderr, "creating a temporary directory in \"%s\" failed: %s\n", base,
			strerror(errno));
		return NULL;
	}
	return strdup(path);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (remove(path) < 0)
		fprintf(stderr, "removing \"%s\" failed: %s\n", path, strerror(errno));
	return 0;
}

void bench_tmpdir_remove(const char *path)
{
	if (!path)
		return;
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "removing \"%s\" failed: %s\n", path, strerror(errno));
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t bench_percentile(uint64_t *samples, size_t count, double q)
{
	size_t rank;

	if (count == 0)
		return 0;
	qsort(samples, count, sizeof(samples[0]), compare_u64);
	rank = (size_t)ceil(q * (double)count);
	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	return samples[rank - 1];
}

int bench_cpu_ticks(unsigned long pid, unsigned long long *ret_ticks)
{
	char path[64];
	char line[1024];
	unsigned long long utime, stime;
	const char *after_name;
	FILE *file;
	size_t len;

	*ret_ticks = 0;
	snprintf(path, sizeof(path), "/proc/%lu/stat", pid);
	file = fopen(path, "r");
	if (!file)
		return -1;
	len = fread(line, 1, sizeof(line) - 1, file);
	fclose(file);
	line[len] = '\0';

	/* The command name (field 2) may contain spaces, so the fields resume
	 * after the last ')'. */
	after_name = strrchr(line, ')');
	if (!after_name || sscanf(after_name + 2,
		"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return -1;
	*ret_ticks = utime + stime;
	return 0;
}

int bench_machine_ticks(struct bench_machine_ticks *ret_ticks)
{
	unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
	FILE *file = fopen("/proc/stat", "r");
	int fields;

	*ret_ticks = (struct bench_machine_ticks){ 0 };
	if (!file)
		return -1;
	fields = fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
		&idle, &iowait, &irq, &softirq, &steal);
	fclose(file);
	if (fields != 8)
		return -1;
	ret_ticks->busy = user + nice + system + irq + softirq;
	ret_ticks->steal = steal;
	ret_ticks->total = ret_ticks->busy + steal + idle + iowait;
	return 0;
}

double bench_self_cpu_seconds(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_SELF, &usage) < 0)
		return 0;
	return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
	       (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

void bench_window_start(struct bench_window *ret_window)
{
	if (bench_machine_ticks(&ret_window->machine) < 0)
		fprintf(stderr, "bench: reading /proc/stat failed\n");
	ret_window->self_cpu_s = bench_self_cpu_seconds();
}

void bench_window_print(const struct bench_window *window)
{
	struct bench_machine_ticks now;
	double tick = 1.0 / (double)sysconf(_SC_CLK_TCK);

	if (bench_machine_ticks(&now) < 0 || window->machine.total == 0)
		return;
	printf(" client_cpu_s=%.2f machine_busy_s=%.2f machine_steal_s=%.2f machine_total_s=%.2f",
		bench_self_cpu_seconds() - window->self_cpu_s,
		(double)(now.busy - window->machine.busy) * tick,
		(double)(now.steal - window->machine.steal) * tick,
		(double)(now.total - window->machine.total) * tick);
}

char *bench_read_file(const char *program, const char *path)
{
	FILE *file = fopen(path, "r");
	char *data;
	size_t len;

	if (!file) {
		fprintf(stderr, "%s: opening \"%s\" failed: %s\n", program, path, strerror(errno));
		return NULL;
	}
	data = calloc(BENCH_MAX_FILE_BYTES + 1, 1);
	if (data) {
		len = fread(data, 1, BENCH_MAX_FILE_BYTES, file);
		if (ferror(file) || len == BENCH_MAX_FILE_BYTES) {
			fprintf(stderr, "%s: reading \"%s\" failed or it is over %u bytes\n", program,
				path, BENCH_MAX_FILE_BYTES);
			free(data);
			data = NULL;
		}
	}
	fclose(file);
	return data;
}
