/* Roles of JWT auth (auth/jwt/role/<name>): which claims a token must
 * carry and what Vault token a login with it receives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "net/net_json.h"
#include "secrets/auth_jwt_internal.h"
#include "secrets/barrier.h"

/* Maximum length of user_claim and of bound_subject, in bytes. */
#define CLAIM_NAME_MAX 256
#define SUBJECT_MAX 4096

/* Maximum number of claims in bound_claims. */
#define BOUND_CLAIMS_MAX 64

void jwt_role_free(struct jwt_role *role)
{
	if (!role)
		return;
	free(role->user_claim);
	json_decref(role->bound_audiences);
	free(role->bound_subject);
	json_decref(role->bound_claims);
	auth_token_settings_clear(&role->token);
	free(role);
}

static struct jwt_role *role_new(const char *name)
{
	struct jwt_role *role = wd_calloc(1, sizeof(*role));

	if (!role)
		return NULL;
	snprintf(role->name, sizeof(role->name), "%s", name);
	role->bound_audiences = json_array();
	role->bound_claims = json_object();
	if (!role->bound_audiences || !role->bound_claims) {
		jwt_role_free(role);
		return NULL;
	}
	return role;
}

/* Only "jwt" roles exist here. Vault's default type is "oidc", so a new
 * role must set role_type "jwt". */
static int read_role_type(const json_t *body, bool is_new, struct wd_error *err)
{
	const char *type = NULL;

	WD_TRY(net_json_get_string(body, "role_type", false, 32, &type, err));
	if (!type && !is_new)
		return 0;
	if (!type || strcmp(type, "oidc") == 0)
		return wd_error_set(err, WD_EINVAL, "role_type \"oidc\" (the default) is not "
			"supported; set role_type to \"jwt\"");
	if (strcmp(type, "jwt") != 0)
		return wd_error_set(err, WD_EINVAL, "invalid 'role_type': \"%s\"", type);
	return 0;
}

static int read_bound_claims_type(const json_t *body, bool *inout_glob, struct wd_error *err)
{
	const char *type = NULL;

	WD_TRY(net_json_get_string(body, "bound_claims_type", false, 32, &type, err));
	if (!type)
		return 0;
	if (strcmp(type, "string") != 0 && strcmp(type, "glob") != 0)
		return wd_error_set(err, WD_EINVAL, "invalid 'bound_claims_type': \"%s\"", type);
	*inout_glob = strcmp(type, "glob") == 0;
	return 0;
}

/* bound_claims maps a claim name (or JSON pointer) to a string or a list
 * of strings. */
static int check_bound_claims(const json_t *claims, struct wd_error *err)
{
	const char *name;
	const json_t *value, *item;
	size_t index;

	if (json_object_size(claims) > BOUND_CLAIMS_MAX)
		return wd_error_set(err, WD_EINVAL, "bound_claims has more than %d claims",
			BOUND_CLAIMS_MAX);
	json_object_foreach((json_t *)claims, name, value) {
		if (strlen(name) == 0 || strlen(name) > CLAIM_NAME_MAX)
			return wd_error_set(err, WD_EINVAL, "bound_claims has a claim name of 0 or "
				"more than %d bytes", CLAIM_NAME_MAX);
		if (json_is_string(value) && json_string_length(value) <= AUTH_LIST_ITEM_MAX)
			continue;
		if (!json_is_array(value) || json_array_size(value) > AUTH_LIST_MAX)
			return wd_error_set(err, WD_EINVAL, "bound_claims[\"%s\"] must be a string or "
				"a list of at most %d strings", name, AUTH_LIST_MAX);
		json_array_foreach(value, index, item) {
			if (!json_is_string(item) || json_string_length(item) > AUTH_LIST_ITEM_MAX)
				return wd_error_set(err, WD_EINVAL, "bound_claims[\"%s\"][%zu] must be a "
					"string of at most %d bytes", name, index, AUTH_LIST_ITEM_MAX);
		}
	}
	return 0;
}

