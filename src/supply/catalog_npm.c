/* npm packages: lock files (package-lock.json and npm-shrinkwrap.json) and
 * the package.json of each package installed under node_modules.
 *
 * Deduplication: a lock file outside node_modules describes the node_modules
 * directory beside it, so the package.json files under that directory are
 * not cataloged again when the lock parsed. Within one lock file each name
 * and version is listed once, however many node_modules paths install it.
 * Copies found in different files stay separate packages with their own
 * locations. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "supply/catalog_lang.h"
#include "supply/purl.h"
#include "supply/sbom_files.h"

/* Builds pkg:npm/<namespace>/<name>@<version>: a scoped name "@scope/name"
 * has the namespace "@scope", whose '@' the purl encodes as %40. */
static int npm_purl(const char *full_name, const char *version, char **ret_purl,
	struct wd_error *err)
{
	const char *slash = full_name[0] == '@' ? strchr(full_name, '/') : NULL;
	char scope[256];
	struct purl_parts parts = { .type = "npm", .name = full_name, .version = version };

	if (slash) {
		if ((size_t)(slash - full_name) >= sizeof(scope) || slash[1] == '\0')
			return wd_error_set(err, WD_EINVAL, "invalid npm package name \"%.64s\"",
				full_name);
		snprintf(scope, sizeof(scope), "%.*s", (int)(slash - full_name), full_name);
		parts.namespace = scope;
		parts.name = slash + 1;
	}
	return purl_build(&parts, ret_purl, err);
}

static bool is_valid_name(const char *name)
{
	if (!name[0] || strlen(name) > SBOM_MAX_FIELD_BYTES)
		return false;
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p < 0x20)
			return false;
	}
	return true;
}

/* Returns the string member key of object, NULL when it is absent, and sets
 * *bad when it is present but not a string. */
static const char *get_string(const json_t *object, const char *key, bool *bad)
{
	const json_t *value = json_object_get(object, key);

	if (!value || json_is_null(value))
		return NULL;
	if (!json_is_string(value)) {
		*bad = true;
		return NULL;
	}
	return json_string_value(value);
}

/* Joins the "type" of each item of a legacy "licenses" array with " OR ",
 * which is how npm documents the array's meaning. NULL when none. */
static char *legacy_licenses(const json_t *array)
{
	char text[SBOM_MAX_FIELD_BYTES];
	size_t len = 0, index;
	const json_t *item;

	text[0] = '\0';
	json_array_foreach(array, index, item) {
		const char *type = json_is_string(item) ? json_string_value(item) :
			json_string_value(json_object_get(item, "type"));
		int n;

		if (!type || !type[0])
			continue;
		n = snprintf(text + len, sizeof(text) - len, "%s%s", len ? " OR " : "", type);
		if (n < 0 || (size_t)n >= sizeof(text) - len)
			break;
		len += (size_t)n;
	}
	return len ? strdup(text) : NULL;
}

/* The license of a package.json or lock entry: "license" as a string or as
 * a legacy {"type": ...} object, else the legacy "licenses" array. */
