/* The catalogers of language packages and executables: Python metadata,
 * npm lock files and node_modules, and ELF executables with the modules of
 * Go binaries. They read the files that one walk of the root found. */
#pragma once

#include <stddef.h>

#include "supply/sbom.h"

/* Ceilings on the files these catalogers read. */
#define SBOM_MAX_PYTHON_METADATA_BYTES (16u * 1024 * 1024)
#define SBOM_MAX_NPM_LOCK_BYTES (256u * 1024 * 1024)
#define SBOM_MAX_NPM_PACKAGE_BYTES (4u * 1024 * 1024)
#define SBOM_MAX_NPM_DEPTH 256  /* nesting of a lockfileVersion 1 dependency tree */

/* Parses Python core metadata (the RFC 822 header block of a METADATA or
 * PKG-INFO file) into ret_pkg: Name, Version, the license (License-Expression,
 * else a one-line License) and the author (Author, else Author-email), with
 * the purl pkg:pypi/<PEP 503 normalized name>@<version>. ret_pkg is cleared
 * first and set only on success. WD_EINVAL (err names the line or the
 * missing field) for malformed text, WD_ETOOBIG, WD_ENOMEM. */
WD_MUST_CHECK int python_metadata_parse(const char *text, size_t len,
	struct sbom_package *ret_pkg, struct wd_error *err);

/* Stores in ret_name (size bytes) the PEP 503 normalized form of name:
 * lowercased, with every run of '-', '_' and '.' replaced by one '-'.
 * WD_ETOOBIG when it does not fit. */
WD_MUST_CHECK int python_normalize_name(const char *name, char *ret_name, size_t size,
	struct wd_error *err);

/* Adds the Python packages of every metadata file under root. A malformed
 * file is skipped with a warning in the catalog. */
WD_MUST_CHECK int python_catalog_root(const char *root, struct sbom_catalog *catalog,
	struct wd_error *err);

/* Parses an npm package-lock.json or npm-shrinkwrap.json of lockfileVersion
 * 1 (the "dependencies" tree), 2 or 3 (the "packages" map) and adds its
 * packages with location set, once per name and version. WD_EINVAL (err
 * names the problem) for malformed JSON or fields of the wrong type,
 * WD_EUNSUPPORTED for another lockfileVersion, WD_ETOOBIG, WD_ENOMEM. */
WD_MUST_CHECK int npm_lock_parse(const char *text, size_t len, const char *location,
	struct sbom_catalog *catalog, struct wd_error *err);

/* Parses the package.json of an installed package into ret_pkg: name,
 * version, license and author, with the purl pkg:npm/<scope>/<name>@<version>.
 * ret_pkg is cleared first and set only on success. WD_EINVAL for malformed
 * JSON or a missing name or version. */
WD_MUST_CHECK int npm_package_json_parse(const char *text, size_t len,
	struct sbom_package *ret_pkg, struct wd_error *err);

/* Adds the npm packages under root: those of every lock file outside
 * node_modules, and those of every node_modules/<name>/package.json that no
 * lock file covers (see catalog_npm.c). Malformed files are skipped with a
 * warning in the catalog. */
WD_MUST_CHECK int npm_catalog_root(const char *root, struct sbom_catalog *catalog,
	struct wd_error *err);

/* Adds a binary package with the SHA-256 of every ELF executable under
 * root, and the modules of every Go binary among them. */
WD_MUST_CHECK int binaries_catalog_root(const char *root, struct sbom_catalog *catalog,
	struct wd_error *err);

/* Adds the regular file at path as the only target: a binary package with
 * its SHA-256, whatever its type, located at "/<file name>", and the modules
 * when it is a Go binary. WD_ENOTFOUND, WD_EINVAL (not a regular file),
 * WD_EIO. */
WD_MUST_CHECK int binaries_catalog_file(const char *path, struct sbom_catalog *catalog,
	struct wd_error *err);
