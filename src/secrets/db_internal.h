/* Declarations shared by the files of the database secrets engine: its
 * limits, the mount's state, the request context of a handler, and the
 * calls between configuration, roles, credentials, PostgreSQL connections,
 * statement handling and templates. Only src/secrets/db_*.c and database.c
 * include it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/macros.h"
#include "secrets/secrets_internal.h"

/* The only plugin this engine provides, by Vault's name for it. */
#define DB_PLUGIN_NAME "postgresql-database-plugin"

/* Maximum length of a config or role name, in bytes. */
#define DB_NAME_MAX 256
/* PostgreSQL keeps NAMEDATALEN - 1 = 63 bytes of a role name. */
#define DB_USERNAME_MAX 63
/* Generated passwords: 20 characters of [A-Za-z0-9-], as Vault's default
 * password generator makes them. */
#define DB_PASSWORD_LEN 20
/* Seconds the database-side VALID UNTIL lies past the lease's end, as in
 * Vault, so the lease is revoked before the database expires the role. */
#define DB_EXPIRATION_BUFFER_SECONDS 5
/* "2026-12-05 10:20:30+0000" and a NUL. */
#define DB_EXPIRATION_TEXT_MAX 32
/* Ceiling of a username template, of its output and of every value inside. */
#define DB_TEMPLATE_MAX 4096
/* Ceilings of statement lists: entries of one field, bytes of one entry and
 * queries after splitting every entry. */
#define DB_STATEMENTS_MAX 256
#define DB_STATEMENT_BYTES_MAX (64 * 1024)
#define DB_QUERIES_MAX 1024
/* Maximum lengths of connection_url and the root credentials, in bytes. */
#define DB_URL_MAX 4096
#define DB_ROOT_USERNAME_MAX 1024
#define DB_ROOT_PASSWORD_MAX 1024

/* The default username template of Vault's PostgreSQL plugin. */
#define DB_DEFAULT_USERNAME_TEMPLATE                                            \
	"{{ printf \"v-%s-%s-%s-%s\" (.DisplayName | truncate 8) (.RoleName | truncate 8) " \
	"(random 20) (unix_time) | truncate 63 }}"

struct db_conn;

/* State of one database mount: where its barrier data lives and the open
 * PostgreSQL connections, one per config name. */
struct db_state {
	struct secrets *secrets;
	char prefix[64];           /* vault_mount_storage_prefix of the mount */
	struct db_conn *conns;
};

/* One request as the handlers see it. name is the path segment after the
 * route's collection ("readonly" in "creds/readonly"). */
struct db_call {
	struct secrets *secrets;
	struct vault_request *req;
	struct vault_response *resp;
	struct db_state *state;
	const char *name;
};

/* --- Request handlers (db_config.c, db_roles.c, db_creds.c) --- */

WD_MUST_CHECK int db_config_write(const struct db_call *call, struct wd_error *err);
WD_MUST_CHECK int db_config_read(const struct db_call *call, struct wd_error *err);
WD_MUST_CHECK int db_config_delete(const struct db_call *call, struct wd_error *err);
WD_MUST_CHECK int db_config_list(const struct db_call *call, struct wd_error *err);
WD_MUST_CHECK int db_config_reset(const struct db_call *call, struct wd_error *err);
WD_MUST_CHECK int db_config_rotate_root(const struct db_call *call, struct wd_error *err);

WD_MUST_CHECK int db_role_write(const struct db_call *call, struct wd_error *err);
WD_MUST_CHECK int db_role_read(const struct db_call *call, struct wd_error *err);
WD_MUST_CHECK int db_role_delete(const struct db_call *call, struct wd_error *err);
WD_MUST_CHECK int db_role_list(const struct db_call *call, struct wd_error *err);

WD_MUST_CHECK int db_creds_read(const struct db_call *call, struct wd_error *err);

/* The lease callbacks of the vtable (db_revoke.c, db_renew.c).
 * db_lease_revoke_start runs db_lease_revoke's work on a worker thread. */
WD_MUST_CHECK int db_lease_revoke_start(struct secrets *secrets, struct vault_mount *mount,
	const json_t *internal, secrets_done_fn done, void *context, struct wd_error *err);
WD_MUST_CHECK int db_lease_revoke(struct secrets *secrets, struct vault_mount *mount,
	const json_t *internal, struct wd_error *err);
