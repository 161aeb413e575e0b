/* The token store on an unsealed barrier: ids and accessors, hashed
 * records, policies, Vault's TTL rules, use counts, expiry, renewal and
 * revocation of token trees. */
#include "token_fixture.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "secrets/expire.h"

/* A fixed time so that expected TTLs are exact (2026-01-01T00:00:00Z). */
#define T0 ((int64_t)1767225600)
#define HOUR 3600

static void make_token(struct fixture *f, const struct token_params *params, int64_t now,
	char id[static TOKEN_ID_MAX], struct vault_token **ret_token)
{
	char warning[256];
	int rc = token_create_at(f->secrets, params, now, id, ret_token, warning, &f->err);

	if (rc != 0)
		fail_msg("token_create_at: %d %s", rc, f->err.detail);
}

static bool is_base62(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return text[len] == '\0';
}

static json_t *policy_list(const char *names)
{
	json_t *list = json_loads(names, 0, NULL);

	assert_non_null(list);
	return list;
}

static void test_create_id_accessor_and_defaults(void **state)
{
	struct fixture *f = *state;
	json_t *policies = policy_list("[\"web\"]");
	struct token_params params = { .policies = policies, .renewable = true };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX];

	make_token(f, &params, T0, id, &token);

	assert_int_equal(strlen(id), 4 + VAULT_RANDOM_ID_LEN);
	assert_memory_equal(id, "hvs.", 4);
	assert_true(is_base62(id + 4, VAULT_RANDOM_ID_LEN));
	assert_true(is_base62(token->accessor, TOKEN_ACCESSOR_LEN));
	assert_string_list(token->policies, "default", "web", NULL);
	assert_string_equal(token->display_name, "token");
	assert_string_equal(token->path, "auth/token/create");
	/* No TTL given: the system default of 768 hours. */
	assert_int_equal(token->creation_ttl, 768 * HOUR);
	assert_int_equal(token->expire_time, T0 + 768 * HOUR);
	assert_true(token->renewable);
	assert_true(token->orphan);
	assert_string_equal(token->parent_hash, "");

	token_free(token);
	json_decref(policies);
}

static void test_record_stored_under_hmac(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .renewable = true };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX], hex[2 * EVP_MAX_MD_SIZE + 1], path[192];
	uint8_t *salt = NULL, mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	size_t salt_len = 0;
	json_t *record = NULL;

	make_token(f, &params, T0, id, &token);
	assert_int_equal(barrier_get(f->secrets->barrier, TOKEN_SALT_PATH, &salt, &salt_len,
		&f->err), 0);
	assert_int_equal(salt_len, TOKEN_SALT_LEN);

	/* The record's path is the HMAC-SHA256 of the id under the salt. */
	assert_non_null(HMAC(EVP_sha256(), salt, (int)salt_len, (const uint8_t *)id, strlen(id),
		mac, &mac_len));
	for (unsigned int i = 0; i < mac_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	assert_string_equal(token->hash, hex);
	snprintf(path, sizeof(path), "sys/token/id/%s", hex);
	assert_int_equal(barrier_get_json(f->secrets->barrier, path, &record, &f->err), 0);
	assert_string_equal(json_str(record, "accessor"), token->accessor);

	/* The accessor index points at the hash, never at the id. */
	json_decref(record);
	snprintf(path, sizeof(path), "sys/token/accessor/%s", token->accessor);
	assert_int_equal(barrier_get_json(f->secrets->barrier, path, &record, &f->err), 0);
	assert_string_equal(json_str(record, "hash"), hex);

	json_decref(record);
	barrier_value_free(salt, salt_len);
	token_free(token);
}

static void test_lookup_unknown_denied(void **state)
{
	struct fixture *f = *state;
	struct vault_token *token = NULL;

	assert_int_equal(token_lookup(f->secrets, "hvs.nosuchtoken000000000000", &token, &f->err),
		WD_EPERM);
	assert_string_equal(f->err.detail, "permission denied");
	assert_null(token);
	assert_int_equal(token_lookup(f->secrets, "", &token, &f->err), WD_EPERM);
}

