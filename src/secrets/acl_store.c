/* The policy store: policies live in the barrier at sys/policy/<name> as
 * {"name", "policy"}, and parsed copies are cached in memory until a write
 * or delete through the sys endpoints drops them. Also the check of a
 * request against the policies of its token. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/acl_internal.h"
#include "secrets/barrier.h"
#include "secrets/token.h"

/* Cached policies; the cache is emptied when a load would pass this. */
#define ACL_CACHE_MAX 1024u
/* Policies of one token that a check considers; Vault has no limit, but a
 * token with more than this was not made by our token store. */
#define ACL_TOKEN_POLICIES_MAX 256u

struct cache_entry {
	char *name;
	struct acl_policy *policy;  /* NULL: the name is known to have no policy */
};

struct acl_store {
	struct cache_entry *entries;
	size_t count;
};

int acl_store_open(struct secrets *secrets, struct acl_store **ret_store, struct wd_error *err)
{
	struct acl_store *store;

	(void)secrets;
	*ret_store = NULL;
	store = calloc(1, sizeof(*store));
	if (!store)
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the policy store");
	store->entries = wd_calloc(ACL_CACHE_MAX, sizeof(*store->entries));
	if (!store->entries) {
		free(store);
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the policy store");
	}
	*ret_store = store;
	return 0;
}

static void cache_flush(struct acl_store *store)
{
	for (size_t i = 0; i < store->count; i++) {
		free(store->entries[i].name);
		acl_policy_free(store->entries[i].policy);
	}
	store->count = 0;
}

void acl_store_free(struct acl_store *store)
{
	if (!store)
		return;
	cache_flush(store);
	free(store->entries);
	free(store);
}

/* Makes room for count more entries. Callers that hold policies from the
 * cache reserve before loading them, so no load frees one they hold. */
static void cache_reserve(struct acl_store *store, size_t count)
{
	if (store->count + count > ACL_CACHE_MAX)
		cache_flush(store);
}

static struct cache_entry *cache_find(struct acl_store *store, const char *name)
{
	for (size_t i = 0; i < store->count; i++) {
		if (strcmp(store->entries[i].name, name) == 0)
			return &store->entries[i];
	}
	return NULL;
}

void acl_store_forget(struct secrets *secrets, const char *name)
{
	struct acl_store *store = secrets->acl;
	struct cache_entry *entry;

	if (!store || !(entry = cache_find(store, name)))
		return;
	free(entry->name);
	acl_policy_free(entry->policy);
	*entry = store->entries[--store->count];
}

/* Reads and parses the stored policy name; *ret_policy stays NULL when
 * none is stored. */
static int load_policy(struct secrets *secrets, const char *name, struct acl_policy **ret_policy,
	struct wd_error *err)
{
	char path[sizeof("sys/policy/") + ACL_POLICY_NAME_MAX];
	json_t *stored = NULL;
	const char *text;
	struct wd_error parse_err = { 0 };
	int rc;

	*ret_policy = NULL;
	if ((size_t)snprintf(path, sizeof(path), "sys/policy/%s", name) >= sizeof(path))
		return 0; /* longer than any name the sys endpoints store */

	rc = barrier_get_json(secrets->barrier, path, &stored, err);
	if (rc == WD_ENOTFOUND) {
		if (strcmp(name, "default") != 0)
			return 0;
		rc = acl_policy_parse(name, acl_default_policy_text, strlen(acl_default_policy_text),
			ret_policy, err);
		return rc;
	}
	if (rc < 0)
		return rc;

	text = json_string_value(json_object_get(stored, "policy"));
	if (!text)
		rc = wd_error_set(err, WD_ECORRUPT, "stored policy \"%s\" has no policy text", name);
	else if (acl_policy_parse(name, text, strlen(text), ret_policy, &parse_err) < 0)
		rc = wd_error_set(err, WD_ECORRUPT, "stored policy \"%s\" cannot be parsed: %s", name,
			wd_error_text(&parse_err));
	json_decref(stored);
	return rc;
}

int acl_store_get(struct secrets *secrets, const char *name, struct acl_policy **ret_policy,
	struct wd_error *err)
{
	struct acl_store *store = secrets->acl;
	struct cache_entry *entry;
	struct acl_policy *policy = NULL;
	char *copy;

