/* The config of a JWT auth mount (auth/jwt/config): the issuer to require,
 * the keys and algorithms to accept, and the role used when a login names
 * none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "identity/jwtsvid_alg.h"
#include "net/net_json.h"
#include "secrets/auth_jwt_internal.h"
#include "secrets/barrier.h"

/* Maximum length of bound_issuer, in bytes. */
#define ISSUER_MAX 2048

/* Vault's ways to fetch keys over the network. Keys come from the config or
 * the trust domain's authorities here, so these are refused. */
static const char *const fetched_key_fields[] = {
	"jwks_url", "oidc_discovery_url", "jwks_pairs",
};

static const char *const config_fields[] = {
	"bound_issuer", "jwt_validation_pubkeys", "jwt_supported_algs", "default_role",
	"jwks_url", "oidc_discovery_url", "jwks_pairs", "jwks_ca_pem", "oidc_discovery_ca_pem",
	"oidc_client_id", "oidc_client_secret", "oidc_response_mode", "oidc_response_types",
	"provider_config", "namespace_in_state",
};

void jwt_config_clear(struct jwt_config *config)
{
	if (!config)
		return;
	free(config->bound_issuer);
	json_decref(config->pubkeys);
	json_decref(config->supported_algs);
	free(config->default_role);
	*config = (struct jwt_config){ 0 };
}

static int copy_string(const json_t *body, const char *name, size_t max, char **ret_copy,
	struct wd_error *err)
{
	const char *text = NULL;
	int rc = net_json_get_string(body, name, false, max, &text, err);

	*ret_copy = NULL;
	if (rc <= 0 || text[0] == '\0')
		return rc < 0 ? rc : 0;
	*ret_copy = wd_strdup(text);
	if (!*ret_copy)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading \"%s\"", name);
	return 0;
}

static int check_pubkeys(const json_t *pubkeys, struct wd_error *err)
{
	const json_t *item;
	size_t index;

	if (json_array_size(pubkeys) > JWT_PUBKEYS_MAX)
		return wd_error_set(err, WD_EINVAL, "jwt_validation_pubkeys has more than %d keys",
			JWT_PUBKEYS_MAX);
	json_array_foreach(pubkeys, index, item) {
		EVP_PKEY *key;

		if (json_string_length(item) > JWT_PUBKEY_PEM_MAX)
			return wd_error_set(err, WD_EINVAL, "jwt_validation_pubkeys[%zu] is longer "
				"than %d bytes", index, JWT_PUBKEY_PEM_MAX);
		key = jwt_public_key_parse(json_string_value(item));
		if (!key)
			return wd_error_set(err, WD_EINVAL, "jwt_validation_pubkeys[%zu] is not a PEM "
				"public key or certificate", index);
		EVP_PKEY_free(key);
	}
	return 0;
}

static int check_algs(const json_t *algs, struct wd_error *err)
{
	const json_t *item;
	size_t index;

	json_array_foreach(algs, index, item) {
		if (!jwtsvid_alg_find(json_string_value(item)))
			return wd_error_set(err, WD_EINVAL, "jwt_supported_algs[%zu] \"%.32s\" is not "
				"supported; use RS, PS or ES with 256, 384 or 512", index,
				json_string_value(item));
	}
	return 0;
}

static int check_fetched_keys(const json_t *body, struct wd_error *err)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(fetched_key_fields); i++) {
		const json_t *value = json_object_get(body, fetched_key_fields[i]);

		if (!value || json_is_null(value) ||
		    (json_is_string(value) && json_string_length(value) == 0) ||
		    (json_is_array(value) && json_array_size(value) == 0))
			continue;
		return wd_error_set(err, WD_EINVAL, "%s is not supported: set "
			"jwt_validation_pubkeys, or leave it empty to use the trust domain's JWT "
			"authorities", fetched_key_fields[i]);
	}
	return 0;
}

/* Reads a whole config: Vault replaces the config on every write. */
static int config_parse(const json_t *body, struct jwt_config *ret_config,
	struct wd_error *err)
{
	struct jwt_config config = { 0 };
	int rc;

