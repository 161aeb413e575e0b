/* Dynamic roles of a database mount: database/roles/<name> (write, read,
 * delete) and the list. A role names its config (db_name), the statements
 * that create, revoke, roll back and renew a user, and its TTLs.
 *
 * Stored JSON: db_name, creation_statements, revocation_statements,
 * rollback_statements, renew_statements (arrays of strings as given),
 * default_ttl and max_ttl (seconds), credential_type, credential_config. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "secrets/barrier.h"
#include "secrets/db_internal.h"

static const char *const role_fields[] = {
	"name", "db_name", "creation_statements", "revocation_statements",
	"rollback_statements", "renew_statements", "default_ttl", "max_ttl", "credential_type",
	"credential_config",
};

static const char *const statement_fields[] = {
	"creation_statements", "revocation_statements", "rollback_statements",
	"renew_statements",
};

int db_role_load(struct db_state *state, const char *name, json_t **ret_role,
	struct wd_error *err)
{
	char path[VAULT_PATH_MAX];

	db_storage_path(state, "role", name, path);
	return barrier_get_json(state->secrets->barrier, path, ret_role, err);
}

int64_t db_role_seconds(const json_t *role, const char *field)
{
	return json_integer_value(json_object_get(role, field));
}

static int read_db_name(json_t *role, const struct db_call *call, struct wd_error *err)
{
	const char *db_name = NULL;
	json_t *config = NULL;
	int rc;

	if ((rc = db_field_string(call->req->body, "db_name", DB_NAME_MAX, &db_name, err)) < 0)
		return rc;
	if (rc && json_object_set_new(role, "db_name", json_string(db_name)) < 0)
		return WD_ENOMEM;
	db_name = json_string_value(json_object_get(role, "db_name"));
	if (!db_name || !*db_name)
		return wd_error_set(err, WD_EINVAL, "database name is required");

	rc = db_config_load(call->state, db_name, &config, err);
	json_decref(config);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EINVAL, "unknown database config: \"%.128s\" (db_name)",
			db_name);
	return rc;
}

static int read_statements(json_t *role, const json_t *body, bool created,
	struct wd_error *err)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(statement_fields); i++) {
		const char *field = statement_fields[i];
		json_t *list = NULL;
		json_t *queries = NULL;
		int rc = db_statements_field(body, field, &list, err);

		if (rc < 0)
			return rc;
		if (rc == 0 && !created)
			continue;
		if (!list && !(list = json_array()))
			return WD_ENOMEM;

		/* Expanding now rejects a list that could never run. */
		rc = db_statements_expand(list, &queries, err);
		json_decref(queries);
		if (rc < 0) {
			char prefix[64];

			json_decref(list);
			snprintf(prefix, sizeof(prefix), "%s: ", field);
			db_error_prefix(err, prefix);
			return rc;
		}
		if (json_object_set_new(role, field, list) < 0)
			return WD_ENOMEM;
	}
	if (json_array_size(json_object_get(role, "creation_statements")) == 0)
		return wd_error_set(err, WD_EINVAL, "creation_statements are required");
	return 0;
}

static int read_ttls_and_type(json_t *role, const json_t *body, bool created,
	struct vault_response *resp, struct wd_error *err)
{
	static const char *const ttl_fields[] = { "default_ttl", "max_ttl" };
	const json_t *credential_config = json_object_get(body, "credential_config");
	const char *credential_type = NULL;
	int rc;

	for (size_t i = 0; i < WD_ARRAY_LEN(ttl_fields); i++) {
		int64_t seconds = 0;

		if ((rc = vault_json_ttl(body, ttl_fields[i], &seconds, err)) < 0)
			return rc;
		if ((rc || created) &&
			json_object_set_new(role, ttl_fields[i], json_integer(seconds)) < 0)
			return WD_ENOMEM;
	}

