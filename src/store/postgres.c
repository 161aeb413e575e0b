/* The PostgreSQL backend, for "postgres://" and "postgresql://" URLs. Each
 * store is one libpq connection. Parameters travel apart from the SQL
 * (blobs in binary as bytea), and rows are read from a fully fetched
 * PGresult. Transactions are serialized through one advisory lock, so the
 * read-modify-write transactions written for SQLite's single writer stay
 * correct when several servers share the database. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/alloc.h"
#include "store/store_backend.h"

#define DEFAULT_LOCK_TIMEOUT_MS 5000

/* Prepared statements kept per connection, as in the SQLite backend. */
#define STATEMENT_CACHE_SIZE 32

/* Type OIDs from PostgreSQL's pg_type.dat, stable across versions. */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20

/* The key of the advisory lock that every store_begin takes: the bytes of
 * "wardenTX" as a big-endian int8. Other advisory locks need other keys. */
#define WRITE_LOCK_KEY "8602282538778383448"

/* A statement prepared on the connection as "wd_<id>". The parameter types
 * are fixed at PQprepare, so the key is the SQL plus one type letter per
 * parameter. */
struct prepared_statement {
	char *sql;
	char *types;         /* 'i' int8, 'b' bytea, 'u' inferred (text, NULL) */
	unsigned id;
};

struct postgres_store {
	PGconn *conn;
	/* Most recently used first. PostgreSQL drops them with the session, so
	 * a reconnect empties the cache. */
	struct prepared_statement cache[STATEMENT_CACHE_SIZE];
	size_t cache_count;
	unsigned next_statement_id;
	char *url;             /* "postgresql://...", kept to reconnect */
	char *password;        /* from the URL, scrubbed from error details */
	int lock_timeout_ms;
	bool in_transaction;   /* between a successful begin and commit or rollback */
	bool broken;           /* the connection was lost: reconnect before the next call */
	bool savepoint_open;   /* the transaction has the statement savepoint */
};

/* A row: the result, the row index, and the blobs decoded from bytea's
 * text form for this row (freed when the row changes). */
struct postgres_cursor {
	PGresult *result;
	int row;
	int columns;
	unsigned char **blobs;
	size_t *blob_lengths;
};

static void clearp(PGresult **result)
{
	PQclear(*result);
	*result = NULL;
}

static void drop_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Replaces each occurrence of the password in err's detail with "***". */
static void scrub_password(struct wd_error *err, const char *password)
{
	size_t length;
	char *at;

	if (!err || !password || password[0] == '\0')
		return;
	length = strlen(password);
	while ((at = strstr(err->detail, password))) {
		size_t rest = strlen(at + length);

		if (length >= 3) {
			memcpy(at, "***", 3);
			memmove(at + 3, at + length, rest + 1);
		} else {
			memset(at, '*', length);
		}
	}
}

/* Maps an SQLSTATE to a warden error code. */
static int map_sqlstate(const char *state)
{
	if (!state)
		return WD_ESTORE;
	if (strcmp(state, "23505") == 0)         /* unique_violation */
		return WD_EEXIST;
	if (strcmp(state, "23503") == 0)         /* foreign_key_violation */
		return WD_ECONFLICT;
	if (strcmp(state, "40001") == 0 ||       /* serialization_failure */
		strcmp(state, "40P01") == 0)     /* deadlock_detected */
		return WD_ECONFLICT;
	if (strcmp(state, "55P03") == 0)         /* lock_not_available */
		return WD_EUNAVAILABLE;
	if (strcmp(state, "57014") == 0)         /* query_canceled (lock_timeout) */
		return WD_EUNAVAILABLE;
	/* Wrong parameter use that store_sql_check_params let through:
	 * "there is no parameter $N" and "could not determine data type of
	 * parameter $N". */
	if (strcmp(state, "42P02") == 0 || strcmp(state, "42P18") == 0)
		return WD_EINVAL;
	if (strncmp(state, "08", 2) == 0 ||      /* connection exceptions */
		strcmp(state, "57P01") == 0 ||   /* admin_shutdown */
		strcmp(state, "57P02") == 0 ||   /* crash_shutdown */
		strcmp(state, "57P03") == 0)     /* cannot_connect_now */
		return WD_EUNAVAILABLE;
	if (strcmp(state, "53200") == 0)         /* out_of_memory */
		return WD_ENOMEM;
	if (strcmp(state, "54000") == 0)         /* program_limit_exceeded */
		return WD_ETOOBIG;
	if (strcmp(state, "XX001") == 0 || strcmp(state, "XX002") == 0) /* data/index corrupted */
		return WD_ECORRUPT;
	return WD_ESTORE;
}

