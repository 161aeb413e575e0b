/* The apk installed database, lib/apk/db/installed, in the format that
 * apk-tools' database.c reads and writes. It has one record per installed
 * package, records are separated by blank lines, and each line is a
 * one-letter field, ':' and the value. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "supply/catalog_os.h"

#define APK_INSTALLED_PATH "/lib/apk/db/installed"

/* An installed size has at most 20 digits, the length of 2^64 - 1. */
#define APK_MAX_SIZE_DIGITS 20

/* The fields of one record that the catalog keeps. */
struct record {
	struct sbom_package pkg;
	bool seen;    /* a field line has been read */
	size_t line;  /* first line, for errors */
};

/* A field the catalog keeps and where its value goes. Every other field
 * (T description, D depends, F/R file lists, checksums...) is skipped. */
struct field_slot {
	char field;
	size_t offset;
};

#define SLOT(field, member) { field, offsetof(struct record, member) }

static const struct field_slot field_slots[] = {
	SLOT('P', pkg.name),
	SLOT('V', pkg.version),
	SLOT('A', pkg.arch),
	SLOT('o', pkg.source),
	SLOT('m', pkg.maintainer),
	SLOT('L', pkg.license),
	SLOT('I', pkg.installed_size),
};

static char **record_slot(struct record *record, char field)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(field_slots); i++) {
		if (field_slots[i].field == field)
			return (char **)((char *)record + field_slots[i].offset);
	}
	return NULL;
}

static bool is_decimal(const char *text)
{
	if (!text[0])
		return false;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
	}
	return true;
}

/* Adds the record's package to catalog; frees the record. */
static int record_finish(struct record *record, struct sbom_catalog *catalog,
	struct wd_error *err)
{
	struct sbom_package *pkg = &record->pkg;
	int rc = 0;

	if (!record->seen)
		goto out;
	if (!pkg->name || !pkg->version) {
		rc = wd_error_set(err, WD_EINVAL, "line %zu: package without %s", record->line,
			pkg->name ? "version (V:)" : "name (P:)");
		goto out;
	}

	/* Syft writes upstream=<origin> only when the origin (source package)
	 * differs from the package name. */
	if (pkg->source && strcmp(pkg->source, pkg->name) == 0) {
		free(pkg->source);
		pkg->source = NULL;
	}
	pkg->type = SBOM_TYPE_APK;
	WD_GUARD(sbom_catalog_add(catalog, pkg, err));
out:
	sbom_package_free(pkg);
	*record = (struct record){ 0 };
	return rc;
}

/* Stores the value of an "X:value" line in its slot, if kept. The value is
 * the rest of the line, unchanged, as apk-tools reads it. */
static int record_field(struct record *record, const char *line, size_t len, size_t line_no,
	struct wd_error *err)
{
	const char *value;
	size_t value_len;
	char **slot;

	if (len < 2 || line[1] != ':')
		return wd_error_set(err, WD_EINVAL, "line %zu: expected \"X:value\", got \"%.*s\"",
			line_no, (int)(len < 32 ? len : 32), line);
	value = line + 2;
	value_len = len - 2;
	if (!record->seen) {
		record->seen = true;
		record->line = line_no;
	}

	slot = record_slot(record, line[0]);
	if (!slot)
		return 0;
	/* An empty value sets nothing, as Syft reads it. */
	if (value_len == 0)
		return 0;
	if (*slot)
		return wd_error_set(err, WD_EINVAL, "line %zu: duplicate field %c", line_no, line[0]);
	if (value_len > SBOM_MAX_FIELD_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "line %zu: field %c is longer than %u bytes",
			line_no, line[0], SBOM_MAX_FIELD_BYTES);

	*slot = strndup(value, value_len);
	if (!*slot)
		return wd_error_set(err, WD_ENOMEM, "out of memory");

	/* I is the installed size in bytes, which apk-tools reads as an
	 * unsigned decimal (apk_blob_pull_uint). */
	if (line[0] == 'I' && (value_len > APK_MAX_SIZE_DIGITS || !is_decimal(*slot)))
		return wd_error_set(err, WD_EINVAL, "line %zu: invalid installed size \"%.32s\"",
			line_no, *slot);
	return 0;
}

int apk_installed_parse(const char *text, size_t len, struct sbom_catalog *catalog,
	struct wd_error *err)
{
	struct record record = { 0 };
	size_t pos = 0, line_no = 0;
	int rc = 0;

	if (len > SBOM_MAX_STATUS_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "installed database is longer than %u bytes",
			SBOM_MAX_STATUS_BYTES);
	if (len > 0 && memchr(text, '\0', len))
		return wd_error_set(err, WD_EINVAL, "installed database contains a NUL byte");

	while (pos < len) {
		const char *line = text + pos;
		const char *newline = memchr(line, '\n', len - pos);
		size_t line_len = newline ? (size_t)(newline - line) : len - pos;

		pos += line_len + (newline ? 1 : 0);
		line_no++;
		/* apk-tools writes "\n" line ends; a file edited elsewhere may
		 * carry "\r\n", which reads the same. */
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;

		if (line_len == 0)
			WD_GUARD(record_finish(&record, catalog, err));
		else
			WD_GUARD(record_field(&record, line, line_len, line_no, err));
	}
	rc = record_finish(&record, catalog, err);
out:
	sbom_package_free(&record.pkg);
	return rc;
}

int apk_catalog_root(const char *root, struct sbom_catalog *catalog, struct wd_error *err)
{
	char path[4096];
	uint8_t *data = NULL;
	size_t len = 0, before = catalog->count;
	int rc;

	if (snprintf(path, sizeof(path), "%s%s", root, APK_INSTALLED_PATH) >= (int)sizeof(path))
		return wd_error_set(err, WD_EINVAL, "path too long: %.64s...", root);
	rc = wd_file_read(path, SBOM_MAX_STATUS_BYTES, &data, &len, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;

	rc = apk_installed_parse((const char *)data, len, catalog, err);
	free(data);
	if (rc < 0) {
		char detail[sizeof(err->detail)];

		if (!err)
			return rc;
		snprintf(detail, sizeof(detail), "%s", err->detail);
		return wd_error_set(err, rc, "%s: %s", path, detail);
	}
	return sbom_catalog_set_location(catalog, before, APK_INSTALLED_PATH, err);
}
