/* Revocation of a database lease: the user's sessions are ended, then the
 * role's revocation statements run in one transaction, or Vault's default
 * drop logic when there are none. A user that no longer exists counts as
 * revoked, so retries and revocations after a crash succeed.
 *
 * Unlike Vault, which leaves live sessions running, revocation ends them
 * (pg_terminate_backend) before and after the statements: a session opened
 * in between would otherwise outlive its role. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "secrets/db_internal.h"

/* The current database (a row with kind 'd') and every schema where the
 * role owns something or has a privilege (kind 's'), from pg_shdepend.
 * PostgreSQL records there each owner and ACL dependency of a role (DROP
 * ROLE checks them), indexed by the role. Vault reads the information_schema
 * views role_table_grants and role_column_grants instead, which took 17 to
 * 35 ms per call on a near-empty PostgreSQL 15 database on a 2-core VM.
 * Relations of every kind count, so the schemas of sequences are covered
 * too. $1 is the role's oid. */
static const char schemas_query[] =
	"SELECT 'd', pg_catalog.current_database() "
	"UNION SELECT 's', n.nspname FROM pg_catalog.pg_shdepend d "
	"JOIN pg_catalog.pg_class c ON c.oid = d.objid "
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
	"AND d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass "
	"AND d.refobjid = $1::oid AND d.dbid = (SELECT oid FROM pg_catalog.pg_database "
	"WHERE datname = pg_catalog.current_database()) "
	"UNION SELECT 's', n.nspname FROM pg_catalog.pg_shdepend d "
	"JOIN pg_catalog.pg_namespace n ON n.oid = d.objid "
	"WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass "
	"AND d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass "
	"AND d.refobjid = $1::oid AND d.dbid = (SELECT oid FROM pg_catalog.pg_database "
	"WHERE datname = pg_catalog.current_database())";

struct revocation {
	const char *username;
	const json_t *statements;    /* custom revocation statements; empty for the default */
};

/* Appends "REVOKE <privileges><object> FROM <role>" to statements, with
 * the object's name quoted here and the role's quoted by the caller. */
static int add_revoke(PGconn *pg, json_t *statements, const char *privileges,
	const char *object, const char *role_identifier)
{
	char *object_identifier = PQescapeIdentifier(pg, object, strlen(object));
	char sql[1024];
	int rc = 0;

	if (!object_identifier)
		return WD_ENOMEM;
	snprintf(sql, sizeof(sql), "REVOKE %s%s FROM %s", privileges, object_identifier,
		role_identifier);
	if (json_array_append_new(statements, json_string(sql)) < 0)
		rc = WD_ENOMEM;
	PQfreemem(object_identifier);
	return rc;
}

/* The privileges revoked in every schema where the role has some, and
 * in public in any case, as Vault does (plus sequences in every schema). */
static const char *const schema_privileges[] = {
	"ALL PRIVILEGES ON ALL TABLES IN SCHEMA ",
	"ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA ",
	"USAGE ON SCHEMA ",
};

static int revoke_in_schema(PGconn *pg, json_t *statements, const char *schema,
	const char *role_identifier)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(schema_privileges); i++)
		WD_TRY(add_revoke(pg, statements, schema_privileges[i], schema, role_identifier));
	return 0;
}

static int collect_revokes(PGconn *pg, const char *oid, const char *role_identifier,
	json_t *statements, struct wd_error *err)
{
	const char *values[] = { oid };
	const char *database = NULL;
	PGresult *result = NULL;
	int rc = 0;

	WD_TRY(db_exec_params(pg, schemas_query, 1, values, &result, err));
	for (int row = 0; row < PQntuples(result) && rc == 0; row++) {
		const char *kind = PQgetvalue(result, row, 0);
		const char *name = PQgetvalue(result, row, 1);

		if (kind[0] == 'd')
			database = name;
		else if (strcmp(name, "public") != 0)
			rc = revoke_in_schema(pg, statements, name, role_identifier);
	}
	if (rc == 0)
		rc = revoke_in_schema(pg, statements, "public", role_identifier);
	if (rc == 0 && database)
		rc = add_revoke(pg, statements, "CONNECT ON DATABASE ", database, role_identifier);
	PQclear(result);
	return rc;
}

/* Runs every REVOKE and the DROP ROLE as one multi-statement query, which
 * PostgreSQL runs as one transaction: one round trip and one commit. */
static int revoke_in_one_transaction(PGconn *pg, const json_t *statements,
	const char *drop, struct wd_error *err)
{
	struct wd_buf sql;
	size_t index;
	const json_t *statement;
	int rc = 0;

	wd_buf_init(&sql, 1024, DB_STATEMENT_BYTES_MAX + 4096);
	WD_GUARD(wd_buf_append_str(&sql, DB_ACL_LOCK_SQL "; "));
	json_array_foreach(statements, index, statement) {
		WD_GUARD(wd_buf_append_str(&sql, json_string_value(statement)));
		WD_GUARD(wd_buf_append_str(&sql, "; "));
	}
	WD_GUARD(wd_buf_append_str(&sql, drop));
	rc = db_exec(pg, wd_buf_str(&sql), err);
out:
	wd_buf_free(&sql);
	if (rc < 0 && err && !err->detail[0])
		wd_error_set(err, rc, "revocation statements too long");
	return rc;
}

