/* The seal endpoints (sys/init, unseal, seal, seal-status, health) on a
 * real barrier over a temporary SQLite store. The service's load and unload
 * steps and token_create are test doubles defined here, so the handlers run
 * without the rest of the service. The linker takes these definitions and
 * so leaves core.c and token.c out of this test. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "common/error.h"
#include "secrets/barrier.h"
#include "secrets/secrets_internal.h"
#include "secrets/sys_seal_private.h"
#include "secrets/token.h"
#include "../store/test_datastore.h"

#define FAKE_ROOT_TOKEN "hvs.rootTokenFromTheTestDouble000"

/* What the doubles saw and how they behave. */
static struct {
	int after_unseal_calls;
	int before_seal_calls;
	int token_create_calls;
	bool after_unseal_fails;
	bool sealed_during_token_create;
	struct token_params last_params;
} doubles;

int secrets_after_unseal(struct secrets *secrets, struct wd_error *err)
{
	doubles.after_unseal_calls++;
	if (doubles.after_unseal_fails) {
		/* As the real one: a failed load seals again. */
		barrier_seal(secrets->barrier);
		return wd_error_set(err, WD_ESTORE, "loading the mount table failed");
	}
	return 0;
}

void secrets_before_seal(struct secrets *secrets)
{
	(void)secrets;
	doubles.before_seal_calls++;
}

int token_create(struct secrets *secrets, const struct token_params *params,
	char ret_id[static TOKEN_ID_MAX], struct vault_token **ret_token, struct wd_error *err)
{
	(void)err;
	doubles.token_create_calls++;
	doubles.last_params = *params;
	doubles.sealed_during_token_create = barrier_sealed(secrets->barrier);
	snprintf(ret_id, TOKEN_ID_MAX, "%s", FAKE_ROOT_TOKEN);
	if (ret_token)
		*ret_token = NULL;
	return 0;
}

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
	struct secrets secrets;
	json_t *keys;       /* hex shares from the last init */
	json_t *keys_base64;
};

static int setup(void **state)
{
	struct fixture *f = wd_calloc(1, sizeof(*f));
	struct wd_error err;

	if (!f)
		return -1;
	memset(&doubles, 0, sizeof(doubles));
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-sys-seal-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	test_datastore_setup(f->path, sizeof(f->path), f->dir, "test.db");
	if (store_open(f->path, NULL, &f->store, &err) < 0 ||
		barrier_open(f->store, &f->secrets.barrier, &err) < 0) {
		fprintf(stderr, "setup: %s\n", wd_error_text(&err));
		return -1;
	}
	f->secrets.store = f->store;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *entry;
	char path[512];

	json_decref(f->keys);
	json_decref(f->keys_base64);
	barrier_free(f->secrets.barrier);
	store_close(f->store);
	while (d && (entry = readdir(d))) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, entry->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Runs one request for sys/<rel> and returns the handler's result; resp
 * keeps what it wrote. body is JSON text or NULL. */
static int call(struct fixture *f, enum vault_op op, const char *rel, const char *body,
	struct vault_response *resp, struct wd_error *err)
{
	struct vault_request req = { .op = op };
	int rc;

	memset(resp, 0, sizeof(*resp));
	wd_error_clear(err);
	req.path = malloc(strlen(rel) + 5);
	assert_non_null(req.path);
	snprintf(req.path, strlen(rel) + 5, "sys/%s", rel);
	req.rel = req.path + 4;
	req.body = body ? json_loads(body, 0, NULL) : json_object();
	assert_non_null(req.body);
	snprintf(req.remote_address, sizeof(req.remote_address), "127.0.0.1");
	rc = sys_seal_handle(&f->secrets, &req, resp, err);
	json_decref(req.body);
	free(req.path);
	return rc;
}

static void assert_bool_field(const json_t *object, const char *name, bool expected)
{
	const json_t *value = json_object_get(object, name);

	assert_true(json_is_boolean(value));
	assert_int_equal(json_is_true(value), expected);
}

static void assert_int_field(const json_t *object, const char *name, json_int_t expected)
{
	const json_t *value = json_object_get(object, name);

	assert_true(json_is_integer(value));
	assert_int_equal(json_integer_value(value), expected);
}

static void assert_string_field(const json_t *object, const char *name, const char *expected)
{
	const json_t *value = json_object_get(object, name);

	assert_true(json_is_string(value));
	assert_string_equal(json_string_value(value), expected);
}

/* Initializes with shares and threshold, keeping the keys in f. */
static void init_ok(struct fixture *f, unsigned shares, unsigned threshold)
{
	struct vault_response resp;
	struct wd_error err;
	char body[160];
	int rc;

	snprintf(body, sizeof(body), "{\"secret_shares\":%u,\"secret_threshold\":%u,"
		"\"pgp_keys\":null,\"root_token_pgp_key\":null,\"stored_shares\":null}", shares,
		threshold);
	rc = call(f, VAULT_OP_UPDATE, "init", body, &resp, &err);
	if (rc < 0)
		fprintf(stderr, "init: %s\n", wd_error_text(&err));
	assert_int_equal(rc, 0);
	assert_non_null(resp.raw);
	f->keys = json_incref(json_object_get(resp.raw, "keys"));
	f->keys_base64 = json_incref(json_object_get(resp.raw, "keys_base64"));
	vault_response_clear(&resp);
}

/* Submits {"key": key} and returns the handler's result; on success the
 * reply is left in resp for the caller to check and clear. */
static int unseal(struct fixture *f, const char *key, struct vault_response *resp,
	struct wd_error *err)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"key\":\"%s\"}", key);
	return call(f, VAULT_OP_UPDATE, "unseal", body, resp, err);
}