/* Records a failure of sql from result, or from the connection when result
 * is NULL. The detail has the statement's first words and PostgreSQL's
 * primary message, which names tables, columns and constraints. The DETAIL
 * field is left out because it quotes key values. */
static int set_postgres_error(struct postgres_store *self, const PGresult *result,
	const char *action, const char *sql, struct wd_error *err)
{
	char summary[STORE_SQL_SUMMARY_MAX];
	const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
	const char *message = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int rc;

	if (!message)
		message = PQerrorMessage(self->conn);
	if (!message || message[0] == '\0')
		message = "unknown error";

	if (PQstatus(self->conn) != CONNECTION_OK) {
		self->broken = true;
		rc = WD_EUNAVAILABLE;
	} else if (state && strcmp(state, "42601") == 0 &&
		strstr(message, "multiple commands")) {
		store_sql_summary(sql, summary);
		return wd_error_set(err, WD_EINVAL,
			"'%s' contains more than one statement: store_exec and store_query "
			"run one at a time", summary);
	} else {
		rc = map_sqlstate(state);
	}

	store_sql_summary(sql, summary);
	if (rc == WD_EUNAVAILABLE && self->broken)
		wd_error_set(err, rc,
			"%s '%s' failed: the connection to PostgreSQL was lost (%.*s); it is "
			"opened again at the next call outside a transaction", action, summary,
			(int)strcspn(message, "\n"), message);
	else if (rc == WD_EUNAVAILABLE)
		wd_error_set(err, rc,
			"%s '%s' failed: %.*s (another connection still held the lock when the "
			"lock timeout ran out, so retry later)", action, summary,
			(int)strcspn(message, "\n"), message);
	else if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		wd_error_set(err, rc, "%s '%s' failed: %.*s (a concurrent transaction "
			"conflicted; the transaction was rolled back, so retry it)", action, summary,
			(int)strcspn(message, "\n"), message);
	else
		wd_error_set(err, rc, "%s '%s' failed: %.*s", action, summary,
			(int)strcspn(message, "\n"), message);
	scrub_password(err, self->password);
	if (rc == WD_EUNAVAILABLE && self->broken)
		wd_error_set_public(err, STORE_UNAVAILABLE_PUBLIC);
	return rc;
}

/* Runs a statement of this file without parameters. */
static int exec_internal(struct postgres_store *self, const char *sql, struct wd_error *err)
{
	_wd_cleanup_(clearp) PGresult *result = NULL;
	ExecStatusType status;

	result = PQexec(self->conn, sql);
	if (!result)
		return set_postgres_error(self, NULL, "statement", sql, err);
	status = PQresultStatus(result);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		return set_postgres_error(self, result, "statement", sql, err);
	return 0;
}

/* Session settings every connection gets: no notices on stderr, UTC, and
 * lock_timeout as the counterpart of SQLite's busy timeout. */
static int configure_connection(struct postgres_store *self, struct wd_error *err)
{
	char sql[96];

	PQsetNoticeProcessor(self->conn, drop_notice, NULL);
	snprintf(sql, sizeof(sql), "SET lock_timeout = %d", self->lock_timeout_ms);
	WD_TRY(exec_internal(self, sql, err));
	WD_TRY(exec_internal(self, "SET TIME ZONE 'UTC'", err));
	return exec_internal(self, "SET client_min_messages = warning", err);
}

static void prepared_free(struct prepared_statement *statement)
{
	free(statement->sql);
	free(statement->types);
	*statement = (struct prepared_statement){ 0 };
}

/* Forgets every prepared statement without telling the server, for a
 * connection that is gone. */
static void cache_forget(struct postgres_store *self)
{
	for (size_t i = 0; i < self->cache_count; i++)
		prepared_free(&self->cache[i]);
	self->cache_count = 0;
}

