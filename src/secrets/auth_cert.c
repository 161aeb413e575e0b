/* The auth/cert/ backend: role endpoints (certs/<name>, LIST certs/) and
 * the dispatch of login. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "common/alloc.h"
#include "crypto/x509.h"
#include "net/net_json.h"
#include "secrets/auth_cert_internal.h"
#include "secrets/barrier.h"

/* Maximum length of a display name, in bytes. */
#define DISPLAY_NAME_MAX 256

void cert_role_free(struct cert_role *role)
{
	if (!role)
		return;
	free(role->certificate);
	json_decref(role->allowed_uri_sans);
	json_decref(role->allowed_common_names);
	free(role->display_name);
	auth_token_settings_clear(&role->token);
	free(role);
}

static struct cert_role *role_new(const char *name)
{
	struct cert_role *role = wd_calloc(1, sizeof(*role));

	if (!role)
		return NULL;
	snprintf(role->name, sizeof(role->name), "%s", name);
	role->allowed_uri_sans = json_array();
	role->allowed_common_names = json_array();
	if (!role->allowed_uri_sans || !role->allowed_common_names) {
		cert_role_free(role);
		return NULL;
	}
	return role;
}

/* Checks that a PEM text contains 1 to CERT_PEM_MAX_CERTS certificates. */
static int check_certificate(const char *pem, struct wd_error *err)
{
	STACK_OF(X509) *certs = NULL;
	struct wd_error parse_err = { 0 };
	int rc;

	rc = crypto_x509_chain_from_pem(pem, strlen(pem), CERT_PEM_MAX_CERTS, &certs, &parse_err);
	sk_X509_pop_free(certs, X509_free);
	if (rc < 0)
		return wd_error_set(err, WD_EINVAL, "invalid certificate: %s",
			wd_error_text(&parse_err));
	return 0;
}

