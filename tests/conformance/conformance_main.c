/* rego-conformance: runs OPA's YAML conformance cases against the policy
 * engine, each case file in a forked child with a timeout, and prints one
 * line per folder and the totals. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "conformance.h"

/* Exit status with which meson counts a test as skipped. */
#define EXIT_SKIPPED 77

/* Ceiling of what one child may report, in bytes. */
#define REPORT_MAX (64u * 1024u * 1024u)

struct options {
	bool verbose;
	unsigned timeout_s;       /* per case file, in seconds */
	double min_pass;          /* percent of cases that must pass */
	char **folders;           /* filter; NULL: every folder */
	size_t folder_count;
};

struct counts {
	size_t pass, fail, skip;
};

/* ---- directory listing ---- */

struct names {
	char **items;
	size_t len;
};

static void names_free(struct names *n)
{
	for (size_t i = 0; i < n->len; i++)
		free(n->items[i]);
	free(n->items);
	n->items = NULL;
	n->len = 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Lists the subdirectories (dirs) or the *.yaml and *.yml files of path,
 * sorted. */
static int list_dir(const char *path, bool dirs, struct names *ret)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	int rc = 0;

	memset(ret, 0, sizeof(*ret));
	if (!dir)
		return WD_ENOTFOUND;
	while ((de = readdir(dir))) {
		char full[4096];
		struct stat st;
		char **grown;

		if (de->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
		if (stat(full, &st) < 0)
			continue;
		if (dirs ? !S_ISDIR(st.st_mode) :
			   !(S_ISREG(st.st_mode) && (has_suffix(de->d_name, ".yaml") ||
							 has_suffix(de->d_name, ".yml"))))
			continue;
		grown = wd_reallocarray(ret->items, ret->len + 1, sizeof(*grown));
		if (!grown) {
			rc = WD_ENOMEM;
			break;
		}
		ret->items = grown;
		ret->items[ret->len] = wd_strdup(de->d_name);
		if (!ret->items[ret->len]) {
			rc = WD_ENOMEM;
			break;
		}
		ret->len++;
	}
	closedir(dir);
	if (rc < 0) {
		names_free(ret);
		return rc;
	}
	qsort(ret->items, ret->len, sizeof(*ret->items), compare_names);
	return 0;
}

/* ---- the child: runs a case file and reports through a pipe ---- */

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* One record: "<tag> <length>\n" and length bytes of text. Tags: N (case
 * count), P, F, S (a case's status), L (the file failed to load). */
static bool write_record(int fd, char tag, const char *text, size_t len)
{
	char head[48];
	int n = snprintf(head, sizeof(head), "%c %zu\n", tag, len);

	return write_all(fd, head, (size_t)n) && write_all(fd, text, len);
}

static int run_child(const char *path, bool verbose, int fd)
{
	struct wd_buf err, detail;
	struct rv *cases;
	char count[32];
	static const char tags[] = { [CASE_PASS] = 'P', [CASE_FAIL] = 'F', [CASE_SKIP] = 'S' };

	wd_buf_init(&err, 256, 64 * 1024);
	cases = conformance_load_cases(path, &err);
	if (!cases) {
		write_record(fd, 'L', wd_buf_str(&err), wd_buf_len(&err));
		wd_buf_free(&err);
		return 1;
	}
	snprintf(count, sizeof(count), "%zu", rv_array_len(cases));
	if (!write_record(fd, 'N', count, strlen(count)))
		return 1;

	wd_buf_init(&detail, 1024, 1024 * 1024);
	for (size_t i = 0; i < rv_array_len(cases); i++) {
		enum case_status status;

		wd_buf_reset(&detail);
		status = conformance_run_case(rv_array_at(cases, i), verbose, &detail);
		if (!write_record(fd, tags[status], wd_buf_str(&detail), wd_buf_len(&detail)))
			break;
	}
	wd_buf_free(&detail);
	wd_buf_free(&err);
	rv_unref(cases);
	return 0;
}

/* ---- the parent: collects a child's report within the timeout ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the pipe until EOF or the deadline; true when it timed out. */
static bool collect(int fd, double deadline, struct wd_buf *out)
{
	char chunk[65536];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = deadline - now_s();
		ssize_t n;
		int ready;

		if (left <= 0)
			return true;
		ready = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		if (wd_buf_append(out, chunk, (size_t)n) < 0)
			return false;
	}
}

/* Parses the next record of a report; false at its end. */
static bool next_record(const struct wd_buf *report, size_t *pos, char *ret_tag,
			const char **ret_text, size_t *ret_len)
{
	const char *base = wd_buf_str(report);
	size_t len = wd_buf_len(report);
	const char *head = base + *pos;
	const char *nl;
	char *end;
	unsigned long long n;

	if (*pos + 3 > len)
		return false;
	nl = memchr(head, '\n', len - *pos);
	if (!nl)
		return false;
	n = strtoull(head + 2, &end, 10);
	if (end != nl || n > len - (size_t)(nl + 1 - base))
		return false;
	*ret_tag = head[0];
	*ret_text = nl + 1;
	*ret_len = (size_t)n;
	*pos = (size_t)(nl + 1 - base) + (size_t)n;
	return true;
}

static void describe_exit(int status, bool timed_out, unsigned timeout_s, char *out, size_t cap)
{
	if (timed_out)
		snprintf(out, cap, "timeout after %u s", timeout_s);
	else if (WIFSIGNALED(status))
		snprintf(out, cap, "crash (signal %d, %s)", WTERMSIG(status),
			strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		snprintf(out, cap, "exit status %d", WEXITSTATUS(status));
	else
		out[0] = '\0';
}

/* Runs one case file in a child and adds its cases to c. */
static void run_file(const struct options *opt, const char *folder, const char *dir,
		     const char *file, struct counts *c)
{
	char path[4096], why[128];
	struct wd_buf report;
	int fds[2], status = 0;
	bool timed_out, loaded = false;
	size_t pos = 0, expected = 0, seen = 0;
	char tag;
	const char *text;
	size_t len;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (pipe(fds) < 0) {
		printf("  FAIL %s/%s: pipe: %s\n", folder, file, strerror(errno));
		c->fail++;
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		printf("  FAIL %s/%s: fork: %s\n", folder, file, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		c->fail++;
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		/* Keep the engine's own output out of the report. */
		if (!freopen("/dev/null", "w", stdout))
			_exit(1);
		exit(run_child(path, opt->verbose, fds[1]));
	}
	close(fds[1]);

	wd_buf_init(&report, 64 * 1024, REPORT_MAX);
	timed_out = collect(fds[0], now_s() + opt->timeout_s, &report);
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	describe_exit(status, timed_out, opt->timeout_s, why, sizeof(why));

	while (next_record(&report, &pos, &tag, &text, &len)) {
		if (tag == 'N') {
			expected = strtoul(text, NULL, 10);
			loaded = true;
			continue;
		}
		if (tag == 'L') {
			printf("  FAIL %s/%s: cannot load: %.*s\n", folder, file, (int)len, text);
			c->fail++;
			continue;
		}
		seen++;
		if (tag == 'P') {
			c->pass++;
			continue;
		}
		if (tag == 'S')
			c->skip++;
		else
			c->fail++;
		if (opt->verbose)
			printf("  %s %s/%s #%zu: %.*s\n", tag == 'S' ? "SKIP" : "FAIL", folder, file,
			       seen, (int)len, text);
	}

	/* Cases the child never reported died with it. */
	if (why[0] && (!loaded || seen < expected)) {
		size_t lost = loaded ? expected - seen : 1;

		printf("  FAIL %s/%s: %s in case #%zu; %zu case(s) not run\n", folder, file, why,
		       seen + 1, lost);
		c->fail += lost;
	} else if (why[0]) {
		/* All cases reported, but the child exited badly: a sanitizer
		 * report at exit (a leak) or a failure while cleaning up. */
		printf("  NOTE %s/%s: %s after all cases\n", folder, file, why);
	}
	wd_buf_free(&report);
}

static bool folder_selected(const struct options *opt, const char *folder)
{
	if (opt->folder_count == 0)
		return true;
	for (size_t i = 0; i < opt->folder_count; i++) {
		if (strcmp(opt->folders[i], folder) == 0)
			return true;
	}
	return false;
}

static int run_folder(const struct options *opt, const char *name, const char *dir,
		      struct counts *total)
{
	struct names files;
	struct counts c = { 0 };

	if (list_dir(dir, false, &files) < 0) {
		fprintf(stderr, "rego-conformance: cannot list %s\n", dir);
		return WD_EIO;
	}
	for (size_t i = 0; i < files.len; i++)
		run_file(opt, name, dir, files.items[i], &c);
	printf("%-44s %zu/%zu/%zu\n", name, c.pass, c.fail, c.skip);
	fflush(stdout);
	total->pass += c.pass;
	total->fail += c.fail;
	total->skip += c.skip;
	names_free(&files);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rego-conformance [-v] [-t SECONDS] [--min-pass PERCENT] CASES_DIR "
		"[FOLDER...]\n\n"
		"Runs the Rego conformance cases under CASES_DIR (one folder per topic, YAML case\n"
		"files inside) and prints 'folder pass/fail/skip' per folder, then the totals.\n\n"
		"  -v, --verbose         print each failing case's note, query, expected and\n"
		"                        actual result\n"
		"  -t, --timeout SECONDS time allowed per case file (default 10)\n"
		"      --min-pass PERCENT  exit 1 when fewer cases pass (default 100)\n"
		"  FOLDER...             run only these folders\n");
}

static int parse_options(int argc, char **argv, struct options *opt, const char **ret_dir)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "timeout", required_argument, NULL, 't' },
		{ "min-pass", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*opt = (struct options){ .timeout_s = 10, .min_pass = 100.0 };
	while ((ch = getopt_long(argc, argv, "vt:h", longopts, NULL)) != -1) {
		char *end;

		switch (ch) {
		case 'v':
			opt->verbose = true;
			break;
		case 't': {
			unsigned long t = strtoul(optarg, &end, 10);

			if (*end || t == 0 || t > 3600) {
				fprintf(stderr, "rego-conformance: invalid --timeout '%s': give "
						"1 to 3600 seconds\n", optarg);
				return 2;
			}
			opt->timeout_s = (unsigned)t;
			break;
		}
		case 'm':
			opt->min_pass = strtod(optarg, &end);
			if (*end || opt->min_pass < 0 || opt->min_pass > 100) {
				fprintf(stderr, "rego-conformance: invalid --min-pass '%s': give a "
						"percentage from 0 to 100\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	*ret_dir = argv[optind];
	opt->folders = argv + optind + 1;
	opt->folder_count = (size_t)(argc - optind - 1);
	return -1;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct names folders;
	struct counts total = { 0 };
	const char *root;
	struct stat st;
	size_t all;
	double percent;
	int rc;

	rc = parse_options(argc, argv, &opt, &root);
	if (rc >= 0)
		return rc;
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		printf("rego-conformance: case folder %s is absent, skipping\n", root);
		return EXIT_SKIPPED;
	}

	if (list_dir(root, true, &folders) < 0) {
		fprintf(stderr, "rego-conformance: cannot list %s\n", root);
		return 2;
	}
	/* A folder of case files given directly runs as one folder. */
	if (folders.len == 0) {
		const char *base = strrchr(root, '/');

		run_folder(&opt, base && base[1] ? base + 1 : root, root, &total);
	}
	for (size_t i = 0; i < folders.len; i++) {
		char dir[4096];

		if (!folder_selected(&opt, folders.items[i]))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, folders.items[i]);
		run_folder(&opt, folders.items[i], dir, &total);
	}
	names_free(&folders);

	all = total.pass + total.fail + total.skip;
	percent = all ? 100.0 * (double)total.pass / (double)all : 0.0;
	printf("total: %zu cases, %zu pass, %zu fail, %zu skip: %.1f%% pass\n", all, total.pass,
	       total.fail, total.skip, percent);
	return percent + 1e-9 >= opt.min_pass ? 0 : 1;
}
