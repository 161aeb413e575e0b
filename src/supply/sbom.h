/* The package catalog of an SBOM: the packages found in a directory or root
 * filesystem, the distribution it belongs to, and the document writers. */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"

/* Ceilings on what a package database can make the catalog allocate. */
#define SBOM_MAX_PACKAGES 100000
#define SBOM_MAX_STATUS_BYTES (256u * 1024 * 1024)
#define SBOM_MAX_FIELD_BYTES (64u * 1024)
#define SBOM_MAX_STATUS_D_FILES 100000

/* Where a package was found, which decides its purl type and the version
 * order that vulnerability matching uses. */
enum sbom_package_type {
	SBOM_TYPE_DEB,        /* var/lib/dpkg/status */
	SBOM_TYPE_APK,        /* lib/apk/db/installed */
	SBOM_TYPE_RPM,        /* the rpm database */
	SBOM_TYPE_PYTHON,     /* *.dist-info and *.egg-info */
	SBOM_TYPE_NPM,        /* package-lock.json and node_modules */
	SBOM_TYPE_GO_MODULE,  /* the build information of a Go binary */
	SBOM_TYPE_BINARY,     /* an executable known only by its digest */
};

/* The type's name as Syft prints it: "deb", "apk", "rpm", "python", "npm",
 * "go-module" or "binary". */
const char *sbom_package_type_name(enum sbom_package_type type);

/* One installed package. Every string is malloc'd and owned by the package;
 * optional fields are NULL when the database does not set them. */
struct sbom_package {
	enum sbom_package_type type;
	char *name;
	char *version;
	char *arch;
	char *source;          /* source package name, NULL when the same as name */
	char *source_version;  /* the "(version)" of Source, NULL when absent */
	char *maintainer;      /* a person, or for rpm the VENDOR organization */
	char *installed_size;  /* as the database records it: KiB for dpkg, bytes for apk and rpm */
	char *license;         /* as the package declares it, NULL when unknown */
	char *location;        /* the file it was found in, relative to the root */
	char *sha256;          /* lowercase hex digest of the file, for binaries */
	char *purl;            /* set by the cataloger or sbom_catalog_set_purls */
	char *cpe;             /* set by the cataloger or sbom_catalog_set_cpes */
};

/* The distribution of the target, from os-release(5). Strings are malloc'd,
 * NULL when the file does not set them. */
struct sbom_distro {
	char *id;
	char *version_id;
	char *codename;
	char *pretty_name;
};

/* Ceiling on the warnings a catalog keeps; later ones are only counted. */
#define SBOM_MAX_WARNINGS 1000

struct progress;
struct sbom_files;

struct sbom_catalog {
	struct sbom_package *packages;
	size_t count;
	size_t cap;
	size_t max;  /* ceiling on count */
	struct progress *progress;  /* where catalogers report progress, NULL for nowhere */
	struct sbom_files *files;   /* the file index of the walked root, built on first use */
	char **warnings;            /* "path: reason" of each file skipped, for the command */
	size_t warning_count;
	size_t warnings_dropped;    /* warnings past SBOM_MAX_WARNINGS */
};

/* Sets catalog up empty with a ceiling of max packages. */
void sbom_catalog_init(struct sbom_catalog *catalog, size_t max);

/* Frees the packages, warnings and file index and leaves the catalog empty;
 * accepts NULL. */
void sbom_catalog_free(struct sbom_catalog *catalog);

/* Records a warning about a file a cataloger skipped (a printf format, the
 * path first). Past SBOM_MAX_WARNINGS the warning is only counted.
 * WD_ENOMEM. */
WD_MUST_CHECK int sbom_catalog_warn(struct sbom_catalog *catalog, const char *fmt, ...)
	WD_PRINTF(2, 3);

/* Sorts the packages by name, version, type, architecture and location, so the documents
 * come out in the same order whatever order the database lists them in. */
void sbom_catalog_sort(struct sbom_catalog *catalog);

/* Moves pkg into the catalog (pkg is cleared). WD_ETOOBIG past the
 * ceiling, WD_ENOMEM. On failure pkg still owns its strings. */
WD_MUST_CHECK int sbom_catalog_add(struct sbom_catalog *catalog, struct sbom_package *pkg,
	struct wd_error *err);

/* Sets the location of packages[from..count) that have none to a copy of
 * location (a path relative to the scanned root, starting with '/'). */
WD_MUST_CHECK int sbom_catalog_set_location(struct sbom_catalog *catalog, size_t from,
	const char *location, struct wd_error *err);