/* Vault's order: each statement on its own and past failures, so that as
 * much access as possible is removed, and DROP only when all of it is gone. */
static int revoke_one_by_one(PGconn *pg, const json_t *statements, const char *drop,
	struct wd_error *err)
{
	struct wd_error last_err;
	bool failed = false;
	size_t index;
	const json_t *statement;

	wd_error_clear(&last_err);
	json_array_foreach(statements, index, statement) {
		char sql[1280];

		/* One query string runs as one transaction, which holds the lock
		 * until the REVOKE commits. */
		snprintf(sql, sizeof(sql), "%s; %s", DB_ACL_LOCK_SQL, json_string_value(statement));
		if (db_exec(pg, sql, &last_err) < 0)
			failed = true;
	}
	if (failed)
		return wd_error_set(err, WD_EIO, "could not perform all revocation statements: %s",
			last_err.detail);
	return db_exec(pg, drop, err);
}

int db_revoke_default(PGconn *pg, const char *username, const char *oid, struct wd_error *err)
{
	char *role_identifier = PQescapeIdentifier(pg, username, strlen(username));
	json_t *statements = json_array();
	struct wd_error fast_err;
	char drop[256];
	int rc = 0;

	if (!role_identifier || !statements) {
		rc = WD_ENOMEM;
		goto out;
	}
	WD_GUARD(collect_revokes(pg, oid, role_identifier, statements, err));
	snprintf(drop, sizeof(drop), "DROP ROLE IF EXISTS %s", role_identifier);

	/* Usually everything succeeds together. When one statement fails, the
	 * transaction changed nothing, and Vault's statement-by-statement order
	 * removes what it can. */
	wd_error_clear(&fast_err);
	rc = revoke_in_one_transaction(pg, statements, drop, &fast_err);
	if (rc == 0)
		goto out;
	if (rc == WD_ENOMEM || PQstatus(pg) == CONNECTION_BAD) {
		*err = fast_err;
		goto out;
	}
	rc = revoke_one_by_one(pg, statements, drop, err);
out:
	json_decref(statements);
	PQfreemem(role_identifier);
	return rc;
}

/* Looks the user up and ends its sessions in one round trip. Ending
 * sessions needs superuser or pg_signal_backend, and without them the
 * combined query fails: then the two run apart, so the user is still
 * dropped and only the session ending fails, with a warning. */
static int lookup_and_terminate(PGconn *pg, const char *username, bool *ret_exists,
	char ret_oid[static 16], struct wd_error *err)
{
	const char *values[] = { username };
	struct wd_error terminate_err;
	PGresult *result = NULL;
	char sql[512];

	snprintf(sql, sizeof(sql),
		"SELECT r.oid::text, (SELECT pg_catalog.count(pg_catalog.pg_terminate_backend(a.pid%s)) "
		"FROM pg_catalog.pg_stat_activity a WHERE a.usename = r.rolname "
		"AND a.pid <> pg_catalog.pg_backend_pid()) FROM pg_catalog.pg_roles r "
		"WHERE r.rolname = $1", PQserverVersion(pg) >= 140000 ? DB_TERMINATE_WAIT_ARGUMENT : "");
	wd_error_clear(&terminate_err);
	if (db_exec_params(pg, sql, 1, values, &result, &terminate_err) == 0) {
		*ret_exists = PQntuples(result) > 0;
		snprintf(ret_oid, 16, "%s", *ret_exists ? PQgetvalue(result, 0, 0) : "");
		PQclear(result);
		return 0;
	}
	if (PQstatus(pg) == CONNECTION_BAD) {
		*err = terminate_err;
		return terminate_err.code ? terminate_err.code : WD_EIO;
	}

	WD_TRY(db_role_exists(pg, username, ret_exists, ret_oid, err));
	if (*ret_exists && db_terminate_sessions(pg, username, false, &terminate_err) < 0)
		log_warn("database", "failed to end the user's sessions", "username", username,
			"error", wd_error_text(&terminate_err));
	return 0;
}

static int revoke_work(PGconn *pg, void *context, struct wd_error *err)
{
	const struct revocation *revocation = context;
	struct wd_error terminate_err;
	json_t *queries = NULL;
	char oid[16];
	bool exists;
	int rc;

	WD_TRY(lookup_and_terminate(pg, revocation->username, &exists, oid, err));
	if (!exists) {
		log_info("database", "user already gone; lease revoked", "username",
			revocation->username);
		return 0;
	}

	if (json_array_size(revocation->statements) == 0) {
		WD_TRY(db_revoke_default(pg, revocation->username, oid, err));
	} else {
		const struct db_substitution subs[] = {
			{ "name", revocation->username },
			{ "username", revocation->username },
		};

		WD_TRY(db_statements_expand(revocation->statements, &queries, err));
		rc = db_exec_transaction(pg, queries, subs, WD_ARRAY_LEN(subs), NULL, err);
		json_decref(queries);
		WD_TRY(rc);
	}

	/* Sessions that logged in while the statements ran; by oid, since a
	 * dropped role's sessions have no name any more. */
	wd_error_clear(&terminate_err);
	if (db_terminate_sessions(pg, oid, true, &terminate_err) < 0)
		log_warn("database", "failed to end the user's late sessions", "username",
			revocation->username, "error", wd_error_text(&terminate_err));
	return 0;
}

