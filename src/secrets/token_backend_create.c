/* auth/token/create and create-orphan: Vault's rules for what a caller may
 * give the token it creates (handleCreateCommon). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "net/net_json.h"
#include "secrets/auth_common.h"
#include "secrets/token_internal.h"

/* Maximum length of a requested display name, in bytes, before the "token-"
 * prefix. */
#define DISPLAY_NAME_MAX 256

/* Largest num_uses accepted. */
#define NUM_USES_MAX 1000000000

/* The body of a create request. */
struct create_request {
	const char *id;
	json_t *policies;          /* owned; NULL when not given */
	const json_t *meta;        /* borrowed from the body */
	const char *display_name;
	bool no_parent;
	bool no_default_policy;
	bool renewable;
	int64_t ttl;
	int64_t explicit_max_ttl;
	int64_t period;
	int64_t num_uses;
};

static int read_type(const json_t *body, struct wd_error *err)
{
	const char *type = NULL;

	WD_TRY(net_json_get_string(body, "type", false, 32, &type, err));
	if (!type || type[0] == '\0' || strcmp(type, "service") == 0)
		return 0;
	if (strcmp(type, "batch") == 0)
		return wd_error_set(err, WD_EINVAL, "batch tokens are not supported");
	return wd_error_set(err, WD_EINVAL, "invalid 'token_type' value");
}

static int read_flags(const json_t *body, struct create_request *c, struct wd_error *err)
{
	c->renewable = true;
	WD_TRY(net_json_get_bool(body, "no_parent", false, &c->no_parent, err));
	WD_TRY(net_json_get_bool(body, "no_default_policy", false, &c->no_default_policy, err));
	if (json_object_get(body, "renewable") && !json_is_null(json_object_get(body, "renewable")))
		WD_TRY(net_json_get_bool(body, "renewable", false, &c->renewable, err));
	return 0;
}

static int read_durations(const json_t *body, struct create_request *c, struct wd_error *err)
{
	int rc;

	rc = vault_json_ttl(body, "ttl", &c->ttl, err);
	/* "lease" is the name older clients send. */
	if (rc == 0)
		rc = vault_json_ttl(body, "lease", &c->ttl, err);
	if (rc < 0)
		return rc;
	WD_TRY(vault_json_ttl(body, "explicit_max_ttl", &c->explicit_max_ttl, err));
	WD_TRY(vault_json_ttl(body, "period", &c->period, err));
	return 0;
}

static int parse_create(const json_t *body, struct create_request *c, struct wd_error *err)
{
	const json_t *meta = json_object_get(body, "meta");

	*c = (struct create_request){ 0 };
	WD_TRY(read_type(body, err));
	if (json_object_get(body, "entity_alias"))
		return wd_error_set(err, WD_EINVAL,
			"'entity_alias' is only allowed in combination with token role");

	WD_TRY(net_json_get_string(body, "id", false, TOKEN_ID_MAX - 1, &c->id, err));
	if (c->id && c->id[0] == '\0')
		c->id = NULL;
	WD_TRY(net_json_get_string(body, "display_name", false, DISPLAY_NAME_MAX,
		&c->display_name, err));
	WD_TRY(net_json_get_int(body, "num_uses", false, -NUM_USES_MAX, NUM_USES_MAX,
		&c->num_uses, err));
	if (c->num_uses < 0)
		return wd_error_set(err, WD_EINVAL, "number of uses cannot be negative");

	if (meta && !json_is_null(meta) && !json_is_object(meta))
		return wd_error_set(err, WD_EINVAL, "field \"meta\" must be an object of strings");
	c->meta = json_is_object(meta) ? meta : NULL;

	WD_TRY(read_flags(body, c, err));
	WD_TRY(read_durations(body, c, err));
	return auth_json_list(body, "policies", &c->policies, err) < 0 ? err->code : 0;
}

/* Vault names created tokens "token-<name>" with every byte outside
 * [A-Za-z0-9-] replaced by '-' and a trailing '-' dropped. */
static void display_name_of(const char *requested, char *out, size_t len)
{
	size_t n;

	if (!requested || requested[0] == '\0') {
		snprintf(out, len, "token");
		return;
	}
	snprintf(out, len, "token-%s", requested);
	for (char *p = out; *p; p++) {
		char ch = *p;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-'))
			*p = '-';
	}
	n = strlen(out);
	if (n > 0 && out[n - 1] == '-')
		out[n - 1] = '\0';
}

/* Decides the policies of the child and whether "default" is added, as
 * Vault does without a token role. Without a list the child inherits the
 * parent's policies, and a caller without sudo may only pick among them. */
