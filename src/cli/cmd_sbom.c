/* `warden sbom TARGET`: the software bill of materials of a directory, a
 * root filesystem, a container image or a single executable, as SPDX 2.3
 * JSON, CycloneDX 1.5 JSON or a table. */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/file.h"
#include "supply/catalog_lang.h"
#include "supply/image.h"
#include "supply/progress.h"
#include "supply/sbom.h"

static const char sbom_usage[] =
	"usage: warden sbom TARGET [-o spdx-json|cyclonedx-json|table] [--file OUT]\n"
	"                   [--max-extract-bytes N] [--max-entry-bytes N] [--max-entries N]\n"
	"                   [--platform OS/ARCH[/VARIANT]]\n"
	"\n"
	"Lists the software in TARGET:\n"
	"  deb        var/lib/dpkg/status and var/lib/dpkg/status.d/*\n"
	"  apk        lib/apk/db/installed\n"
	"  rpm        var/lib/rpm/rpmdb.sqlite or usr/lib/sysimage/rpm/rpmdb.sqlite\n"
	"             (the SQLite rpmdb of rpm 4.16 and later; an older BerkeleyDB\n"
	"             or NDB database is reported as an error)\n"
	"  python     *.dist-info/METADATA, *.egg-info and EGG-INFO/PKG-INFO\n"
	"  npm        package-lock.json, npm-shrinkwrap.json, and the\n"
	"             node_modules/*/package.json that no lock file covers\n"
	"  go-module  the modules and toolchain recorded in Go binaries\n"
	"  binary     the SHA-256 of every ELF executable or shared object with\n"
	"             an execute bit\n"
	"The whole tree is walked without following symbolic links, and for \"/\"\n"
	"the directories /proc, /sys and /dev are skipped. Files that cannot be\n"
	"read or parsed are skipped with a warning on stderr.\n"
	"\n"
	"TARGET is one of:\n"
	"  a directory or unpacked root filesystem;\n"
	"  a container image archive: a docker-archive (docker save) or an OCI\n"
	"    image layout tarball, uncompressed or gzip, zstd, xz or bzip2;\n"
	"  an OCI image layout directory (one with an oci-layout file);\n"
	"  any other file: its SHA-256 and, for a Go binary, its modules.\n"
	"An image's layers are unpacked into a private directory under $TMPDIR\n"
	"(default /tmp), which is removed afterwards.\n"
	"\n"
	"  -o, --output FORMAT      spdx-json, cyclonedx-json or table (default)\n"
	"  --file OUT               write the document to OUT instead of stdout\n"
	"  --max-extract-bytes N    ceiling on the uncompressed layer data of an image\n"
	"                           and on the bytes written from it (default 16G)\n"
	"  --max-entry-bytes N      ceiling on one file of an image (default 4G)\n"
	"  --max-entries N          ceiling on the entries of all layers (default 2000000)\n"
	"  --platform OS/ARCH       the image to take from a multi-platform OCI index\n"
	"                           (default: this machine's, e.g. linux/amd64)\n"
	"Byte counts take a K, M, G or T suffix (powers of 1024).\n"
	"\n"
	"An image entry that would leave the work directory (\"..\", an absolute\n"
	"path, a write through a symlink, a hard link to outside), a limit that is\n"
	"reached, or a digest that does not match fails the run. Device nodes,\n"
	"FIFOs and sockets are skipped and setuid/setgid bits dropped, each with a\n"
	"warning on stderr.\n"
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

/* Parses a byte count or count: decimal digits with an optional K, M, G or
 * T suffix (powers of 1024). */
static int parse_count(const char *text, uint64_t *ret_value)
{
	static const char suffixes[] = "KMGT";
	unsigned long long value;
	char *end = NULL;
	const char *unit;
	int shift = 0;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text)
		return -1;
	if (*end) {
		unit = strchr(suffixes, *end);
		if (!unit || end[1] != '\0')
			return -1;
		shift = 10 * (int)(unit - suffixes + 1);
		if (value > (UINT64_MAX >> shift))
			return -1;
	}
	*ret_value = (uint64_t)value << shift;
	return *ret_value > 0 ? 0 : -1;
}

