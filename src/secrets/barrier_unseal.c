/* Unsealing and sealing: shares are collected in locked memory until the
 * threshold, combined into the unseal key, which opens the root key, which
 * opens the keyring. Sealing drops the keyring. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/random.h"
#include "secrets/barrier_private.h"

/* Vault's message for shares or a key that do not open the root key. */
#define INVALID_KEY_MESSAGE "Unseal failed, invalid key"

static void progress_reset(struct barrier *barrier)
{
	OPENSSL_cleanse(barrier->scratch->shares, sizeof(barrier->scratch->shares));
	barrier->progress = 0;
	barrier->nonce[0] = '\0';
}

/* Reads the envelope stored at path; a missing one is corruption, since
 * init writes both key envelopes with the seal configuration. */
static int envelope_read(struct barrier *barrier, const char *path, uint8_t **ret_envelope,
	size_t *ret_len, struct wd_error *err)
{
	int rc = barrier_row_read(barrier, path, ret_envelope, ret_len, err);

	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ECORRUPT, "%s is missing from the store", path);
	return rc;
}

/* Opens the root key with the unseal key, then the keyring with the root
 * key. Once the root key's envelope is well formed, a failing tag means a
 * wrong unseal key, which GCM cannot tell apart from changed bytes. */
static int unseal_with_key(struct barrier *barrier, const uint8_t *unseal_key,
	struct wd_error *err)
{
	struct barrier_scratch *scratch = barrier->scratch;
	uint8_t *envelope = NULL;
	size_t envelope_len = 0;
	uint8_t *plaintext = NULL;
	size_t len = 0;
	uint32_t term;
	int rc = 0;

	WD_GUARD(envelope_read(barrier, BARRIER_PATH_ROOT_KEY, &envelope, &envelope_len, err));
	WD_GUARD(barrier_envelope_term(BARRIER_PATH_ROOT_KEY, envelope, envelope_len, &term, err));
	WD_ENSURE(envelope_len == BARRIER_OVERHEAD + BARRIER_KEY_LEN, wd_error_set(err, WD_ECORRUPT,
		"%s is %zu bytes, expected %d", BARRIER_PATH_ROOT_KEY, envelope_len,
		BARRIER_OVERHEAD + BARRIER_KEY_LEN));
	rc = barrier_decrypt(unseal_key, BARRIER_PATH_ROOT_KEY, envelope, envelope_len, &plaintext,
		&len, err);
	WD_ENSURE(rc != WD_ECORRUPT, wd_error_set(err, WD_ECRYPTO, INVALID_KEY_MESSAGE));
	WD_GUARD(rc);
	memcpy(scratch->root_key, plaintext, BARRIER_KEY_LEN);
	barrier_value_free(plaintext, len);
	plaintext = NULL;
	free(envelope);
	envelope = NULL;

	WD_GUARD(envelope_read(barrier, BARRIER_PATH_KEYRING, &envelope, &envelope_len, err));
	WD_GUARD(barrier_decrypt(scratch->root_key, BARRIER_PATH_KEYRING, envelope, envelope_len,
		&plaintext, &len, err));
	WD_GUARD(barrier_keyring_decode(scratch->root_key, plaintext, len, &barrier->keyring, err));

out:
	free(envelope);
	barrier_value_free(plaintext, len);
	OPENSSL_cleanse(scratch->root_key, BARRIER_KEY_LEN);
	return rc;
}

/* Accepts share as the next unseal share: WD_EINVAL for a wrong length or
 * an x-coordinate already submitted. */
static int share_add(struct barrier *barrier, const uint8_t *share, size_t len,
	struct wd_error *err)
{
	if (!share || len != BARRIER_SHARE_LEN)
		return wd_error_set(err, WD_EINVAL, "unseal key is %zu bytes, expected %d", len,
			BARRIER_SHARE_LEN);

	/* Shares differ in their last byte, the x-coordinate; two shares with
	 * the same one cannot be combined. */
	for (unsigned i = 0; i < barrier->progress; i++) {
		if (barrier->scratch->shares[i][BARRIER_KEY_LEN] == share[BARRIER_KEY_LEN])
			return wd_error_set(err, WD_EINVAL,
				"this key share was already submitted; submit %u more distinct shares",
				barrier->threshold - barrier->progress);
	}

	if (barrier->progress == 0)
		WD_TRY(wd_random_uuid(barrier->nonce));
	memcpy(barrier->scratch->shares[barrier->progress], share, len);
	barrier->progress++;
	return 0;
}

int barrier_unseal(struct barrier *barrier, const uint8_t *share, size_t len, bool reset,
	bool *ret_unsealed, struct wd_error *err)
{
	struct barrier_scratch *scratch = barrier->scratch;
	const uint8_t *parts[BARRIER_MAX_SHARES];
	int rc = 0;

	*ret_unsealed = false;
	if (!barrier->initialized)
		return wd_error_set(err, WD_ECONFLICT, "Vault is not initialized");
	if (reset) {
		progress_reset(barrier);
		return 0;
	}
	/* As Vault: a share sent to an unsealed barrier changes nothing. */
	if (barrier->keyring)
		return 0;

	WD_TRY(share_add(barrier, share, len, err));
	if (barrier->progress < barrier->threshold)
		return 0;

	if (barrier->threshold == 1) {
		memcpy(scratch->unseal_key, scratch->shares[0], BARRIER_KEY_LEN);
	} else {
		for (unsigned i = 0; i < barrier->progress; i++)
			parts[i] = scratch->shares[i];
		rc = shamir_combine(parts, barrier->progress, BARRIER_SHARE_LEN, scratch->unseal_key);
		WD_ENSURE(rc == 0, wd_error_set(err, WD_ECRYPTO, INVALID_KEY_MESSAGE));
	}

	/* Whatever the outcome, this attempt is over: a wrong combination
	 * starts again from the first share. */
	progress_reset(barrier);
	WD_GUARD(unseal_with_key(barrier, scratch->unseal_key, err));
	*ret_unsealed = true;

out:
	if (rc < 0)
		progress_reset(barrier);
	OPENSSL_cleanse(scratch->unseal_key, BARRIER_KEY_LEN);
	return rc;
}

int barrier_unseal_key(struct barrier *barrier, const uint8_t *key, size_t len,
	struct wd_error *err)
{
	if (!barrier->initialized)
		return wd_error_set(err, WD_ECONFLICT, "Vault is not initialized");
	if (barrier->keyring)
		return 0;
	if (!key || len != BARRIER_KEY_LEN)
		return wd_error_set(err, WD_EINVAL, "unseal key is %zu bytes, expected %d", len,
			BARRIER_KEY_LEN);
	progress_reset(barrier);
	return unseal_with_key(barrier, key, err);
}

void barrier_seal(struct barrier *barrier)
{
	barrier_keyring_free(barrier->keyring);
	barrier->keyring = NULL;
	progress_reset(barrier);
}
