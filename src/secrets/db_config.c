/* Connection configs of a database mount: database/config/<name> (write,
 * read, delete, list) and database/reset/<name>, stored in the barrier
 * with the root credentials, which no read returns.
 *
 * Stored JSON, as Vault's DatabaseConfig: plugin_name, plugin_version,
 * verify_connection, allowed_roles, root_credentials_rotate_statements,
 * password_policy, connection_details{connection_url, username, password,
 * ...}, and pending_root_password while a rotate-root runs. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "secrets/barrier.h"
#include "secrets/db_internal.h"

static const char *const config_fields[] = {
	"name", "plugin_name", "plugin_version", "verify_connection", "allowed_roles",
	"root_rotation_statements", "password_policy", "connection_url", "username", "password",
	"username_template", "max_open_connections", "max_idle_connections",
	"max_connection_lifetime", "disable_escaping", "password_authentication",
};

bool db_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > DB_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		bool word = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
			(c >= 'a' && c <= 'z') || c == '_';
		bool inner = i > 0 && i + 1 < len;

		if (!word && !(inner && (c == '-' || c == '.')))
			return false;
	}
	return true;
}

void db_storage_path(const struct db_state *state, const char *kind, const char *name,
	char out[static VAULT_PATH_MAX])
{
	snprintf(out, VAULT_PATH_MAX, "%s%s/%s", state->prefix, kind, name);
}

int db_config_load(struct db_state *state, const char *name, json_t **ret_config,
	struct wd_error *err)
{
	char path[VAULT_PATH_MAX];

	db_storage_path(state, "config", name, path);
	return barrier_get_json(state->secrets->barrier, path, ret_config, err);
}

int db_config_store(struct db_state *state, const char *name, const json_t *config,
	struct wd_error *err)
{
	char path[VAULT_PATH_MAX];

	db_storage_path(state, "config", name, path);
	return barrier_put_json(state->secrets->barrier, path, config, err);
}

const char *db_config_detail(const json_t *config, const char *field)
{
	const json_t *details = json_object_get(config, "connection_details");

	return json_string_value(json_object_get(details, field));
}

/* Vault's glob (ryanuber/go-glob): '*' matches any run of characters,
 * everything else matches itself. */
