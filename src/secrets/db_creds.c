/* database/creds/<role>: a new PostgreSQL user with a random password for
 * the lease's TTL.
 *
 * Crash safety: the lease is registered (durably, with the username and
 * what revocation needs) before the user exists. A crash after that leaves
 * a lease whose revocation finds no user or drops it; a crash before it
 * leaves nothing. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/time.h"
#include "secrets/db_internal.h"
#include "secrets/expire.h"
#include "secrets/token.h"

struct creation {
	const json_t *role;
	const json_t *config;
	const char *username;
	const char *password;
	const char *expiration;
};

static int create_work(PGconn *pg, void *context, struct wd_error *err)
{
	const struct creation *creation = context;
	const char *authentication = db_config_detail(creation->config, "password_authentication");
	char *hashed = NULL;
	json_t *queries = NULL;
	int rc;

	WD_TRY(db_statements_expand(json_object_get(creation->role, "creation_statements"),
		&queries, err));

	/* With scram-sha-256, {{password}} is the SCRAM verifier computed here,
	 * so the plain text never reaches the server. */
	if (authentication && !strcmp(authentication, "scram-sha-256")) {
		hashed = PQencryptPasswordConn(pg, creation->password, creation->username,
			"scram-sha-256");
		if (!hashed) {
			rc = wd_error_set(err, WD_EIO, "failed to hash the password: %.*s",
				(int)strcspn(PQerrorMessage(pg), "\n"), PQerrorMessage(pg));
			goto out;
		}
	}
	{
		const struct db_substitution subs[] = {
			{ "name", creation->username },
			{ "username", creation->username },
			{ "password", hashed ? hashed : creation->password },
			{ "expiration", creation->expiration },
		};

		rc = db_exec_transaction(pg, queries, subs, WD_ARRAY_LEN(subs), creation->password,
			err);
	}
	if (rc < 0 && hashed)
		db_error_scrub(err, hashed);
out:
	if (hashed) {
		OPENSSL_cleanse(hashed, strlen(hashed));
		PQfreemem(hashed);
	}
	json_decref(queries);
	return rc;
}

/* Undoes a failed creation: the role's rollback statements, or else the
 * default revocation when the user exists after all. */
static int rollback_work(PGconn *pg, void *context, struct wd_error *err)
{
	const struct creation *creation = context;
	const json_t *statements = json_object_get(creation->role, "rollback_statements");
	json_t *queries = NULL;
	char oid[16];
	bool exists = false;
	int rc;

	if (json_array_size(statements) == 0) {
		WD_TRY(db_role_exists(pg, creation->username, &exists, oid, err));
		return exists ? db_revoke_default(pg, creation->username, oid, err) : 0;
	}

	WD_TRY(db_statements_expand(statements, &queries, err));
	{
		const struct db_substitution subs[] = {
			{ "name", creation->username },
			{ "username", creation->username },
		};

		rc = db_exec_transaction(pg, queries, subs, WD_ARRAY_LEN(subs), NULL, err);
	}
	json_decref(queries);
	return rc;
}

/* After a failed creation: roll back, then forget the lease. When the
 * rollback fails too, the lease stays so that its revocation removes the
 * user at expiry, with retries. */
static void undo_creation(const struct db_call *call, const char *db_name, json_t *config,
	struct creation *creation)
{
	struct wd_error undo_err;

	wd_error_clear(&undo_err);
	if (db_conn_run(call->state, db_name, config, rollback_work, creation, &undo_err) < 0) {
		log_error("database", "rollback of a failed creation failed; the lease stays to "
			"revoke the user at expiry", "lease_id", call->resp->lease_id, "username",
			creation->username, "error", wd_error_text(&undo_err));
		return;
	}
	if (expire_forget(call->secrets, call->resp->lease_id, &undo_err) < 0)
		log_error("database", "failed to forget the lease of a failed creation", "lease_id",
			call->resp->lease_id, "error", wd_error_text(&undo_err));
}

/* A creation on a worker thread: the user is made there, and rolled back
 * there when that fails; the reply follows on the event loop. */
struct creation_job {
	struct db_async async;
	struct vault_call *call;
	struct creation creation;
	json_t *role;               /* a copy, read by the worker alone */
	char lease_id[VAULT_LEASE_ID_MAX];
	char mount_path[256];
	char db_name[DB_NAME_MAX + 1];
	json_t *config;             /* a copy, read by the worker alone */
	char role_name[DB_NAME_MAX + 1];
	char username[DB_USERNAME_MAX + 1];
	char password[DB_PASSWORD_LEN + 1];
	char expiration[DB_EXPIRATION_TEXT_MAX];
	bool rolled_back;
	struct wd_error rollback_err;
};