WD_MUST_CHECK int db_lease_renew(struct secrets *secrets, struct vault_mount *mount,
	const json_t *internal, int64_t issue_time, int64_t increment, int64_t *ret_ttl,
	struct wd_error *err);

/* --- Stored objects (db_config.c, db_roles.c) --- */

/* Whether name is a valid config or role name: Vault's \w([\w-.]*\w)?
 * with ASCII word characters, at most DB_NAME_MAX bytes. */
bool db_name_valid(const char *name);

/* Writes "<mount prefix><kind>/<name>" to out (VAULT_PATH_MAX bytes):
 * kind is "config" or "role". */
void db_storage_path(const struct db_state *state, const char *kind, const char *name,
	char out[static VAULT_PATH_MAX]);

/* Loads the stored config or role, which the caller owns.
 * WD_ENOTFOUND when there is none. */
WD_MUST_CHECK int db_config_load(struct db_state *state, const char *name, json_t **ret_config,
	struct wd_error *err);
WD_MUST_CHECK int db_role_load(struct db_state *state, const char *name, json_t **ret_role,
	struct wd_error *err);

/* Writes config to the barrier under name. */
WD_MUST_CHECK int db_config_store(struct db_state *state, const char *name,
	const json_t *config, struct wd_error *err);

/* Returns a string of the config's connection_details, or NULL. */
const char *db_config_detail(const json_t *config, const char *field);

/* Whether role is allowed by the config's allowed_roles ("*" or globs with
 * '*' wildcards; an empty list allows no role). */
bool db_config_allows_role(const json_t *config, const char *role);

/* Returns the integer field of a stored role (default_ttl, max_ttl), 0
 * when absent. */
int64_t db_role_seconds(const json_t *role, const char *field);

/* --- Lenient field readers (db_fields.c) ---
 * Vault's CLI sends every field as a string ("verify_connection=false"),
 * and Vault decodes them weakly, so these accept both forms. They return 1
 * when set, 0 when absent or null (output unchanged) and WD_EINVAL naming
 * the field otherwise. */
WD_MUST_CHECK int db_field_bool(const json_t *body, const char *field, bool *ret_value,
	struct wd_error *err);
WD_MUST_CHECK int db_field_int(const json_t *body, const char *field, int64_t min, int64_t max,
	int64_t *ret_value, struct wd_error *err);
WD_MUST_CHECK int db_field_string(const json_t *body, const char *field, size_t max_len,
	const char **ret_value, struct wd_error *err);
/* Adds Vault's warning "Endpoint ignored these unrecognized parameters:
 * [a b]" when body has keys outside known. */
WD_MUST_CHECK int db_warn_unknown_fields(const json_t *body, const char *const *known,
	size_t known_count, struct vault_response *resp);

/* --- Statements (db_statements.c) --- */

/* Reads a statements field of a request: a JSON array of strings, or one
 * string, which becomes a one-entry list. An entry may contain base64, a
 * JSON array or several statements (see db_statements_expand). Entries are
 * trimmed and empty ones dropped. Returns 1 when set, 0 when absent or
 * null, and WD_EINVAL or WD_ETOOBIG naming the field. */
WD_MUST_CHECK int db_statements_field(const json_t *body, const char *field, json_t **ret_list,
	struct wd_error *err);

/* Turns a stored statements list into the queries to run, in order. Each
 * entry is trimmed, then decoded when it is valid base64, then read as a
 * JSON array of strings when it is one. Otherwise it is split on ';'
 * outside quotes, comments and dollar quotes. An entry that contains the
 * word END outside single and double quotes runs whole (DO blocks). Empty
 * queries are dropped. The caller owns *ret_queries. */
WD_MUST_CHECK int db_statements_expand(const json_t *list, json_t **ret_queries,
	struct wd_error *err);

/* Whether text contains END as a whole word (any case) outside '...' and
 * "..." quotes. */
bool db_statement_has_end(const char *text, size_t len);

/* Appends the ';'-separated queries of text to queries, trimmed, without
 * empty ones. Semicolons inside quotes, dollar quotes and comments do not
 * split. WD_ETOOBIG past DB_QUERIES_MAX. */
WD_MUST_CHECK int db_statements_split(const char *text, size_t len, json_t *queries);

/* --- Templates and generated values (db_template.c, db_password.c) --- */

/* Values of a username template: {{.DisplayName}} and {{.RoleName}}, and
 * the time that unix_time, unix_time_millis and timestamp print. */