static int read_bound_claims(const json_t *body, json_t **slot, struct wd_error *err)
{
	const json_t *claims = json_object_get(body, "bound_claims");
	json_t *copy;

	if (!claims)
		return 0;
	if (json_is_null(claims)) {
		copy = json_object();
	} else {
		if (!json_is_object(claims))
			return wd_error_set(err, WD_EINVAL, "field \"bound_claims\" must be an object");
		WD_TRY(check_bound_claims(claims, err));
		copy = json_deep_copy(claims);
	}
	if (!copy)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading bound_claims");
	json_decref(*slot);
	*slot = copy;
	return 0;
}

static int read_leeway(const json_t *body, const char *name, int64_t *inout,
	struct wd_error *err)
{
	const json_t *value = json_object_get(body, name);
	int64_t seconds = *inout;

	/* -1 is not a duration, so it is read before the duration parser. */
	if (json_is_integer(value) && json_integer_value(value) == -1)
		seconds = -1;
	else
		WD_TRY(vault_json_ttl(body, name, &seconds, err));
	if (seconds < -1 || seconds > JWT_LEEWAY_MAX)
		return wd_error_set(err, WD_EINVAL, "field \"%s\" must be -1 (none), 0 (the "
			"default) or up to %d seconds", name, JWT_LEEWAY_MAX);
	*inout = seconds;
	return 0;
}

/* Replaces *slot with a copy of the string field, or NULL for "". */
static int read_string(const json_t *body, const char *name, size_t max, char **slot,
	struct wd_error *err)
{
	const char *text = NULL;
	char *copy = NULL;
	int rc = net_json_get_string(body, name, false, max, &text, err);

	if (rc <= 0)
		return rc;
	if (text[0]) {
		copy = wd_strdup(text);
		if (!copy)
			return wd_error_set(err, WD_ENOMEM, "out of memory reading \"%s\"", name);
	}
	free(*slot);
	*slot = copy;
	return 0;
}

static int read_audiences(const json_t *body, json_t **slot, struct wd_error *err)
{
	json_t *list = NULL;
	int rc = auth_json_list(body, "bound_audiences", &list, err);

	if (rc <= 0)
		return rc;
	json_decref(*slot);
	*slot = list;
	return 0;
}

/* Vault requires a user claim, and at least one bound on a jwt role so
 * that no token of the issuer logs in by accident. */
static int check_complete(const struct jwt_role *role, struct wd_error *err)
{
	if (!role->user_claim)
		return wd_error_set(err, WD_EINVAL, "a user claim must be defined on the role");
	if (json_array_size(role->bound_audiences) == 0 && !role->bound_subject &&
	    json_object_size(role->bound_claims) == 0)
		return wd_error_set(err, WD_EINVAL, "must have at least one bound constraint when "
			"creating/updating a role");
	return 0;
}

/* Applies the fields present in body (a request or a stored role). */
static int role_update(struct jwt_role *role, const json_t *body, bool is_new,
	struct wd_error *err)
{
	WD_TRY(read_role_type(body, is_new, err));
	WD_TRY(read_bound_claims_type(body, &role->bound_claims_glob, err));
	WD_TRY(read_leeway(body, "clock_skew_leeway", &role->clock_skew_leeway, err));
	WD_TRY(read_leeway(body, "expiration_leeway", &role->expiration_leeway, err));
	WD_TRY(read_leeway(body, "not_before_leeway", &role->not_before_leeway, err));
	WD_TRY(auth_token_settings_parse(body, &role->token, err));
	WD_TRY(read_string(body, "user_claim", CLAIM_NAME_MAX, &role->user_claim, err));
	WD_TRY(read_string(body, "bound_subject", SUBJECT_MAX, &role->bound_subject, err));
	WD_TRY(read_audiences(body, &role->bound_audiences, err));
	WD_TRY(read_bound_claims(body, &role->bound_claims, err));
	return check_complete(role, err);
}

