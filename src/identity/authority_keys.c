/* Sealing and unsealing the CA keys: the key-encryption key (KEK) that
 * unlocks the encrypted key files, the conversion of plaintext key files,
 * and dropping the private keys again. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "identity/authority_internal.h"

bool authority_sealed_locked(const struct authority *authority)
{
	for (size_t i = 0; i < authority->slot_count; i++) {
		if (ca_slot_sealed(authority->slots[i]))
			return true;
	}
	return false;
}

bool authority_keys_sealed(struct authority *authority)
{
	bool sealed;

	pthread_mutex_lock(&authority->lock);
	sealed = authority_sealed_locked(authority);
	pthread_mutex_unlock(&authority->lock);
	return sealed;
}

/* Loads both private keys of a slot and checks them against the certificate
 * and the JWT key that the slot publishes. */
static int load_private_keys(const struct authority *authority,
	const uint8_t kek[static AUTHORITY_KEK_LEN], const struct authority_slot *slot,
	EVP_PKEY **ret_x509_key, EVP_PKEY **ret_jwt_key, struct wd_error *err)
{
	EVP_PKEY *x509_key = NULL;
	EVP_PKEY *jwt_key = NULL;
	bool sealed = false;
	int rc;

	*ret_x509_key = NULL;
	*ret_jwt_key = NULL;
	WD_GUARD(ca_slot_load_key(authority, kek, slot->id, CA_KEY_ROLE_X509, slot->key_type,
		&x509_key, &sealed, err));
	WD_GUARD(ca_slot_load_key(authority, kek, slot->id, CA_KEY_ROLE_JWT, slot->key_type,
		&jwt_key, &sealed, err));
	if (X509_check_private_key(slot->cert, x509_key) != 1) {
		rc = wd_error_set(err, WD_ECORRUPT,
			"the CA key file of slot %" PRId64 " does not match its certificate", slot->id);
		goto out;
	}
	if (EVP_PKEY_eq(jwt_key, slot->jwt_public) != 1) {
		rc = wd_error_set(err, WD_ECORRUPT,
			"the JWT key file of slot %" PRId64 " does not match its published key \"%s\"",
			slot->id, slot->jwt_kid);
		goto out;
	}

	*ret_x509_key = WD_TAKE_PTR(x509_key);
	*ret_jwt_key = WD_TAKE_PTR(jwt_key);
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(x509_key);
	EVP_PKEY_free(jwt_key);
	return rc;
}

