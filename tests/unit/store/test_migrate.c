/* Unit tests for versioned schema migrations, each in a fresh temporary
 * directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

static const struct store_migration users_v1[] = {
	{ 1, "create users", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", NULL },
	{ 2, "seed admin", "INSERT INTO users (name) VALUES ('admin');\n"
		"CREATE INDEX users_name ON users (name);", NULL },
};

static const struct store_migration users_v2[] = {
	{ 1, "create users", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", NULL },
	{ 2, "seed admin", "INSERT INTO users (name) VALUES ('admin');\n"
		"CREATE INDEX users_name ON users (name);", NULL },
	{ 3, "add email", "ALTER TABLE users ADD COLUMN email TEXT", NULL },
};

static int schema_version(struct store *store, const char *component)
{
	struct wd_error err;
	int version = -1;

	assert_int_equal(store_schema_version(store, component, &version, &err), 0);
	return version;
}

static void migrate_applies_once(void **state)
{
	struct fixture *f = *state;
	struct store_value params[] = { STORE_TEXT_VALUE("users") };
	struct wd_error err;

	assert_int_equal(schema_version(f->store, "users"), 0);
	assert_false(table_exists(f->store, "schema_migrations"));

	assert_int_equal(store_migrate(f->store, "users", users_v1, WD_ARRAY_LEN(users_v1), &err), 0);
	assert_int_equal(schema_version(f->store, "users"), 2);
	assert_int_equal(count_rows(f->store, "users"), 1);
	assert_int_equal(query_int(f->store,
		"SELECT COUNT(*) FROM schema_migrations WHERE component = $1", params, 1), 2);
	assert_int_equal(query_int(f->store,
		"SELECT COUNT(*) FROM schema_migrations WHERE component = $1 AND version = 2 "
		"AND name = 'seed admin' AND applied_at > 1700000000", params, 1), 1);

	/* A second run applies nothing: the seed row is not inserted again. */
	assert_int_equal(store_migrate(f->store, "users", users_v1, WD_ARRAY_LEN(users_v1), &err), 0);
	assert_int_equal(schema_version(f->store, "users"), 2);
	assert_int_equal(count_rows(f->store, "users"), 1);
	assert_int_equal(count_rows(f->store, "schema_migrations"), 2);
}

static void migrate_adds_new_steps(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	struct wd_error err;

	assert_int_equal(store_migrate(f->store, "users", users_v1, 1, &err), 0);
	assert_int_equal(schema_version(f->store, "users"), 1);
	assert_int_equal(count_rows(f->store, "users"), 0);

	/* A second handle, as a newer server would, applies 2 and 3 only. */
	assert_int_equal(store_open(f->path, NULL, &other, &err), 0);
	assert_int_equal(store_migrate(other, "users", users_v2, WD_ARRAY_LEN(users_v2), &err), 0);
	store_close(other);

	assert_int_equal(schema_version(f->store, "users"), 3);
	assert_int_equal(count_rows(f->store, "users"), 1);
	exec_ok(f->store, "UPDATE users SET email = 'a@example.org'", NULL, 0);
}

static void failing_migration_changes_nothing(void **state)
{
	struct fixture *f = *state;
	static const struct store_migration broken[] = {
		{ 1, "create users", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
			NULL },
		{ 2, "half done", "CREATE TABLE audit (a INTEGER);\n"
			"INSERT INTO users (name) VALUES ('x');\n"
			"INSERT INTO nowhere (a) VALUES (1);", NULL },
		{ 3, "never reached", "CREATE TABLE later (a INTEGER)", NULL },
	};
	struct wd_error err;

	assert_int_equal(store_migrate(f->store, "users", broken, WD_ARRAY_LEN(broken), &err),
		WD_ESTORE);
	assert_int_equal(err.code, WD_ESTORE);
	assert_non_null(strstr(err.detail, "migration 2 'half done' of component 'users' failed"));
	assert_non_null(strstr(err.detail, "no such table: nowhere"));

	assert_int_equal(schema_version(f->store, "users"), 1);
	assert_true(table_exists(f->store, "users"));
	assert_false(table_exists(f->store, "audit"));
	assert_false(table_exists(f->store, "later"));
	assert_int_equal(count_rows(f->store, "users"), 0);

	/* The handle is left outside any transaction. */
	assert_int_equal(store_begin(f->store, &err), 0);
	assert_int_equal(store_commit(f->store, &err), 0);
}

