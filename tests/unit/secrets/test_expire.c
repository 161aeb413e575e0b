/* The expiration manager on a real barrier over a temporary SQLite store:
 * durable registration, revocation at expiry through the mount's backend,
 * backoff and irrevocable marking, prefix and token revocation, restore
 * after a reopen and the sys/leases endpoints. The backend is a test
 * vault_backend whose lease_revoke records its calls and fails on demand,
 * the interface the manager drives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/time.h"
#include "secrets/barrier.h"
#include "secrets/expire.h"
#include "secrets/expire_internal.h"
#include "secrets/token.h"
#include "store/store.h"
#include "../store/test_datastore.h"

/* --- The test backend --- */

static struct {
	int revoke_calls;
	int fail_code;            /* 0: lease_revoke succeeds */
	char last_username[64];
	int renew_calls;
	int64_t renew_ttl;        /* what lease_renew grants */
	int64_t last_increment;
} backend;

static int test_lease_revoke(struct secrets *secrets, struct vault_mount *mount,
	const json_t *internal, struct wd_error *err)
{
	const char *user = json_string_value(json_object_get(internal, "username"));

	(void)secrets;
	(void)mount;
	backend.revoke_calls++;
	snprintf(backend.last_username, sizeof(backend.last_username), "%s", user ? user : "");
	if (backend.fail_code)
		return wd_error_set(err, backend.fail_code, "role \"%s\" is still in use",
			user ? user : "");
	return 0;
}

static int test_lease_renew(struct secrets *secrets, struct vault_mount *mount,
	const json_t *internal, int64_t issue_time, int64_t increment, int64_t *ret_ttl,
	struct wd_error *err)
{
	(void)secrets;
	(void)mount;
	(void)internal;
	(void)issue_time;
	(void)err;
	backend.renew_calls++;
	backend.last_increment = increment;
	*ret_ttl = backend.renew_ttl;
	return 0;
}

static const struct vault_backend test_backend = {
	.type = "test",
	.lease_revoke = test_lease_revoke,
	.lease_renew = test_lease_renew,
};

/* --- Fixture: store, barrier, one mount, the manager --- */

struct fixture {
	char dir[64];
	char db[96];
	struct store *store;
	uint8_t share[BARRIER_SHARE_LEN];
	struct secrets secrets;
	struct vault_mount mount;
	struct vault_mount *mounts[1];
};

static void open_service(struct fixture *f, bool init)
{
	struct wd_error err;

	wd_error_clear(&err);
	assert_int_equal(store_open(f->db, NULL, &f->store, &err), 0);
	f->secrets.store = f->store;
	assert_int_equal(barrier_open(f->store, &f->secrets.barrier, &err), 0);

	if (init) {
		uint8_t **shares = NULL;

		assert_int_equal(barrier_init(f->secrets.barrier, 1, 1, &shares, &err), 0);
		memcpy(f->share, shares[0], BARRIER_SHARE_LEN);
		barrier_shares_free(shares, 1);
	}
	bool unsealed = false;
	assert_int_equal(barrier_unseal(f->secrets.barrier, f->share, BARRIER_SHARE_LEN, false,
		&unsealed, &err), 0);
	assert_true(unsealed);

	f->secrets.mounts = f->mounts;
	f->secrets.mount_count = 1;
	assert_int_equal(expiration_open(&f->secrets, &f->secrets.expiration, &err), 0);
	assert_int_equal(expire_restore(&f->secrets, &err), 0);
}

