/* Unit tests of the rpm header blob parser, the SQLite rpmdb reader, the
 * rpm root cataloger and the rpm purls. The headers are built here the way
 * rpm lays them out: a region tag in entry 0, the data of each entry at its
 * type's alignment, the region trailer, then entries outside the region. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "supply/catalog_os.h"

enum {
	TYPE_INT16 = 3,
	TYPE_INT32 = 4,
	TYPE_INT64 = 5,
	TYPE_STRING = 6,
	TYPE_BIN = 7,
	TYPE_STRING_ARRAY = 8,
	TYPE_I18NSTRING = 9,
	TAG_REGION = 63,
	TAG_NAME = 1000,
	TAG_VERSION = 1001,
	TAG_RELEASE = 1002,
	TAG_EPOCH = 1003,
	TAG_INSTALLTIME = 1008,
	TAG_SIZE = 1009,
	TAG_VENDOR = 1011,
	TAG_LICENSE = 1014,
	TAG_ARCH = 1022,
	TAG_SOURCERPM = 1044,
	TAG_LONGSIZE = 5009,
};

struct builder {
	uint8_t index[64][16];
	uint8_t data[4096];
	uint32_t il;
	uint32_t dl;
	bool region;
	uint8_t blob[8 + 64 * 16 + 4096];
	size_t len;
};

static void put_u32(uint8_t *p, uint32_t value)
{
	p[0] = (uint8_t)(value >> 24);
	p[1] = (uint8_t)(value >> 16);
	p[2] = (uint8_t)(value >> 8);
	p[3] = (uint8_t)value;
}

static void put_entry(uint8_t *p, int32_t tag, uint32_t type, int32_t offset, uint32_t count)
{
	put_u32(p, (uint32_t)tag);
	put_u32(p + 4, type);
	put_u32(p + 8, (uint32_t)offset);
	put_u32(p + 12, count);
}

/* Starts a header; with region, entry 0 is kept for the region tag. */
static void builder_start(struct builder *b, bool region)
{
	memset(b, 0, sizeof(*b));
	b->region = region;
	b->il = region ? 1 : 0;
}

static void builder_add(struct builder *b, int32_t tag, uint32_t type, uint32_t count,
	const void *data, size_t len, size_t align)
{
	while (b->dl % align)
		b->data[b->dl++] = 0;
	put_entry(b->index[b->il++], tag, type, (int32_t)b->dl, count);
	memcpy(b->data + b->dl, data, len);
	b->dl += (uint32_t)len;
}

static void add_string(struct builder *b, int32_t tag, const char *text)
{
	builder_add(b, tag, TYPE_STRING, 1, text, strlen(text) + 1, 1);
}

static void add_int32(struct builder *b, int32_t tag, uint32_t value)
{
	uint8_t bytes[4];

	put_u32(bytes, value);
	builder_add(b, tag, TYPE_INT32, 1, bytes, sizeof(bytes), 4);
}

/* Writes the region trailer: the entries added so far form the region. */
static void builder_close_region(struct builder *b)
{
	put_entry(b->index[0], TAG_REGION, TYPE_BIN, (int32_t)b->dl, 16);
	put_entry(b->data + b->dl, TAG_REGION, TYPE_BIN, -(int32_t)(b->il * 16), 16);
	b->dl += 16;
}

/* Lays out preamble, index and data in b->blob. */
static void builder_finish(struct builder *b)
{
	put_u32(b->blob, b->il);
	put_u32(b->blob + 4, b->dl);
	memcpy(b->blob + 8, b->index, (size_t)b->il * 16);
	memcpy(b->blob + 8 + (size_t)b->il * 16, b->data, b->dl);
	b->len = 8 + (size_t)b->il * 16 + b->dl;
}

/* The header of bash as Fedora ships it, with the INSTALLTIME rpm adds
 * after the region when it installs the package. Its entries are 1 NAME,
 * 2 VERSION, 3 RELEASE, 4 EPOCH, 5 SIZE, 6 VENDOR, 7 LICENSE, 8 ARCH,
 * 9 SOURCERPM; the region trailer sits at data offset 94 and INSTALLTIME,
 * entry 10, at 112. */
