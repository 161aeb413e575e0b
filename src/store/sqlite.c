/* The SQLite backend: one connection per store, a file created 0600, WAL
 * journal with synchronous=NORMAL, enforced foreign keys, $1..$N parameters
 * bound by number, and a cache of prepared statements. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/alloc.h"
#include "store/store_backend.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000

/* Prepared statements kept per connection. The authority's per-SVID
 * INSERT and the registry's few lookups fit many times over. */
#define STATEMENT_CACHE_SIZE 32

struct cached_statement {
	char *sql;           /* the caller's text, the cache key */
	sqlite3_stmt *stmt;  /* reset, with no bindings */
};

struct sqlite_store {
	sqlite3 *db;
	/* Set only while this file prepares its own BEGIN, COMMIT or ROLLBACK.
	 * The authorizer rejects those statements in caller SQL and migrations,
	 * because they would bypass the nesting counter in store.c. */
	bool transaction_control;
	/* Statements not in use, most recently used first, so that running
	 * the same SQL again skips sqlite3_prepare. A statement in use is
	 * taken out, so a query nested in another's row callback never gets
	 * a statement that is still running. */
	struct cached_statement cache[STATEMENT_CACHE_SIZE];
	size_t cache_count;
};

static void finalizep(sqlite3_stmt **stmt)
{
	sqlite3_finalize(*stmt);
	*stmt = NULL;
}

/* Maps an extended SQLite result code to a warden error code. */
static int map_result(int code)
{
	switch (code) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_ROWID:
		return WD_EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return WD_ECONFLICT;
	default:
		break;
	}

	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return WD_EUNAVAILABLE;
	case SQLITE_NOMEM:
		return WD_ENOMEM;
	case SQLITE_TOOBIG:
		return WD_ETOOBIG;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return WD_ECORRUPT;
	default:
		return WD_ESTORE;
	}
}

/* Records a failure of sql. The detail contains the statement's first words
 * and SQLite's message, which names tables, columns and constraints but not
 * the bound values. */
static int set_sqlite_error(sqlite3 *db, int code, const char *action, const char *sql,
	struct wd_error *err)
{
	char summary[STORE_SQL_SUMMARY_MAX];
	int rc = map_result(code);

	store_sql_summary(sql, summary);
	if ((code & 0xff) == SQLITE_AUTH)
		return wd_error_set(err, WD_EINVAL,
			"'%s' is rejected: use store_begin, store_commit and store_rollback "
			"for transactions", summary);
	if (rc == WD_EUNAVAILABLE)
		return wd_error_set(err, rc,
			"%s '%s' failed: %s (another connection still held the lock when the "
			"busy timeout ran out, so retry later)", action, summary,
			sqlite3_errmsg(db));
	return wd_error_set(err, rc, "%s '%s' failed: %s", action, summary,
		sqlite3_errmsg(db));
}

/* Parses a parameter name of the form $N, N from 1 without leading zeros, into
 * ret_number; returns false for any other form. */
static bool parse_parameter_name(const char *name, size_t *ret_number)
{
	size_t number = 0;

	*ret_number = 0;
	if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
		return false;

	for (const char *p = name + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		/* Any N above INT32_MAX is out of range, so stop before overflow. */
		if (number > INT32_MAX)
			return false;
		number = number * 10 + (size_t)(*p - '0');
	}
	*ret_number = number;
	return true;
}

static int bind_value(sqlite3_stmt *stmt, int index, const struct store_value *value)
{
	switch (value->type) {
	case STORE_INT:
		return sqlite3_bind_int64(stmt, index, value->i);
	case STORE_TEXT:
		return sqlite3_bind_text64(stmt, index, value->text, strlen(value->text),
			SQLITE_STATIC, SQLITE_UTF8);
	case STORE_BLOB:
		/* A NULL pointer would bind SQL NULL, so an empty blob is bound as a
		 * zero-length zeroblob to stay a blob. */
		if (value->len == 0)
			return sqlite3_bind_zeroblob(stmt, index, 0);
		return sqlite3_bind_blob64(stmt, index, value->blob, value->len, SQLITE_STATIC);
	case STORE_NULL:
	default:
		return sqlite3_bind_null(stmt, index);
	}
}