static int package_license(const json_t *object, char **ret_license, struct wd_error *err)
{
	const json_t *license = json_object_get(object, "license");
	const json_t *licenses = json_object_get(object, "licenses");
	const char *text = NULL;

	*ret_license = NULL;
	if (json_is_string(license))
		text = json_string_value(license);
	else if (json_is_object(license))
		text = json_string_value(json_object_get(license, "type"));
	if (text && text[0]) {
		*ret_license = strndup(text, SBOM_MAX_FIELD_BYTES);
	} else if (json_is_array(licenses)) {
		*ret_license = legacy_licenses(licenses);
		if (!*ret_license)
			return 0;
	} else {
		return 0;
	}
	if (!*ret_license)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* The author: a "Name <email>" string, or a {"name", "email"} object. */
static int package_author(const json_t *object, char **ret_author, struct wd_error *err)
{
	const json_t *author = json_object_get(object, "author");
	const char *name = NULL, *email = NULL;

	*ret_author = NULL;
	if (json_is_string(author)) {
		name = json_string_value(author);
	} else if (json_is_object(author)) {
		name = json_string_value(json_object_get(author, "name"));
		email = json_string_value(json_object_get(author, "email"));
	}
	if (!name || !name[0])
		return 0;
	if (strlen(name) > SBOM_MAX_FIELD_BYTES || (email && strlen(email) > SBOM_MAX_FIELD_BYTES))
		return 0;
	if (email && email[0]) {
		if (asprintf(ret_author, "%s <%s>", name, email) < 0)
			*ret_author = NULL;
	} else {
		*ret_author = strdup(name);
	}
	if (!*ret_author)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* Fills pkg with name, version and purl, and the license and author from
 * object. */
static int fill_package(struct sbom_package *pkg, const char *name, const char *version,
	const json_t *object, struct wd_error *err)
{
	if (!is_valid_name(name))
		return wd_error_set(err, WD_EINVAL, "invalid npm package name \"%.64s\"", name);
	if (strlen(version) > SBOM_MAX_FIELD_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "version of %.64s is longer than %u bytes",
			name, SBOM_MAX_FIELD_BYTES);
	*pkg = (struct sbom_package){ .type = SBOM_TYPE_NPM };
	pkg->name = strdup(name);
	pkg->version = strdup(version);
	if (!pkg->name || !pkg->version)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	WD_TRY(npm_purl(name, version, &pkg->purl, err));
	WD_TRY(package_license(object, &pkg->license, err));
	return package_author(object, &pkg->maintainer, err);
}

static int add_entry(struct sbom_catalog *catalog, const char *name, const char *version,
	const json_t *object, const char *location, struct wd_error *err)
{
	struct sbom_package pkg = { 0 };
	int rc = 0;

	WD_GUARD(fill_package(&pkg, name, version, object, err));
	pkg.location = strdup(location);
	WD_ENSURE(pkg.location, wd_error_set(err, WD_ENOMEM, "out of memory"));
	WD_GUARD(sbom_catalog_add(catalog, &pkg, err));
out:
	sbom_package_free(&pkg);
	return rc;
}

/* Adds a lockfileVersion 1 "dependencies" object and the trees nested in
 * it. An alias ("dependencies": {"alias": {"version": "npm:real@1.0.0"}})
 * is listed under the real name and version. */
static int add_dependency_tree(struct sbom_catalog *catalog, const json_t *dependencies,
	const char *location, int depth, struct wd_error *err)
{
	const char *key;
	const json_t *entry;

	if (!dependencies)
		return 0;
	if (!json_is_object(dependencies))
		return wd_error_set(err, WD_EINVAL, "\"dependencies\" is not an object");
	if (depth > SBOM_MAX_NPM_DEPTH)
		return wd_error_set(err, WD_ETOOBIG, "dependencies nested deeper than %d levels",
			SBOM_MAX_NPM_DEPTH);

	json_object_foreach((json_t *)dependencies, key, entry) {
		bool bad = false;
		const char *name = key, *version;
		char real_name[1024];

		if (!json_is_object(entry))
			return wd_error_set(err, WD_EINVAL, "dependency \"%.64s\" is not an object",
				key);
		version = get_string(entry, "version", &bad);
		if (bad)
			return wd_error_set(err, WD_EINVAL,
				"\"version\" of dependency \"%.64s\" is not a string", key);
		if (version && strncmp(version, "npm:", 4) == 0) {
			const char *at = strrchr(version + 4, '@');

			if (at && at > version + 4 && (size_t)(at - version - 4) < sizeof(real_name)) {
				snprintf(real_name, sizeof(real_name), "%.*s",
					(int)(at - version - 4), version + 4);
				name = real_name;
				version = at + 1;
			}
		}
		if (version && version[0])
			WD_TRY(add_entry(catalog, name, version, entry, location, err));
		WD_TRY(add_dependency_tree(catalog, json_object_get(entry, "dependencies"),
			location, depth + 1, err));
	}
	return 0;
}

/* The package name of a "packages" key: what follows the last
 * "node_modules/" ("node_modules/a/node_modules/@s/b" is "@s/b"), or NULL
 * for a key outside node_modules (the project or a workspace folder). */
static const char *name_from_key(const char *key)
{
	const char *name = NULL;

	for (const char *p = key; (p = strstr(p, "node_modules/")); p++) {
		if (p == key || p[-1] == '/')
			name = p + strlen("node_modules/");
	}
	return name;
}

/* Adds a lockfileVersion 2 or 3 "packages" map. The "" key is the project
 * itself, listed when it has a name and version. Links to workspace folders
 * are skipped, since the folder's own entry lists the package. */
static int add_packages_map(struct sbom_catalog *catalog, const json_t *packages,
	const char *location, struct wd_error *err)
{
	const char *key;
	const json_t *entry;

	if (!json_is_object(packages))
		return wd_error_set(err, WD_EINVAL, "\"packages\" is not an object");
	json_object_foreach((json_t *)packages, key, entry) {
		bool bad = false;
		const char *name, *version, *path_name;

		if (!json_is_object(entry))
			return wd_error_set(err, WD_EINVAL, "package \"%.64s\" is not an object", key);
		name = get_string(entry, "name", &bad);
		version = get_string(entry, "version", &bad);
		if (bad)
			return wd_error_set(err, WD_EINVAL,
				"\"name\" or \"version\" of package \"%.64s\" is not a string", key);
		if (json_is_true(json_object_get(entry, "link")))
			continue;

		/* An entry's "name" is set for the project and for aliases
		 * ("node_modules/alias" installing another package). */
		path_name = name_from_key(key);
		if (!name || !name[0])
			name = path_name;
		if (!name || !name[0] || !version || !version[0])
			continue;
		WD_TRY(add_entry(catalog, name, version, entry, location, err));
	}
	return 0;
}

static int compare_name_version(const void *left, const void *right)
{
	const struct sbom_package *a = left, *b = right;
	int c = strcmp(a->name, b->name);

	return c ? c : strcmp(a->version, b->version);
}

/* Leaves one package per name and version in packages[from..count). */
static void unique_packages(struct sbom_catalog *catalog, size_t from)
{
	struct sbom_package *range = catalog->packages + from;
	size_t count = catalog->count - from, kept = 0;

	if (count < 2)
		return;
	qsort(range, count, sizeof(*range), compare_name_version);
	for (size_t i = 0; i < count; i++) {
		if (kept > 0 && compare_name_version(&range[kept - 1], &range[i]) == 0) {
			sbom_package_free(&range[i]);
			continue;
		}
		if (kept != i) {
			range[kept] = range[i];
			range[i] = (struct sbom_package){ 0 };
		}
		kept++;
	}
	catalog->count = from + kept;
}

/* Drops the packages added from index from on, after a failed parse, so a
 * malformed lock file adds nothing. */
static void drop_packages(struct sbom_catalog *catalog, size_t from)
{
	while (catalog->count > from)
		sbom_package_free(&catalog->packages[--catalog->count]);
}

static json_t *load_json(const char *text, size_t len, struct wd_error *err)
{
	json_error_t json_err;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_err);

	if (!root) {
		wd_error_set(err, WD_EINVAL, "invalid JSON at line %d column %d: %s", json_err.line,
			json_err.column, json_err.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		wd_error_set(err, WD_EINVAL, "expected a JSON object");
		return NULL;
	}
	return root;
}

int npm_lock_parse(const char *text, size_t len, const char *location,
	struct sbom_catalog *catalog, struct wd_error *err)
{
	size_t before = catalog->count;
	const json_t *version_value;
	json_int_t version;
	json_t *root;
	int rc = 0;

	if (len > SBOM_MAX_NPM_LOCK_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "lock file is longer than %u bytes",
			SBOM_MAX_NPM_LOCK_BYTES);
	root = load_json(text, len, err);
	if (!root)
		return err && err->code ? err->code : WD_EINVAL;

	version_value = json_object_get(root, "lockfileVersion");
	WD_ENSURE(version_value, wd_error_set(err, WD_EINVAL, "missing lockfileVersion"));
	WD_ENSURE(json_is_integer(version_value), wd_error_set(err, WD_EINVAL,
		"lockfileVersion is not an integer"));
	version = json_integer_value(version_value);
	WD_ENSURE(version >= 1 && version <= 3, wd_error_set(err, WD_EUNSUPPORTED,
		"unsupported lockfileVersion %lld: expected 1, 2 or 3", (long long)version));

	/* Version 2 also carries the version 1 tree for older npm, so the
	 * complete "packages" map is read. */
	if (version >= 2 && json_object_get(root, "packages"))
		WD_GUARD(add_packages_map(catalog, json_object_get(root, "packages"), location, err));
	else
		WD_GUARD(add_dependency_tree(catalog, json_object_get(root, "dependencies"),
			location, 0, err));
	unique_packages(catalog, before);
out:
	if (rc < 0)
		drop_packages(catalog, before);
	json_decref(root);
	return rc;
}

int npm_package_json_parse(const char *text, size_t len, struct sbom_package *ret_pkg,
	struct wd_error *err)
{
	struct sbom_package pkg = { 0 };
	const char *name, *version;
	bool bad = false;
	json_t *root;
	int rc = 0;

	*ret_pkg = (struct sbom_package){ 0 };
	if (len > SBOM_MAX_NPM_PACKAGE_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "package.json is longer than %u bytes",
			SBOM_MAX_NPM_PACKAGE_BYTES);
	root = load_json(text, len, err);
	if (!root)
		return err && err->code ? err->code : WD_EINVAL;

	name = get_string(root, "name", &bad);
	version = get_string(root, "version", &bad);
	WD_ENSURE(!bad, wd_error_set(err, WD_EINVAL, "\"name\" or \"version\" is not a string"));
	WD_ENSURE(name && name[0], wd_error_set(err, WD_EINVAL, "missing name"));
	WD_ENSURE(version && version[0], wd_error_set(err, WD_EINVAL, "missing version for %.64s",
		name));
	WD_GUARD(fill_package(&pkg, name, version, root, err));
	*ret_pkg = pkg;
	pkg = (struct sbom_package){ 0 };
out:
	sbom_package_free(&pkg);
	json_decref(root);
	return rc;
}

/* The directory a lock file is in, relative to the root ("" for the root). */
static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path) : 0;
}