static int connect_url(struct postgres_store *self, struct wd_error *err)
{
	/* Keywords before dbname only fill in what the URL leaves out. */
	const char *const keywords[] = {
		"application_name", "connect_timeout", "dbname", NULL,
	};
	const char *const values[] = { "warden", "10", self->url, NULL };
	PGconn *conn;

	conn = PQconnectdbParams(keywords, values, 1);
	if (!conn)
		return wd_error_set(err, WD_ENOMEM, "out of memory connecting to PostgreSQL");
	if (PQstatus(conn) != CONNECTION_OK) {
		const char *message = PQerrorMessage(conn);
		int rc;

		rc = wd_error_set(err, WD_EUNAVAILABLE,
			"cannot connect to PostgreSQL database \"%.64s\" at \"%.128s\": %.*s",
			PQdb(conn) ? PQdb(conn) : "", PQhost(conn) ? PQhost(conn) : "",
			(int)strcspn(message, "\n"), message);
		scrub_password(err, self->password);
		wd_error_set_public(err, STORE_UNAVAILABLE_PUBLIC);
		PQfinish(conn);
		return rc;
	}
	if (PQserverVersion(conn) < 110000) {
		int version = PQserverVersion(conn);

		PQfinish(conn);
		return wd_error_set(err, WD_EUNSUPPORTED,
			"PostgreSQL server version %d.%d is too old: the datastore needs 11 or "
			"later", version / 10000, version % 10000);
	}

	cache_forget(self);
	self->conn = conn;
	self->broken = false;
	self->in_transaction = false;
	return configure_connection(self, err);
}

/* Reconnects a lost connection. Inside a transaction the lost work cannot
 * be recovered, so the call fails until the caller ends the transaction. */
static int ensure_connection(struct postgres_store *self, struct wd_error *err)
{
	if (!self->broken && PQstatus(self->conn) == CONNECTION_OK)
		return 0;
	if (self->in_transaction)
		return wd_error_set(err, WD_EUNAVAILABLE,
			"the connection to PostgreSQL was lost inside a transaction: roll it "
			"back and retry");
	PQfinish(self->conn);
	self->conn = NULL;
	return connect_url(self, err);
}

/* Parameter arrays for PQexecParams. Integers go as decimal text typed
 * int8, blobs in binary typed bytea, text untyped so PostgreSQL infers it
 * from its use (a TEXT column or CAST). */
struct bound_params {
	Oid *types;
	const char **values;
	int *lengths;
	int *formats;
	char (*numbers)[24];
};

static void bound_params_free(struct bound_params *bound)
{
	free(bound->types);
	free(bound->values);
	free(bound->lengths);
	free(bound->formats);
	free(bound->numbers);
}

static int bind_params(const struct store_value *params, size_t count,
	struct bound_params *bound, struct wd_error *err)
{
	static const char empty[1];

	*bound = (struct bound_params){ 0 };
	if (count == 0)
		return 0;
	bound->types = wd_calloc(count, sizeof(*bound->types));
	bound->values = wd_calloc(count, sizeof(*bound->values));
	bound->lengths = wd_calloc(count, sizeof(*bound->lengths));
	bound->formats = wd_calloc(count, sizeof(*bound->formats));
	bound->numbers = wd_calloc(count, sizeof(*bound->numbers));
	if (!bound->types || !bound->values || !bound->lengths || !bound->formats ||
		!bound->numbers) {
		bound_params_free(bound);
		return wd_error_set(err, WD_ENOMEM, "out of memory binding parameters");
	}

	for (size_t i = 0; i < count; i++) {
		const struct store_value *value = &params[i];

		switch (value->type) {
		case STORE_INT:
			snprintf(bound->numbers[i], sizeof(bound->numbers[i]), "%" PRId64, value->i);
			bound->types[i] = OID_INT8;
			bound->values[i] = bound->numbers[i];
			break;
		case STORE_TEXT:
			bound->values[i] = value->text;
			break;
		case STORE_BLOB:
			bound->types[i] = OID_BYTEA;
			/* A NULL pointer would send SQL NULL. */
			bound->values[i] = value->len > 0 ? value->blob : empty;
			bound->lengths[i] = (int)value->len;
			bound->formats[i] = 1;
			break;
		case STORE_NULL:
		default:
			bound->values[i] = NULL;
			break;
		}
	}
	return 0;
}

/* Drops cache entry index and deallocates its statement on the server; a
 * failed DEALLOCATE leaves only an unused statement in the session. */
static void cache_evict(struct postgres_store *self, size_t index)
{
	char sql[48];

	snprintf(sql, sizeof(sql), "DEALLOCATE wd_%u", self->cache[index].id);
	if (!self->broken)
		(void)exec_internal(self, sql, NULL);
	prepared_free(&self->cache[index]);
	memmove(&self->cache[index], &self->cache[index + 1],
		(self->cache_count - index - 1) * sizeof(self->cache[0]));
	self->cache_count--;
}

