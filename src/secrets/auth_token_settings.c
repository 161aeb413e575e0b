/* The token_* fields of a login role (Vault's tokenutil) and the token a
 * successful login receives. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "net/net_json.h"
#include "secrets/auth_common.h"
#include "secrets/token_internal.h"

/* Largest num_uses accepted. */
#define NUM_USES_MAX 1000000000

static const char *const token_fields[] = {
	"token_policies", "policies", "token_ttl", "ttl", "token_max_ttl", "max_ttl",
	"token_explicit_max_ttl", "token_period", "period", "token_num_uses",
	"token_no_default_policy", "token_type", "token_bound_cidrs",
};

bool auth_token_field(const char *name)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(token_fields); i++) {
		if (strcmp(name, token_fields[i]) == 0)
			return true;
	}
	return false;
}

void auth_token_settings_clear(struct auth_token_settings *settings)
{
	if (!settings)
		return;
	json_decref(settings->policies);
	*settings = (struct auth_token_settings){ 0 };
}

/* Reads a duration under its token_ name, or else its legacy name. */
static int read_duration(const json_t *body, const char *name, const char *legacy,
	int64_t *inout, struct wd_error *err)
{
	int64_t seconds = *inout;
	int rc;

	rc = vault_json_ttl(body, name, &seconds, err);
	if (rc == 0 && legacy)
		rc = vault_json_ttl(body, legacy, &seconds, err);
	if (rc < 0)
		return rc;
	if (seconds < 0)
		return wd_error_set(err, WD_EINVAL, "field \"%s\" must not be negative", name);
	*inout = seconds;
	return 0;
}

static int read_policies(const json_t *body, struct auth_token_settings *settings,
	struct wd_error *err)
{
	json_t *list = NULL, *sorted = NULL;
	int rc;

	rc = auth_json_list(body, "token_policies", &list, err);
	if (rc == 0)
		rc = auth_json_list(body, "policies", &list, err);
	if (rc <= 0)
		return rc;

	/* Stored as Vault's ParsePolicies leaves them: trimmed, lowercase,
	 * sorted, unique; "default" is added at login, not here. */
	rc = token_policies_sanitize(list, false, &sorted, err);
	json_decref(list);
	if (rc < 0)
		return rc;
	json_decref(settings->policies);
	settings->policies = sorted;
	return 0;
}

/* token_type and token_bound_cidrs are accepted as Vault has them, but
 * only service tokens without address binding exist here. */
static int check_unsupported(const json_t *body, struct wd_error *err)
{
	const char *type = NULL;
	json_t *cidrs = NULL;
	int rc;

	WD_TRY(net_json_get_string(body, "token_type", false, 32, &type, err));
	if (type && strcmp(type, "service") != 0 && strcmp(type, "default") != 0 &&
	    strcmp(type, "default-service") != 0)
		return wd_error_set(err, WD_EINVAL, "token_type \"%s\" is not supported; only "
			"service tokens are", type);

	rc = auth_json_list(body, "token_bound_cidrs", &cidrs, err);
	if (rc < 0)
		return rc;
	rc = cidrs && json_array_size(cidrs) > 0;
	json_decref(cidrs);
	if (rc)
		return wd_error_set(err, WD_EINVAL, "token_bound_cidrs is not supported");
	return 0;
}

int auth_token_settings_parse(const json_t *body, struct auth_token_settings *settings,
	struct wd_error *err)
{
	struct auth_token_settings next = *settings;
	bool no_default = false;
	int64_t uses = 0;
	int rc;

	WD_TRY(check_unsupported(body, err));
	WD_TRY(read_duration(body, "token_ttl", "ttl", &next.ttl, err));
	WD_TRY(read_duration(body, "token_max_ttl", "max_ttl", &next.max_ttl, err));
	WD_TRY(read_duration(body, "token_explicit_max_ttl", NULL, &next.explicit_max_ttl, err));
	WD_TRY(read_duration(body, "token_period", "period", &next.period, err));

	rc = net_json_get_int(body, "token_num_uses", false, 0, NUM_USES_MAX, &uses, err);
	if (rc < 0)
		return rc;
	if (rc == 1)
		next.num_uses = uses;
	rc = net_json_get_bool(body, "token_no_default_policy", false, &no_default, err);
	if (rc < 0)
		return rc;
	if (rc == 1)
		next.no_default_policy = no_default;

	if (next.max_ttl != 0 && next.ttl > next.max_ttl)
		return wd_error_set(err, WD_EINVAL,
			"'token_ttl' cannot be greater than 'token_max_ttl'");

	/* The policies come last: settings takes the new list only when every
	 * other field was valid. */
	next.policies = NULL;
	WD_TRY(read_policies(body, &next, err));
	if (next.policies) {
		json_decref(settings->policies);
	} else {
		next.policies = settings->policies;
	}
	*settings = next;
	return 0;
}

int auth_token_settings_to_json(const struct auth_token_settings *settings, json_t *obj)
{
	json_t *policies = settings->policies ? json_incref(settings->policies) : json_array();
	json_t *fields;
	int rc;

	fields = json_pack("{s:O, s:o, s:I, s:I, s:I, s:I, s:I, s:b, s:s, s:[]}",
		"token_policies", policies,
		"policies", policies,
		"token_ttl", (json_int_t)settings->ttl,
		"token_max_ttl", (json_int_t)settings->max_ttl,
		"token_explicit_max_ttl", (json_int_t)settings->explicit_max_ttl,
		"token_period", (json_int_t)settings->period,
		"token_num_uses", (json_int_t)settings->num_uses,
		"token_no_default_policy", settings->no_default_policy,
		"token_type", "default",
		"token_bound_cidrs");
	if (!fields)
		return WD_ENOMEM;
	rc = json_object_update(obj, fields) == 0 ? 0 : WD_ENOMEM;
	json_decref(fields);
	return rc;
}

int auth_login_token(struct secrets *secrets, const struct vault_request *req,
	const struct auth_token_settings *settings, const char *display_name, const json_t *meta,
	struct vault_response *resp, struct wd_error *err)
{
	char id[TOKEN_ID_MAX] = "";
	char warning[256] = "";
	struct vault_token *token = NULL;
	struct token_params params = {
		.display_name = display_name,
		.path = req->path,
		.policies = settings->policies,
		.meta = (json_t *)meta,
		.no_default_policy = settings->no_default_policy,
		.renewable = true,
		.ttl = settings->ttl,
		.explicit_max_ttl = settings->explicit_max_ttl,
		.period = settings->period,
		.num_uses = settings->num_uses,
		.max_ttl = settings->max_ttl,
	};
	json_t *sanitized = NULL;
	bool grants_root;
	int rc;

	/* A login gives a workload's identity a token, and root is only ever
	 * made by sys/init, dev mode or a root token, as in Vault. The token
	 * store's own normalization decides what counts as "root". */
	WD_TRY(token_policies_sanitize(settings->policies, false, &sanitized, err));
	/* Sanitizing reduces any list that names root to ["root"]. */
	grants_root = json_array_size(sanitized) == 1 &&
		strcmp(json_string_value(json_array_get(sanitized, 0)), "root") == 0;
	json_decref(sanitized);
	if (grants_root) {
		log_warn("secrets", "login rejected: the role grants the root policy", "path",
			req->path);
		return wd_error_set(err, WD_EINVAL, "auth methods cannot create root tokens");
	}
	WD_GUARD(token_create_at(secrets, &params, token_now(), id, &token, warning, err));
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