static void test_lookup_expired_revokes(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .ttl = 60, .renewable = true };
	struct vault_token *token = NULL, *found = NULL;
	char id[TOKEN_ID_MAX], accessor[TOKEN_ACCESSOR_LEN + 1];

	make_token(f, &params, T0, id, &token);
	snprintf(accessor, sizeof(accessor), "%s", token->accessor);
	token_free(token);

	assert_int_equal(token_lookup_at(f->secrets, id, T0 + 59, true, &found, &f->err), 0);
	token_free(found);
	found = NULL;
	assert_int_equal(token_lookup_at(f->secrets, id, T0 + 60, true, &found, &f->err),
		WD_EPERM);
	assert_string_equal(f->err.detail, "permission denied");

	/* Revoked on the way: even an earlier time no longer finds it. */
	assert_int_equal(token_lookup_at(f->secrets, id, T0, true, &found, &f->err), WD_EPERM);
	assert_int_equal(token_lookup_accessor_at(f->secrets, accessor, T0, &found, &f->err),
		WD_ENOTFOUND);
}

static void test_num_uses_count_down(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .num_uses = 2, .renewable = true };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX];

	make_token(f, &params, T0, id, &token);
	assert_int_equal(token->num_uses, 2);
	token_free(token);

	assert_int_equal(token_lookup_at(f->secrets, id, T0, true, &token, &f->err), 0);
	assert_int_equal(token->num_uses, 1);
	token_free(token);

	/* The last use still works, and is marked as the last. */
	assert_int_equal(token_lookup_at(f->secrets, id, T0, true, &token, &f->err), 0);
	assert_int_equal(token->num_uses, TOKEN_USES_EXHAUSTED);
	token_free(token);

	assert_int_equal(token_lookup_at(f->secrets, id, T0, true, &token, &f->err), WD_EPERM);
	assert_null(token);
}

static void test_lookup_without_counting(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .num_uses = 1, .renewable = true };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX];

	make_token(f, &params, T0, id, &token);
	token_free(token);
	assert_int_equal(token_lookup_at(f->secrets, id, T0, false, &token, &f->err), 0);
	assert_int_equal(token->num_uses, 1);
	token_free(token);
	assert_int_equal(token_lookup_at(f->secrets, id, T0, true, &token, &f->err), 0);
	token_free(token);
}

static void test_root_never_expires(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .root = true, .renewable = true };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX];

	make_token(f, &params, T0, id, &token);
	assert_string_list(token->policies, "root", NULL);
	assert_int_equal(token->creation_ttl, 0);
	assert_int_equal(token->expire_time, 0);
	assert_false(token->renewable);
	token_free(token);

	assert_int_equal(token_lookup_at(f->secrets, id, T0 + 10 * 365 * 86400, true, &token,
		&f->err), 0);
	token_free(token);
}

static void test_policies_sanitized(void **state)
{
	struct fixture *f = *state;
	json_t *policies = policy_list("[\"web\", \" DB \", \"web\", \"\"]");
	struct token_params params = { .policies = policies, .renewable = true };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX];

	make_token(f, &params, T0, id, &token);
	assert_string_list(token->policies, "db", "default", "web", NULL);
	token_free(token);

	params.no_default_policy = true;
	make_token(f, &params, T0, id, &token);
	assert_string_list(token->policies, "db", "web", NULL);
	token_free(token);

	/* A listed "default" goes too when no default policy is asked for. */
	json_decref(policies);
	policies = policy_list("[\"default\", \"web\"]");
	params.policies = policies;
	make_token(f, &params, T0, id, &token);
	assert_string_list(token->policies, "web", NULL);
	token_free(token);

	/* "root" among others leaves "root" alone. */
	json_decref(policies);
	policies = policy_list("[\"web\", \"root\"]");
	params.policies = policies;
	params.no_default_policy = false;
	make_token(f, &params, T0, id, &token);
	assert_string_list(token->policies, "root", NULL);
	token_free(token);
	json_decref(policies);
}

