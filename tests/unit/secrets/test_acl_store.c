// Unit tests of the policy store on a real barrier: the sys/policy and
// sys/policies/acl endpoints, the cache dropped on write and delete, the
// built-in and stored "default", the check of tokens and their parameters,
// and the capabilities endpoints. Each test skips while the barrier is
// still a placeholder that cannot be initialized.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "secrets/acl.h"
#include "secrets/acl_internal.h"
#include "secrets/barrier.h"
#include "secrets/token.h"
#include "../store/test_datastore.h"

struct fixture {
	char dir[64];
	char db[128];
	struct store *store;
	struct secrets secrets;
	struct vault_token token;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct wd_error err = { 0 };
	uint8_t **shares = NULL;
	bool unsealed = false;
	int rc;

	assert_non_null(f);
	*state = f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_acl_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	test_datastore_setup(f->db, sizeof(f->db), f->dir, "warden.db");
	assert_int_equal(store_open(f->db, NULL, &f->store, &err), 0);
	f->secrets.store = f->store;
	rc = barrier_open(f->store, &f->secrets.barrier, &err);
	if (rc == 0)
		rc = barrier_init(f->secrets.barrier, 1, 1, &shares, &err);
	if (rc == WD_EUNSUPPORTED)
		return 0; /* the placeholder barrier: every test skips */
	assert_int_equal(rc, 0);
	assert_int_equal(barrier_unseal(f->secrets.barrier, shares[0], BARRIER_SHARE_LEN, false,
				 &unsealed, &err), 0);
	assert_true(unsealed);
	barrier_shares_free(shares, 1);
	assert_int_equal(acl_store_open(&f->secrets, &f->secrets.acl, &err), 0);
	f->token.policies = json_array();
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[192];

