/* Keys and JWS algorithms for the io.jwt.* builtins: loading PEM
 * certificates, PEM public keys and JWK (sets), and signing and verifying
 * with each algorithm OPA supports. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/macros.h"

enum jwt_alg_kind {
	JWT_HMAC,
	JWT_RSA_PKCS1,
	JWT_RSA_PSS,
	JWT_ECDSA,
	JWT_EDDSA,
};

/* A JWS algorithm (RFC 7518 section 3.1). */
struct jwt_alg {
	const char *name;          /* "RS256" */
	enum jwt_alg_kind kind;
	const char *digest;        /* OpenSSL digest name; NULL for EdDSA */
};

/* Returns the algorithm named name (len bytes), or NULL for one OPA does not
 * support. */
const struct jwt_alg *jwt_alg_find(const char *name, size_t len);

/* A verification or signing key: an OpenSSL key, or an HMAC secret. */
struct jwt_key {
	EVP_PKEY *pkey;
	uint8_t *secret;           /* "oct" keys; wiped on free */
	size_t secret_len;
	char alg[16];              /* the JWK "alg", "" when absent */
	char *kid;                 /* the JWK "kid", NULL when absent */
};

struct jwt_keyset {
	struct jwt_key *keys;
	size_t count;
};

/* Maximum number of keys accepted in one JWK set. */
#define JWT_MAX_KEYS 256

/* Loads the keys OPA's io.jwt builtins accept as a "cert": one PEM
 * CERTIFICATE or PUBLIC KEY block, else a JWK or JWK set (keys whose "alg"
 * is unknown are skipped). On failure stores OPA's message in err and
 * returns WD_EINVAL. */
WD_MUST_CHECK int jwt_keys_load(const char *text, size_t len, struct jwt_keyset *ret_keys,
				char *err, size_t err_cap);

/* Parses a JWK set or a single JWK, public or private, into ret_keys
 * (every key kept). */
WD_MUST_CHECK int jwt_jwks_parse(const char *text, size_t len, struct jwt_keyset *ret_keys,
				 char *err, size_t err_cap);

/* The per-thread cache of public keys parsed from PEM text (bi_jwt_cache.c):
 * find returns a new reference or NULL; add keeps its own reference. */
EVP_PKEY *jwt_pem_cache_find(const char *text, size_t len);
void jwt_pem_cache_add(const char *text, size_t len, EVP_PKEY *pkey);

/* Frees the keys (wiping secrets); accepts an empty set. */
void jwt_keyset_free(struct jwt_keyset *keys);

/* Checks sig over msg with alg and key. Returns 1 when valid, 0 when not
 * (including a key of the wrong type), or a negative code when memory runs
 * out. strict follows the JWS library of decode_verify: ECDSA needs r || s
 * of twice the curve size and RSA-PSS a salt as long as the hash. Otherwise
 * the rules of OPA's verify_* builtins apply: the signature is split in
 * halves and any PSS salt length is accepted. */
WD_MUST_CHECK int jwt_verify(const struct jwt_alg *alg, const struct jwt_key *key,
			     const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len,
			     bool strict);

/* Signs msg with alg and key into sig (raw r || s for ECDSA). WD_EINVAL with
 * a message in err when the key does not suit the algorithm. */
WD_MUST_CHECK int jwt_sign(const struct jwt_alg *alg, const struct jwt_key *key,
			   const uint8_t *msg, size_t msg_len, struct wd_buf *sig, char *err,
			   size_t err_cap);
