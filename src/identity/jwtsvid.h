/* JWT-SVIDs per the JWT-SVID standard: JWS compact serialization, alg from
 * the key (ES256/ES384 for EC P-256/P-384, RS256 or PS256 for RSA), header
 * alg, kid and typ "JWT", claims sub, aud, exp and iat. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"
#include "identity/spiffe_id.h"

/* A public key that verifies JWT-SVIDs, by key id. */
struct jwt_authority {
	const char *kid;
	EVP_PKEY *key;
};

enum jwtsvid_rsa_alg {
	JWTSVID_RS256,
	JWTSVID_PS256,
};

struct jwtsvid_claims_in {
	const struct spiffe_id *subject;
	const char *const *audience;   /* at least one */
	size_t audience_count;
	int64_t issued_at;             /* Unix seconds */
	int64_t expires_at;
};

/* Signs a JWT-SVID with key under kid; rsa_alg picks RS256 or PS256 when key
 * is RSA. Returns the compact token in a malloc'd string. */
WD_MUST_CHECK int jwtsvid_sign(EVP_PKEY *key, const char *kid, enum jwtsvid_rsa_alg rsa_alg,
	const struct jwtsvid_claims_in *claims, char **ret_token, struct wd_error *err);

struct jwtsvid_verified {
	struct spiffe_id subject;
	int64_t expires_at;
	int64_t issued_at;
};

/* Verifies token against the authorities at time now for audience: compact
 * form only, alg among the nine the standard allows, typ absent or JWT/JOSE,
 * no other header parameters, kid found, signature valid, sub a SPIFFE ID,
 * aud containing audience, exp in the future. */
WD_MUST_CHECK int jwtsvid_verify(const char *token, size_t len,
	const struct jwt_authority *authorities, size_t authority_count, const char *audience,
	int64_t now, struct jwtsvid_verified *ret_verified, struct wd_error *err);

/* Computes the RFC 7638 JWK thumbprint of key, base64url, as a key id; out
 * holds at least 44 bytes. */
WD_MUST_CHECK int jwtsvid_key_id(EVP_PKEY *key, char *out, size_t out_len);
