/* Key-based blob signatures that interoperate with cosign: ECDSA P-256 over
 * SHA-256, signatures as base64 of the DER encoding, public keys as PEM
 * SubjectPublicKeyInfo, and cosign's password-encrypted private key files. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"

#define SUPPLY_DIGEST_LEN 32 /* SHA-256 */

/* Ceiling on a key or signature file read from disk, in bytes. */
#define SUPPLY_KEY_FILE_MAX (64 * 1024)

/* PEM types of cosign's encrypted private key. Recent cosign releases write
 * the first and older ones wrote the second, so both are read. */
#define SUPPLY_PEM_SIGSTORE_KEY "ENCRYPTED SIGSTORE PRIVATE KEY"
#define SUPPLY_PEM_COSIGN_KEY "ENCRYPTED COSIGN PRIVATE KEY"

/* Encrypts plaintext under password into the JSON envelope of
 * go-securesystemslib's encrypted package, which cosign uses: scrypt
 * (N=32768, r=8, p=1, 32-byte random salt) derives a 32-byte key that seals
 * the plaintext with NaCl secretbox (XSalsa20-Poly1305, 24-byte random
 * nonce). Returns the compact JSON text in *ret_json (malloc'd). */
WD_MUST_CHECK int supply_key_encrypt(const uint8_t *plaintext, size_t len, const char *password,
	size_t password_len, char **ret_json, struct wd_error *err);

/* Opens an envelope written by supply_key_encrypt or by cosign. Returns the
 * plaintext in *ret_plaintext (malloc'd; the caller wipes it before free).
 * Fails with WD_EINVAL on a malformed envelope, WD_EUNSUPPORTED on another
 * KDF, cipher or scrypt cost, and WD_ECRYPTO when the password is wrong or
 * the ciphertext was changed (secretbox cannot tell the two apart). */
WD_MUST_CHECK int supply_key_decrypt(const char *json, size_t len, const char *password,
	size_t password_len, uint8_t **ret_plaintext, size_t *ret_len, struct wd_error *err);

/* Generates a fresh ECDSA P-256 key pair. */
WD_MUST_CHECK int supply_key_generate(EVP_PKEY **ret_key, struct wd_error *err);

/* Encodes the private key as PKCS#8 DER, encrypts it with supply_key_encrypt
 * and wraps the JSON in a PEM block of type SUPPLY_PEM_SIGSTORE_KEY, as
 * `cosign generate-key-pair` writes cosign.key. *ret_pem is malloc'd. */
WD_MUST_CHECK int supply_private_key_to_pem(EVP_PKEY *key, const char *password,
	size_t password_len, char **ret_pem, struct wd_error *err);

/* Reads a cosign private key file's contents (either PEM type) with
 * password. Fails as supply_key_decrypt does, with WD_EINVAL when the PEM or
 * the PKCS#8 inside is malformed, and WD_EUNSUPPORTED when the key is not
 * ECDSA P-256. */
WD_MUST_CHECK int supply_private_key_from_pem(const char *pem, size_t len, const char *password,
	size_t password_len, EVP_PKEY **ret_key, struct wd_error *err);

/* Encodes the public half of key as a PEM "PUBLIC KEY" block. */
WD_MUST_CHECK int supply_public_key_to_pem(EVP_PKEY *key, char **ret_pem, struct wd_error *err);

/* Parses a PEM "PUBLIC KEY" block. Fails with WD_EINVAL when it is not one
 * and WD_EUNSUPPORTED (naming the key type) when it is not ECDSA P-256. */
WD_MUST_CHECK int supply_public_key_from_pem(const char *pem, size_t len, EVP_PKEY **ret_key,
	struct wd_error *err);

/* Computes the SHA-256 digest of the file at path, read in blocks so the
 * file may be of any size. */
WD_MUST_CHECK int supply_blob_digest_file(const char *path,
	uint8_t ret_digest[static SUPPLY_DIGEST_LEN], struct wd_error *err);

/* Signs a SHA-256 digest with the ECDSA P-256 key and returns the base64 of
 * the DER signature in *ret_signature (malloc'd, no newline). */
WD_MUST_CHECK int supply_blob_sign(EVP_PKEY *key, const uint8_t digest[static SUPPLY_DIGEST_LEN],
	char **ret_signature, struct wd_error *err);

/* Verifies a base64 DER signature (surrounding whitespace allowed) over a
 * SHA-256 digest. Fails with WD_EINVAL when the text is not base64 or not a
 * DER ECDSA signature, WD_EUNSUPPORTED when the key is not ECDSA P-256, and
 * WD_ECRYPTO when the signature does not match. */
WD_MUST_CHECK int supply_blob_verify(EVP_PKEY *key, const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const char *signature, size_t len, struct wd_error *err);

/* Computes the SHA-256 digest of len bytes of data. */
WD_MUST_CHECK int supply_digest_bytes(const void *data, size_t len,
	uint8_t ret_digest[static SUPPLY_DIGEST_LEN], struct wd_error *err);

/* Signs a SHA-256 digest with the ECDSA P-256 key and returns the DER
 * ECDSA-Sig-Value in *ret_der (malloc'd). */
WD_MUST_CHECK int supply_digest_sign(EVP_PKEY *key, const uint8_t digest[static SUPPLY_DIGEST_LEN],
	uint8_t **ret_der, size_t *ret_len, struct wd_error *err);

/* Verifies a DER ECDSA signature over a SHA-256 digest. Fails with WD_EINVAL
 * when der is not one DER ECDSA-Sig-Value, WD_EUNSUPPORTED when the key is
 * not ECDSA P-256, and WD_ECRYPTO when the signature does not match. */
WD_MUST_CHECK int supply_digest_verify(EVP_PKEY *key,
	const uint8_t digest[static SUPPLY_DIGEST_LEN], const uint8_t *der, size_t len,
	struct wd_error *err);

/* Checks that key is an ECDSA P-256 key, naming its type otherwise
 * (WD_EUNSUPPORTED). */
WD_MUST_CHECK int supply_key_check_type(EVP_PKEY *key, struct wd_error *err);