/* Prints an image entry warden skipped or changed; the name is quoted so
 * that control bytes in it cannot drive the terminal. */
static void print_warning(void *ctx, size_t layer, const char *entry, const char *reason)
{
	char quoted[512];
	size_t len = 0;

	(void)ctx;
	for (const unsigned char *p = (const unsigned char *)entry; *p && len + 8 < sizeof(quoted);
	     p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"')
			quoted[len++] = (char)*p;
		else
			len += (size_t)snprintf(quoted + len, sizeof(quoted) - len, "\\x%02x", *p);
	}
	quoted[len] = '\0';
	fprintf(stderr, "warden sbom: warning: layer %zu entry \"%s\": %s\n", layer, quoted,
		reason);
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

/* Fills catalog with the packages of root: a directory is walked, a
 * regular file is one binary. */
static int catalog_target(const char *root, bool is_file, struct sbom_catalog *catalog,
	struct sbom_distro *distro, struct wd_error *err)
{
	int rc;

	if (is_file)
		return binaries_catalog_file(root, catalog, err);
	rc = os_release_read(root, distro, err);
	if (rc == WD_ENOTFOUND) {
		/* A bare directory has no distribution; the purls then name
		 * debian or alpine, or no namespace for rpm, without a distro
		 * qualifier. */
		wd_error_clear(err);
		rc = 0;
	}
	WD_TRY(rc);
	return sbom_catalog_root(root, catalog, err);
}

/* Builds the catalog of root (a directory, or one file when is_file) and
 * writes it in format. */
static int write_sbom(const char *root, bool is_file, const struct sbom_subject *subject,
	enum sbom_format format, const char *out_path, struct wd_error *err)
{
	struct sbom_catalog catalog;
	struct sbom_distro distro = { 0 };
	struct progress progress;
	char *text = NULL;
	int rc;

	sbom_catalog_init(&catalog, SBOM_MAX_PACKAGES);
	progress_init_stderr(&progress);
	catalog.progress = &progress;
	rc = catalog_target(root, is_file, &catalog, &distro, err);
	print_warnings(&catalog);
	WD_GUARD(rc);
	sbom_catalog_sort(&catalog);
	WD_GUARD(sbom_catalog_set_purls(&catalog, &distro, err));
	WD_GUARD(sbom_catalog_set_cpes(&catalog, err));

	if (format == FORMAT_SPDX)
		WD_GUARD(sbom_spdx_write(&catalog, &distro, subject, &text, err));
	else if (format == FORMAT_CYCLONEDX)
		WD_GUARD(sbom_cyclonedx_write(&catalog, &distro, subject, &text, err));
	else
		WD_GUARD(sbom_table_write(&catalog, &text, err));
	WD_GUARD(write_output(out_path, text, err));
out:
	free(text);
	sbom_catalog_free(&catalog);
	sbom_distro_free(&distro);
	return rc;
}

/* Returns whether the file at path starts like a tar archive or a gzip,
 * zstd, xz or bzip2 stream, the forms an image archive comes in. Any other
 * file is catalogued as one executable. */
static bool looks_like_archive(const char *path)
{
	static const struct {
		size_t offset;
		const char *magic;
		size_t len;
	} magics[] = {
		{ 257, "ustar", 5 },
		{ 0, "\x1f\x8b", 2 },
		{ 0, "\x28\xb5\x2f\xfd", 4 },
		{ 0, "\xfd" "7zXZ\x00", 6 },
		{ 0, "BZh", 3 },
	};
	unsigned char head[512] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t len;

	if (fd < 0)
		return true;  /* the image reader reports why it cannot be read */
	len = read(fd, head, sizeof(head));
	close(fd);
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		if (len >= (ssize_t)(magics[i].offset + magics[i].len) &&
		    memcmp(head + magics[i].offset, magics[i].magic, magics[i].len) == 0)
			return true;
	}
	return false;
}

/* Set by SIGINT, SIGTERM and SIGHUP while an image is unpacked, so the
 * run stops at the next entry and still removes its work directory. */
static volatile sig_atomic_t interrupted;

static void on_signal(int signo)
{
	interrupted = signo;
}