static void test_ttl_rules(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .ttl = HOUR, .explicit_max_ttl = 600, .renewable = true };
	struct vault_token *token = NULL;
	struct vault_mount *mount = vault_mount_lookup(f->secrets, "auth/token/");
	char id[TOKEN_ID_MAX], warning[256];

	/* explicit_max_ttl caps the TTL. */
	make_token(f, &params, T0, id, &token);
	assert_int_equal(token->creation_ttl, 600);
	token_free(token);

	/* A period replaces the TTL. */
	params = (struct token_params){ .ttl = HOUR, .period = 1800, .renewable = true };
	make_token(f, &params, T0, id, &token);
	assert_int_equal(token->creation_ttl, 1800);
	assert_int_equal(token->period, 1800);
	token_free(token);

	/* No TTL: the auth/token/ mount's default. */
	assert_non_null(mount);
	mount->default_lease_ttl = 1200;
	params = (struct token_params){ .renewable = true };
	make_token(f, &params, T0, id, &token);
	assert_int_equal(token->creation_ttl, 1200);
	token_free(token);
	mount->default_lease_ttl = 0;

	/* Beyond the system maximum: capped, with Vault's warning. */
	params = (struct token_params){ .ttl = 800 * HOUR, .renewable = true };
	assert_int_equal(token_create_at(f->secrets, &params, T0, id, &token, warning, &f->err),
		0);
	assert_int_equal(token->creation_ttl, 768 * HOUR);
	assert_string_equal(warning, "TTL of \"800h0m0s\" exceeded the effective max_ttl of "
		"\"768h0m0s\"; TTL value is capped accordingly");
	token_free(token);

	/* A role's max_ttl caps like a mount's. */
	params = (struct token_params){ .ttl = HOUR, .max_ttl = 900, .renewable = true };
	make_token(f, &params, T0, id, &token);
	assert_int_equal(token->creation_ttl, 900);
	token_free(token);
}

static void test_create_rejects_bad_params(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .num_uses = -1 };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX];

	assert_int_equal(token_create(f->secrets, &params, id, &token, &f->err), WD_EINVAL);
	assert_string_equal(f->err.detail, "number of uses cannot be negative");

	params = (struct token_params){ .id = "has space" };
	assert_int_equal(token_create(f->secrets, &params, id, &token, &f->err), WD_EINVAL);

	/* The root token of the dev fixture has id ROOT_TOKEN already. */
	params = (struct token_params){ .id = ROOT_TOKEN };
	assert_int_equal(token_create(f->secrets, &params, id, &token, &f->err), WD_EINVAL);
	assert_string_equal(f->err.detail, "a token with the given id already exists");
	assert_null(token);
	assert_string_equal(id, "");
}

static void test_custom_id(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .id = "my-custom-id", .renewable = true };
	struct vault_token *token = NULL, *found = NULL;
	char id[TOKEN_ID_MAX];

	make_token(f, &params, T0, id, &token);
	assert_string_equal(id, "my-custom-id");
	assert_int_equal(token_lookup_at(f->secrets, "my-custom-id", T0, true, &found, &f->err), 0);
	assert_string_equal(found->accessor, token->accessor);
	token_free(found);
	token_free(token);
}

/* Creates a child of parent (NULL: an orphan) and returns its id. */
static struct vault_token *make_child(struct fixture *f, const struct vault_token *parent,
	char id[static TOKEN_ID_MAX])
{
	struct token_params params = { .parent = parent, .ttl = HOUR, .renewable = true };
	struct vault_token *token = NULL;

	make_token(f, &params, T0, id, &token);
	return token;
}

static bool alive(struct fixture *f, const char *id)
{
	struct vault_token *token = NULL;
	int rc = token_lookup_at(f->secrets, id, T0, false, &token, &f->err);

	token_free(token);
	return rc == 0;
}

static int count_key(void *context, const char *rest)
{
	(void)rest;
	(*(int *)context)++;
	return 0;
}

static int count_under(struct fixture *f, const char *prefix)
{
	int count = 0;

	assert_int_equal(barrier_list(f->secrets->barrier, prefix, false, count_key, &count,
		&f->err), 0);
	return count;
}

