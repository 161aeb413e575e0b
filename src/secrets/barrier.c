/* The barrier's life cycle: opening on the store, the seal configuration,
 * initialization (key generation and splitting) and reset. Unsealing is in
 * barrier_unseal.c, stored values in barrier_store.c. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/random.h"
#include "secrets/barrier_private.h"

#define BARRIER_MIGRATION_COMPONENT "secrets_barrier"

/* Paths compare byte by byte in both dialects ("C" collation in
 * PostgreSQL), so prefix range queries return exactly the paths under a
 * prefix. */
static const struct store_migration barrier_migrations[] = {
	{ 1, "barrier values by path",
		"CREATE TABLE secrets_barrier ("
		" path TEXT PRIMARY KEY,"
		" value BLOB NOT NULL)",
		"CREATE TABLE secrets_barrier ("
		" path TEXT COLLATE \"C\" PRIMARY KEY,"
		" value BYTEA NOT NULL)" },
};

bool barrier_path_reserved(const char *path)
{
	return strcmp(path, BARRIER_PATH_SEAL_CONFIG) == 0 || strcmp(path, BARRIER_PATH_ROOT_KEY) == 0 ||
		strcmp(path, BARRIER_PATH_KEYRING) == 0;
}

/* Checks Vault's limits on a seal configuration, with the field names of
 * sys/init in the errors. */
static int seal_config_check(unsigned shares, unsigned threshold, struct wd_error *err)
{
	if (shares < 1)
		return wd_error_set(err, WD_EINVAL, "secret_shares %u must be at least 1", shares);
	if (shares > BARRIER_MAX_SHARES)
		return wd_error_set(err, WD_EINVAL, "secret_shares %u is above the maximum of %d", shares,
			BARRIER_MAX_SHARES);
	if (threshold < 1)
		return wd_error_set(err, WD_EINVAL, "secret_threshold %u must be at least 1", threshold);
	if (threshold > shares)
		return wd_error_set(err, WD_EINVAL, "secret_threshold %u is above secret_shares %u",
			threshold, shares);
	if (threshold == 1 && shares > 1)
		return wd_error_set(err, WD_EINVAL,
			"secret_threshold 1 needs secret_shares 1, not %u: any one of several shares "
			"would be the whole key", shares);
	return 0;
}

/* Reads core/seal-config; absent means not initialized. */
static int seal_config_load(struct barrier *barrier, struct wd_error *err)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	json_t *config = NULL;
	json_int_t shares;
	json_int_t threshold;
	int rc = 0;

	barrier->initialized = false;
	barrier->shares = 0;
	barrier->threshold = 0;
	rc = barrier_row_read(barrier, BARRIER_PATH_SEAL_CONFIG, &blob, &len, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	WD_GUARD(rc);

	config = json_loadb((const char *)blob, len, JSON_REJECT_DUPLICATES, NULL);
	shares = json_integer_value(json_object_get(config, "shares"));
	threshold = json_integer_value(json_object_get(config, "threshold"));
	if (!json_is_object(config) || shares < 0 || shares > BARRIER_MAX_SHARES || threshold < 0 ||
		threshold > BARRIER_MAX_SHARES || seal_config_check((unsigned)shares,
			(unsigned)threshold, NULL) < 0) {
		rc = wd_error_set(err, WD_ECORRUPT, "%s is not a valid seal configuration",
			BARRIER_PATH_SEAL_CONFIG);
		goto out;
	}
	barrier->initialized = true;
	barrier->shares = (unsigned)shares;
	barrier->threshold = (unsigned)threshold;

out:
	json_decref(config);
	free(blob);
	return rc;
}

int barrier_reload_seal_config(struct barrier *barrier, struct wd_error *err)
{
	/* An unsealed barrier has its keyring and needs no seal config. */
	if (!barrier_sealed(barrier))
		return 0;
	return seal_config_load(barrier, err);
}

int barrier_open(struct store *store, struct barrier **ret_barrier, struct wd_error *err)
{
	struct barrier *barrier = NULL;
	int rc = 0;

	*ret_barrier = NULL;
	WD_GUARD(store_migrate(store, BARRIER_MIGRATION_COMPONENT, barrier_migrations,
		WD_ARRAY_LEN(barrier_migrations), err));

	barrier = wd_calloc(1, sizeof(*barrier));
	WD_ENSURE(barrier, wd_error_set(err, WD_ENOMEM, "allocating the barrier failed"));
	barrier->store = store;
	barrier->scratch = barrier_secure_alloc(sizeof(*barrier->scratch));
	WD_ENSURE(barrier->scratch, wd_error_set(err, WD_ENOMEM,
		"mapping memory for the unseal keys failed"));
	WD_GUARD(seal_config_load(barrier, err));

	*ret_barrier = WD_TAKE_PTR(barrier);

out:
	barrier_free(barrier);
	return rc;
}

void barrier_free(struct barrier *barrier)
{
	if (!barrier)
		return;
	barrier_keyring_free(barrier->keyring);
	barrier_secure_free(barrier->scratch, sizeof(*barrier->scratch));
	free(barrier);
}

void barrier_status(const struct barrier *barrier, struct barrier_status *ret_status)
{
	*ret_status = (struct barrier_status){
		.initialized = barrier->initialized,
		.sealed = barrier->keyring == NULL,
		.threshold = barrier->threshold,
		.shares = barrier->shares,
		.progress = barrier->progress,
	};
	memcpy(ret_status->nonce, barrier->nonce, sizeof(ret_status->nonce));
}

bool barrier_sealed(const struct barrier *barrier)
{
	return barrier->keyring == NULL;
}

