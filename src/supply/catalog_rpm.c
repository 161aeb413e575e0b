/* The SQLite rpm database of rpm 4.16 and later (the default backend since
 * Fedora 33 and RHEL 9): a Packages table of (hnum, blob) rows, each blob
 * the header of one installed package. The file belongs to the scanned
 * root, so it is opened read-only and immutable: SQLite then takes no lock
 * and creates no -shm or -journal file next to it. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "common/buf.h"
#include "supply/catalog_os.h"

/* SQLite calls the progress handler every RPMDB_PROGRESS_OPS virtual
 * machine instructions, and the query stops after RPMDB_MAX_PROGRESS_CALLS
 * calls (10^8 instructions). Reading a row takes a handful (Rowid, Column,
 * ResultRow, Next), so the budget covers SBOM_MAX_PACKAGES rows many times
 * over and bounds the CPU a hostile schema, such as a generated blob
 * column, can take. */
#define RPMDB_PROGRESS_OPS 1000
#define RPMDB_MAX_PROGRESS_CALLS 100000

/* The largest blob a valid header can be. */
#define RPMDB_MAX_BLOB_BYTES (RPM_HEADER_MAX_BYTES - 1)

/* The name rpm gives the pseudo-packages that contain imported signing
 * keys (rpm --import). They are keys, not software. */
#define RPM_PUBKEY_NAME "gpg-pubkey"

struct rpmdb_dir {
	const char *path;  /* relative to the root */
};

/* Where rpm keeps its database: its traditional _dbpath, then the one
 * Fedora 36 and later use, which var/lib/rpm often links to. */
static const struct rpmdb_dir rpmdb_dirs[] = {
	{ "/var/lib/rpm" },
	{ "/usr/lib/sysimage/rpm" },
};

static bool is_uri_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

/* Builds the SQLite URI of path (RFC 3986 with SQLite's parameters) that
 * opens it read-only and immutable. Every byte outside the unreserved set
 * and '/' is percent-encoded, so a '?' or '#' in the path stays a path. */
static int rpmdb_uri(const char *path, char **ret_uri, struct wd_error *err)
{
	static const char hex[] = "0123456789ABCDEF";
	struct wd_buf uri;
	int rc = 0;

	*ret_uri = NULL;
	wd_buf_init(&uri, 256, 3 * strlen(path) + 64);
	/* An absolute path goes after an empty authority ("file:///..."), and
	 * a relative one directly after "file:". */
	WD_GUARD(wd_buf_append_str(&uri, path[0] == '/' ? "file://" : "file:"));
	for (const char *p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (is_uri_plain(c)) {
			WD_GUARD(wd_buf_append_byte(&uri, c));
		} else {
			char triple[3] = { '%', hex[c >> 4], hex[c & 0xf] };

			WD_GUARD(wd_buf_append(&uri, triple, sizeof(triple)));
		}
	}
	WD_GUARD(wd_buf_append_str(&uri, "?immutable=1"));
	WD_GUARD(wd_buf_append(&uri, "", 1));
	*ret_uri = wd_buf_take(&uri, NULL);
	WD_ENSURE(*ret_uri, WD_ENOMEM);
out:
	wd_buf_free(&uri);
	if (rc < 0)
		wd_error_set(err, rc, "URI of %.64s not built", path);
	return rc;
}

/* Rejects a database whose write-ahead log is not empty. An immutable
 * database is read without its log, and rpm's databases use WAL mode, so
 * changes that were never checkpointed would be missed. rpm 4.18
 * checkpoints when it closes the database and leaves an empty -wal file. */