/* Loads the role's statements (or the lease's copy) and the config of a
 * lease's revocation, as db_lease_revoke and its worker variant need. */
static int revocation_load(struct db_state *state, const json_t *internal, json_t **ret_role,
	json_t **ret_config, struct wd_error *err)
{
	const char *role_name = json_string_value(json_object_get(internal, "role"));
	const char *db_name = json_string_value(json_object_get(internal, "db_name"));
	int rc;

	*ret_role = NULL;
	*ret_config = NULL;
	rc = role_name ? db_role_load(state, role_name, ret_role, err) : WD_ENOTFOUND;
	if (rc < 0 && rc != WD_ENOTFOUND)
		return rc;
	wd_error_clear(err);

	rc = db_config_load(state, db_name, ret_config, err);
	if (rc == WD_ENOTFOUND)
		rc = wd_error_set(err, WD_EIO, "failed to find entry for connection with name: "
			"\"%.128s\"", db_name);
	return rc;
}

/* A revocation on a worker thread, with copies of what it reads. */
struct revocation_job {
	struct db_async async;
	struct revocation revocation;
	char username[DB_USERNAME_MAX + 1];
	char mount_path[256];
	json_t *statements;
	secrets_done_fn done;
	void *done_context;
};

static void revocation_job_done(struct secrets *secrets, struct db_async *async, int rc,
	struct wd_error *err)
{
	struct revocation_job *job = (struct revocation_job *)((char *)async -
		offsetof(struct revocation_job, async));

	if (rc < 0)
		err->code = rc = WD_EIO;
	else
		log_info("database", "user revoked", "mount", job->mount_path, "username",
			job->username);
	job->done(secrets, job->done_context, rc, err);
	db_async_clear(&job->async);
	json_decref(job->statements);
	free(job);
}

int db_lease_revoke_start(struct secrets *secrets, struct vault_mount *mount,
	const json_t *internal, secrets_done_fn done, void *context, struct wd_error *err)
{
	struct db_state *state = mount->state;
	const char *username = json_string_value(json_object_get(internal, "username"));
	const char *db_name = json_string_value(json_object_get(internal, "db_name"));
	struct revocation_job *job = NULL;
	json_t *role = NULL;
	json_t *config = NULL;
	int rc;

	(void)secrets;
	if (!username || !db_name || strlen(username) > DB_USERNAME_MAX)
		return wd_error_set(err, WD_EUNSUPPORTED, "lease for the loop's revocation");
	WD_GUARD(revocation_load(state, internal, &role, &config, err));

	job = calloc(1, sizeof(*job));
	WD_ENSURE(job, WD_ENOMEM);
	snprintf(job->username, sizeof(job->username), "%s", username);
	snprintf(job->mount_path, sizeof(job->mount_path), "%s", mount->path);
	job->statements = json_deep_copy(role ? json_object_get(role, "revocation_statements") :
		json_object_get(internal, "revocation_statements"));
	job->revocation = (struct revocation){
		.username = job->username,
		.statements = job->statements,
	};
	job->done = done;
	job->done_context = context;
	job->async.work = revoke_work;
	job->async.context = &job->revocation;
	job->async.done = revocation_job_done;
	rc = db_conn_run_async(state, db_name, config, &job->async, err);
	if (rc == 0)
		job = NULL;
out:
	if (job) {
		json_decref(job->statements);
		free(job);
	}
	json_decref(config);
	json_decref(role);
	return rc;
}

int db_lease_revoke(struct secrets *secrets, struct vault_mount *mount, const json_t *internal,
	struct wd_error *err)
{
	struct db_state *state = mount->state;
	const char *username = json_string_value(json_object_get(internal, "username"));
	const char *db_name = json_string_value(json_object_get(internal, "db_name"));
	json_t *role = NULL;
	json_t *config = NULL;
	int rc;

	(void)secrets;
	if (!username || !db_name)
		return wd_error_set(err, WD_EIO, "lease has no username or db_name to revoke");

	/* The role's current statements when it still exists (an operator may
	 * have fixed them), else those kept in the lease. */
	rc = revocation_load(state, internal, &role, &config, err);
	if (rc == 0) {
		struct revocation revocation = {
			.username = username,
			.statements = role ? json_object_get(role, "revocation_statements") :
				json_object_get(internal, "revocation_statements"),
		};

		rc = db_conn_run(state, db_name, config, revoke_work, &revocation, err);
		if (rc < 0)
			err->code = rc = WD_EIO;
	}
	if (rc == 0)
		log_info("database", "user revoked", "mount", mount->path, "username", username,
			"db_name", db_name);
	json_decref(config);
	json_decref(role);
	return rc;
}