/* Returns the cache index of the statement named name, or -1. */
static long cache_find_name(const struct postgres_store *self, const char *name)
{
	for (size_t i = 0; i < self->cache_count; i++) {
		char candidate[24];

		snprintf(candidate, sizeof(candidate), "wd_%u", self->cache[i].id);
		if (strcmp(candidate, name) == 0)
			return (long)i;
	}
	return -1;
}

/* Returns the cache index of sql with these parameter types, or -1. */
static long cache_find(const struct postgres_store *self, const char *sql, const char *types)
{
	for (size_t i = 0; i < self->cache_count; i++) {
		if (strcmp(self->cache[i].sql, sql) == 0 && strcmp(self->cache[i].types, types) == 0)
			return (long)i;
	}
	return -1;
}

/* Writes the type letters of bound's parameters to types (count + 1 bytes). */
static void type_letters(const struct bound_params *bound, size_t count, char *types)
{
	for (size_t i = 0; i < count; i++) {
		if (bound->types[i] == OID_INT8)
			types[i] = 'i';
		else if (bound->types[i] == OID_BYTEA)
			types[i] = 'b';
		else
			types[i] = 'u';
	}
	types[count] = '\0';
}

/* Finds or prepares the statement for sql and moves it to the front of the
 * cache; its name goes to name. */
static int prepare_cached(struct postgres_store *self, const char *sql,
	const struct bound_params *bound, size_t param_count, char name[static 24],
	struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *types = wd_calloc(param_count + 1, 1);
	_wd_cleanup_(clearp) PGresult *result = NULL;
	struct prepared_statement statement;
	long index;

	if (!types)
		return wd_error_set(err, WD_ENOMEM, "out of memory preparing a statement");
	type_letters(bound, param_count, types);

	index = cache_find(self, sql, types);
	if (index >= 0) {
		statement = self->cache[index];
		memmove(&self->cache[1], &self->cache[0], (size_t)index * sizeof(self->cache[0]));
		self->cache[0] = statement;
		snprintf(name, 24, "wd_%u", statement.id);
		return 0;
	}

	statement = (struct prepared_statement){ .id = self->next_statement_id++ };
	snprintf(name, 24, "wd_%u", statement.id);
	result = PQprepare(self->conn, name, sql, (int)param_count, bound->types);
	if (!result || PQresultStatus(result) != PGRES_COMMAND_OK)
		return set_postgres_error(self, result, "preparing", sql, err);

	statement.sql = wd_strdup(sql);
	statement.types = WD_TAKE_PTR(types);
	if (!statement.sql) {
		free(statement.types);
		return wd_error_set(err, WD_ENOMEM, "out of memory preparing a statement");
	}
	if (self->cache_count == STATEMENT_CACHE_SIZE)
		cache_evict(self, STATEMENT_CACHE_SIZE - 1);
	memmove(&self->cache[1], &self->cache[0], self->cache_count * sizeof(self->cache[0]));
	self->cache[0] = statement;
	self->cache_count++;
	return 0;
}

/* Returns whether result is the error of a prepared statement whose result
 * columns changed under it (ALTER TABLE under SELECT *), which preparing it
 * again fixes. */
static bool plan_changed(const PGresult *result)
{
	const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;

	return state && strcmp(state, "0A000") == 0;
}

/* Runs sql with params and stores its result. Inside a transaction the
 * statement runs in a savepoint, so a failed statement (a duplicate key
 * the caller handles, say) undoes only itself, as in SQLite, instead of
 * aborting the whole transaction. The savepoint of the previous statement
 * is released in the same round trip that sets the next one, and COMMIT
 * releases the last. */
static int run_statement(struct postgres_store *self, const char *sql,
	const struct store_value *params, size_t param_count, PGresult **ret_result,
	struct wd_error *err)
{
	_wd_cleanup_(clearp) PGresult *result = NULL;
	struct bound_params bound;
	ExecStatusType status;
	int rc;

	*ret_result = NULL;
	if (store_sql_is_transaction_control(sql)) {
		char summary[STORE_SQL_SUMMARY_MAX];

		store_sql_summary(sql, summary);
		return wd_error_set(err, WD_EINVAL,
			"'%s' is rejected: use store_begin, store_commit and store_rollback "
			"for transactions", summary);
	}
	WD_TRY(store_sql_check_params(sql, param_count, err));
	WD_TRY(ensure_connection(self, err));
	WD_TRY(bind_params(params, param_count, &bound, err));