static void build_bash(struct builder *b)
{
	builder_start(b, true);
	add_string(b, TAG_NAME, "bash");
	add_string(b, TAG_VERSION, "5.2.15");
	add_string(b, TAG_RELEASE, "1.fc38");
	add_int32(b, TAG_EPOCH, 1);
	add_int32(b, TAG_SIZE, 7741439);
	add_string(b, TAG_VENDOR, "Fedora Project");
	add_string(b, TAG_LICENSE, "GPL-3.0-or-later");
	add_string(b, TAG_ARCH, "x86_64");
	add_string(b, TAG_SOURCERPM, "bash-5.2.15-1.fc38.src.rpm");
	builder_close_region(b);
	add_int32(b, TAG_INSTALLTIME, 1700000000);
	builder_finish(b);
}

/* Byte i of the blob's index entry n, and of the data store. */
static uint8_t *entry_at(struct builder *b, uint32_t n)
{
	return b->blob + 8 + (size_t)n * 16;
}

static uint8_t *data_at(struct builder *b, uint32_t offset)
{
	return b->blob + 8 + (size_t)b->il * 16 + offset;
}

static void header_parses_fields(void **state)
{
	struct builder b;
	struct sbom_package pkg;
	struct wd_error err = { 0 };

	(void)state;
	build_bash(&b);
	assert_int_equal(b.il, 11);
	assert_int_equal(b.dl, 116);
	assert_int_equal(rpm_header_parse(b.blob, b.len, &pkg, &err), 0);
	assert_int_equal(pkg.type, SBOM_TYPE_RPM);
	assert_string_equal(pkg.name, "bash");
	assert_string_equal(pkg.version, "1:5.2.15-1.fc38");
	assert_string_equal(pkg.arch, "x86_64");
	assert_string_equal(pkg.license, "GPL-3.0-or-later");
	assert_string_equal(pkg.maintainer, "Fedora Project");
	assert_string_equal(pkg.source, "bash-5.2.15-1.fc38.src.rpm");
	assert_string_equal(pkg.installed_size, "7741439");
	assert_null(pkg.source_version);
	assert_null(pkg.location);
	assert_null(pkg.purl);
	sbom_package_free(&pkg);
}

static void header_optional_fields(void **state)
{
	uint8_t longsize[8] = { 0, 0, 0, 1, 0, 0, 0, 2 };
	struct builder b;
	struct sbom_package pkg;
	struct wd_error err = { 0 };

	(void)state;
	/* No region (a legacy header), no epoch, "(none)" for what is unset,
	 * LONGSIZE over SIZE. */
	builder_start(&b, false);
	add_string(&b, TAG_NAME, "tzdata");
	add_string(&b, TAG_VERSION, "2024a");
	add_string(&b, TAG_RELEASE, "1.el9");
	add_int32(&b, TAG_SIZE, 5);
	add_string(&b, TAG_VENDOR, "(none)");
	add_string(&b, TAG_LICENSE, "");
	add_string(&b, TAG_SOURCERPM, "(none)");
	builder_add(&b, TAG_LONGSIZE, TYPE_INT64, 1, longsize, sizeof(longsize), 8);
	builder_finish(&b);
	assert_int_equal(rpm_header_parse(b.blob, b.len, &pkg, &err), 0);
	assert_string_equal(pkg.version, "2024a-1.el9");
	assert_string_equal(pkg.installed_size, "4294967298");
	assert_null(pkg.arch);
	assert_null(pkg.license);
	assert_null(pkg.maintainer);
	assert_null(pkg.source);
	sbom_package_free(&pkg);

	/* An epoch of 0 is written, as Syft writes it when the tag exists. */
	builder_start(&b, true);
	add_string(&b, TAG_NAME, "dbus");
	add_string(&b, TAG_VERSION, "1.14.10");
	add_string(&b, TAG_RELEASE, "1.fc39");
	add_int32(&b, TAG_EPOCH, 0);
	builder_close_region(&b);
	builder_finish(&b);
	assert_int_equal(rpm_header_parse(b.blob, b.len, &pkg, &err), 0);
	assert_string_equal(pkg.version, "0:1.14.10-1.fc39");
	assert_null(pkg.installed_size);
	sbom_package_free(&pkg);
}

