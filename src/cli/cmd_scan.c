/* `warden scan TARGET --db DIR`: the packages of a directory, root
 * filesystem or SBOM matched against a directory of OSV records, reported
 * as a table, JSON or SARIF. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/commands.h"
#include "common/file.h"
#include "common/time.h"
#include "supply/osv.h"
#include "supply/sbom_read.h"
#include "supply/scan.h"

/* Exit codes: 1 is reserved for "a match reached --fail-on". */
#define EXIT_CLEAN 0
#define EXIT_FAILED_ON 1
#define EXIT_ERROR 2

/* Lines of database problems and warnings printed on stderr; the JSON
 * report lists more. */
#define PRINTED_PROBLEMS 20

static const char scan_usage[] =
	"usage: warden scan TARGET --db DIR [-o table|json|sarif] [--file OUT]\n"
	"                   [--fail-on SEVERITY] [--ignore FILE] [-v]\n"
	"\n"
	"Matches the packages of TARGET against the OSV vulnerability records in\n"
	"DIR. TARGET is a directory or unpacked root filesystem (catalogued as\n"
	"`warden sbom` does) or an SPDX 2.3 or CycloneDX 1.5 JSON SBOM file.\n"
	"\n"
	"  --db DIR             directory of OSV JSON records, read recursively\n"
	"  -o, --output FORMAT  table (default), json or sarif (SARIF 2.1.0)\n"
	"  --file OUT           write the report to OUT instead of stdout\n"
	"  --fail-on SEVERITY   exit 1 when a match not ignored is rated SEVERITY\n"
	"                       or higher: negligible, low, medium, high, critical\n"
	"  --ignore FILE        JSON file of accepted vulnerabilities:\n"
	"                       {\"ignore\": [{\"id\": ..., \"package\": ..., \"reason\": ...,\n"
	"                       \"expires\": \"YYYY-MM-DD\"}]}; package is optional\n"
	"  -v, --verbose        print counts and load and match times on stderr\n"
	"\n"
	"Exit codes: 0 when no match reaches --fail-on, 1 when one does, 2 for\n"
	"an error. Invalid records are skipped with a warning on stderr.\n";

enum scan_format { FORMAT_TABLE, FORMAT_JSON, FORMAT_SARIF };

struct scan_options {
	const char *target;
	const char *db_dir;
	const char *out_path;
	const char *ignore_path;
	enum scan_format format;
	bool fail_on_set;
	enum osv_rating fail_on;
	bool verbose;
};

/* Everything a scan holds, freed in one place. */
struct scan_state {
	struct sbom_catalog catalog;
	struct sbom_distro distro;
	struct osv_db *db;
	struct scan_ignore ignore;
	struct scan_result result;
	const char *target_kind;
	double load_seconds;
	double match_seconds;
};

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int parse_format(const char *text, enum scan_format *ret_format)
{
	if (!strcmp(text, "table"))
		*ret_format = FORMAT_TABLE;
	else if (!strcmp(text, "json"))
		*ret_format = FORMAT_JSON;
	else if (!strcmp(text, "sarif"))
		*ret_format = FORMAT_SARIF;
	else
		return -1;
	return 0;
}

static int parse_options(int argc, char **argv, struct scan_options *opts)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "file", required_argument, NULL, 'f' },
		{ "fail-on", required_argument, NULL, 'F' },
		{ "ignore", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wd_error err = { 0 };
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			opts->db_dir = optarg;
			break;
		case 'o':
			if (parse_format(optarg, &opts->format) < 0) {
				fprintf(stderr, "warden scan: unknown output format \"%s\": expected "
						"table, json or sarif\n", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'f':
			opts->out_path = optarg;
			break;
		case 'F':
			if (osv_rating_parse(optarg, &opts->fail_on, &err) < 0) {
				fprintf(stderr, "warden scan: --fail-on: %s\n", wd_error_text(&err));
				return EXIT_ERROR;
			}
			opts->fail_on_set = true;
			break;
		case 'i':
			opts->ignore_path = optarg;
			break;
		case 'v':
			opts->verbose = true;
			break;
		case 'h':
			fputs(scan_usage, stdout);
			return EXIT_CLEAN;
		default:
			fputs(scan_usage, stderr);
			return EXIT_ERROR;
		}
	}
	if (optind + 1 != argc || !opts->db_dir) {
		if (!opts->db_dir && optind + 1 == argc)
			fprintf(stderr, "warden scan: missing --db DIR, the directory of OSV records\n");
		fputs(scan_usage, stderr);
		return EXIT_ERROR;
	}
	opts->target = argv[optind];
	return -1;
}