	if ((rc = db_field_string(body, "credential_type", 64, &credential_type, err)) < 0)
		return rc;
	if (rc && strcmp(credential_type, "password") != 0)
		return wd_error_set(err, WD_EINVAL, "credential_type \"%s\" is not supported: only "
			"\"password\" is", credential_type);
	if (created && json_object_set_new(role, "credential_type", json_string("password")) < 0)
		return WD_ENOMEM;

	if (credential_config && !json_is_null(credential_config)) {
		if (!json_is_object(credential_config))
			return wd_error_set(err, WD_EINVAL, "credential_config: expected an object");
		if (json_object_set(role, "credential_config", (json_t *)credential_config) < 0)
			return WD_ENOMEM;
		if (json_object_size(credential_config) > 0)
			WD_TRY(vault_response_warn(resp, "credential_config is ignored: warden generates "
				"passwords of %d characters with upper- and lower-case letters, digits and "
				"'-'", DB_PASSWORD_LEN));
	}
	return 0;
}

int db_role_write(const struct db_call *call, struct wd_error *err)
{
	const json_t *body = call->req->body;
	json_t *role = NULL;
	bool created = false;
	int rc;

	rc = db_role_load(call->state, call->name, &role, err);
	if (rc == WD_ENOTFOUND) {
		created = true;
		role = json_object();
		if (!role)
			return WD_ENOMEM;
		wd_error_clear(err);
		rc = 0;
	}
	WD_GUARD(rc);

	WD_GUARD(read_db_name(role, call, err));
	WD_GUARD(read_statements(role, body, created, err));
	WD_GUARD(read_ttls_and_type(role, body, created, call->resp, err));
	WD_GUARD(db_warn_unknown_fields(body, role_fields, WD_ARRAY_LEN(role_fields), call->resp));

	{
		char path[VAULT_PATH_MAX];

		db_storage_path(call->state, "role", call->name, path);
		WD_GUARD(barrier_put_json(call->secrets->barrier, path, role, err));
	}
	log_info("database", created ? "role created" : "role updated", "mount",
		call->req->mount->path, "role", call->name, "db_name",
		json_string_value(json_object_get(role, "db_name")));
out:
	json_decref(role);
	return rc;
}

int db_role_read(const struct db_call *call, struct wd_error *err)
{
	json_t *role = NULL;
	json_t *data;
	const json_t *credential_config;
	int rc;

	rc = db_role_load(call->state, call->name, &role, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ENOTFOUND, "%s", "");
	WD_TRY(rc);

	data = json_pack("{s:O*, s:O*, s:O*, s:O*, s:O*, s:I, s:I, s:O*}",
		"db_name", json_object_get(role, "db_name"),
		"creation_statements", json_object_get(role, "creation_statements"),
		"revocation_statements", json_object_get(role, "revocation_statements"),
		"rollback_statements", json_object_get(role, "rollback_statements"),
		"renew_statements", json_object_get(role, "renew_statements"),
		"default_ttl", (json_int_t)db_role_seconds(role, "default_ttl"),
		"max_ttl", (json_int_t)db_role_seconds(role, "max_ttl"),
		"credential_type", json_object_get(role, "credential_type"));
	credential_config = json_object_get(role, "credential_config");
	if (data && json_object_size(credential_config) > 0 &&
		json_object_set(data, "credential_config", (json_t *)credential_config) < 0) {
		json_decref(data);
		data = NULL;
	}
	json_decref(role);
	if (!data)
		return WD_ENOMEM;
	call->resp->data = data;
	return 0;
}

int db_role_delete(const struct db_call *call, struct wd_error *err)
{
	char path[VAULT_PATH_MAX];

	/* Leases of the role stay revocable: each keeps what revocation needs. */
	db_storage_path(call->state, "role", call->name, path);
	WD_TRY(barrier_delete(call->secrets->barrier, path, err));
	log_info("database", "role deleted", "mount", call->req->mount->path, "role", call->name);
	return 0;
}