static void header_accepts_region_tags(void **state)
{
	static const int32_t tags[] = { 61, 62 };
	struct builder b;
	struct sbom_package pkg;
	struct wd_error err = { 0 };

	(void)state;
	/* HEADERIMAGE and HEADERSIGNATURES regions read as HEADERIMMUTABLE
	 * does, in entry 0 and in the trailer. */
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		build_bash(&b);
		put_u32(entry_at(&b, 0), (uint32_t)tags[i]);
		put_u32(data_at(&b, 94), (uint32_t)tags[i]);
		assert_int_equal(rpm_header_parse(b.blob, b.len, &pkg, &err), 0);
		assert_string_equal(pkg.name, "bash");
		sbom_package_free(&pkg);
	}
}

static void header_later_entry_wins(void **state)
{
	static const char licenses[] = "MIT\0BSD\0";
	struct builder b;
	struct sbom_package pkg;
	struct wd_error err = { 0 };

	(void)state;
	/* An entry after the region replaces the region's, and string tags
	 * take the first string of an array or I18N string. */
	builder_start(&b, true);
	add_string(&b, TAG_NAME, "zlib");
	add_string(&b, TAG_VERSION, "1.2.13");
	add_string(&b, TAG_RELEASE, "3.fc39");
	add_string(&b, TAG_LICENSE, "Zlib");
	builder_add(&b, TAG_VENDOR, TYPE_I18NSTRING, 1, "Fedora", 7, 1);
	builder_close_region(&b);
	builder_add(&b, TAG_LICENSE, TYPE_STRING_ARRAY, 2, licenses, sizeof(licenses) - 1, 1);
	builder_finish(&b);
	assert_int_equal(rpm_header_parse(b.blob, b.len, &pkg, &err), 0);
	assert_string_equal(pkg.license, "MIT");
	assert_string_equal(pkg.maintainer, "Fedora");
	sbom_package_free(&pkg);
}

/* Parses b and checks that it fails with code and detail. */
static void expect_failure(struct builder *b, int code, const char *detail)
{
	struct sbom_package pkg;
	struct wd_error err = { 0 };

	assert_int_equal(rpm_header_parse(b->blob, b->len, &pkg, &err), code);
	assert_string_equal(err.detail, detail);
	assert_null(pkg.name);
	assert_null(pkg.version);
}

static void header_rejects_preamble(void **state)
{
	struct builder b;

	(void)state;
	build_bash(&b);
	b.len = 4;
	expect_failure(&b, WD_EINVAL, "header is 4 bytes, shorter than its 8-byte preamble");

	build_bash(&b);
	b.len--;
	expect_failure(&b, WD_EINVAL, "header is 299 bytes, but its preamble gives 300 "
		"(11 index entries and 116 data bytes)");

	build_bash(&b);
	put_u32(b.blob, 0);
	expect_failure(&b, WD_EINVAL, "header byte 0: no index entries");

	build_bash(&b);
	put_u32(b.blob, 0x10000);
	expect_failure(&b, WD_ETOOBIG, "header byte 0: 65536 index entries, more than 65535");

	build_bash(&b);
	put_u32(b.blob + 4, 0x10000000);
	expect_failure(&b, WD_ETOOBIG, "header byte 4: data store of 268435456 bytes, more "
		"than 268435455");

	/* Counts within their own limits can still give a header over 256 MiB. */
	build_bash(&b);
	put_u32(b.blob, 0xffff);
	put_u32(b.blob + 4, 0x0fffffff);
	expect_failure(&b, WD_ETOOBIG, "header byte 0: preamble gives a 269484023-byte header, "
		"more than 268435455");

	build_bash(&b);
	put_u32(b.blob + 4, 0x0fffffff - 8 - 11 * 16);
	expect_failure(&b, WD_EINVAL, "header is 300 bytes, but its preamble gives 268435455 "
		"(11 index entries and 268435271 data bytes)");
}

