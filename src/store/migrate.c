/* Versioned schema migrations per component. Each applied version is a row
 * of schema_migrations, written in the same transaction as its schema
 * change. */
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "store/store_backend.h"

#define COMPONENT_NAME_MAX 64

/* The table that records applied versions. It is created with IF NOT EXISTS
 * before any migration runs, so it needs no version of its own. PostgreSQL's
 * INTEGER is 32 bits, so applied_at (Unix seconds) is BIGINT there. */
static const struct store_migration bookkeeping_table = {
	.version = 1,
	.name = "schema_migrations",
	.sql_sqlite =
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		" component TEXT NOT NULL,"
		" version INTEGER NOT NULL,"
		" name TEXT NOT NULL,"
		" applied_at INTEGER NOT NULL,"
		" PRIMARY KEY (component, version))",
	.sql_postgres =
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		" component TEXT NOT NULL,"
		" version INTEGER NOT NULL,"
		" name TEXT NOT NULL,"
		" applied_at BIGINT NOT NULL,"
		" PRIMARY KEY (component, version))",
};

/* Component names appear in error details and log lines, so they are kept
 * to short identifiers. */
static int check_component(const char *component, struct wd_error *err)
{
	size_t length;

	if (!component || component[0] == '\0')
		return wd_error_set(err, WD_EINVAL, "missing migration component name");

	length = strnlen(component, COMPONENT_NAME_MAX + 1);
	if (length > COMPONENT_NAME_MAX)
		return wd_error_set(err, WD_EINVAL,
			"migration component name is longer than %d characters",
			COMPONENT_NAME_MAX);

	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)component[i];

		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
			return wd_error_set(err, WD_EINVAL,
				"invalid migration component name '%s': use letters, digits, "
				"'_', '-' and '.'", component);
	}
	return 0;
}

/* Checks the whole array before anything runs, so a bad array changes
 * nothing. */
static int check_migrations(const struct store *store, const char *component,
	const struct store_migration *migrations, size_t count, struct wd_error *err)
{
	int previous = 0;

	if (count > 0 && !migrations)
		return wd_error_set(err, WD_EINVAL,
			"component '%s' has %zu migrations but no array", component, count);

	for (size_t i = 0; i < count; i++) {
		const struct store_migration *migration = &migrations[i];

		if (migration->version <= previous)
			return wd_error_set(err, WD_EINVAL,
				"migration versions of component '%s' must be positive and strictly "
				"increasing, but version %d follows %d", component,
				migration->version, previous);
		if (!migration->name || migration->name[0] == '\0')
			return wd_error_set(err, WD_EINVAL,
				"migration %d of component '%s' has no name", migration->version,
				component);
		if (!store->ops->migration_sql(migration))
			return wd_error_set(err, WD_EINVAL,
				"migration %d '%s' of component '%s' has no SQL for the %s backend",
				migration->version, migration->name, component, store->ops->name);
		previous = migration->version;
	}
	return 0;
}

struct version_result {
	int64_t version;
};

static int read_version_row(void *context, const struct store_row *row)
{
	struct version_result *result = context;

	result->version = store_row_is_null(row, 0) ? 0 : store_row_int(row, 0);
	return 0;
}

/* Reads the recorded version of component, assuming the table exists. */
static int read_version(struct store *store, const char *component, int *ret_version,
	struct wd_error *err)
{
	struct store_value params[] = { STORE_TEXT_VALUE(component) };
	struct version_result result = { 0 };
	int rc;

	*ret_version = 0;
	rc = store_query(store, "SELECT MAX(version) FROM schema_migrations WHERE component = $1",
		params, WD_ARRAY_LEN(params), read_version_row, &result, err);
	if (rc < 0)
		return rc;

	if (result.version < 0 || result.version > INT_MAX)
		return wd_error_set(err, WD_ECORRUPT,
			"schema_migrations records version %lld for component '%s', outside "
			"0..%d", (long long)result.version, component, INT_MAX);
	*ret_version = (int)result.version;
	return 0;
}

int store_schema_version(struct store *store, const char *component, int *ret_version,
	struct wd_error *err)
{
	bool exists;
	int version;
	int rc;