	if (self->in_transaction) {
		rc = exec_internal(self, self->savepoint_open ?
			"RELEASE SAVEPOINT wd_statement; SAVEPOINT wd_statement" :
			"SAVEPOINT wd_statement", err);
		if (rc < 0)
			goto out;
		self->savepoint_open = true;
	}

	for (int attempt = 0;; attempt++) {
		char name[24];
		long index;

		rc = prepare_cached(self, sql, &bound, param_count, name, err);
		if (rc < 0) {
			if (self->in_transaction && !self->broken)
				(void)exec_internal(self, "ROLLBACK TO SAVEPOINT wd_statement", NULL);
			goto out;
		}
		result = PQexecPrepared(self->conn, name, (int)param_count, bound.values,
			bound.lengths, bound.formats, 0);
		status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
		if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
			break;
		/* A statement that failed is prepared afresh next time. Inside a
		 * transaction the savepoint is rolled back first, because an
		 * aborted transaction rejects DEALLOCATE. */
		if (self->in_transaction && !self->broken)
			(void)exec_internal(self, "ROLLBACK TO SAVEPOINT wd_statement", NULL);
		index = cache_find_name(self, name);
		if (index >= 0)
			cache_evict(self, (size_t)index);
		if (attempt > 0 || !plan_changed(result))
			break;
		PQclear(result);
		result = NULL;
	}
	if (status == PGRES_EMPTY_QUERY) {
		rc = wd_error_set(err, WD_EINVAL, "the SQL statement is empty");
		goto out;
	}
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		/* The savepoint was rolled back above; ROLLBACK TO keeps it open. */
		rc = set_postgres_error(self, result, "statement", sql, err);
		goto out;
	}
	*ret_result = WD_TAKE_PTR(result);
	rc = 0;
out:
	bound_params_free(&bound);
	return rc;
}

static int postgres_exec(void *handle, const char *sql, const struct store_value *params,
	size_t param_count, int64_t *ret_changes, struct wd_error *err)
{
	_wd_cleanup_(clearp) PGresult *result = NULL;
	const char *tuples;

	WD_TRY(run_statement(handle, sql, params, param_count, &result, err));
	tuples = PQcmdTuples(result);
	if (ret_changes)
		*ret_changes = tuples && tuples[0] ? strtoll(tuples, NULL, 10) : 0;
	return 0;
}

static void cursor_clear_blobs(struct postgres_cursor *cursor)
{
	if (!cursor->blobs)
		return;
	for (int i = 0; i < cursor->columns; i++) {
		PQfreemem(cursor->blobs[i]);
		cursor->blobs[i] = NULL;
	}
}

static int postgres_query(void *handle, const char *sql, const struct store_value *params,
	size_t param_count, store_row_fn on_row, void *context, struct wd_error *err)
{
	_wd_cleanup_(clearp) PGresult *result = NULL;
	struct postgres_cursor cursor = { 0 };
	struct store_row row;
	int rows;
	int rc = 0;

	WD_TRY(run_statement(handle, sql, params, param_count, &result, err));
	cursor.result = result;
	cursor.columns = PQnfields(result);
	if (cursor.columns > 0) {
		cursor.blobs = wd_calloc((size_t)cursor.columns, sizeof(*cursor.blobs));
		cursor.blob_lengths = wd_calloc((size_t)cursor.columns,
			sizeof(*cursor.blob_lengths));
		if (!cursor.blobs || !cursor.blob_lengths) {
			free(cursor.blobs);
			free(cursor.blob_lengths);
			return wd_error_set(err, WD_ENOMEM, "out of memory reading query rows");
		}
	}

	row = (struct store_row){ .ops = &store_postgres_ops, .cursor = &cursor };
	rows = PQntuples(result);
	for (int i = 0; i < rows; i++) {
		cursor.row = i;
		rc = on_row(context, &row);
		cursor_clear_blobs(&cursor);
		if (rc < 0)
			break;
	}
	if (rc > 0)
		rc = 0;
	free(cursor.blobs);
	free(cursor.blob_lengths);
	return rc;
}

/* Runs a migration script: several statements in one simple-query
 * message, which PostgreSQL runs within the open transaction. A script
 * that ended or opened a transaction itself is rejected. */