static void header_rejects_region(void **state)
{
	struct builder b;

	(void)state;
	build_bash(&b);
	put_u32(entry_at(&b, 0) + 4, TYPE_INT32);
	expect_failure(&b, WD_EINVAL, "header byte 8 (entry 0, tag 63): region tag has type 4 "
		"and count 16, expected BIN and 16");

	build_bash(&b);
	put_u32(entry_at(&b, 0) + 8, 101);
	expect_failure(&b, WD_EINVAL, "header byte 8 (entry 0, tag 63): region trailer at data "
		"offset 101 is outside the 116-byte data store");

	build_bash(&b);
	put_u32(entry_at(&b, 0) + 8, (uint32_t)-16);
	expect_failure(&b, WD_EINVAL, "header byte 8 (entry 0, tag 63): region trailer at data "
		"offset -16 is outside the 116-byte data store");

	build_bash(&b);
	put_u32(data_at(&b, 94), 62);
	expect_failure(&b, WD_EINVAL, "header byte 8 (entry 0, tag 63): invalid region trailer "
		"at data offset 94");

	build_bash(&b);
	put_u32(data_at(&b, 94) + 8, (uint32_t)-24);
	expect_failure(&b, WD_EINVAL, "header byte 8 (entry 0, tag 63): region trailer gives 24 "
		"index bytes for a header of 11 entries");

	build_bash(&b);
	put_u32(data_at(&b, 94) + 8, (uint32_t)-(12 * 16));
	expect_failure(&b, WD_EINVAL, "header byte 8 (entry 0, tag 63): region trailer gives 192 "
		"index bytes for a header of 11 entries");

	/* INT32_MIN has no positive counterpart in 32 bits. */
	build_bash(&b);
	put_u32(data_at(&b, 94) + 8, 0x80000000u);
	expect_failure(&b, WD_EINVAL, "header byte 8 (entry 0, tag 63): region trailer gives "
		"2147483648 index bytes for a header of 11 entries");

	build_bash(&b);
	put_u32(data_at(&b, 94) + 8, 16);
	expect_failure(&b, WD_EINVAL, "header byte 8 (entry 0, tag 63): region trailer gives -16 "
		"index bytes for a header of 11 entries");
}