/* Catalogs a directory as `warden sbom` does. */
static int catalog_directory(const char *target, struct scan_state *s, struct wd_error *err)
{
	int rc = os_release_read(target, &s->distro, err);

	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		rc = 0;
	}
	WD_TRY(rc);
	WD_TRY(sbom_catalog_root(target, &s->catalog, err));
	sbom_catalog_sort(&s->catalog);
	s->target_kind = "directory";
	return sbom_catalog_set_purls(&s->catalog, &s->distro, err);
}

static int catalog_sbom(const char *target, struct scan_state *s, struct wd_error *err)
{
	struct sbom_read_stats stats;
	enum sbom_format format;

	WD_TRY(sbom_read_file(target, &s->catalog, &s->distro, &format, &stats, err));
	sbom_catalog_sort(&s->catalog);
	s->target_kind = sbom_format_name(format);
	if (stats.no_purl)
		WD_TRY(scan_warn(&s->result, err, "%zu SBOM entries have no purl and were not "
						  "scanned", stats.no_purl));
	if (stats.unsupported)
		WD_TRY(scan_warn(&s->result, err, "%zu SBOM entries have a purl of a type warden "
						  "does not match (or no version) and were not scanned",
			stats.unsupported));
	if (stats.invalid)
		WD_TRY(scan_warn(&s->result, err, "%zu SBOM entries have an invalid purl and were not "
						  "scanned; the first: %s", stats.invalid,
			stats.first_invalid));
	return 0;
}

static int load_db(const struct scan_options *opts, struct scan_state *s, struct wd_error *err)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	WD_TRY(osv_db_new(&s->db, err));
	WD_TRY(osv_db_load_dir(s->db, opts->db_dir, err));
	osv_db_sort_problems(s->db);
	s->load_seconds = seconds_since(&start);
	if (osv_db_stats(s->db)->records == 0)
		return wd_error_set(err, WD_ENOTFOUND, "no OSV records in %s (%zu JSON files, %zu "
						       "invalid): refusing to report a clean scan",
			opts->db_dir, osv_db_stats(s->db)->files, osv_db_stats(s->db)->skipped);
	return 0;
}

static int write_output(const char *path, const char *text, struct wd_error *err)
{
	if (!path) {
		if (fputs(text, stdout) == EOF || fflush(stdout) != 0)
			return wd_error_set(err, WD_EIO, "writing to stdout failed: %s",
				strerror(errno));
		return 0;
	}
	return wd_file_write_atomic(path, text, strlen(text), 0644, err);
}

static void print_problems(const struct scan_options *opts, const struct scan_state *s)
{
	size_t shown = osv_db_problem_count(s->db);
	size_t total = osv_db_problem_total(s->db);

	if (shown > PRINTED_PROBLEMS)
		shown = PRINTED_PROBLEMS;
	for (size_t i = 0; i < shown; i++) {
		const struct osv_problem *problem = osv_db_problem(s->db, i);

		fprintf(stderr, "warden scan: warning: %s/%s: %s%s\n", opts->db_dir, problem->path,
			problem->skipped ? "record skipped: " : "range ignored: ", problem->message);
	}
	if (total > shown)
		fprintf(stderr, "warden scan: warning: %zu more problems in the database; -o json "
				"lists up to %u\n", total - shown, OSV_MAX_PROBLEMS);
	for (size_t i = 0; i < s->result.warning_count && i < PRINTED_PROBLEMS; i++)
		fprintf(stderr, "warden scan: warning: %s\n", s->result.warnings[i]);
	if (s->result.warning_total > PRINTED_PROBLEMS)
		fprintf(stderr, "warden scan: warning: %zu more warnings; -o json lists them\n",
			s->result.warning_total - PRINTED_PROBLEMS);
	for (size_t i = 0; i < s->ignore.count; i++) {
		const struct scan_ignore_rule *rule = &s->ignore.rules[i];

		if (rule->expired)
			fprintf(stderr, "warden scan: warning: ignore rule %zu (%s%s%s) expired on %s; "
					"its matches are reported\n", rule->index, rule->id,
				rule->package ? ", package " : "", rule->package ? rule->package : "",
				rule->expires);
	}
}

