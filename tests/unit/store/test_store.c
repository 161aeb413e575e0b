/* Unit tests for the datastore calls on the SQLite backend, each in a fresh
 * temporary directory. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "store_fixture.h"

static mode_t file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void open_creates_private_file(void **state)
{
	struct fixture *f = *state;

	skip_unless_sqlite(f);
	char wal[600];
	char shm[600];

	assert_int_equal(file_mode(f->path), 0600);

	/* The -wal and -shm files exist after the first write. */
	exec_ok(f->store, "CREATE TABLE t (x INTEGER)", NULL, 0);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	snprintf(shm, sizeof(shm), "%s-shm", f->path);
	assert_int_equal(file_mode(wal), 0600);
	assert_int_equal(file_mode(shm), 0600);
}

static int collect_text(void *context, const struct store_row *row)
{
	char *buf = context;
	const char *text = store_row_text(row, 0);

	snprintf(buf, 64, "%s", text ? text : "(null)");
	return 0;
}

static void open_enables_wal(void **state)
{
	struct fixture *f = *state;

	skip_unless_sqlite(f);
	struct wd_error err;
	char mode[64] = "";

	assert_int_equal(store_query(f->store, "PRAGMA journal_mode", NULL, 0, collect_text,
		mode, &err), 0);
	assert_string_equal(mode, "wal");
	assert_string_equal(store_backend(f->store), "sqlite");
}

/* WAL with synchronous=NORMAL (1): no fsync per commit. */
static void open_sets_synchronous_normal(void **state)
{
	struct fixture *f = *state;

	skip_unless_sqlite(f);
	struct wd_error err;
	char level[64] = "";

	assert_int_equal(store_query(f->store, "PRAGMA synchronous", NULL, 0, collect_text,
		level, &err), 0);
	assert_string_equal(level, "1");
}

static int count_columns(void *context, const struct store_row *row)
{
	*(int64_t *)context = (int64_t)store_row_columns(row);
	return 0;
}

static int count_each_row(void *context, const struct store_row *row)
{
	(void)row;
	(*(int64_t *)context)++;
	return 0;
}

static int64_t table_rows(struct store *store, const char *sql)
{
	struct wd_error err;
	int64_t rows = 0;

	assert_int_equal(store_query(store, sql, NULL, 0, count_each_row, &rows, &err), 0);
	return rows;
}

/* The same INSERT run many times, as the authority runs its serial INSERT,
 * binds fresh values each time. */
static void cached_statement_rebinds(void **state)
{
	static const char insert[] = "INSERT INTO c (id, name) VALUES ($1, $2)";
	struct fixture *f = *state;
	struct wd_error err;
	char name[64] = "";

	assert_int_equal(store_exec(f->store, "CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT)",
		NULL, 0, NULL, &err), 0);
	for (int64_t i = 0; i < 100; i++) {
		char text[16];
		struct store_value params[] = { STORE_INT_VALUE(i), STORE_TEXT_VALUE(text) };

		snprintf(text, sizeof(text), "n%lld", (long long)i);
		assert_int_equal(store_exec(f->store, insert, params, 2, NULL, &err), 0);
	}
	assert_int_equal(table_rows(f->store, "SELECT id FROM c"), 100);
	{
		struct store_value id = STORE_INT_VALUE(42);

		assert_int_equal(store_query(f->store, "SELECT name FROM c WHERE id = $1", &id, 1,
			collect_text, name, &err), 0);
	}
	assert_string_equal(name, "n42");

	/* A cached statement still checks its parameters. */
	assert_int_equal(store_exec(f->store, insert, NULL, 0, NULL, &err), WD_EINVAL);
	{
		struct store_value params[] = { STORE_INT_VALUE(100), STORE_TEXT_VALUE("last") };

		assert_int_equal(store_exec(f->store, insert, params, 2, NULL, &err), 0);
	}
	/* A constraint failure of a cached statement leaves the next run working. */
	{
		struct store_value params[] = { STORE_INT_VALUE(100), STORE_TEXT_VALUE("dup") };

		assert_int_equal(store_exec(f->store, insert, params, 2, NULL, &err), WD_EEXIST);
		params[0] = STORE_INT_VALUE(101);
		assert_int_equal(store_exec(f->store, insert, params, 2, NULL, &err), 0);
	}
	assert_int_equal(table_rows(f->store, "SELECT id FROM c"), 102);
}

struct nested_context {
	struct store *store;
	int64_t inner_rows;
};

static int run_same_query(void *context, const struct store_row *row)
{
	struct nested_context *nested = context;
	struct wd_error err;

	(void)row;
	return store_query(nested->store, "SELECT a FROM n", NULL, 0, count_each_row,
		&nested->inner_rows, &err);
}

/* A query run again from its own row callback gets a statement of its own. */
static void nested_same_query(void **state)
{
	struct fixture *f = *state;
	struct nested_context nested = { .store = f->store };
	struct wd_error err;

	assert_int_equal(store_exec(f->store, "CREATE TABLE n (a INTEGER)", NULL, 0, NULL, &err),
		0);
	assert_int_equal(store_exec(f->store, "INSERT INTO n (a) VALUES (1), (2), (3)", NULL, 0,
		NULL, &err), 0);
	assert_int_equal(store_query(f->store, "SELECT a FROM n", NULL, 0, run_same_query,
		&nested, &err), 0);
	assert_int_equal(nested.inner_rows, 9);
	assert_int_equal(table_rows(f->store, "SELECT a FROM n"), 3);
}

/* More distinct statements than the cache holds, and a schema change under
 * a cached statement. */
