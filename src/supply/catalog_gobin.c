/* The packages of a Go binary, as Syft lists them: the main module, each
 * dependency module (its replacement when the build replaced it) and the
 * toolchain's standard library as the package "stdlib". */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/time.h"
#include "supply/gobin.h"
#include "supply/purl.h"

/* The version Go records for a module built from a directory rather than
 * a downloaded module. */
#define DEVEL_VERSION "(devel)"

int gobin_module_purl(const char *path, const char *version, char **ret_purl,
	struct wd_error *err)
{
	const char *slash = strrchr(path, '/');
	char *namespace = NULL;
	struct purl_parts parts = { .type = "golang", .name = path, .version = version };
	int rc;

	*ret_purl = NULL;
	if (slash) {
		if (slash[1] == '\0')
			return wd_error_set(err, WD_EINVAL, "invalid Go module path \"%.64s\"", path);
		namespace = strndup(path, (size_t)(slash - path));
		if (!namespace)
			return wd_error_set(err, WD_ENOMEM, "out of memory");
		parts.namespace = namespace;
		parts.name = slash + 1;
	}
	/* NOTE: the purl golang type definition requires lowercase, but Go
	 * module paths are case-sensitive, so the path is kept as written, as
	 * Syft writes it. */
	rc = purl_build(&parts, ret_purl, err);
	free(namespace);
	return rc;
}

/* The version of the main module. A "(devel)" build with VCS stamps gets
 * the pseudo-version v0.0.0-<commit time>-<12 hex digits of the revision>
 * that Syft derives, or the bare revision when there is no commit time. */