static void catch_signals(void (*handler)(int))
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = handler;
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGHUP, &action, NULL);
}

/* Unpacks the image at target, catalogs it, and removes the work
 * directory again. */
static int run_image_sbom(const char *target, const struct image_options *options,
	enum sbom_format format, const char *out_path, long long created, struct wd_error *err)
{
	struct sbom_subject subject = {
		.tool_version = WARDEN_VERSION,
		.created = created,
	};
	struct image *image = NULL;
	int rc;

	catch_signals(on_signal);
	WD_GUARD(image_unpack(target, options, &image, err));
	subject.name = image->name;
	subject.image_digest = image->manifest_digest ? image->manifest_digest
						      : image->config_digest;
	subject.image_id = image->config_digest;
	WD_ENSURE(!interrupted, wd_error_set(err, WD_EIO, "interrupted"));
	WD_GUARD(write_sbom(image->root, false, &subject, format, out_path, err));
out:
	image_free(image);
	catch_signals(SIG_DFL);
	return rc;
}

int cmd_sbom(int argc, char **argv)
{
	enum {
		OPT_MAX_EXTRACT_BYTES = 256,
		OPT_MAX_ENTRY_BYTES,
		OPT_MAX_ENTRIES,
		OPT_PLATFORM,
	};
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "file", required_argument, NULL, 'f' },
		{ "max-extract-bytes", required_argument, NULL, OPT_MAX_EXTRACT_BYTES },
		{ "max-entry-bytes", required_argument, NULL, OPT_MAX_ENTRY_BYTES },
		{ "max-entries", required_argument, NULL, OPT_MAX_ENTRIES },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_options image_options = {
		.warn = print_warning,
		.cancel = &interrupted,
	};
	enum sbom_format format = FORMAT_TABLE;
	const char *out_path = NULL, *target, *flag;
	struct wd_error err = { 0 };
	uint64_t *limit;
	struct stat st;
	long long created;
	int opt, rc;

	image_limits_default(&image_options.limits);
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
		case OPT_MAX_EXTRACT_BYTES:
			limit = &image_options.limits.max_extract_bytes;
			flag = "max-extract-bytes";
			goto parse_limit;
		case OPT_MAX_ENTRY_BYTES:
			limit = &image_options.limits.max_entry_bytes;
			flag = "max-entry-bytes";
			goto parse_limit;
		case OPT_MAX_ENTRIES:
			limit = &image_options.limits.max_entries;
			flag = "max-entries";
parse_limit:
			if (parse_count(optarg, limit) < 0) {
				fprintf(stderr, "warden sbom: invalid value \"%s\" for --%s: expected a "
						"positive number with an optional K, M, G or T suffix\n",
						optarg, flag);
				return 2;
			}
			break;
		case OPT_PLATFORM:
			if (!strchr(optarg, '/') || optarg[0] == '/') {
				fprintf(stderr, "warden sbom: invalid platform \"%s\": expected "
						"OS/ARCH or OS/ARCH/VARIANT, e.g. linux/arm64\n", optarg);
				return 2;
			}
			image_options.platform = optarg;
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
	target = argv[optind];
	if (stat(target, &st) < 0) {
		fprintf(stderr, "warden sbom: cannot read %s: %s\n", target, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "warden sbom: %s is neither a directory nor a regular file: pass a "
				"directory, an image archive or a file\n", target);
		return 1;
	}
	if (creation_time(&created) < 0)
		return 2;

	if ((S_ISREG(st.st_mode) && looks_like_archive(target)) || image_is_layout_dir(target)) {
		rc = run_image_sbom(target, &image_options, format, out_path, created, &err);
	} else {
		struct sbom_subject subject = {
			.name = target,
			.tool_version = WARDEN_VERSION,
			.created = created,
		};

		rc = write_sbom(target, S_ISREG(st.st_mode), &subject, format, out_path, &err);
	}
	if (rc < 0) {
		fprintf(stderr, "warden sbom: %s\n", wd_error_text(&err));
		/* 128 + the signal, as a shell reports a command a signal ended. */
		return interrupted ? 128 + interrupted : 1;
	}
	return 0;
}