static void cache_eviction_and_schema_change(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;
	int64_t columns = 0;

	assert_int_equal(store_exec(f->store, "CREATE TABLE e (a INTEGER)", NULL, 0, NULL, &err),
		0);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 100; i++) {
			char sql[64];

			snprintf(sql, sizeof(sql), "INSERT INTO e (a) VALUES (%d)", i);
			assert_int_equal(store_exec(f->store, sql, NULL, 0, NULL, &err), 0);
		}
	}
	assert_int_equal(table_rows(f->store, "SELECT a FROM e"), 200);
	/* PostgreSQL keeps the 32 most recent, this query included. */
	if (f->postgres)
		assert_int_equal(query_int(f->store,
			"SELECT COUNT(*) FROM pg_prepared_statements WHERE name LIKE 'wd_%'", NULL, 0),
			32);

	assert_int_equal(store_query(f->store, "SELECT * FROM e LIMIT 1", NULL, 0, count_columns,
		&columns, &err), 0);
	assert_int_equal(columns, 1);
	assert_int_equal(store_exec(f->store, "ALTER TABLE e ADD COLUMN b TEXT", NULL, 0, NULL,
		&err), 0);
	assert_int_equal(store_query(f->store, "SELECT * FROM e LIMIT 1", NULL, 0, count_columns,
		&columns, &err), 0);
	assert_int_equal(columns, 2);

	/* Inside a transaction too, where the failed first run is rolled back
	 * to the statement's savepoint. */
	assert_int_equal(store_begin(f->store, &err), 0);
	assert_int_equal(store_exec(f->store, "ALTER TABLE e ADD COLUMN c TEXT", NULL, 0, NULL,
		&err), 0);
	assert_int_equal(store_query(f->store, "SELECT * FROM e LIMIT 1", NULL, 0, count_columns,
		&columns, &err), 0);
	assert_int_equal(columns, 3);
	assert_int_equal(store_commit(f->store, &err), 0);
}

static void foreign_keys_enforced(void **state)
{
	struct fixture *f = *state;
	struct store_value params[] = { STORE_INT_VALUE(42) };
	struct wd_error err;

	if (!f->postgres)
		assert_int_equal(query_int(f->store, "PRAGMA foreign_keys", NULL, 0), 1);

	exec_ok(f->store, "CREATE TABLE parent (id INTEGER PRIMARY KEY)", NULL, 0);
	exec_ok(f->store, "CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent(id))",
		NULL, 0);
	assert_int_equal(store_exec(f->store, "INSERT INTO child (parent_id) VALUES ($1)",
		params, 1, NULL, &err), WD_ECONFLICT);
	assert_int_equal(err.code, WD_ECONFLICT);
	assert_non_null(strstr(err.detail, f->postgres ?
		"violates foreign key constraint \"child_parent_id_fkey\"" :
		"FOREIGN KEY constraint failed"));
	assert_non_null(strstr(err.detail, "INSERT INTO child"));
	assert_int_equal(count_rows(f->store, "child"), 0);

	exec_ok(f->store, "INSERT INTO parent (id) VALUES ($1)", params, 1);
	exec_ok(f->store, "INSERT INTO child (parent_id) VALUES ($1)", params, 1);
	assert_int_equal(count_rows(f->store, "child"), 1);
}

static void open_rejects_bad_urls(void **state)
{
	struct fixture *f = *state;
	struct store *store = (struct store *)1;
	struct store_options negative = { .busy_timeout_ms = -1 };
	char url[160];
	struct wd_error err;

	skip_unless_sqlite(f);
	assert_int_equal(store_open("mysql://db/warden", NULL, &store, &err), WD_EUNSUPPORTED);
	assert_null(store);
	assert_non_null(strstr(err.detail, "'mysql'"));
	assert_non_null(strstr(err.detail, "postgres://"));

	assert_int_equal(store_open("", NULL, &store, &err), WD_EINVAL);
	assert_int_equal(store_open("sqlite:", NULL, &store, &err), WD_EINVAL);
	assert_int_equal(store_open(":memory:", NULL, &store, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "in-memory"));
	assert_int_equal(store_open(NULL, NULL, &store, &err), WD_EINVAL);
	assert_int_equal(store_open(f->path, NULL, NULL, &err), WD_EINVAL);

	assert_int_equal(store_open(f->path, &negative, &store, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "-1 ms"));

	/* A directory is not a database file. */
	assert_int_equal(store_open(f->dir, NULL, &store, &err), WD_EIO);
	assert_non_null(strstr(err.detail, f->dir));

	snprintf(url, sizeof(url), "sqlite:%s/missing/test.db", f->dir);
	assert_int_equal(store_open(url, NULL, &store, &err), WD_EIO);
	assert_null(store);
}

/* PostgreSQL URLs reach the backend, and a failed connection names the
 * database and host but never the password. */