static int postgres_exec_script(void *handle, const char *sql, struct wd_error *err)
{
	struct postgres_store *self = handle;
	_wd_cleanup_(clearp) PGresult *result = NULL;
	PGTransactionStatusType before;
	PGTransactionStatusType after;
	ExecStatusType status;

	WD_TRY(store_sql_check_script(sql, err));
	WD_TRY(ensure_connection(self, err));
	before = PQtransactionStatus(self->conn);
	result = PQexec(self->conn, sql);
	status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY)
		return set_postgres_error(self, result, "statement", sql, err);
	after = PQtransactionStatus(self->conn);
	if (before != after) {
		char summary[STORE_SQL_SUMMARY_MAX];

		store_sql_summary(sql, summary);
		if (after == PQTRANS_INTRANS)
			(void)exec_internal(self, "ROLLBACK", NULL);
		self->in_transaction = false;
		return wd_error_set(err, WD_EINVAL,
			"script '%s' began or ended a transaction, which is rejected: use "
			"store_begin, store_commit and store_rollback for transactions", summary);
	}
	return 0;
}

/* READ COMMITTED, the default, plus one transaction-scoped advisory lock
 * shared by every warden server on the database. The lock makes write
 * transactions run one at a time, as SQLite's BEGIN IMMEDIATE does, so
 * callers that read a counter and write it back (the registry's change
 * sequence, the authority's serial and slot counters, token use counts)
 * never lose an update and never see a serialization failure to retry.
 * Each statement of a READ COMMITTED transaction sees everything committed
 * before it started, so once the lock is held every read sees the last
 * writer's commit. Statements outside a transaction run in autocommit and
 * do not wait for the lock. A lock still held after the lock timeout fails
 * with WD_EUNAVAILABLE, like SQLite's busy timeout. */
static int postgres_begin(void *handle, struct wd_error *err)
{
	struct postgres_store *self = handle;
	int rc;

	WD_TRY(ensure_connection(self, err));
	/* One round trip: a simple query may hold several statements. */
	rc = exec_internal(self, "BEGIN ISOLATION LEVEL READ COMMITTED; "
		"SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")", err);
	if (rc < 0) {
		if (!self->broken)
			(void)exec_internal(self, "ROLLBACK", NULL);
		return rc;
	}
	self->in_transaction = true;
	self->savepoint_open = false;
	return 0;
}

static int postgres_commit(void *handle, struct wd_error *err)
{
	struct postgres_store *self = handle;
	_wd_cleanup_(clearp) PGresult *result = NULL;
	const char *tag;

	if (self->broken) {
		self->in_transaction = false;
		return wd_error_set(err, WD_EUNAVAILABLE,
			"commit failed: the connection to PostgreSQL was lost, so the "
			"transaction was rolled back");
	}
	result = PQexec(self->conn, "COMMIT");
	self->in_transaction = false;
	if (!result || PQresultStatus(result) != PGRES_COMMAND_OK)
		return set_postgres_error(self, result, "statement", "COMMIT", err);
	/* COMMIT of a transaction in the aborted state returns the tag ROLLBACK. */
	tag = PQcmdStatus(result);
	if (tag && strcmp(tag, "ROLLBACK") == 0)
		return wd_error_set(err, WD_ECONFLICT,
			"commit failed: a statement of the transaction failed, so PostgreSQL "
			"rolled it back");
	return 0;
}

static void postgres_rollback(void *handle)
{
	struct postgres_store *self = handle;

	self->in_transaction = false;
	if (self->broken || !self->conn || PQtransactionStatus(self->conn) == PQTRANS_IDLE)
		return;
	(void)exec_internal(self, "ROLLBACK", NULL);
}

static int postgres_table_exists(void *handle, const char *table, bool *ret_exists,
	struct wd_error *err)
{
	static const char sql[] = "SELECT to_regclass($1) IS NOT NULL";
	_wd_cleanup_(clearp) PGresult *result = NULL;
	struct store_value name = STORE_TEXT_VALUE(table);

	*ret_exists = false;
	WD_TRY(run_statement(handle, sql, &name, 1, &result, err));
	*ret_exists = PQntuples(result) == 1 && strcmp(PQgetvalue(result, 0, 0), "t") == 0;
	return 0;
}

static const char *postgres_migration_sql(const struct store_migration *migration)
{
	return migration->sql_postgres;
}

static size_t postgres_row_columns(void *cursor)
{
	return (size_t)((struct postgres_cursor *)cursor)->columns;
}

static bool postgres_row_is_null(void *cursor, size_t column)
{
	struct postgres_cursor *self = cursor;

	return PQgetisnull(self->result, self->row, (int)column) != 0;
}

/* Integers come as decimal text; a boolean reads as 1 or 0 and anything
 * else as the number it starts with, or 0, as SQLite converts. */
