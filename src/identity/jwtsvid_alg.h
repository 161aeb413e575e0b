/* JWS algorithms shared by JWT-SVID signing and verification (internal to
 * the identity module). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"

/* Tokens longer than this are rejected before any decoding, and
 * jwtsvid_sign returns WD_ETOOBIG rather than produce one. 16 KiB has room
 * for an RSA-16384 signature (2731 characters) and a maximum-length SPIFFE
 * ID several times over. */
#define JWTSVID_MAX_TOKEN_LEN 16384

/* One of the nine algorithms the JWT-SVID standard allows (RFC 7518
 * section 3.1). */
struct jwtsvid_alg {
	const char *name;       /* "ES256" */
	int key_type;           /* EVP_PKEY_EC or EVP_PKEY_RSA */
	const char *curve;      /* JWK crv for ES algorithms, else NULL */
	const char *digest;     /* OpenSSL digest name */
	bool pss;               /* RSASSA-PSS with salt length = hash length */
};

/* Returns the allowed algorithm called name, or NULL. */
const struct jwtsvid_alg *jwtsvid_alg_find(const char *name);

/* Checks that key can verify or make alg signatures: the key type, the
 * curve for ES algorithms, and at least 2048 bits for RSA (RFC 7518
 * section 3.3). Returns WD_ECRYPTO with a detail naming both otherwise. */
WD_MUST_CHECK int jwtsvid_alg_check_key(const struct jwtsvid_alg *alg, const EVP_PKEY *key,
	struct wd_error *err);

/* Sets the RSA padding of pkey_ctx for alg after EVP_DigestSignInit_ex or
 * EVP_DigestVerifyInit_ex; does nothing for ES algorithms. */
WD_MUST_CHECK int jwtsvid_alg_configure(const struct jwtsvid_alg *alg, EVP_PKEY_CTX *pkey_ctx);