/* Replaces *slot with a copy of text, or NULL for an empty text. */
static int replace_string(char **slot, const char *text)
{
	char *copy = NULL;

	if (text[0]) {
		copy = wd_strdup(text);
		if (!copy)
			return WD_ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

static int replace_list(const json_t *body, const char *field, json_t **slot,
	struct wd_error *err)
{
	json_t *list = NULL;
	int rc = auth_json_list(body, field, &list, err);

	if (rc <= 0)
		return rc;
	json_decref(*slot);
	*slot = list;
	return 0;
}

/* Applies the fields present in body (a request or a stored role). */
static int role_update(struct cert_role *role, const json_t *body, struct wd_error *err)
{
	const char *certificate = NULL, *display_name = NULL;

	WD_TRY(net_json_get_string(body, "certificate", false, CERT_PEM_MAX, &certificate, err));
	WD_TRY(net_json_get_string(body, "display_name", false, DISPLAY_NAME_MAX, &display_name,
		err));
	if (certificate && certificate[0])
		WD_TRY(check_certificate(certificate, err));

	WD_TRY(auth_token_settings_parse(body, &role->token, err));
	WD_TRY(replace_list(body, "allowed_uri_sans", &role->allowed_uri_sans, err));
	WD_TRY(replace_list(body, "allowed_common_names", &role->allowed_common_names, err));
	if ((certificate && replace_string(&role->certificate, certificate) < 0) ||
	    (display_name && replace_string(&role->display_name, display_name) < 0))
		return wd_error_set(err, WD_ENOMEM, "out of memory updating role \"%s\"",
			role->name);
	return 0;
}

static json_t *role_to_json(const struct cert_role *role)
{
	json_t *obj = json_pack("{s:s, s:O, s:O, s:s}",
		"certificate", role->certificate ? role->certificate : "",
		"allowed_uri_sans", role->allowed_uri_sans,
		"allowed_common_names", role->allowed_common_names,
		"display_name", role->display_name ? role->display_name : role->name);

	if (obj && auth_token_settings_to_json(&role->token, obj) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

int cert_role_load(struct secrets *secrets, const struct vault_mount *mount, const char *name,
	struct cert_role **ret_role, struct wd_error *err)
{
	char path[VAULT_PATH_MAX];
	struct cert_role *role = NULL;
	struct wd_error stored_err = { 0 };
	json_t *stored = NULL;
	int rc;

	*ret_role = NULL;
	WD_TRY(auth_role_name_check(name, err));
	WD_TRY(auth_storage_path(mount, CERT_ROLE_FOLDER, name, path, sizeof(path), err));
	WD_TRY(barrier_get_json(secrets->barrier, path, &stored, err));

	role = role_new(name);
	if (!role) {
		json_decref(stored);
		return wd_error_set(err, WD_ENOMEM, "out of memory loading role \"%s\"", name);
	}
	rc = role_update(role, stored, &stored_err);
	json_decref(stored);
	if (rc < 0) {
		cert_role_free(role);
		return wd_error_set(err, WD_ECORRUPT, "stored cert role \"%s\" is invalid: %s", name,
			wd_error_text(&stored_err));
	}
	*ret_role = role;
	return 0;
}

static int role_save(struct secrets *secrets, const struct vault_mount *mount,
	const struct cert_role *role, struct wd_error *err)
{
	char path[VAULT_PATH_MAX];
	json_t *obj;
	int rc;

	WD_TRY(auth_storage_path(mount, CERT_ROLE_FOLDER, role->name, path, sizeof(path), err));
	obj = role_to_json(role);
	if (!obj)
		return wd_error_set(err, WD_ENOMEM, "out of memory saving role \"%s\"", role->name);
	rc = barrier_put_json(secrets->barrier, path, obj, err);
	json_decref(obj);
	return rc;
}

static const char *const role_fields[] = {
	"certificate", "allowed_uri_sans", "allowed_common_names", "display_name",
};

static int handle_role_write(struct secrets *secrets, struct vault_request *req,
	const char *name, struct vault_response *resp, struct wd_error *err)
{
	struct cert_role *role = NULL;
	int rc;

	rc = cert_role_load(secrets, req->mount, name, &role, err);
	if (rc == WD_ENOTFOUND) {
		role = role_new(name);
		WD_ENSURE(role, wd_error_set(err, WD_ENOMEM, "out of memory"));
		rc = 0;
	}
	WD_GUARD(rc);
	WD_GUARD(auth_warn_unknown_fields(resp, req->body, role_fields,
		WD_ARRAY_LEN(role_fields), true));
	WD_GUARD(role_update(role, req->body, err));
	WD_GUARD(role_save(secrets, req->mount, role, err));
	rc = 0;
out:
	cert_role_free(role);
	return rc;
}

static int handle_role_read(struct secrets *secrets, struct vault_request *req,
	const char *name, struct vault_response *resp, struct wd_error *err)
{
	struct cert_role *role = NULL;
	int rc;

	rc = cert_role_load(secrets, req->mount, name, &role, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ENOTFOUND, "%s", "");
	if (rc < 0)
		return rc;
	resp->data = role_to_json(role);
	cert_role_free(role);
	if (!resp->data)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading role \"%s\"", name);
	return 0;
}

static int handle_role_delete(struct secrets *secrets, struct vault_request *req,
	const char *name, struct wd_error *err)
{
	char path[VAULT_PATH_MAX];

	WD_TRY(auth_role_name_check(name, err));
	WD_TRY(auth_storage_path(req->mount, CERT_ROLE_FOLDER, name, path, sizeof(path), err));
	return barrier_delete(secrets->barrier, path, err);
}

static int handle_role(struct secrets *secrets, struct vault_request *req, const char *name,
	struct vault_response *resp, struct wd_error *err)
{
	switch (req->op) {
	case VAULT_OP_READ:
		return handle_role_read(secrets, req, name, resp, err);
	case VAULT_OP_CREATE:
	case VAULT_OP_UPDATE:
		return handle_role_write(secrets, req, name, resp, err);
	case VAULT_OP_DELETE:
		return handle_role_delete(secrets, req, name, err);
	default:
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	}
}

static const char *const login_fields[] = { "name" };

static int handle_login(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	STACK_OF(X509) *chain = req->net ? net_request_peer_chain(req->net) : NULL;

	if (req->op != VAULT_OP_UPDATE && req->op != VAULT_OP_CREATE)
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	WD_TRY(auth_warn_unknown_fields(resp, req->body, login_fields, WD_ARRAY_LEN(login_fields),
		false));
	return cert_login(secrets, req, chain, resp, err);
}

static int cert_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const char *rel = req->rel;

	if (strcmp(rel, "login") == 0)
		return handle_login(secrets, req, resp, err);
	if (strcmp(rel, "certs") == 0 || strcmp(rel, "certs/") == 0) {
		if (req->op != VAULT_OP_LIST)
			return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
		return auth_list_names(secrets, req->mount, CERT_ROLE_FOLDER, resp, err);
	}
	if (strncmp(rel, CERT_ROLE_FOLDER, strlen(CERT_ROLE_FOLDER)) == 0)
		return handle_role(secrets, req, rel + strlen(CERT_ROLE_FOLDER), resp, err);
	return wd_error_set(err, WD_ENOTFOUND, "unsupported path");
}

static int cert_exists(struct secrets *secrets, const struct vault_request *req,
	bool *ret_exists, struct wd_error *err)
{
	const char *rel = req->rel;
	struct cert_role *role = NULL;
	int rc;

	*ret_exists = false;
	if (strncmp(rel, CERT_ROLE_FOLDER, strlen(CERT_ROLE_FOLDER)) != 0)
		return 0;
	rc = cert_role_load(secrets, req->mount, rel + strlen(CERT_ROLE_FOLDER), &role, err);
	cert_role_free(role);
	if (rc == WD_ENOTFOUND || rc == WD_EINVAL) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	*ret_exists = true;
	return 0;
}

const struct vault_backend vault_backend_cert = {
	.type = "cert",
	.is_auth = true,
	.handle = cert_handle,
	.exists = cert_exists,
	.unauthenticated = auth_login_unauthenticated,
};