	if (ret_version)
		*ret_version = 0;
	if (!store || !ret_version)
		return wd_error_set(err, WD_EINVAL, "store_schema_version needs a store and ret_version");
	rc = check_component(component, err);
	if (rc < 0)
		return rc;

	rc = store->ops->table_exists(store->handle, "schema_migrations", &exists, err);
	if (rc < 0)
		return rc;
	if (!exists)
		return 0;

	rc = read_version(store, component, &version, err);
	if (rc < 0)
		return rc;
	*ret_version = version;
	return 0;
}

/* Prefixes the detail in err with which migration failed, keeping the code. */
static int set_migration_error(struct wd_error *err, int rc, const char *component,
	const struct store_migration *migration)
{
	char cause[sizeof(err->detail)];

	if (!err)
		return rc;
	memcpy(cause, err->detail, sizeof(cause));
	cause[sizeof(cause) - 1] = '\0';
	return wd_error_set(err, rc, "migration %d '%s' of component '%s' failed: %s",
		migration->version, migration->name, component, cause);
}

static int record_version(struct store *store, const char *component,
	const struct store_migration *migration, struct wd_error *err)
{
	struct store_value params[] = {
		STORE_TEXT_VALUE(component),
		STORE_INT_VALUE(migration->version),
		STORE_TEXT_VALUE(migration->name),
		STORE_INT_VALUE((int64_t)time(NULL)),
	};

	return store_exec(store,
		"INSERT INTO schema_migrations (component, version, name, applied_at) "
		"VALUES ($1, $2, $3, $4)",
		params, WD_ARRAY_LEN(params), NULL, err);
}

/* Applies one migration and records its version in one transaction. */
static int apply_migration(struct store *store, const char *component,
	const struct store_migration *migration, struct wd_error *err)
{
	bool began = false;
	int current;
	int rc;

	WD_GUARD(store_begin(store, err));
	began = true;

	/* Another server on the same database may have applied this step since
	 * the version was first read; the write lock now held settles it. */
	WD_GUARD(read_version(store, component, &current, err));
	if (current < migration->version) {
		rc = store->ops->exec_script(store->handle, store->ops->migration_sql(migration),
			err);
		if (rc < 0) {
			set_migration_error(err, rc, component, migration);
			goto out;
		}
		WD_GUARD(record_version(store, component, migration, err));
	}

	began = false;
	WD_GUARD(store_commit(store, err));

out:
	if (began)
		store_rollback(store);
	return rc;
}

int store_migrate(struct store *store, const char *component,
	const struct store_migration *migrations, size_t count, struct wd_error *err)
{
	int highest;
	int current;
	int rc;

	if (!store)
		return wd_error_set(err, WD_EINVAL, "store_migrate needs a store");
	rc = check_component(component, err);
	if (rc < 0)
		return rc;
	rc = check_migrations(store, component, migrations, count, err);
	if (rc < 0)
		return rc;
	if (store->depth > 0)
		return wd_error_set(err, WD_ECONFLICT,
			"store_migrate of component '%s' called inside a transaction: each "
			"migration commits on its own, so call it outside one", component);

	/* In a transaction, so that two PostgreSQL servers starting at once
	 * create the table one after the other. */
	rc = store_begin(store, err);
	if (rc < 0)
		return rc;
	rc = store->ops->exec_script(store->handle,
		store->ops->migration_sql(&bookkeeping_table), err);
	if (rc < 0) {
		store_rollback(store);
		return rc;
	}
	rc = store_commit(store, err);
	if (rc < 0)
		return rc;

	rc = read_version(store, component, &current, err);
	if (rc < 0)
		return rc;

	/* An older binary must not write to a schema it does not know. */
	highest = count > 0 ? migrations[count - 1].version : 0;
	if (current > highest)
		return wd_error_set(err, WD_ECONFLICT,
			"database schema of component '%s' is at version %d, newer than "
			"version %d, the highest this binary knows: run a newer warden",
			component, current, highest);

	for (size_t i = 0; i < count; i++) {
		if (migrations[i].version <= current)
			continue;
		rc = apply_migration(store, component, &migrations[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