static void test_revoke_tree(void **state)
{
	struct fixture *f = *state;
	char root_id[TOKEN_ID_MAX], child_id[TOKEN_ID_MAX], grand_id[TOKEN_ID_MAX];
	char sibling_id[TOKEN_ID_MAX], other_id[TOKEN_ID_MAX];
	struct vault_token *root = make_child(f, NULL, root_id);
	struct vault_token *child = make_child(f, root, child_id);
	struct vault_token *grand = make_child(f, child, grand_id);
	struct vault_token *sibling = make_child(f, root, sibling_id);
	struct vault_token *other = make_child(f, NULL, other_id);

	assert_string_equal(child->parent_hash, root->hash);
	assert_false(child->orphan);
	assert_int_equal(count_under(f, "sys/token/parent/"), 3);

	assert_int_equal(token_revoke(f->secrets, root, &f->err), 0);
	assert_false(alive(f, root_id));
	assert_false(alive(f, child_id));
	assert_false(alive(f, grand_id));
	assert_false(alive(f, sibling_id));
	assert_true(alive(f, other_id));

	/* Every index entry of the tree went with it. */
	assert_int_equal(count_under(f, "sys/token/parent/"), 0);
	/* The fixture's root token and "other" remain. */
	assert_int_equal(count_under(f, "sys/token/accessor/"), 2);
	assert_int_equal(count_under(f, "sys/token/id/"), 2);

	token_free(root);
	token_free(child);
	token_free(grand);
	token_free(sibling);
	token_free(other);
}

static void test_revoke_orphan_keeps_children(void **state)
{
	struct fixture *f = *state;
	char parent_id[TOKEN_ID_MAX], child_id[TOKEN_ID_MAX], grand_id[TOKEN_ID_MAX];
	struct vault_token *parent = make_child(f, NULL, parent_id);
	struct vault_token *child = make_child(f, parent, child_id);
	struct vault_token *grand = make_child(f, child, grand_id);
	struct vault_token *found = NULL;

	assert_int_equal(token_revoke_orphan(f->secrets, parent, &f->err), 0);
	assert_false(alive(f, parent_id));
	assert_int_equal(token_lookup_at(f->secrets, child_id, T0, false, &found, &f->err), 0);
	assert_true(found->orphan);
	assert_string_equal(found->parent_hash, "");
	token_free(found);
	assert_true(alive(f, grand_id));

	/* The grandchild still hangs off the child. */
	assert_int_equal(token_revoke(f->secrets, child, &f->err), 0);
	assert_false(alive(f, grand_id));

	token_free(parent);
	token_free(child);
	token_free(grand);
}

/* A backend whose leases count their revocations. */
static int revoked_leases;

static int count_lease_revoke(struct secrets *secrets, struct vault_mount *mount,
	const json_t *internal, struct wd_error *err)
{
	(void)secrets;
	(void)mount;
	(void)err;
	assert_string_equal(json_str(internal, "user"), "v-token-1");
	revoked_leases++;
	return 0;
}

static const struct vault_backend counting_backend = {
	.type = "counting",
	.lease_revoke = count_lease_revoke,
};

static void test_revoke_revokes_leases(void **state)
{
	struct fixture *f = *state;
	char parent_id[TOKEN_ID_MAX], child_id[TOKEN_ID_MAX];
	struct vault_token *parent = make_child(f, NULL, parent_id);
	struct vault_token *child = make_child(f, parent, child_id);
	struct vault_mount *mount = vault_mount_lookup(f->secrets, "secret/");
	const struct vault_backend *kv = mount->backend;
	json_t *internal = json_pack("{s:s}", "user", "v-token-1");
	struct vault_request req = { .path = "secret/creds/x", .mount = mount, .token = child };
	struct vault_response resp = { 0 };
	char path[VAULT_LEASE_ID_MAX + 32];
	json_t *lease = NULL;

	/* A lease made with the child's token, on a mount that counts. */
	mount->backend = &counting_backend;
	revoked_leases = 0;
	assert_int_equal(expire_register(f->secrets, &req, HOUR, true, internal, &resp, &f->err),
		0);
	snprintf(path, sizeof(path), "sys/expire/id/%s", resp.lease_id);
	assert_int_equal(barrier_get_json(f->secrets->barrier, path, &lease, &f->err), 0);
	json_decref(lease);

	/* Revoking the parent makes the child's lease due; the tick revokes it
	 * in the backend and deletes it. */
	assert_int_equal(token_revoke(f->secrets, parent, &f->err), 0);
	expire_tick(f->secrets, token_now());
	assert_int_equal(revoked_leases, 1);
	assert_int_equal(barrier_get_json(f->secrets->barrier, path, &lease, &f->err),
		WD_ENOTFOUND);

	mount->backend = kv;
	vault_response_clear(&resp);
	json_decref(internal);
	token_free(parent);
	token_free(child);
}

