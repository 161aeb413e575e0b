/* Private keys: generation of the types warden signs with, PEM encoding and
 * files written 0600. */
#pragma once

#include <stddef.h>

#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"

enum crypto_key_type {
	CRYPTO_KEY_EC_P256,
	CRYPTO_KEY_EC_P384,
	CRYPTO_KEY_RSA_2048,
};

/* Parses "ec-p256", "ec-p384" or "rsa-2048" (SPIRE's names); WD_EINVAL with
 * the value named otherwise. */
WD_MUST_CHECK int crypto_key_type_parse(const char *text, enum crypto_key_type *ret_type,
	struct wd_error *err);

/* Returns the name crypto_key_type_parse accepts. */
const char *crypto_key_type_name(enum crypto_key_type type);

/* Generates a new private key of type. */
WD_MUST_CHECK int crypto_key_generate(enum crypto_key_type type, EVP_PKEY **ret_key,
	struct wd_error *err);

/* Stores the type of key in ret_type; WD_EUNSUPPORTED for other keys. */
WD_MUST_CHECK int crypto_key_type_of(const EVP_PKEY *key, enum crypto_key_type *ret_type);

/* Encodes the private key as unencrypted PKCS#8 PEM in a malloc'd string
 * that the caller frees with wd_free_secret_str. */
WD_MUST_CHECK int crypto_key_to_pem(EVP_PKEY *key, char **ret_pem, struct wd_error *err);

/* Encodes the public half as SubjectPublicKeyInfo PEM. */
WD_MUST_CHECK int crypto_pubkey_to_pem(EVP_PKEY *key, char **ret_pem, struct wd_error *err);

/* Parses a PEM private key (PKCS#8, SEC1 or PKCS#1). */
WD_MUST_CHECK int crypto_key_from_pem(const char *pem, size_t len, EVP_PKEY **ret_key,
	struct wd_error *err);

/* Writes the key to path atomically (temporary file, fsync, rename) with
 * mode 0600. */
WD_MUST_CHECK int crypto_key_save(EVP_PKEY *key, const char *path, struct wd_error *err);

/* Reads a PEM private key file; refuses a file readable by group or others
 * with WD_EPERM. */
WD_MUST_CHECK int crypto_key_load(const char *path, EVP_PKEY **ret_key, struct wd_error *err);

/* Returns the digest warden signs certificates and CRLs with for key:
 * SHA-384 for EC P-384 keys, SHA-256 otherwise. */
const EVP_MD *crypto_key_signing_digest(const EVP_PKEY *key);