/* True when path is inside <dir>/node_modules/ for the directory of some
 * lock file that parsed. */
static bool covered_by_lock(const char *path, const char *const *lock_paths, size_t lock_count)
{
	for (size_t i = 0; i < lock_count; i++) {
		size_t len = dir_len(lock_paths[i]);

		if (strncmp(path, lock_paths[i], len) == 0 &&
		    strncmp(path + len, "/node_modules/", strlen("/node_modules/")) == 0)
			return true;
	}
	return false;
}

static int warn(struct sbom_catalog *catalog, const char *path, const char *detail,
	struct wd_error *err)
{
	if (sbom_catalog_warn(catalog, "%s: %s", path, detail) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* Parses one lock file into a catalog of its own first, so that a
 * malformed lock becomes a warning while a full catalog stops the run. */
static int catalog_lock(const struct sbom_files *files, const char *path,
	struct sbom_catalog *catalog, bool *ret_parsed, struct wd_error *err)
{
	struct wd_error file_err = { 0 };
	struct sbom_catalog parsed;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	*ret_parsed = false;
	sbom_catalog_init(&parsed, catalog->max);
	rc = sbom_read_beneath(files->root_fd, path, SBOM_MAX_NPM_LOCK_BYTES, &data, &len,
		&file_err);
	if (rc == 0)
		rc = npm_lock_parse((const char *)data, len, path, &parsed, &file_err);
	free(data);

	if (rc == WD_ENOMEM) {
		rc = wd_error_set(err, rc, "%s: %s", path, file_err.detail);
	} else if (rc < 0) {
		rc = warn(catalog, path, file_err.detail, err);
	} else {
		for (size_t i = 0; i < parsed.count && rc == 0; i++)
			rc = sbom_catalog_add(catalog, &parsed.packages[i], err);
		*ret_parsed = rc == 0;
	}
	sbom_catalog_free(&parsed);
	return rc;
}

static int catalog_package_json(const struct sbom_files *files, const char *path,
	struct sbom_catalog *catalog, struct wd_error *err)
{
	struct wd_error file_err = { 0 };
	struct sbom_package pkg = { 0 };
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	rc = sbom_read_beneath(files->root_fd, path, SBOM_MAX_NPM_PACKAGE_BYTES, &data, &len,
		&file_err);
	if (rc == 0)
		rc = npm_package_json_parse((const char *)data, len, &pkg, &file_err);
	free(data);
	if (rc == WD_ENOMEM)
		return wd_error_set(err, rc, "%s: %s", path, file_err.detail);
	if (rc < 0)
		return warn(catalog, path, file_err.detail, err);

	pkg.location = strdup(path);
	if (!pkg.location)
		rc = wd_error_set(err, WD_ENOMEM, "out of memory");
	else
		rc = sbom_catalog_add(catalog, &pkg, err);
	sbom_package_free(&pkg);
	return rc;
}

int npm_catalog_root(const char *root, struct sbom_catalog *catalog, struct wd_error *err)
{
	const struct sbom_files *files;
	const char **lock_paths = NULL;
	size_t lock_count = 0;
	int rc = 0;

	WD_TRY(sbom_catalog_files(root, catalog, &files, err));
	lock_paths = calloc(files->count ? files->count : 1, sizeof(*lock_paths));
	if (!lock_paths)
		return wd_error_set(err, WD_ENOMEM, "out of memory");

	for (size_t i = 0; i < files->count; i++) {
		bool parsed = false;

		if (files->items[i].kind != SBOM_FILE_NPM_LOCK)
			continue;
		WD_GUARD(catalog_lock(files, files->items[i].path, catalog, &parsed, err));
		if (parsed)
			lock_paths[lock_count++] = files->items[i].path;
	}
	for (size_t i = 0; i < files->count; i++) {
		const char *path = files->items[i].path;

		if (files->items[i].kind != SBOM_FILE_NPM_PACKAGE ||
		    covered_by_lock(path, lock_paths, lock_count))
			continue;
		WD_GUARD(catalog_package_json(files, path, catalog, err));
	}
out:
	free(lock_paths);
	return rc;
}
