/* Installed Python distributions: the core metadata in *.dist-info/METADATA
 * (wheels), *.egg-info/PKG-INFO and EGG-INFO/PKG-INFO (setuptools eggs) and
 * *.egg-info files (distutils). The format is an RFC 822 header block
 * ("Field: value" lines, continuation lines starting with white space)
 * ended by a blank line, after which the description follows. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "supply/catalog_lang.h"
#include "supply/purl.h"
#include "supply/sbom_files.h"

/* A License value longer than this, or spread over several lines, is the
 * license text itself rather than its name, and is not recorded. */
#define LICENSE_NAME_MAX 512

struct metadata {
	char *name;
	char *version;
	char *license;
	char *license_expression;
	char *author;
	char *author_email;
	bool license_is_text;  /* License had continuation lines */
	char **current;        /* the kept field the last line belonged to, or NULL */
	bool in_field;         /* a field line has been read */
};

struct field_slot {
	const char *name;
	size_t offset;
	bool unique;  /* a second occurrence is an error, not ignored */
};

#define SLOT(field, member, unique) { field, offsetof(struct metadata, member), unique }

static const struct field_slot field_slots[] = {
	SLOT("Name", name, true),
	SLOT("Version", version, true),
	SLOT("License", license, false),
	SLOT("License-Expression", license_expression, false),
	SLOT("Author", author, false),
	SLOT("Author-email", author_email, false),
};

static void metadata_free(struct metadata *meta)
{
	free(meta->name);
	free(meta->version);
	free(meta->license);
	free(meta->license_expression);
	free(meta->author);
	free(meta->author_email);
	*meta = (struct metadata){ 0 };
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const struct field_slot *find_slot(const char *name, size_t len)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(field_slots); i++) {
		if (strlen(field_slots[i].name) == len &&
		    strncasecmp(field_slots[i].name, name, len) == 0)
			return &field_slots[i];
	}
	return NULL;
}

static void trim(const char **text, size_t *len)
{
	while (*len > 0 && is_blank(**text)) {
		(*text)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*text)[*len - 1]))
		(*len)--;
}

/* Appends a continuation line to the field the previous line started,
 * joined by one space, as RFC 822 unfolding does. */
static int continue_field(struct metadata *meta, const char *line, size_t len, size_t line_no,
	struct wd_error *err)
{
	char *joined;

	if (!meta->in_field)
		return wd_error_set(err, WD_EINVAL, "line %zu: continuation line outside a field",
			line_no);
	if (!meta->current)
		return 0;
	if (meta->current == &meta->license)
		meta->license_is_text = true;

	trim(&line, &len);
	if (len == 0)
		return 0;
	if (strlen(*meta->current) + 1 + len > SBOM_MAX_FIELD_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "line %zu: field is longer than %u bytes",
			line_no, SBOM_MAX_FIELD_BYTES);
	if (asprintf(&joined, "%s%s%.*s", *meta->current, **meta->current ? " " : "", (int)len,
		    line) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	free(*meta->current);
	*meta->current = joined;
	return 0;
}

static int start_field(struct metadata *meta, const char *line, size_t len, size_t line_no,
	struct wd_error *err)
{
	const char *colon = memchr(line, ':', len);
	const struct field_slot *slot;
	const char *value;
	size_t value_len;
	char **target;

	if (!colon || colon == line)
		return wd_error_set(err, WD_EINVAL, "line %zu: expected \"Field: value\"", line_no);
	meta->in_field = true;
	meta->current = NULL;
	slot = find_slot(line, (size_t)(colon - line));
	if (!slot)
		return 0;

	target = (char **)((char *)meta + slot->offset);
	if (*target) {
		if (slot->unique)
			return wd_error_set(err, WD_EINVAL, "line %zu: duplicate field %s", line_no,
				slot->name);
		return 0;  /* the first occurrence wins */
	}
	value = colon + 1;
	value_len = len - (size_t)(value - line);
	trim(&value, &value_len);
	if (value_len > SBOM_MAX_FIELD_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "line %zu: field %s is longer than %u bytes",
			line_no, slot->name, SBOM_MAX_FIELD_BYTES);
	*target = strndup(value, value_len);
	if (!*target)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	meta->current = target;
	return 0;
}

/* Reads the header block into meta, stopping at the blank line that ends it. */
static int read_headers(const char *text, size_t len, struct metadata *meta,
	struct wd_error *err)
{
	size_t pos = 0, line_no = 0;