/* Frees the strings of pkg and clears it; accepts NULL. */
void sbom_package_free(struct sbom_package *pkg);

/* Parses the text of a dpkg status file (deb822 stanzas, see deb-control(5))
 * and adds every package whose Status is "install ok installed" to catalog.
 * When require_status is false, stanzas without a Status field count as
 * installed, as the files of var/lib/dpkg/status.d in distroless images are.
 * WD_EINVAL (err names the line) for malformed text, WD_ETOOBIG. */
WD_MUST_CHECK int dpkg_status_parse(const char *text, size_t len, int require_status,
	struct sbom_catalog *catalog, struct wd_error *err);

/* Adds the packages of root/var/lib/dpkg/status and of every regular file in
 * root/var/lib/dpkg/status.d. A root without either adds nothing. */
WD_MUST_CHECK int dpkg_catalog_root(const char *root, struct sbom_catalog *catalog,
	struct wd_error *err);

/* Runs every cataloger over root, a directory or unpacked root filesystem,
 * adding what each finds to catalog. The first failure stops the run. */
WD_MUST_CHECK int sbom_catalog_root(const char *root, struct sbom_catalog *catalog,
	struct wd_error *err);

/* Parses os-release text (KEY=value lines, values optionally quoted with
 * shell escapes) into distro, which is cleared first. */
WD_MUST_CHECK int os_release_parse(const char *text, size_t len, struct sbom_distro *distro,
	struct wd_error *err);

/* Reads root/etc/os-release, or root/usr/lib/os-release when the first is
 * missing. WD_ENOTFOUND when neither exists; distro stays empty then. */
WD_MUST_CHECK int os_release_read(const char *root, struct sbom_distro *distro,
	struct wd_error *err);

/* Frees the strings of distro and clears it; accepts NULL. */
void sbom_distro_free(struct sbom_distro *distro);

/* Fills the purl of every deb, apk and rpm package that has none:
 * pkg:<type>/<distro id>/<name>@<version> with the qualifiers arch,
 * distro=<id>-<version_id>, upstream=<source> and, for rpm, epoch (see
 * sbom_purls.c). Catalogers whose purls do not depend on the distribution
 * set them themselves. */
WD_MUST_CHECK int sbom_catalog_set_purls(struct sbom_catalog *catalog,
	const struct sbom_distro *distro, struct wd_error *err);

/* Fills the CPE of every package that has none with the CPE 2.3 formatted
 * string cpe:2.3:a:<name>:<name>:<version>:*:*:*:*:*:*:*, the candidate
 * Syft writes first when the database names no vendor. Binaries and Go
 * modules get none: their catalogers set the CPEs they know. */
WD_MUST_CHECK int sbom_catalog_set_cpes(struct sbom_catalog *catalog, struct wd_error *err);

/* The subject and stamp of a document: the target, the tool and the time. */
struct sbom_subject {
	const char *name;         /* the target as the user named it */
	const char *tool_version; /* warden's version */
	long long created;        /* seconds since the epoch (UTC) */
	/* For an image target, "sha256:<hex>" of its manifest (of its config
	 * for a docker-archive, which has no manifest); NULL for a directory. */
	const char *image_digest;
	const char *image_id;     /* "sha256:<hex>" of the image config, or NULL */
};

/* Writes the catalog as an SPDX 2.3 JSON document into a malloc'd,
 * NUL-terminated string in ret_text. */
WD_MUST_CHECK int sbom_spdx_write(const struct sbom_catalog *catalog,
	const struct sbom_distro *distro, const struct sbom_subject *subject, char **ret_text,
	struct wd_error *err);

/* Writes the catalog as a CycloneDX 1.5 JSON document into ret_text. */
WD_MUST_CHECK int sbom_cyclonedx_write(const struct sbom_catalog *catalog,
	const struct sbom_distro *distro, const struct sbom_subject *subject, char **ret_text,
	struct wd_error *err);

/* Writes the catalog as a NAME VERSION TYPE table, as syft prints it. */
WD_MUST_CHECK int sbom_table_write(const struct sbom_catalog *catalog, char **ret_text,
	struct wd_error *err);

/* Stores in ret_hex (65 bytes) the SHA-256, in lowercase hex, of the
 * subject name and every package's name, version, architecture and purl: the
 * content the document namespace and serial number derive from. */
WD_MUST_CHECK int sbom_content_hash(const struct sbom_catalog *catalog,
	const struct sbom_subject *subject, char ret_hex[static 65], struct wd_error *err);
