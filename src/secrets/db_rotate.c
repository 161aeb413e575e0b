/* database/rotate-root/<name>: gives the config's root user a new random
 * password in PostgreSQL and stores it. No reply or log contains it.
 *
 * Crash safety: the new password is first stored as pending_root_password,
 * then changed in PostgreSQL, then stored as the password. A crash between
 * the last two steps leaves both passwords stored, and the next connection
 * keeps whichever one logs in (db_conn.c). */
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "secrets/db_internal.h"

struct rotation {
	const json_t *config;
	const char *username;
	const char *password;
};

/* The default statement, ALTER ROLE "<user>" WITH PASSWORD '<password>',
 * with both quoted by libpq. The password is sent as a SCRAM or MD5 hash
 * computed here (the server's password_encryption decides which), so the
 * plain text never reaches the server's statement log. */
static int rotate_default(PGconn *pg, const struct rotation *rotation, struct wd_error *err)
{
	char *identifier = PQescapeIdentifier(pg, rotation->username, strlen(rotation->username));
	char *hashed = PQencryptPasswordConn(pg, rotation->password, rotation->username, NULL);
	char *literal = NULL;
	struct wd_buf sql;
	int rc = 0;

	wd_buf_init_secret(&sql, 256, 4096);
	if (!identifier || !hashed) {
		rc = wd_error_set(err, WD_EIO, "failed to prepare the password change: %.*s",
			(int)strcspn(PQerrorMessage(pg), "\n"), PQerrorMessage(pg));
		goto out;
	}
	literal = PQescapeLiteral(pg, hashed, strlen(hashed));
	if (!literal) {
		rc = WD_ENOMEM;
		goto out;
	}
	WD_GUARD(wd_buf_appendf(&sql, "ALTER ROLE %s WITH PASSWORD %s", identifier, literal));
	rc = db_exec(pg, wd_buf_str(&sql), err);
out:
	if (hashed) {
		OPENSSL_cleanse(hashed, strlen(hashed));
		PQfreemem(hashed);
	}
	if (literal) {
		OPENSSL_cleanse(literal, strlen(literal));
		PQfreemem(literal);
	}
	PQfreemem(identifier);
	wd_buf_free_secret(&sql);
	return rc;
}

static int rotate_work(PGconn *pg, void *context, struct wd_error *err)
{
	const struct rotation *rotation = context;
	const json_t *statements = json_object_get(rotation->config,
		"root_credentials_rotate_statements");
	json_t *queries = NULL;
	int rc;

	if (json_array_size(statements) == 0)
		return rotate_default(pg, rotation, err);

	WD_TRY(db_statements_expand(statements, &queries, err));
	{
		const struct db_substitution subs[] = {
			{ "name", rotation->username },
			{ "username", rotation->username },
			{ "password", rotation->password },
		};

		rc = db_exec_transaction(pg, queries, subs, WD_ARRAY_LEN(subs), rotation->password,
			err);
	}
	json_decref(queries);
	return rc;
}

int db_config_rotate_root(const struct db_call *call, struct wd_error *err)
{
	char password[DB_PASSWORD_LEN + 1] = { 0 };
	json_t *config = NULL;
	json_t *details;
	const char *username;
	const char *current;
	int rc;

	rc = db_config_load(call->state, call->name, &config, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EINVAL, "unknown database config: \"%s\"", call->name);
	WD_TRY(rc);
	details = json_object_get(config, "connection_details");
	username = db_config_detail(config, "username");
	current = db_config_detail(config, "password");
	if (!username || !*username) {
		rc = wd_error_set(err, WD_EINVAL,
			"unable to rotate root credentials: no username in configuration");
		goto out;
	}
	if (!current || !*current) {
		rc = wd_error_set(err, WD_EINVAL,
			"unable to rotate root credentials: no password in configuration");
		goto out;
	}

	WD_GUARD(db_password_generate(password));
	if (json_object_set_new(config, "pending_root_password", json_string(password)) < 0)
		WD_GUARD(WD_ENOMEM);
	WD_GUARD(db_config_store(call->state, call->name, config, err));

	{
		struct rotation rotation = {
			.config = config, .username = username, .password = password,
		};

		rc = db_conn_run(call->state, call->name, config, rotate_work, &rotation, err);
	}
	if (rc < 0) {
		struct wd_error store_err;

		/* PostgreSQL kept the old password: forget the new one. */
		json_object_del(config, "pending_root_password");
		if (db_config_store(call->state, call->name, config, &store_err) < 0)
			log_error("database", "failed to drop the pending root password", "config",
				call->name, "error", wd_error_text(&store_err));
		db_error_scrub(err, password);
		db_error_prefix(err, "failed to rotate root credentials: ");
		err->code = rc = WD_EIO;
		goto out;
	}

	if (json_object_set_new(details, "password", json_string(password)) < 0)
		WD_GUARD(WD_ENOMEM);
	json_object_del(config, "pending_root_password");
	WD_GUARD(db_config_store(call->state, call->name, config, err));

	/* The open session logged in with the old password; the next request
	 * connects with the new one. */
	db_conn_close(call->state, call->name);
	log_info("database", "root credentials rotated", "mount", call->req->mount->path,
		"config", call->name, "username", username);
out:
	OPENSSL_cleanse(password, sizeof(password));
	json_decref(config);
	return rc;
}
