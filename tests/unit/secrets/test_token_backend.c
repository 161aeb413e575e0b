/* The auth/token/ endpoints as Vault clients call them: create with
 * Vault's policy and privilege rules, lookup, renew and the revokes. */
#include "token_fixture.h"

/* Creates a token with body as caller and returns its id in id. */
static void create_token(struct fixture *f, const char *caller, const char *body,
	char id[static TOKEN_ID_MAX])
{
	struct call c;

	if (call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/create", body, caller) != 0)
		fail_msg("create: %d %s", c.rc, c.err.detail);
	snprintf(id, TOKEN_ID_MAX, "%s", json_str(c.resp.auth, "client_token"));
	call_clear(&c);
}

static void test_create_reply(void **state)
{
	struct fixture *f = *state;
	struct call c;
	const json_t *auth;

	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/create",
		"{\"policies\": [\"web\"], \"ttl\": \"1h\", \"meta\": {\"app\": \"shop\"}, "
		"\"display_name\": \"ci job\"}", ROOT_TOKEN), 0);
	auth = c.resp.auth;
	assert_non_null(auth);
	assert_null(c.resp.data);
	assert_null(c.resp.warnings);
	assert_memory_equal(json_str(auth, "client_token"), "hvs.", 4);
	assert_string_list(json_object_get(auth, "policies"), "default", "web", NULL);
	assert_int_equal(json_int(auth, "lease_duration"), 3600);
	assert_true(json_is_true(json_object_get(auth, "renewable")));
	assert_false(json_is_true(json_object_get(auth, "orphan")));
	assert_string_equal(json_str(json_object_get(auth, "metadata"), "app"), "shop");
	call_clear(&c);
}

static void test_create_display_name_and_path(void **state)
{
	struct fixture *f = *state;
	struct call c;
	char id[TOKEN_ID_MAX];

	create_token(f, ROOT_TOKEN, "{\"display_name\": \"ci job/1-\"}", id);
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL, id),
		0);
	assert_string_equal(json_str(c.resp.data, "display_name"), "token-ci-job-1");
	assert_string_equal(json_str(c.resp.data, "path"), "auth/token/create");
	assert_string_equal(json_str(c.resp.data, "id"), id);
	call_clear(&c);
}

static void test_child_policies_subset(void **state)
{
	struct fixture *f = *state;
	char parent[TOKEN_ID_MAX], child[TOKEN_ID_MAX];
	struct call c;

	create_token(f, ROOT_TOKEN, "{\"policies\": [\"web\", \"db\"]}", parent);

	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/create",
		"{\"policies\": [\"admin\"]}", parent), WD_EINVAL);
	assert_call_error(&c, WD_EINVAL, "child policies must be subset of parent");
	call_clear(&c);

	/* A subset is fine, and "default" comes from the parent. */
	create_token(f, parent, "{\"policies\": [\"web\"]}", child);
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL,
		child), 0);
	assert_string_list(json_object_get(c.resp.data, "policies"), "default", "web", NULL);
	assert_false(json_is_true(json_object_get(c.resp.data, "orphan")));
	call_clear(&c);

	/* No list: the parent's policies. */
	create_token(f, parent, "{}", child);
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL,
		child), 0);
	assert_string_list(json_object_get(c.resp.data, "policies"), "db", "default", "web",
		NULL);
	call_clear(&c);

	/* A root parent may give any policy. */
	create_token(f, ROOT_TOKEN, "{\"policies\": [\"admin\"], \"no_default_policy\": true}",
		child);
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL,
		child), 0);
	assert_string_list(json_object_get(c.resp.data, "policies"), "admin", NULL);
	call_clear(&c);
}

static void test_create_privileges(void **state)
{
	struct fixture *f = *state;
	char parent[TOKEN_ID_MAX], limited[TOKEN_ID_MAX];
	struct call c;

	create_token(f, ROOT_TOKEN, "{\"policies\": [\"web\"]}", parent);
	static const struct {
		const char *body;
		const char *message;
	} cases[] = {
		{ "{\"no_parent\": true}", "root or sudo privileges required to create orphan token" },
		{ "{\"id\": \"chosen\"}", "root or sudo privileges required to specify token id" },
		{ "{\"period\": \"1h\"}", "root or sudo privileges required to create periodic token" },
		{ "{\"policies\": [\"root\"]}", "child policies must be subset of parent" },
		{ "{\"num_uses\": -1}", "number of uses cannot be negative" },
		{ "{\"type\": \"batch\"}", "batch tokens are not supported" },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/create", cases[i].body, parent);
		assert_call_error(&c, WD_EINVAL, cases[i].message);
		call_clear(&c);
	}

	/* A token with limited uses cannot make children. */
	create_token(f, ROOT_TOKEN, "{\"num_uses\": 5}", limited);
	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/create", "{}", limited);
	assert_call_error(&c, WD_EINVAL, "restricted use token cannot generate child tokens");
	call_clear(&c);
}

