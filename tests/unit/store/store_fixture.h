/* Shared test fixture for the store tests: a fresh temporary directory with
 * one open database per test, and row collectors for store_query. */
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
	char path[128];
	struct store *store;
};

static inline int fixture_setup(void **state)
{
	struct fixture *f = wd_calloc(1, sizeof(*f));
	struct wd_error err;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-store-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/test.db", f->dir);
	if (store_open(f->path, NULL, &f->store, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", wd_error_text(&err));
		return -1;
	}
	*state = f;
	return 0;
}

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
