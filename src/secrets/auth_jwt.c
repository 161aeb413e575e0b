/* The auth/jwt/ backend: login with a signed JWT (a JWT-SVID of the trust
 * domain, or any JWT signed by a configured key), and the dispatch of the
 * config and role endpoints. */
#include <stdio.h>
#include <string.h>

#include "identity/spiffe_id.h"
#include "net/net_json.h"
#include "secrets/auth_jwt_internal.h"
#include "secrets/token_internal.h"

/* Maximum length of the user claim value kept in metadata and the display
 * name, in bytes. */
#define USER_VALUE_MAX 1024

static const char *const login_fields[] = { "role", "jwt" };

/* The role a login names, or the config's default_role. */
static int login_role_name(const struct vault_request *req, const struct jwt_config *config,
	const char **ret_name, struct wd_error *err)
{
	const char *name = NULL;

	WD_TRY(net_json_get_string(req->body, "role", false, AUTH_ROLE_NAME_MAX, &name, err));
	if (!name || name[0] == '\0')
		name = config->default_role;
	if (!name)
		return wd_error_set(err, WD_EINVAL, "missing role");
	*ret_name = name;
	return 0;
}

static int verify_login(struct secrets *secrets, const struct jwt_config *config,
	const struct jwt_role *role, const char *jwt, json_t **ret_claims, struct wd_error *err)
{
	int64_t now = token_now();
	json_t *claims = NULL;
	int rc;

	*ret_claims = NULL;
	if (json_array_size(config->pubkeys) > 0)
		rc = jwt_verify_with_keys(config, jwt, strlen(jwt), &claims, err);
	else
		rc = jwt_verify_with_authorities(secrets, config, role, jwt, strlen(jwt), now,
			&claims, err);
	if (rc == 0)
		rc = jwt_check_claims(config, role, claims, now, err);
	if (rc < 0) {
		json_decref(claims);
		return rc;
	}
	*ret_claims = claims;
	return 0;
}

/* The SPIFFE ID of a JWT-SVID that the trust domain's own keys verified:
 * its "sub" claim, in canonical form. Written to ret_id ("" for a JWT that
 * configured keys verified, or whose sub is no SPIFFE ID), so that the
 * server can find the tokens of a workload whose identity it revokes. */
static void svid_subject(const struct jwt_config *config, const json_t *claims,
	char ret_id[static SPIFFE_ID_MAX_LEN + 1])
{
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	struct spiffe_id id;

	ret_id[0] = '\0';
	if (json_array_size(config->pubkeys) > 0 || !sub ||
	    spiffe_id_parse(sub, strlen(sub), &id, NULL) < 0 ||
	    spiffe_id_format(&id, ret_id, SPIFFE_ID_MAX_LEN + 1) < 0)
		ret_id[0] = '\0';
}

/* Issues the token. Its metadata contains the role and the user claim under
 * the claim's name (the role wins when the user claim is called "role"),
 * and "spiffe_id" for a JWT-SVID of the trust domain (spiffe_id not ""). */
static int issue_token(struct secrets *secrets, struct vault_request *req,
	const struct jwt_role *role, const char *user, const char *spiffe_id,
	struct vault_response *resp, struct wd_error *err)
{
	char display_name[USER_VALUE_MAX + 8];
	json_t *meta = json_object();
	int rc;

	if (!meta || (spiffe_id[0] &&
	    json_object_set_new(meta, "spiffe_id", json_string(spiffe_id)) != 0) ||
	    json_object_set_new(meta, role->user_claim, json_string(user)) != 0 ||
	    json_object_set_new(meta, "role", json_string(role->name)) != 0) {
		json_decref(meta);
		return wd_error_set(err, WD_ENOMEM, "out of memory building token metadata");
	}
	snprintf(display_name, sizeof(display_name), "jwt-%s", user);
	rc = auth_login_token(secrets, req, &role->token, display_name, meta, resp, err);
	json_decref(meta);
	return rc;
}

