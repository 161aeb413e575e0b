/* The dpkg package database: var/lib/dpkg/status and the per-package files
 * of var/lib/dpkg/status.d that distroless images ship instead. Both are
 * deb822 stanzas (deb-control(5)): "Field: value" lines, continuation lines
 * that start with a space or tab, and blank lines between stanzas. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/file.h"
#include "supply/sbom.h"

/* The fields of one stanza that the catalog keeps. */
struct stanza {
	struct sbom_package pkg;
	char *status;
	char *source_field;
	bool seen;      /* a field line has been read */
	size_t line;    /* first line, for errors */
};

/* A field the catalog keeps and where its value goes. */
struct field_slot {
	const char *name;
	size_t offset;
};

#define SLOT(field, member) { field, offsetof(struct stanza, member) }

static const struct field_slot field_slots[] = {
	SLOT("Package", pkg.name),
	SLOT("Version", pkg.version),
	SLOT("Architecture", pkg.arch),
	SLOT("Maintainer", pkg.maintainer),
	SLOT("Installed-Size", pkg.installed_size),
	SLOT("Source", source_field),
	SLOT("Status", status),
};

static void stanza_free(struct stanza *stanza)
{
	sbom_package_free(&stanza->pkg);
	free(stanza->status);
	free(stanza->source_field);
	*stanza = (struct stanza){ 0 };
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Returns the slot of a field name, or NULL for a field the catalog does
 * not keep. Names match without regard to case, as dpkg reads them. */
static char **stanza_slot(struct stanza *stanza, const char *name, size_t name_len)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(field_slots); i++) {
		if (strlen(field_slots[i].name) == name_len &&
		    strncasecmp(field_slots[i].name, name, name_len) == 0)
			return (char **)((char *)stanza + field_slots[i].offset);
	}
	return NULL;
}