/* Binds params to the $N references of stmt. SQLite treats "$2" as a named
 * parameter and numbers names in order of first use, so in "a = $2 AND b = $1"
 * index 1 is "$2". Each index is therefore bound by its name. Every $N must be
 * within param_count and every parameter must be used, as PostgreSQL
 * requires. */
static int bind_parameters(sqlite3 *db, sqlite3_stmt *stmt, const char *sql,
	const struct store_value *params, size_t param_count, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) bool *used = NULL;
	char summary[STORE_SQL_SUMMARY_MAX];
	int count = sqlite3_bind_parameter_count(stmt);

	store_sql_summary(sql, summary);
	if (param_count > 0) {
		used = wd_calloc(param_count, sizeof(*used));
		if (!used)
			return wd_error_set(err, WD_ENOMEM, "out of memory binding parameters");
	}

	for (int index = 1; index <= count; index++) {
		const char *name = sqlite3_bind_parameter_name(stmt, index);
		size_t number;
		int code;

		if (!parse_parameter_name(name, &number))
			return wd_error_set(err, WD_EINVAL,
				"statement '%s' uses parameter '%s': only $1..$N are supported",
				summary, name ? name : "?");
		if (number > param_count)
			return wd_error_set(err, WD_EINVAL,
				"statement '%s' uses %s but param_count is %zu", summary, name,
				param_count);

		code = bind_value(stmt, index, &params[number - 1]);
		if (code != SQLITE_OK)
			return set_sqlite_error(db, code, "binding parameter of", sql, err);
		used[number - 1] = true;
	}

	for (size_t i = 0; i < param_count; i++) {
		if (!used[i])
			return wd_error_set(err, WD_EINVAL,
				"statement '%s' does not use parameter $%zu of the %zu given",
				summary, i + 1, param_count);
	}
	return 0;
}

/* Takes the cached statement for sql out of the cache; NULL when there is
 * none. */
static sqlite3_stmt *cache_take(struct sqlite_store *self, const char *sql)
{
	for (size_t i = 0; i < self->cache_count; i++) {
		struct cached_statement entry = self->cache[i];

		if (strcmp(entry.sql, sql) != 0)
			continue;
		memmove(&self->cache[i], &self->cache[i + 1],
			(self->cache_count - i - 1) * sizeof(self->cache[0]));
		self->cache_count--;
		free(entry.sql);
		return entry.stmt;
	}
	return NULL;
}

/* Resets stmt, drops its bindings, which may point at freed caller memory
 * or secrets, and puts it first in the cache; the least recently used
 * statement is finalized when the cache is full. A statement that cannot
 * be cached is finalized. */
static void cache_put(struct sqlite_store *self, const char *sql, sqlite3_stmt *stmt)
{
	char *key;

	if (!stmt)
		return;
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	key = wd_strdup(sql);
	if (!key) {
		sqlite3_finalize(stmt);
		return;
	}
	if (self->cache_count == STATEMENT_CACHE_SIZE) {
		struct cached_statement *last = &self->cache[STATEMENT_CACHE_SIZE - 1];

		sqlite3_finalize(last->stmt);
		free(last->sql);
		self->cache_count--;
	}
	memmove(&self->cache[1], &self->cache[0], self->cache_count * sizeof(self->cache[0]));
	self->cache[0] = (struct cached_statement){ .sql = key, .stmt = stmt };
	self->cache_count++;
}

static void cache_clear(struct sqlite_store *self)
{
	for (size_t i = 0; i < self->cache_count; i++) {
		sqlite3_finalize(self->cache[i].stmt);
		free(self->cache[i].sql);
	}
	self->cache_count = 0;
}

/* Finishes with a statement from prepare_statement: back to the cache
 * after success, finalized after an error so that no statement in an
 * unknown state is reused. */
static void statement_release(struct sqlite_store *self, const char *sql, sqlite3_stmt *stmt,
	int rc)
{
	if (rc < 0)
		sqlite3_finalize(stmt);
	else
		cache_put(self, sql, stmt);
}

/* Prepares exactly one statement of sql, or takes it from the cache, and
 * binds params to it. Hand the statement to statement_release. */
