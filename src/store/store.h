/* The datastore interface: SQL with $1..$N parameters over a backend chosen
 * by URL, versioned migrations per component, and transactions. SQLite
 * (sqlite.c) is the embedded default; PostgreSQL (postgres.c, for
 * "postgres://" URLs) lets several servers share one database. Each backend
 * is a table of functions (store_backend.h) picked in store_open by URL
 * scheme, so callers never see which one runs. A store handle is one
 * connection: use it from one thread at a time. SQL meant for both
 * backends keeps to what both accept: $N parameters, ON CONFLICT (...) DO
 * UPDATE or DO NOTHING, and no SQLite-only functions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

struct store;
struct store_row;

enum store_value_type {
	STORE_NULL,
	STORE_INT,
	STORE_TEXT,
	STORE_BLOB,
};

/* One bound parameter. Text and blob memory stays owned by the caller. */
struct store_value {
	enum store_value_type type;
	int64_t i;
	const char *text;
	const void *blob;
	size_t len;
};

/* Returns the type of a text value: STORE_NULL for a NULL pointer. A function
 * rather than `(s) ? ...` in the macro, which gcc's -Waddress flags when s
 * is a char array. */
static inline enum store_value_type store_text_type(const char *text)
{
	return text ? STORE_TEXT : STORE_NULL;
}

#define STORE_INT_VALUE(v) ((struct store_value){ .type = STORE_INT, .i = (v) })
#define STORE_TEXT_VALUE(s) ((struct store_value){ .type = store_text_type(s), .text = (s) })
#define STORE_BLOB_VALUE(p, n) ((struct store_value){ .type = STORE_BLOB, .blob = (p), .len = (n) })
#define STORE_NULL_VALUE ((struct store_value){ .type = STORE_NULL })

/* One schema step. Backends pick the SQL of their dialect; sql_postgres may
 * be NULL until that backend exists. */
struct store_migration {
	int version;            /* 1, 2, 3, ... applied in order */
	const char *name;       /* short description recorded with the version */
	const char *sql_sqlite; /* one or more statements */
	const char *sql_postgres;
};

struct store_options {
	int busy_timeout_ms;    /* wait this long for a lock; 0 means 5000 */
};

/* Opens the datastore named by url: "sqlite:PATH", or a plain PATH, which
 * means SQLite, or a libpq URL "postgres://..." or "postgresql://...".
 * SQLite creates the file with mode 0600, enables WAL, foreign keys and
 * the busy timeout; an existing file readable by group or others fails
 * with WD_ECONFIG. PostgreSQL connects at once: an unreachable server fails
 * with WD_EUNAVAILABLE, and the busy timeout becomes the lock timeout.
 * options may be NULL. Other schemes fail with WD_EUNSUPPORTED. */
WD_MUST_CHECK int store_open(const char *url, const struct store_options *options,
	struct store **ret_store, struct wd_error *err);

/* Closes the datastore, rolling back an open transaction; accepts NULL. */
void store_close(struct store *store);

/* Returns the backend name ("sqlite" or "postgres"). */
const char *store_backend(const struct store *store);

/* Applies, in one transaction each, the migrations of component whose
 * version is above the recorded one. A failing step rolls back and leaves
 * the recorded version unchanged. Versions not strictly increasing fail with
 * WD_EINVAL before anything runs. A recorded version above the highest in
 * migrations fails with WD_ECONFLICT, as does a call inside a transaction. */
WD_MUST_CHECK int store_migrate(struct store *store, const char *component,
	const struct store_migration *migrations, size_t count, struct wd_error *err);

/* Stores the highest applied migration version of component in ret_version
 * (0 when none). */
WD_MUST_CHECK int store_schema_version(struct store *store, const char *component,
	int *ret_version, struct wd_error *err);

/* Transactions. begin nests by counting: only the outermost commit or
 * rollback reaches the backend, and a rollback at any depth makes the
 * outermost commit fail with WD_ECONFLICT. A failed outermost commit has
 * rolled back, and store_rollback with no transaction open does nothing, so
 * a cleanup path may always call it.
 *
 * Transactions on one database run one at a time, on both backends:
 * SQLite's BEGIN IMMEDIATE takes the write lock, and PostgreSQL's begin
 * takes one advisory lock in a READ COMMITTED transaction. A transaction
 * may therefore read a value and write it back without losing a concurrent
 * update, even across servers. A statement that fails inside a
 * transaction undoes only itself on both backends, so the caller may go on
 * (after a WD_EEXIST, say). Statements outside a transaction commit on
 * their own and do not wait for transactions. */