	acl_store_free(f->secrets.acl);
	barrier_free(f->secrets.barrier);
	store_close(f->store);
	json_decref(f->token.policies);
	const char *const suffixes[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", f->db, suffixes[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void skip_without_barrier(struct fixture *f)
{
	if (!f->secrets.acl)
		skip();
}

// Runs acl_handle_sys on sys/<rel>; body is JSON text or NULL.
static int call(struct fixture *f, enum vault_op op, const char *rel, const char *body,
	struct vault_response *resp, struct wd_error *err)
{
	char path[256];
	struct vault_request req = { 0 };
	int rc;

	snprintf(path, sizeof(path), "sys/%s", rel);
	req.op = op;
	req.path = path;
	req.rel = path + 4;
	req.body = body ? json_loads(body, 0, NULL) : json_object();
	assert_non_null(req.body);
	req.token = &f->token;
	memset(resp, 0, sizeof(*resp));
	wd_error_clear(err);
	rc = acl_handle_sys(&f->secrets, &req, resp, err);
	json_decref(req.body);
	return rc;
}

static char *dump(const json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);

	assert_non_null(text);
	return text;
}

static void expect_data(struct vault_response *resp, const char *expected)
{
	char *text = dump(resp->data);

	assert_string_equal(text, expected);
	free(text);
	json_decref(resp->data);
	resp->data = NULL;
}

static void write_policy(struct fixture *f, const char *rel, const char *policy)
{
	struct vault_response resp;
	struct wd_error err;
	json_t *body = json_pack("{ss}", "policy", policy);
	char *text = dump(body);
	int rc = call(f, VAULT_OP_UPDATE, rel, text, &resp, &err);

	if (rc != 0)
		fail_msg("write %s: %s", rel, wd_error_text(&err));
	assert_null(resp.data);
	free(text);
	json_decref(body);
}

static void set_policies(struct fixture *f, const char *names_json)
{
	json_decref(f->token.policies);
	f->token.policies = json_loads(names_json, 0, NULL);
	assert_non_null(f->token.policies);
}

static int check(struct fixture *f, const char *path, enum vault_op op)
{
	struct wd_error err = { 0 };

	return acl_check(&f->secrets, &f->token, path, op, false, &err);
}

static const char app_policy[] = "path \"secret/data/app/*\" { capabilities = [\"read\"] }";

static void write_read_and_legacy(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	skip_without_barrier(f);
	write_policy(f, "policies/acl/App", app_policy);

	assert_int_equal(call(f, VAULT_OP_READ, "policies/acl/app", NULL, &resp, &err), 0);
	expect_data(&resp, "{\"name\":\"app\",\"policy\":\"path \\\"secret/data/app/*\\\" "
		"{ capabilities = [\\\"read\\\"] }\"}");
	assert_int_equal(call(f, VAULT_OP_READ, "policy/APP", NULL, &resp, &err), 0);
	expect_data(&resp, "{\"name\":\"app\",\"policy\":\"path \\\"secret/data/app/*\\\" "
		"{ capabilities = [\\\"read\\\"] }\",\"rules\":\"path \\\"secret/data/app/*\\\" "
		"{ capabilities = [\\\"read\\\"] }\"}");

	// The legacy path also takes "rules".
	assert_int_equal(call(f, VAULT_OP_UPDATE, "policy/ops",
				 "{\"rules\": \"path \\\"sys/*\\\" { policy = \\\"sudo\\\" }\"}", &resp, &err), 0);
	assert_int_equal(call(f, VAULT_OP_READ, "policies/acl/ops", NULL, &resp, &err), 0);
	expect_data(&resp, "{\"name\":\"ops\",\"policy\":\"path \\\"sys/*\\\" { policy = \\\"sudo\\\" }\"}");
}

static void write_rejects(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	skip_without_barrier(f);
	assert_int_equal(call(f, VAULT_OP_UPDATE, "policies/acl/bad",
				 "{\"policy\": \"path \\\"a\\\" { capabilities = [\\\"reed\\\"] }\"}", &resp, &err),
		WD_EINVAL);
	assert_string_equal(wd_error_text(&err),
		"failed to parse policy: unknown capability \"reed\" at line 1");
	assert_int_equal(call(f, VAULT_OP_READ, "policies/acl/bad", NULL, &resp, &err), WD_ENOTFOUND);

	assert_int_equal(call(f, VAULT_OP_UPDATE, "policies/acl/x", "{\"policy\": \"\"}", &resp, &err),
		WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "'policy' parameter not supplied or empty");
	assert_int_equal(call(f, VAULT_OP_UPDATE, "policies/acl/root",
				 "{\"policy\": \"path \\\"a\\\" {}\"}", &resp, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "cannot update \"root\" policy");
	assert_int_equal(call(f, VAULT_OP_DELETE, "policies/acl/root", NULL, &resp, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "cannot delete \"root\" policy");
	assert_int_equal(call(f, VAULT_OP_DELETE, "policy/default", NULL, &resp, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "cannot delete \"default\" policy");
	assert_int_equal(call(f, VAULT_OP_READ, "policies/acl/root", NULL, &resp, &err), WD_ENOTFOUND);
	assert_int_equal(call(f, VAULT_OP_PATCH, "policies/acl/x", NULL, &resp, &err), WD_EUNSUPPORTED);
	assert_int_equal(call(f, VAULT_OP_READ, "policies/acl", NULL, &resp, &err), WD_EUNSUPPORTED);
	assert_int_equal(call(f, VAULT_OP_READ, "policyx", NULL, &resp, &err), WD_ENOTFOUND);
}

static void list_both_forms(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	skip_without_barrier(f);
	assert_int_equal(call(f, VAULT_OP_LIST, "policies/acl/", NULL, &resp, &err), 0);
	expect_data(&resp, "{\"keys\":[\"default\",\"root\"]}");

	write_policy(f, "policies/acl/zeta", app_policy);
	write_policy(f, "policies/acl/alpha", app_policy);
	write_policy(f, "policies/acl/default", app_policy);
	assert_int_equal(call(f, VAULT_OP_LIST, "policies/acl", NULL, &resp, &err), 0);
	expect_data(&resp, "{\"keys\":[\"alpha\",\"default\",\"zeta\",\"root\"]}");
	assert_int_equal(call(f, VAULT_OP_READ, "policy", NULL, &resp, &err), 0);
	expect_data(&resp, "{\"keys\":[\"alpha\",\"default\",\"zeta\",\"root\"],"
		"\"policies\":[\"alpha\",\"default\",\"zeta\",\"root\"]}");

	assert_int_equal(call(f, VAULT_OP_DELETE, "policies/acl/zeta", NULL, &resp, &err), 0);
	assert_int_equal(call(f, VAULT_OP_LIST, "policy/", NULL, &resp, &err), 0);
	expect_data(&resp, "{\"keys\":[\"alpha\",\"default\",\"root\"],"
		"\"policies\":[\"alpha\",\"default\",\"root\"]}");
}

static void default_builtin_then_stored(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	skip_without_barrier(f);
	assert_int_equal(call(f, VAULT_OP_READ, "policies/acl/default", NULL, &resp, &err), 0);
	assert_string_equal(json_string_value(json_object_get(resp.data, "policy")),
		acl_default_policy_text);
	json_decref(resp.data);

	set_policies(f, "[\"default\"]");
	assert_int_equal(check(f, "auth/token/lookup-self", VAULT_OP_READ), 0);
	assert_int_equal(check(f, "cubbyhole/x", VAULT_OP_CREATE), 0);
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_READ), WD_EPERM);

	// A stored default replaces the built-in one at once.
	write_policy(f, "policies/acl/default", app_policy);
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_READ), 0);
	assert_int_equal(check(f, "auth/token/lookup-self", VAULT_OP_READ), WD_EPERM);
}