	while (pos < len) {
		const char *line = text + pos;
		const char *newline = memchr(line, '\n', len - pos);
		size_t line_len = newline ? (size_t)(newline - line) : len - pos;
		bool blank = true;

		pos += line_len + (newline ? 1 : 0);
		line_no++;
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		for (size_t i = 0; i < line_len; i++)
			blank = blank && is_blank(line[i]);

		if (blank) {
			if (meta->in_field)
				break;  /* the description follows */
		} else if (is_blank(line[0])) {
			WD_TRY(continue_field(meta, line, line_len, line_no, err));
		} else {
			WD_TRY(start_field(meta, line, line_len, line_no, err));
		}
	}
	return 0;
}

/* True for a value that sets nothing: empty, or "UNKNOWN", which distutils
 * writes for a field that setup() was not given. */
static bool is_unset(const char *value)
{
	return !value || !value[0] || strcmp(value, "UNKNOWN") == 0;
}

static const char *pick_license(const struct metadata *meta)
{
	if (!is_unset(meta->license_expression))
		return meta->license_expression;
	if (is_unset(meta->license) || meta->license_is_text ||
	    strlen(meta->license) > LICENSE_NAME_MAX)
		return NULL;
	return meta->license;
}

int python_normalize_name(const char *name, char *ret_name, size_t size, struct wd_error *err)
{
	size_t len = 0;
	bool in_separator = false;

	for (const char *p = name; *p; p++) {
		bool separator = *p == '-' || *p == '_' || *p == '.';

		if (separator && in_separator)
			continue;
		if (len + 1 >= size) {
			if (size > 0)
				ret_name[0] = '\0';
			return wd_error_set(err, WD_ETOOBIG, "Python name %.64s is too long", name);
		}
		ret_name[len++] = separator ? '-' : (char)tolower((unsigned char)*p);
		in_separator = separator;
	}
	ret_name[len] = '\0';
	return 0;
}

static int dup_optional(const char *value, char **ret_copy, struct wd_error *err)
{
	*ret_copy = NULL;
	if (!value)
		return 0;
	*ret_copy = strdup(value);
	if (!*ret_copy)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

int python_metadata_parse(const char *text, size_t len, struct sbom_package *ret_pkg,
	struct wd_error *err)
{
	struct metadata meta = { 0 };
	struct sbom_package pkg = { .type = SBOM_TYPE_PYTHON };
	char normalized[SBOM_MAX_FIELD_BYTES + 1];
	const char *author;
	int rc = 0;

	*ret_pkg = (struct sbom_package){ 0 };
	if (len > SBOM_MAX_PYTHON_METADATA_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "metadata is longer than %u bytes",
			SBOM_MAX_PYTHON_METADATA_BYTES);
	if (len > 0 && memchr(text, '\0', len))
		return wd_error_set(err, WD_EINVAL, "metadata contains a NUL byte");

	WD_GUARD(read_headers(text, len, &meta, err));
	WD_ENSURE(!is_unset(meta.name), wd_error_set(err, WD_EINVAL, "missing Name"));
	WD_ENSURE(!is_unset(meta.version), wd_error_set(err, WD_EINVAL,
		"missing Version for %.64s", meta.name));

	WD_GUARD(python_normalize_name(meta.name, normalized, sizeof(normalized), err));
	struct purl_parts parts = { .type = "pypi", .name = normalized, .version = meta.version };
	WD_GUARD(purl_build(&parts, &pkg.purl, err));

	author = !is_unset(meta.author) ? meta.author :
		 !is_unset(meta.author_email) ? meta.author_email : NULL;
	WD_GUARD(dup_optional(author, &pkg.maintainer, err));
	WD_GUARD(dup_optional(pick_license(&meta), &pkg.license, err));
	pkg.name = WD_TAKE_PTR(meta.name);
	pkg.version = WD_TAKE_PTR(meta.version);
	*ret_pkg = pkg;
	pkg = (struct sbom_package){ 0 };
out:
	sbom_package_free(&pkg);
	metadata_free(&meta);
	return rc;
}

/* Reads and parses one metadata file. A file that is gone, unreadable or
 * malformed becomes a warning. */
static int catalog_metadata_file(const struct sbom_files *files, const char *path,
	struct sbom_catalog *catalog, struct wd_error *err)
{
	struct wd_error file_err = { 0 };
	struct sbom_package pkg = { 0 };
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	rc = sbom_read_beneath(files->root_fd, path, SBOM_MAX_PYTHON_METADATA_BYTES, &data, &len,
		&file_err);
	if (rc == WD_ENOTFOUND)
		return 0;  /* a *.dist-info directory without METADATA is not a distribution */
	if (rc == 0)
		rc = python_metadata_parse((const char *)data, len, &pkg, &file_err);
	free(data);
	if (rc == WD_ENOMEM)
		return wd_error_set(err, rc, "%s", file_err.detail);
	if (rc < 0) {
		if (sbom_catalog_warn(catalog, "%s: %s", path, file_err.detail) < 0)
			return wd_error_set(err, WD_ENOMEM, "out of memory");
		return 0;
	}

	pkg.location = strdup(path);
	if (!pkg.location) {
		sbom_package_free(&pkg);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	rc = sbom_catalog_add(catalog, &pkg, err);
	sbom_package_free(&pkg);
	return rc;
}

int python_catalog_root(const char *root, struct sbom_catalog *catalog, struct wd_error *err)
{
	const struct sbom_files *files;

	WD_TRY(sbom_catalog_files(root, catalog, &files, err));
	for (size_t i = 0; i < files->count; i++) {
		if (files->items[i].kind == SBOM_FILE_PYTHON_METADATA)
			WD_TRY(catalog_metadata_file(files, files->items[i].path, catalog, err));
	}
	return 0;
}
