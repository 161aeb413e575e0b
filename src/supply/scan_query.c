/* The OSV ecosystem, release, name and version a catalog package is looked
 * up as. Debian, Ubuntu and Alpine records name source packages, so binary
 * packages are looked up by their source. Language packages are looked up
 * by their own name in their registry's ecosystem. */
#include <stdio.h>
#include <string.h>

#include "supply/scan.h"

static void copy(char *out, size_t size, const char *text)
{
	snprintf(out, size, "%s", text ? text : "");
}

/* Adds the release prefix + value + suffix. */
static void add_release(struct scan_query *q, const char *prefix, const char *value,
	const char *suffix)
{
	if (q->release_count < SCAN_MAX_RELEASES)
		snprintf(q->releases[q->release_count++], sizeof(q->releases[0]), "%s%s%s", prefix,
			value, suffix);
}

/* Copies the first count dot-separated numbers of version ("3.18.4" and 2
 * give "3.18") into out; false when version does not start with them. */
static bool leading_numbers(const char *version, int count, char *out, size_t size)
{
	size_t len = 0;
	int numbers = 0;

	while (numbers < count) {
		size_t digits = strspn(version + len, "0123456789");

		if (digits == 0)
			return false;
		len += digits;
		numbers++;
		if (numbers < count) {
			if (version[len] != '.')
				return false;
			len++;
		}
	}
	if (len + 1 > size)
		return false;
	memcpy(out, version, len);
	out[len] = '\0';
	return true;
}

static bool is_distro(const struct sbom_distro *distro, const char *id)
{
	return distro && distro->id && !strcmp(distro->id, id);
}

/* Debian records are scoped to "Debian:<major>" or to no release, and
 * Ubuntu ones to "Ubuntu:<YY.MM>", with ":LTS" for long-term releases. */
static void deb_query(const struct sbom_package *pkg, const struct sbom_distro *distro,
	struct scan_query *q, const char **ret_note)
{
	char major[32];

	copy(q->name, sizeof(q->name), pkg->source ? pkg->source : pkg->name);
	copy(q->version, sizeof(q->version), pkg->source_version ? pkg->source_version :
								 pkg->version);
	if (is_distro(distro, "ubuntu")) {
		q->ecosystem = "Ubuntu";
		if (distro->version_id) {
			add_release(q, "", distro->version_id, "");
			add_release(q, "", distro->version_id, ":LTS");
		} else {
			*ret_note = "the Ubuntu release is unknown (no VERSION_ID in os-release), so no "
				    "Ubuntu record applies";
		}
		return;
	}

	q->ecosystem = "Debian";
	add_release(q, "", "", "");
	if (!is_distro(distro, "debian")) {
		*ret_note = distro && distro->id ?
			"the distribution is neither Debian nor Ubuntu, so only Debian records "
			"without a release apply" :
			"the distribution is unknown, so only Debian records without a release apply";
		return;
	}
	if (distro->version_id && leading_numbers(distro->version_id, 1, major, sizeof(major)))
		add_release(q, "", major, "");
	else
		*ret_note = "the Debian release is unknown (no VERSION_ID in os-release), so only "
			    "Debian records without a release apply";
}

/* Alpine records are scoped to "Alpine:v<major>.<minor>"; Wolfi and
 * Chainguard ones have no release. */
static void apk_query(const struct sbom_package *pkg, const struct sbom_distro *distro,
	struct scan_query *q, const char **ret_note)
{
	char branch[32];

	copy(q->name, sizeof(q->name), pkg->source ? pkg->source : pkg->name);
	copy(q->version, sizeof(q->version), pkg->version);
	if (is_distro(distro, "wolfi") || is_distro(distro, "chainguard")) {
		q->ecosystem = is_distro(distro, "wolfi") ? "Wolfi" : "Chainguard";
		add_release(q, "", "", "");
		return;
	}
	q->ecosystem = "Alpine";
	if (is_distro(distro, "alpine") && distro->version_id &&
	    leading_numbers(distro->version_id, 2, branch, sizeof(branch)))
		add_release(q, "v", branch, "");
	else
		*ret_note = "the Alpine release is unknown, so no Alpine record applies";
}

/* The name of the source RPM: "openssl-3.0.7-1.el9.src.rpm" without the
 * version, release and suffix, as rpm's SOURCERPM tag gives it. */
static void rpm_source_name(const char *source, char *out, size_t size)
{
	const char *suffix = ".src.rpm";
	size_t len = strlen(source);
	int dashes = 0;

	copy(out, size, source);
	if (len <= strlen(suffix) || strcmp(source + len - strlen(suffix), suffix))
		return;
	for (size_t i = len; i > 0; i--) {
		if (source[i - 1] == '-' && ++dashes == 2) {
			snprintf(out, size, "%.*s", (int)(i - 1), source);
			return;
		}
	}
}

/* RPM distributions with OSV data: Red Hat (records scoped to CPE streams
 * such as "Red Hat:enterprise_linux:9::appstream"), Rocky Linux and
 * AlmaLinux (scoped to the major release or to none). */