static void open_postgres_url_errors(void **state)
{
	struct store *store = (struct store *)1;
	struct wd_error err;

	(void)state;
	assert_int_equal(store_open("postgres://warden:hunter2@/warden?host=/nonexistent-wd-dir",
		NULL, &store, &err), WD_EUNAVAILABLE);
	assert_null(store);
	assert_non_null(strstr(err.detail, "cannot connect to PostgreSQL database \"warden\""));
	assert_non_null(strstr(err.detail, "/nonexistent-wd-dir"));
	assert_null(strstr(err.detail, "hunter2"));

	assert_int_equal(store_open("postgresql://hunter2@/warden?host=/nonexistent-wd-dir"
		"&password=hunter2", NULL, &store, &err), WD_EUNAVAILABLE);
	assert_null(strstr(err.detail, "hunter2"));

	/* libpq rejects the URL before connecting. */
	assert_int_equal(store_open("postgres://warden:hunter2@/warden?nosuchoption=1", NULL,
		&store, &err), WD_ECONFIG);
	assert_null(store);
	assert_non_null(strstr(err.detail, "invalid PostgreSQL datastore URL"));
	assert_non_null(strstr(err.detail, "nosuchoption"));
	assert_null(strstr(err.detail, "hunter2"));

	/* Some of libpq's parse errors quote the whole URL, or the password
	 * itself when its percent-encoding is invalid. */
	assert_int_equal(store_open("postgres://warden:hunter2@[::1/warden", NULL, &store, &err),
		WD_ECONFIG);
	assert_non_null(strstr(err.detail, "IPv6 host address"));
	assert_non_null(strstr(err.detail, "postgresql://warden:***@[::1/warden"));
	assert_null(strstr(err.detail, "hunter2"));

	assert_int_equal(store_open("postgres://warden:hun%zzter2@/warden", NULL, &store, &err),
		WD_ECONFIG);
	assert_non_null(strstr(err.detail, "invalid percent-encoded token"));
	assert_null(strstr(err.detail, "hun%zzter2"));
	assert_null(strstr(err.detail, "zzter2"));

	assert_int_equal(store_open("postgres://warden@/warden?sslmode=disable&password=hun%zzter2",
		NULL, &store, &err), WD_ECONFIG);
	assert_non_null(strstr(err.detail, "invalid percent-encoded token"));
	assert_null(strstr(err.detail, "zzter2"));

	/* A bad token other than the password is still named. */
	assert_int_equal(store_open("postgres://warden:hunter2@/war%zzden", NULL, &store, &err),
		WD_ECONFIG);
	assert_non_null(strstr(err.detail, "\"war%zzden\""));
}

static void open_rejects_readable_file(void **state)
{
	struct fixture *f = *state;

	skip_unless_sqlite(f);
	struct store *store = NULL;
	char path[160];
	struct wd_error err;
	int fd;

	snprintf(path, sizeof(path), "%s/open.db", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);

	assert_int_equal(store_open(path, NULL, &store, &err), WD_ECONFIG);
	assert_null(store);
	assert_non_null(strstr(err.detail, "0644"));
	assert_non_null(strstr(err.detail, "chmod 600"));
	assert_int_equal(file_mode(path), 0644);
}

static void open_sqlite_url_and_file_prefix(void **state)
{
	struct fixture *f = *state;

	skip_unless_sqlite(f);
	struct store *store = NULL;
	char url[160];
	char cwd[512];
	struct wd_error err;

	snprintf(url, sizeof(url), "sqlite:%s/other.db", f->dir);
	assert_int_equal(store_open(url, NULL, &store, &err), 0);
	assert_string_equal(store_backend(store), "sqlite");
	store_close(store);
	snprintf(url, sizeof(url), "%s/other.db", f->dir);
	assert_int_equal(file_mode(url), 0600);

	/* A relative name starting with "file:" is a file, not a SQLite URI. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(store_open("file:uri.db?mode=memory", NULL, &store, &err), 0);
	exec_ok(store, "CREATE TABLE t (x INTEGER)", NULL, 0);
	store_close(store);
	assert_int_equal(file_mode("file:uri.db?mode=memory"), 0600);
	assert_int_equal(chdir(cwd), 0);
}

struct value_row {
	bool null;
	int64_t i;
	char text[64];
	bool text_null;
	unsigned char blob[16];
	size_t blob_len;
	bool blob_null;
	size_t columns;
};

static int collect_value_row(void *context, const struct store_row *row)
{
	struct value_row *out = context;
	const char *text = store_row_text(row, 1);
	size_t len = 99;
	const void *blob = store_row_blob(row, 2, &len);

	out->columns = store_row_columns(row);
	out->null = store_row_is_null(row, 0);
	out->i = store_row_int(row, 0);
	out->text_null = text == NULL;
	if (text)
		snprintf(out->text, sizeof(out->text), "%s", text);
	out->blob_null = blob == NULL;
	out->blob_len = len;
	if (blob && len <= sizeof(out->blob))
		memcpy(out->blob, blob, len);
	return 0;
}

static struct value_row read_value_row(struct store *store, int64_t id)
{
	struct store_value params[] = { STORE_INT_VALUE(id) };
	struct value_row row = { 0 };
	struct wd_error err;

	assert_int_equal(store_query(store, "SELECT i, t, b FROM v WHERE id = $1", params, 1,
		collect_value_row, &row, &err), 0);
	return row;
}

static void values_round_trip(void **state)
{
	struct fixture *f = *state;
	static const unsigned char blob[] = { 0x00, 0x01, 0x00, 0xff, 0x00 };
	static const char quoted[] = "it's a \"quoted\" value; DROP TABLE v; --";
	const int64_t ints[] = { INT64_MIN, INT64_MAX, -1, 0 };
	struct value_row row;

	exec_ok(f->store, "CREATE TABLE v (id INTEGER PRIMARY KEY, i BIGINT, t TEXT, b BLOB)",
		NULL, 0);

	for (size_t k = 0; k < WD_ARRAY_LEN(ints); k++) {
		struct store_value params[] = {
			STORE_INT_VALUE((int64_t)k + 1), STORE_INT_VALUE(ints[k]),
			STORE_NULL_VALUE, STORE_NULL_VALUE,
		};

		exec_ok(f->store, "INSERT INTO v (id, i, t, b) VALUES ($1, $2, $3, $4)", params, 4);
		row = read_value_row(f->store, (int64_t)k + 1);
		assert_false(row.null);
		assert_true(row.i == ints[k]);
		assert_true(row.text_null);
		assert_true(row.blob_null);
		assert_int_equal(row.blob_len, 0);
		assert_int_equal(row.columns, 3);
	}

	{
		struct store_value params[] = {
			STORE_INT_VALUE(10), STORE_NULL_VALUE, STORE_TEXT_VALUE(quoted),
			STORE_BLOB_VALUE(blob, sizeof(blob)),
		};

		exec_ok(f->store, "INSERT INTO v (id, i, t, b) VALUES ($1, $2, $3, $4)", params, 4);
	}
	row = read_value_row(f->store, 10);
	assert_true(row.null);
	assert_int_equal(row.i, 0);
	assert_false(row.text_null);
	assert_string_equal(row.text, quoted);
	assert_false(row.blob_null);
	assert_int_equal(row.blob_len, sizeof(blob));
	assert_memory_equal(row.blob, blob, sizeof(blob));

	/* Empty text and an empty blob stay values, distinct from NULL. A
	 * STORE_TEXT_VALUE of a NULL pointer is SQL NULL. */
	{
		struct store_value params[] = {
			STORE_INT_VALUE(11), STORE_TEXT_VALUE(NULL), STORE_TEXT_VALUE(""),
			STORE_BLOB_VALUE(NULL, 0),
		};

		exec_ok(f->store, "INSERT INTO v (id, i, t, b) VALUES ($1, $2, $3, $4)", params, 4);
	}
	row = read_value_row(f->store, 11);
	assert_true(row.null);
	assert_false(row.text_null);
	assert_string_equal(row.text, "");
	assert_false(row.blob_null);
	assert_int_equal(row.blob_len, 0);
	assert_int_equal(query_int(f->store, f->postgres ?
		"SELECT CASE WHEN b IS NOT NULL AND length(b) = 0 THEN 1 ELSE 0 END FROM v WHERE id = 11" :
		"SELECT typeof(b) = 'blob' FROM v WHERE id = 11", NULL, 0), 1);
	assert_int_equal(query_int(f->store, f->postgres ?
		"SELECT CASE WHEN i IS NULL THEN 1 ELSE 0 END FROM v WHERE id = 11" :
		"SELECT typeof(i) = 'null' FROM v WHERE id = 11", NULL, 0), 1);
}