static int check_wal(const char *path, struct wd_error *err)
{
	char wal[4096 + 8];
	struct stat st;

	if (snprintf(wal, sizeof(wal), "%s-wal", path) >= (int)sizeof(wal))
		return wd_error_set(err, WD_EINVAL, "path too long: %.64s...", path);
	if (stat(wal, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return wd_error_set(err, WD_EIO, "%s: %s", wal, strerror(errno));
	}
	if (st.st_size > 0)
		return wd_error_set(err, WD_EUNSUPPORTED, "%s holds %lld bytes of changes not yet "
			"written to the rpm database; reading it without them would miss packages, "
			"so checkpoint it first (sqlite3 %s 'PRAGMA wal_checkpoint' on a copy)", wal,
			(long long)st.st_size, path);
	return 0;
}

static int count_progress(void *context)
{
	unsigned *calls = context;

	return ++*calls > RPMDB_MAX_PROGRESS_CALLS;
}

static int open_database(const char *path, sqlite3 **ret_db, unsigned *progress,
	struct wd_error *err)
{
	char *uri = NULL;
	sqlite3 *db = NULL;
	int rc = 0, code;

	*ret_db = NULL;
	WD_GUARD(rpmdb_uri(path, &uri, err));
	code = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	WD_ENSURE(code == SQLITE_OK, wd_error_set(err, WD_EIO, "%s: opening the rpm database "
		"failed: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(code)));

	/* The schema comes from the scanned root: nothing in it may call a
	 * function with side effects, and no value may exceed a header's size. */
	WD_ENSURE(sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) == SQLITE_OK &&
		  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) == SQLITE_OK,
		wd_error_set(err, WD_EINTERNAL, "%s: configuring SQLite failed: %s", path,
			sqlite3_errmsg(db)));
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, (int)RPMDB_MAX_BLOB_BYTES);
	sqlite3_progress_handler(db, RPMDB_PROGRESS_OPS, count_progress, progress);

	*ret_db = WD_TAKE_PTR(db);
out:
	sqlite3_close(db);
	free(uri);
	return rc;
}

/* Checks that Packages is a table: a view could compute rows without end. */
static int check_schema(sqlite3 *db, const char *path, struct wd_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc = 0, step;

	WD_ENSURE(sqlite3_prepare_v2(db, "SELECT type FROM sqlite_master WHERE name = 'Packages'",
		-1, &stmt, NULL) == SQLITE_OK, wd_error_set(err, WD_EINVAL,
		"%s: not an rpm database: %s", path, sqlite3_errmsg(db)));
	step = sqlite3_step(stmt);
	WD_ENSURE(step == SQLITE_ROW || step == SQLITE_DONE, wd_error_set(err, WD_EINVAL,
		"%s: not an rpm database: %s", path, sqlite3_errmsg(db)));
	WD_ENSURE(step == SQLITE_ROW, wd_error_set(err, WD_EINVAL,
		"%s: not an rpm database: no Packages table", path));
	WD_ENSURE(sqlite3_column_text(stmt, 0) &&
		  strcmp((const char *)sqlite3_column_text(stmt, 0), "table") == 0,
		wd_error_set(err, WD_EINVAL, "%s: not an rpm database: Packages is not a table",
			path));
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* Parses the header of one row and adds its package, unless it is a key. */
static int add_row(sqlite3_stmt *stmt, const char *path, struct sbom_catalog *catalog,
	struct wd_error *err)
{
	static const uint8_t empty[1];
	long long hnum = sqlite3_column_int64(stmt, 0);
	const uint8_t *blob;
	struct sbom_package pkg;
	size_t len;
	int rc;

	if (sqlite3_column_type(stmt, 1) != SQLITE_BLOB)
		return wd_error_set(err, WD_EINVAL, "%s: package hnum %lld: blob is not a BLOB",
			path, hnum);
	blob = sqlite3_column_blob(stmt, 1);
	len = (size_t)sqlite3_column_bytes(stmt, 1);
	if (!blob)
		blob = empty;

	rc = rpm_header_parse(blob, len, &pkg, err);
	if (rc < 0) {
		char detail[sizeof(err->detail)];

		if (!err)
			return rc;
		snprintf(detail, sizeof(detail), "%s", err->detail);
		return wd_error_set(err, rc, "%s: package hnum %lld: %s", path, hnum, detail);
	}
	if (strcmp(pkg.name, RPM_PUBKEY_NAME) == 0) {
		sbom_package_free(&pkg);
		return 0;
	}
	rc = sbom_catalog_add(catalog, &pkg, err);
	sbom_package_free(&pkg);
	return rc;
}

static int read_packages(sqlite3 *db, const char *path, struct sbom_catalog *catalog,
	struct wd_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc = 0, step;

	WD_ENSURE(sqlite3_prepare_v2(db, "SELECT hnum, blob FROM Packages ORDER BY hnum", -1,
		&stmt, NULL) == SQLITE_OK, wd_error_set(err, WD_EINVAL,
		"%s: not an rpm database: %s", path, sqlite3_errmsg(db)));
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW)
		WD_GUARD(add_row(stmt, path, catalog, err));
	WD_ENSURE(step == SQLITE_DONE, wd_error_set(err, step == SQLITE_INTERRUPT ? WD_ETOOBIG :
		WD_EINVAL, "%s: reading the rpm database failed: %s", path,
		step == SQLITE_INTERRUPT ? "more than the step budget" : sqlite3_errmsg(db)));
out:
	sqlite3_finalize(stmt);
	return rc;
}