static void test_root_children(void **state)
{
	struct fixture *f = *state;
	char expiring_root[TOKEN_ID_MAX], child[TOKEN_ID_MAX];
	struct call c;

	/* A root child without a TTL never expires and is not renewable. */
	create_token(f, ROOT_TOKEN, "{}", child);
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL,
		child), 0);
	assert_string_list(json_object_get(c.resp.data, "policies"), "root", NULL);
	assert_int_equal(json_int(c.resp.data, "ttl"), 0);
	assert_false(json_is_true(json_object_get(c.resp.data, "renewable")));
	call_clear(&c);

	/* An expiring root token cannot make a root token that never expires. */
	create_token(f, ROOT_TOKEN, "{\"ttl\": 600}", expiring_root);
	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/create", "{}", expiring_root);
	assert_call_error(&c, WD_EINVAL,
		"expiring root tokens cannot create non-expiring root tokens");
	call_clear(&c);
}

static void test_create_orphan(void **state)
{
	struct fixture *f = *state;
	char parent[TOKEN_ID_MAX], orphan[TOKEN_ID_MAX];
	struct call c;

	create_token(f, ROOT_TOKEN, "{\"policies\": [\"web\"]}", parent);
	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/create-orphan",
		"{\"policies\": [\"web\"]}", parent), 0);
	assert_true(json_is_true(json_object_get(c.resp.auth, "orphan")));
	snprintf(orphan, sizeof(orphan), "%s", json_str(c.resp.auth, "client_token"));
	call_clear(&c);

	/* Revoking the creator leaves the orphan. */
	call_ok(f, VAULT_OP_UPDATE, "auth/token/revoke-self", NULL, parent);
	call_ok(f, VAULT_OP_READ, "auth/token/lookup-self", NULL, orphan);
}

static void test_lookup_other_and_accessor(void **state)
{
	struct fixture *f = *state;
	char id[TOKEN_ID_MAX], body[256], accessor[TOKEN_ACCESSOR_LEN + 1];
	struct call c;

	create_token(f, ROOT_TOKEN, "{\"policies\": [\"web\"], \"ttl\": 600}", id);
	snprintf(body, sizeof(body), "{\"token\": \"%s\"}", id);
	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/lookup", body,
		ROOT_TOKEN), 0);
	assert_string_equal(json_str(c.resp.data, "id"), id);
	assert_int_equal(json_int(c.resp.data, "creation_ttl"), 600);
	snprintf(accessor, sizeof(accessor), "%s", json_str(c.resp.data, "accessor"));
	call_clear(&c);

	snprintf(body, sizeof(body), "{\"accessor\": \"%s\"}", accessor);
	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/lookup-accessor", body,
		ROOT_TOKEN), 0);
	assert_string_equal(json_str(c.resp.data, "id"), "");
	assert_string_list(json_object_get(c.resp.data, "policies"), "default", "web", NULL);
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/lookup",
		"{\"token\": \"hvs.unknown0000000000000000\"}", ROOT_TOKEN);
	assert_call_error(&c, WD_EPERM, "bad token");
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/lookup-accessor",
		"{\"accessor\": \"nosuchaccessor\"}", ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL, "invalid accessor");
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/lookup-accessor", "{}", ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL, "missing accessor");
	call_clear(&c);
}

static void test_renew_endpoints(void **state)
{
	struct fixture *f = *state;
	char id[TOKEN_ID_MAX], body[256];
	struct call c;

	create_token(f, ROOT_TOKEN, "{\"ttl\": 600}", id);
	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/renew-self",
		"{\"increment\": 1800}", id), 0);
	assert_string_equal(json_str(c.resp.auth, "client_token"), id);
	assert_int_equal(json_int(c.resp.auth, "lease_duration"), 1800);
	call_clear(&c);

	/* hvac sends "increment": null when none is given. */
	snprintf(body, sizeof(body), "{\"token\": \"%s\", \"increment\": null}", id);
	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/renew", body,
		ROOT_TOKEN), 0);
	assert_int_equal(json_int(c.resp.auth, "lease_duration"), 600);
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/renew",
		"{\"token\": \"hvs.unknown0000000000000000\"}", ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL, "token not found");
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/renew", "{}", ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL, "missing token ID");
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/renew-self", NULL, ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL, "lease is not renewable");
	call_clear(&c);
}