static void cache_dropped_on_write_and_delete(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	skip_without_barrier(f);
	set_policies(f, "[\"app\", \"missing\"]");
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_READ), WD_EPERM);

	write_policy(f, "policies/acl/app", app_policy);
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_READ), 0);
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_UPDATE), WD_EPERM);
	assert_int_equal(check(f, "secret/data/other", VAULT_OP_READ), WD_EPERM);

	write_policy(f, "policies/acl/app", "path \"secret/data/app/*\" { capabilities = [\"update\"] }");
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_UPDATE), 0);
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_READ), WD_EPERM);

	assert_int_equal(call(f, VAULT_OP_DELETE, "policies/acl/app", NULL, &resp, &err), 0);
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_UPDATE), WD_EPERM);
}

static void sudo_and_deny_across_policies(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	skip_without_barrier(f);
	write_policy(f, "policies/acl/ops", "path \"sys/leases/revoke-prefix/*\" { capabilities = [\"update\"] }");
	write_policy(f, "policies/acl/sudo", "path \"sys/leases/revoke-prefix/*\" { capabilities = [\"sudo\"] }");
	write_policy(f, "policies/acl/block", "path \"secret/data/app/*\" { capabilities = [\"deny\"] }");
	write_policy(f, "policies/acl/app", app_policy);

	set_policies(f, "[\"ops\"]");
	assert_int_equal(acl_check(&f->secrets, &f->token, "sys/leases/revoke-prefix/db", VAULT_OP_UPDATE,
				 true, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "permission denied");
	set_policies(f, "[\"ops\", \"sudo\"]");
	assert_int_equal(acl_check(&f->secrets, &f->token, "sys/leases/revoke-prefix/db", VAULT_OP_UPDATE,
				 true, &err), 0);

	set_policies(f, "[\"app\", \"block\"]");
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_READ), WD_EPERM);
	set_policies(f, "[\"root\"]");
	assert_int_equal(acl_check(&f->secrets, &f->token, "sys/seal", VAULT_OP_UPDATE, true, &err), 0);
}

