/* The auth/token/ backend: Vault's token store endpoints for looking up,
 * renewing and revoking tokens (creation is in token_backend_create.c). */
#include <stdio.h>
#include <string.h>

#include "net/net_json.h"
#include "secrets/acl.h"
#include "secrets/auth_common.h"
#include "secrets/token_internal.h"

typedef int (*token_handler)(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);

/* One endpoint: its path below auth/token/, whether GET reads it (POST and
 * PUT always work), the handler and the body fields it reads. */
struct token_route {
	const char *path;
	bool readable;
	token_handler handle;
	const char *const *fields;
	size_t field_count;
};

bool token_caller_is_sudo(struct secrets *secrets, const struct vault_request *req)
{
	struct wd_error ignored = { 0 };

	if (!req->token)
		return false;
	if (token_has_policy(req->token, "root"))
		return true;
	return acl_check(secrets, req->token, req->path, req->op, true, &ignored) == 0;
}

/* Reads a token id from the body; 0 and NULL when absent or empty. */
static int body_token(const struct vault_request *req, const char **ret_id,
	struct wd_error *err)
{
	int rc = net_json_get_string(req->body, "token", false, TOKEN_ID_MAX - 1, ret_id, err);

	if (rc == 1 && (*ret_id)[0] == '\0') {
		*ret_id = NULL;
		rc = 0;
	}
	return rc;
}

static int body_accessor(const struct vault_request *req, const char **ret_accessor,
	struct wd_error *err)
{
	int rc = net_json_get_string(req->body, "accessor", false, 64, ret_accessor, err);

	if (rc < 0)
		return rc;
	if (rc == 0 || (*ret_accessor)[0] == '\0')
		return wd_error_set(err, WD_EINVAL, "missing accessor");
	return 0;
}

static int missing_token_id(struct wd_error *err)
{
	return wd_error_set(err, WD_EINVAL, "missing token ID");
}

static int reply_lookup(const struct vault_token *token, const char *id,
	struct vault_response *resp, struct wd_error *err)
{
	if (token_lookup_data(token, id, token_now(), &resp->data) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory building the lookup reply");
	return 0;
}

static int handle_lookup_self(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	(void)secrets;
	if (!req->token || !req->client_token)
		return wd_error_set(err, WD_EPERM, "permission denied");
	return reply_lookup(req->token, req->client_token, resp, err);
}

static int handle_lookup(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct vault_token *token = NULL;
	const char *id = NULL;
	int rc;

	WD_TRY(body_token(req, &id, err));
	if (!id || (req->client_token && strcmp(id, req->client_token) == 0))
		return handle_lookup_self(secrets, req, resp, err);

	rc = token_lookup_at(secrets, id, token_now(), false, &token, err);
	if (rc == WD_EPERM)
		return wd_error_set(err, WD_EPERM, "bad token");
	if (rc < 0)
		return rc;
	rc = reply_lookup(token, id, resp, err);
	token_free(token);
	return rc;
}

static int handle_lookup_accessor(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct vault_token *token = NULL;
	const char *accessor;
	int rc;

	WD_TRY(body_accessor(req, &accessor, err));
	rc = token_lookup_accessor_at(secrets, accessor, token_now(), &token, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EINVAL, "invalid accessor");
	if (rc < 0)
		return rc;

	/* An accessor never reveals the id it stands for. */
	rc = reply_lookup(token, "", resp, err);
	token_free(token);
	return rc;
}

/* Renews token (whose id is id) and replies with its auth block. */
static int renew_reply(struct secrets *secrets, struct vault_request *req,
	struct vault_token *token, const char *id, struct vault_response *resp,
	struct wd_error *err)
{
	char warning[256] = "";
	int64_t increment = 0;