struct db_template_data {
	const char *display_name;
	const char *role_name;
	int64_t now_ms;            /* Unix time in milliseconds */
};

/* Renders a Go text/template of the subset Vault's username templates use:
 * text, {{ pipelines }} with '|', parentheses, string and integer
 * literals, the fields above, trim markers {{- -}}, comments, and the
 * functions printf (%s %d %v %%), random, truncate, truncate_sha256,
 * uppercase, lowercase, replace, sha256, base64, unix_time,
 * unix_time_millis, timestamp and uuid. The caller frees *ret_text.
 * WD_EINVAL with the reason for anything else; WD_ETOOBIG past
 * DB_TEMPLATE_MAX. */
WD_MUST_CHECK int db_template_render(const char *text, const struct db_template_data *data,
	char **ret_text, struct wd_error *err);

/* Makes a username from template (NULL or "": the default template), cut
 * to DB_USERNAME_MAX bytes at a UTF-8 character boundary, as PostgreSQL
 * cuts names. WD_EINVAL when the result is empty, is not UTF-8, or has a
 * quote, a backslash or a control character, since statements put it
 * between quotes. */
WD_MUST_CHECK int db_username_generate(const char *template_text,
	const struct db_template_data *data, char ret_username[static DB_USERNAME_MAX + 1],
	struct wd_error *err);

/* Whether len bytes are valid UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF). */
bool db_utf8_valid(const char *data, size_t len);

/* Fills out with len random characters of [0-9A-Za-z] and a NUL, each
 * equally likely. WD_ECRYPTO when the DRBG fails. */
WD_MUST_CHECK int db_random_base62(char *out, size_t len);

/* Writes a password of DB_PASSWORD_LEN characters of [A-Za-z0-9-] with at
 * least one upper-case letter, lower-case letter, digit and '-'. */
WD_MUST_CHECK int db_password_generate(char ret_password[static DB_PASSWORD_LEN + 1]);

/* Formats Unix seconds as Go's "2006-01-02 15:04:05-0700" in UTC, the
 * {{expiration}} of statements: "2026-12-05 10:20:30+0000". */
void db_format_expiration(int64_t unix_seconds, char out[static DB_EXPIRATION_TEXT_MAX]);

/* One {{key}} of a statement and its value. */
struct db_substitution {
	const char *key;
	const char *value;
};

/* Appends text to out with every "{{key}}" of subs replaced by its value,
 * in one left-to-right pass (a value is never scanned again), as Vault's
 * QueryHelper does, without any escaping. Unknown {{...}} stay as they are. */
WD_MUST_CHECK int db_substitute(const char *text, const struct db_substitution *subs,
	size_t count, struct wd_buf *out);

/* --- PostgreSQL connections and queries (db_conn.c, db_query.c) --- */

/* Work run on a config's connection by db_conn_run. */
typedef int (*db_conn_work_fn)(PGconn *pg, void *context, struct wd_error *err);

/* Runs work on the connection of config name, opening it first when there
 * is none. When work fails because the connection broke (PQstatus
 * CONNECTION_BAD), reopens it once and runs work again. config may be
 * updated in place and in the barrier when a root password from an
 * interrupted rotate-root is found to be the current one. */
WD_MUST_CHECK int db_conn_run(struct db_state *state, const char *name, json_t *config,
	db_conn_work_fn work, void *context, struct wd_error *err);

/* Opens a connection of config with its stored root password or, when
 * password is not NULL, with that one. Errors never contain a password. */
WD_MUST_CHECK int db_conn_open(const json_t *config, const char *password, PGconn **ret_pg,
	struct wd_error *err);

/* Returns a counter that grows each time a config's connection is closed
 * for a change (db_conn_close, db_conn_close_all). */
uint64_t db_conn_epoch(void);

/* Work on a worker thread's own connection of a config, then a completion
 * on the event loop thread (db_conn_async.c). The caller embeds it in the
 * job's context and sets work, context and done; db_conn_run_async sets
 * the rest, and db_async_clear frees it. */
struct db_async {
	db_conn_work_fn work;   /* on the worker, as db_conn_run would run it */
	void *context;
	void (*done)(struct secrets *secrets, struct db_async *async, int rc,
		struct wd_error *err);
	char *key;              /* the mount's storage prefix and the config name */
	json_t *config;         /* a copy, read by the worker alone */
	uint64_t epoch;
};

