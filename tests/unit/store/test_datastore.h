/* Picks the datastore of a unit test that keeps state in the store: the
 * SQLite file it names, or the PostgreSQL database in WD_TEST_STORE_URL,
 * which run_on_postgres.py sets when it runs the test a second time on a
 * throwaway cluster. Each test's setup calls test_datastore_path, which
 * empties that database, so every test starts from no tables as it does
 * with a fresh SQLite file. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* Returns whether the tests run on PostgreSQL. */
static inline bool test_datastore_is_postgres(void)
{
	const char *url = getenv("WD_TEST_STORE_URL");

	return url && url[0] != '\0';
}

/* Writes the store URL to path: sqlite_path, or the PostgreSQL URL after
 * dropping every table of its public schema. Returns -1 with a message on
 * failure. */
static inline int test_datastore_path(char *path, size_t size, const char *sqlite_path)
{
	static const char *const reset[] = {
		"DROP SCHEMA IF EXISTS public CASCADE",
		"CREATE SCHEMA public",
	};
	const char *url = getenv("WD_TEST_STORE_URL");
	struct store *store = NULL;
	struct wd_error err;

	if (!test_datastore_is_postgres())
		url = sqlite_path;
	if (strlen(url) >= size) {
		fprintf(stderr, "datastore URL longer than %zu bytes\n", size - 1);
		return -1;
	}
	memcpy(path, url, strlen(url) + 1);
	if (!test_datastore_is_postgres())
		return 0;

	if (store_open(url, NULL, &store, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", wd_error_text(&err));
		return -1;
	}
	for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++) {
		if (store_exec(store, reset[i], NULL, 0, NULL, &err) < 0) {
			fprintf(stderr, "resetting the test database: %s\n", wd_error_text(&err));
			store_close(store);
			return -1;
		}
	}
	store_close(store);
	return 0;
}

/* Sets path to the store of a test: dir/name on SQLite, or the emptied
 * PostgreSQL database. Aborts the test binary on failure. */
static inline void test_datastore_setup(char *path, size_t size, const char *dir,
	const char *name)
{
	char sqlite_path[512];

	snprintf(sqlite_path, sizeof(sqlite_path), "%s/%s", dir, name);
	if (test_datastore_path(path, size, sqlite_path) < 0)
		abort();
}