static void failing_migration_keeps_code(void **state)
{
	struct fixture *f = *state;
	static const struct store_migration duplicate[] = {
		{ 1, "create", "CREATE TABLE k (name TEXT PRIMARY KEY)", NULL },
		{ 2, "seed twice", "INSERT INTO k VALUES ('a'); INSERT INTO k VALUES ('a');", NULL },
	};
	struct wd_error err;

	assert_int_equal(store_migrate(f->store, "k", duplicate, 2, &err), WD_EEXIST);
	assert_non_null(strstr(err.detail, "migration 2 'seed twice'"));
	assert_non_null(strstr(err.detail, "UNIQUE constraint failed: k.name"));
	assert_int_equal(schema_version(f->store, "k"), 1);
	assert_int_equal(count_rows(f->store, "k"), 0);
}

static void migration_cannot_end_transaction(void **state)
{
	struct fixture *f = *state;
	static const struct store_migration committing[] = {
		{ 1, "commits early", "CREATE TABLE early (a INTEGER); COMMIT; BEGIN;", NULL },
	};
	struct wd_error err;

	assert_int_equal(store_migrate(f->store, "c", committing, 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "migration 1 'commits early'"));
	assert_non_null(strstr(err.detail, "'COMMIT'"));
	assert_int_equal(schema_version(f->store, "c"), 0);
	assert_false(table_exists(f->store, "early"));
}

static void too_new_database_rejected(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;

	assert_int_equal(store_migrate(f->store, "users", users_v2, WD_ARRAY_LEN(users_v2), &err), 0);

	assert_int_equal(store_migrate(f->store, "users", users_v1, WD_ARRAY_LEN(users_v1), &err),
		WD_ECONFLICT);
	assert_int_equal(err.code, WD_ECONFLICT);
	assert_non_null(strstr(err.detail, "'users'"));
	assert_non_null(strstr(err.detail, "version 3"));
	assert_non_null(strstr(err.detail, "version 2"));

	assert_int_equal(store_migrate(f->store, "users", NULL, 0, &err), WD_ECONFLICT);
	assert_non_null(strstr(err.detail, "version 0"));
	assert_int_equal(schema_version(f->store, "users"), 3);
}

static void versions_must_increase(void **state)
{
	struct fixture *f = *state;
	static const struct store_migration repeated[] = {
		{ 1, "a", "CREATE TABLE a (x INTEGER)", NULL },
		{ 1, "b", "CREATE TABLE b (x INTEGER)", NULL },
	};
	static const struct store_migration descending[] = {
		{ 2, "a", "CREATE TABLE a (x INTEGER)", NULL },
		{ 1, "b", "CREATE TABLE b (x INTEGER)", NULL },
	};
	static const struct store_migration zero[] = {
		{ 0, "a", "CREATE TABLE a (x INTEGER)", NULL },
	};
	static const struct store_migration negative[] = {
		{ -4, "a", "CREATE TABLE a (x INTEGER)", NULL },
	};
	struct wd_error err;

	assert_int_equal(store_migrate(f->store, "v", repeated, 2, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "version 1 follows 1"));
	assert_int_equal(store_migrate(f->store, "v", descending, 2, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "version 1 follows 2"));
	assert_int_equal(store_migrate(f->store, "v", zero, 1, &err), WD_EINVAL);
	assert_int_equal(store_migrate(f->store, "v", negative, 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "version -4"));

	/* Nothing ran, not even the bookkeeping table. */
	assert_false(table_exists(f->store, "a"));
	assert_false(table_exists(f->store, "schema_migrations"));
}