/* Queues work for a worker thread, which opens its own connection of
 * config name when it has none or has one from before the last change.
 * A connection that broke is reopened once, as db_conn_run does.
 * WD_EUNSUPPORTED when the work must run on the loop instead: no worker
 * pool, or an interrupted rotate-root to settle first. */
WD_MUST_CHECK int db_conn_run_async(struct db_state *state, const char *name,
	const json_t *config, struct db_async *async, struct wd_error *err);

/* Frees what db_conn_run_async set in async. */
void db_async_clear(struct db_async *async);

/* Replaces the connection of config name with a new one and runs SELECT 1
 * on it. WD_EINVAL naming the host and database (never the password) when
 * that fails. */
WD_MUST_CHECK int db_conn_verify(struct db_state *state, const char *name, json_t *config,
	struct wd_error *err);

/* Closes the connection of config name, if open. */
void db_conn_close(struct db_state *state, const char *name);
/* Closes every connection of the mount. */
void db_conn_close_all(struct db_state *state);

/* Builds the libpq connection string of config: connection_url with
 * {{username}} and {{password}} replaced by the root credentials,
 * percent-encoded in a URI and quoted in a key=value string unless
 * disable_escaping is set. password overrides the stored one when not
 * NULL. out must be a secret buffer. */
WD_MUST_CHECK int db_conn_string(const json_t *config, const char *password, struct wd_buf *out,
	struct wd_error *err);

/* Runs one statement without parameters. WD_EIO with the PostgreSQL
 * message when it fails. */
WD_MUST_CHECK int db_exec(PGconn *pg, const char *sql, struct wd_error *err);

/* Runs one statement with text parameters $1..$count and returns its
 * result, which the caller frees with PQclear. */
WD_MUST_CHECK int db_exec_params(PGconn *pg, const char *sql, int count,
	const char *const *values, PGresult **ret_result, struct wd_error *err);

/* Runs queries (from db_statements_expand) with subs substituted, one by
 * one, inside BEGIN ... COMMIT, and rolls back on the first failure. The
 * substituted text lives in a wiped buffer and error messages have
 * `secret` (may be NULL) replaced by "[password]". */
WD_MUST_CHECK int db_exec_transaction(PGconn *pg, const json_t *queries,
	const struct db_substitution *subs, size_t count, const char *secret,
	struct wd_error *err);

/* Stores whether a role named username exists in pg_roles, and its oid
 * (as decimal text, "" when absent) in ret_oid (16 bytes). */
WD_MUST_CHECK int db_role_exists(PGconn *pg, const char *username, bool *ret_exists,
	char ret_oid[static 16], struct wd_error *err);

/* Ends every session of the role: by name, or by oid when by_oid is set
 * (after the role is dropped its sessions have no name). */
WD_MUST_CHECK int db_terminate_sessions(PGconn *pg, const char *value, bool by_oid,
	struct wd_error *err);

/* The timeout argument of pg_terminate_backend (PostgreSQL 14 and later):
 * it waits up to 2000 ms for each session to end, so a dropped role has no
 * session left. */
#define DB_TERMINATE_WAIT_ARGUMENT ", 2000"

/* Taken before the first GRANT or REVOKE of a transaction, so that
 * transactions changing the same object's privileges queue instead of
 * failing. PostgreSQL updates an ACL without locking its catalog row, so of
 * two concurrent GRANTs on one table the later fails with "tuple
 * concurrently updated". The key is "wrdn" in ASCII. */
#define DB_ACL_LOCK_SQL "SELECT pg_catalog.pg_advisory_xact_lock(2003985518)"

/* Returns whether statement starts with GRANT or REVOKE (any case, after
 * blanks), so that it changes privileges. */
bool db_statement_changes_acl(const char *statement);

/* Revokes the role's privileges and drops it as Vault's PostgreSQL plugin
 * does by default (db_revoke.c). The REVOKEs cover every schema where it
 * owns something or has grants, public and CONNECT on the current
 * database. They run with DROP ROLE IF EXISTS in one transaction first;
 * when that fails, one by one past failures, with the DROP only when all
 * succeeded. oid is the role's, as db_role_exists returns it. */
WD_MUST_CHECK int db_revoke_default(PGconn *pg, const char *username, const char *oid,
	struct wd_error *err);

/* Replaces every occurrence of secret in err's detail with "[password]". */
void db_error_scrub(struct wd_error *err, const char *secret);

/* Prepends prefix to err's detail (cut to fit). */
void db_error_prefix(struct wd_error *err, const char *prefix);