static int handle_login(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct jwt_config config = { 0 };
	struct jwt_role *role = NULL;
	json_t *claims = NULL;
	const char *name = NULL, *jwt = NULL;
	char user[USER_VALUE_MAX];
	char spiffe_id[SPIFFE_ID_MAX_LEN + 1];
	bool found;
	int rc;

	if (req->op != VAULT_OP_UPDATE && req->op != VAULT_OP_CREATE)
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	WD_TRY(auth_warn_unknown_fields(resp, req->body, login_fields,
		WD_ARRAY_LEN(login_fields), false));

	WD_GUARD(jwt_config_load(secrets, req->mount, &config, &found, err));
	WD_GUARD(login_role_name(req, &config, &name, err));
	WD_GUARD(net_json_get_string(req->body, "jwt", false, JWT_TOKEN_MAX, &jwt, err));
	WD_ENSURE(jwt && jwt[0], wd_error_set(err, WD_EINVAL, "missing token"));

	rc = jwt_role_load(secrets, req->mount, name, &role, err);
	if (rc == WD_ENOTFOUND || rc == WD_EINVAL)
		WD_GUARD(wd_error_set(err, WD_EINVAL, "role \"%.*s\" could not be found",
			AUTH_ROLE_NAME_MAX, name));
	WD_GUARD(rc);

	WD_GUARD(verify_login(secrets, &config, role, jwt, &claims, err));
	WD_GUARD(jwt_user_claim(claims, role->user_claim, user, sizeof(user), err));
	svid_subject(&config, claims, spiffe_id);
	WD_GUARD(issue_token(secrets, req, role, user, spiffe_id, resp, err));
	rc = 0;
out:
	json_decref(claims);
	jwt_role_free(role);
	jwt_config_clear(&config);
	return rc;
}

static int jwt_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const char *rel = req->rel;

	if (strcmp(rel, "login") == 0)
		return handle_login(secrets, req, resp, err);
	if (strcmp(rel, JWT_CONFIG_NAME) == 0)
		return jwt_handle_config(secrets, req, resp, err);
	if (strcmp(rel, "role") == 0 || strcmp(rel, JWT_ROLE_FOLDER) == 0) {
		if (req->op != VAULT_OP_LIST)
			return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
		return auth_list_names(secrets, req->mount, JWT_ROLE_FOLDER, resp, err);
	}
	if (strncmp(rel, JWT_ROLE_FOLDER, strlen(JWT_ROLE_FOLDER)) == 0)
		return jwt_handle_role(secrets, req, rel + strlen(JWT_ROLE_FOLDER), resp, err);
	return wd_error_set(err, WD_ENOTFOUND, "unsupported path");
}

static int jwt_exists(struct secrets *secrets, const struct vault_request *req,
	bool *ret_exists, struct wd_error *err)
{
	struct jwt_role *role = NULL;
	struct jwt_config config;
	int rc = 0;

	*ret_exists = false;
	if (strcmp(req->rel, JWT_CONFIG_NAME) == 0) {
		rc = jwt_config_load(secrets, req->mount, &config, ret_exists, err);
		jwt_config_clear(&config);
		return rc;
	}
	if (strncmp(req->rel, JWT_ROLE_FOLDER, strlen(JWT_ROLE_FOLDER)) != 0)
		return 0;
	rc = jwt_role_load(secrets, req->mount, req->rel + strlen(JWT_ROLE_FOLDER), &role, err);
	jwt_role_free(role);
	if (rc == WD_ENOTFOUND || rc == WD_EINVAL) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	*ret_exists = true;
	return 0;
}

const struct vault_backend vault_backend_jwt = {
	.type = "jwt",
	.is_auth = true,
	.handle = jwt_handle,
	.exists = jwt_exists,
	.unauthenticated = auth_login_unauthenticated,
};
