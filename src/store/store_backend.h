/* The private contract between store.c and one datastore backend. A backend
 * (sqlite.c, postgres.c) fills a struct store_backend_ops and
 * store.c picks it by URL, so callers of store.h never see which one runs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct store_backend_ops;

/* One result row as store.c hands it to a store_row_fn: the backend's own
 * cursor plus the table that reads it. */
struct store_row {
	const struct store_backend_ops *ops;
	void *cursor;
};

/* An open datastore. Its fields are private to store.c and migrate.c. */
struct store {
	const struct store_backend_ops *ops;
	void *handle;        /* what ops->open stored */
	unsigned depth;      /* store_begin calls not yet ended */
	bool rollback_only;  /* an inner rollback doomed the outer transaction */
};

/* Every function that takes a handle gets the pointer that open stored.
 * store.c has already checked sql, params (types, pointers, lengths) and the
 * transaction depth, so backends check only what is theirs: the SQL, the
 * $1..$N references and the database's results. */
struct store_backend_ops {
	const char *name;

	/* Opens the datastore at location (the URL without its scheme). */
	int (*open)(const char *location, const struct store_options *options,
		void **ret_handle, struct wd_error *err);
	void (*close)(void *handle);

	/* Runs one statement with $1..$N parameters; ret_changes may be NULL. */
	int (*exec)(void *handle, const char *sql, const struct store_value *params,
		size_t param_count, int64_t *ret_changes, struct wd_error *err);

	/* Runs one query, calling on_row with a struct store_row per row. */
	int (*query)(void *handle, const char *sql, const struct store_value *params,
		size_t param_count, store_row_fn on_row, void *context,
		struct wd_error *err);

	/* Runs a script of several statements without parameters (migrations).
	 * BEGIN, COMMIT and ROLLBACK in it are rejected. */
	int (*exec_script)(void *handle, const char *sql, struct wd_error *err);

	/* Backend transaction calls; store.c does the nesting. rollback is a
	 * no-op when the backend has already ended the transaction itself. */
	int (*begin)(void *handle, struct wd_error *err);
	int (*commit)(void *handle, struct wd_error *err);
	void (*rollback)(void *handle);

	/* Stores whether a table of that name exists in ret_exists. */
	int (*table_exists)(void *handle, const char *table, bool *ret_exists,
		struct wd_error *err);

	/* Returns the SQL of migration in this backend's dialect, or NULL. */
	const char *(*migration_sql)(const struct store_migration *migration);

	/* Change notification (NULL where the backend has none, as SQLite,
	 * whose file one server owns). notify sends payload on the channel,
	 * delivered at commit inside a transaction; listen (re)connects if
	 * needed and subscribes; listen_fd returns the socket to poll;
	 * listen_drain reads what arrived and calls fn with each raw payload,
	 * failing with WD_EUNAVAILABLE once the connection is lost. */
	int (*notify)(void *handle, const char *payload, struct wd_error *err);
	int (*listen)(void *handle, struct wd_error *err);
	int (*listen_fd)(void *handle);
	int (*listen_drain)(void *handle, void (*fn)(const char *payload, void *arg), void *arg,
		struct wd_error *err);

	/* Row accessors behind store_row_*; column is already range-checked. */
	size_t (*row_columns)(void *cursor);
	bool (*row_is_null)(void *cursor, size_t column);
	int64_t (*row_int)(void *cursor, size_t column);
	const char *(*row_text)(void *cursor, size_t column);
	const void *(*row_blob)(void *cursor, size_t column, size_t *ret_len);
};

extern const struct store_backend_ops store_sqlite_ops;
extern const struct store_backend_ops store_postgres_ops;

/* Max length of a statement summary, terminator included. */
#define STORE_SQL_SUMMARY_MAX 48

/* Writes the first words of sql (at most three keywords or names) to buf for
 * error details. It stops at the first quote, digit-led word or other
 * character that could start a literal, so a value written into the SQL
 * text is never copied. */
void store_sql_summary(const char *sql, char buf[static STORE_SQL_SUMMARY_MAX]);

/* Checks the $1..$N references of sql against param_count for backends
 * whose database does not (sql_params.c): WD_EINVAL for "?", "$0", a
 * leading zero, $N above param_count or a parameter never used. */
int store_sql_check_params(const char *sql, size_t param_count, struct wd_error *err);

/* Returns whether the statement at sql starts with a transaction keyword
 * (BEGIN, COMMIT, SAVEPOINT, ...), which would bypass store.c's counter. */
bool store_sql_is_transaction_control(const char *sql);

/* Rejects with WD_EINVAL a script with a transaction statement or a
 * parameter reference in any of its statements. */
int store_sql_check_script(const char *sql, struct wd_error *err);
