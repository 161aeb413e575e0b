/* Shared test fixture for the store tests: a fresh temporary directory with
 * one open database per test, and row collectors for store_query.
 *
 * With WD_TEST_STORE_URL set to a PostgreSQL URL (run_on_postgres.py sets
 * it), each test instead gets that database with an empty public schema,
 * in which BLOB is a domain over BYTEA so the tests' SQLite table
 * definitions work unchanged. Tests of what only SQLite has call
 * skip_unless_sqlite. */
#pragma once

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char path[512];     /* the SQLite file, or the PostgreSQL URL */
	bool postgres;
	struct store *store;
};

/* Empties the PostgreSQL test database. */
static inline int fixture_reset_postgres(struct store *store)
{
	static const char *const statements[] = {
		"DROP SCHEMA IF EXISTS public CASCADE",
		"CREATE SCHEMA public",
		"CREATE DOMAIN blob AS BYTEA",
	};
	struct wd_error err;

	for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++) {
		if (store_exec(store, statements[i], NULL, 0, NULL, &err) < 0) {
			fprintf(stderr, "resetting the database: %s\n", wd_error_text(&err));
			return -1;
		}
	}
	return 0;
}

static inline int fixture_setup(void **state)
{
	struct fixture *f = wd_calloc(1, sizeof(*f));
	const char *url = getenv("WD_TEST_STORE_URL");
	struct wd_error err;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-store-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->postgres = url && url[0] != '\0';
	if (f->postgres)
		snprintf(f->path, sizeof(f->path), "%s", url);
	else
		snprintf(f->path, sizeof(f->path), "%s/test.db", f->dir);
	if (store_open(f->path, NULL, &f->store, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", wd_error_text(&err));
		return -1;
	}
	if (f->postgres && fixture_reset_postgres(f->store) < 0)
		return -1;
	*state = f;
	return 0;
}

/* Skips a test of PostgreSQL's own behaviour on SQLite. */
#define skip_unless_postgres(f)                                                         \
	do {                                                                            \
		if (!(f)->postgres) {                                                   \
			skip();                                                         \
			return;                                                         \
		}                                                                       \
	} while (0)

/* Skips a test of SQLite's own behaviour on PostgreSQL. */
#define skip_unless_sqlite(f)                                                           \
	do {                                                                            \
		if ((f)->postgres) {                                                    \
			skip();                                                         \
			return;                                                         \
		}                                                                       \
	} while (0)

static inline void fixture_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	char path[512];

	if (!d)
		return;
	while ((entry = readdir(d))) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->store);
	fixture_remove_dir(f->dir);
	free(f);
	return 0;
}

/* Integers of column 0 of up to 16 rows. */
struct int_rows {
	size_t count;
	int64_t values[16];
	bool nulls[16];
};

static inline int collect_ints(void *context, const struct store_row *row)
{
	struct int_rows *rows = context;

	if (rows->count >= 16)
		return WD_ETOOBIG;
	rows->nulls[rows->count] = store_row_is_null(row, 0);
	rows->values[rows->count] = store_row_int(row, 0);
	rows->count++;
	return 0;
}

/* Runs sql and returns the integer in column 0 of its one row. The test
 * fails when the query fails or returns another number of rows. */
static inline int64_t query_int(struct store *store, const char *sql,
	const struct store_value *params, size_t param_count)
{
	struct int_rows rows = { 0 };
	struct wd_error err;
	int rc = store_query(store, sql, params, param_count, collect_ints, &rows, &err);

	if (rc < 0)
		fprintf(stderr, "query_int: %s\n", wd_error_text(&err));
	assert_int_equal(rc, 0);
	assert_int_equal(rows.count, 1);
	return rows.values[0];
}

/* Counts the rows of table. */
static inline int64_t count_rows(struct store *store, const char *table)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	return query_int(store, sql, NULL, 0);
}

/* Returns whether a table of that name exists. */
static inline bool table_exists(struct store *store, const char *table)
{
	struct store_value params[] = { STORE_TEXT_VALUE(table) };

	if (strcmp(store_backend(store), "postgres") == 0)
		return query_int(store, "SELECT COUNT(*) FROM information_schema.tables"
			" WHERE table_schema = current_schema() AND table_name = $1",
			params, 1) == 1;
	return query_int(store, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
		params, 1) == 1;
}

/* Runs sql and fails the test with the error detail if it fails. */
static inline void exec_ok(struct store *store, const char *sql,
	const struct store_value *params, size_t param_count)
{
	struct wd_error err;
	int rc = store_exec(store, sql, params, param_count, NULL, &err);

	if (rc < 0)
		fprintf(stderr, "exec_ok: %s\n", wd_error_text(&err));
	assert_int_equal(rc, 0);
}