static void print_summary(const struct scan_options *opts, const struct scan_state *s)
{
	const struct osv_db_stats *stats = osv_db_stats(s->db);
	size_t ignored = 0;

	for (size_t i = 0; i < s->result.count; i++)
		ignored += s->result.matches[i].ignored_by != NULL;
	fprintf(stderr, "warden scan: loaded %zu records from %zu files in %s in %.3f s "
			"(%zu skipped, %zu withdrawn, %zu superseded, %zu GIT ranges ignored)\n",
		stats->records, stats->files, opts->db_dir, s->load_seconds, stats->skipped,
		stats->withdrawn, stats->superseded, stats->git_ranges);
	fprintf(stderr, "warden scan: matched %zu packages (%zu with an OSV ecosystem) in %.3f s: "
			"%zu matches, %zu ignored\n", s->result.packages, s->result.packages_queried,
		s->match_seconds, s->result.count, ignored);
}

static int run_scan(const struct scan_options *opts, struct scan_state *s, int *ret_exit,
	struct wd_error *err)
{
	struct scan_report report = {
		.target = opts->target,
		.db_path = opts->db_dir,
		.tool_version = WARDEN_VERSION,
	};
	struct timespec start;
	struct stat st;
	char *text = NULL;
	int rc = 0;

	if (stat(opts->target, &st) < 0)
		return wd_error_set(err, WD_ENOTFOUND, "cannot read %s: %s", opts->target,
			strerror(errno));
	if (S_ISDIR(st.st_mode))
		WD_TRY(catalog_directory(opts->target, s, err));
	else
		WD_TRY(catalog_sbom(opts->target, s, err));
	if (opts->ignore_path)
		WD_TRY(scan_ignore_load(opts->ignore_path, wd_now(), &s->ignore, err));
	WD_TRY(load_db(opts, s, err));

	clock_gettime(CLOCK_MONOTONIC, &start);
	WD_TRY(scan_catalog(&s->catalog, &s->distro, s->db, &s->result, err));
	scan_ignore_apply(&s->ignore, &s->result);
	s->match_seconds = seconds_since(&start);

	report.target_kind = s->target_kind;
	report.distro = &s->distro;
	report.db = s->db;
	report.ignore = opts->ignore_path ? &s->ignore : NULL;
	if (opts->format == FORMAT_JSON)
		WD_GUARD(scan_json_write(&s->result, &report, &text, err));
	else if (opts->format == FORMAT_SARIF)
		WD_GUARD(scan_sarif_write(&s->result, &report, &text, err));
	else
		WD_GUARD(scan_table_write(&s->result, &text, err));
	WD_GUARD(write_output(opts->out_path, text, err));

	print_problems(opts, s);
	if (opts->verbose)
		print_summary(opts, s);
	*ret_exit = opts->fail_on_set && scan_result_fails(&s->result, opts->fail_on) ?
			    EXIT_FAILED_ON : EXIT_CLEAN;
out:
	free(text);
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	struct scan_options opts = { .format = FORMAT_TABLE };
	struct scan_state s = { 0 };
	struct wd_error err = { 0 };
	int exit_code = parse_options(argc, argv, &opts);

	if (exit_code >= 0)
		return exit_code;

	sbom_catalog_init(&s.catalog, SBOM_MAX_PACKAGES);
	if (run_scan(&opts, &s, &exit_code, &err) < 0) {
		fprintf(stderr, "warden scan: %s\n", wd_error_text(&err));
		exit_code = EXIT_ERROR;
	}
	scan_result_free(&s.result);
	scan_ignore_free(&s.ignore);
	osv_db_free(s.db);
	sbom_distro_free(&s.distro);
	sbom_catalog_free(&s.catalog);
	return exit_code;
}