struct blob_copy {
	unsigned char *data;
	size_t len;
};

static int copy_blob(void *context, const struct store_row *row)
{
	struct blob_copy *out = context;
	size_t len = 0;
	const void *blob = store_row_blob(row, 0, &len);

	out->data = malloc(len);
	if (!out->data)
		return WD_ENOMEM;
	memcpy(out->data, blob, len);
	out->len = len;
	return 0;
}

static void large_blob_round_trip(void **state)
{
	struct fixture *f = *state;
	const size_t size = 1024 * 1024;
	unsigned char *blob = malloc(size);
	struct blob_copy copy = { 0 };
	struct wd_error err;

	assert_non_null(blob);
	for (size_t i = 0; i < size; i++)
		blob[i] = (unsigned char)((i * 7 + i / 256) & 0xff);

	exec_ok(f->store, "CREATE TABLE big (b BLOB NOT NULL)", NULL, 0);
	{
		struct store_value params[] = { STORE_BLOB_VALUE(blob, size) };

		exec_ok(f->store, "INSERT INTO big (b) VALUES ($1)", params, 1);
	}
	assert_int_equal(store_query(f->store, "SELECT b FROM big", NULL, 0, copy_blob, &copy,
		&err), 0);
	assert_int_equal(copy.len, size);
	assert_memory_equal(copy.data, blob, size);
	free(copy.data);
	free(blob);
}

static void params_bound_by_number(void **state)
{
	struct fixture *f = *state;
	struct store_value params[] = { STORE_INT_VALUE(1), STORE_TEXT_VALUE("two") };
	struct store_value lookup[] = { STORE_TEXT_VALUE("b"), STORE_INT_VALUE(2) };
	struct int_rows rows = { 0 };
	struct wd_error err;

	exec_ok(f->store, "CREATE TABLE p (a INTEGER, b TEXT, c INTEGER)", NULL, 0);

	/* $2 appears before $1, and $1 twice. */
	exec_ok(f->store, "INSERT INTO p (b, a, c) VALUES ($2, $1, $1 + 10)", params, 2);
	assert_int_equal(query_int(f->store, "SELECT c FROM p WHERE b = 'two' AND a = 1", NULL, 0),
		11);

	exec_ok(f->store, "INSERT INTO p (a, b, c) VALUES (2, 'b', 20)", NULL, 0);
	exec_ok(f->store, "INSERT INTO p (a, b, c) VALUES (1, 'b', 30)", NULL, 0);
	assert_int_equal(store_query(f->store, "SELECT c FROM p WHERE a = $2 AND b = $1", lookup, 2,
		collect_ints, &rows, &err), 0);
	assert_int_equal(rows.count, 1);
	assert_int_equal(rows.values[0], 20);

	assert_int_equal(query_int(f->store, "SELECT $2 * 100 + $1", (struct store_value[]){
		STORE_INT_VALUE(3), STORE_INT_VALUE(4) }, 2), 403);
}