	*ret_policy = NULL;
	if (!store)
		return wd_error_set(err, WD_EINTERNAL, "the policy store is not open");
	/* Fail closed while sealed, and forget what the barrier held: a dev
	 * mode reset may bring different policies with the next unseal. */
	if (!secrets->barrier || barrier_sealed(secrets->barrier)) {
		cache_flush(store);
		return wd_error_set(err, WD_EUNAVAILABLE, "Vault is sealed");
	}
	entry = cache_find(store, name);
	if (entry) {
		*ret_policy = entry->policy;
		return 0;
	}

	WD_TRY(load_policy(secrets, name, &policy, err));
	copy = wd_strdup(name);
	if (!copy) {
		acl_policy_free(policy);
		return wd_error_set(err, WD_ENOMEM, "out of memory loading policy \"%s\"", name);
	}
	cache_reserve(store, 1);
	store->entries[store->count++] = (struct cache_entry){ .name = copy, .policy = policy };
	*ret_policy = policy;
	return 0;
}

static bool token_is_root(const struct vault_token *token)
{
	size_t i;
	json_t *name;

	json_array_foreach(token->policies, i, name) {
		if (json_is_string(name) && strcmp(json_string_value(name), "root") == 0)
			return true;
	}
	return false;
}

/* Loads the policies of token into policies (room for
 * ACL_TOKEN_POLICIES_MAX); names without a policy are skipped, as Vault
 * skips them. */
static int load_token_policies(struct secrets *secrets, const struct vault_token *token,
	struct acl_policy **policies, size_t *ret_count, struct wd_error *err)
{
	size_t count = 0, i;
	json_t *name;

	*ret_count = 0;
	if (json_array_size(token->policies) > ACL_TOKEN_POLICIES_MAX)
		return wd_error_set(err, WD_EPERM, "permission denied");
	if (secrets->acl)
		cache_reserve(secrets->acl, json_array_size(token->policies));

	json_array_foreach(token->policies, i, name) {
		struct acl_policy *policy;

		if (!json_is_string(name))
			continue;
		WD_TRY(acl_store_get(secrets, json_string_value(name), &policy, err));
		if (policy)
			policies[count++] = policy;
	}
	*ret_count = count;
	return 0;
}

int acl_token_capabilities(struct secrets *secrets, const struct vault_token *token,
	const char *path, unsigned *ret_caps, bool *ret_root, struct wd_error *err)
{
	struct acl_policy *policies[ACL_TOKEN_POLICIES_MAX];
	size_t count;

	*ret_caps = 0;
	*ret_root = false;
	if (!token)
		return 0;
	if (token_is_root(token)) {
		*ret_caps = ACL_CAP_ALL;
		*ret_root = true;
		return 0;
	}
	WD_TRY(load_token_policies(secrets, token, policies, &count, err));
	*ret_caps = acl_capabilities(policies, count, path);
	return 0;
}

/* The decision of acl_check; with check_body, also the parameter limits of
 * the selected rule on body. */
static int check(struct secrets *secrets, const struct vault_token *token, const char *path,
	enum vault_op op, bool root_protected, const json_t *body, bool check_body,
	struct wd_error *err)
{
	struct acl_policy *policies[ACL_TOKEN_POLICIES_MAX];
	struct acl_selection selection;
	struct acl_params params;
	size_t count;
	unsigned needed = acl_op_capability(op);
	bool allowed;

	if (!token || !path)
		return wd_error_set(err, WD_EPERM, "permission denied");
	if (token_is_root(token))
		return 0;

	WD_TRY(load_token_policies(secrets, token, policies, &count, err));
	acl_select(policies, count, path, op == VAULT_OP_LIST, &selection);
	if (selection.caps & ACL_CAP_DENY || !(selection.caps & needed) ||
	    (root_protected && !(selection.caps & ACL_CAP_SUDO)))
		return wd_error_set(err, WD_EPERM, "permission denied");
	if (!check_body)
		return 0;

	if (acl_params_merge(policies, count, &selection, &params) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory checking request parameters");
	allowed = acl_params_allow(&params, op, body);
	acl_params_clear(&params);
	if (!allowed)
		return wd_error_set(err, WD_EPERM, "permission denied");
	return 0;
}

int acl_check(struct secrets *secrets, const struct vault_token *token, const char *path,
	enum vault_op op, bool root_protected, struct wd_error *err)
{
	return check(secrets, token, path, op, root_protected, NULL, false, err);
}

int acl_check_request(struct secrets *secrets, const struct vault_request *req,
	bool root_protected, struct wd_error *err)
{
	return check(secrets, req->token, req->path, req->op, root_protected, req->body, true, err);
}