WD_MUST_CHECK int store_begin(struct store *store, struct wd_error *err);
WD_MUST_CHECK int store_commit(struct store *store, struct wd_error *err);
void store_rollback(struct store *store);

/* The text that replies to remote clients carry when the datastore cannot
 * be reached. The error's detail names the host, port and database, so
 * only the log shows it (wd_error_public_text). */
#define STORE_UNAVAILABLE_PUBLIC "datastore unavailable"

/* Runs one statement. ret_changes (may be NULL) receives the number of rows
 * changed. A unique or foreign-key violation returns WD_EEXIST or
 * WD_ECONFLICT. A lock still held after the busy timeout and a lost
 * PostgreSQL connection return WD_EUNAVAILABLE. Invalid parameters or $N references, or more than one
 * statement, return WD_EINVAL. Out of memory, a value above the backend's
 * size limit and a corrupt file return WD_ENOMEM, WD_ETOOBIG and
 * WD_ECORRUPT. Other failures return WD_ESTORE. Errors never quote parameter
 * values, which may be secret. */
WD_MUST_CHECK int store_exec(struct store *store, const char *sql,
	const struct store_value *params, size_t param_count, int64_t *ret_changes,
	struct wd_error *err);

/* Called once per result row; a negative return stops the query and is
 * returned by store_query, and other returns continue it. Row memory is
 * valid only during the call. */
typedef int (*store_row_fn)(void *context, const struct store_row *row);

/* Runs one query and calls on_row for each row. Errors are those of
 * store_exec. err is cleared first, so on_row may record its own detail in
 * it through context; otherwise a generic one is recorded. */
WD_MUST_CHECK int store_query(struct store *store, const char *sql,
	const struct store_value *params, size_t param_count, store_row_fn on_row,
	void *context, struct wd_error *err);

/* Change notification between servers that share a datastore. Writers
 * call store_notify with a short payload, "KIND" or "KIND:ID", inside the
 * transaction of the change, so it is delivered only if the change
 * commits; a listener on its own store handle receives it, marked as its
 * own process's or another's (the wire payload starts with a random id of
 * the sending process). On SQLite both are no-ops (store_listen returns
 * WD_EUNSUPPORTED): one server owns the file and keeps its caches itself. */
#define STORE_NOTIFY_CHANNEL "warden_changes"
/* Maximum payload length, terminator excluded. PostgreSQL allows 7999
 * bytes by default. */
#define STORE_NOTIFY_PAYLOAD_MAX 200

/* Receives one notification; own is true when this process sent it.
 * payload is NULL after a reconnect, when notifications may have been
 * missed: the receiver refreshes everything. */
typedef void (*store_notify_fn)(const char *payload, bool own, void *arg);

/* Sends payload on STORE_NOTIFY_CHANNEL; counts as a statement. WD_EINVAL
 * for a payload longer than STORE_NOTIFY_PAYLOAD_MAX. */
WD_MUST_CHECK int store_notify(struct store *store, const char *payload, struct wd_error *err);

/* Makes store a listener: reconnects it when the connection was lost and
 * subscribes to STORE_NOTIFY_CHANNEL. Use the handle for nothing else.
 * WD_EUNSUPPORTED on SQLite, WD_EUNAVAILABLE while the database is away. */
WD_MUST_CHECK int store_listen(struct store *store, struct wd_error *err);

/* Returns the socket to poll for readability, or -1 without a connection. */
int store_listen_fd(struct store *store);

/* Reads what arrived on a listener without blocking and calls fn once per
 * notification, in order; notifications from outside warden (no process
 * id) are dropped. WD_EUNAVAILABLE when the connection is lost: call
 * store_listen again (with backoff), then refresh everything. */
WD_MUST_CHECK int store_listen_drain(struct store *store, store_notify_fn fn, void *arg,
	struct wd_error *err);

/* Returns how many statements this process has sent to its datastores
 * since start, over all handles: every store_exec and store_query, and the
 * backend's begin, commit and rollback, which count one each. Load tests
 * and /v1/health read it to tell what a request costs the database. */
uint64_t store_statement_count(void);

/* Row accessors; column indexes start at 0. Text and blob of a NULL column
 * are NULL, while an empty blob is non-NULL with length 0. A column out of
 * range reads as NULL. */
size_t store_row_columns(const struct store_row *row);
bool store_row_is_null(const struct store_row *row, size_t column);
int64_t store_row_int(const struct store_row *row, size_t column);
const char *store_row_text(const struct store_row *row, size_t column);
const void *store_row_blob(const struct store_row *row, size_t column, size_t *ret_len);