static int64_t postgres_row_int(void *cursor, size_t column)
{
	struct postgres_cursor *self = cursor;
	const char *text;
	long long value;

	if (PQgetisnull(self->result, self->row, (int)column))
		return 0;
	text = PQgetvalue(self->result, self->row, (int)column);
	if (PQftype(self->result, (int)column) == OID_BOOL)
		return text[0] == 't';
	errno = 0;
	value = strtoll(text, NULL, 10);
	return errno == ERANGE ? 0 : value;
}

static const char *postgres_row_text(void *cursor, size_t column)
{
	struct postgres_cursor *self = cursor;

	if (PQgetisnull(self->result, self->row, (int)column))
		return NULL;
	return PQgetvalue(self->result, self->row, (int)column);
}

/* bytea arrives in PostgreSQL's hex text form and is decoded once per row
 * and column; other types give their text bytes, as SQLite does. */
static const void *postgres_row_blob(void *cursor, size_t column, size_t *ret_len)
{
	static const unsigned char empty[1];
	struct postgres_cursor *self = cursor;
	int index = (int)column;
	const char *text;

	if (PQgetisnull(self->result, self->row, index))
		return NULL;
	text = PQgetvalue(self->result, self->row, index);
	if (PQftype(self->result, index) != OID_BYTEA) {
		if (ret_len)
			*ret_len = (size_t)PQgetlength(self->result, self->row, index);
		return text;
	}
	if (!self->blobs[column]) {
		size_t length = 0;

		self->blobs[column] = PQunescapeBytea((const unsigned char *)text, &length);
		if (!self->blobs[column])
			return NULL;
		self->blob_lengths[column] = length;
	}
	if (ret_len)
		*ret_len = self->blob_lengths[column];
	return self->blob_lengths[column] > 0 ? self->blobs[column] : empty;
}

/* Scrubs the length bytes at password from err's detail. Without memory
 * for the copy it drops the whole detail past its prefix, since the detail
 * may quote the password. */
static void scrub_slice(struct wd_error *err, const char *prefix, const char *password,
	size_t length)
{
	char *copy;

	if (length == 0)
		return;
	copy = wd_strndup(password, length);
	if (!copy) {
		snprintf(err->detail, sizeof(err->detail), "%s", prefix);
		return;
	}
	scrub_password(err, copy);
	explicit_bzero(copy, length);
	free(copy);
}

/* Scrubs from err's detail every password that url spells out: the
 * userinfo's, from its first ':' to the first '@' before the path, where
 * libpq 15 ends it, and each "password=" query value. libpq's parse errors
 * quote the token they reject, or for some errors the whole URL, so
 * PQconninfoParse's message may hold either, raw and not percent-decoded. */
static void scrub_url_passwords(struct wd_error *err, const char *prefix, const char *url)
{
	const char *authority = strstr(url, "://");
	const char *query;
	size_t authority_length;
	const char *at;

	if (!authority)
		return;
	authority += 3;
	authority_length = strcspn(authority, "/");
	at = memchr(authority, '@', authority_length);
	if (at) {
		const char *colon = memchr(authority, ':', (size_t)(at - authority));

		if (colon)
			scrub_slice(err, prefix, colon + 1, (size_t)(at - colon - 1));
	}

	query = strchr(authority, '?');
	while (query) {
		const char *pair = query + 1;
		size_t pair_length = strcspn(pair, "&");
		static const char key[] = "password=";

		if (pair_length >= sizeof(key) - 1 && strncmp(pair, key, sizeof(key) - 1) == 0)
			scrub_slice(err, prefix, pair + sizeof(key) - 1,
				pair_length - (sizeof(key) - 1));
		query = pair[pair_length] == '&' ? pair + pair_length : NULL;
	}
}

/* Copies the password of url, if it has one, for scrubbing error details. */
static int find_password(const char *url, char **ret_password, struct wd_error *err)
{
	PQconninfoOption *options;
	char *message = NULL;

	*ret_password = NULL;
	options = PQconninfoParse(url, &message);
	if (!options) {
		int rc;

		/* libpq's message names the part it could not parse, which can be
		 * the password or the whole URL, so the passwords are scrubbed. */
		rc = wd_error_set(err, WD_ECONFIG, "invalid PostgreSQL datastore URL: %.*s",
			message ? (int)strcspn(message, "\n") : 14,
			message ? message : "unknown reason");
		scrub_url_passwords(err, "invalid PostgreSQL datastore URL", url);
		PQfreemem(message);
		return rc;
	}
	for (PQconninfoOption *option = options; option->keyword; option++) {
		if (strcmp(option->keyword, "password") != 0 || !option->val)
			continue;
		*ret_password = wd_strdup(option->val);
		if (!*ret_password) {
			PQconninfoFree(options);
			return wd_error_set(err, WD_ENOMEM, "out of memory opening the datastore");
		}
	}
	PQconninfoFree(options);
	return 0;
}