static void close_service(struct fixture *f)
{
	expire_unload(&f->secrets);
	expiration_free(f->secrets.expiration);
	f->secrets.expiration = NULL;
	barrier_free(f->secrets.barrier);
	f->secrets.barrier = NULL;
	store_close(f->store);
	f->store = NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_expire.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	test_datastore_setup(f->db, sizeof(f->db), f->dir, "store.db");

	snprintf(f->mount.path, sizeof(f->mount.path), "test/");
	snprintf(f->mount.accessor, sizeof(f->mount.accessor), "test_0a1b2c3d");
	f->mount.backend = &test_backend;
	f->mounts[0] = &f->mount;

	memset(&backend, 0, sizeof(backend));
	open_service(f, true);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	close_service(f);
	snprintf(path, sizeof(path), "%s/store.db", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-wal", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-shm", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Registers a lease for a secret made at path, owned by token_hash (NULL:
 * no token), and returns its id in out. */
static void register_lease(struct fixture *f, const char *path, const char *token_hash,
	int64_t ttl, bool renewable, const char *username, char out[VAULT_LEASE_ID_MAX])
{
	struct vault_token token = { 0 };
	struct vault_request req = { .op = VAULT_OP_READ, .path = (char *)path,
		.mount = &f->mount };
	struct vault_response resp = { 0 };
	json_t *internal = json_pack("{s:s}", "username", username);
	struct wd_error err;

	wd_error_clear(&err);
	if (token_hash) {
		snprintf(token.hash, sizeof(token.hash), "%s", token_hash);
		req.token = &token;
	}
	assert_int_equal(expire_register(&f->secrets, &req, ttl, renewable, internal, &resp, &err),
		0);
	json_decref(internal);
	assert_int_equal(resp.lease_duration, ttl);
	assert_int_equal(resp.renewable, renewable);
	snprintf(out, VAULT_LEASE_ID_MAX, "%s", resp.lease_id);
}

static struct lease *load(struct fixture *f, const char *lease_id)
{
	struct lease *lease = NULL;
	struct wd_error err;

	wd_error_clear(&err);
	if (expire_lease_load(&f->secrets, lease_id, &lease, &err) < 0)
		return NULL;
	return lease;
}

static bool stored(struct fixture *f, const char *key)
{
	uint8_t *value = NULL;
	size_t len = 0;
	int rc = barrier_get(f->secrets.barrier, key, &value, &len, NULL);

	barrier_value_free(value, len);
	return rc == 0;
}

/* Calls a sys/ endpoint; body is JSON text or NULL. */
static int call_sys(struct fixture *f, enum vault_op op, const char *rel, const char *body,
	struct vault_response *resp, struct wd_error *err)
{
	struct vault_request req = { .op = op, .rel = rel };
	int rc;

	memset(resp, 0, sizeof(*resp));
	wd_error_clear(err);
	req.body = body ? json_loads(body, 0, NULL) : json_object();
	assert_non_null(req.body);
	rc = expire_handle_sys(&f->secrets, &req, resp, err);
	json_decref(req.body);
	return rc;
}

static const char token_a[] =
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char token_b[] =
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* --- Registration and durability --- */

static void test_register_is_durable(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char key[EXPIRE_KEY_MAX];
	struct lease *lease;
	const char *suffix;

	register_lease(f, "test/creds/app", token_a, 3600, true, "v-app-1", id);

	/* "<path>/<24 base62>" */
	assert_int_equal(strncmp(id, "test/creds/app/", 15), 0);
	suffix = id + 15;
	assert_int_equal(strlen(suffix), VAULT_RANDOM_ID_LEN);
	assert_int_equal(strspn(suffix, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
		VAULT_RANDOM_ID_LEN);

	/* The record and its token index are in the barrier at once. */
	assert_int_equal(expire_id_key(id, key, sizeof(key)), 0);
	assert_true(stored(f, key));
	assert_int_equal(expire_token_key(token_a, id, key, sizeof(key)), 0);
	assert_true(stored(f, key));

	/* A reopened store restores it, with every field. */
	close_service(f);
	open_service(f, false);
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 1);
	lease = load(f, id);
	assert_non_null(lease);
	assert_string_equal(lease->path, "test/creds/app");
	assert_string_equal(lease->mount, "test/");
	assert_string_equal(lease->token_hash, token_a);
	assert_int_equal(lease->expire_time - lease->issue_time, 3600);
	assert_true(lease->renewable);
	assert_string_equal(json_string_value(json_object_get(lease->internal, "username")),
		"v-app-1");
	assert_int_equal(lease->attempts, 0);
	assert_false(lease->irrevocable);
	expire_lease_free(lease);
}

static void test_register_without_token(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct lease *lease;

	register_lease(f, "test/creds/app", NULL, 60, false, "v-app-2", id);
	lease = load(f, id);
	assert_non_null(lease);
	assert_string_equal(lease->token_hash, "");
	assert_false(lease->renewable);
	expire_lease_free(lease);
}

static void test_register_when_sealed(void **state)
{
	struct fixture *f = *state;
	struct vault_request req = { .path = "test/creds/app", .mount = &f->mount };
	struct vault_response resp = { 0 };
	struct wd_error err;

	barrier_seal(f->secrets.barrier);
	wd_error_clear(&err);
	assert_int_equal(expire_register(&f->secrets, &req, 60, true, NULL, &resp, &err),
		WD_EUNAVAILABLE);
	assert_string_equal(err.detail, "Vault is sealed");
	assert_string_equal(resp.lease_id, "");
}

static void test_update_internal_and_forget(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char key[EXPIRE_KEY_MAX];
	json_t *internal = json_pack("{s:s}", "username", "v-final");
	struct lease *lease;
	struct wd_error err;

	register_lease(f, "test/creds/app", token_a, 60, true, "v-draft", id);
	assert_int_equal(expire_update_internal(&f->secrets, id, internal, &err), 0);
	json_decref(internal);
	lease = load(f, id);
	assert_string_equal(json_string_value(json_object_get(lease->internal, "username")),
		"v-final");
	expire_lease_free(lease);

	assert_int_equal(expire_forget(&f->secrets, id, &err), 0);
	assert_null(load(f, id));
	assert_int_equal(expire_token_key(token_a, id, key, sizeof(key)), 0);
	assert_false(stored(f, key));
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 0);
	assert_int_equal(backend.revoke_calls, 0);

	/* Forgetting an unknown lease is not an error. */
	assert_int_equal(expire_forget(&f->secrets, id, &err), 0);
}

/* --- Expiry, retries, irrevocable --- */

static void test_tick_revokes_at_expiry(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char key[EXPIRE_KEY_MAX];
	struct lease *lease;
	int64_t expire_time;

	register_lease(f, "test/creds/app", token_a, 5, true, "v-app-3", id);
	lease = load(f, id);
	expire_time = lease->expire_time;
	expire_lease_free(lease);

	expire_tick(&f->secrets, expire_time - 1);
	assert_int_equal(backend.revoke_calls, 0);
	assert_non_null((lease = load(f, id)));
	expire_lease_free(lease);

	expire_tick(&f->secrets, expire_time);
	assert_int_equal(backend.revoke_calls, 1);
	assert_string_equal(backend.last_username, "v-app-3");
	assert_null(load(f, id));
	assert_int_equal(expire_token_key(token_a, id, key, sizeof(key)), 0);
	assert_false(stored(f, key));
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 0);

	/* Nothing left to do on later ticks. */
	expire_tick(&f->secrets, expire_time + 100);
	assert_int_equal(backend.revoke_calls, 1);
}

static void test_retry_backoff_bounds(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct lease *lease;
	int64_t now;

	register_lease(f, "test/creds/app", NULL, 5, true, "v-app-4", id);
	lease = load(f, id);
	now = lease->expire_time;
	expire_lease_free(lease);
	backend.fail_code = WD_EIO;

	/* After failure n the next try comes 2^n x 10 s later, +-50 %. */
	for (int attempt = 1; attempt < EXPIRE_MAX_ATTEMPTS; attempt++) {
		int64_t base = ((int64_t)1 << attempt) * EXPIRE_BACKOFF_BASE_SECONDS;

		expire_tick(&f->secrets, now);
		assert_int_equal(backend.revoke_calls, attempt);
		lease = load(f, id);
		assert_non_null(lease);
		assert_int_equal(lease->attempts, attempt);
		assert_false(lease->irrevocable);
		assert_in_range(lease->next_attempt, now + base / 2, now + base + base / 2);

		/* Not before its time. */
		expire_tick(&f->secrets, lease->next_attempt - 1);
		assert_int_equal(backend.revoke_calls, attempt);
		now = lease->next_attempt;
		expire_lease_free(lease);
	}
}

static void test_backoff_jitter_spread(void **state)
{
	int64_t low = INT64_MAX, high = 0;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		int64_t delay = expire_backoff_seconds(2);

		assert_in_range(delay, 20, 60);
		low = delay < low ? delay : low;
		high = delay > high ? delay : high;
	}
	/* The jitter covers the range rather than one point. */
	assert_true(low <= 25);
	assert_true(high >= 55);
}

/* Fails every try until the lease is irrevocable; returns the time of the
 * last try. */