void barrier_shares_free(uint8_t **shares, unsigned count)
{
	if (!shares)
		return;
	for (unsigned i = 0; i < count; i++)
		wd_free_secret(shares[i], BARRIER_SHARE_LEN);
	free(shares);
}

/* Splits the unseal key into malloc'd shares. A threshold of 1 does not
 * split: the one share is the key itself, in the share layout with x = 1,
 * so every share has BARRIER_SHARE_LEN bytes. */
static int unseal_key_split(const uint8_t *unseal_key, unsigned shares, unsigned threshold,
	uint8_t ***ret_shares)
{
	uint8_t **out = wd_calloc(shares, sizeof(*out));
	int rc = 0;

	*ret_shares = NULL;
	WD_ENSURE(out, WD_ENOMEM);
	for (unsigned i = 0; i < shares; i++) {
		out[i] = calloc(1, BARRIER_SHARE_LEN);
		WD_ENSURE(out[i], WD_ENOMEM);
	}
	if (threshold == 1) {
		memcpy(out[0], unseal_key, BARRIER_KEY_LEN);
		out[0][BARRIER_KEY_LEN] = 1;
	} else {
		WD_GUARD(shamir_split(unseal_key, BARRIER_KEY_LEN, shares, threshold, out));
	}
	*ret_shares = WD_TAKE_PTR(out);

out:
	barrier_shares_free(out, shares);
	return rc;
}

/* Writes the seal configuration and the two key envelopes in one
 * transaction, so a failed init leaves no partial barrier. */
static int init_store(struct barrier *barrier, const uint8_t *root_envelope, size_t root_len,
	const uint8_t *keyring_envelope, size_t keyring_len, unsigned shares, unsigned threshold,
	struct wd_error *err)
{
	char config[64];
	int n = snprintf(config, sizeof(config), "{\"shares\":%u,\"threshold\":%u}", shares,
		threshold);
	int rc = 0;

	WD_GUARD(store_begin(barrier->store, err));
	WD_GUARD(barrier_row_write(barrier, BARRIER_PATH_SEAL_CONFIG, (const uint8_t *)config,
		(size_t)n, err));
	WD_GUARD(barrier_row_write(barrier, BARRIER_PATH_ROOT_KEY, root_envelope, root_len, err));
	WD_GUARD(barrier_row_write(barrier, BARRIER_PATH_KEYRING, keyring_envelope, keyring_len,
		err));
	WD_GUARD(store_commit(barrier->store, err));

out:
	if (rc < 0)
		store_rollback(barrier->store);
	return rc;
}

int barrier_init(struct barrier *barrier, unsigned shares, unsigned threshold,
	uint8_t ***ret_shares, struct wd_error *err)
{
	struct barrier_scratch *scratch = barrier->scratch;
	struct barrier_keyring *keyring = NULL;
	uint8_t **out = NULL;
	uint8_t *encoded = NULL;
	size_t encoded_len = 0;
	uint8_t *root_envelope = NULL;
	size_t root_len = 0;
	uint8_t *keyring_envelope = NULL;
	size_t keyring_len = 0;
	int rc = 0;

	*ret_shares = NULL;
	WD_GUARD(seal_config_check(shares, threshold, err));
	WD_GUARD(seal_config_load(barrier, err));
	WD_ENSURE(!barrier->initialized, wd_error_set(err, WD_EEXIST,
		"Vault is already initialized"));

	/* Three keys: the unseal key (only ever split and handed out), the
	 * root key that it encrypts, and the first data key, term 1, in the
	 * keyring that the root key encrypts. */
	WD_GUARD(wd_random_bytes(scratch->unseal_key, BARRIER_KEY_LEN));
	WD_GUARD(wd_random_bytes(scratch->root_key, BARRIER_KEY_LEN));
	WD_GUARD(barrier_keyring_create(scratch->root_key, &keyring, err));
	WD_GUARD(barrier_encrypt(scratch->unseal_key, BARRIER_TERM_NONE, BARRIER_PATH_ROOT_KEY,
		scratch->root_key, BARRIER_KEY_LEN, &root_envelope, &root_len, err));
	WD_ENSURE(barrier_keyring_encode(keyring, &encoded, &encoded_len) == 0,
		wd_error_set(err, WD_ENOMEM, "encoding the keyring failed"));
	WD_GUARD(barrier_encrypt(scratch->root_key, BARRIER_TERM_NONE, BARRIER_PATH_KEYRING, encoded,
		encoded_len, &keyring_envelope, &keyring_len, err));
	rc = unseal_key_split(scratch->unseal_key, shares, threshold, &out);
	WD_ENSURE(rc == 0, wd_error_set(err, rc, "splitting the unseal key failed: %s",
		wd_strerror(rc)));

	WD_GUARD(init_store(barrier, root_envelope, root_len, keyring_envelope, keyring_len, shares,
		threshold, err));
	barrier->initialized = true;
	barrier->shares = shares;
	barrier->threshold = threshold;
	*ret_shares = WD_TAKE_PTR(out);

out:
	OPENSSL_cleanse(scratch->unseal_key, BARRIER_KEY_LEN);
	OPENSSL_cleanse(scratch->root_key, BARRIER_KEY_LEN);
	barrier_keyring_free(keyring);
	if (encoded)
		wd_free_secret(encoded, encoded_len);
	free(root_envelope);
	free(keyring_envelope);
	barrier_shares_free(out, shares);
	return rc;
}

int barrier_reset(struct barrier *barrier, struct wd_error *err)
{
	barrier_seal(barrier);
	WD_TRY(store_exec(barrier->store, "DELETE FROM secrets_barrier", NULL, 0, NULL, err));
	barrier->initialized = false;
	barrier->shares = 0;
	barrier->threshold = 0;
	return 0;
}
