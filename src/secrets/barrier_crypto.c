/* The barrier's envelope: AES-256-GCM with a random 96-bit nonce and the
 * storage path as additional authenticated data, in the layout of Vault's
 * AESGCMBarrier version 2 (term, version, nonce, ciphertext, tag). */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/alloc.h"
#include "common/random.h"
#include "secrets/barrier_private.h"

static void put_u32be(uint8_t *out, uint32_t value)
{
	out[0] = (uint8_t)(value >> 24);
	out[1] = (uint8_t)(value >> 16);
	out[2] = (uint8_t)(value >> 8);
	out[3] = (uint8_t)value;
}

static uint32_t get_u32be(const uint8_t *in)
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

int barrier_encrypt(const uint8_t key[static BARRIER_KEY_LEN], uint32_t term, const char *path,
	const uint8_t *plaintext, size_t len, uint8_t **ret_envelope, size_t *ret_len,
	struct wd_error *err)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *envelope = NULL;
	uint8_t *nonce;
	uint8_t *ciphertext;
	size_t path_len = strlen(path);
	int out_len = 0;
	int rc = 0;

	*ret_envelope = NULL;
	*ret_len = 0;
	if (len > BARRIER_MAX_VALUE_LEN)
		return wd_error_set(err, WD_ETOOBIG, "value at %s is %zu bytes, above the maximum of %zu",
			path, len, BARRIER_MAX_VALUE_LEN);

	envelope = malloc(len + BARRIER_OVERHEAD);
	WD_ENSURE(envelope, WD_ENOMEM);
	put_u32be(envelope, term);
	envelope[4] = BARRIER_ENVELOPE_VERSION;
	nonce = envelope + 5;
	ciphertext = envelope + BARRIER_HEADER_LEN;
	WD_GUARD(wd_random_bytes(nonce, BARRIER_NONCE_LEN));

	ctx = EVP_CIPHER_CTX_new();
	WD_ENSURE(ctx, WD_ENOMEM);
	WD_ENSURE(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1, WD_ECRYPTO);
	WD_ENSURE(EVP_EncryptUpdate(ctx, NULL, &out_len, (const uint8_t *)path, (int)path_len) == 1,
		WD_ECRYPTO);
	/* len fits an int: BARRIER_MAX_VALUE_LEN is far below INT_MAX. */
	WD_ENSURE(EVP_EncryptUpdate(ctx, ciphertext, &out_len, plaintext, (int)len) == 1,
		WD_ECRYPTO);
	WD_ENSURE(EVP_EncryptFinal_ex(ctx, ciphertext + out_len, &out_len) == 1, WD_ECRYPTO);
	WD_ENSURE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, BARRIER_TAG_LEN,
		ciphertext + len) == 1, WD_ECRYPTO);

	*ret_envelope = WD_TAKE_PTR(envelope);
	*ret_len = len + BARRIER_OVERHEAD;

out:
	EVP_CIPHER_CTX_free(ctx);
	free(envelope);
	if (rc == WD_ECRYPTO) {
		ERR_clear_error();
		wd_error_set(err, rc, "encrypting the value at %s failed", path);
	} else if (rc < 0) {
		wd_error_set(err, rc, "encrypting the value at %s failed: %s", path, wd_strerror(rc));
	}
	return rc;
}

int barrier_envelope_term(const char *path, const uint8_t *envelope, size_t len,
	uint32_t *ret_term, struct wd_error *err)
{
	*ret_term = 0;
	if (len < BARRIER_OVERHEAD)
		return wd_error_set(err, WD_ECORRUPT,
			"value at %s is %zu bytes, shorter than the %d-byte envelope", path, len,
			BARRIER_OVERHEAD);
	if (envelope[4] != BARRIER_ENVELOPE_VERSION)
		return wd_error_set(err, WD_ECORRUPT, "value at %s has envelope version %u, expected %d",
			path, envelope[4], BARRIER_ENVELOPE_VERSION);
	*ret_term = get_u32be(envelope);
	return 0;
}

int barrier_decrypt(const uint8_t key[static BARRIER_KEY_LEN], const char *path,
	const uint8_t *envelope, size_t len, uint8_t **ret_plaintext, size_t *ret_len,
	struct wd_error *err)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *plaintext = NULL;
	const uint8_t *nonce = envelope + 5;
	const uint8_t *ciphertext = envelope + BARRIER_HEADER_LEN;
	size_t path_len = strlen(path);
	size_t plain_len = 0;
	uint32_t term;
	int out_len = 0;
	int rc = 0;

	*ret_plaintext = NULL;
	*ret_len = 0;
	WD_TRY(barrier_envelope_term(path, envelope, len, &term, err));
	plain_len = len - BARRIER_OVERHEAD;
	if (plain_len > BARRIER_MAX_VALUE_LEN)
		return wd_error_set(err, WD_ECORRUPT, "value at %s is %zu bytes, above the maximum of %zu",
			path, plain_len, BARRIER_MAX_VALUE_LEN);

	plaintext = malloc(plain_len + 1);
	WD_ENSURE(plaintext, WD_ENOMEM);

	ctx = EVP_CIPHER_CTX_new();
	WD_ENSURE(ctx, WD_ENOMEM);
	WD_ENSURE(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1, WD_ECRYPTO);
	WD_ENSURE(EVP_DecryptUpdate(ctx, NULL, &out_len, (const uint8_t *)path, (int)path_len) == 1,
		WD_ECRYPTO);
	WD_ENSURE(EVP_DecryptUpdate(ctx, plaintext, &out_len, ciphertext, (int)plain_len) == 1,
		WD_ECRYPTO);
	/* The tag is set through a non-const pointer, but OpenSSL only reads
	 * it when decrypting. */
	WD_ENSURE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, BARRIER_TAG_LEN,
		(void *)(ciphertext + plain_len)) == 1, WD_ECRYPTO);
	/* A failing final step is the tag check: the key, the path or the
	 * bytes differ from what was encrypted. */
	if (EVP_DecryptFinal_ex(ctx, plaintext + out_len, &out_len) != 1) {
		ERR_clear_error();
		rc = wd_error_set(err, WD_ECORRUPT, "value at %s failed authentication", path);
		goto out;
	}

	plaintext[plain_len] = '\0';
	*ret_plaintext = WD_TAKE_PTR(plaintext);
	*ret_len = plain_len;

out:
	EVP_CIPHER_CTX_free(ctx);
	if (plaintext)
		wd_free_secret(plaintext, plain_len + 1);
	if (rc == WD_ECRYPTO) {
		ERR_clear_error();
		wd_error_set(err, rc, "decrypting the value at %s failed", path);
	} else if (rc == WD_ENOMEM) {
		wd_error_set(err, rc, "decrypting the value at %s failed: %s", path, wd_strerror(rc));
	}
	return rc;
}