static int64_t fail_until_irrevocable(struct fixture *f, const char *id)
{
	struct lease *lease = load(f, id);
	int64_t now = lease->expire_time;

	expire_lease_free(lease);
	backend.fail_code = WD_EIO;
	for (int attempt = 1; attempt <= EXPIRE_MAX_ATTEMPTS; attempt++) {
		expire_tick(&f->secrets, now);
		lease = load(f, id);
		if (attempt < EXPIRE_MAX_ATTEMPTS)
			now = lease->next_attempt;
		expire_lease_free(lease);
	}
	return now;
}

static void test_irrevocable_after_six_failures(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct vault_response resp;
	struct wd_error err;
	struct lease *lease;
	int64_t last;
	json_t *entry;

	register_lease(f, "test/creds/app", NULL, 5, true, "v-app-5", id);
	last = fail_until_irrevocable(f, id);
	assert_int_equal(backend.revoke_calls, EXPIRE_MAX_ATTEMPTS);

	lease = load(f, id);
	assert_non_null(lease);
	assert_true(lease->irrevocable);
	assert_int_equal(lease->attempts, EXPIRE_MAX_ATTEMPTS);
	assert_string_equal(lease->revoke_err, "out of retries: role \"v-app-5\" is still in use");
	assert_int_equal(lease->next_attempt, last + EXPIRE_IRREVOCABLE_RETRY_SECONDS);
	expire_lease_free(lease);

	/* Kept and counted, and retried only a day later. */
	expire_tick(&f->secrets, last + EXPIRE_IRREVOCABLE_RETRY_SECONDS - 1);
	assert_int_equal(backend.revoke_calls, EXPIRE_MAX_ATTEMPTS);
	assert_int_equal(expire_schedule_irrevocable_count(f->secrets.expiration->schedule), 1);

	assert_int_equal(call_sys(f, VAULT_OP_READ, "leases/count",
		"{\"type\":\"irrevocable\"}", &resp, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(resp.data, "lease_count")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(resp.data, "counts"),
		"test_0a1b2c3d")), 1);
	vault_response_clear(&resp);

	assert_int_equal(call_sys(f, VAULT_OP_READ, "leases", "{\"type\":\"irrevocable\"}", &resp,
		&err), 0);
	assert_int_equal(json_integer_value(json_object_get(resp.data, "lease_count")), 1);
	entry = json_array_get(json_object_get(resp.data, "leases"), 0);
	assert_string_equal(json_string_value(json_object_get(entry, "lease_id")), id);
	assert_string_equal(json_string_value(json_object_get(entry, "mount_id")), "test_0a1b2c3d");
	assert_string_equal(json_string_value(json_object_get(entry, "error")),
		"out of retries: role \"v-app-5\" is still in use");
	vault_response_clear(&resp);

	/* Any type other than irrevocable is a 404 with no message. */
	assert_int_equal(call_sys(f, VAULT_OP_READ, "leases/count", "{\"type\":\"all\"}", &resp,
		&err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "");

	/* The daily retry succeeds once the backend recovers. */
	backend.fail_code = 0;
	expire_tick(&f->secrets, last + EXPIRE_IRREVOCABLE_RETRY_SECONDS);
	assert_int_equal(backend.revoke_calls, EXPIRE_MAX_ATTEMPTS + 1);
	assert_null(load(f, id));
	assert_int_equal(expire_schedule_irrevocable_count(f->secrets.expiration->schedule), 0);
}

static void test_unrecoverable_error_irrevocable(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct lease *lease;
	int64_t now;

	register_lease(f, "test/creds/app", NULL, 5, true, "v-app-6", id);
	lease = load(f, id);
	now = lease->expire_time;
	expire_lease_free(lease);

	backend.fail_code = WD_EINVAL;
	expire_tick(&f->secrets, now);
	lease = load(f, id);
	assert_true(lease->irrevocable);
	assert_int_equal(lease->attempts, 1);
	assert_string_equal(lease->revoke_err, "role \"v-app-6\" is still in use");
	expire_lease_free(lease);
}

static void test_mount_gone_is_irrevocable(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct lease *lease;
	int64_t now;

	register_lease(f, "test/creds/app", NULL, 5, true, "v-app-7", id);
	lease = load(f, id);
	now = lease->expire_time;
	expire_lease_free(lease);

	f->secrets.mount_count = 0;
	expire_tick(&f->secrets, now);
	f->secrets.mount_count = 1;
	assert_int_equal(backend.revoke_calls, 0);
	lease = load(f, id);
	assert_true(lease->irrevocable);
	assert_string_equal(lease->revoke_err, "mount \"test/\" of the lease no longer exists");
	expire_lease_free(lease);
}

static void test_revoke_err_is_capped(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char username[400];
	struct lease *lease;
	size_t used;

	/* "out of retries: role \"" is 22 bytes; one 'x' and two-byte 'é's
	 * put a character across the 240-byte cut, which drops it whole. */
	used = (size_t)snprintf(username, sizeof(username), "x");
	while (used + 2 < sizeof(username))
		used += (size_t)snprintf(username + used, sizeof(username) - used, "\xc3\xa9");
	register_lease(f, "test/creds/app", NULL, 5, true, username, id);

	fail_until_irrevocable(f, id);
	lease = load(f, id);
	assert_int_equal(strlen(lease->revoke_err), EXPIRE_REVOKE_ERR_MAX - 1);
	assert_int_equal(strncmp(lease->revoke_err, "out of retries: role \"x\xc3\xa9", 25), 0);
	assert_int_equal((unsigned char)lease->revoke_err[EXPIRE_REVOKE_ERR_MAX - 2], 0xa9);
	expire_lease_free(lease);

	/* The record with the capped text still loads as valid JSON. */
	close_service(f);
	open_service(f, false);
	assert_int_equal(expire_schedule_irrevocable_count(f->secrets.expiration->schedule), 1);
}

static void test_tick_work_is_bounded(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	int64_t later = wd_now() + 10;

	for (int i = 0; i < EXPIRE_TICK_REVOCATIONS + 6; i++)
		register_lease(f, "test/creds/app", NULL, 1, false, "v-many", id);

	expire_tick(&f->secrets, later);
	assert_int_equal(backend.revoke_calls, EXPIRE_TICK_REVOCATIONS);
	expire_tick(&f->secrets, later + 1);
	assert_int_equal(backend.revoke_calls, EXPIRE_TICK_REVOCATIONS + 6);
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 0);
}

/* --- Revocation on request --- */