static void request_parameters_enforced(void **state)
{
	struct fixture *f = *state;
	struct vault_request req = { 0 };
	struct wd_error err = { 0 };

	skip_without_barrier(f);
	write_policy(f, "policies/acl/params",
		"path \"secret/data/app\" {\n"
		"  capabilities = [\"update\"]\n"
		"  denied_parameters = { \"password\" = [] }\n"
		"}\n");
	set_policies(f, "[\"params\"]");
	req.op = VAULT_OP_UPDATE;
	req.path = "secret/data/app";
	req.token = &f->token;
	req.body = json_pack("{ss}", "user", "x");
	assert_int_equal(acl_check_request(&f->secrets, &req, false, &err), 0);
	assert_int_equal(json_object_set_new(req.body, "Password", json_string("p")), 0);
	assert_int_equal(acl_check_request(&f->secrets, &req, false, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "permission denied");
	// acl_check alone does not look at the body.
	assert_int_equal(acl_check(&f->secrets, &f->token, req.path, req.op, false, &err), 0);
	json_decref(req.body);
}

static void capabilities_endpoints(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	skip_without_barrier(f);
	write_policy(f, "policies/acl/app",
		"path \"secret/data/app/*\" { capabilities = [\"read\", \"update\", \"sudo\"] }\n"
		"path \"secret/data/app/locked\" { capabilities = [\"deny\"] }\n");
	set_policies(f, "[\"app\"]");

	assert_int_equal(call(f, VAULT_OP_UPDATE, "capabilities-self",
				 "{\"paths\": [\"secret/data/app/x\", \"secret/data/app/locked\", \"other\"]}",
				 &resp, &err), 0);
	expect_data(&resp, "{\"other\":[\"deny\"],\"secret/data/app/locked\":[\"deny\"],"
		"\"secret/data/app/x\":[\"read\",\"sudo\",\"update\"]}");

	// One path (the old "path" field, a string) also fills "capabilities".
	assert_int_equal(call(f, VAULT_OP_UPDATE, "capabilities", "{\"path\": \"secret/data/app/x\"}",
				 &resp, &err), 0);
	expect_data(&resp, "{\"capabilities\":[\"read\",\"sudo\",\"update\"],"
		"\"secret/data/app/x\":[\"read\",\"sudo\",\"update\"]}");

	set_policies(f, "[\"root\"]");
	assert_int_equal(call(f, VAULT_OP_UPDATE, "capabilities-self", "{\"paths\": \"a,b\"}", &resp,
				 &err), 0);
	expect_data(&resp, "{\"a\":[\"root\"],\"b\":[\"root\"]}");

	assert_int_equal(call(f, VAULT_OP_UPDATE, "capabilities-self", "{}", &resp, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "missing paths");
	assert_int_equal(call(f, VAULT_OP_READ, "capabilities-self", "{}", &resp, &err), WD_EUNSUPPORTED);
}

static void base64_policy_accepted(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	skip_without_barrier(f);
	// base64 of: path "kv/*" { capabilities = ["list"] }
	assert_int_equal(call(f, VAULT_OP_UPDATE, "policies/acl/b64",
				 "{\"policy\": \"cGF0aCAia3YvKiIgeyBjYXBhYmlsaXRpZXMgPSBbImxpc3QiXSB9\"}", &resp,
				 &err), 0);
	assert_int_equal(call(f, VAULT_OP_READ, "policies/acl/b64", NULL, &resp, &err), 0);
	expect_data(&resp, "{\"name\":\"b64\",\"policy\":\"path \\\"kv/*\\\" { capabilities = [\\\"list\\\"] }\"}");
	set_policies(f, "[\"b64\"]");
	assert_int_equal(check(f, "kv/", VAULT_OP_LIST), 0);
}

static void sealed_fails_closed(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	skip_without_barrier(f);
	write_policy(f, "policies/acl/app", app_policy);
	set_policies(f, "[\"app\"]");
	assert_int_equal(check(f, "secret/data/app/x", VAULT_OP_READ), 0);
	barrier_seal(f->secrets.barrier);
	assert_int_equal(acl_check(&f->secrets, &f->token, "secret/data/app/x", VAULT_OP_READ, false,
				 &err), WD_EUNAVAILABLE);
	assert_string_equal(wd_error_text(&err), "Vault is sealed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(write_read_and_legacy, setup, teardown),
		cmocka_unit_test_setup_teardown(write_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(list_both_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(default_builtin_then_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_dropped_on_write_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(sudo_and_deny_across_policies, setup, teardown),
		cmocka_unit_test_setup_teardown(request_parameters_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(capabilities_endpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(base64_policy_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(sealed_fails_closed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