	WD_TRY(vault_json_ttl(req->body, "increment", &increment, err));
	WD_TRY(token_renew_at(secrets, token, increment, token_now(), warning, err));
	if (token_auth_block(token, id, &resp->auth) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory building the auth block");
	if (warning[0])
		WD_TRY(vault_response_warn(resp, "%s", warning));
	return 0;
}

static int handle_renew_self(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	if (!req->token || !req->client_token)
		return wd_error_set(err, WD_EPERM, "permission denied");
	return renew_reply(secrets, req, req->token, req->client_token, resp, err);
}

static int handle_renew(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct vault_token *token = NULL;
	const char *id = NULL;
	int rc;

	WD_TRY(body_token(req, &id, err));
	if (!id)
		return missing_token_id(err);
	if (req->client_token && strcmp(id, req->client_token) == 0)
		return handle_renew_self(secrets, req, resp, err);

	rc = token_lookup_at(secrets, id, token_now(), false, &token, err);
	if (rc == WD_EPERM)
		return wd_error_set(err, WD_EINVAL, "token not found");
	if (rc < 0)
		return rc;
	rc = renew_reply(secrets, req, token, id, resp, err);
	token_free(token);
	return rc;
}

static int handle_revoke_self(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	(void)resp;
	if (!req->token)
		return wd_error_set(err, WD_EPERM, "permission denied");
	return token_revoke(secrets, req->token, err);
}

static int handle_revoke(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct vault_token *token = NULL;
	const char *id = NULL;
	int rc;

	(void)resp;
	WD_TRY(body_token(req, &id, err));
	if (!id)
		return missing_token_id(err);

	/* Revoking a token that does not exist (any more) succeeds, as in
	 * Vault. */
	rc = token_lookup_at(secrets, id, token_now(), false, &token, err);
	if (rc == WD_EPERM) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = token_revoke(secrets, token, err);
	token_free(token);
	return rc;
}

static int handle_revoke_accessor(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct vault_token *token = NULL;
	const char *accessor;
	int rc;

	(void)resp;
	WD_TRY(body_accessor(req, &accessor, err));
	rc = token_lookup_accessor_at(secrets, accessor, token_now(), &token, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EINVAL, "invalid accessor");
	if (rc < 0)
		return rc;
	rc = token_revoke(secrets, token, err);
	token_free(token);
	return rc;
}

static int handle_revoke_orphan(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct vault_token *token = NULL;
	const char *id = NULL;
	int rc;

	(void)resp;
	if (!token_caller_is_sudo(secrets, req))
		return wd_error_set(err, WD_EINVAL,
			"root or sudo privileges required to revoke and orphan");
	WD_TRY(body_token(req, &id, err));
	if (!id)
		return missing_token_id(err);

	rc = token_lookup_at(secrets, id, token_now(), false, &token, err);
	if (rc == WD_EPERM)
		return wd_error_set(err, WD_EINVAL, "token to revoke not found");
	if (rc < 0)
		return rc;
	rc = token_revoke_orphan(secrets, token, err);
	token_free(token);
	return rc;
}

static const char *const create_fields[] = {
	"id", "policies", "meta", "no_parent", "no_default_policy", "renewable", "ttl", "lease",
	"type", "explicit_max_ttl", "display_name", "num_uses", "period", "entity_alias",
};
static const char *const token_field[] = { "token" };
static const char *const renew_fields[] = { "token", "increment" };
static const char *const accessor_field[] = { "accessor" };

#define ROUTE(path, readable, handler, fields)                                 \
	{ path, readable, handler, fields, WD_ARRAY_LEN(fields) }

static const struct token_route routes[] = {
	ROUTE("create", false, token_handle_create, create_fields),
	ROUTE("create-orphan", false, token_handle_create, create_fields),
	ROUTE("lookup-self", true, handle_lookup_self, token_field),
	ROUTE("lookup", true, handle_lookup, token_field),
	ROUTE("lookup-accessor", false, handle_lookup_accessor, accessor_field),
	ROUTE("renew-self", false, handle_renew_self, renew_fields),
	ROUTE("renew", false, handle_renew, renew_fields),
	ROUTE("revoke-self", false, handle_revoke_self, token_field),
	ROUTE("revoke", false, handle_revoke, token_field),
	ROUTE("revoke-accessor", false, handle_revoke_accessor, accessor_field),
	ROUTE("revoke-orphan", false, handle_revoke_orphan, token_field),
};

static int token_backend_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const struct token_route *route = NULL;

	for (size_t i = 0; i < WD_ARRAY_LEN(routes); i++) {
		if (strcmp(req->rel, routes[i].path) == 0) {
			route = &routes[i];
			break;
		}
	}
	if (!route)
		return wd_error_set(err, WD_ENOTFOUND, "unsupported path");

	switch (req->op) {
	case VAULT_OP_READ:
		if (!route->readable)
			return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
		break;
	case VAULT_OP_CREATE:
	case VAULT_OP_UPDATE:
		break;
	default:
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	}

	WD_TRY(auth_warn_unknown_fields(resp, req->body, route->fields, route->field_count,
		false));
	return route->handle(secrets, req, resp, err);
}

const struct vault_backend vault_backend_token = {
	.type = "token",
	.is_auth = true,
	.handle = token_backend_handle,
};