static int create_job_work(PGconn *pg, void *context, struct wd_error *err)
{
	struct creation_job *job = context;
	int rc = create_work(pg, &job->creation, err);

	if (rc < 0 && PQstatus(pg) != CONNECTION_BAD) {
		wd_error_clear(&job->rollback_err);
		job->rolled_back = rollback_work(pg, &job->creation, &job->rollback_err) == 0;
	}
	return rc;
}

static void creation_job_free(struct creation_job *job)
{
	db_async_clear(&job->async);
	json_decref(job->role);
	json_decref(job->config);
	OPENSSL_cleanse(job->password, sizeof(job->password));
	free(job);
}

/* Revokes the user of a lease that ended while the user was being made. */
static void revoke_orphan(struct secrets *secrets, const struct creation_job *job)
{
	struct vault_mount *mount = vault_mount_lookup(secrets, job->mount_path);
	struct wd_error err;
	json_t *internal;

	wd_error_clear(&err);
	internal = json_pack("{s:s, s:s, s:s, s:O*}", "username", job->creation.username, "role",
		job->role_name, "db_name", job->db_name, "revocation_statements",
		json_object_get(job->role, "revocation_statements"));
	if (!internal || !mount || strcmp(mount->path, job->mount_path) != 0 ||
	    db_lease_revoke(secrets, mount, internal, &err) < 0)
		log_error("database", "user of an ended lease not revoked", "lease_id",
			job->lease_id, "username", job->creation.username, "error",
			wd_error_text(&err));
	json_decref(internal);
}

/* Finishes the request on the event loop. A lease revoked while the user
 * was being made (it expired, its token was revoked) leaves a user that no
 * lease covers, so the user is revoked here. */
static void create_job_done(struct secrets *secrets, struct db_async *async, int rc,
	struct wd_error *err)
{
	struct creation_job *job = async->context;
	struct vault_response *resp = vault_call_response(job->call);
	struct wd_error done_err;

	wd_error_clear(&done_err);
	if (rc == 0 && !expire_lease_exists(secrets, job->lease_id)) {
		rc = wd_error_set(&done_err, WD_EIO, "lease ended before the user was created");
		revoke_orphan(secrets, job);
		err = &done_err;
	} else if (rc < 0) {
		if (!job->rolled_back)
			log_error("database", "rollback of a failed creation failed; the lease stays to "
				"revoke the user at expiry", "lease_id", job->lease_id, "username",
				job->creation.username, "error", wd_error_text(&job->rollback_err));
		else if (expire_forget(secrets, job->lease_id, &done_err) < 0)
			log_error("database", "failed to forget the lease of a failed creation",
				"lease_id", job->lease_id, "error", wd_error_text(&done_err));
		db_error_prefix(err, "failed to create the database user: ");
	}

	if (rc < 0) {
		err->code = WD_EIO;
		resp->lease_id[0] = '\0';
		resp->renewable = false;
		resp->lease_duration = 0;
		vault_call_finish(job->call, WD_EIO, err);
		creation_job_free(job);
		return;
	}
	resp->data = json_pack("{s:s, s:s}", "username", job->creation.username, "password",
		job->creation.password);
	if (!resp->data) {
		wd_error_set(&done_err, WD_ENOMEM, "out of memory for the credentials");
		vault_call_finish(job->call, WD_ENOMEM, &done_err);
		creation_job_free(job);
		return;
	}
	log_info("database", "credentials issued", "mount", job->mount_path, "role",
		job->role_name, "username", job->creation.username, "lease_id", job->lease_id);
	vault_call_finish(job->call, 0, NULL);
	creation_job_free(job);
}

/* Hands the creation to a worker thread. Returns VAULT_PENDING when it
 * did, or WD_EUNSUPPORTED when the caller must create the user itself. */
static int create_on_worker(const struct db_call *call, const char *db_name,
	const json_t *role, const json_t *config, const struct creation *creation,
	struct wd_error *err)
{
	struct creation_job *job;
	struct vault_call *vault_call;
	int rc;

	if (!call->req->call || json_object_get(config, "pending_root_password"))
		return WD_EUNSUPPORTED;
	job = calloc(1, sizeof(*job));
	if (!job)
		return WD_EUNSUPPORTED;
	job->role = json_deep_copy(role);
	job->config = json_deep_copy(config);
	snprintf(job->db_name, sizeof(job->db_name), "%s", db_name);
	snprintf(job->lease_id, sizeof(job->lease_id), "%s", call->resp->lease_id);
	snprintf(job->mount_path, sizeof(job->mount_path), "%s", call->req->mount->path);
	snprintf(job->role_name, sizeof(job->role_name), "%s", call->name);
	snprintf(job->username, sizeof(job->username), "%s", creation->username);
	snprintf(job->password, sizeof(job->password), "%s", creation->password);
	snprintf(job->expiration, sizeof(job->expiration), "%s", creation->expiration);
	job->async.work = create_job_work;
	job->async.context = job;
	job->async.done = create_job_done;
	if (!job->role || !job->config) {
		creation_job_free(job);
		return WD_EUNSUPPORTED;
	}