	*ret_config = (struct jwt_config){ 0 };
	WD_GUARD(check_fetched_keys(body, err));
	WD_GUARD(copy_string(body, "bound_issuer", ISSUER_MAX, &config.bound_issuer, err));
	WD_GUARD(copy_string(body, "default_role", AUTH_ROLE_NAME_MAX, &config.default_role,
		err));
	if (config.default_role)
		WD_GUARD(auth_role_name_check(config.default_role, err));

	WD_GUARD(auth_json_list(body, "jwt_validation_pubkeys", &config.pubkeys, err));
	WD_GUARD(auth_json_list(body, "jwt_supported_algs", &config.supported_algs, err));
	if (!config.pubkeys)
		config.pubkeys = json_array();
	if (!config.supported_algs)
		config.supported_algs = json_array();
	WD_ENSURE(config.pubkeys && config.supported_algs,
		wd_error_set(err, WD_ENOMEM, "out of memory reading the config"));
	WD_GUARD(check_pubkeys(config.pubkeys, err));
	WD_GUARD(check_algs(config.supported_algs, err));

	*ret_config = config;
	return 0;
out:
	jwt_config_clear(&config);
	return rc;
}

static json_t *config_to_json(const struct jwt_config *config)
{
	return json_pack("{s:s, s:O, s:O, s:s, s:s, s:s}",
		"bound_issuer", config->bound_issuer ? config->bound_issuer : "",
		"jwt_validation_pubkeys", config->pubkeys,
		"jwt_supported_algs", config->supported_algs,
		"default_role", config->default_role ? config->default_role : "",
		"jwks_url", "",
		"oidc_discovery_url", "");
}

int jwt_config_load(struct secrets *secrets, const struct vault_mount *mount,
	struct jwt_config *ret_config, bool *ret_found, struct wd_error *err)
{
	char path[VAULT_PATH_MAX];
	json_t *stored = NULL;
	int rc;

	*ret_config = (struct jwt_config){ 0 };
	*ret_found = false;
	WD_TRY(auth_storage_path(mount, "", JWT_CONFIG_NAME, path, sizeof(path), err));
	rc = barrier_get_json(secrets->barrier, path, &stored, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		ret_config->pubkeys = json_array();
		ret_config->supported_algs = json_array();
		if (!ret_config->pubkeys || !ret_config->supported_algs) {
			jwt_config_clear(ret_config);
			return wd_error_set(err, WD_ENOMEM, "out of memory loading the config");
		}
		return 0;
	}
	if (rc < 0)
		return rc;

	rc = config_parse(stored, ret_config, err);
	json_decref(stored);
	if (rc < 0)
		return rc;
	*ret_found = true;
	return 0;
}

static int handle_read(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct jwt_config config;
	bool found;

	WD_TRY(jwt_config_load(secrets, req->mount, &config, &found, err));
	if (found)
		resp->data = config_to_json(&config);
	jwt_config_clear(&config);
	if (!found)
		return wd_error_set(err, WD_ENOTFOUND, "%s", "");
	if (!resp->data)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading the config");
	return 0;
}

static int handle_write(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	char path[VAULT_PATH_MAX];
	struct jwt_config config;
	json_t *obj;
	int rc;

	WD_TRY(auth_warn_unknown_fields(resp, req->body, config_fields,
		WD_ARRAY_LEN(config_fields), false));
	WD_TRY(config_parse(req->body, &config, err));
	rc = auth_storage_path(req->mount, "", JWT_CONFIG_NAME, path, sizeof(path), err);
	obj = rc == 0 ? config_to_json(&config) : NULL;
	if (rc == 0 && !obj)
		rc = wd_error_set(err, WD_ENOMEM, "out of memory saving the config");
	if (rc == 0)
		rc = barrier_put_json(secrets->barrier, path, obj, err);
	json_decref(obj);
	jwt_config_clear(&config);
	return rc;
}

int jwt_handle_config(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	switch (req->op) {
	case VAULT_OP_READ:
		return handle_read(secrets, req, resp, err);
	case VAULT_OP_CREATE:
	case VAULT_OP_UPDATE:
		return handle_write(secrets, req, resp, err);
	default:
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	}
}