static void params_hostile_rejected(void **state)
{
	struct fixture *f = *state;
	struct store_value one[] = { STORE_INT_VALUE(1) };
	struct store_value two[] = { STORE_INT_VALUE(1), STORE_INT_VALUE(2) };
	struct store_value bad_text[] = { { .type = STORE_TEXT, .text = NULL } };
	struct store_value bad_blob[] = { { .type = STORE_BLOB, .blob = NULL, .len = 4 } };
	struct store_value bad_type[] = { { .type = (enum store_value_type)77 } };
	struct wd_error err;

	exec_ok(f->store, "CREATE TABLE h (a INTEGER)", NULL, 0);

	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES (?)", one, 1, NULL, &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, "only $1..$N"));
	/* PostgreSQL has no named parameters, so there $1 is unused. */
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES (:a)", one, 1, NULL, &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, f->postgres ? "does not use parameter $1" : "':a'"));
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($0)", one, 1, NULL, &err),
		WD_EINVAL);
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($01)", one, 1, NULL, &err),
		WD_EINVAL);
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($99999999999999999999)",
		one, 1, NULL, &err), WD_EINVAL);
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($2)", one, 1, NULL, &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, "uses $2 but param_count is 1"));
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($1)", NULL, 0, NULL, &err),
		WD_EINVAL);
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($1)", two, 2, NULL, &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, "does not use parameter $2"));
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($1)", NULL, 1, NULL, &err),
		WD_EINVAL);
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($1)", bad_text, 1, NULL,
		&err), WD_EINVAL);
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($1)", bad_blob, 1, NULL,
		&err), WD_EINVAL);
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES ($1)", bad_type, 1, NULL,
		&err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "unknown type 77"));

	/* A second statement is rejected and the first does not run either. */
	assert_int_equal(store_exec(f->store, "INSERT INTO h (a) VALUES (1); DROP TABLE h", NULL, 0,
		NULL, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "more than one statement"));
	assert_int_equal(store_exec(f->store, "", NULL, 0, NULL, &err), WD_EINVAL);
	assert_int_equal(store_exec(f->store, "  -- only a comment", NULL, 0, NULL, &err), WD_EINVAL);
	assert_int_equal(store_exec(f->store, NULL, NULL, 0, NULL, &err), WD_EINVAL);
	assert_int_equal(store_exec(NULL, "SELECT 1", NULL, 0, NULL, &err), WD_EINVAL);

	/* Transaction statements would bypass the nesting counter. */
	assert_int_equal(store_exec(f->store, "BEGIN", NULL, 0, NULL, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "store_begin"));
	assert_int_equal(store_exec(f->store, "COMMIT", NULL, 0, NULL, &err), WD_EINVAL);

	assert_int_equal(count_rows(f->store, "h"), 0);
	/* A trailing semicolon and whitespace are not a second statement. */
	exec_ok(f->store, "INSERT INTO h (a) VALUES (1);  \n", NULL, 0);
	assert_int_equal(count_rows(f->store, "h"), 1);
}

static void unique_violation_exists(void **state)
{
	struct fixture *f = *state;
	struct store_value params[] = { STORE_TEXT_VALUE("s3cr3t-token-value") };
	struct wd_error err;

	exec_ok(f->store, "CREATE TABLE u (name TEXT PRIMARY KEY, other TEXT UNIQUE)", NULL, 0);
	exec_ok(f->store, "INSERT INTO u (name) VALUES ($1)", params, 1);

	assert_int_equal(store_exec(f->store, "INSERT INTO u (name) VALUES ($1)", params, 1, NULL,
		&err), WD_EEXIST);
	assert_int_equal(err.code, WD_EEXIST);
	assert_non_null(strstr(err.detail, "INSERT INTO u"));
	assert_non_null(strstr(err.detail, f->postgres ?
		"duplicate key value violates unique constraint \"u_pkey\"" :
		"UNIQUE constraint failed: u.name"));
	assert_null(strstr(err.detail, "s3cr3t"));

	exec_ok(f->store, "UPDATE u SET other = 'x'", NULL, 0);
	assert_int_equal(store_exec(f->store, "INSERT INTO u (name, other) VALUES ('b', 'x')", NULL,
		0, NULL, &err), WD_EEXIST);
	assert_int_equal(count_rows(f->store, "u"), 1);

	/* INTEGER PRIMARY KEY is the rowid, which has its own result code. */
	exec_ok(f->store, "CREATE TABLE r (id INTEGER PRIMARY KEY)", NULL, 0);
	exec_ok(f->store, "INSERT INTO r (id) VALUES (1)", NULL, 0);
	assert_int_equal(store_exec(f->store, "INSERT INTO r (id) VALUES (1)", NULL, 0, NULL, &err),
		WD_EEXIST);
}

static void exec_reports_changes(void **state)
{
	struct fixture *f = *state;
	struct store_value params[] = { STORE_INT_VALUE(2) };
	struct wd_error err;
	int64_t changes = -1;

	exec_ok(f->store, "CREATE TABLE c (a INTEGER)", NULL, 0);
	assert_int_equal(store_exec(f->store, "INSERT INTO c (a) VALUES (1), (2), (3)", NULL, 0,
		&changes, &err), 0);
	assert_int_equal(changes, 3);
	assert_int_equal(store_exec(f->store, "UPDATE c SET a = a + 10 WHERE a >= $1", params, 1,
		&changes, &err), 0);
	assert_int_equal(changes, 2);
	assert_int_equal(store_exec(f->store, "DELETE FROM c WHERE a = 999", NULL, 0, &changes,
		&err), 0);
	assert_int_equal(changes, 0);
	/* A statement that is not INSERT, UPDATE or DELETE changes no rows. */
	assert_int_equal(store_exec(f->store, "CREATE TABLE d (a INTEGER)", NULL, 0, &changes,
		&err), 0);
	assert_int_equal(changes, 0);

	changes = 7;
	assert_int_equal(store_exec(f->store, "SELEC 1", NULL, 0, &changes, &err), WD_ESTORE);
	assert_int_equal(changes, 0);
}