/* The server's revocation of a workload's login tokens by their metadata. */
static bool spiffe_id_is_web(void *arg, const char *path, const json_t *meta)
{
	int *calls = arg;

	(*calls)++;
	return path && !strcmp(path, "auth/cert/login") &&
		!strcmp(json_str(meta, "spiffe_id"), "spiffe://example.org/web");
}

static void test_revoke_matching(void **state)
{
	struct fixture *f = *state;
	char web_id[TOKEN_ID_MAX], child_id[TOKEN_ID_MAX], db_id[TOKEN_ID_MAX];
	json_t *web_meta = json_pack("{s:s, s:s}", "spiffe_id", "spiffe://example.org/web",
		"serial_number", "12345");
	json_t *db_meta = json_pack("{s:s}", "spiffe_id", "spiffe://example.org/db");
	struct token_params web_params = { .path = "auth/cert/login", .meta = web_meta,
		.ttl = HOUR };
	struct token_params db_params = { .path = "auth/cert/login", .meta = db_meta,
		.ttl = HOUR };
	struct vault_token *web = NULL, *db = NULL, *child;
	struct vault_mount *mount = vault_mount_lookup(f->secrets, "secret/");
	struct vault_request req = { .path = "secret/creds/x", .mount = mount };
	struct vault_response resp = { 0 };
	struct vault_response child_resp = { 0 };
	json_t *internal = json_pack("{s:s}", "user", "v-token-1");
	json_t *tokens = json_array();
	json_t *leases = json_array();
	const json_t *record;
	int calls = 0;

	make_token(f, &web_params, token_now(), web_id, &web);
	make_token(f, &db_params, token_now(), db_id, &db);
	child = make_child(f, web, child_id);
	req.token = web;
	assert_int_equal(expire_register(f->secrets, &req, HOUR, true, internal, &resp, &f->err),
		0);
	/* A lease of a child token goes with the tree and is listed too. */
	req.token = child;
	assert_int_equal(expire_register(f->secrets, &req, HOUR, true, internal, &child_resp,
		&f->err), 0);

	assert_int_equal(secrets_revoke_tokens_matching(f->secrets, spiffe_id_is_web, &calls,
		tokens, leases, &f->err), 0);
	/* The fixture's root token, web and db were looked at; the child too
	 * unless the walk reached it after web's revocation had removed it. */
	assert_in_range(calls, 3, 4);
	assert_int_equal(json_array_size(tokens), 1);
	record = json_array_get(tokens, 0);
	assert_string_equal(json_str(record, "spiffe_id"), "spiffe://example.org/web");
	assert_string_equal(json_str(record, "path"), "auth/cert/login");
	assert_int_equal(json_integer_value(json_object_get(record, "first_lease")), 0);
	/* The accessor itself never leaves the secrets service. */
	assert_null(strstr(json_str(record, "accessor_hmac"), web->accessor));
	assert_int_equal(json_array_size(leases), 2);
	assert_string_equal(json_string_value(json_array_get(leases, 0)), resp.lease_id);
	assert_string_equal(json_string_value(json_array_get(leases, 1)), child_resp.lease_id);

	assert_false(alive(f, web_id));
	assert_false(alive(f, child_id));
	assert_true(alive(f, db_id));

	/* Nothing is left to match the second time. */
	json_array_clear(tokens);
	json_array_clear(leases);
	calls = 0;
	assert_int_equal(secrets_revoke_tokens_matching(f->secrets, spiffe_id_is_web, &calls,
		tokens, leases, &f->err), 0);
	assert_int_equal(calls, 2);
	assert_int_equal(json_array_size(tokens), 0);
	assert_int_equal(json_array_size(leases), 0);

	vault_response_clear(&resp);
	vault_response_clear(&child_resp);
	json_decref(internal);
	json_decref(tokens);
	json_decref(leases);
	json_decref(web_meta);
	json_decref(db_meta);
	token_free(web);
	token_free(db);
	token_free(child);
}