static void migrations_hostile_input(void **state)
{
	struct fixture *f = *state;
	static const struct store_migration no_sql[] = {
		{ 1, "postgres only", NULL, "CREATE TABLE a (x BIGINT)" },
	};
	static const struct store_migration no_name[] = {
		{ 1, NULL, "CREATE TABLE a (x INTEGER)", NULL },
	};
	static const struct store_migration with_parameter[] = {
		{ 1, "parameter", "CREATE TABLE a (x INTEGER DEFAULT 1); INSERT INTO a VALUES ($1)",
			NULL },
	};
	char long_name[80];
	int version = 7;
	struct wd_error err;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';

	assert_int_equal(store_migrate(f->store, "x", no_sql, 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "no SQL for the sqlite backend"));
	assert_int_equal(store_migrate(f->store, "x", no_name, 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "has no name"));
	assert_int_equal(store_migrate(f->store, "x", NULL, 3, &err), WD_EINVAL);
	assert_int_equal(store_migrate(NULL, "x", users_v1, 1, &err), WD_EINVAL);

	assert_int_equal(store_migrate(f->store, "", users_v1, 1, &err), WD_EINVAL);
	assert_int_equal(store_migrate(f->store, NULL, users_v1, 1, &err), WD_EINVAL);
	assert_int_equal(store_migrate(f->store, "users; DROP TABLE x", users_v1, 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "invalid migration component name"));
	assert_int_equal(store_migrate(f->store, long_name, users_v1, 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "longer than 64"));
	assert_int_equal(store_schema_version(f->store, "a b", &version, &err), WD_EINVAL);
	assert_int_equal(version, 0);
	assert_int_equal(store_schema_version(f->store, "x", NULL, &err), WD_EINVAL);
	assert_false(table_exists(f->store, "a"));

	assert_int_equal(store_migrate(f->store, "x", with_parameter, 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "parameters"));
	assert_false(table_exists(f->store, "a"));
	assert_int_equal(schema_version(f->store, "x"), 0);
}

static void migrate_outside_transaction_only(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;

	assert_int_equal(store_begin(f->store, &err), 0);
	assert_int_equal(store_migrate(f->store, "users", users_v1, 1, &err), WD_ECONFLICT);
	assert_non_null(strstr(err.detail, "inside a transaction"));
	store_rollback(f->store);
	assert_false(table_exists(f->store, "users"));
}

static void components_are_independent(void **state)
{
	struct fixture *f = *state;
	static const struct store_migration other[] = {
		{ 1, "create things", "CREATE TABLE things (a INTEGER)", NULL },
	};
	struct wd_error err;

	assert_int_equal(store_migrate(f->store, "users", users_v2, WD_ARRAY_LEN(users_v2), &err), 0);
	assert_int_equal(store_migrate(f->store, "things", other, 1, &err), 0);
	assert_int_equal(schema_version(f->store, "users"), 3);
	assert_int_equal(schema_version(f->store, "things"), 1);
	assert_int_equal(schema_version(f->store, "unknown"), 0);
}

static void corrupt_version_detected(void **state)
{
	struct fixture *f = *state;
	int version = 9;
	struct wd_error err;

	assert_int_equal(store_migrate(f->store, "users", users_v1, 1, &err), 0);
	exec_ok(f->store, "INSERT INTO schema_migrations VALUES ('users', 5000000000, 'bad', 0)",
		NULL, 0);
	assert_int_equal(store_schema_version(f->store, "users", &version, &err), WD_ECORRUPT);
	assert_int_equal(version, 0);
	assert_non_null(strstr(err.detail, "5000000000"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(migrate_applies_once, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(migrate_adds_new_steps, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(failing_migration_changes_nothing, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(failing_migration_keeps_code, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(migration_cannot_end_transaction, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(too_new_database_rejected, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(versions_must_increase, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(migrations_hostile_input, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(migrate_outside_transaction_only, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(components_are_independent, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(corrupt_version_detected, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
