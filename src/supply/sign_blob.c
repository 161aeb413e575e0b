/* Blob signatures as `cosign sign-blob --key` makes them: ECDSA P-256 over
 * the SHA-256 digest of the file, base64 of the DER ECDSA-Sig-Value. */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/ecdsa.h>

#include "common/encoding.h"
#include "supply/sign.h"

/* Ceiling on a DER ECDSA P-256 signature: two 33-byte INTEGERs and headers
 * come to 72 bytes, so anything longer is not one. */
#define SIGNATURE_DER_MAX 80

int supply_blob_digest_file(const char *path, uint8_t ret_digest[static SUPPLY_DIGEST_LEN],
	struct wd_error *err)
{
	EVP_MD_CTX *ctx = NULL;
	FILE *file = NULL;
	uint8_t block[65536];
	size_t got;
	int rc;

	file = fopen(path, "rb");
	WD_ENSURE(file, wd_error_set(err, errno == ENOENT ? WD_ENOTFOUND : WD_EIO,
		"%s: %s", path, strerror(errno)));
	ctx = EVP_MD_CTX_new();
	WD_ENSURE(ctx, WD_ENOMEM);
	WD_ENSURE(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1, WD_EINTERNAL);

	while ((got = fread(block, 1, sizeof(block), file)) > 0)
		WD_ENSURE(EVP_DigestUpdate(ctx, block, got) == 1, WD_EINTERNAL);
	WD_ENSURE(!ferror(file), wd_error_set(err, WD_EIO, "%s: read failed", path));

	WD_ENSURE(EVP_DigestFinal_ex(ctx, ret_digest, NULL) == 1, WD_EINTERNAL);
	rc = WD_OK;
out:
	EVP_MD_CTX_free(ctx);
	if (file)
		fclose(file);
	return rc;
}

/* Sets up a sign or verify context for a SHA-256 digest with key. */
static EVP_PKEY_CTX *digest_context(EVP_PKEY *key, bool sign)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);

	if (!ctx)
		return NULL;
	if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int supply_digest_bytes(const void *data, size_t len,
	uint8_t ret_digest[static SUPPLY_DIGEST_LEN], struct wd_error *err)
{
	if (EVP_Digest(data, len, ret_digest, NULL, EVP_sha256(), NULL) != 1)
		return wd_error_set(err, WD_EINTERNAL, "computing a SHA-256 digest failed");
	return WD_OK;
}

int supply_digest_sign(EVP_PKEY *key, const uint8_t digest[static SUPPLY_DIGEST_LEN],
	uint8_t **ret_der, size_t *ret_len, struct wd_error *err)
{
	uint8_t *der = NULL;
	size_t der_len = SIGNATURE_DER_MAX;
	EVP_PKEY_CTX *ctx;
	int rc;

	*ret_der = NULL;
	*ret_len = 0;
	WD_TRY(supply_key_check_type(key, err));
	der = malloc(SIGNATURE_DER_MAX);
	if (!der)
		return WD_ENOMEM;
	ctx = digest_context(key, true);
	if (!ctx) {
		free(der);
		return wd_error_set(err, WD_ECRYPTO, "setting up ECDSA signing failed");
	}
	rc = EVP_PKEY_sign(ctx, der, &der_len, digest, SUPPLY_DIGEST_LEN);
	EVP_PKEY_CTX_free(ctx);
	if (rc != 1) {
		free(der);
		return wd_error_set(err, WD_ECRYPTO, "ECDSA signing failed");
	}
	*ret_der = der;
	*ret_len = der_len;
	return WD_OK;
}

int supply_blob_sign(EVP_PKEY *key, const uint8_t digest[static SUPPLY_DIGEST_LEN],
	char **ret_signature, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) uint8_t *der = NULL;
	size_t der_len = 0;

	*ret_signature = NULL;
	WD_TRY(supply_digest_sign(key, digest, &der, &der_len, err));
	return wd_base64_encode(der, der_len, ret_signature);
}

/* Checks that der is one DER ECDSA-Sig-Value with nothing after it. */
static int check_der_signature(const uint8_t *der, size_t len, struct wd_error *err)
{
	const unsigned char *cursor = der;
	ECDSA_SIG *parsed;

	parsed = len > 0 && len <= SIGNATURE_DER_MAX ? d2i_ECDSA_SIG(NULL, &cursor, (long)len) :
		NULL;
	if (!parsed || cursor != der + len) {
		ECDSA_SIG_free(parsed);
		return wd_error_set(err, WD_EINVAL,
			"malformed signature: not a DER ECDSA signature");
	}
	ECDSA_SIG_free(parsed);
	return WD_OK;
}

int supply_digest_verify(EVP_PKEY *key, const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const uint8_t *der, size_t len, struct wd_error *err)
{
	EVP_PKEY_CTX *ctx;
	int verified;

	WD_TRY(supply_key_check_type(key, err));
	WD_TRY(check_der_signature(der, len, err));

	ctx = digest_context(key, false);
	if (!ctx)
		return wd_error_set(err, WD_ECRYPTO, "setting up ECDSA verification failed");
	verified = EVP_PKEY_verify(ctx, der, len, digest, SUPPLY_DIGEST_LEN);
	EVP_PKEY_CTX_free(ctx);
	if (verified != 1)
		return wd_error_set(err, WD_ECRYPTO,
			"invalid signature: it does not match the blob and public key");
	return WD_OK;
}

/* Decodes the base64 signature text, ignoring surrounding whitespace (cosign
 * writes none, but files edited by hand often end in a newline). */
static int decode_signature(const char *text, size_t len, uint8_t **ret_der, size_t *ret_len,
	struct wd_error *err)
{
	while (len > 0 && isspace((unsigned char)text[0])) {
		text++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len == 0)
		return wd_error_set(err, WD_EINVAL, "malformed signature: empty");
	if (wd_base64_decode(text, len, ret_der, ret_len) < 0)
		return wd_error_set(err, WD_EINVAL, "malformed signature: not valid base64");
	return WD_OK;
}

int supply_blob_verify(EVP_PKEY *key, const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const char *signature, size_t len, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) uint8_t *der = NULL;
	size_t der_len = 0;

	WD_TRY(supply_key_check_type(key, err));
	WD_TRY(decode_signature(signature, len, &der, &der_len, err));
	return supply_digest_verify(key, digest, der, der_len, err);
}