static int main_version(const struct gobin_info *info, char **ret_version, struct wd_error *err)
{
	const char *version = info->main.path ? info->main.version : DEVEL_VERSION;
	char stamp[16] = "00010101000000";  /* Go's zero time, for an unreadable vcs.time */
	int64_t seconds = 0;

	*ret_version = NULL;
	if (strcmp(version, DEVEL_VERSION) != 0 || !info->vcs_revision || !info->vcs_revision[0]) {
		*ret_version = strdup(version);
	} else if (!info->vcs_time) {
		*ret_version = strdup(info->vcs_revision);
	} else {
		struct wd_error ignored = { 0 };
		time_t when;
		struct tm tm;

		if (wd_time_parse(info->vcs_time, &seconds, &ignored) == 0) {
			when = (time_t)seconds;
			if (gmtime_r(&when, &tm))
				strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		}
		if (asprintf(ret_version, "v0.0.0-%s-%.12s", stamp, info->vcs_revision) < 0)
			*ret_version = NULL;
	}
	if (!*ret_version)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* Stores the CPE that Syft gives the Go standard library:
 * cpe:2.3:a:golang:go:<version>:<release candidate, or ->, from the first
 * run of digits and dots in the version after "go" and before any '+'.
 * Returns WD_ENOTFOUND for a version without digits. */
static int stdlib_cpe(const char *go_version, char **ret_cpe, struct wd_error *err)
{
	const char *text = strncmp(go_version, "go", 2) == 0 ? go_version + 2 : go_version;
	size_t end = strcspn(text, "+");
	size_t start = 0, version_len = 0, candidate_len = 0;
	int dots = 0;

	*ret_cpe = NULL;
	while (start < end && !isdigit((unsigned char)text[start]))
		start++;
	if (start == end)
		return WD_ENOTFOUND;
	while (start + version_len < end) {
		char c = text[start + version_len];

		if (c == '.' && dots < 2 && start + version_len + 1 < end &&
		    isdigit((unsigned char)text[start + version_len + 1]))
			dots++;
		else if (!isdigit((unsigned char)c))
			break;
		version_len++;
	}
	while (start + version_len + candidate_len < end &&
	       (isalnum((unsigned char)text[start + version_len + candidate_len]) ||
		text[start + version_len + candidate_len] == '_'))
		candidate_len++;

	if (asprintf(ret_cpe, "cpe:2.3:a:golang:go:%.*s:%.*s:*:*:*:*:*:*", (int)version_len,
		    text + start, candidate_len ? (int)candidate_len : 1,
		    candidate_len ? text + start + version_len : "-") < 0) {
		*ret_cpe = NULL;
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	return 0;
}

static int dup_field(const char *value, char **ret_copy, struct wd_error *err)
{
	*ret_copy = NULL;
	if (!value)
		return 0;
	*ret_copy = strdup(value);
	if (!*ret_copy)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* Adds one go-module package; version is taken over (freed in any case). */
static int add_module(struct sbom_catalog *catalog, const struct gobin_info *info,
	const char *path, char *version, const char *location, struct wd_error *err)
{
	struct sbom_package pkg = { .type = SBOM_TYPE_GO_MODULE, .version = version };
	int rc = 0;

	WD_GUARD(dup_field(path, &pkg.name, err));
	WD_GUARD(dup_field(info->goarch ? info->goarch : info->elf_arch, &pkg.arch, err));
	WD_GUARD(dup_field(location, &pkg.location, err));
	WD_GUARD(gobin_module_purl(path, version, &pkg.purl, err));
	WD_GUARD(sbom_catalog_add(catalog, &pkg, err));
out:
	sbom_package_free(&pkg);
	return rc;
}

/* True for a replacement by a local directory, which go.mod writes as a
 * path starting with "./", "../" or "/" (golang.org/x/mod/modfile
 * IsDirectoryPath). */
static bool is_directory_path(const char *path)
{
	return strncmp(path, "./", 2) == 0 || strncmp(path, "../", 3) == 0 || path[0] == '/' ||
	       strcmp(path, ".") == 0 || strcmp(path, "..") == 0;
}

/* The module a dependency line names after any replacement. A replacement
 * by a local directory keeps the required module's path, with the version
 * Go gives directory builds, since the directory has no module identity. */
static int dep_module(const struct gobin_dep *dep, const char **ret_path, char **ret_version,
	struct wd_error *err)
{
	const struct gobin_module *module = dep->replace.path ? &dep->replace : &dep->module;
	const char *version = module->version;

	*ret_path = module->path;
	if (dep->replace.path && is_directory_path(dep->replace.path)) {
		*ret_path = dep->module.path;
		version = DEVEL_VERSION;
	}
	return dup_field(version && version[0] ? version : NULL, ret_version, err);
}

static int add_stdlib(struct sbom_catalog *catalog, const struct gobin_info *info,
	const char *location, struct wd_error *err)
{
	struct sbom_package pkg = { .type = SBOM_TYPE_GO_MODULE };
	const char *version = info->go_version;
	int rc;

	rc = stdlib_cpe(version, &pkg.cpe, err);
	if (rc == WD_ENOTFOUND)
		return 0;  /* a toolchain version without a number names no release */
	WD_GUARD(rc);
	WD_GUARD(dup_field("stdlib", &pkg.name, err));
	WD_GUARD(dup_field(version, &pkg.version, err));
	WD_GUARD(dup_field(info->goarch ? info->goarch : info->elf_arch, &pkg.arch, err));
	WD_GUARD(dup_field(location, &pkg.location, err));
	WD_GUARD(dup_field("BSD-3-Clause", &pkg.license, err));
	WD_GUARD(gobin_module_purl("stdlib",
		strncmp(version, "go", 2) == 0 ? version + 2 : version, &pkg.purl, err));
	WD_GUARD(sbom_catalog_add(catalog, &pkg, err));
out:
	sbom_package_free(&pkg);
	return rc;
}

int gobin_catalog_info(const struct gobin_info *info, const char *location,
	struct sbom_catalog *catalog, struct wd_error *err)
{
	for (size_t i = 0; i < info->dep_count; i++) {
		const char *path;
		char *version;

		WD_TRY(dep_module(&info->deps[i], &path, &version, err));
		WD_TRY(add_module(catalog, info, path, version, location, err));
	}

	/* A binary built outside module mode names only its package path. */
	if (info->main.path || (info->path && info->path[0])) {
		char *version;

		WD_TRY(main_version(info, &version, err));
		WD_TRY(add_module(catalog, info, info->main.path ? info->main.path : info->path,
			version, location, err));
	}
	return add_stdlib(catalog, info, location, err);
}