static void test_revoke_with_children(void **state)
{
	struct fixture *f = *state;
	char parent[TOKEN_ID_MAX], child[TOKEN_ID_MAX], body[256];
	struct call c;

	create_token(f, ROOT_TOKEN, "{\"policies\": [\"web\"]}", parent);
	create_token(f, parent, "{}", child);

	snprintf(body, sizeof(body), "{\"token\": \"%s\"}", parent);
	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/revoke", body,
		ROOT_TOKEN), 0);
	assert_null(c.resp.data);
	assert_null(c.resp.auth);
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL, child);
	assert_call_error(&c, WD_EPERM, "permission denied");
	call_clear(&c);

	/* Revoking again (or any unknown token) succeeds. */
	call_ok(f, VAULT_OP_UPDATE, "auth/token/revoke", body, ROOT_TOKEN);
}

static void test_revoke_accessor_and_self(void **state)
{
	struct fixture *f = *state;
	char id[TOKEN_ID_MAX], other[TOKEN_ID_MAX], body[256];
	struct call c;

	create_token(f, ROOT_TOKEN, "{}", id);
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL, id),
		0);
	snprintf(body, sizeof(body), "{\"accessor\": \"%s\"}", json_str(c.resp.data, "accessor"));
	call_clear(&c);
	call_ok(f, VAULT_OP_UPDATE, "auth/token/revoke-accessor", body, ROOT_TOKEN);
	call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL, id);
	assert_int_equal(c.rc, WD_EPERM);
	call_clear(&c);

	create_token(f, ROOT_TOKEN, "{}", other);
	call_ok(f, VAULT_OP_UPDATE, "auth/token/revoke-self", NULL, other);
	call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL, other);
	assert_int_equal(c.rc, WD_EPERM);
	call_clear(&c);
}

static void test_revoke_orphan_endpoint(void **state)
{
	struct fixture *f = *state;
	char parent[TOKEN_ID_MAX], child[TOKEN_ID_MAX], body[256];
	struct call c;

	create_token(f, ROOT_TOKEN, "{\"policies\": [\"web\"]}", parent);
	create_token(f, parent, "{}", child);
	snprintf(body, sizeof(body), "{\"token\": \"%s\"}", parent);

	/* Only root or sudo callers may orphan. */
	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/revoke-orphan", body, child);
	assert_call_error(&c, WD_EINVAL, "root or sudo privileges required to revoke and orphan");
	call_clear(&c);

	call_ok(f, VAULT_OP_UPDATE, "auth/token/revoke-orphan", body, ROOT_TOKEN);
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/token/lookup-self", NULL,
		child), 0);
	assert_true(json_is_true(json_object_get(c.resp.data, "orphan")));
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/revoke-orphan", body, ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL, "token to revoke not found");
	call_clear(&c);
}

static void test_routes_and_warnings(void **state)
{
	struct fixture *f = *state;
	struct call c;

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/no-such-path", NULL, ROOT_TOKEN);
	assert_call_error(&c, WD_ENOTFOUND, "unsupported path");
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_READ, "auth/token/create", NULL, ROOT_TOKEN);
	assert_call_error(&c, WD_EUNSUPPORTED, "unsupported operation");
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_DELETE, "auth/token/lookup-self", NULL, ROOT_TOKEN);
	assert_int_equal(c.rc, WD_EUNSUPPORTED);
	call_clear(&c);

	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/token/create",
		"{\"ttl\": 60, \"bogus\": 1, \"other\": \"x\"}", ROOT_TOKEN), 0);
	assert_string_list(c.resp.warnings,
		"Endpoint ignored these unrecognized parameters: [bogus other]", NULL);
	call_clear(&c);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_create_reply),
		TEST(test_create_display_name_and_path),
		TEST(test_child_policies_subset),
		TEST(test_create_privileges),
		TEST(test_root_children),
		TEST(test_create_orphan),
		TEST(test_lookup_other_and_accessor),
		TEST(test_renew_endpoints),
		TEST(test_revoke_with_children),
		TEST(test_revoke_accessor_and_self),
		TEST(test_revoke_orphan_endpoint),
		TEST(test_routes_and_warnings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