static const char *key_at(const json_t *keys, size_t i)
{
	return json_string_value(json_array_get(keys, i));
}

static void test_uninitialized_status(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	assert_int_equal(call(f, VAULT_OP_READ, "init", NULL, &resp, &err), 0);
	assert_int_equal(json_object_size(resp.raw), 1);
	assert_bool_field(resp.raw, "initialized", false);
	vault_response_clear(&resp);

	assert_int_equal(call(f, VAULT_OP_READ, "seal-status", NULL, &resp, &err), 0);
	assert_string_field(resp.raw, "type", "shamir");
	assert_bool_field(resp.raw, "initialized", false);
	assert_bool_field(resp.raw, "sealed", true);
	assert_int_field(resp.raw, "t", 0);
	assert_int_field(resp.raw, "n", 0);
	assert_int_field(resp.raw, "progress", 0);
	assert_string_field(resp.raw, "nonce", "");
	assert_string_field(resp.raw, "version", "warden-" WARDEN_VERSION);
	assert_bool_field(resp.raw, "migration", false);
	assert_bool_field(resp.raw, "recovery_seal", false);
	assert_string_field(resp.raw, "storage_type",
		test_datastore_is_postgres() ? "postgres" : "sqlite");
	assert_true(json_is_string(json_object_get(resp.raw, "build_date")));
	assert_int_equal(strlen(json_string_value(json_object_get(resp.raw, "build_date"))), 20);
	assert_null(json_object_get(resp.raw, "cluster_name"));
	assert_null(json_object_get(resp.raw, "cluster_id"));
	assert_int_equal(json_object_size(resp.raw), 12);
	vault_response_clear(&resp);

	assert_int_equal(call(f, VAULT_OP_READ, "health", NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 501);
	assert_bool_field(resp.raw, "initialized", false);
	assert_bool_field(resp.raw, "sealed", true);
	assert_bool_field(resp.raw, "standby", false);
	assert_bool_field(resp.raw, "performance_standby", false);
	assert_string_field(resp.raw, "replication_performance_mode", "disabled");
	assert_string_field(resp.raw, "replication_dr_mode", "disabled");
	assert_true(json_integer_value(json_object_get(resp.raw, "server_time_utc")) > 1700000000);
	assert_string_field(resp.raw, "version", "warden-" WARDEN_VERSION);
	vault_response_clear(&resp);
}

static void test_init_reply(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;
	uint8_t *decoded = NULL;
	size_t len = 0;

	assert_int_equal(call(f, VAULT_OP_UPDATE, "init",
		"{\"secret_shares\":5,\"secret_threshold\":3,\"pgp_keys\":[],"
		"\"root_token_pgp_key\":\"\",\"recovery_shares\":0}", &resp, &err), 0);
	assert_int_equal(json_array_size(json_object_get(resp.raw, "keys")), 5);
	assert_int_equal(json_array_size(json_object_get(resp.raw, "keys_base64")), 5);
	assert_string_field(resp.raw, "root_token", FAKE_ROOT_TOKEN);
	assert_int_equal(json_object_size(resp.raw), 3);

	/* Each hex key and its base64 form are the same 33-byte share. */
	for (size_t i = 0; i < 5; i++) {
		const char *hex = key_at(json_object_get(resp.raw, "keys"), i);
		const char *base64 = key_at(json_object_get(resp.raw, "keys_base64"), i);
		uint8_t *from_base64 = NULL;
		size_t base64_len = 0;

		assert_int_equal(strlen(hex), 2 * BARRIER_SHARE_LEN);
		assert_int_equal(wd_hex_decode(hex, strlen(hex), &decoded, &len), 0);
		assert_int_equal(wd_base64_decode(base64, strlen(base64), &from_base64, &base64_len), 0);
		assert_int_equal(len, BARRIER_SHARE_LEN);
		assert_int_equal(base64_len, BARRIER_SHARE_LEN);
		assert_memory_equal(decoded, from_base64, len);
		free(decoded);
		free(from_base64);
	}
	vault_response_clear(&resp);

	/* The root token was made while unsealed, after the service loaded,
	 * and the barrier is sealed again. */
	assert_int_equal(doubles.token_create_calls, 1);
	assert_false(doubles.sealed_during_token_create);
	assert_true(doubles.last_params.root);
	assert_string_equal(doubles.last_params.display_name, "root");
	assert_string_equal(doubles.last_params.path, "auth/token/root");
	assert_null(doubles.last_params.id);
	assert_int_equal(doubles.after_unseal_calls, 1);
	assert_int_equal(doubles.before_seal_calls, 1);
	assert_true(barrier_sealed(f->secrets.barrier));

	assert_int_equal(call(f, VAULT_OP_READ, "init", NULL, &resp, &err), 0);
	assert_bool_field(resp.raw, "initialized", true);
	vault_response_clear(&resp);

	assert_int_equal(call(f, VAULT_OP_UPDATE, "init",
		"{\"secret_shares\":1,\"secret_threshold\":1}", &resp, &err), WD_EEXIST);
	assert_string_equal(wd_error_text(&err), "Vault is already initialized");
}

static void test_init_rejects_body(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;
	struct barrier_status status;
	static const struct {
		const char *body;
		const char *message;
	} cases[] = {
		{ "{\"secret_shares\":2,\"secret_threshold\":3}",
			"secret_threshold 3 is above secret_shares 2" },
		{ "{}", "secret_shares 0 must be at least 1" },
		{ "{\"secret_shares\":300,\"secret_threshold\":3}",
			"secret_shares 300 is above the maximum of 255" },
		{ "{\"secret_shares\":5,\"secret_threshold\":3,\"pgp_keys\":[\"a\",\"b\"]}",
			"pgp_keys is not supported: warden returns the unseal keys unencrypted" },
		{ "{\"secret_shares\":5,\"secret_threshold\":3,\"root_token_pgp_key\":\"k\"}",
			"root_token_pgp_key is not supported: warden returns the root token unencrypted" },
		{ "{\"secret_shares\":5,\"secret_threshold\":3,\"stored_shares\":1}",
			"stored_shares is not supported: the shamir seal stores no shares" },
		{ "{\"secret_shares\":5,\"secret_threshold\":3,\"recovery_shares\":2}",
			"recovery_shares is not supported: recovery keys exist only with auto-unseal" },
		{ "{\"secret_shares\":5,\"secret_threshold\":3,\"pgp_keys\":7}",
			"pgp_keys must be an array" },
		{ "{\"secret_shares\":5,\"secret_threshold\":3,\"root_token_pgp_key\":[]}",
			"root_token_pgp_key must be a string" },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		assert_int_equal(call(f, VAULT_OP_UPDATE, "init", cases[i].body, &resp, &err),
			WD_EINVAL);
		assert_string_equal(wd_error_text(&err), cases[i].message);
		assert_null(resp.raw);
	}

	/* A count of the wrong type fails in the JSON getter, naming it. */
	assert_int_equal(call(f, VAULT_OP_UPDATE, "init",
		"{\"secret_shares\":\"5\",\"secret_threshold\":3}", &resp, &err), WD_EINVAL);
	assert_non_null(strstr(wd_error_text(&err), "secret_shares"));

	barrier_status(f->secrets.barrier, &status);
	assert_false(status.initialized);
	assert_int_equal(doubles.token_create_calls, 0);
}

/* When the service fails to load during init, the init is undone so that
 * it can be tried again. */
static void test_init_failure_resets(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;
	struct barrier_status status;

	doubles.after_unseal_fails = true;
	assert_int_equal(call(f, VAULT_OP_UPDATE, "init",
		"{\"secret_shares\":3,\"secret_threshold\":2}", &resp, &err), WD_ESTORE);
	assert_string_equal(wd_error_text(&err), "loading the mount table failed");
	assert_null(resp.raw);
	assert_int_equal(doubles.token_create_calls, 0);
	barrier_status(f->secrets.barrier, &status);
	assert_false(status.initialized);
	assert_true(status.sealed);

	doubles.after_unseal_fails = false;
	init_ok(f, 3, 2);
	assert_int_equal(doubles.token_create_calls, 1);
}

static void test_unseal_progress(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;
	char upper[80];
	char nonce[37];

	init_ok(f, 5, 3);
	doubles.after_unseal_calls = 0;

	/* Hex, base64, then hex in capitals: Go's hex decoder takes both. */
	assert_int_equal(unseal(f, key_at(f->keys, 0), &resp, &err), 0);
	assert_bool_field(resp.raw, "sealed", true);
	assert_int_field(resp.raw, "t", 3);
	assert_int_field(resp.raw, "n", 5);
	assert_int_field(resp.raw, "progress", 1);
	assert_int_equal(strlen(json_string_value(json_object_get(resp.raw, "nonce"))), 36);
	snprintf(nonce, sizeof(nonce), "%s", json_string_value(json_object_get(resp.raw, "nonce")));
	vault_response_clear(&resp);

	assert_int_equal(unseal(f, key_at(f->keys_base64, 3), &resp, &err), 0);
	assert_int_field(resp.raw, "progress", 2);
	assert_string_field(resp.raw, "nonce", nonce);
	vault_response_clear(&resp);
	assert_int_equal(doubles.after_unseal_calls, 0);

	snprintf(upper, sizeof(upper), "%s", key_at(f->keys, 4));
	for (char *c = upper; *c; c++) {
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	}
	assert_int_equal(unseal(f, upper, &resp, &err), 0);
	assert_bool_field(resp.raw, "sealed", false);
	assert_int_field(resp.raw, "progress", 0);
	assert_string_field(resp.raw, "nonce", "");
	assert_true(json_is_string(json_object_get(resp.raw, "cluster_name")));
	assert_int_equal(strncmp(json_string_value(json_object_get(resp.raw, "cluster_name")),
		"vault-cluster-", 14), 0);
	assert_int_equal(strlen(json_string_value(json_object_get(resp.raw, "cluster_id"))), 36);
	vault_response_clear(&resp);
	assert_int_equal(doubles.after_unseal_calls, 1);

	/* A key sent while unsealed only returns the status. */
	assert_int_equal(unseal(f, key_at(f->keys, 1), &resp, &err), 0);
	assert_bool_field(resp.raw, "sealed", false);
	vault_response_clear(&resp);
	assert_int_equal(doubles.after_unseal_calls, 1);
}

/* The cluster identity made at init stays the same across seals. */
static void test_cluster_identity_stable(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;
	char name[64];
	char id[37];

	init_ok(f, 1, 1);
	assert_int_equal(unseal(f, key_at(f->keys, 0), &resp, &err), 0);
	snprintf(name, sizeof(name), "%s", json_string_value(json_object_get(resp.raw,
		"cluster_name")));
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(resp.raw, "cluster_id")));
	vault_response_clear(&resp);
	assert_int_equal(strlen(name), strlen("vault-cluster-") + 8);

	assert_int_equal(call(f, VAULT_OP_UPDATE, "seal", NULL, &resp, &err), 0);
	assert_int_equal(unseal(f, key_at(f->keys_base64, 0), &resp, &err), 0);
	vault_response_clear(&resp);
	assert_int_equal(call(f, VAULT_OP_READ, "seal-status", NULL, &resp, &err), 0);
	assert_string_field(resp.raw, "cluster_name", name);
	assert_string_field(resp.raw, "cluster_id", id);
	vault_response_clear(&resp);
}

