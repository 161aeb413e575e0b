/* The catalogers of the Alpine and RPM package databases: the apk installed
 * database and the SQLite rpmdb with the header blobs it stores. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "supply/sbom.h"

/* rpm rejects header blobs with more than 65535 index entries, a data
 * store of 256 MiB or more, or a total of 256 MiB or more (lib/header.c:
 * HEADER_TAGS_MAX, HEADER_DATA_MAX and headerMaxbytes). */
#define RPM_HEADER_MAX_ENTRIES 0xffffu
#define RPM_HEADER_MAX_DATA_BYTES 0x0fffffffu
#define RPM_HEADER_MAX_BYTES (256u * 1024 * 1024)

/* Parses the text of an apk installed database (lib/apk/db/installed):
 * records of "X:value" lines separated by blank lines. Adds one package per
 * record to catalog, with type SBOM_TYPE_APK and no location.
 * WD_EINVAL (err names the line) for malformed text, WD_ETOOBIG. */
WD_MUST_CHECK int apk_installed_parse(const char *text, size_t len,
	struct sbom_catalog *catalog, struct wd_error *err);

/* Adds the packages of root/lib/apk/db/installed. A root without the file
 * adds nothing. */
WD_MUST_CHECK int apk_catalog_root(const char *root, struct sbom_catalog *catalog,
	struct wd_error *err);

/* Parses one rpm header blob, as the rpmdb Packages table stores it, into
 * ret_pkg (cleared first, owned by the caller on success): type
 * SBOM_TYPE_RPM, version "[epoch:]version-release", and the ARCH, LICENSE,
 * VENDOR (as maintainer), SOURCERPM (as source) and SIZE tags when present.
 * WD_EINVAL (err names the byte offset in the blob) for a malformed header,
 * WD_ETOOBIG past the ceilings above or a field over SBOM_MAX_FIELD_BYTES. */
WD_MUST_CHECK int rpm_header_parse(const uint8_t *blob, size_t len,
	struct sbom_package *ret_pkg, struct wd_error *err);

/* Adds the packages of the SQLite rpm database at path, opened read-only
 * and immutable, skipping the gpg-pubkey entries of imported signing keys.
 * WD_EINVAL (err names the path and the row's hnum) for a malformed
 * database or header, WD_EUNSUPPORTED when a write-ahead log still
 * contains changes. */
WD_MUST_CHECK int rpm_sqlite_read(const char *path, struct sbom_catalog *catalog,
	struct wd_error *err);

/* Adds the packages of root/var/lib/rpm/rpmdb.sqlite and of
 * root/usr/lib/sysimage/rpm/rpmdb.sqlite (once when both name the same
 * file). WD_EUNSUPPORTED when the root has only a BerkeleyDB (Packages) or
 * NDB (Packages.db) database; a root without any adds nothing. */
WD_MUST_CHECK int rpm_catalog_root(const char *root, struct sbom_catalog *catalog,
	struct wd_error *err);