static void header_rejects_entries(void **state)
{
	struct builder b;

	(void)state;
	build_bash(&b);
	put_u32(entry_at(&b, 1), 99);
	expect_failure(&b, WD_EINVAL, "header byte 24 (entry 1, tag 99): invalid tag");

	/* A region tag anywhere but entry 0 is an invalid tag too. */
	build_bash(&b);
	put_u32(entry_at(&b, 10), TAG_REGION);
	expect_failure(&b, WD_EINVAL, "header byte 168 (entry 10, tag 63): invalid tag");

	build_bash(&b);
	put_u32(entry_at(&b, 2) + 4, 0);
	expect_failure(&b, WD_EINVAL, "header byte 40 (entry 2, tag 1001): invalid type 0");

	build_bash(&b);
	put_u32(entry_at(&b, 2) + 4, 10);
	expect_failure(&b, WD_EINVAL, "header byte 40 (entry 2, tag 1001): invalid type 10");

	build_bash(&b);
	put_u32(entry_at(&b, 10) + 8, 117);
	expect_failure(&b, WD_EINVAL, "header byte 168 (entry 10, tag 1008): data offset 117 is "
		"outside the 116-byte data store");

	build_bash(&b);
	put_u32(entry_at(&b, 1) + 8, (uint32_t)-1);
	expect_failure(&b, WD_EINVAL, "header byte 24 (entry 1, tag 1000): data offset -1 is "
		"outside the 116-byte data store");

	build_bash(&b);
	put_u32(entry_at(&b, 10) + 8, 114);
	expect_failure(&b, WD_EINVAL, "header byte 168 (entry 10, tag 1008): INT32 data offset "
		"114 is not a multiple of 4");

	build_bash(&b);
	put_u32(entry_at(&b, 10) + 4, TYPE_INT16);
	put_u32(entry_at(&b, 10) + 8, 113);
	expect_failure(&b, WD_EINVAL, "header byte 168 (entry 10, tag 1008): INT16 data offset "
		"113 is not a multiple of 2");

	/* VERSION pointing into NAME's data overlaps it. */
	build_bash(&b);
	put_u32(entry_at(&b, 2) + 8, 4);
	expect_failure(&b, WD_EINVAL, "header byte 40 (entry 2, tag 1001): data offset 4 overlaps "
		"the previous entry's data, which ends at 5");

	build_bash(&b);
	put_u32(entry_at(&b, 10) + 12, 2);
	expect_failure(&b, WD_EINVAL, "header byte 168 (entry 10, tag 1008): 2 INT32 values at "
		"data offset 112 run past the 116-byte data store");

	build_bash(&b);
	put_u32(entry_at(&b, 10) + 12, 0x40000001);
	expect_failure(&b, WD_EINVAL, "header byte 168 (entry 10, tag 1008): 1073741825 INT32 "
		"values at data offset 112 run past the 116-byte data store");

	build_bash(&b);
	put_u32(entry_at(&b, 10) + 12, 0);
	expect_failure(&b, WD_EINVAL, "header byte 168 (entry 10, tag 1008): count is 0");

	build_bash(&b);
	put_u32(entry_at(&b, 1) + 12, 2);
	expect_failure(&b, WD_EINVAL, "header byte 24 (entry 1, tag 1000): STRING with count 2, "
		"expected 1");

	/* SOURCERPM's NUL removed: its string runs into the trailer, whose
	 * bytes hold a NUL, so the trailer check catches it. */
	build_bash(&b);
	data_at(&b, 93)[0] = 'x';
	expect_failure(&b, WD_EINVAL, "header byte 152 (entry 9, tag 1044): data at offset 67 "
		"overlaps the region trailer");

	/* A string that runs to the end of the store without a NUL. */
	build_bash(&b);
	put_u32(entry_at(&b, 10) + 4, TYPE_STRING);
	memcpy(data_at(&b, 112), "abcd", 4);
	expect_failure(&b, WD_EINVAL, "header byte 168 (entry 10, tag 1008): string 0 at data "
		"offset 112 has no NUL before the end of the 116-byte data store");

	/* The second string of an array starts where the first ended. */
	build_bash(&b);
	put_u32(entry_at(&b, 10) + 4, TYPE_STRING_ARRAY);
	put_u32(entry_at(&b, 10) + 12, 2);
	memcpy(data_at(&b, 112), "ab\0d", 4);
	expect_failure(&b, WD_EINVAL, "header byte 168 (entry 10, tag 1008): string 1 at data "
		"offset 115 has no NUL before the end of the 116-byte data store");
}

static void header_rejects_values(void **state)
{
	struct builder b;

	(void)state;
	build_bash(&b);
	put_u32(entry_at(&b, 1) + 4, TYPE_BIN);
	expect_failure(&b, WD_EINVAL, "header byte 24 (entry 1, tag 1000): NAME has type BIN, "
		"expected STRING");

	build_bash(&b);
	put_u32(entry_at(&b, 4) + 4, TYPE_STRING);
	expect_failure(&b, WD_EINVAL, "header byte 72 (entry 4, tag 1003): EPOCH has type STRING, "
		"expected INT32");

	build_bash(&b);
	put_u32(entry_at(&b, 1), 1005);
	expect_failure(&b, WD_EINVAL, "header has no NAME (tag 1000)");

	build_bash(&b);
	put_u32(entry_at(&b, 2), 1005);
	expect_failure(&b, WD_EINVAL, "header has no VERSION (tag 1001)");

	build_bash(&b);
	data_at(&b, 12)[0] = '\0';
	expect_failure(&b, WD_EINVAL, "header has no RELEASE (tag 1002)");

	build_bash(&b);
	data_at(&b, 6)[0] = ':';
	expect_failure(&b, WD_EINVAL, "header byte 40 (entry 2, tag 1001): VERSION \"5:2.15\" "
		"contains ':'");

	build_bash(&b);
	data_at(&b, 13)[0] = ':';
	expect_failure(&b, WD_EINVAL, "header byte 56 (entry 3, tag 1002): RELEASE \"1:fc38\" "
		"contains ':'");
}

