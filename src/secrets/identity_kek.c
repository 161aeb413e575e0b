/* The identity CA's key-encryption key, kept in the barrier. The first
 * operator unseal creates it and every unseal hands it to the server. Only an
 * unsealed barrier gives it out, so the CA key files encrypted under it are
 * unreadable while the barrier is sealed. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "secrets/barrier.h"
#include "secrets/secrets_internal.h"

#define IDENTITY_KEK_PATH "core/identity-kek"

/* Reads the identity CA's key-encryption key, or makes it when absent.
 * NOTE: nothing rotates the key yet; the CA key files stay under the first
 * one. */
static int load_identity_kek(struct secrets *secrets,
	uint8_t kek[static SECRETS_IDENTITY_KEK_LEN], struct wd_error *err)
{
	uint8_t *value = NULL;
	size_t len = 0;
	int rc;

	rc = barrier_get(secrets->barrier, IDENTITY_KEK_PATH, &value, &len, err);
	if (rc == WD_ENOTFOUND) {
		if (RAND_bytes(kek, SECRETS_IDENTITY_KEK_LEN) != 1)
			return wd_error_set(err, WD_ECRYPTO,
				"no randomness for the identity key-encryption key");
		log_info("secrets", "identity key-encryption key created", "path", IDENTITY_KEK_PATH);
		return barrier_put(secrets->barrier, IDENTITY_KEK_PATH, kek, SECRETS_IDENTITY_KEK_LEN,
			err);
	}
	WD_TRY(rc);
	if (len != SECRETS_IDENTITY_KEK_LEN) {
		barrier_value_free(value, len);
		return wd_error_set(err, WD_ECORRUPT, "%s has %zu bytes, expected %d",
			IDENTITY_KEK_PATH, len, SECRETS_IDENTITY_KEK_LEN);
	}
	memcpy(kek, value, len);
	barrier_value_free(value, len);
	return 0;
}

void secrets_unlock_identity(struct secrets *secrets)
{
	uint8_t kek[SECRETS_IDENTITY_KEK_LEN];
	struct wd_error err;

	if (!secrets->config.on_unseal)
		return;
	wd_error_clear(&err);
	if (load_identity_kek(secrets, kek, &err) < 0) {
		/* The secrets service stays usable; only the CA waits. */
		log_error("secrets", "identity key-encryption key unavailable; the CA keys stay "
			"sealed", "error", wd_error_text(&err));
		OPENSSL_cleanse(kek, sizeof(kek));
		return;
	}
	secrets->config.on_unseal(secrets->config.callback_arg, kek);
	OPENSSL_cleanse(kek, sizeof(kek));
}
