/* Queries on a PostgreSQL connection: single statements, parameterised
 * ones, the operator's statements in one transaction, and the role
 * lookups and session termination that revocation needs. Errors carry
 * PostgreSQL's message with any password replaced. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "secrets/db_internal.h"


void db_error_prefix(struct wd_error *err, const char *prefix)
{
	char detail[sizeof(err->detail)];

	if (!err)
		return;
	memcpy(detail, err->detail, sizeof(detail));
	snprintf(err->detail, sizeof(err->detail), "%s%s", prefix, detail);
}

void db_error_scrub(struct wd_error *err, const char *secret)
{
	char scrubbed[sizeof(err->detail)];
	size_t secret_len = secret ? strlen(secret) : 0;
	size_t out = 0;
	const char *pos;

	if (!err || secret_len == 0)
		return;
	pos = err->detail;
	while (*pos && out + 1 < sizeof(scrubbed)) {
		if (!strncmp(pos, secret, secret_len)) {
			int written = snprintf(scrubbed + out, sizeof(scrubbed) - out, "[password]");

			out = written > 0 && (size_t)written < sizeof(scrubbed) - out ?
				out + (size_t)written : sizeof(scrubbed) - 1;
			pos += secret_len;
		} else {
			scrubbed[out++] = *pos++;
		}
	}
	scrubbed[out] = '\0';
	memcpy(err->detail, scrubbed, sizeof(scrubbed));
	OPENSSL_cleanse(scrubbed, sizeof(scrubbed));
}

/* Stores PostgreSQL's message for a failed call: the primary message of
 * result when there is one, else the connection's first line. */
static int query_error(PGconn *pg, const PGresult *result, struct wd_error *err)
{
	const char *message = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	size_t len;

	if (!message || !*message)
		message = PQerrorMessage(pg);
	len = strcspn(message, "\n");
	if (len == 0)
		return wd_error_set(err, WD_EIO, "query failed with no message from PostgreSQL");
	return wd_error_set(err, WD_EIO, "%.*s", (int)len, message);
}

static bool result_ok(const PGresult *result)
{
	ExecStatusType status = PQresultStatus(result);

	return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

int db_exec(PGconn *pg, const char *sql, struct wd_error *err)
{
	PGresult *result = PQexec(pg, sql);
	int rc = 0;

	if (!result_ok(result))
		rc = query_error(pg, result, err);
	PQclear(result);
	return rc;
}

int db_exec_params(PGconn *pg, const char *sql, int count, const char *const *values,
	PGresult **ret_result, struct wd_error *err)
{
	PGresult *result = PQexecParams(pg, sql, count, NULL, values, NULL, NULL, 0);
	int rc;

	*ret_result = NULL;
	if (!result_ok(result)) {
		rc = query_error(pg, result, err);
		PQclear(result);
		return rc;
	}
	*ret_result = result;
	return 0;
}

bool db_statement_changes_acl(const char *statement)
{
	while (*statement == ' ' || *statement == '\t' || *statement == '\n' || *statement == '\r')
		statement++;
	return strncasecmp(statement, "GRANT", 5) == 0 || strncasecmp(statement, "REVOKE", 6) == 0;
}

int db_exec_transaction(PGconn *pg, const json_t *queries, const struct db_substitution *subs,
	size_t count, const char *secret, struct wd_error *err)
{
	struct wd_buf sql;
	size_t index;
	const json_t *query;
	bool locked = false;
	int rc = 0;

	wd_buf_init_secret(&sql, 256, DB_STATEMENT_BYTES_MAX + 4096);
	WD_GUARD(db_exec(pg, "BEGIN", err));

	json_array_foreach(queries, index, query) {
		wd_buf_reset(&sql);
		rc = db_substitute(json_string_value(query), subs, count, &sql);
		if (rc < 0) {
			rc = wd_error_set(err, rc, "statement %zu is too long after substitution",
				index + 1);
			break;
		}
		if (!locked && db_statement_changes_acl(wd_buf_str(&sql))) {
			rc = db_exec(pg, DB_ACL_LOCK_SQL, err);
			if (rc < 0)
				break;
			locked = true;
		}
		rc = db_exec(pg, wd_buf_str(&sql), err);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = db_exec(pg, "COMMIT", err);

	if (rc < 0) {
		/* A failed COMMIT has ended the transaction already, and on a
		 * broken connection ROLLBACK fails harmlessly. */
		if (PQtransactionStatus(pg) != PQTRANS_IDLE)
			PQclear(PQexec(pg, "ROLLBACK"));
		db_error_scrub(err, secret);
	}
out:
	wd_buf_free(&sql);
	return rc;
}

int db_role_exists(PGconn *pg, const char *username, bool *ret_exists, char ret_oid[static 16],
	struct wd_error *err)
{
	const char *values[] = { username };
	PGresult *result = NULL;

	*ret_exists = false;
	ret_oid[0] = '\0';
	WD_TRY(db_exec_params(pg, "SELECT oid::text FROM pg_catalog.pg_roles WHERE rolname = $1",
		1, values, &result, err));
	if (PQntuples(result) > 0) {
		*ret_exists = true;
		snprintf(ret_oid, 16, "%s", PQgetvalue(result, 0, 0));
	}
	PQclear(result);
	return 0;
}

int db_terminate_sessions(PGconn *pg, const char *value, bool by_oid, struct wd_error *err)
{
	const char *values[] = { value };
	char sql[256];
	PGresult *result = NULL;

	snprintf(sql, sizeof(sql),
		"SELECT pg_catalog.pg_terminate_backend(pid%s) FROM pg_catalog.pg_stat_activity "
		"WHERE %s AND pid <> pg_catalog.pg_backend_pid()",
		PQserverVersion(pg) >= 140000 ? DB_TERMINATE_WAIT_ARGUMENT : "",
		by_oid ? "usesysid = $1::oid" : "usename = $1");
	WD_TRY(db_exec_params(pg, sql, 1, values, &result, err));
	PQclear(result);
	return 0;
}
