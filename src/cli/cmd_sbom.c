/* `warden sbom TARGET`: the software bill of materials of a directory, a
 * root filesystem or a single file, as SPDX 2.3 JSON, CycloneDX 1.5 JSON or
 * a table. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/commands.h"
#include "common/file.h"
#include "supply/catalog_lang.h"
#include "supply/progress.h"
#include "supply/sbom.h"

static const char sbom_usage[] =
	"usage: warden sbom TARGET [-o spdx-json|cyclonedx-json|table] [--file OUT]\n"
	"\n"
	"Lists the software in TARGET, a directory, root filesystem or single file:\n"
	"  deb        var/lib/dpkg/status and var/lib/dpkg/status.d\n"
	"  python     *.dist-info/METADATA, *.egg-info and EGG-INFO/PKG-INFO\n"
	"  npm        package-lock.json, npm-shrinkwrap.json, and the\n"
	"             node_modules/*/package.json that no lock file covers\n"
	"  go-module  the modules and toolchain recorded in Go binaries\n"
	"  binary     the SHA-256 of every ELF executable or shared object with\n"
	"             an execute bit\n"
	"The whole tree is walked without following symbolic links, and for \"/\"\n"
	"the directories /proc, /sys and /dev are skipped. A TARGET that is a file\n"
	"lists its SHA-256 and, for a Go binary, its modules. Files that cannot be\n"
	"read or parsed are skipped with a warning on stderr.\n"
	"\n"
	"  -o, --output FORMAT  spdx-json, cyclonedx-json or table (default)\n"
	"  --file OUT           write the document to OUT instead of stdout\n"
	"\n"
	"SOURCE_DATE_EPOCH (seconds since 1970-01-01 UTC) sets the creation time\n"
	"of the document, so the same TARGET gives byte-identical output.\n";

enum sbom_format { FORMAT_TABLE, FORMAT_SPDX, FORMAT_CYCLONEDX };

static int parse_format(const char *text, enum sbom_format *ret_format)
{
	if (!strcmp(text, "table"))
		*ret_format = FORMAT_TABLE;
	else if (!strcmp(text, "spdx-json"))
		*ret_format = FORMAT_SPDX;
	else if (!strcmp(text, "cyclonedx-json"))
		*ret_format = FORMAT_CYCLONEDX;
	else
		return -1;
	return 0;
}

/* The creation time: SOURCE_DATE_EPOCH when set (reproducible builds
 * specification), the current time otherwise. */
static int creation_time(long long *ret_seconds)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	char *end = NULL;
	long long value;

	if (!epoch || !epoch[0]) {
		*ret_seconds = (long long)time(NULL);
		return 0;
	}
	errno = 0;
	value = strtoll(epoch, &end, 10);
	if (errno || *end || value < 0 || epoch[0] == '-' || epoch[0] == '+') {
		fprintf(stderr, "warden sbom: invalid SOURCE_DATE_EPOCH \"%s\": expected "
				"seconds since 1970-01-01 UTC\n", epoch);
		return -1;
	}
	*ret_seconds = value;
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

/* Prints the warnings of catalog on stderr, one a line. */
static void print_warnings(const struct sbom_catalog *catalog)
{
	for (size_t i = 0; i < catalog->warning_count; i++)
		fprintf(stderr, "warden sbom: warning: skipped %s\n", catalog->warnings[i]);
	if (catalog->warnings_dropped > 0)
		fprintf(stderr, "warden sbom: warning: %zu more files skipped\n",
			catalog->warnings_dropped);
}

/* Fills catalog with the packages of target: a directory is walked, a
 * regular file is one binary. */
static int catalog_target(const char *target, bool is_file, struct sbom_catalog *catalog,
	struct sbom_distro *distro, struct wd_error *err)
{
	int rc;

	if (is_file)
		return binaries_catalog_file(target, catalog, err);
	rc = os_release_read(target, distro, err);
	if (rc == WD_ENOTFOUND) {
		/* A bare directory has no distribution; the purls then name
		 * debian without a distro qualifier. */
		wd_error_clear(err);
		rc = 0;
	}
	WD_TRY(rc);
	return sbom_catalog_root(target, catalog, err);
}

/* Builds the catalog of target and writes it in format. */
static int run_sbom(const char *target, bool is_file, enum sbom_format format,
	const char *out_path, long long created, struct wd_error *err)
{
	struct progress progress;
	struct sbom_catalog catalog;
	struct sbom_distro distro = { 0 };
	struct sbom_subject subject = {
		.name = target,
		.tool_version = WARDEN_VERSION,
		.created = created,
	};
	char *text = NULL;
	int rc;

	sbom_catalog_init(&catalog, SBOM_MAX_PACKAGES);
	progress_init_stderr(&progress);
	catalog.progress = &progress;
	rc = catalog_target(target, is_file, &catalog, &distro, err);
	print_warnings(&catalog);
	WD_GUARD(rc);
	sbom_catalog_sort(&catalog);
	WD_GUARD(sbom_catalog_set_purls(&catalog, &distro, err));
	WD_GUARD(sbom_catalog_set_cpes(&catalog, err));

	if (format == FORMAT_SPDX)
		WD_GUARD(sbom_spdx_write(&catalog, &distro, &subject, &text, err));
	else if (format == FORMAT_CYCLONEDX)
		WD_GUARD(sbom_cyclonedx_write(&catalog, &distro, &subject, &text, err));
	else
		WD_GUARD(sbom_table_write(&catalog, &text, err));
	WD_GUARD(write_output(out_path, text, err));
out:
	free(text);
	sbom_catalog_free(&catalog);
	sbom_distro_free(&distro);
	return rc;
}

int cmd_sbom(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum sbom_format format = FORMAT_TABLE;
	const char *out_path = NULL;
	struct wd_error err = { 0 };
	struct stat st;
	long long created;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			if (parse_format(optarg, &format) < 0) {
				fprintf(stderr, "warden sbom: unknown output format \"%s\": expected "
						"spdx-json, cyclonedx-json or table\n", optarg);
				return 2;
			}
			break;
		case 'f':
			out_path = optarg;
			break;
		case 'h':
			fputs(sbom_usage, stdout);
			return 0;
		default:
			fputs(sbom_usage, stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(sbom_usage, stderr);
		return 2;
	}
	if (stat(argv[optind], &st) < 0) {
		fprintf(stderr, "warden sbom: cannot read %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "warden sbom: %s is neither a directory nor a regular file: pass "
				"a directory, an unpacked root filesystem or a file\n", argv[optind]);
		return 1;
	}
	if (creation_time(&created) < 0)
		return 2;

	if (run_sbom(argv[optind], S_ISREG(st.st_mode), format, out_path, created, &err) < 0) {
		fprintf(stderr, "warden sbom: %s\n", wd_error_text(&err));
		return 1;
	}
	return 0;
}