static void nested_begin_commit(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	struct wd_error err;

	exec_ok(f->store, "CREATE TABLE n (a INTEGER)", NULL, 0);
	assert_int_equal(store_open(f->path, NULL, &other, &err), 0);

	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO n (a) VALUES (1)", NULL, 0);
	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO n (a) VALUES (2)", NULL, 0);
	assert_int_equal(store_commit(f->store, &err), 0);

	/* The inner commit does not reach the database. */
	assert_int_equal(count_rows(other, "n"), 0);
	assert_int_equal(count_rows(f->store, "n"), 2);

	assert_int_equal(store_commit(f->store, &err), 0);
	assert_int_equal(count_rows(other, "n"), 2);

	assert_int_equal(store_commit(f->store, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "without a matching store_begin"));
	store_rollback(f->store);
	store_rollback(NULL);
	assert_int_equal(store_begin(NULL, &err), WD_EINVAL);
	assert_int_equal(count_rows(f->store, "n"), 2);
	store_close(other);
}

static void rollback_discards_changes(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;

	exec_ok(f->store, "CREATE TABLE r (a INTEGER)", NULL, 0);
	exec_ok(f->store, "INSERT INTO r (a) VALUES (1)", NULL, 0);

	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO r (a) VALUES (2)", NULL, 0);
	exec_ok(f->store, "DELETE FROM r WHERE a = 1", NULL, 0);
	exec_ok(f->store, "CREATE TABLE s (a INTEGER)", NULL, 0);
	assert_int_equal(count_rows(f->store, "r"), 1);
	store_rollback(f->store);

	assert_int_equal(count_rows(f->store, "r"), 1);
	assert_int_equal(query_int(f->store, "SELECT a FROM r", NULL, 0), 1);
	assert_false(table_exists(f->store, "s"));

	/* The handle is usable for a new transaction afterwards. */
	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO r (a) VALUES (3)", NULL, 0);
	assert_int_equal(store_commit(f->store, &err), 0);
	assert_int_equal(count_rows(f->store, "r"), 2);
}

static void inner_rollback_fails_outer(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;

	exec_ok(f->store, "CREATE TABLE i (a INTEGER)", NULL, 0);

	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO i (a) VALUES (1)", NULL, 0);
	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO i (a) VALUES (2)", NULL, 0);
	store_rollback(f->store);

	assert_int_equal(store_commit(f->store, &err), WD_ECONFLICT);
	assert_int_equal(err.code, WD_ECONFLICT);
	assert_non_null(strstr(err.detail, "inner transaction rolled back"));
	assert_int_equal(count_rows(f->store, "i"), 0);

	/* The failed commit ended the transaction: a cleanup rollback is a no-op
	 * and the next transaction starts clean. */
	store_rollback(f->store);
	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO i (a) VALUES (3)", NULL, 0);
	assert_int_equal(store_commit(f->store, &err), 0);
	assert_int_equal(count_rows(f->store, "i"), 1);
}

static void close_discards_open_transaction(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	struct wd_error err;

	exec_ok(f->store, "CREATE TABLE o (a INTEGER)", NULL, 0);
	assert_int_equal(store_open(f->path, NULL, &other, &err), 0);
	assert_int_equal(store_begin(other, &err), 0);
	exec_ok(other, "INSERT INTO o (a) VALUES (1)", NULL, 0);
	store_close(other);
	store_close(NULL);

	assert_int_equal(count_rows(f->store, "o"), 0);
	exec_ok(f->store, "INSERT INTO o (a) VALUES (2)", NULL, 0);
	assert_int_equal(count_rows(f->store, "o"), 1);
}

/* A failed statement inside a transaction undoes only itself, on both
 * backends, so the caller can handle a duplicate and commit the rest. */
static void failed_statement_keeps_transaction(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;

	exec_ok(f->store, "CREATE TABLE s (name TEXT PRIMARY KEY)", NULL, 0);
	exec_ok(f->store, "INSERT INTO s (name) VALUES ('a')", NULL, 0);

	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO s (name) VALUES ('b')", NULL, 0);
	assert_int_equal(store_exec(f->store, "INSERT INTO s (name) VALUES ('a')", NULL, 0, NULL,
		&err), WD_EEXIST);
	assert_int_equal(store_exec(f->store, "SELEC 1", NULL, 0, NULL, &err), WD_ESTORE);
	exec_ok(f->store, "INSERT INTO s (name) VALUES ('c')", NULL, 0);
	assert_int_equal(store_commit(f->store, &err), 0);

	assert_int_equal(count_rows(f->store, "s"), 3);
}

#define INCREMENT_WORKERS 3
#define INCREMENTS_PER_WORKER 40

/* Reads the counter and writes it back plus one, in one transaction. */
static int increment_once(struct store *store, struct wd_error *err)
{
	struct int_rows rows = { 0 };
	int rc;

	rc = store_begin(store, err);
	if (rc < 0)
		return rc;
	rc = store_query(store, "SELECT v FROM counter WHERE id = 1", NULL, 0, collect_ints, &rows,
		err);
	if (rc == 0 && rows.count != 1)
		rc = WD_ECORRUPT;
	if (rc == 0) {
		struct store_value value[] = { STORE_INT_VALUE(rows.values[0] + 1) };

		rc = store_exec(store, "UPDATE counter SET v = $1 WHERE id = 1", value, 1, NULL, err);
	}
	if (rc < 0) {
		store_rollback(store);
		return rc;
	}
	return store_commit(store, err);
}

/* Processes on their own handles read and write back one counter: the
 * transactions run one at a time, so no increment is lost. */
