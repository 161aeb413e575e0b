/* Revocation of a database lease: the user's sessions are ended, then the
 * role's revocation statements run in one transaction, or Vault's default
 * drop logic when there are none. A user that no longer exists counts as
 * revoked, so retries and revocations after a crash succeed.
 *
 * Unlike Vault, which leaves live sessions running, revocation ends them
 * (pg_terminate_backend) before and after the statements: a session opened
 * in between would otherwise outlive its role. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "secrets/db_internal.h"

/* Schemas where the role has privileges, from pg_catalog alone. Vault reads
 * the information_schema views role_table_grants and role_column_grants.
 * The second builds a row for every column of every table, and the two took
 * 17 to 35 ms per call on a near-empty PostgreSQL 15 database on a 2-core
 * VM, against about 1 ms for this query. The first two parts return exactly what the two views add to
 * the last two, with the views' filters (relkinds r, v, f and p, user
 * columns, and only grants whose grantor or grantee the current user has
 * USAGE of):
 *   - tables owned by the role with a NULL ACL, whose default ACL gives the
 *     owner every privilege;
 *   - explicit column grants (pg_attribute.attacl).
 * The last two parts are the explicit ACLs of every relation and schema,
 * which show every grant. $1 is the role's oid. */
static const char schemas_query[] =
	"SELECT n.nspname FROM pg_catalog.pg_class c "
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"WHERE c.relacl IS NULL AND c.relowner = $1::oid AND c.relkind IN ('r', 'v', 'f', 'p') "
	"AND pg_catalog.pg_has_role(c.relowner, 'USAGE') "
	"UNION SELECT n.nspname FROM pg_catalog.pg_attribute t "
	"JOIN pg_catalog.pg_class c ON c.oid = t.attrelid "
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"CROSS JOIN LATERAL pg_catalog.aclexplode(t.attacl) a "
	"WHERE t.attacl IS NOT NULL AND t.attnum > 0 AND NOT t.attisdropped "
	"AND c.relkind IN ('r', 'v', 'f', 'p') AND a.grantee = $1::oid "
	"AND (pg_catalog.pg_has_role(a.grantor, 'USAGE') "
	"OR pg_catalog.pg_has_role(a.grantee, 'USAGE')) "
	"UNION SELECT n.nspname FROM pg_catalog.pg_class c "
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a WHERE a.grantee = $1::oid "
	"UNION SELECT n.nspname FROM pg_catalog.pg_namespace n "
	"CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a WHERE a.grantee = $1::oid";

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
	PGresult *result = NULL;
	int rc = 0;

	WD_TRY(db_exec_params(pg, schemas_query, 1, values, &result, err));
	for (int row = 0; row < PQntuples(result) && rc == 0; row++) {
		const char *schema = PQgetvalue(result, row, 0);

		if (strcmp(schema, "public") != 0)
			rc = revoke_in_schema(pg, statements, schema, role_identifier);
	}
	PQclear(result);
	WD_TRY(rc);
	WD_TRY(revoke_in_schema(pg, statements, "public", role_identifier));

	WD_TRY(db_exec_params(pg, "SELECT current_database()", 0, NULL, &result, err));
	if (PQntuples(result) == 1 && !PQgetisnull(result, 0, 0))
		rc = add_revoke(pg, statements, "CONNECT ON DATABASE ", PQgetvalue(result, 0, 0),
			role_identifier);
	PQclear(result);
	return rc;
}

int db_revoke_default(PGconn *pg, const char *username, struct wd_error *err)
{
	char *role_identifier = PQescapeIdentifier(pg, username, strlen(username));
	json_t *statements = json_array();
	struct wd_error last_err;
	bool failed = false;
	char oid[16];
	bool exists;
	size_t index;
	const json_t *statement;
	int rc = 0;

	wd_error_clear(&last_err);
	if (!role_identifier || !statements) {
		rc = WD_ENOMEM;
		goto out;
	}
	WD_GUARD(db_role_exists(pg, username, &exists, oid, err));
	if (!exists)
		goto out;
	WD_GUARD(collect_revokes(pg, oid, role_identifier, statements, err));

	/* Outside a transaction and past failures, as Vault does: remove as
	 * much access as possible now, and drop only when all of it is gone. */
	json_array_foreach(statements, index, statement) {
		if (db_exec(pg, json_string_value(statement), &last_err) < 0)
			failed = true;
	}
	if (failed) {
		rc = wd_error_set(err, WD_EIO, "could not perform all revocation statements: %s",
			last_err.detail);
		goto out;
	}

	{
		char sql[256];

		snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", role_identifier);
		WD_GUARD(db_exec(pg, sql, err));
	}
out:
	json_decref(statements);
	PQfreemem(role_identifier);
	return rc;
}

static int revoke_work(PGconn *pg, void *context, struct wd_error *err)
{
	const struct revocation *revocation = context;
	struct wd_error terminate_err;
	json_t *queries = NULL;
	char oid[16];
	bool exists;
	int rc;

	WD_TRY(db_role_exists(pg, revocation->username, &exists, oid, err));
	if (!exists) {
		log_info("database", "user already gone; lease revoked", "username",
			revocation->username);
		return 0;
	}

	/* Ending sessions needs superuser or pg_signal_backend; without them
	 * the role is still dropped, so a failure here only warns. */
	if (db_terminate_sessions(pg, revocation->username, false, &terminate_err) < 0)
		log_warn("database", "failed to end the user's sessions", "username",
			revocation->username, "error", wd_error_text(&terminate_err));

	if (json_array_size(revocation->statements) == 0) {
		WD_TRY(db_revoke_default(pg, revocation->username, err));
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
	if (db_terminate_sessions(pg, oid, true, &terminate_err) < 0)
		log_warn("database", "failed to end the user's late sessions", "username",
			revocation->username, "error", wd_error_text(&terminate_err));
	return 0;
}

int db_lease_revoke(struct secrets *secrets, struct vault_mount *mount, const json_t *internal,
	struct wd_error *err)
{
	struct db_state *state = mount->state;
	const char *username = json_string_value(json_object_get(internal, "username"));
	const char *role_name = json_string_value(json_object_get(internal, "role"));
	const char *db_name = json_string_value(json_object_get(internal, "db_name"));
	json_t *role = NULL;
	json_t *config = NULL;
	int rc;

	(void)secrets;
	if (!username || !db_name)
		return wd_error_set(err, WD_EIO, "lease has no username or db_name to revoke");

	/* The role's current statements when it still exists (an operator may
	 * have fixed them), else those kept in the lease. */
	rc = role_name ? db_role_load(state, role_name, &role, err) : WD_ENOTFOUND;
	if (rc < 0 && rc != WD_ENOTFOUND)
		return rc;
	wd_error_clear(err);

	rc = db_config_load(state, db_name, &config, err);
	if (rc == WD_ENOTFOUND)
		rc = wd_error_set(err, WD_EIO, "failed to find entry for connection with name: "
			"\"%.128s\"", db_name);
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