static int prepare_statement(struct sqlite_store *self, const char *sql,
	const struct store_value *params, size_t param_count, sqlite3_stmt **ret_stmt,
	struct wd_error *err)
{
	_wd_cleanup_(finalizep) sqlite3_stmt *stmt = NULL;
	_wd_cleanup_(finalizep) sqlite3_stmt *extra = NULL;
	char summary[STORE_SQL_SUMMARY_MAX];
	sqlite3 *db = self->db;
	const char *tail = NULL;
	int code;
	int rc;

	*ret_stmt = NULL;
	stmt = cache_take(self, sql);
	if (stmt) {
		/* The text passed the one-statement check when it was cached. */
		rc = bind_parameters(db, stmt, sql, params, param_count, err);
		if (rc < 0)
			return rc;
		*ret_stmt = WD_TAKE_PTR(stmt);
		return 0;
	}

	code = sqlite3_prepare_v2(db, sql, -1, &stmt, &tail);
	if (code != SQLITE_OK)
		return set_sqlite_error(db, code, "preparing", sql, err);
	if (!stmt)
		return wd_error_set(err, WD_EINVAL, "the SQL statement is empty");

	/* A second statement would be ignored silently, so it is rejected. */
	code = sqlite3_prepare_v2(db, tail, -1, &extra, NULL);
	if (code != SQLITE_OK || extra) {
		store_sql_summary(sql, summary);
		return wd_error_set(err, WD_EINVAL,
			"'%s' contains more than one statement: store_exec and store_query "
			"run one at a time", summary);
	}

	rc = bind_parameters(db, stmt, sql, params, param_count, err);
	if (rc < 0)
		return rc;

	*ret_stmt = WD_TAKE_PTR(stmt);
	return 0;
}

static int64_t total_changes(sqlite3 *db)
{
#if SQLITE_VERSION_NUMBER >= 3037000
	return sqlite3_total_changes64(db);
#else
	return sqlite3_total_changes(db);
#endif
}

static int64_t last_changes(sqlite3 *db)
{
#if SQLITE_VERSION_NUMBER >= 3037000
	return sqlite3_changes64(db);
#else
	return sqlite3_changes(db);
#endif
}

static int sqlite_exec(void *handle, const char *sql, const struct store_value *params,
	size_t param_count, int64_t *ret_changes, struct wd_error *err)
{
	struct sqlite_store *self = handle;
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = self->db;
	int64_t before;
	int code;
	int rc;

	rc = prepare_statement(self, sql, params, param_count, &stmt, err);
	if (rc < 0)
		return rc;

	before = total_changes(db);
	do {
		code = sqlite3_step(stmt);
	} while (code == SQLITE_ROW);
	if (code != SQLITE_DONE) {
		rc = set_sqlite_error(db, code, "statement", sql, err);
		goto out;
	}

	/* sqlite3_changes keeps the count of the last INSERT, UPDATE or DELETE,
	 * even after a statement of another kind, so it is read only when this
	 * statement changed rows. */
	if (ret_changes)
		*ret_changes = total_changes(db) != before ? last_changes(db) : 0;
	rc = 0;
out:
	statement_release(self, sql, stmt, rc);
	return rc;
}