static void test_child_dies_with_expired_parent(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .ttl = 60, .renewable = true };
	struct vault_token *parent = NULL, *child = NULL, *found = NULL;
	char parent_id[TOKEN_ID_MAX], child_id[TOKEN_ID_MAX];

	make_token(f, &params, T0, parent_id, &parent);
	params = (struct token_params){ .parent = parent, .ttl = HOUR, .renewable = true };
	make_token(f, &params, T0, child_id, &child);

	assert_int_equal(token_lookup_at(f->secrets, child_id, T0 + 59, true, &found, &f->err), 0);
	token_free(found);
	found = NULL;

	/* The parent expired: presenting the child revokes the whole tree. */
	assert_int_equal(token_lookup_at(f->secrets, child_id, T0 + 60, true, &found, &f->err),
		WD_EPERM);
	assert_int_equal(token_record_load(f->secrets, parent->hash, &found, &f->err),
		WD_ENOTFOUND);
	assert_int_equal(token_record_load(f->secrets, child->hash, &found, &f->err),
		WD_ENOTFOUND);
	token_free(parent);
	token_free(child);
}

static void test_tidy_revokes_unused_expired(void **state)
{
	struct fixture *f = *state;
	struct token_params short_lived = { .ttl = 60, .renewable = true };
	struct token_params long_lived = { .ttl = HOUR, .renewable = true };
	struct vault_token *expired = NULL, *child = NULL, *alive = NULL, *found = NULL;
	char expired_id[TOKEN_ID_MAX], child_id[TOKEN_ID_MAX], alive_id[TOKEN_ID_MAX];

	make_token(f, &short_lived, T0, expired_id, &expired);
	long_lived.parent = expired;
	make_token(f, &long_lived, T0, child_id, &child);
	long_lived.parent = NULL;
	make_token(f, &long_lived, T0, alive_id, &alive);

	/* Before the expiry the sweep keeps everything. */
	token_tidy(f->secrets, T0 + 30);
	assert_int_equal(count_under(f, "sys/token/id/"), 4);

	/* The sweep waits out its interval, then revokes the expired token and
	 * its child; the fixture's root token and the live one stay. */
	token_tidy(f->secrets, T0 + 61);
	assert_int_equal(count_under(f, "sys/token/id/"), 4);
	token_tidy(f->secrets, T0 + 30 + TOKEN_TIDY_INTERVAL);
	assert_int_equal(count_under(f, "sys/token/id/"), 2);
	assert_int_equal(token_record_load(f->secrets, alive->hash, &found, &f->err), 0);
	token_free(found);
	assert_int_equal(count_under(f, "sys/token/parent/"), 0);

	token_free(expired);
	token_free(child);
	token_free(alive);
}

static void test_renew(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .ttl = HOUR, .renewable = true };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX], warning[256];

	make_token(f, &params, T0, id, &token);

	/* An increment counts from now. */
	assert_int_equal(token_renew_at(f->secrets, token, 2 * HOUR, T0 + 1800, warning,
		&f->err), 0);
	assert_int_equal(token->expire_time, T0 + 1800 + 2 * HOUR);
	assert_int_equal(token->last_renewal_time, T0 + 1800);
	assert_string_equal(warning, "");

	/* No increment: the original TTL again. */
	assert_int_equal(token_renew_at(f->secrets, token, 0, T0 + HOUR, warning, &f->err), 0);
	assert_int_equal(token->expire_time, T0 + 2 * HOUR);
	token_free(token);

	/* The stored record followed. */
	assert_int_equal(token_lookup_at(f->secrets, id, T0 + HOUR, false, &token, &f->err), 0);
	assert_int_equal(token->expire_time, T0 + 2 * HOUR);
	token_free(token);
}