static void test_revoke_prefix(void **state)
{
	struct fixture *f = *state;
	char a1[VAULT_LEASE_ID_MAX], a2[VAULT_LEASE_ID_MAX], a3[VAULT_LEASE_ID_MAX];
	char ab[VAULT_LEASE_ID_MAX], b1[VAULT_LEASE_ID_MAX];
	struct wd_error err;
	struct lease *lease;

	register_lease(f, "test/creds/a", NULL, 600, true, "v-a1", a1);
	register_lease(f, "test/creds/a", token_a, 600, true, "v-a2", a2);
	register_lease(f, "test/creds/a", NULL, 600, true, "v-a3", a3);
	register_lease(f, "test/creds/ab", NULL, 600, true, "v-ab", ab);
	register_lease(f, "test/creds/b", NULL, 600, true, "v-b1", b1);

	/* A failing backend stops a normal revoke-prefix and keeps the lease. */
	backend.fail_code = WD_EIO;
	wd_error_clear(&err);
	assert_int_equal(expire_revoke_prefix(&f->secrets, "test/creds/a", false, &err), WD_EIO);
	assert_non_null(strstr(err.detail, "failed to revoke lease \"test/creds/a/"));
	assert_int_equal(backend.revoke_calls, 1);
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 5);

	/* "test/creds/a" is the folder "test/creds/a/", not "test/creds/ab". */
	backend.fail_code = 0;
	backend.revoke_calls = 0;
	assert_int_equal(expire_revoke_prefix(&f->secrets, "test/creds/a", false, &err), 0);
	assert_int_equal(backend.revoke_calls, 3);
	assert_null(load(f, a1));
	assert_null(load(f, a2));
	assert_null(load(f, a3));
	assert_non_null((lease = load(f, ab)));
	expire_lease_free(lease);
	assert_non_null((lease = load(f, b1)));
	expire_lease_free(lease);

	/* A prefix that names one lease revokes that lease. */
	assert_int_equal(expire_revoke_prefix(&f->secrets, ab, false, &err), 0);
	assert_null(load(f, ab));

	/* Force deletes even when the backend fails. */
	backend.fail_code = WD_EIO;
	assert_int_equal(expire_revoke_prefix(&f->secrets, "test/", true, &err), 0);
	assert_null(load(f, b1));
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 0);

	assert_int_equal(expire_revoke_prefix(&f->secrets, "", false, &err), WD_EINVAL);
	assert_string_equal(err.detail, "prefix is required");
}

static void test_revoke_by_token(void **state)
{
	struct fixture *f = *state;
	char a1[VAULT_LEASE_ID_MAX], a2[VAULT_LEASE_ID_MAX], b1[VAULT_LEASE_ID_MAX];
	struct wd_error err;
	struct lease *lease;
	int64_t now = wd_now();

	register_lease(f, "test/creds/app", token_a, 3600, true, "v-a1", a1);
	register_lease(f, "test/creds/other", token_a, 3600, true, "v-a2", a2);
	register_lease(f, "test/creds/app", token_b, 3600, true, "v-b1", b1);

	wd_error_clear(&err);
	assert_int_equal(expire_revoke_by_token(&f->secrets, token_a, &err), 0);

	/* Both leases of token A are due now, durably; B's is untouched. */
	lease = load(f, a1);
	assert_in_range(lease->expire_time, now, now + 2);
	expire_lease_free(lease);
	lease = load(f, b1);
	assert_true(lease->expire_time >= now + 3599);
	expire_lease_free(lease);

	expire_tick(&f->secrets, now + 2);
	assert_int_equal(backend.revoke_calls, 2);
	assert_null(load(f, a1));
	assert_null(load(f, a2));
	assert_non_null((lease = load(f, b1)));
	expire_lease_free(lease);

	/* A token with no leases is fine. */
	assert_int_equal(expire_revoke_by_token(&f->secrets, token_a, &err), 0);
	assert_int_equal(expire_revoke_by_token(&f->secrets, "../x", &err), WD_EINVAL);
}

static void test_restore_revokes_expired(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char live[VAULT_LEASE_ID_MAX];
	struct lease *lease;
	int64_t expire_time;

	register_lease(f, "test/creds/app", token_a, 1, true, "v-expired", id);
	register_lease(f, "test/creds/app", token_a, 3600, true, "v-live", live);
	lease = load(f, id);
	expire_time = lease->expire_time;
	expire_lease_free(lease);

	/* The server stops before the lease expires and comes back after. */
	close_service(f);
	open_service(f, false);
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 2);
	expire_tick(&f->secrets, expire_time + 30);
	assert_int_equal(backend.revoke_calls, 1);
	assert_string_equal(backend.last_username, "v-expired");
	assert_null(load(f, id));
	assert_non_null((lease = load(f, live)));
	expire_lease_free(lease);
}

static void test_restore_skips_undecodable_record(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct wd_error err;
	json_t *junk = json_pack("{s:s}", "lease_id", "test/creds/app/broken");

	register_lease(f, "test/creds/app", NULL, 3600, true, "v-good", id);
	wd_error_clear(&err);
	assert_int_equal(barrier_put_json(f->secrets.barrier, "sys/expire/id/test/creds/app/broken",
		junk, &err), 0);
	json_decref(junk);

	close_service(f);
	open_service(f, false);
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 1);

	/* revoke-force removes the bad record without a backend call. */
	assert_int_equal(expire_revoke_prefix(&f->secrets, "test/creds/app/broken", true, &err), 0);
	assert_false(stored(f, "sys/expire/id/test/creds/app/broken"));
	assert_int_equal(backend.revoke_calls, 0);
}

/* --- sys/leases endpoints --- */

static void test_lookup(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char body[VAULT_LEASE_ID_MAX + 32];
	struct vault_response resp;
	struct wd_error err;
	const char *issue;

	register_lease(f, "test/creds/app", NULL, 600, true, "v-look", id);
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\"}", id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/lookup", body, &resp, &err), 0);
	assert_string_equal(json_string_value(json_object_get(resp.data, "id")), id);
	assert_string_equal(json_string_value(json_object_get(resp.data, "path")),
		"test/creds/app");
	assert_true(json_is_true(json_object_get(resp.data, "renewable")));
	assert_true(json_is_null(json_object_get(resp.data, "last_renewal")));
	assert_in_range(json_integer_value(json_object_get(resp.data, "ttl")), 598, 600);
	issue = json_string_value(json_object_get(resp.data, "issue_time"));
	assert_non_null(issue);
	/* RFC 3339 in UTC with nanoseconds: "2026-12-05T10:20:30.000000000Z". */
	assert_int_equal(strlen(issue), 30);
	assert_int_equal(issue[10], 'T');
	assert_int_equal(issue[29], 'Z');
	assert_null(json_object_get(resp.data, "revoke_error"));
	assert_null(json_object_get(resp.data, "internal"));
	vault_response_clear(&resp);

	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/lookup",
		"{\"lease_id\":\"test/creds/app/nope\"}", &resp, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid lease");
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/lookup", "{}", &resp, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "lease_id must be specified");
	assert_int_equal(call_sys(f, VAULT_OP_READ, "leases/lookup", NULL, &resp, &err),
		WD_EUNSUPPORTED);
}