static int sqlite_query(void *handle, const char *sql, const struct store_value *params,
	size_t param_count, store_row_fn on_row, void *context, struct wd_error *err)
{
	struct sqlite_store *self = handle;
	sqlite3_stmt *stmt = NULL;
	struct store_row row;
	int rc;

	rc = prepare_statement(self, sql, params, param_count, &stmt, err);
	if (rc < 0)
		return rc;

	row = (struct store_row){ .ops = &store_sqlite_ops, .cursor = stmt };
	for (;;) {
		int code = sqlite3_step(stmt);

		if (code == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (code != SQLITE_ROW) {
			rc = set_sqlite_error(self->db, code, "query", sql, err);
			break;
		}
		rc = on_row(context, &row);
		if (rc < 0)
			break;
	}
	/* A callback's error leaves the statement healthy, but it is
	 * finalized like any other failure to keep one rule. */
	statement_release(self, sql, stmt, rc);
	return rc;
}

/* Runs one statement of a script and stores where the next one starts. */
static int run_script_statement(sqlite3 *db, const char *sql, const char **ret_next,
	struct wd_error *err)
{
	_wd_cleanup_(finalizep) sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;
	int code;

	*ret_next = NULL;
	code = sqlite3_prepare_v2(db, sql, -1, &stmt, &tail);
	if (code != SQLITE_OK)
		return set_sqlite_error(db, code, "preparing", sql, err);

	if (stmt) {
		if (sqlite3_bind_parameter_count(stmt) > 0) {
			char summary[STORE_SQL_SUMMARY_MAX];

			store_sql_summary(sql, summary);
			return wd_error_set(err, WD_EINVAL,
				"script statement '%s' has parameters, which scripts cannot bind: "
				"write the values into the SQL", summary);
		}
		do {
			code = sqlite3_step(stmt);
		} while (code == SQLITE_ROW);
		if (code != SQLITE_DONE)
			return set_sqlite_error(db, code, "statement", sql, err);
	}

	*ret_next = tail;
	return 0;
}

static int sqlite_exec_script(void *handle, const char *sql, struct wd_error *err)
{
	sqlite3 *db = ((struct sqlite_store *)handle)->db;
	const char *next = sql;

	while (*next) {
		const char *statement = next;
		int rc;

		rc = run_script_statement(db, statement, &next, err);
		if (rc < 0)
			return rc;
		/* Only whitespace or comments remained. */
		if (next == statement)
			break;
	}
	return 0;
}

static int exec_plain(sqlite3 *db, const char *sql, struct wd_error *err)
{
	_wd_cleanup_(finalizep) sqlite3_stmt *stmt = NULL;
	int code;

	code = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (code != SQLITE_OK)
		return set_sqlite_error(db, code, "preparing", sql, err);
	code = sqlite3_step(stmt);
	if (code != SQLITE_DONE && code != SQLITE_ROW)
		return set_sqlite_error(db, code, "statement", sql, err);
	return 0;
}

/* IMMEDIATE takes the write lock at once, waiting up to the busy timeout. A
 * deferred transaction that reads first and writes later can instead fail
 * at the write without waiting, when another connection committed in
 * between. */
/* Runs one of this file's own transaction statements past the authorizer. */
static int exec_transaction_control(struct sqlite_store *self, const char *sql,
	struct wd_error *err)
{
	int rc;

	self->transaction_control = true;
	rc = exec_plain(self->db, sql, err);
	self->transaction_control = false;
	return rc;
}

static int sqlite_begin(void *handle, struct wd_error *err)
{
	return exec_transaction_control(handle, "BEGIN IMMEDIATE", err);
}

static int sqlite_commit(void *handle, struct wd_error *err)
{
	return exec_transaction_control(handle, "COMMIT", err);
}

static void sqlite_rollback(void *handle)
{
	struct sqlite_store *self = handle;
	int rc;

	/* SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR,
	 * SQLITE_NOMEM), and then a ROLLBACK would fail. */
	if (sqlite3_get_autocommit(self->db))
		return;
	/* A failed ROLLBACK leaves nothing to do: SQLite ends the transaction
	 * when the connection closes. */
	rc = exec_transaction_control(self, "ROLLBACK", NULL);
	(void)rc;
}

static int sqlite_table_exists(void *handle, const char *table, bool *ret_exists,
	struct wd_error *err)
{
	static const char sql[] = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1";
	struct sqlite_store *self = handle;
	struct store_value name = STORE_TEXT_VALUE(table);
	sqlite3_stmt *stmt = NULL;
	int code;
	int rc;

	*ret_exists = false;
	rc = prepare_statement(self, sql, &name, 1, &stmt, err);
	if (rc < 0)
		return rc;

	code = sqlite3_step(stmt);
	if (code != SQLITE_ROW && code != SQLITE_DONE) {
		rc = set_sqlite_error(self->db, code, "query", sql, err);
	} else {
		*ret_exists = code == SQLITE_ROW;
		rc = 0;
	}
	statement_release(self, sql, stmt, rc);
	return rc;
}

static const char *sqlite_migration_sql(const struct store_migration *migration)
{
	return migration->sql_sqlite;
}

static size_t sqlite_row_columns(void *cursor)
{
	int count = sqlite3_data_count(cursor);

	return count > 0 ? (size_t)count : 0;
}

static bool sqlite_row_is_null(void *cursor, size_t column)
{
	return sqlite3_column_type(cursor, (int)column) == SQLITE_NULL;
}

static int64_t sqlite_row_int(void *cursor, size_t column)
{
	return sqlite3_column_int64(cursor, (int)column);
}

static const char *sqlite_row_text(void *cursor, size_t column)
{
	return (const char *)sqlite3_column_text(cursor, (int)column);
}

static const void *sqlite_row_blob(void *cursor, size_t column, size_t *ret_len)
{
	/* sqlite3_column_blob returns NULL for an empty blob, which callers would
	 * read as SQL NULL, so a non-NULL empty value gets this pointer. */
	static const unsigned char empty[1];
	const void *data;
	int length;

	if (sqlite3_column_type(cursor, (int)column) == SQLITE_NULL)
		return NULL;

	data = sqlite3_column_blob(cursor, (int)column);
	length = sqlite3_column_bytes(cursor, (int)column);
	if (length <= 0)
		data = empty;
	if (ret_len)
		*ret_len = length > 0 ? (size_t)length : 0;
	return data;
}

/* Creates path with mode 0600 if it is missing, before SQLite opens it, so
 * the database and the -wal and -shm files, which SQLite creates with the
 * database file's mode, are never readable by others. An existing file open
 * to group or others is rejected, not silently changed. */
static int create_private_file(const char *path, struct wd_error *err)
{
	_wd_cleanup_(wd_closep) int fd = -1;
	char message[128];
	struct stat st;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return wd_error_set(err, WD_EIO, "cannot open datastore file '%s': %s", path,
			strerror_r(errno, message, sizeof(message)));
	if (fstat(fd, &st) < 0)
		return wd_error_set(err, WD_EIO, "cannot stat datastore file '%s': %s", path,
			strerror_r(errno, message, sizeof(message)));

	if (!S_ISREG(st.st_mode))
		return wd_error_set(err, WD_EINVAL, "datastore path '%s' is not a regular file",
			path);
	if (st.st_mode & 077)
		return wd_error_set(err, WD_ECONFIG,
			"datastore file '%s' has mode %04o but must not be readable by group or "
			"others: run chmod 600 on it", path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* Runs a pragma and copies the first column of its first row to buf (empty
 * when it returns no row). */
static int read_pragma(sqlite3 *db, const char *sql, char *buf, size_t size,
	struct wd_error *err)
{
	_wd_cleanup_(finalizep) sqlite3_stmt *stmt = NULL;
	const unsigned char *text;
	int code;

	buf[0] = '\0';
	code = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (code != SQLITE_OK)
		return set_sqlite_error(db, code, "preparing", sql, err);

	code = sqlite3_step(stmt);
	if (code == SQLITE_DONE)
		return 0;
	if (code != SQLITE_ROW)
		return set_sqlite_error(db, code, "statement", sql, err);

	text = sqlite3_column_text(stmt, 0);
	if (text)
		snprintf(buf, size, "%s", (const char *)text);
	return 0;
}

/* Rejects transaction statements that did not come from this file. */
static int authorize(void *context, int action, const char *arg1, const char *arg2,
	const char *database, const char *trigger)
{
	const struct sqlite_store *self = context;

	(void)arg1;
	(void)arg2;
	(void)database;
	(void)trigger;
	if (action == SQLITE_TRANSACTION && !self->transaction_control)
		return SQLITE_DENY;
	return SQLITE_OK;
}

static int configure_connection(struct sqlite_store *self, const char *path,
	int busy_timeout_ms, struct wd_error *err)
{
	sqlite3 *db = self->db;
	char value[32];
	int rc;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_set_authorizer(db, authorize, self);
	/* Defensive mode blocks SQL that can corrupt the file (writable_schema,
	 * journal_mode=OFF and the like). */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	/* Set first so the pragmas below also wait for a busy database. */
	sqlite3_busy_timeout(db, busy_timeout_ms);

	/* WAL lets readers run during a write; journal_mode returns the mode it
	 * ended up in, which differs when WAL is unavailable. */
	rc = read_pragma(db, "PRAGMA journal_mode = WAL", value, sizeof(value), err);
	if (rc < 0)
		return rc;
	if (strcmp(value, "wal") != 0)
		return wd_error_set(err, WD_ESTORE,
			"SQLite database '%s' is in journal mode '%s', not 'wal': check that "
			"its file system supports shared memory and file locks", path, value);

	/* In WAL mode, NORMAL syncs the WAL at checkpoints instead of at every
	 * commit (SQLite's "Write-Ahead Logging" and PRAGMA synchronous
	 * pages). A commit survives a crash of this process, but a power loss
	 * or an operating system crash can drop the transactions committed
	 * since the last checkpoint. The database stays consistent either way.
	 * FULL would cost an fsync per commit, and the authority commits one
	 * row per X.509-SVID it signs. */
	rc = exec_plain(db, "PRAGMA synchronous = NORMAL", err);
	if (rc < 0)
		return rc;

	rc = exec_plain(db, "PRAGMA foreign_keys = ON", err);
	if (rc < 0)
		return rc;
	rc = read_pragma(db, "PRAGMA foreign_keys", value, sizeof(value), err);
	if (rc < 0)
		return rc;
	if (strcmp(value, "1") != 0)
		return wd_error_set(err, WD_EUNSUPPORTED,
			"SQLite does not enforce foreign keys on '%s': use a SQLite built with "
			"foreign key support", path);
	return 0;
}

static int sqlite_open(const char *location, const struct store_options *options,
	void **ret_handle, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *path = NULL;
	_wd_cleanup_(wd_freep) struct sqlite_store *self = NULL;
	sqlite3 *db = NULL;
	int busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
	int code;
	int rc;

	*ret_handle = NULL;
	if (location[0] == '\0')
		return wd_error_set(err, WD_EINVAL,
			"the SQLite datastore URL has no path: use sqlite:PATH");
	if (strcmp(location, ":memory:") == 0)
		return wd_error_set(err, WD_EINVAL,
			"in-memory SQLite databases are not supported because WAL needs a file: "
			"give a file path");
	if (options && options->busy_timeout_ms > 0)
		busy_timeout_ms = options->busy_timeout_ms;

	/* Debian's SQLite is built with SQLITE_USE_URI=1, so a name starting with
	 * "file:" would be parsed as a URI. The "./" prefix keeps it a path. */
	if (strncmp(location, "file:", 5) == 0) {
		size_t length = strlen(location);

		path = wd_calloc(length + 3, 1);
		if (path) {
			memcpy(path, "./", 2);
			memcpy(path + 2, location, length);
		}
	} else {
		path = wd_strdup(location);
	}
	if (!path)
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the datastore");

	rc = create_private_file(path, err);
	if (rc < 0)
		return rc;

	code = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (code != SQLITE_OK) {
		rc = wd_error_set(err, map_result(code), "opening SQLite database '%s' failed: %s",
			path, db ? sqlite3_errmsg(db) : sqlite3_errstr(code));
		sqlite3_close(db);
		return rc;
	}

	self = wd_calloc(1, sizeof(*self));
	if (!self) {
		sqlite3_close(db);
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the datastore");
	}
	self->db = db;

	rc = configure_connection(self, path, busy_timeout_ms, err);
	if (rc < 0) {
		sqlite3_close(db);
		return rc;
	}

	*ret_handle = WD_TAKE_PTR(self);
	return 0;
}

static void sqlite_close(void *handle)
{
	struct sqlite_store *self = handle;

	if (!self)
		return;
	/* The cached statements are finalized first; every other statement is
	 * finalized before its call returns. _v2 would still free the
	 * connection if one leaked. */
	cache_clear(self);
	sqlite3_close_v2(self->db);
	free(self);
}

const struct store_backend_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.query = sqlite_query,
	.exec_script = sqlite_exec_script,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.table_exists = sqlite_table_exists,
	.migration_sql = sqlite_migration_sql,
	.row_columns = sqlite_row_columns,
	.row_is_null = sqlite_row_is_null,
	.row_int = sqlite_row_int,
	.row_text = sqlite_row_text,
	.row_blob = sqlite_row_blob,
};