static json_t *role_to_json(const struct jwt_role *role)
{
	json_t *obj = json_pack("{s:s, s:s, s:O, s:s, s:O, s:s, s:I, s:I, s:I}",
		"role_type", "jwt",
		"user_claim", role->user_claim ? role->user_claim : "",
		"bound_audiences", role->bound_audiences,
		"bound_subject", role->bound_subject ? role->bound_subject : "",
		"bound_claims", role->bound_claims,
		"bound_claims_type", role->bound_claims_glob ? "glob" : "string",
		"clock_skew_leeway", (json_int_t)role->clock_skew_leeway,
		"expiration_leeway", (json_int_t)role->expiration_leeway,
		"not_before_leeway", (json_int_t)role->not_before_leeway);

	if (obj && auth_token_settings_to_json(&role->token, obj) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

int jwt_role_load(struct secrets *secrets, const struct vault_mount *mount, const char *name,
	struct jwt_role **ret_role, struct wd_error *err)
{
	char path[VAULT_PATH_MAX];
	struct wd_error stored_err = { 0 };
	struct jwt_role *role;
	json_t *stored = NULL;
	int rc;

	*ret_role = NULL;
	WD_TRY(auth_role_name_check(name, err));
	WD_TRY(auth_storage_path(mount, JWT_ROLE_FOLDER, name, path, sizeof(path), err));
	WD_TRY(barrier_get_json(secrets->barrier, path, &stored, err));

	role = role_new(name);
	if (!role) {
		json_decref(stored);
		return wd_error_set(err, WD_ENOMEM, "out of memory loading role \"%s\"", name);
	}
	rc = role_update(role, stored, false, &stored_err);
	json_decref(stored);
	if (rc < 0) {
		jwt_role_free(role);
		return wd_error_set(err, WD_ECORRUPT, "stored jwt role \"%s\" is invalid: %s", name,
			wd_error_text(&stored_err));
	}
	*ret_role = role;
	return 0;
}

static const char *const role_fields[] = {
	"role_type", "user_claim", "bound_audiences", "bound_subject", "bound_claims",
	"bound_claims_type", "clock_skew_leeway", "expiration_leeway", "not_before_leeway",
};

static int handle_write(struct secrets *secrets, struct vault_request *req, const char *name,
	struct vault_response *resp, struct wd_error *err)
{
	char path[VAULT_PATH_MAX];
	struct jwt_role *role = NULL;
	json_t *obj = NULL;
	bool is_new = false;
	int rc;

	rc = jwt_role_load(secrets, req->mount, name, &role, err);
	if (rc == WD_ENOTFOUND) {
		role = role_new(name);
		WD_ENSURE(role, wd_error_set(err, WD_ENOMEM, "out of memory"));
		is_new = true;
		rc = 0;
	}
	WD_GUARD(rc);
	WD_GUARD(auth_warn_unknown_fields(resp, req->body, role_fields,
		WD_ARRAY_LEN(role_fields), true));
	WD_GUARD(role_update(role, req->body, is_new, err));

	WD_GUARD(auth_storage_path(req->mount, JWT_ROLE_FOLDER, name, path, sizeof(path), err));
	obj = role_to_json(role);
	WD_ENSURE(obj, wd_error_set(err, WD_ENOMEM, "out of memory saving role \"%s\"", name));
	WD_GUARD(barrier_put_json(secrets->barrier, path, obj, err));
	rc = 0;
out:
	json_decref(obj);
	jwt_role_free(role);
	return rc;
}

static int handle_read(struct secrets *secrets, struct vault_request *req, const char *name,
	struct vault_response *resp, struct wd_error *err)
{
	struct jwt_role *role = NULL;
	int rc;

	rc = jwt_role_load(secrets, req->mount, name, &role, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ENOTFOUND, "%s", "");
	if (rc < 0)
		return rc;
	resp->data = role_to_json(role);
	jwt_role_free(role);
	if (!resp->data)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading role \"%s\"", name);
	return 0;
}

static int handle_delete(struct secrets *secrets, struct vault_request *req, const char *name,
	struct wd_error *err)
{
	char path[VAULT_PATH_MAX];

	WD_TRY(auth_role_name_check(name, err));
	WD_TRY(auth_storage_path(req->mount, JWT_ROLE_FOLDER, name, path, sizeof(path), err));
	return barrier_delete(secrets->barrier, path, err);
}

int jwt_handle_role(struct secrets *secrets, struct vault_request *req, const char *name,
	struct vault_response *resp, struct wd_error *err)
{
	switch (req->op) {
	case VAULT_OP_READ:
		return handle_read(secrets, req, name, resp, err);
	case VAULT_OP_CREATE:
	case VAULT_OP_UPDATE:
		return handle_write(secrets, req, name, resp, err);
	case VAULT_OP_DELETE:
		return handle_delete(secrets, req, name, err);
	default:
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	}
}