static void test_lookup_list(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct vault_response resp;
	struct wd_error err;
	json_t *keys;

	register_lease(f, "test/creds/a", NULL, 600, true, "v-1", id);
	register_lease(f, "test/creds/b", NULL, 600, true, "v-2", id);

	assert_int_equal(call_sys(f, VAULT_OP_LIST, "leases/lookup/test/creds/", NULL, &resp, &err),
		0);
	keys = json_object_get(resp.data, "keys");
	assert_int_equal(json_array_size(keys), 2);
	assert_string_equal(json_string_value(json_array_get(keys, 0)), "a/");
	assert_string_equal(json_string_value(json_array_get(keys, 1)), "b/");
	vault_response_clear(&resp);

	/* Without the trailing '/' and from the top. */
	assert_int_equal(call_sys(f, VAULT_OP_LIST, "leases/lookup/test/creds/b", NULL, &resp,
		&err), 0);
	keys = json_object_get(resp.data, "keys");
	assert_int_equal(json_array_size(keys), 1);
	assert_string_equal(json_string_value(json_array_get(keys, 0)), id + strlen("test/creds/b/"));
	vault_response_clear(&resp);
	assert_int_equal(call_sys(f, VAULT_OP_LIST, "leases/lookup/", NULL, &resp, &err), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(resp.data, "keys"), 0)),
		"test/");
	vault_response_clear(&resp);

	assert_int_equal(call_sys(f, VAULT_OP_LIST, "leases/lookup/nothing/", NULL, &resp, &err),
		WD_ENOTFOUND);
	assert_string_equal(err.detail, "");
}

static void test_renew(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char body[VAULT_LEASE_ID_MAX + 64];
	struct vault_response resp;
	struct wd_error err;
	struct lease *lease;

	register_lease(f, "test/creds/app", NULL, 60, true, "v-renew", id);
	backend.renew_ttl = 300;

	/* hvac sends "increment": null when none is given. */
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\",\"increment\":null}", id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew", body, &resp, &err), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.lease_id, id);
	assert_true(resp.renewable);
	assert_int_equal(resp.lease_duration, 300);
	assert_null(resp.warnings);
	assert_int_equal(backend.last_increment, 0);
	vault_response_clear(&resp);

	lease = load(f, id);
	assert_int_equal(lease->expire_time, lease->last_renewal + 300);
	expire_lease_free(lease);

	/* The id may come in the URL, the increment as a duration. */
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew/", "{\"increment\":\"1h\"}",
		&resp, &err), WD_EINVAL);
	assert_string_equal(err.detail, "lease_id must be specified");
	snprintf(body, sizeof(body), "leases/renew/%s", id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, body, "{\"increment\":\"1h\"}", &resp, &err),
		0);
	assert_int_equal(backend.last_increment, 3600);
	vault_response_clear(&resp);

	/* Legacy sys/renew. */
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\",\"increment\":30}", id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "renew", body, &resp, &err), 0);
	assert_int_equal(backend.last_increment, 30);
	vault_response_clear(&resp);
}

static void test_renew_caps_ttl_with_warning(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char body[VAULT_LEASE_ID_MAX + 64];
	struct vault_response resp;
	struct wd_error err;

	f->mount.max_lease_ttl = 100;
	register_lease(f, "test/creds/app", NULL, 60, true, "v-cap", id);
	backend.renew_ttl = 3600;

	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\"}", id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew", body, &resp, &err), 0);
	/* Capped at issue time + 100 s, less the second that may have passed. */
	assert_in_range(resp.lease_duration, 99, 100);
	assert_int_equal(json_array_size(resp.warnings), 1);
	assert_string_equal(json_string_value(json_array_get(resp.warnings, 0)),
		"TTL of \"1h0m0s\" exceeded the effective max_ttl of \"1m40s\"; TTL value is capped "
		"accordingly");
	vault_response_clear(&resp);
	f->mount.max_lease_ttl = 0;
}

static void test_renew_capped_by_backend(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char body[VAULT_LEASE_ID_MAX + 64];
	struct vault_response resp;
	struct wd_error err;

	/* The backend grants less than requested, as a role's max_ttl would. */
	register_lease(f, "test/creds/app", NULL, 60, true, "v-role-cap", id);
	backend.renew_ttl = 50;
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\",\"increment\":3600}", id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew", body, &resp, &err), 0);
	assert_int_equal(resp.lease_duration, 50);
	assert_int_equal(json_array_size(resp.warnings), 1);
	assert_string_equal(json_string_value(json_array_get(resp.warnings, 0)),
		"TTL of \"1h0m0s\" exceeded the effective max_ttl of \"50s\"; TTL value is capped "
		"accordingly");
	vault_response_clear(&resp);

	/* No increment requested: nothing was capped, so no warning. */
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\"}", id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew", body, &resp, &err), 0);
	assert_null(resp.warnings);
	vault_response_clear(&resp);

	/* A zero grant is a refusal, not the mount's default TTL. */
	backend.renew_ttl = 0;
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew", body, &resp, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "lease is not renewable");
}

static void test_renew_refusals(void **state)
{
	struct fixture *f = *state;
	char fixed[VAULT_LEASE_ID_MAX], old[VAULT_LEASE_ID_MAX];
	char body[VAULT_LEASE_ID_MAX + 64];
	struct vault_response resp;
	struct wd_error err;
	struct lease *lease;

	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew",
		"{\"lease_id\":\"test/creds/app/nope\"}", &resp, &err), WD_EINVAL);
	assert_string_equal(err.detail, "lease not found");
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew",
		"{\"lease_id\":\"auth/token/create/abc\"}", &resp, &err), WD_EINVAL);
	assert_string_equal(err.detail, "tokens cannot be renewed through this endpoint");

	register_lease(f, "test/creds/app", NULL, 60, false, "v-fixed", fixed);
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\"}", fixed);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew", body, &resp, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "lease is not renewable");

	/* An expired lease the tick has not reached yet. */
	register_lease(f, "test/creds/app", NULL, 60, true, "v-old", old);
	lease = load(f, old);
	lease->expire_time = wd_now() - 5;
	assert_int_equal(expire_lease_save(&f->secrets, lease, &err), 0);
	expire_lease_free(lease);
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\"}", old);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew", body, &resp, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "lease expired");
	assert_int_equal(backend.renew_calls, 0);

	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\",\"increment\":-5}", fixed);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew", body, &resp, &err),
		WD_EINVAL);
}