static void concurrent_increments_not_lost(void **state)
{
	struct fixture *f = *state;
	struct store_options options = { .busy_timeout_ms = 20000 };
	pid_t workers[INCREMENT_WORKERS];

	exec_ok(f->store, "CREATE TABLE counter (id INTEGER PRIMARY KEY, v BIGINT NOT NULL)", NULL,
		0);
	exec_ok(f->store, "INSERT INTO counter (id, v) VALUES (1, 0)", NULL, 0);

	for (size_t i = 0; i < INCREMENT_WORKERS; i++) {
		workers[i] = fork();
		assert_true(workers[i] >= 0);
		if (workers[i] == 0) {
			struct store *store = NULL;
			struct wd_error err;
			int failed = 0;

			if (store_open(f->path, &options, &store, &err) < 0)
				_exit(2);
			for (int n = 0; n < INCREMENTS_PER_WORKER; n++) {
				if (increment_once(store, &err) < 0) {
					fprintf(stderr, "increment: %s\n", wd_error_text(&err));
					failed = 1;
					break;
				}
			}
			store_close(store);
			_exit(failed);
		}
	}
	for (size_t i = 0; i < INCREMENT_WORKERS; i++) {
		int status = -1;

		assert_int_equal(waitpid(workers[i], &status, 0), workers[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(query_int(f->store, "SELECT v FROM counter WHERE id = 1", NULL, 0),
		INCREMENT_WORKERS * INCREMENTS_PER_WORKER);
}

/* Ends the PostgreSQL session of store from another connection. */
static void terminate_session(struct fixture *f, struct store *store)
{
	struct store *killer = NULL;
	struct store_value pid[1];
	struct wd_error err;

	pid[0] = STORE_INT_VALUE(query_int(store, "SELECT pg_backend_pid()", NULL, 0));
	assert_int_equal(store_open(f->path, NULL, &killer, &err), 0);
	assert_int_equal(query_int(killer,
		"SELECT CASE WHEN pg_terminate_backend(CAST($1 AS INTEGER)) THEN 1 ELSE 0 END", pid,
		1), 1);
	store_close(killer);
}

/* A lost connection fails the call with WD_EUNAVAILABLE, and the next call
 * outside a transaction connects again. Inside a transaction every call
 * fails until the caller rolls back. */
static void lost_connection_reconnects(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;

	skip_unless_postgres(f);
	exec_ok(f->store, "CREATE TABLE l (a INTEGER)", NULL, 0);

	terminate_session(f, f->store);
	assert_int_equal(store_exec(f->store, "INSERT INTO l (a) VALUES (1)", NULL, 0, NULL, &err),
		WD_EUNAVAILABLE);
	assert_non_null(strstr(err.detail, "connection to PostgreSQL was lost"));
	exec_ok(f->store, "INSERT INTO l (a) VALUES (2)", NULL, 0);
	assert_int_equal(count_rows(f->store, "l"), 1);

	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO l (a) VALUES (3)", NULL, 0);
	terminate_session(f, f->store);
	assert_int_equal(store_exec(f->store, "INSERT INTO l (a) VALUES (4)", NULL, 0, NULL, &err),
		WD_EUNAVAILABLE);
	assert_int_equal(store_exec(f->store, "INSERT INTO l (a) VALUES (5)", NULL, 0, NULL, &err),
		WD_EUNAVAILABLE);
	assert_non_null(strstr(err.detail, "inside a transaction"));
	assert_int_equal(store_commit(f->store, &err), WD_EUNAVAILABLE);

	assert_int_equal(count_rows(f->store, "l"), 1);
	assert_int_equal(query_int(f->store, "SELECT a FROM l", NULL, 0), 2);
}

struct stop_context {
	size_t calls;
	size_t stop_after;
	struct wd_error *err;
};

static int stop_after_rows(void *context, const struct store_row *row)
{
	struct stop_context *stop = context;

	(void)row;
	stop->calls++;
	if (stop->calls < stop->stop_after)
		return 0;
	if (stop->err)
		return wd_error_set(stop->err, WD_ENOTFOUND, "callback detail");
	return WD_ETOOBIG;
}

static void query_callback_stops_early(void **state)
{
	struct fixture *f = *state;
	struct stop_context stop = { .stop_after = 2 };
	struct wd_error err;

	exec_ok(f->store, "CREATE TABLE q (a INTEGER)", NULL, 0);
	exec_ok(f->store, "INSERT INTO q (a) VALUES (1), (2), (3), (4), (5)", NULL, 0);

	assert_int_equal(store_query(f->store, "SELECT a FROM q ORDER BY a", NULL, 0,
		stop_after_rows, &stop, &err), WD_ETOOBIG);
	assert_int_equal(stop.calls, 2);
	assert_int_equal(err.code, WD_ETOOBIG);
	assert_non_null(strstr(err.detail, "SELECT a FROM"));
	assert_non_null(strstr(err.detail, "row callback"));

	/* A detail the callback records in err is kept. */
	stop = (struct stop_context){ .stop_after = 3, .err = &err };
	assert_int_equal(store_query(f->store, "SELECT a FROM q ORDER BY a", NULL, 0,
		stop_after_rows, &stop, &err), WD_ENOTFOUND);
	assert_int_equal(stop.calls, 3);
	assert_string_equal(err.detail, "callback detail");

	/* The statement was finalized: the table can be dropped. */
	exec_ok(f->store, "DROP TABLE q", NULL, 0);

	assert_int_equal(store_query(f->store, "SELECT 1", NULL, 0, NULL, NULL, &err), WD_EINVAL);
}

static int read_out_of_range(void *context, const struct store_row *row)
{
	size_t *checks = context;
	size_t len = 5;

	assert_int_equal(store_row_columns(row), 2);
	assert_true(store_row_is_null(row, 2));
	assert_int_equal(store_row_int(row, 2), 0);
	assert_null(store_row_text(row, 2));
	assert_null(store_row_blob(row, SIZE_MAX, &len));
	assert_int_equal(len, 0);
	assert_null(store_row_blob(row, 1, &len));
	assert_int_equal(len, 0);
	assert_int_equal(store_row_int(row, 0), 7);
	(*checks)++;
	return 0;
}

static void row_accessors_bounded(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;
	size_t checks = 0;

	assert_int_equal(store_query(f->store, "SELECT 7, NULL", NULL, 0, read_out_of_range,
		&checks, &err), 0);
	assert_int_equal(checks, 1);
	assert_int_equal(store_row_columns(NULL), 0);
	assert_true(store_row_is_null(NULL, 0));
}

static void bad_sql_store_error(void **state)
{
	struct fixture *f = *state;
	struct int_rows rows = { 0 };
	struct wd_error err;

	assert_int_equal(store_exec(f->store, "SELEC 1", NULL, 0, NULL, &err), WD_ESTORE);
	assert_int_equal(err.code, WD_ESTORE);
	assert_non_null(strstr(err.detail, "'SELEC'"));
	assert_non_null(strstr(err.detail, "syntax error"));

	assert_int_equal(store_query(f->store, "SELECT a FROM missing WHERE a = 'hunter2'", NULL, 0,
		collect_ints, &rows, &err), WD_ESTORE);
	assert_non_null(strstr(err.detail, "'SELECT a FROM'"));
	assert_non_null(strstr(err.detail, f->postgres ? "relation \"missing\" does not exist" :
		"no such table: missing"));
	assert_null(strstr(err.detail, "hunter2"));
	assert_int_equal(rows.count, 0);

	/* A NOT NULL violation is neither a duplicate nor a conflict. */
	exec_ok(f->store, "CREATE TABLE nn (a INTEGER NOT NULL)", NULL, 0);
	assert_int_equal(store_exec(f->store, "INSERT INTO nn (a) VALUES (NULL)", NULL, 0, NULL,
		&err), WD_ESTORE);
	assert_non_null(strstr(err.detail, f->postgres ?
		"null value in column \"a\" of relation \"nn\" violates not-null constraint" :
		"NOT NULL constraint failed: nn.a"));
}

static void two_handles_see_commits(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	struct wd_error err;

	assert_int_equal(store_open(f->path, NULL, &other, &err), 0);
	exec_ok(f->store, "CREATE TABLE w (a INTEGER)", NULL, 0);
	exec_ok(f->store, "INSERT INTO w (a) VALUES (1)", NULL, 0);
	assert_int_equal(count_rows(other, "w"), 1);

	assert_int_equal(store_begin(other, &err), 0);
	exec_ok(other, "INSERT INTO w (a) VALUES (2)", NULL, 0);
	/* WAL readers see the last commit while a write is open. */
	assert_int_equal(count_rows(f->store, "w"), 1);
	assert_int_equal(store_commit(other, &err), 0);
	assert_int_equal(count_rows(f->store, "w"), 2);
	store_close(other);
}

static int64_t elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - start->tv_sec) * 1000 +
		(now.tv_nsec - start->tv_nsec) / 1000000;
}

static void busy_timeout_unavailable(void **state)
{
	struct fixture *f = *state;
	struct store_options options = { .busy_timeout_ms = 200 };
	struct store *other = NULL;
	struct timespec start;
	struct wd_error err;
	int64_t waited;

	exec_ok(f->store, "CREATE TABLE b (a INTEGER)", NULL, 0);
	assert_int_equal(store_open(f->path, &options, &other, &err), 0);

	assert_int_equal(store_begin(f->store, &err), 0);
	exec_ok(f->store, "INSERT INTO b (a) VALUES (1)", NULL, 0);

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (f->postgres) {
		/* Outside a transaction PostgreSQL writes at once. */
		exec_ok(other, "INSERT INTO b (a) VALUES (2)", NULL, 0);
		assert_true(elapsed_ms(&start) < 190);
		exec_ok(other, "DELETE FROM b WHERE a = 2", NULL, 0);
	} else {
		assert_int_equal(store_exec(other, "INSERT INTO b (a) VALUES (2)", NULL, 0, NULL,
			&err), WD_EUNAVAILABLE);
		waited = elapsed_ms(&start);
		assert_true(waited >= 190);
		assert_true(waited < 3000);
		assert_int_equal(err.code, WD_EUNAVAILABLE);
		assert_non_null(strstr(err.detail, "database is locked"));
		assert_non_null(strstr(err.detail, "busy timeout"));
	}

	/* store_begin waits for the write lock too. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(store_begin(other, &err), WD_EUNAVAILABLE);
	waited = elapsed_ms(&start);
	assert_true(waited >= 190);
	assert_true(waited < 3000);
	if (f->postgres)
		assert_non_null(strstr(err.detail, "lock timeout"));
	store_rollback(other);

	assert_int_equal(store_commit(f->store, &err), 0);
	exec_ok(other, "INSERT INTO b (a) VALUES (2)", NULL, 0);
	assert_int_equal(count_rows(f->store, "b"), 2);
	store_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_creates_private_file, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(open_enables_wal, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(foreign_keys_enforced, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(open_sets_synchronous_normal, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(cached_statement_rebinds, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(nested_same_query, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(cache_eviction_and_schema_change, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(open_rejects_bad_urls, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(open_rejects_readable_file, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(open_postgres_url_errors, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(open_sqlite_url_and_file_prefix, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(values_round_trip, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(large_blob_round_trip, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(params_bound_by_number, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(params_hostile_rejected, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(unique_violation_exists, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(exec_reports_changes, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(nested_begin_commit, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(rollback_discards_changes, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(inner_rollback_fails_outer, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(close_discards_open_transaction, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(query_callback_stops_early, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(row_accessors_bounded, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(bad_sql_store_error, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(two_handles_see_commits, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(busy_timeout_unavailable, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(failed_statement_keeps_transaction, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(concurrent_increments_not_lost, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(lost_connection_reconnects, fixture_setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