/* Splits "name (version)" into the source name and version. */
static int split_source(struct stanza *stanza, struct wd_error *err)
{
	const char *text = stanza->source_field;
	const char *open = strchr(text, '(');
	size_t name_len = open ? (size_t)(open - text) : strlen(text);

	while (name_len > 0 && is_blank(text[name_len - 1]))
		name_len--;
	if (name_len == 0)
		return wd_error_set(err, WD_EINVAL, "line %zu: empty Source name", stanza->line);

	if (open) {
		const char *close = strchr(open, ')');
		const char *start = open + 1;
		size_t version_len;

		if (!close || close[1] != '\0')
			return wd_error_set(err, WD_EINVAL,
				"line %zu: invalid Source \"%.64s\": expected \"name (version)\"",
				stanza->line, text);
		while (start < close && is_blank(*start))
			start++;
		version_len = (size_t)(close - start);
		while (version_len > 0 && is_blank(start[version_len - 1]))
			version_len--;
		if (version_len == 0)
			return wd_error_set(err, WD_EINVAL, "line %zu: empty Source version",
				stanza->line);
		stanza->pkg.source_version = strndup(start, version_len);
		if (!stanza->pkg.source_version)
			return wd_error_set(err, WD_ENOMEM, "out of memory");
	}

	stanza->pkg.source = strndup(text, name_len);
	if (!stanza->pkg.source)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* Adds the stanza's package when it is installed; frees the stanza. */
static int stanza_finish(struct stanza *stanza, bool require_status,
	struct sbom_catalog *catalog, struct wd_error *err)
{
	int rc = 0;

	if (!stanza->seen)
		goto out;

	/* Only "install ok installed" packages are on disk. Removed packages
	 * with their configuration kept ("deinstall ok config-files") and
	 * half-installed ones are not. */
	if (stanza->status ? strcmp(stanza->status, "install ok installed") != 0 : require_status)
		goto out;

	if (!stanza->pkg.name || !stanza->pkg.version) {
		rc = wd_error_set(err, WD_EINVAL, "line %zu: package without %s", stanza->line,
			stanza->pkg.name ? "Version" : "Package");
		goto out;
	}
	if (stanza->source_field)
		WD_GUARD(split_source(stanza, err));

	/* A Source equal to the package name without a version adds nothing. */
	if (stanza->pkg.source && !stanza->pkg.source_version &&
	    strcmp(stanza->pkg.source, stanza->pkg.name) == 0) {
		free(stanza->pkg.source);
		stanza->pkg.source = NULL;
	}
	WD_GUARD(sbom_catalog_add(catalog, &stanza->pkg, err));
out:
	stanza_free(stanza);
	return rc;
}

/* Stores the value of a "Field: value" line in its slot, if kept. */
static int stanza_field(struct stanza *stanza, const char *line, size_t len, size_t line_no,
	struct wd_error *err)
{
	const char *colon = memchr(line, ':', len);
	const char *value;
	size_t value_len;
	char **slot;

	if (!colon || colon == line)
		return wd_error_set(err, WD_EINVAL, "line %zu: expected \"Field: value\"", line_no);
	if (!stanza->seen) {
		stanza->seen = true;
		stanza->line = line_no;
	}

	slot = stanza_slot(stanza, line, (size_t)(colon - line));
	if (!slot)
		return 0;
	if (*slot)
		return wd_error_set(err, WD_EINVAL, "line %zu: duplicate field %.*s", line_no,
			(int)(colon - line), line);

	value = colon + 1;
	value_len = len - (size_t)(value - line);
	while (value_len > 0 && is_blank(*value)) {
		value++;
		value_len--;
	}
	while (value_len > 0 && is_blank(value[value_len - 1]))
		value_len--;
	if (value_len > SBOM_MAX_FIELD_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "line %zu: field %.*s is longer than %u bytes",
			line_no, (int)(colon - line), line, SBOM_MAX_FIELD_BYTES);

	*slot = strndup(value, value_len);
	if (!*slot)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

int dpkg_status_parse(const char *text, size_t len, int require_status,
	struct sbom_catalog *catalog, struct wd_error *err)
{
	struct stanza stanza = { 0 };
	size_t pos = 0, line_no = 0;
	int rc = 0;

	if (len > SBOM_MAX_STATUS_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "status file is longer than %u bytes",
			SBOM_MAX_STATUS_BYTES);
	if (len > 0 && memchr(text, '\0', len))
		return wd_error_set(err, WD_EINVAL, "status file contains a NUL byte");

	while (pos < len) {
		const char *line = text + pos;
		const char *newline = memchr(line, '\n', len - pos);
		size_t line_len = newline ? (size_t)(newline - line) : len - pos;
		size_t content = line_len;

		pos += line_len + (newline ? 1 : 0);
		line_no++;
		if (content > 0 && line[content - 1] == '\r')
			content--;

		bool blank = true;
		for (size_t i = 0; i < content; i++)
			blank = blank && is_blank(line[i]);

		if (blank) {
			WD_GUARD(stanza_finish(&stanza, require_status, catalog, err));
		} else if (is_blank(line[0])) {
			/* A continuation line belongs to a multi-line field such as
			 * Description or Conffiles, none of which the catalog keeps. */
			WD_ENSURE(stanza.seen, wd_error_set(err, WD_EINVAL,
				"line %zu: continuation line outside a field", line_no));
		} else {
			WD_GUARD(stanza_field(&stanza, line, content, line_no, err));
		}
	}
	rc = stanza_finish(&stanza, require_status, catalog, err);
out:
	stanza_free(&stanza);
	return rc;
}

static int parse_file(const char *path, bool require_status, bool optional,
	struct sbom_catalog *catalog, struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	rc = wd_file_read(path, SBOM_MAX_STATUS_BYTES, &data, &len, err);
	if (rc == WD_ENOTFOUND && optional) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;

	rc = dpkg_status_parse((const char *)data, len, require_status, catalog, err);
	if (rc < 0 && err) {
		char detail[sizeof(err->detail)];

		snprintf(detail, sizeof(detail), "%s", err->detail);
		wd_error_set(err, rc, "%s: %s", path, detail);
	}
	free(data);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n >= s && strcmp(name + n - s, suffix) == 0;
}

/* Lists the package files of status.d in name order, so the catalog does
 * not depend on readdir's order. */
static int list_status_d(const char *dir_path, char ***ret_names, size_t *ret_count,
	struct wd_error *err)
{
	char **names = NULL;
	size_t count = 0, cap = 0;
	DIR *dir;
	struct dirent *entry;
	int rc = 0;

	*ret_names = NULL;
	*ret_count = 0;
	dir = opendir(dir_path);
	if (!dir) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return wd_error_set(err, WD_EIO, "%s: %s", dir_path, strerror(errno));
	}

	while ((entry = readdir(dir))) {
		/* Distroless images keep each package's file checksums beside its
		 * stanza, in <package>.md5sums, which is not a stanza. */
		if (entry->d_name[0] == '.' || has_suffix(entry->d_name, ".md5sums"))
			continue;
		WD_ENSURE(count < SBOM_MAX_STATUS_D_FILES, wd_error_set(err, WD_ETOOBIG,
			"%s: more than %d files", dir_path, SBOM_MAX_STATUS_D_FILES));
		if (count == cap) {
			size_t grown_cap = cap ? cap * 2 : 32;
			char **grown = reallocarray(names, grown_cap, sizeof(*names));

			WD_ENSURE(grown, wd_error_set(err, WD_ENOMEM, "out of memory"));
			names = grown;
			cap = grown_cap;
		}
		names[count] = strdup(entry->d_name);
		WD_ENSURE(names[count], wd_error_set(err, WD_ENOMEM, "out of memory"));
		count++;
	}
	if (count > 1)
		qsort(names, count, sizeof(*names), compare_names);

	*ret_names = WD_TAKE_PTR(names);
	*ret_count = count;
out:
	for (size_t i = 0; names && i < count; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return rc;
}

int dpkg_catalog_root(const char *root, struct sbom_catalog *catalog, struct wd_error *err)
{
	char path[4096];
	char **names = NULL;
	size_t count = 0, before;
	int rc;

	if (snprintf(path, sizeof(path), "%s/var/lib/dpkg/status", root) >= (int)sizeof(path))
		return wd_error_set(err, WD_EINVAL, "path too long: %.64s...", root);
	before = catalog->count;
	WD_TRY(parse_file(path, true, true, catalog, err));
	WD_TRY(sbom_catalog_set_location(catalog, before, "/var/lib/dpkg/status", err));

	snprintf(path, sizeof(path), "%s/var/lib/dpkg/status.d", root);
	WD_TRY(list_status_d(path, &names, &count, err));

	rc = 0;
	for (size_t i = 0; i < count; i++) {
		char file[4096 + 256];
		struct stat st;

		snprintf(file, sizeof(file), "%s/%s", path, names[i]);
		before = catalog->count;
		if (rc == 0 && stat(file, &st) == 0 && S_ISREG(st.st_mode))
			rc = parse_file(file, false, false, catalog, err);
		if (rc == 0)
			rc = sbom_catalog_set_location(catalog, before,
				file + strlen(root), err);
		free(names[i]);
	}
	free(names);
	return rc;
}