static bool glob_match(const char *pattern, const char *subject)
{
	const char *star = NULL;
	const char *resume = NULL;

	while (*subject) {
		if (*pattern == '*') {
			star = pattern++;
			resume = subject;
		} else if (*pattern == *subject) {
			pattern++;
			subject++;
		} else if (star) {
			pattern = star + 1;
			subject = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

bool db_config_allows_role(const json_t *config, const char *role)
{
	const json_t *allowed = json_object_get(config, "allowed_roles");
	size_t index;
	const json_t *item;

	json_array_foreach(allowed, index, item) {
		const char *pattern = json_string_value(item);

		if (pattern && (!strcmp(pattern, "*") || glob_match(pattern, role)))
			return true;
	}
	return false;
}

/* Returns the connection_details object of config, adding it when absent. */
static json_t *config_details(json_t *config)
{
	json_t *details = json_object_get(config, "connection_details");

	if (json_is_object(details))
		return details;
	details = json_object();
	if (!details || json_object_set_new(config, "connection_details", details) < 0)
		return NULL;
	return details;
}

/* Copies the string field of body into details when present. */
static int set_detail_string(json_t *details, const json_t *body, const char *field,
	size_t max_len, struct wd_error *err)
{
	const char *value = NULL;
	int rc = db_field_string(body, field, max_len, &value, err);

	if (rc <= 0)
		return rc;
	return json_object_set_new(details, field, json_string(value)) < 0 ? WD_ENOMEM : 1;
}

/* Reads the plugin-level connection fields into details, checking each. */
static int read_connection_details(json_t *details, const json_t *body, struct wd_error *err)
{
	const json_t *lifetime = json_object_get(body, "max_connection_lifetime");
	const char *authentication = NULL;
	int64_t number = 0;
	bool flag = false;
	int rc;

	WD_TRY(set_detail_string(details, body, "connection_url", DB_URL_MAX, err));
	WD_TRY(set_detail_string(details, body, "username", DB_ROOT_USERNAME_MAX, err));
	WD_TRY(set_detail_string(details, body, "password", DB_ROOT_PASSWORD_MAX, err));
	WD_TRY(set_detail_string(details, body, "username_template", DB_TEMPLATE_MAX, err));

	/* Pool sizes are kept for reads; warden uses one connection. */
	if ((rc = db_field_int(body, "max_open_connections", 0, 1000000, &number, err)) < 0)
		return rc;
	if (rc && json_object_set_new(details, "max_open_connections", json_integer(number)) < 0)
		return WD_ENOMEM;
	if ((rc = db_field_int(body, "max_idle_connections", 0, 1000000, &number, err)) < 0)
		return rc;
	if (rc && json_object_set_new(details, "max_idle_connections", json_integer(number)) < 0)
		return WD_ENOMEM;
	if ((rc = vault_json_ttl(body, "max_connection_lifetime", &number, err)) < 0)
		return rc;
	if (rc && json_object_set(details, "max_connection_lifetime", (json_t *)lifetime) < 0)
		return WD_ENOMEM;

	if ((rc = db_field_bool(body, "disable_escaping", &flag, err)) < 0)
		return rc;
	if (rc && json_object_set_new(details, "disable_escaping", json_boolean(flag)) < 0)
		return WD_ENOMEM;

	if ((rc = db_field_string(body, "password_authentication", 32, &authentication, err)) < 0)
		return rc;
	if (rc) {
		if (strcmp(authentication, "password") != 0 &&
			strcmp(authentication, "scram-sha-256") != 0)
			return wd_error_set(err, WD_EINVAL, "password_authentication: \"%s\" is neither "
				"\"password\" nor \"scram-sha-256\"", authentication);
		if (json_object_set_new(details, "password_authentication",
			json_string(authentication)) < 0)
			return WD_ENOMEM;
	}
	return 0;
}

/* Checks the merged connection details as Vault's PostgreSQL plugin does
 * on initialization. */
static int check_connection_details(const json_t *config, struct wd_error *err)
{
	const char *url = db_config_detail(config, "connection_url");
	const char *username = db_config_detail(config, "username");
	const char *password = db_config_detail(config, "password");
	const char *username_template = db_config_detail(config, "username_template");

	if (!url || !*url)
		return wd_error_set(err, WD_EINVAL, "connection_url cannot be empty");
	for (int i = 0; i < 2; i++) {
		const char *value = i == 0 ? username : password;

		if (value && (strstr(value, "{{username}}") || strstr(value, "{{password}}")))
			return wd_error_set(err, WD_EINVAL,
				"username and/or password cannot contain the template variables");
	}

	/* A template that fails to render would fail every creds request. */
	if (username_template && *username_template) {
		const struct db_template_data sample = {
			.display_name = "token", .role_name = "role", .now_ms = 0,
		};
		char username_out[DB_USERNAME_MAX + 1];

		WD_TRY(db_username_generate(username_template, &sample, username_out, err));
	}
	return 0;
}

/* Whether a URL carries a literal password: "scheme://user:secret@" with a
 * secret other than {{password}}, or "password=" in key=value form. */
static bool url_has_literal_password(const char *url)
{
	const char *scheme_end = strstr(url, "://");

	if (scheme_end) {
		const char *authority = scheme_end + 3;
		size_t authority_len = strcspn(authority, "/?#");
		const char *at = memrchr(authority, '@', authority_len);
		const char *colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;

		if (!colon)
			return strstr(url, "password=") != NULL;
		return strncmp(colon + 1, "{{password}}", (size_t)(at - colon - 1)) != 0 ||
			at - colon - 1 != (ptrdiff_t)strlen("{{password}}");
	}
	return strstr(url, "password=") != NULL && !strstr(url, "password={{password}}");
}

static int read_config_fields(json_t *config, const json_t *body, bool created,
	struct vault_response *resp, struct wd_error *err)
{
	const char *text = NULL;
	json_t *list = NULL;
	int rc;

	if ((rc = db_field_string(body, "plugin_name", 256, &text, err)) < 0)
		return rc;
	if (rc && json_object_set_new(config, "plugin_name", json_string(text)) < 0)
		return WD_ENOMEM;
	text = json_string_value(json_object_get(config, "plugin_name"));
	if (!text || !*text)
		return wd_error_set(err, WD_EINVAL, "empty plugin name");
	if (strcmp(text, DB_PLUGIN_NAME) != 0)
		return wd_error_set(err, WD_EINVAL, "plugin_name \"%.64s\" is not supported: the only "
			"built-in plugin is " DB_PLUGIN_NAME, text);

	if ((rc = db_field_string(body, "plugin_version", 256, &text, err)) < 0)
		return rc;
	if ((rc || created) && json_object_set_new(config, "plugin_version",
		json_string(rc ? text : "")) < 0)
		return WD_ENOMEM;

	if (json_object_get(body, "allowed_roles") || created) {
		WD_TRY(vault_json_string_list(body, "allowed_roles", &list, err));
		if (json_object_set_new(config, "allowed_roles", list) < 0)
			return WD_ENOMEM;
	}

	if ((rc = db_statements_field(body, "root_rotation_statements", &list, err)) < 0)
		return rc;
	if (rc == 0 && created && !(list = json_array()))
		return WD_ENOMEM;
	if (list && json_object_set_new(config, "root_credentials_rotate_statements", list) < 0)
		return WD_ENOMEM;

	if ((rc = db_field_string(body, "password_policy", 1024, &text, err)) < 0)
		return rc;
	if ((rc || created) && json_object_set_new(config, "password_policy",
		json_string(rc ? text : "")) < 0)
		return WD_ENOMEM;
	if (rc && *text)
		WD_TRY(vault_response_warn(resp, "password_policy is ignored: warden generates "
			"passwords of %d characters with upper- and lower-case letters, digits and '-'",
			DB_PASSWORD_LEN));
	return 0;
}

int db_config_write(const struct db_call *call, struct wd_error *err)
{
	const json_t *body = call->req->body;
	json_t *config = NULL;
	json_t *details;
	bool created = false;
	bool verify = true;
	const char *url;
	int rc;

	rc = db_config_load(call->state, call->name, &config, err);
	if (rc == WD_ENOTFOUND) {
		created = true;
		config = json_object();
		if (!config)
			return WD_ENOMEM;
		wd_error_clear(err);
		rc = 0;
	}
	WD_GUARD(rc);

	WD_GUARD(read_config_fields(config, body, created, call->resp, err));
	WD_GUARD(db_field_bool(body, "verify_connection", &verify, err));
	if (json_object_set_new(config, "verify_connection", json_boolean(verify)) < 0)
		WD_GUARD(WD_ENOMEM);

	details = config_details(config);
	if (!details)
		WD_GUARD(WD_ENOMEM);
	WD_GUARD(read_connection_details(details, body, err));
	WD_GUARD(check_connection_details(config, err));

	/* A new root password replaces one left by an interrupted rotation. */
	if (json_object_get(body, "password"))
		json_object_del(config, "pending_root_password");

	if (verify) {
		rc = db_conn_verify(call->state, call->name, config, err);
		if (rc < 0) {
			db_error_prefix(err, "error creating database object: ");
			goto out;
		}
	} else {
		db_conn_close(call->state, call->name);
	}
	WD_GUARD(db_config_store(call->state, call->name, config, err));

	url = db_config_detail(config, "connection_url");
	if (url_has_literal_password(url))
		WD_GUARD(vault_response_warn(call->resp, "Password found in connection_url, use a "
			"templated url to enable root rotation and prevent read access to password "
			"information."));
	WD_GUARD(db_warn_unknown_fields(body, config_fields, WD_ARRAY_LEN(config_fields),
		call->resp));
	log_info("database", created ? "config created" : "config updated", "mount",
		call->req->mount->path, "config", call->name, "verified", verify ? "true" : "false");
out:
	json_decref(config);
	return rc;
}

/* Replaces the password of a URL with "xxxxx", as Go's URL.Redacted does
 * for "scheme://user:secret@host", and also the value of "password=" in
 * key=value form. A {{password}} template stays. */
static json_t *redact_url(const char *url)
{
	struct wd_buf out;
	const char *scheme_end = strstr(url, "://");
	const char *secret = NULL;
	size_t secret_len = 0;
	json_t *redacted;

	if (scheme_end) {
		const char *authority = scheme_end + 3;
		size_t authority_len = strcspn(authority, "/?#");
		const char *at = memrchr(authority, '@', authority_len);
		const char *colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;

		if (colon) {
			secret = colon + 1;
			secret_len = (size_t)(at - secret);
		}
	}
	if (!secret && (secret = strstr(url, "password=")) != NULL) {
		secret += strlen("password=");
		secret_len = strcspn(secret, " ");
	}
	if (!secret || secret_len == 0 ||
		(secret_len == strlen("{{password}}") && !strncmp(secret, "{{password}}", secret_len)))
		return json_string(url);

	wd_buf_init(&out, 128, DB_URL_MAX + 16);
	if (wd_buf_append(&out, url, (size_t)(secret - url)) < 0 ||
		wd_buf_append_str(&out, "xxxxx") < 0 ||
		wd_buf_append_str(&out, secret + secret_len) < 0) {
		wd_buf_free(&out);
		return NULL;
	}
	redacted = json_string(wd_buf_str(&out));
	wd_buf_free(&out);
	return redacted;
}

int db_config_read(const struct db_call *call, struct wd_error *err)
{
	json_t *config = NULL;
	json_t *details = NULL;
	json_t *data = NULL;
	const char *url;
	int rc;

	rc = db_config_load(call->state, call->name, &config, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ENOTFOUND, "%s", "");
	WD_TRY(rc);

	/* Never the root password, nor a rotation's pending one. */
	details = json_deep_copy(json_object_get(config, "connection_details"));
	if (!details)
		details = json_object();
	if (!details)
		WD_GUARD(WD_ENOMEM);
	json_object_del(details, "password");
	json_object_del(details, "private_key");
	url = json_string_value(json_object_get(details, "connection_url"));
	if (url && json_object_set_new(details, "connection_url", redact_url(url)) < 0)
		WD_GUARD(WD_ENOMEM);

	data = json_pack("{s:O*, s:O, s:O*, s:O*, s:O*, s:O*, s:O*}",
		"allowed_roles", json_object_get(config, "allowed_roles"),
		"connection_details", details,
		"password_policy", json_object_get(config, "password_policy"),
		"plugin_name", json_object_get(config, "plugin_name"),
		"plugin_version", json_object_get(config, "plugin_version"),
		"root_credentials_rotate_statements",
		json_object_get(config, "root_credentials_rotate_statements"),
		"verify_connection", json_object_get(config, "verify_connection"));
	if (!data)
		WD_GUARD(WD_ENOMEM);
	call->resp->data = WD_TAKE_PTR(data);
out:
	json_decref(details);
	json_decref(config);
	return rc;
}

int db_config_delete(const struct db_call *call, struct wd_error *err)
{
	char path[VAULT_PATH_MAX];

	db_storage_path(call->state, "config", call->name, path);
	WD_TRY(barrier_delete(call->secrets->barrier, path, err));
	db_conn_close(call->state, call->name);
	log_info("database", "config deleted", "mount", call->req->mount->path, "config",
		call->name);
	return 0;
}

static int append_key(void *context, const char *rest)
{
	return json_array_append_new(context, json_string(rest)) < 0 ? WD_ENOMEM : 0;
}

/* Lists the names stored under "<prefix><kind>/" as Vault's data.keys;
 * WD_ENOTFOUND with no message when there are none, as Vault's 404. */
static int list_kind(const struct db_call *call, const char *kind, struct wd_error *err)
{
	char prefix[VAULT_PATH_MAX];
	json_t *keys = json_array();
	int rc;

	if (!keys)
		return WD_ENOMEM;
	snprintf(prefix, sizeof(prefix), "%s%s/", call->state->prefix, kind);
	WD_GUARD(barrier_list(call->secrets->barrier, prefix, true, append_key, keys, err));
	if (json_array_size(keys) == 0) {
		rc = wd_error_set(err, WD_ENOTFOUND, "%s", "");
		goto out;
	}
	call->resp->data = json_pack("{s:O}", "keys", keys);
	if (!call->resp->data)
		rc = WD_ENOMEM;
out:
	json_decref(keys);
	return rc;
}

int db_config_list(const struct db_call *call, struct wd_error *err)
{
	return list_kind(call, "config", err);
}

int db_role_list(const struct db_call *call, struct wd_error *err)
{
	return list_kind(call, "role", err);
}

int db_config_reset(const struct db_call *call, struct wd_error *err)
{
	json_t *config = NULL;
	int rc;

	rc = db_config_load(call->state, call->name, &config, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EINVAL, "unknown database config: \"%s\"", call->name);
	WD_TRY(rc);

	/* As Vault's reset: drop the connection and connect again at once. */
	rc = db_conn_verify(call->state, call->name, config, err);
	if (rc == WD_EINVAL)
		rc = err->code = WD_EIO;
	if (rc == 0)
		log_info("database", "connection reset", "mount", call->req->mount->path, "config",
			call->name);
	json_decref(config);
	return rc;
}