static int choose_policies(const struct vault_token *parent, const struct create_request *c,
	bool is_sudo, const json_t **ret_policies, bool *ret_add_default, struct wd_error *err)
{
	json_t *requested = NULL, *parent_policies = NULL;
	bool subset;

	*ret_policies = NULL;
	*ret_add_default = false;
	if (!c->policies || json_array_size(c->policies) == 0) {
		*ret_policies = parent->policies;
		/* An inherited list keeps "default" only when the parent has it. */
		*ret_add_default = !c->no_default_policy && token_has_policy(parent, "default");
		return 0;
	}
	*ret_policies = c->policies;
	if (is_sudo) {
		*ret_add_default = !c->no_default_policy;
		return 0;
	}

	WD_TRY(token_policies_sanitize(c->policies, false, &requested, err));
	if (token_policies_sanitize(parent->policies, false, &parent_policies, err) < 0) {
		json_decref(requested);
		return err->code;
	}
	subset = token_policies_subset(parent_policies, requested);
	json_decref(requested);
	json_decref(parent_policies);
	if (!subset)
		return wd_error_set(err, WD_EINVAL, "child policies must be subset of parent");
	*ret_add_default = !c->no_default_policy && token_has_policy(parent, "default");
	return 0;
}

/* True for a sanitized list that makes a root token: ["root"]. */
static bool is_root_list(const json_t *policies)
{
	const json_t *first = json_array_get(policies, 0);

	return json_array_size(policies) == 1 && json_is_string(first) &&
	       strcmp(json_string_value(first), "root") == 0;
}

/* Checks what only root or sudo callers may ask for, and that only a root
 * parent makes root children. */
static int check_privileges(const struct vault_token *parent, const struct create_request *c,
	bool is_sudo, bool orphan_path, bool child_is_root, struct wd_error *err)
{
	if (c->id && !is_sudo)
		return wd_error_set(err, WD_EINVAL,
			"root or sudo privileges required to specify token id");
	if (c->no_parent && !orphan_path && !is_sudo)
		return wd_error_set(err, WD_EINVAL,
			"root or sudo privileges required to create orphan token");
	if (c->period > 0 && !is_sudo)
		return wd_error_set(err, WD_EINVAL,
			"root or sudo privileges required to create periodic token");
	if (child_is_root && !token_has_policy(parent, "root"))
		return wd_error_set(err, WD_EINVAL,
			"root tokens may not be created without parent token being root");
	if (child_is_root && c->ttl == 0 && c->period == 0 && c->explicit_max_ttl == 0 &&
	    parent->expire_time != 0)
		return wd_error_set(err, WD_EINVAL,
			"expiring root tokens cannot create non-expiring root tokens");
	return 0;
}

static int create_token(struct secrets *secrets, const struct token_params *params, struct vault_response *resp, struct wd_error *err)
{
	char id[TOKEN_ID_MAX] = "";
	char warning[256] = "";
	struct vault_token *token = NULL;
	int rc;

	WD_GUARD(token_create_at(secrets, params, token_now(), id, &token, warning, err));
	rc = token_auth_block(token, id, &resp->auth);
	WD_ENSURE(rc == 0, wd_error_set(err, rc, "out of memory building the auth block"));
	if (warning[0])
		WD_GUARD(vault_response_warn(resp, "%s", warning));
	rc = 0;
out:
	OPENSSL_cleanse(id, sizeof(id));
	token_free(token);
	return rc;
}

int token_handle_create(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const struct vault_token *parent = req->token;
	bool orphan_path = strcmp(req->rel, "create-orphan") == 0;
	struct create_request c;
	const json_t *policies = NULL;
	json_t *final = NULL;
	bool is_sudo, add_default = false;
	char display_name[DISPLAY_NAME_MAX + 8];
	char path[VAULT_PATH_MAX];
	struct token_params params;
	int rc;

	if (!parent)
		return wd_error_set(err, WD_EINVAL, "parent token lookup failed: no parent found");
	/* A token limited to some uses could escape the limit through
	 * children. */
	if (parent->num_uses != 0)
		return wd_error_set(err, WD_EINVAL,
			"restricted use token cannot generate child tokens");

	WD_GUARD(parse_create(req->body, &c, err));
	is_sudo = token_caller_is_sudo(secrets, req);
	WD_GUARD(choose_policies(parent, &c, is_sudo, &policies, &add_default, err));
	WD_GUARD(token_policies_sanitize(policies, add_default, &final, err));
	WD_GUARD(check_privileges(parent, &c, is_sudo, orphan_path,
		is_root_list(final), err));

	display_name_of(c.display_name, display_name, sizeof(display_name));
	snprintf(path, sizeof(path), "auth/token/%s", req->rel);
	params = (struct token_params){
		.id = c.id,
		.display_name = display_name,
		.path = path,
		.parent = (orphan_path || c.no_parent) ? NULL : parent,
		.policies = final,
		.meta = (json_t *)c.meta,
		/* final contains "default" exactly when it belongs there. Without it,
		 * token_create must neither add it nor keep a listed one (Vault
		 * strips it when the request asks for no default policy). */
		.no_default_policy = !add_default,
		.renewable = c.renewable,
		.ttl = c.ttl,
		.explicit_max_ttl = c.explicit_max_ttl,
		.period = c.period,
		.num_uses = c.num_uses,
	};
	WD_GUARD(create_token(secrets, &params, resp, err));
	rc = 0;
out:
	json_decref(final);
	json_decref(c.policies);
	return rc;
}