static int fsync_dir(const char *dir, struct wd_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = wd_error_set(err, WD_EIO, "syncing key directory \"%.200s\" failed: %s", dir,
			strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Replaces a plaintext key file with its encrypted form, a file or, with
 * keys_in_store, a datastore row. The encrypted form is complete and
 * durable before the plaintext one goes, so a crash between
 * the two leaves both, and the next unlock finishes the job. */
static int convert_key(const struct authority *authority, int64_t id, enum ca_key_role role,
	EVP_PKEY *key, struct wd_error *err)
{
	char plain_path[PATH_MAX];
	char encrypted_path[PATH_MAX];
	struct stat st;

	WD_TRY(ca_key_path(authority, id, role, false, plain_path, sizeof(plain_path), err));
	WD_TRY(ca_key_path(authority, id, role, true, encrypted_path, sizeof(encrypted_path),
		err));
	if (lstat(plain_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return wd_error_set(err, WD_EIO, "reading key file \"%.200s\" failed: %s",
			plain_path, strerror(errno));
	}

	if (authority->keys_in_store)
		WD_TRY(ca_key_store_save(authority, id, role, key, err));
	else
		WD_TRY(ca_key_file_write(authority->kek, key, encrypted_path, err));
	if (unlink(plain_path) < 0)
		return wd_error_set(err, WD_EIO,
			"removing the plaintext key file \"%.200s\" after encrypting it failed: %s",
			plain_path, strerror(errno));
	return fsync_dir(authority->key_dir, err);
}

static int convert_plaintext_keys(const struct authority *authority, struct wd_error *err)
{
	for (size_t i = 0; i < authority->slot_count; i++) {
		const struct authority_slot *slot = authority->slots[i];

		WD_TRY(convert_key(authority, slot->id, CA_KEY_ROLE_X509, slot->x509_key, err));
		WD_TRY(convert_key(authority, slot->id, CA_KEY_ROLE_JWT, slot->jwt_key, err));
	}
	return 0;
}

static int unlock_locked(struct authority *authority, const uint8_t kek[static AUTHORITY_KEK_LEN],
	int64_t now, struct wd_error *err)
{
	EVP_PKEY *x509_keys[AUTHORITY_MAX_SLOTS] = { 0 };
	EVP_PKEY *jwt_keys[AUTHORITY_MAX_SLOTS] = { 0 };
	bool was_sealed = authority_sealed_locked(authority);
	int rc;

	if (authority->kek_set) {
		if (CRYPTO_memcmp(authority->kek, kek, AUTHORITY_KEK_LEN) == 0)
			return 0;
		return wd_error_set(err, WD_ECONFLICT,
			"the CA keys are already unlocked with another key-encryption key");
	}

	/* Every sealed slot's keys are decrypted before any is installed, so a
	 * wrong KEK or a damaged file leaves the authority as it was. */
	for (size_t i = 0; i < authority->slot_count; i++) {
		if (ca_slot_sealed(authority->slots[i]))
			WD_GUARD(load_private_keys(authority, kek, authority->slots[i], &x509_keys[i],
				&jwt_keys[i], err));
	}
	for (size_t i = 0; i < authority->slot_count; i++) {
		struct authority_slot *slot = authority->slots[i];

		if (!ca_slot_sealed(slot))
			continue;
		EVP_PKEY_free(slot->x509_key);
		EVP_PKEY_free(slot->jwt_key);
		slot->x509_key = WD_TAKE_PTR(x509_keys[i]);
		slot->jwt_key = WD_TAKE_PTR(jwt_keys[i]);
	}
	memcpy(authority->kek, kek, AUTHORITY_KEK_LEN);
	authority->kek_set = true;

	WD_GUARD(convert_plaintext_keys(authority, err));
	/* The CRLs served while sealed were the stored ones, possibly stale. */
	if (was_sealed)
		WD_GUARD(authority_crls_issue_all(authority, now, err));
	rc = 0;
out:
	for (size_t i = 0; i < AUTHORITY_MAX_SLOTS; i++) {
		EVP_PKEY_free(x509_keys[i]);
		EVP_PKEY_free(jwt_keys[i]);
	}
	return rc;
}

int authority_keys_unlock(struct authority *authority, const uint8_t kek[static AUTHORITY_KEK_LEN],
	int64_t now, struct wd_error *err)
{
	int rc;

	pthread_mutex_lock(&authority->lock);
	rc = unlock_locked(authority, kek, now, err);
	pthread_mutex_unlock(&authority->lock);
	return rc;
}

void authority_keys_lock(struct authority *authority)
{
	pthread_mutex_lock(&authority->lock);
	if (authority->kek_set) {
		for (size_t i = 0; i < authority->slot_count; i++) {
			struct authority_slot *slot = authority->slots[i];

			/* The issuer holds a reference to the CA key. */
			x509svid_issuer_free(slot->issuer);
			slot->issuer = NULL;
			EVP_PKEY_free(slot->x509_key);
			EVP_PKEY_free(slot->jwt_key);
			slot->x509_key = NULL;
			slot->jwt_key = NULL;
		}
		OPENSSL_cleanse(authority->kek, sizeof(authority->kek));
		authority->kek_set = false;
	}
	pthread_mutex_unlock(&authority->lock);
}

/* Loads the slots, counters and stored CRLs again. The slots loaded before
 * stay in place when anything fails. */
static int reload_locked(struct authority *authority, struct wd_error *err)
{
	struct authority_slot *old_slots[AUTHORITY_MAX_SLOTS];
	size_t old_count = authority->slot_count;
	int64_t crl_number = 0;
	int64_t sequence = 0;
	int rc;

	memcpy(old_slots, authority->slots, sizeof(old_slots));
	memset(authority->slots, 0, sizeof(authority->slots));
	authority->slot_count = 0;

	WD_GUARD(authority_state_get(authority->store, AUTHORITY_STATE_SEQUENCE, &sequence, err));
	WD_GUARD(authority_state_get(authority->store, AUTHORITY_STATE_CRL_NUMBER, &crl_number,
		err));
	WD_GUARD(ca_slots_load(authority, err));
	if (authority->kek_set) {
		for (size_t i = 0; i < authority->slot_count; i++) {
			struct authority_slot *slot = authority->slots[i];

			if (!ca_slot_sealed(slot))
				continue;
			EVP_PKEY_free(slot->x509_key);
			EVP_PKEY_free(slot->jwt_key);
			slot->x509_key = NULL;
			slot->jwt_key = NULL;
			WD_GUARD(load_private_keys(authority, authority->kek, slot, &slot->x509_key,
				&slot->jwt_key, err));
		}
	}
	WD_GUARD(authority_crls_load_stored(authority, err));

	for (size_t i = 0; i < old_count; i++)
		ca_slot_free(old_slots[i]);
	authority->sequence = (uint64_t)(sequence < 0 ? 0 : sequence);
	authority->crl_number = crl_number;
	return 0;
out:
	for (size_t i = 0; i < authority->slot_count; i++)
		ca_slot_free(authority->slots[i]);
	memcpy(authority->slots, old_slots, sizeof(old_slots));
	authority->slot_count = old_count;
	return rc;
}

int authority_reload_if_changed(struct authority *authority, bool *ret_changed,
	struct wd_error *err)
{
	int64_t stored = 0;
	int rc = 0;

	*ret_changed = false;
	WD_TRY(authority_state_get(authority->store, AUTHORITY_STATE_SEQUENCE, &stored, err));
	pthread_mutex_lock(&authority->lock);
	if (stored >= 0 && (uint64_t)stored != authority->sequence) {
		rc = reload_locked(authority, err);
		*ret_changed = rc == 0;
	}
	pthread_mutex_unlock(&authority->lock);
	return rc;
}