static void test_unseal_errors(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;
	char wrong[80];

	/* Before init. */
	assert_int_equal(unseal(f, "00112233445566778899aabbccddeeff", &resp, &err),
		WD_ECONFLICT);
	assert_string_equal(wd_error_text(&err), "Vault is not initialized");
	assert_int_equal(vault_error_status(WD_ECONFLICT), 400);

	init_ok(f, 3, 2);

	assert_int_equal(call(f, VAULT_OP_UPDATE, "unseal", "{}", &resp, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err),
		"'key' must be specified in request body as JSON, or 'reset' set to true");
	assert_int_equal(unseal(f, "not a key!", &resp, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "'key' must be a valid hex or base64 string");
	assert_int_equal(call(f, VAULT_OP_UPDATE, "unseal", "{\"key\":\"aa\",\"migrate\":true}",
		&resp, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err),
		"migrate is not supported: warden has only the shamir seal");
	assert_int_equal(call(f, VAULT_OP_READ, "unseal", NULL, &resp, &err), WD_EUNSUPPORTED);

	/* 16 bytes of hex is a valid encoding but not a share. */
	assert_int_equal(unseal(f, "00112233445566778899aabbccddeeff", &resp, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "unseal key is 16 bytes, expected 33");

	/* A share with one changed hex digit: 400 "Unseal failed, invalid key"
	 * once the threshold is reached, and the progress starts over. */
	snprintf(wrong, sizeof(wrong), "%s", key_at(f->keys, 1));
	wrong[0] = wrong[0] == '0' ? '1' : '0';
	assert_int_equal(unseal(f, key_at(f->keys, 0), &resp, &err), 0);
	vault_response_clear(&resp);
	assert_int_equal(unseal(f, wrong, &resp, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "Unseal failed, invalid key");
	assert_null(resp.raw);
	assert_int_equal(call(f, VAULT_OP_READ, "seal-status", NULL, &resp, &err), 0);
	assert_int_field(resp.raw, "progress", 0);
	assert_bool_field(resp.raw, "sealed", true);
	vault_response_clear(&resp);

	/* reset clears a started attempt. */
	assert_int_equal(unseal(f, key_at(f->keys, 2), &resp, &err), 0);
	assert_int_field(resp.raw, "progress", 1);
	vault_response_clear(&resp);
	assert_int_equal(call(f, VAULT_OP_UPDATE, "unseal", "{\"reset\":true,\"key\":null}", &resp,
		&err), 0);
	assert_int_field(resp.raw, "progress", 0);
	vault_response_clear(&resp);
	assert_int_equal(doubles.after_unseal_calls, 1);
}

static void test_seal(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	init_ok(f, 1, 1);
	doubles.before_seal_calls = 0;

	/* Sealing a sealed barrier is the sealed error. */
	assert_int_equal(call(f, VAULT_OP_UPDATE, "seal", NULL, &resp, &err), WD_EUNAVAILABLE);
	assert_string_equal(wd_error_text(&err), "Vault is sealed");

	assert_int_equal(unseal(f, key_at(f->keys, 0), &resp, &err), 0);
	vault_response_clear(&resp);
	assert_int_equal(call(f, VAULT_OP_READ, "seal", NULL, &resp, &err), WD_EUNSUPPORTED);
	assert_false(barrier_sealed(f->secrets.barrier));

	assert_int_equal(call(f, VAULT_OP_UPDATE, "seal", NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 204);
	assert_null(resp.raw);
	assert_true(barrier_sealed(f->secrets.barrier));
	assert_int_equal(doubles.before_seal_calls, 1);
}

/* What the identity callback received. */
static struct {
	int calls;
	uint8_t kek[SECRETS_IDENTITY_KEK_LEN];
} identity;

static void record_identity_kek(void *arg, const uint8_t kek[SECRETS_IDENTITY_KEK_LEN])
{
	(void)arg;
	identity.calls++;
	memcpy(identity.kek, kek, SECRETS_IDENTITY_KEK_LEN);
}

/* The identity key-encryption key is made by the first operator unseal, not
 * by the unseal inside init, and handed out again after each unseal. */
static void test_unseal_hands_identity_kek(void **state)
{
	static const uint8_t zero[SECRETS_IDENTITY_KEK_LEN] = { 0 };
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;
	uint8_t first[SECRETS_IDENTITY_KEK_LEN];
	uint8_t *stored = NULL;
	size_t stored_len = 0;

	memset(&identity, 0, sizeof(identity));
	f->secrets.config.on_unseal = record_identity_kek;
	init_ok(f, 1, 1);
	assert_int_equal(identity.calls, 0);

	assert_int_equal(unseal(f, key_at(f->keys, 0), &resp, &err), 0);
	vault_response_clear(&resp);
	assert_int_equal(identity.calls, 1);
	assert_memory_not_equal(identity.kek, zero, sizeof(zero));
	assert_int_equal(barrier_get(f->secrets.barrier, "core/identity-kek", &stored, &stored_len,
		&err), 0);
	assert_int_equal(stored_len, SECRETS_IDENTITY_KEK_LEN);
	assert_memory_equal(stored, identity.kek, SECRETS_IDENTITY_KEK_LEN);
	barrier_value_free(stored, stored_len);
	memcpy(first, identity.kek, sizeof(first));

	assert_int_equal(call(f, VAULT_OP_UPDATE, "seal", NULL, &resp, &err), 0);
	assert_int_equal(unseal(f, key_at(f->keys, 0), &resp, &err), 0);
	vault_response_clear(&resp);
	assert_int_equal(identity.calls, 2);
	assert_memory_equal(identity.kek, first, sizeof(first));
}

static void test_health_states(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	init_ok(f, 1, 1);
	assert_int_equal(call(f, VAULT_OP_HEAD, "health", NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 503);
	assert_bool_field(resp.raw, "initialized", true);
	assert_bool_field(resp.raw, "sealed", true);
	assert_null(json_object_get(resp.raw, "cluster_id"));
	vault_response_clear(&resp);

	assert_int_equal(unseal(f, key_at(f->keys, 0), &resp, &err), 0);
	vault_response_clear(&resp);
	assert_int_equal(call(f, VAULT_OP_READ, "health", NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 200);
	assert_bool_field(resp.raw, "sealed", false);
	assert_true(json_is_string(json_object_get(resp.raw, "cluster_name")));
	assert_true(json_is_string(json_object_get(resp.raw, "cluster_id")));
	vault_response_clear(&resp);

	assert_int_equal(call(f, VAULT_OP_UPDATE, "health", NULL, &resp, &err), WD_EUNSUPPORTED);
}

/* Query parameters as a NULL-terminated list of name, value pairs. */
static const char *query_pairs(void *context, const char *name)
{
	const char *const *pairs = context;

	for (size_t i = 0; pairs[i]; i += 2) {
		if (strcmp(pairs[i], name) == 0)
			return pairs[i + 1];
	}
	return NULL;
}

static void test_health_code_overrides(void **state)
{
	const char *const none[] = { NULL };
	const char *const codes[] = { "activecode", "299", "sealedcode", "200", "uninitcode", "204",
		"standbyok", "true", NULL };
	const char *const bad_code[] = { "sealedcode", "abc", NULL };
	const char *const small_code[] = { "activecode", "199", NULL };
	const char *const bad_bool[] = { "standbyok", "yes", NULL };
	const char *const bad_standby[] = { "standbycode", "9999", NULL };
	struct wd_error err;
	int code = 0;

	(void)state;
	assert_int_equal(sys_health_code(true, false, query_pairs, (void *)none, &code, &err), 0);
	assert_int_equal(code, 200);
	assert_int_equal(sys_health_code(true, true, query_pairs, (void *)none, &code, &err), 0);
	assert_int_equal(code, 503);
	assert_int_equal(sys_health_code(false, true, query_pairs, (void *)none, &code, &err), 0);
	assert_int_equal(code, 501);

	assert_int_equal(sys_health_code(true, false, query_pairs, (void *)codes, &code, &err), 0);
	assert_int_equal(code, 299);
	assert_int_equal(sys_health_code(true, true, query_pairs, (void *)codes, &code, &err), 0);
	assert_int_equal(code, 200);
	assert_int_equal(sys_health_code(false, true, query_pairs, (void *)codes, &code, &err), 0);
	assert_int_equal(code, 204);

	assert_int_equal(sys_health_code(true, true, query_pairs, (void *)bad_code, &code, &err),
		WD_EINVAL);
	assert_string_equal(wd_error_text(&err),
		"invalid sealedcode \"abc\": expected an HTTP status code from 200 to 599");
	assert_int_equal(sys_health_code(true, false, query_pairs, (void *)small_code, &code, &err),
		WD_EINVAL);
	assert_int_equal(sys_health_code(true, false, query_pairs, (void *)bad_bool, &code, &err),
		WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "invalid standbyok \"yes\": expected true or false");
	assert_int_equal(sys_health_code(true, false, query_pairs, (void *)bad_standby, &code,
		&err), WD_EINVAL);
}

static void test_routes(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	assert_true(sys_seal_unauthenticated("init"));
	assert_true(sys_seal_unauthenticated("unseal"));
	assert_true(sys_seal_unauthenticated("seal-status"));
	assert_true(sys_seal_unauthenticated("health"));
	assert_false(sys_seal_unauthenticated("seal"));
	assert_false(sys_seal_unauthenticated("init/x"));
	assert_false(sys_seal_unauthenticated("mounts"));
	assert_false(sys_seal_unauthenticated(""));

	assert_int_equal(call(f, VAULT_OP_READ, "seal-status/x", NULL, &resp, &err), WD_ENOTFOUND);
	assert_string_equal(wd_error_text(&err),
		"no handler for route \"sys/seal-status/x\". route entry not found.");
	assert_int_equal(call(f, VAULT_OP_UPDATE, "seal-status", NULL, &resp, &err),
		WD_EUNSUPPORTED);
	assert_int_equal(call(f, VAULT_OP_DELETE, "init", NULL, &resp, &err), WD_EUNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uninitialized_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_rejects_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_failure_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unseal_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_identity_stable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unseal_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unseal_hands_identity_kek, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_code_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