static void header_enforces_field_ceiling(void **state)
{
	size_t text_len = SBOM_MAX_FIELD_BYTES + 1;
	size_t len = 8 + 16 + text_len + 1;
	uint8_t *blob = calloc(1, len);
	struct sbom_package pkg;
	struct wd_error err = { 0 };

	(void)state;
	assert_non_null(blob);
	put_u32(blob, 1);
	put_u32(blob + 4, (uint32_t)(text_len + 1));
	put_entry(blob + 8, TAG_NAME, TYPE_STRING, 0, 1);
	memset(blob + 24, 'n', text_len);
	assert_int_equal(rpm_header_parse(blob, len, &pkg, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, "header byte 8 (entry 0): NAME is longer than 65536 bytes");
	free(blob);
}

/* Creates an rpmdb at path with the rows (hnum order) and SQL given. */
static void make_rpmdb(const char *path, const char *extra_sql)
{
	struct builder b;
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY "
		"AUTOINCREMENT, blob BLOB NOT NULL)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1,
		&stmt, NULL), SQLITE_OK);

	build_bash(&b);
	assert_int_equal(sqlite3_bind_blob(stmt, 1, b.blob, (int)b.len, SQLITE_TRANSIENT),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	assert_int_equal(sqlite3_reset(stmt), SQLITE_OK);

	/* An imported signing key, which the catalog skips. */
	builder_start(&b, true);
	add_string(&b, TAG_NAME, "gpg-pubkey");
	add_string(&b, TAG_VERSION, "18b8e74c");
	add_string(&b, TAG_RELEASE, "62f2920f");
	builder_close_region(&b);
	builder_finish(&b);
	assert_int_equal(sqlite3_bind_blob(stmt, 1, b.blob, (int)b.len, SQLITE_TRANSIENT),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);

	if (extra_sql)
		assert_int_equal(sqlite3_exec(db, extra_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void remove_tree(const char *dir)
{
	char command[256];

	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	assert_int_equal(system(command), 0);
}

static void sqlite_reads_packages(void **state)
{
	char dir[] = "/tmp/wd-test-rpm-XXXXXX";
	char path[128], shm[160], journal[160], wal[160];
	FILE *file;
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rpmdb.sqlite", dir);
	make_rpmdb(path, NULL);

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(rpm_sqlite_read(path, &catalog, &err), 0);
	assert_int_equal(catalog.count, 1);
	assert_string_equal(catalog.packages[0].name, "bash");
	assert_string_equal(catalog.packages[0].version, "1:5.2.15-1.fc38");
	sbom_catalog_free(&catalog);

	/* Reading created nothing next to the database. */
	snprintf(shm, sizeof(shm), "%s-shm", path);
	snprintf(journal, sizeof(journal), "%s-journal", path);
	assert_int_equal(stat(shm, &st), -1);
	assert_int_equal(stat(journal, &st), -1);

	/* An empty write-ahead log is what rpm leaves; a full one fails. */
	snprintf(wal, sizeof(wal), "%s-wal", path);
	file = fopen(wal, "w");
	assert_non_null(file);
	assert_int_equal(fclose(file), 0);
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(rpm_sqlite_read(path, &catalog, &err), 0);
	assert_int_equal(catalog.count, 1);
	sbom_catalog_free(&catalog);
	assert_int_equal(truncate(wal, 32), 0);
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(rpm_sqlite_read(path, &catalog, &err), WD_EUNSUPPORTED);
	assert_non_null(strstr(err.detail, "rpmdb.sqlite-wal holds 32 bytes of changes not yet "
		"written to the rpm database"));
	assert_int_equal(catalog.count, 0);
	sbom_catalog_free(&catalog);

	remove_tree(dir);
}

static void sqlite_rejects_malformed(void **state)
{
	static const struct {
		const char *sql;  /* run on a database of bash and gpg-pubkey */
		int code;
		const char *detail;  /* after "<path>: " */
	} cases[] = {
		{ "INSERT INTO Packages (blob) VALUES (x'0000000100000010')", WD_EINVAL,
		  "package hnum 3: header is 8 bytes, but its preamble gives 40 (1 index entries "
		  "and 16 data bytes)" },
		{ "INSERT INTO Packages (blob) VALUES ('text')", WD_EINVAL,
		  "package hnum 3: blob is not a BLOB" },
		{ "INSERT INTO Packages (blob) VALUES (x'')", WD_EINVAL,
		  "package hnum 3: header is 0 bytes, shorter than its 8-byte preamble" },
		{ "DROP TABLE Packages", WD_EINVAL, "not an rpm database: no Packages table" },
		{ "ALTER TABLE Packages RENAME TO Old; CREATE VIEW Packages AS SELECT * FROM Old",
		  WD_EINVAL, "not an rpm database: Packages is not a table" },
		{ "ALTER TABLE Packages RENAME TO Old; CREATE TABLE Packages (hnum INTEGER)",
		  WD_EINVAL, "not an rpm database: no such column: blob" },
	};
	char dir[] = "/tmp/wd-test-rpm-XXXXXX";
	char path[128], expected[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rpmdb.sqlite", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbom_catalog catalog;
		struct wd_error err = { 0 };

		make_rpmdb(path, cases[i].sql);
		sbom_catalog_init(&catalog, 100);
		assert_int_equal(rpm_sqlite_read(path, &catalog, &err), cases[i].code);
		snprintf(expected, sizeof(expected), "%s: %s", path, cases[i].detail);
		assert_string_equal(err.detail, expected);
		sbom_catalog_free(&catalog);
	}

	/* A file that is not a database. */
	{
		struct sbom_catalog catalog;
		struct wd_error err = { 0 };
		FILE *file = fopen(path, "w");

		assert_non_null(file);
		assert_int_equal(fputs("not a database, just text that is long enough", file) >= 0,
			1);
		assert_int_equal(fclose(file), 0);
		sbom_catalog_init(&catalog, 100);
		assert_int_equal(rpm_sqlite_read(path, &catalog, &err), WD_EINVAL);
		snprintf(expected, sizeof(expected), "%s: not an rpm database: file is not a database",
			path);
		assert_string_equal(err.detail, expected);
		sbom_catalog_free(&catalog);
	}
	remove_tree(dir);
}

static void catalog_reads_root(void **state)
{
	char dir[] = "/tmp/wd-test-rpm-XXXXXX";
	char path[256], link_path[256];
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));

	/* A root without an rpm database adds nothing. */
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(rpm_catalog_root(dir, &catalog, &err), 0);
	assert_int_equal(catalog.count, 0);

	/* A BerkeleyDB or NDB database alone is reported, not skipped. */
	snprintf(path, sizeof(path), "mkdir -p %s/var/lib/rpm %s/usr/lib/sysimage && "
		"touch %s/var/lib/rpm/Packages", dir, dir, dir);
	assert_int_equal(system(path), 0);
	assert_int_equal(rpm_catalog_root(dir, &catalog, &err), WD_EUNSUPPORTED);
	snprintf(path, sizeof(path), "%s/var/lib/rpm/Packages: BerkeleyDB rpm databases are not "
		"supported; warden reads the SQLite database (rpmdb.sqlite) of rpm 4.16 and later",
		dir);
	assert_string_equal(err.detail, path);
	snprintf(path, sizeof(path), "mv %s/var/lib/rpm/Packages %s/var/lib/rpm/Packages.db",
		dir, dir);
	assert_int_equal(system(path), 0);
	assert_int_equal(rpm_catalog_root(dir, &catalog, &err), WD_EUNSUPPORTED);
	assert_non_null(strstr(err.detail, "Packages.db: NDB rpm databases are not supported"));

	/* Once the SQLite database is there, it is read, and read once though
	 * usr/lib/sysimage/rpm links to var/lib/rpm. */
	snprintf(path, sizeof(path), "%s/var/lib/rpm/rpmdb.sqlite", dir);
	make_rpmdb(path, NULL);
	snprintf(link_path, sizeof(link_path), "%s/usr/lib/sysimage/rpm", dir);
	assert_int_equal(symlink("../../../var/lib/rpm", link_path), 0);
	assert_int_equal(rpm_catalog_root(dir, &catalog, &err), 0);
	assert_int_equal(catalog.count, 1);
	assert_string_equal(catalog.packages[0].location, "/var/lib/rpm/rpmdb.sqlite");
	sbom_catalog_free(&catalog);

	/* Two distinct databases are both read, each with its location. */
	assert_int_equal(unlink(link_path), 0);
	assert_int_equal(mkdir(link_path, 0755), 0);
	snprintf(path, sizeof(path), "%s/usr/lib/sysimage/rpm/rpmdb.sqlite", dir);
	make_rpmdb(path, NULL);
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(rpm_catalog_root(dir, &catalog, &err), 0);
	assert_int_equal(catalog.count, 2);
	assert_string_equal(catalog.packages[0].location, "/var/lib/rpm/rpmdb.sqlite");
	assert_string_equal(catalog.packages[1].location, "/usr/lib/sysimage/rpm/rpmdb.sqlite");
	sbom_catalog_free(&catalog);

	remove_tree(dir);
}

/* Returns the purl sbom_catalog_set_purls gives the package of build_bash. */
static char *rpm_purl(const char *id, const char *version_id)
{
	struct sbom_distro distro = { .id = (char *)id, .version_id = (char *)version_id };
	struct sbom_catalog catalog;
	struct sbom_package pkg;
	struct builder b;
	struct wd_error err = { 0 };
	char *purl;

	build_bash(&b);
	assert_int_equal(rpm_header_parse(b.blob, b.len, &pkg, &err), 0);
	sbom_catalog_init(&catalog, 10);
	assert_int_equal(sbom_catalog_add(&catalog, &pkg, &err), 0);
	assert_int_equal(sbom_catalog_set_purls(&catalog, &distro, &err), 0);
	purl = strdup(catalog.packages[0].purl);
	sbom_catalog_free(&catalog);
	return purl;
}

static void purl_of_rpm_packages(void **state)
{
	static const struct {
		const char *id;
		const char *version_id;
		const char *purl;
	} cases[] = {
		{ "fedora", "38", "pkg:rpm/fedora/bash@5.2.15-1.fc38?arch=x86_64&distro=fedora-38&"
				  "epoch=1&upstream=bash-5.2.15-1.fc38.src.rpm" },
		{ "rhel", "9.3", "pkg:rpm/redhat/bash@5.2.15-1.fc38?arch=x86_64&distro=rhel-9.3&"
				 "epoch=1&upstream=bash-5.2.15-1.fc38.src.rpm" },
		{ "opensuse-leap", "15.5", "pkg:rpm/opensuse/bash@5.2.15-1.fc38?arch=x86_64&"
					   "distro=opensuse-leap-15.5&epoch=1&"
					   "upstream=bash-5.2.15-1.fc38.src.rpm" },
		{ "amzn", NULL, "pkg:rpm/amzn/bash@5.2.15-1.fc38?arch=x86_64&distro=amzn&epoch=1&"
				"upstream=bash-5.2.15-1.fc38.src.rpm" },
		/* Without os-release there is no namespace and no distro. */
		{ NULL, NULL, "pkg:rpm/bash@5.2.15-1.fc38?arch=x86_64&epoch=1&"
			      "upstream=bash-5.2.15-1.fc38.src.rpm" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *purl = rpm_purl(cases[i].id, cases[i].version_id);

		assert_string_equal(purl, cases[i].purl);
		free(purl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_parses_fields),
		cmocka_unit_test(header_optional_fields),
		cmocka_unit_test(header_accepts_region_tags),
		cmocka_unit_test(header_later_entry_wins),
		cmocka_unit_test(header_rejects_preamble),
		cmocka_unit_test(header_rejects_region),
		cmocka_unit_test(header_rejects_entries),
		cmocka_unit_test(header_rejects_values),
		cmocka_unit_test(header_enforces_field_ceiling),
		cmocka_unit_test(sqlite_reads_packages),
		cmocka_unit_test(sqlite_rejects_malformed),
		cmocka_unit_test(catalog_reads_root),
		cmocka_unit_test(purl_of_rpm_packages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
