/* JSON Web Keys (RFC 7517, RFC 7518 section 6) for public EC and RSA keys,
 * RFC 7638 thumbprints, and the fixed-width ECDSA signature form JWS uses. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"

/* RSA keys shorter than this are rejected: RFC 7518 section 3.3 requires
 * 2048 bits or more. The upper bound caps the cost of one verification. */
#define CRYPTO_JWK_RSA_MIN_BITS 2048
#define CRYPTO_JWK_RSA_MAX_BITS 16384

/* Length of an RFC 7638 SHA-256 thumbprint in base64url, without the NUL. */
#define CRYPTO_JWK_THUMBPRINT_LEN 43

/* An elliptic curve that JWKs and JWS name. */
struct crypto_ec_curve {
	const char *jwk_name;      /* "P-256", the JWK "crv" value */
	const char *group_name;    /* "prime256v1", OpenSSL's group name */
	size_t coordinate_size;    /* bytes in one coordinate, and in r or s */
};

/* Stores the curve of an EC key in ret_curve; WD_EUNSUPPORTED for other key
 * types and curves than P-256, P-384 and P-521. */
WD_MUST_CHECK int crypto_ec_curve_of(const EVP_PKEY *key,
	const struct crypto_ec_curve **ret_curve);

/* Encodes the public half of key as a new JWK object holding only kty and
 * the key members: crv, x, y (EC) or n, e (RSA). The caller owns the
 * reference. WD_EUNSUPPORTED for other key types or curves. */
WD_MUST_CHECK int crypto_jwk_from_key(const EVP_PKEY *key, json_t **ret_jwk,
	struct wd_error *err);

/* Builds a public key from the kty, crv, x, y or n, e members of jwk, and
 * checks it (an EC point must lie on its curve). Other members are ignored,
 * except that a private member "d" is rejected. Returns WD_EUNSUPPORTED for
 * an unknown kty or crv and WD_EINVAL for a malformed key. */
WD_MUST_CHECK int crypto_jwk_to_key(const json_t *jwk, EVP_PKEY **ret_key,
	struct wd_error *err);

/* Computes the RFC 7638 SHA-256 thumbprint of key in base64url into out,
 * which has room for at least CRYPTO_JWK_THUMBPRINT_LEN + 1 bytes. */
WD_MUST_CHECK int crypto_jwk_thumbprint(const EVP_PKEY *key, char *out, size_t out_len);

/* Converts a DER ECDSA-Sig-Value to r || s, each left-padded to
 * coordinate_size bytes (RFC 7518 section 3.4). out has room for 2 *
 * coordinate_size bytes. WD_EINVAL when the DER is malformed, has trailing
 * bytes, or r or s is wider than coordinate_size. */
WD_MUST_CHECK int crypto_ecdsa_sig_der_to_raw(const uint8_t *der, size_t der_len,
	size_t coordinate_size, uint8_t *out, size_t out_len);

/* Converts r || s (exactly 2 * coordinate_size bytes, else WD_EINVAL) to a
 * DER ECDSA-Sig-Value in a malloc'd buffer. */
WD_MUST_CHECK int crypto_ecdsa_sig_raw_to_der(const uint8_t *raw, size_t raw_len,
	size_t coordinate_size, uint8_t **ret_der, size_t *ret_der_len);
