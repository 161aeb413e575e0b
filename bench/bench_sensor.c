/* Workload driver for bench/sensor.sh: system calls that the runtime
 * sensor's programs trace, as fast as possible or at a set rate, and one
 * line of key=value results on stdout.
 *
 *   exec  fork, execv("/bin/true") in the child and waitpid in the parent,
 *         --count times; each run of /bin/true also opens its shared
 *         libraries
 *   open  open(PATH, O_RDONLY) and close, --count times; glibc's open is the
 *         openat system call
 *
 * With --rate R the operations are spread evenly at R a second (for
 * --seconds, or --count operations) instead of run back to back, so that an
 * event rate can be held while the sensor's drop counters are watched. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

/* Maximum operations run between two reads of the clock when paced, so a
 * late start is made up in bursts of at most this size. */
#define PACE_BATCH 256
#define EXEC_PATH "/bin/true"

enum mode {
	MODE_EXEC,
	MODE_OPEN,
};

struct options {
	enum mode mode;
	unsigned long count;
	unsigned long rate;    /* operations a second; 0 runs them back to back */
	unsigned long seconds; /* with rate: sets count to rate * seconds */
	const char *path;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_sensor --mode exec|open [--count N] [--rate OPS --seconds S]\n"
		"                    [--path FILE]\n"
		"  --mode exec   fork, exec " EXEC_PATH " and wait, N times\n"
		"  --mode open   open FILE read-only and close it, N times\n"
		"  --count N     operations to run (default 1000)\n"
		"  --rate OPS    spread the operations evenly at OPS a second\n"
		"  --seconds S   with --rate: run OPS * S operations\n"
		"  --path FILE   the file opened (default: an empty file in a new\n"
		"                directory under $TMPDIR or /tmp)\n");
}

/* Runs one fork + exec + wait; -1 with a message when any step fails or
 * /bin/true does not exit 0. */
static int run_exec(void)
{
	char *const argv[] = { (char *)"true", NULL };
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "bench_sensor: fork failed: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execv(EXEC_PATH, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "bench_sensor: waitpid failed: %s\n", strerror(errno));
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_sensor: " EXEC_PATH " ended with wait status %#x\n", status);
		return -1;
	}
	return 0;
}

static int run_open(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "bench_sensor: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int run_one(const struct options *opts)
{
	return opts->mode == MODE_EXEC ? run_exec() : run_open(opts->path);
}

static void sleep_ns(uint64_t ns)
{
	struct timespec delay = { .tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u) };

	while (nanosleep(&delay, &delay) < 0 && errno == EINTR)
		;
}

/* Runs opts->count operations; paced ones start when their slot in the
 * schedule comes, the first at once. */
static int run_all(const struct options *opts, uint64_t start_ns)
{
	unsigned long done = 0;

	while (done < opts->count) {
		unsigned long due = opts->count;

		if (opts->rate) {
			uint64_t elapsed = bench_now_ns() - start_ns;
			/* Operation k (from 0) is due at k / rate seconds. */
			unsigned long long slot = (unsigned long long)
				((double)elapsed * (double)opts->rate / 1e9) + 1;

			if (slot <= done) {
				double next_ns = (double)done * 1e9 / (double)opts->rate;

				sleep_ns((uint64_t)(next_ns - (double)elapsed) + 1);
				continue;
			}
			due = slot < opts->count ? (unsigned long)slot : opts->count;
			if (due - done > PACE_BATCH)
				due = done + PACE_BATCH;
		}
		for (; done < due; done++)
			if (run_one(opts) < 0)
				return -1;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode = NULL;
	int c;

	opts->count = 1000;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			break;
		case 'c':
			if (bench_parse_uint("--count", optarg, 1, 1000000000ul, &opts->count) < 0)
				return -1;
			break;
		case 'r':
			if (bench_parse_uint("--rate", optarg, 1, 100000000ul, &opts->rate) < 0)
				return -1;
			break;
		case 's':
			if (bench_parse_uint("--seconds", optarg, 1, 3600, &opts->seconds) < 0)
				return -1;
			break;
		case 'p':
			opts->path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !mode) {
		usage(stderr);
		return -1;
	}
	if (strcmp(mode, "exec") == 0) {
		opts->mode = MODE_EXEC;
	} else if (strcmp(mode, "open") == 0) {
		opts->mode = MODE_OPEN;
	} else {
		fprintf(stderr, "bench_sensor: invalid --mode '%s': expected exec or open\n", mode);
		return -1;
	}
	if (opts->seconds && !opts->rate) {
		fprintf(stderr, "bench_sensor: --seconds needs --rate\n");
		return -1;
	}
	if (opts->seconds)
		opts->count = opts->rate * opts->seconds;
	return 0;
}

int main(int argc, char **argv)
{
	struct options opts = { 0 };
	char *dir = NULL;
	char *file = NULL;
	struct bench_window window;
	uint64_t start_ns, elapsed_ns;
	int rc = 1;

	if (parse_options(argc, argv, &opts) < 0)
		return 2;
	if (opts.mode == MODE_OPEN && !opts.path) {
		int fd;

		dir = bench_tmpdir_create("warden-bench-sensor");
		if (!dir || asprintf(&file, "%s/opened", dir) < 0)
			goto out;
		fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0) {
			fprintf(stderr, "bench_sensor: cannot create '%s': %s\n", file,
				strerror(errno));
			goto out;
		}
		close(fd);
		opts.path = file;
	}

	bench_window_start(&window);
	start_ns = bench_now_ns();
	if (run_all(&opts, start_ns) < 0)
		goto out;
	elapsed_ns = bench_now_ns() - start_ns;

	printf("mode=%s ops=%lu target_rate=%lu seconds=%.4f rate=%.0f",
		opts.mode == MODE_EXEC ? "exec" : "open", opts.count, opts.rate,
		(double)elapsed_ns / 1e9, (double)opts.count * 1e9 / (double)elapsed_ns);
	bench_window_print(&window);
	printf("\n");
	rc = 0;
out:
	free(file);
	bench_tmpdir_remove(dir);
	free(dir);
	return rc;
}
