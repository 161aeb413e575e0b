/* The proxy's JWT verifier inside: a reference-counted snapshot of the
 * JWKS keys, reloaded when the file changes, and the cache of verified
 * tokens. Private to jwt_keys.c, jwt_verify.c and jwt_cache.c. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

#include "policy/bi_jwt_key.h"
#include "policy/value.h"
#include "proxy/authz.h"

/* JWKS files larger than this are rejected; 1 MiB has room for hundreds
 * of RSA keys. */
#define JWT_JWKS_MAX_BYTES ((size_t)1 << 20)

/* Minimum interval between two stat calls on the JWKS file (milliseconds). */
#define JWT_JWKS_CHECK_MS 1000

/* Verified tokens kept, in a direct-mapped table. */
#define JWT_CACHE_SLOTS 256

/* Keys of one load of the JWKS file; immutable once published. */
struct jwt_key_snapshot {
	atomic_uint refs;
	struct jwt_keyset set;
	uint64_t generation;
};

struct jwt_cache_entry {
	char *token;
	size_t len;
	uint64_t hash;
	uint64_t generation; /* of the keys that verified it */
	int64_t expires_at;
	int64_t not_before;  /* INT64_MIN when the token has no nbf */
	struct rv *claims;   /* frozen */
};

struct proxy_jwt_verifier {
	char *jwks_path;
	char *issuer;
	char **audiences;
	size_t audience_count;
	int64_t leeway_seconds;

	pthread_mutex_t lock;          /* guards keys, file_stat, cache */
	struct jwt_key_snapshot *keys;
	struct stat file_stat;         /* of the file the keys came from */
	atomic_int_fast64_t next_check_ms;
	struct jwt_cache_entry cache[JWT_CACHE_SLOTS];
};

/* Loads the JWKS file at path: EC (P-256, P-384, P-521), RSA of at least
 * 2048 bits and Ed25519 public keys; "oct" keys are rejected. */
WD_MUST_CHECK int proxy_jwks_load(const char *path, uint64_t generation,
	struct jwt_key_snapshot **ret_keys, struct stat *ret_stat, struct wd_error *err);

/* Returns a new reference to the current keys, first reloading the file
 * when it changed and the last check is a second old. */
struct jwt_key_snapshot *proxy_jwks_current(struct proxy_jwt_verifier *verifier);

void proxy_jwks_unref(struct jwt_key_snapshot *keys); /* accepts NULL */

/* Looks token up; returns a new reference to its claims when it was
 * verified with keys of this generation, else NULL. The caller checks the
 * times again, which are stored in ret_expires_at and ret_not_before. */
struct rv *proxy_jwt_cache_find(struct proxy_jwt_verifier *verifier, const char *token, size_t len,
	uint64_t generation, int64_t *ret_expires_at, int64_t *ret_not_before);

/* Stores a verified token; failure to allocate just skips the cache. */
void proxy_jwt_cache_add(struct proxy_jwt_verifier *verifier, const char *token, size_t len,
	uint64_t generation, int64_t expires_at, int64_t not_before, struct rv *claims);

/* Empties the cache (with the lock held or during free). */
void proxy_jwt_cache_clear(struct proxy_jwt_verifier *verifier);