static void test_renew_capped_by_explicit_max(void **state)
{
	struct fixture *f = *state;
	struct token_params params = {
		.ttl = HOUR, .explicit_max_ttl = 2 * HOUR, .renewable = true,
	};
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX], warning[256];

	make_token(f, &params, T0, id, &token);
	assert_int_equal(token_renew_at(f->secrets, token, 2 * HOUR, T0 + 1800, warning,
		&f->err), 0);
	assert_int_equal(token->expire_time, T0 + 2 * HOUR);
	/* Vault's warning names the time left until the cap. */
	assert_string_equal(warning, "TTL of \"2h0m0s\" exceeded the effective max_ttl of "
		"\"1h30m0s\"; TTL value is capped accordingly");
	token_free(token);
}

static void test_renew_rejections(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .ttl = HOUR, .renewable = false };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX], warning[256];

	make_token(f, &params, T0, id, &token);
	assert_int_equal(token_renew_at(f->secrets, token, 0, T0, warning, &f->err), WD_EINVAL);
	assert_string_equal(f->err.detail, "lease is not renewable");
	token_free(token);

	params = (struct token_params){ .root = true, .renewable = true };
	make_token(f, &params, T0, id, &token);
	assert_int_equal(token_renew_at(f->secrets, token, 0, T0, warning, &f->err), WD_EINVAL);
	assert_string_equal(f->err.detail, "lease is not renewable");
	token_free(token);
}

static void test_periodic_renew(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .period = 600, .renewable = true };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX], warning[256];
	int64_t late = T0 + 40 * 86400;

	make_token(f, &params, T0, id, &token);

	/* A periodic token gets its period again, whatever the increment. */
	assert_int_equal(token_renew_at(f->secrets, token, 5 * HOUR, T0 + 300, warning, &f->err),
		0);
	assert_int_equal(token->expire_time, T0 + 300 + 600);

	/* Kept alive past the system maximum counted from its creation, it is
	 * still renewed: its period is not counted from creation. */
	token->expire_time = late + 100;
	assert_int_equal(token_renew_at(f->secrets, token, 0, late, warning, &f->err), 0);
	assert_int_equal(token->expire_time, late + 600);
	token_free(token);
}

static void test_auth_block(void **state)
{
	struct fixture *f = *state;
	json_t *policies = policy_list("[\"web\"]");
	json_t *meta = json_pack("{s:s}", "app", "frontend");
	struct token_params params = {
		.policies = policies, .meta = meta, .ttl = HOUR, .num_uses = 3, .renewable = true,
	};
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX];
	json_t *auth = NULL;

	make_token(f, &params, T0, id, &token);
	assert_int_equal(token_auth_block(token, id, &auth), 0);
	assert_string_equal(json_str(auth, "client_token"), id);
	assert_string_equal(json_str(auth, "accessor"), token->accessor);
	assert_string_list(json_object_get(auth, "policies"), "default", "web", NULL);
	assert_string_list(json_object_get(auth, "token_policies"), "default", "web", NULL);
	assert_string_equal(json_str(json_object_get(auth, "metadata"), "app"), "frontend");
	assert_int_equal(json_int(auth, "lease_duration"), HOUR);
	assert_true(json_is_true(json_object_get(auth, "renewable")));
	assert_string_equal(json_str(auth, "entity_id"), "");
	assert_string_equal(json_str(auth, "token_type"), "service");
	assert_true(json_is_true(json_object_get(auth, "orphan")));
	assert_true(json_is_null(json_object_get(auth, "mfa_requirement")));
	assert_int_equal(json_int(auth, "num_uses"), 3);
	json_decref(auth);
	token_free(token);

	/* Without metadata Vault shows null. */
	params = (struct token_params){ .renewable = true };
	make_token(f, &params, T0, id, &token);
	assert_int_equal(token_auth_block(token, id, &auth), 0);
	assert_true(json_is_null(json_object_get(auth, "metadata")));
	json_decref(auth);
	token_free(token);
	json_decref(policies);
	json_decref(meta);
}