static void test_renew_irrevocable_refused(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char body[VAULT_LEASE_ID_MAX + 64];
	struct vault_response resp;
	struct wd_error err;

	register_lease(f, "test/creds/app", NULL, 5, true, "v-stuck", id);
	fail_until_irrevocable(f, id);
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\"}", id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/renew", body, &resp, &err),
		WD_EINVAL);
	assert_string_equal(err.detail,
		"lease is expired and has failed previous revocation attempts");

	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/lookup", body, &resp, &err), 0);
	assert_string_equal(json_string_value(json_object_get(resp.data, "revoke_error")),
		"out of retries: role \"v-stuck\" is still in use");
	assert_true(json_is_false(json_object_get(resp.data, "renewable")));
	vault_response_clear(&resp);

	/* revoke-force through the API clears it. */
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/revoke-force/test/creds", NULL, &resp,
		&err), 0);
	assert_int_equal(resp.status, 0);
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 0);
}

static void test_revoke_endpoint(void **state)
{
	struct fixture *f = *state;
	char now_id[VAULT_LEASE_ID_MAX], later_id[VAULT_LEASE_ID_MAX];
	char body[VAULT_LEASE_ID_MAX + 64];
	struct vault_response resp;
	struct wd_error err;
	struct lease *lease;
	int64_t now = wd_now();

	register_lease(f, "test/creds/app", NULL, 600, true, "v-now", now_id);
	register_lease(f, "test/creds/app", NULL, 600, true, "v-later", later_id);

	/* No sync field: revoked before the reply, which is a 204. */
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\"}", now_id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/revoke", body, &resp, &err), 0);
	assert_int_equal(resp.status, 0);
	assert_null(resp.data);
	assert_int_equal(backend.revoke_calls, 1);
	assert_null(load(f, now_id));

	/* An unknown lease is a no-op 204. */
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/revoke", body, &resp, &err), 0);
	assert_int_equal(resp.status, 0);

	/* sync=false queues it: 202, revoked by the next tick. */
	snprintf(body, sizeof(body), "{\"lease_id\":\"%s\",\"sync\":false}", later_id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/revoke", body, &resp, &err), 0);
	assert_int_equal(resp.status, 202);
	assert_int_equal(backend.revoke_calls, 1);
	lease = load(f, later_id);
	assert_in_range(lease->expire_time, now, now + 2);
	expire_lease_free(lease);
	expire_tick(&f->secrets, now + 2);
	assert_int_equal(backend.revoke_calls, 2);
	assert_null(load(f, later_id));

	/* A failing backend is an error with the lease kept. */
	register_lease(f, "test/creds/app", NULL, 600, true, "v-fail", now_id);
	backend.fail_code = WD_EIO;
	snprintf(body, sizeof(body), "revoke/%s", now_id);
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, body, NULL, &resp, &err), WD_EIO);
	assert_non_null(strstr(err.detail, "role \"v-fail\" is still in use"));
	assert_non_null((lease = load(f, now_id)));
	expire_lease_free(lease);

	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/revoke",
		"{\"lease_id\":\"x\",\"sync\":\"maybe\"}", &resp, &err), WD_EINVAL);
}

static void test_revoke_prefix_endpoints(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct vault_response resp;
	struct wd_error err;
	int64_t now = wd_now();

	register_lease(f, "test/creds/a", NULL, 600, true, "v-1", id);
	register_lease(f, "test/creds/a", NULL, 600, true, "v-2", id);
	register_lease(f, "test/creds/b", NULL, 600, true, "v-3", id);

	/* hvac sends the prefix in the body as well. */
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/revoke-prefix/test/creds/a",
		"{\"prefix\":\"test/creds/a\"}", &resp, &err), 0);
	assert_int_equal(resp.status, 0);
	assert_int_equal(backend.revoke_calls, 2);

	/* The legacy path, asynchronously. */
	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "revoke-prefix/test/", "{\"sync\":false}",
		&resp, &err), 0);
	assert_int_equal(resp.status, 202);
	assert_int_equal(backend.revoke_calls, 2);
	expire_tick(&f->secrets, now + 2);
	assert_int_equal(backend.revoke_calls, 3);

	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/revoke-prefix/", NULL, &resp, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "prefix is required");
}

static void test_irrevocable_list_limit(void **state)
{
	struct fixture *f = *state;
	char ids[3][VAULT_LEASE_ID_MAX];
	struct vault_response resp;
	struct wd_error err;

	for (int i = 0; i < 3; i++)
		register_lease(f, "test/creds/app", NULL, 5, true, "v-x", ids[i]);
	backend.fail_code = WD_EINVAL;
	expire_tick(&f->secrets, wd_now() + 10);
	assert_int_equal(expire_schedule_irrevocable_count(f->secrets.expiration->schedule), 3);

	assert_int_equal(call_sys(f, VAULT_OP_READ, "leases",
		"{\"type\":\"irrevocable\",\"limit\":\"2\"}", &resp, &err), 0);
	assert_int_equal(json_array_size(json_object_get(resp.data, "leases")), 2);
	assert_int_equal(json_array_size(resp.warnings), 1);
	vault_response_clear(&resp);

	assert_int_equal(call_sys(f, VAULT_OP_READ, "leases",
		"{\"type\":\"irrevocable\",\"limit\":\"none\"}", &resp, &err), 0);
	assert_int_equal(json_array_size(json_object_get(resp.data, "leases")), 3);
	assert_null(resp.warnings);
	vault_response_clear(&resp);

	assert_int_equal(call_sys(f, VAULT_OP_READ, "leases",
		"{\"type\":\"irrevocable\",\"limit\":\"0\"}", &resp, &err), WD_EINVAL);
	assert_string_equal(err.detail, "limit must be 'none' or a positive integer");
	assert_int_equal(call_sys(f, VAULT_OP_READ, "leases", NULL, &resp, &err), WD_ENOTFOUND);
}

