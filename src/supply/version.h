/* Version order of the package ecosystems that OSV records name, so a
 * scanner can test whether an installed version falls in an affected range. */
#pragma once

#include "common/error.h"
#include "common/macros.h"

/* A version scheme. Several OSV ecosystems share one (Debian and Ubuntu use
 * dpkg order; Red Hat, Rocky Linux and openSUSE use rpm order). */
enum supply_ecosystem {
	SUPPLY_ECOSYSTEM_DPKG,
	SUPPLY_ECOSYSTEM_RPM,
	SUPPLY_ECOSYSTEM_APK,
	SUPPLY_ECOSYSTEM_SEMVER,
	SUPPLY_ECOSYSTEM_PEP440,
	SUPPLY_ECOSYSTEM_GO,
};

/* Maps an OSV ecosystem name ("Debian", "Debian:12", "Alpine:v3.18", "PyPI",
 * "npm", "Go", "Red Hat", ...) or a scheme name ("dpkg", "rpm", "apk",
 * "semver", "pep440", "go") to its version scheme. The OSV names are
 * case-sensitive as in the OSV schema, and text after a ':' (the release) is
 * ignored. Returns 0, or WD_EINVAL naming an unknown ecosystem. */
int supply_ecosystem_parse(const char *name, enum supply_ecosystem *ret_ecosystem,
	struct wd_error *err) WD_MUST_CHECK;

/* Returns the scheme name of ecosystem ("dpkg", "rpm", ...); never NULL. */
const char *supply_ecosystem_name(enum supply_ecosystem ecosystem);

/* Compares versions a and b in the order of ecosystem and stores -1, 0 or 1
 * in *ret_order (a < b, a == b, a > b). Returns 0, or WD_EINVAL naming the
 * invalid version and the ecosystem; *ret_order is then left unchanged. */
int supply_version_compare(enum supply_ecosystem ecosystem, const char *a,
	const char *b, int *ret_order, struct wd_error *err) WD_MUST_CHECK;