int rpm_sqlite_read(const char *path, struct sbom_catalog *catalog, struct wd_error *err)
{
	sqlite3 *db = NULL;
	unsigned progress = 0;
	int rc = 0;

	WD_GUARD(check_wal(path, err));
	WD_GUARD(open_database(path, &db, &progress, err));
	WD_GUARD(check_schema(db, path, err));
	WD_GUARD(read_packages(db, path, catalog, err));
out:
	sqlite3_close(db);
	return rc;
}

/* Stores in ret_path the first of dir's older database files that exists
 * (BerkeleyDB's Packages or NDB's Packages.db), or "" when neither does. */
static void find_unsupported(const char *dir, char *ret_path, size_t size)
{
	static const char *const names[] = { "Packages", "Packages.db" };

	ret_path[0] = '\0';
	for (size_t i = 0; i < WD_ARRAY_LEN(names); i++) {
		struct stat st;

		if (snprintf(ret_path, size, "%s/%s", dir, names[i]) < (int)size &&
		    stat(ret_path, &st) == 0 && S_ISREG(st.st_mode))
			return;
		ret_path[0] = '\0';
	}
}

static bool is_ndb(const char *path)
{
	size_t len = strlen(path), suffix = strlen("/Packages.db");

	return len >= suffix && strcmp(path + len - suffix, "/Packages.db") == 0;
}

int rpm_catalog_root(const char *root, struct sbom_catalog *catalog, struct wd_error *err)
{
	struct stat read_files[WD_ARRAY_LEN(rpmdb_dirs)];
	size_t read_count = 0;
	char unsupported[4096 + 16] = "";

	for (size_t i = 0; i < WD_ARRAY_LEN(rpmdb_dirs); i++) {
		char dir[4096], path[4096 + 16], location[128];
		struct stat st;
		bool seen = false;
		size_t before = catalog->count;

		if (snprintf(dir, sizeof(dir), "%s%s", root, rpmdb_dirs[i].path) >=
		    (int)sizeof(dir))
			return wd_error_set(err, WD_EINVAL, "path too long: %.64s...", root);
		snprintf(path, sizeof(path), "%s/rpmdb.sqlite", dir);
		snprintf(location, sizeof(location), "%s/rpmdb.sqlite", rpmdb_dirs[i].path);

		if (stat(path, &st) < 0) {
			if (errno != ENOENT && errno != ENOTDIR)
				return wd_error_set(err, WD_EIO, "%s: %s", path, strerror(errno));
			if (!unsupported[0])
				find_unsupported(dir, unsupported, sizeof(unsupported));
			continue;
		}
		if (!S_ISREG(st.st_mode))
			return wd_error_set(err, WD_EINVAL, "%s is not a regular file", path);

		/* var/lib/rpm is often a link to usr/lib/sysimage/rpm. */
		for (size_t j = 0; j < read_count; j++)
			seen = seen || (read_files[j].st_dev == st.st_dev &&
					read_files[j].st_ino == st.st_ino);
		if (seen)
			continue;
		read_files[read_count++] = st;

		WD_TRY(rpm_sqlite_read(path, catalog, err));
		WD_TRY(sbom_catalog_set_location(catalog, before, location, err));
	}

	/* An image whose packages cannot be read fails rather than getting an
	 * SBOM that silently lists none of them. */
	if (read_count == 0 && unsupported[0])
		return wd_error_set(err, WD_EUNSUPPORTED, "%s: %s rpm databases are not supported; "
			"warden reads the SQLite database (rpmdb.sqlite) of rpm 4.16 and later",
			unsupported, is_ndb(unsupported) ? "NDB" : "BerkeleyDB");
	return 0;
}