static void test_lookup_data(void **state)
{
	struct fixture *f = *state;
	struct token_params params = { .ttl = HOUR, .explicit_max_ttl = 2 * HOUR,
		.renewable = true, .display_name = "token-app", .path = "auth/token/create" };
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX];
	json_t *data = NULL;

	make_token(f, &params, T0, id, &token);
	assert_int_equal(token_lookup_data(token, id, T0 + 600, &data), 0);
	assert_string_equal(json_str(data, "accessor"), token->accessor);
	assert_int_equal(json_int(data, "creation_time"), T0);
	assert_int_equal(json_int(data, "creation_ttl"), HOUR);
	assert_string_equal(json_str(data, "display_name"), "token-app");
	assert_string_equal(json_str(data, "entity_id"), "");
	assert_string_equal(json_str(data, "expire_time"), "2026-01-01T01:00:00.000000000Z");
	assert_int_equal(json_int(data, "explicit_max_ttl"), 2 * HOUR);
	assert_string_equal(json_str(data, "id"), id);
	assert_int_equal(json_array_size(json_object_get(data, "identity_policies")), 0);
	assert_string_equal(json_str(data, "issue_time"), "2026-01-01T00:00:00.000000000Z");
	assert_true(json_is_null(json_object_get(data, "meta")));
	assert_int_equal(json_int(data, "num_uses"), 0);
	assert_true(json_is_true(json_object_get(data, "orphan")));
	assert_string_equal(json_str(data, "path"), "auth/token/create");
	assert_string_list(json_object_get(data, "policies"), "default", NULL);
	assert_true(json_is_true(json_object_get(data, "renewable")));
	assert_int_equal(json_int(data, "ttl"), HOUR - 600);
	assert_string_equal(json_str(data, "type"), "service");
	assert_null(json_object_get(data, "period"));
	assert_null(json_object_get(data, "last_renewal_time"));
	json_decref(data);
	token_free(token);

	/* A root token shows no expiry. */
	params = (struct token_params){ .root = true };
	make_token(f, &params, T0, id, &token);
	assert_int_equal(token_lookup_data(token, "", T0 + 600, &data), 0);
	assert_true(json_is_null(json_object_get(data, "expire_time")));
	assert_int_equal(json_int(data, "ttl"), 0);
	assert_string_equal(json_str(data, "id"), "");
	json_decref(data);
	token_free(token);
}

static void test_has_policy(void **state)
{
	struct fixture *f = *state;
	struct vault_token *root = NULL;

	assert_int_equal(token_lookup(f->secrets, ROOT_TOKEN, &root, &f->err), 0);
	assert_true(token_has_policy(root, "root"));
	assert_false(token_has_policy(root, "default"));
	assert_false(token_has_policy(NULL, "root"));
	token_free(root);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_create_id_accessor_and_defaults),
		TEST(test_record_stored_under_hmac),
		TEST(test_lookup_unknown_denied),
		TEST(test_lookup_expired_revokes),
		TEST(test_num_uses_count_down),
		TEST(test_lookup_without_counting),
		TEST(test_root_never_expires),
		TEST(test_policies_sanitized),
		TEST(test_ttl_rules),
		TEST(test_create_rejects_bad_params),
		TEST(test_custom_id),
		TEST(test_revoke_tree),
		TEST(test_revoke_orphan_keeps_children),
		TEST(test_revoke_revokes_leases),
		TEST(test_revoke_matching),
		TEST(test_child_dies_with_expired_parent),
		TEST(test_tidy_revokes_unused_expired),
		TEST(test_renew),
		TEST(test_renew_capped_by_explicit_max),
		TEST(test_renew_rejections),
		TEST(test_periodic_renew),
		TEST(test_auth_block),
		TEST(test_lookup_data),
		TEST(test_has_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
