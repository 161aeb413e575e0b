/* Dispatch of version comparisons by ecosystem, and the OSV ecosystem names. */
#include "supply/version.h"

#include <string.h>

#include "supply/version_internal.h"

struct ecosystem_name {
	const char *name;
	enum supply_ecosystem ecosystem;
};

/* OSV schema ecosystem names (ossf.github.io/osv-schema, "Affected package")
 * whose versions follow one of the schemes below, then the scheme names. */
static const struct ecosystem_name ecosystem_names[] = {
	{ "Debian", SUPPLY_ECOSYSTEM_DPKG },
	{ "Ubuntu", SUPPLY_ECOSYSTEM_DPKG },
	{ "Alpine", SUPPLY_ECOSYSTEM_APK },
	{ "Wolfi", SUPPLY_ECOSYSTEM_APK },
	{ "Chainguard", SUPPLY_ECOSYSTEM_APK },
	{ "Red Hat", SUPPLY_ECOSYSTEM_RPM },
	{ "Rocky Linux", SUPPLY_ECOSYSTEM_RPM },
	{ "AlmaLinux", SUPPLY_ECOSYSTEM_RPM },
	{ "SUSE", SUPPLY_ECOSYSTEM_RPM },
	{ "openSUSE", SUPPLY_ECOSYSTEM_RPM },
	{ "Mageia", SUPPLY_ECOSYSTEM_RPM },
	{ "openEuler", SUPPLY_ECOSYSTEM_RPM },
	{ "PyPI", SUPPLY_ECOSYSTEM_PEP440 },
	{ "npm", SUPPLY_ECOSYSTEM_SEMVER },
	{ "crates.io", SUPPLY_ECOSYSTEM_SEMVER },
	{ "Hex", SUPPLY_ECOSYSTEM_SEMVER },
	{ "Go", SUPPLY_ECOSYSTEM_GO },
	{ "dpkg", SUPPLY_ECOSYSTEM_DPKG },
	{ "rpm", SUPPLY_ECOSYSTEM_RPM },
	{ "apk", SUPPLY_ECOSYSTEM_APK },
	{ "semver", SUPPLY_ECOSYSTEM_SEMVER },
	{ "pep440", SUPPLY_ECOSYSTEM_PEP440 },
	{ "go", SUPPLY_ECOSYSTEM_GO },
};

typedef int (*version_compare_fn)(const char *a, const char *b, int *ret_order,
	struct wd_error *err);

static const version_compare_fn compare_functions[] = {
	[SUPPLY_ECOSYSTEM_DPKG] = version_dpkg_compare,
	[SUPPLY_ECOSYSTEM_RPM] = version_rpm_compare,
	[SUPPLY_ECOSYSTEM_APK] = version_apk_compare,
	[SUPPLY_ECOSYSTEM_SEMVER] = version_semver_compare,
	[SUPPLY_ECOSYSTEM_PEP440] = version_pep440_compare,
	[SUPPLY_ECOSYSTEM_GO] = version_go_compare,
};

static const char *const scheme_names[] = {
	[SUPPLY_ECOSYSTEM_DPKG] = "dpkg",
	[SUPPLY_ECOSYSTEM_RPM] = "rpm",
	[SUPPLY_ECOSYSTEM_APK] = "apk",
	[SUPPLY_ECOSYSTEM_SEMVER] = "semver",
	[SUPPLY_ECOSYSTEM_PEP440] = "pep440",
	[SUPPLY_ECOSYSTEM_GO] = "go",
};

int supply_ecosystem_parse(const char *name, enum supply_ecosystem *ret_ecosystem,
	struct wd_error *err)
{
	size_t length;

	if (!name)
		return wd_error_set(err, WD_EINVAL, "missing ecosystem");

	/* "Debian:12" and "Alpine:v3.18" name a release of the ecosystem. */
	length = strcspn(name, ":");

	for (size_t i = 0; i < WD_ARRAY_LEN(ecosystem_names); i++) {
		const char *known = ecosystem_names[i].name;

		if (strlen(known) == length && !strncmp(known, name, length)) {
			*ret_ecosystem = ecosystem_names[i].ecosystem;
			return 0;
		}
	}
	return wd_error_set(err, WD_EINVAL, "unknown ecosystem: \"%.64s\"", name);
}

const char *supply_ecosystem_name(enum supply_ecosystem ecosystem)
{
	if ((size_t)ecosystem >= WD_ARRAY_LEN(scheme_names))
		return "unknown";
	return scheme_names[ecosystem];
}

int supply_version_compare(enum supply_ecosystem ecosystem, const char *a,
	const char *b, int *ret_order, struct wd_error *err)
{
	if ((size_t)ecosystem >= WD_ARRAY_LEN(compare_functions))
		return wd_error_set(err, WD_EINVAL, "unknown ecosystem: %d", (int)ecosystem);
	if (!a || !b)
		return wd_error_set(err, WD_EINVAL, "missing %s version", scheme_names[ecosystem]);
	return compare_functions[ecosystem](a, b, ret_order, err);
}

int version_digits_compare(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int order;

	while (a_len > 0 && *a == '0') {
		a++;
		a_len--;
	}
	while (b_len > 0 && *b == '0') {
		b++;
		b_len--;
	}

	/* Without leading zeros, the longer run is the larger number. */
	if (a_len != b_len)
		return a_len < b_len ? -1 : 1;
	order = memcmp(a, b, a_len);
	return version_sign(order);
}