static void test_tidy_removes_dangling_index(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	char key[EXPIRE_KEY_MAX];
	struct vault_response resp;
	struct wd_error err;
	json_t *index = json_pack("{s:s}", "lease_id", "test/creds/app/gone");

	register_lease(f, "test/creds/app", token_a, 600, true, "v-keep", id);
	assert_int_equal(expire_token_key(token_a, "test/creds/app/gone", key, sizeof(key)), 0);
	wd_error_clear(&err);
	assert_int_equal(barrier_put_json(f->secrets.barrier, key, index, &err), 0);
	json_decref(index);

	assert_int_equal(call_sys(f, VAULT_OP_UPDATE, "leases/tidy", NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 202);
	assert_int_equal(json_array_size(resp.warnings), 1);
	vault_response_clear(&resp);
	assert_false(stored(f, key));
	assert_int_equal(expire_token_key(token_a, id, key, sizeof(key)), 0);
	assert_true(stored(f, key));
}

static void test_unknown_routes(void **state)
{
	struct fixture *f = *state;
	struct vault_response resp;
	struct wd_error err;

	assert_int_equal(call_sys(f, VAULT_OP_READ, "leases/nothing", NULL, &resp, &err),
		WD_ENOTFOUND);
	assert_string_equal(err.detail,
		"no handler for route \"sys/leases/nothing\". route entry not found.");
	assert_int_equal(call_sys(f, VAULT_OP_DELETE, "leases/revoke", NULL, &resp, &err),
		WD_EUNSUPPORTED);
}

/* --- Pieces --- */

static void test_token_key_escaping(void **state)
{
	char key[EXPIRE_KEY_MAX];
	char back[VAULT_LEASE_ID_MAX];

	(void)state;
	assert_int_equal(expire_token_key("ab", "db/creds/r%x/ID", key, sizeof(key)), 0);
	assert_string_equal(key, "sys/expire/token/ab/db%2Fcreds%2Fr%25x%2FID");
	assert_int_equal(expire_token_key_unescape("db%2Fcreds%2Fr%25x%2FID", back, sizeof(back)),
		0);
	assert_string_equal(back, "db/creds/r%x/ID");
	assert_int_equal(expire_token_key_unescape("db%2", back, sizeof(back)), WD_EINVAL);
	assert_int_equal(expire_token_key_unescape("a%41", back, sizeof(back)), WD_EINVAL);
	assert_int_equal(expire_token_key("ab", "x", key, 10), WD_ETOOBIG);
}

static void test_schedule_order(void **state)
{
	struct expire_schedule *schedule = NULL;
	char id[32];
	int64_t due, previous = -1;
	const char *first;
	size_t popped = 0;

	(void)state;
	assert_int_equal(expire_schedule_new(&schedule), 0);

	/* Insert out of order, move some, remove some. */
	for (int i = 0; i < 500; i++) {
		snprintf(id, sizeof(id), "l/%d", i);
		assert_int_equal(expire_schedule_set(schedule, id, (i * 7919) % 1000, i % 10 == 0), 0);
	}
	for (int i = 0; i < 500; i += 3) {
		snprintf(id, sizeof(id), "l/%d", i);
		assert_int_equal(expire_schedule_set(schedule, id, 2000 - i, false), 0);
	}
	for (int i = 1; i < 500; i += 5) {
		snprintf(id, sizeof(id), "l/%d", i);
		expire_schedule_remove(schedule, id);
	}
	assert_int_equal(expire_schedule_count(schedule), 400);
	assert_true(expire_schedule_find(schedule, "l/3", &due));
	assert_int_equal(due, 1997);
	assert_false(expire_schedule_find(schedule, "l/1", NULL));
	/* Multiples of 10 not multiples of 3 (and not removed) stay irrevocable. */
	assert_int_equal(expire_schedule_irrevocable_count(schedule), 33);

	while ((first = expire_schedule_first(schedule, &due))) {
		char copy[32];

		assert_true(due >= previous);
		previous = due;
		snprintf(copy, sizeof(copy), "%s", first);
		expire_schedule_remove(schedule, copy);
		popped++;
	}
	assert_int_equal(popped, 400);
	assert_int_equal(expire_schedule_irrevocable_count(schedule), 0);
	expire_schedule_free(schedule);
}

/* --- Claims on a shared datastore --- */

static void test_claim_decide_states(void **state)
{
	struct lease lease = { 0 };
	int64_t wait_until = -1;

	(void)state;
	/* Unclaimed: take it. */
	assert_int_equal(expire_claim_decide(&lease, "a", 1000, 10, &wait_until),
		EXPIRE_CLAIM_TAKE);
	assert_int_equal(wait_until, 0);

	/* This server's own claim: take it again. */
	snprintf(lease.claim_owner, sizeof(lease.claim_owner), "a");
	lease.claim_time = 999;
	assert_int_equal(expire_claim_decide(&lease, "a", 1000, 10, &wait_until),
		EXPIRE_CLAIM_TAKE);

	/* Another server's live claim: wait until it goes stale. */
	snprintf(lease.claim_owner, sizeof(lease.claim_owner), "b");
	assert_int_equal(expire_claim_decide(&lease, "a", 1000, 10, &wait_until),
		EXPIRE_CLAIM_WAIT);
	assert_int_equal(wait_until, 1009);
	assert_int_equal(expire_claim_decide(&lease, "a", 1008, 10, &wait_until),
		EXPIRE_CLAIM_WAIT);
	assert_int_equal(wait_until, 1009);

	/* Stale at exactly stale_after seconds. */
	assert_int_equal(expire_claim_decide(&lease, "a", 1009, 10, &wait_until),
		EXPIRE_CLAIM_TAKE);
	assert_int_equal(wait_until, 0);

	/* A claim from the future counts from now. */
	lease.claim_time = 5000;
	assert_int_equal(expire_claim_decide(&lease, "a", 1000, 10, &wait_until),
		EXPIRE_CLAIM_WAIT);
	assert_int_equal(wait_until, 1010);
}

/* Writes a claim by owner at claim_time into the stored lease, as a server
 * that died after its claim would have left it. */
static void store_claim(struct fixture *f, const char *id, const char *owner,
	int64_t claim_time)
{
	struct lease *lease = load(f, id);
	struct wd_error err;

	wd_error_clear(&err);
	assert_non_null(lease);
	snprintf(lease->claim_owner, sizeof(lease->claim_owner), "%s", owner);
	lease->claim_time = claim_time;
	assert_int_equal(expire_lease_save(&f->secrets, lease, &err), 0);
	expire_lease_free(lease);
}

static void test_claim_of_dead_server_taken_when_stale(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct lease *lease;
	int64_t expire_time;
	int64_t due = 0;

	f->secrets.config.node_id = "server-b";
	f->secrets.config.claim_stale_seconds = 10;
	register_lease(f, "test/creds/app", token_a, 5, true, "v-app-claimed", id);
	lease = load(f, id);
	expire_time = lease->expire_time;
	expire_lease_free(lease);

	/* server-a claimed it at expiry and died before deleting it. */
	store_claim(f, id, "server-a", expire_time);
	expire_tick(&f->secrets, expire_time + 2);
	assert_int_equal(backend.revoke_calls, 0);
	assert_true(expire_schedule_find(f->secrets.expiration->schedule, id, &due));
	assert_int_equal(due, expire_time + 10);
	lease = load(f, id);
	assert_non_null(lease);
	assert_string_equal(lease->claim_owner, "server-a");
	expire_lease_free(lease);

	/* Once the claim is stale this server claims it and revokes it. */
	expire_tick(&f->secrets, expire_time + 10);
	assert_int_equal(backend.revoke_calls, 1);
	assert_string_equal(backend.last_username, "v-app-claimed");
	assert_null(load(f, id));
	assert_int_equal(expire_schedule_count(f->secrets.expiration->schedule), 0);
}

static void test_claim_recorded_and_finish_checks_owner(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct lease *lease = NULL;
	struct lease *stored_lease;
	int64_t wait_until = 0;
	int64_t expire_time;
	struct wd_error err;

	wd_error_clear(&err);
	f->secrets.config.node_id = "server-b";
	f->secrets.config.claim_stale_seconds = 10;
	register_lease(f, "test/creds/app", NULL, 5, false, "v-app-finish", id);
	stored_lease = load(f, id);
	expire_time = stored_lease->expire_time;
	expire_lease_free(stored_lease);

	/* Not due: returned unclaimed. */
	assert_int_equal(expire_claim(&f->secrets, id, expire_time - 1, &lease, &wait_until, &err),
		0);
	assert_string_equal(lease->claim_owner, "");
	expire_lease_free(lease);

	assert_int_equal(expire_claim(&f->secrets, id, expire_time, &lease, &wait_until, &err), 0);
	assert_string_equal(lease->claim_owner, "server-b");
	assert_int_equal(lease->claim_time, expire_time);
	stored_lease = load(f, id);
	assert_string_equal(stored_lease->claim_owner, "server-b");
	expire_lease_free(stored_lease);

	/* Another server took the claim over: this one must not delete. */
	store_claim(f, id, "server-c", expire_time + 11);
	assert_int_equal(expire_claim_finish(&f->secrets, lease, &err), WD_ECONFLICT);
	assert_non_null((stored_lease = load(f, id)));
	expire_lease_free(stored_lease);

	/* server-c finishes it; a late finish from server-b finds nothing. */
	stored_lease = load(f, id);
	assert_int_equal(expire_claim_finish(&f->secrets, stored_lease, &err), 0);
	expire_lease_free(stored_lease);
	assert_null(load(f, id));
	assert_int_equal(expire_claim_finish(&f->secrets, lease, &err), WD_ENOTFOUND);
	assert_int_equal(expire_claim(&f->secrets, id, expire_time, &stored_lease, &wait_until,
		&err), WD_ENOTFOUND);
	expire_lease_free(lease);
}

static void test_failed_revocation_drops_claim(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct lease *lease;
	int64_t expire_time;

	f->secrets.config.node_id = "server-b";
	f->secrets.config.claim_stale_seconds = 10;
	register_lease(f, "test/creds/app", NULL, 5, false, "v-app-fails", id);
	lease = load(f, id);
	expire_time = lease->expire_time;
	expire_lease_free(lease);

	backend.fail_code = WD_EUNAVAILABLE;
	expire_tick(&f->secrets, expire_time);
	assert_int_equal(backend.revoke_calls, 1);
	lease = load(f, id);
	assert_non_null(lease);
	assert_int_equal(lease->attempts, 1);
	assert_string_equal(lease->claim_owner, "");
	assert_int_equal(lease->claim_time, 0);
	expire_lease_free(lease);
}

static void test_unknown_mount_retried_when_shared(void **state)
{
	struct fixture *f = *state;
	char id[VAULT_LEASE_ID_MAX];
	struct lease *lease;
	int64_t expire_time;

	f->secrets.config.node_id = "server-b";
	f->secrets.config.claim_stale_seconds = 10;
	register_lease(f, "test/creds/app", NULL, 5, false, "v-app-elsewhere", id);
	lease = load(f, id);
	expire_time = lease->expire_time;
	expire_lease_free(lease);

	/* This server's mount table lacks the mount another server made. */
	f->secrets.mount_count = 0;
	expire_tick(&f->secrets, expire_time);
	f->secrets.mount_count = 1;
	lease = load(f, id);
	assert_non_null(lease);
	assert_int_equal(lease->attempts, 1);
	assert_false(lease->irrevocable);
	assert_true(lease->next_attempt > expire_time);
	expire_lease_free(lease);
	assert_int_equal(backend.revoke_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_is_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_without_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_when_sealed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_internal_and_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick_revokes_at_expiry, setup, teardown),
		cmocka_unit_test(test_claim_decide_states),
		cmocka_unit_test_setup_teardown(test_claim_of_dead_server_taken_when_stale, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_claim_recorded_and_finish_checks_owner, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_failed_revocation_drops_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_mount_retried_when_shared, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_retry_backoff_bounds, setup, teardown),
		cmocka_unit_test(test_backoff_jitter_spread),
		cmocka_unit_test_setup_teardown(test_irrevocable_after_six_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unrecoverable_error_irrevocable, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_mount_gone_is_irrevocable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_err_is_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick_work_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_by_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_revokes_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_skips_undecodable_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew_caps_ttl_with_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew_capped_by_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew_irrevocable_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_prefix_endpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irrevocable_list_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tidy_removes_dangling_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_routes, setup, teardown),
		cmocka_unit_test(test_token_key_escaping),
		cmocka_unit_test(test_schedule_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