	vault_call = vault_request_defer(call->req);
	if (!vault_call) {
		creation_job_free(job);
		return WD_EUNSUPPORTED;
	}
	job->call = vault_call;
	/* The worker reads the role and config copies alone. */
	job->creation = (struct creation){
		.role = job->role, .config = job->config, .username = job->username,
		.password = job->password, .expiration = job->expiration,
	};
	rc = db_conn_run_async(call->state, db_name, config, &job->async, err);
	if (rc < 0) {
		/* The request is deferred already: the caller goes on in place
		 * and the core finishes it. */
		creation_job_free(job);
		wd_error_clear(err);
		return WD_EUNSUPPORTED;
	}
	return VAULT_PENDING;
}

/* Checks the role and its config and computes the TTL: the checks Vault
 * makes before it creates anything. */
static int load_role_and_config(const struct db_call *call, json_t **ret_role,
	json_t **ret_config, struct wd_error *err)
{
	const char *db_name;
	int rc;

	rc = db_role_load(call->state, call->name, ret_role, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EINVAL, "unknown role: %s", call->name);
	WD_TRY(rc);

	db_name = json_string_value(json_object_get(*ret_role, "db_name"));
	rc = db_config_load(call->state, db_name ? db_name : "", ret_config, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EIO, "failed to find entry for connection with name: "
			"\"%.128s\"", db_name ? db_name : "");
	WD_TRY(rc);

	/* Vault returns this as a plain error, so the status is 500, not 403. */
	if (!db_config_allows_role(*ret_config, call->name))
		return wd_error_set(err, WD_EIO, "\"%s\" is not an allowed role", call->name);
	return 0;
}

int db_creds_read(const struct db_call *call, struct wd_error *err)
{
	char username[DB_USERNAME_MAX + 1] = { 0 };
	char password[DB_PASSWORD_LEN + 1] = { 0 };
	char expiration[DB_EXPIRATION_TEXT_MAX];
	char warning[256];
	json_t *role = NULL;
	json_t *config = NULL;
	json_t *internal = NULL;
	const char *db_name;
	int64_t now = wd_now();
	int64_t ttl = 0;
	int rc;

	WD_GUARD(load_role_and_config(call, &role, &config, err));
	db_name = json_string_value(json_object_get(role, "db_name"));

	WD_GUARD(vault_calculate_ttl(call->secrets, call->req->mount, now, now, 0,
		db_role_seconds(role, "default_ttl"), db_role_seconds(role, "max_ttl"), &ttl, warning,
		err));
	if (warning[0])
		WD_GUARD(vault_response_warn(call->resp, "%s", warning));

	{
		const struct db_template_data data = {
			.display_name = call->req->token ? call->req->token->display_name : "",
			.role_name = call->name,
			.now_ms = now * 1000,
		};

		rc = db_username_generate(db_config_detail(config, "username_template"), &data,
			username, err);
		if (rc < 0) {
			err->code = rc = WD_EIO;
			goto out;
		}
	}
	WD_GUARD(db_password_generate(password));
	db_format_expiration(now + ttl + DB_EXPIRATION_BUFFER_SECONDS, expiration);

	internal = json_pack("{s:s, s:s, s:s, s:O*, s:O*}", "username", username, "role",
		call->name, "db_name", db_name, "revocation_statements",
		json_object_get(role, "revocation_statements"), "renew_statements",
		json_object_get(role, "renew_statements"));
	if (!internal)
		WD_GUARD(WD_ENOMEM);
	WD_GUARD(expire_register(call->secrets, call->req, ttl, true, internal, call->resp, err));

	{
		struct creation creation = {
			.role = role, .config = config, .username = username, .password = password,
			.expiration = expiration,
		};

		rc = create_on_worker(call, db_name, role, config, &creation, err);
		if (rc == VAULT_PENDING)
			goto out;
		rc = db_conn_run(call->state, db_name, config, create_work, &creation, err);
		if (rc < 0) {
			struct wd_error creation_err = *err;

			undo_creation(call, db_name, config, &creation);
			*err = creation_err;
			db_error_prefix(err, "failed to create the database user: ");
			err->code = rc = WD_EIO;
			call->resp->lease_id[0] = '\0';
			call->resp->renewable = false;
			call->resp->lease_duration = 0;
			goto out;
		}
	}

	call->resp->data = json_pack("{s:s, s:s}", "username", username, "password", password);
	if (!call->resp->data)
		WD_GUARD(WD_ENOMEM);
	log_info("database", "credentials issued", "mount", call->req->mount->path, "role",
		call->name, "username", username, "lease_id", call->resp->lease_id);
out:
	OPENSSL_cleanse(password, sizeof(password));
	json_decref(internal);
	json_decref(config);
	json_decref(role);
	return rc;
}
