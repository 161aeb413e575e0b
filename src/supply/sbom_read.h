/* Reading an SBOM back into a package catalog: SPDX 2.3 and CycloneDX 1.5
 * JSON documents as warden and Syft write them, whose packages are known
 * by their purls. */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"
#include "supply/sbom.h"

#define SBOM_READ_MAX_BYTES (256u * 1024 * 1024)
#define SBOM_READ_MAX_DEPTH 64u  /* JSON nesting, and CycloneDX component nesting */

enum sbom_format {
	SBOM_FORMAT_SPDX_JSON,
	SBOM_FORMAT_CYCLONEDX_JSON,
};

/* "spdx-json" or "cyclonedx-json". */
const char *sbom_format_name(enum sbom_format format);

/* Counts of the entries a read took and passed over. */
struct sbom_read_stats {
	size_t entries;      /* SPDX packages or CycloneDX components */
	size_t no_purl;      /* entries without a purl */
	size_t unsupported;  /* purls of a type without a catalog type, or without a version */
	size_t invalid;      /* purls that do not parse */
	char first_invalid[256];  /* the error of the first invalid purl */
};

/* Makes a catalog package of a purl. deb, apk and rpm purls give their
 * type, with the arch, upstream (source package) and, for rpm, epoch
 * qualifiers. pypi, npm and golang purls give python, npm and go-module
 * packages named as their registries name them ("@scope/name", the Go
 * module path). When ret_distro is not NULL and the purl has a distro
 * qualifier such as "debian-12", it is split into id and version there
 * (ret_distro's strings are replaced). WD_EUNSUPPORTED for another type or
 * a purl without a version, WD_EINVAL for an invalid purl. */
WD_MUST_CHECK int sbom_package_from_purl(const char *purl, struct sbom_package *ret_pkg,
	struct sbom_distro *ret_distro, struct wd_error *err);

/* Reads the packages of an SPDX 2.3 or CycloneDX 1.5 JSON document of len
 * bytes into catalog. The distribution it names goes into distro, which
 * starts empty: from CycloneDX metadata or an operating-system component,
 * else from the first distro qualifier of a purl. Entries without a usable
 * purl are counted in ret_stats and passed over. WD_EINVAL for a document
 * of neither format, WD_ETOOBIG past the catalog's ceiling. */
WD_MUST_CHECK int sbom_read(const char *text, size_t len, struct sbom_catalog *catalog,
	struct sbom_distro *distro, enum sbom_format *ret_format, struct sbom_read_stats *ret_stats,
	struct wd_error *err);

/* Reads the SBOM file at path with sbom_read; errors name the path. */
WD_MUST_CHECK int sbom_read_file(const char *path, struct sbom_catalog *catalog,
	struct sbom_distro *distro, enum sbom_format *ret_format, struct sbom_read_stats *ret_stats,
	struct wd_error *err);