static void postgres_close(void *handle)
{
	struct postgres_store *self = handle;

	if (!self)
		return;
	cache_forget(self);
	PQfinish(self->conn);
	free(self->url);
	if (self->password) {
		explicit_bzero(self->password, strlen(self->password));
		free(self->password);
	}
	free(self);
}

static int postgres_open(const char *location, const struct store_options *options,
	void **ret_handle, struct wd_error *err)
{
	static const char scheme[] = "postgresql://";
	struct postgres_store *self;
	size_t length;
	int rc;

	*ret_handle = NULL;
	self = wd_calloc(1, sizeof(*self));
	if (!self)
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the datastore");
	self->lock_timeout_ms = DEFAULT_LOCK_TIMEOUT_MS;
	if (options && options->busy_timeout_ms > 0)
		self->lock_timeout_ms = options->busy_timeout_ms;

	length = strlen(location);
	self->url = wd_calloc(sizeof(scheme) + length, 1);
	if (!self->url) {
		postgres_close(self);
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the datastore");
	}
	memcpy(self->url, scheme, sizeof(scheme) - 1);
	memcpy(self->url + sizeof(scheme) - 1, location, length + 1);

	rc = find_password(self->url, &self->password, err);
	if (rc == 0)
		rc = connect_url(self, err);
	if (rc < 0) {
		postgres_close(self);
		return rc;
	}
	*ret_handle = self;
	return 0;
}

/* ---- Change notification ---- */

static int postgres_notify(void *handle, const char *payload, struct wd_error *err)
{
	struct store_value params[] = {
		STORE_TEXT_VALUE(STORE_NOTIFY_CHANNEL),
		STORE_TEXT_VALUE(payload),
	};
	PGresult *result = NULL;
	int rc;

	/* pg_notify inside the caller's transaction is held until COMMIT and
	 * dropped by ROLLBACK, which is what tells other servers only of
	 * changes that happened. */
	rc = run_statement(handle, "SELECT pg_notify($1, $2)", params, 2, &result, err);
	PQclear(result);
	return rc;
}

static int postgres_listen(void *handle, struct wd_error *err)
{
	struct postgres_store *self = handle;

	WD_TRY(ensure_connection(self, err));
	return exec_internal(self, "LISTEN " STORE_NOTIFY_CHANNEL, err);
}

static int postgres_listen_fd(void *handle)
{
	struct postgres_store *self = handle;

	if (!self->conn || self->broken)
		return -1;
	return PQsocket(self->conn);
}

static int postgres_listen_drain(void *handle, void (*fn)(const char *payload, void *arg),
	void *arg, struct wd_error *err)
{
	struct postgres_store *self = handle;
	PGnotify *notification;

	if (self->broken || !self->conn || PQconsumeInput(self->conn) != 1 ||
	    PQstatus(self->conn) != CONNECTION_OK) {
		self->broken = true;
		return wd_error_set(err, WD_EUNAVAILABLE, "the PostgreSQL listener connection "
			"was lost");
	}
	while ((notification = PQnotifies(self->conn)) != NULL) {
		if (strcmp(notification->relname, STORE_NOTIFY_CHANNEL) == 0)
			fn(notification->extra, arg);
		PQfreemem(notification);
	}
	return 0;
}

const struct store_backend_ops store_postgres_ops = {
	.name = "postgres",
	.open = postgres_open,
	.close = postgres_close,
	.exec = postgres_exec,
	.query = postgres_query,
	.exec_script = postgres_exec_script,
	.begin = postgres_begin,
	.commit = postgres_commit,
	.rollback = postgres_rollback,
	.table_exists = postgres_table_exists,
	.migration_sql = postgres_migration_sql,
	.notify = postgres_notify,
	.listen = postgres_listen,
	.listen_fd = postgres_listen_fd,
	.listen_drain = postgres_listen_drain,
	.row_columns = postgres_row_columns,
	.row_is_null = postgres_row_is_null,
	.row_int = postgres_row_int,
	.row_text = postgres_row_text,
	.row_blob = postgres_row_blob,
};