static size_t rpm_queries(const struct sbom_package *pkg, const struct sbom_distro *distro,
	struct scan_query *queries, size_t max, const char **ret_note)
{
	static const struct {
		const char *id;
		const char *ecosystem;
	} distros[] = {
		{ "rhel", "Red Hat" },
		{ "rocky", "Rocky Linux" },
		{ "almalinux", "AlmaLinux" },
	};
	char source[256];
	char major[32];
	size_t count = 0;
	const char *ecosystem = NULL;

	for (size_t i = 0; i < WD_ARRAY_LEN(distros); i++) {
		if (is_distro(distro, distros[i].id))
			ecosystem = distros[i].ecosystem;
	}
	if (!ecosystem) {
		*ret_note = "RPM packages are matched only on Red Hat Enterprise Linux, Rocky Linux "
			    "and AlmaLinux";
		return 0;
	}
	if (!distro->version_id || !leading_numbers(distro->version_id, 1, major, sizeof(major))) {
		*ret_note = "the RPM distribution's release is unknown, so no record applies";
		return 0;
	}

	/* Rocky Linux and AlmaLinux name source RPMs; Red Hat names binary or
	 * source RPMs, so both names are looked up there. */
	rpm_source_name(pkg->source ? pkg->source : pkg->name, source, sizeof(source));
	for (int pass = 0; pass < 2 && count < max; pass++) {
		struct scan_query *q = &queries[count];
		const char *name = pass == 0 ? source : pkg->name;

		if (pass == 1 && (strcmp(ecosystem, "Red Hat") || !strcmp(source, pkg->name)))
			break;
		*q = (struct scan_query){ .ecosystem = ecosystem };
		copy(q->name, sizeof(q->name), name);
		copy(q->version, sizeof(q->version), pkg->version);
		if (!strcmp(ecosystem, "Red Hat")) {
			snprintf(q->release_prefix, sizeof(q->release_prefix), "enterprise_linux:%s",
				major);
		} else {
			add_release(q, "", "", "");
			add_release(q, "", major, "");
		}
		count++;
	}
	return count;
}

/* Go's standard library is the module "stdlib" in OSV, versioned like
 * "1.21.3", while a binary's build information records "go1.21.3". */
static void go_version(const struct sbom_package *pkg, char *out, size_t size)
{
	if ((!strcmp(pkg->name, "stdlib") || !strcmp(pkg->name, "toolchain")) &&
	    !strncmp(pkg->version, "go", 2))
		copy(out, size, pkg->version + 2);
	else
		copy(out, size, pkg->version);
}

static bool fits_size(const char *text, size_t size)
{
	return !text || strlen(text) < size;
}

#define fits(text, field) fits_size((text), sizeof(field))

void scan_package_queries(const struct sbom_package *pkg, const struct sbom_distro *distro,
	struct scan_query *ret_queries, size_t max, size_t *ret_count, const char **ret_note)
{
	struct scan_query *q = &ret_queries[0];

	*ret_count = 0;
	*ret_note = NULL;
	if (max == 0 || !pkg->name || !pkg->version)
		return;
	if (!fits(pkg->name, q->name) || !fits(pkg->version, q->version) ||
	    !fits(pkg->source, q->name) || !fits(pkg->source_version, q->version)) {
		*ret_note = "its name or version is longer than 255 bytes, which no OSV record has";
		return;
	}
	*q = (struct scan_query){ 0 };

	switch (pkg->type) {
	case SBOM_TYPE_DEB:
		deb_query(pkg, distro, q, ret_note);
		break;
	case SBOM_TYPE_APK:
		apk_query(pkg, distro, q, ret_note);
		if (q->release_count == 0)
			return;
		break;
	case SBOM_TYPE_RPM:
		*ret_count = rpm_queries(pkg, distro, ret_queries, max, ret_note);
		return;
	case SBOM_TYPE_PYTHON:
	case SBOM_TYPE_NPM:
	case SBOM_TYPE_GO_MODULE:
		q->ecosystem = pkg->type == SBOM_TYPE_PYTHON ? "PyPI" :
			       pkg->type == SBOM_TYPE_NPM ? "npm" : "Go";
		copy(q->name, sizeof(q->name), pkg->name);
		if (pkg->type == SBOM_TYPE_GO_MODULE)
			go_version(pkg, q->version, sizeof(q->version));
		else
			copy(q->version, sizeof(q->version), pkg->version);
		add_release(q, "", "", "");
		break;
	case SBOM_TYPE_BINARY:
		return;
	}
	if (q->ecosystem && q->release_count == 0 && !q->release_prefix[0])
		return;
	*ret_count = 1;
}

bool scan_query_accepts(const struct scan_query *query, const char *release)
{
	size_t prefix_len = strlen(query->release_prefix);

	for (size_t i = 0; i < query->release_count; i++) {
		if (!strcmp(query->releases[i], release))
			return true;
	}
	return prefix_len > 0 && !strncmp(release, query->release_prefix, prefix_len) &&
	       (release[prefix_len] == '\0' || release[prefix_len] == ':');
}
