/* Join tokens: single-use secrets an operator hands to a new agent, which
 * trades one for its first SVID. Only the SHA-256 of a token is stored, so a
 * copy of the datastore yields no usable token. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "common/random.h"
#include "identity/registry_internal.h"

#define TOKEN_RANDOM_BYTES (REGISTRY_TOKEN_LEN / 2)
#define TOKEN_HASH_LEN 32

/* The agent ID takes the first 16 bytes (32 hex digits) of the token's hash,
 * not the token, because agent IDs appear in logs and audit records. */
#define AGENT_ID_HASH_BYTES 16

static int agent_id_from_hash(const struct registry *registry,
	const uint8_t hash[static TOKEN_HASH_LEN], char **ret_agent_id)
{
	_wd_cleanup_(wd_freep) char *hex = NULL;
	char id[SPIFFE_ID_MAX_LEN + 1];
	int len;

	*ret_agent_id = NULL;
	WD_TRY(wd_hex_encode(hash, AGENT_ID_HASH_BYTES, &hex));
	len = snprintf(id, sizeof(id), "spiffe://%s%sjoin_token/%s", registry->trust_domain,
		REGISTRY_AGENT_PATH_PREFIX, hex);
	if (len < 0 || (size_t)len >= sizeof(id))
		return WD_ETOOBIG;
	*ret_agent_id = wd_strdup(id);
	return *ret_agent_id ? 0 : WD_ENOMEM;
}

/* Accepts exactly the form registry_token_create emits, so the hash of the
 * text is the stored one. */
static bool token_well_formed(const char *token)
{
	if (strnlen(token, REGISTRY_TOKEN_LEN + 1) != REGISTRY_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < REGISTRY_TOKEN_LEN; i++) {
		char c = token[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

int registry_token_create(struct registry *registry, int64_t ttl_seconds, int64_t now,
	char ret_token[static REGISTRY_TOKEN_BUF_LEN], char **ret_agent_id,
	int64_t *ret_expires_at, struct wd_error *err)
{
	uint8_t secret[TOKEN_RANDOM_BYTES];
	uint8_t hash[TOKEN_HASH_LEN];
	char *token = NULL;
	_wd_cleanup_(wd_freep) char *agent_id = NULL;
	int64_t expires_at;
	int rc = 0;

	memset(ret_token, 0, REGISTRY_TOKEN_BUF_LEN);
	wd_error_clear(err);
	if (ret_agent_id)
		*ret_agent_id = NULL;
	if (ret_expires_at)
		*ret_expires_at = 0;

	if (ttl_seconds == 0)
		ttl_seconds = REGISTRY_TOKEN_DEFAULT_TTL;
	if (ttl_seconds < 0 || ttl_seconds > REGISTRY_TOKEN_MAX_TTL)
		return wd_error_set(err, WD_EINVAL,
			"invalid join token TTL %lld: must be 1 to %d seconds (0 for %d)",
			(long long)ttl_seconds, REGISTRY_TOKEN_MAX_TTL, REGISTRY_TOKEN_DEFAULT_TTL);
	if (__builtin_add_overflow(now, ttl_seconds, &expires_at))
		return wd_error_set(err, WD_EINVAL, "invalid time %lld", (long long)now);

	if (wd_random_bytes(secret, sizeof(secret)) < 0) {
		rc = wd_error_set(err, WD_EINTERNAL, "registry: random join token failed");
		goto out;
	}
	WD_GUARD(wd_hex_encode(secret, sizeof(secret), &token));
	WD_GUARD(registry_sha256(token, REGISTRY_TOKEN_LEN, hash));
	WD_GUARD(agent_id_from_hash(registry, hash, &agent_id));

	struct store_value params[] = {
		STORE_BLOB_VALUE(hash, sizeof(hash)),
		STORE_TEXT_VALUE(agent_id),
		STORE_INT_VALUE(now),
		STORE_INT_VALUE(expires_at),
	};
	WD_GUARD(store_exec(registry->store,
		"INSERT INTO registry_join_tokens (token_hash, agent_id, created_at, expires_at) "
		"VALUES ($1, $2, $3, $4)", params, WD_ARRAY_LEN(params), NULL, err));

	memcpy(ret_token, token, REGISTRY_TOKEN_BUF_LEN);
	if (ret_agent_id)
		*ret_agent_id = WD_TAKE_PTR(agent_id);
	if (ret_expires_at)
		*ret_expires_at = expires_at;
out:
	if (rc < 0 && (!err || err->code != rc))
		wd_error_set(err, rc, "registry: cannot create join token");
	OPENSSL_cleanse(secret, sizeof(secret));
	wd_free_secret_str(token);
	return rc;
}

struct token_row {
	bool found;
	uint8_t hash[TOKEN_HASH_LEN];
	int64_t expires_at;
	bool used;
};

static int read_token_row(void *context, const struct store_row *row)
{
	struct token_row *token_row = context;
	size_t len = 0;
	const void *hash = store_row_blob(row, 0, &len);

	if (!hash || len != TOKEN_HASH_LEN)
		return WD_ECORRUPT;
	memcpy(token_row->hash, hash, TOKEN_HASH_LEN);
	token_row->expires_at = store_row_int(row, 1);
	token_row->used = !store_row_is_null(row, 2);
	token_row->found = true;
	return 0;
}

int registry_token_consume(struct registry *registry, const char *token, int64_t now,
	char **ret_agent_id, struct wd_error *err)
{
	uint8_t hash[TOKEN_HASH_LEN];
	struct token_row row = { 0 };
	_wd_cleanup_(wd_freep) char *agent_id = NULL;
	struct store_value hash_param[] = { STORE_BLOB_VALUE(hash, sizeof(hash)) };
	bool in_transaction = false;
	int64_t changes = 0;
	int rc = 0;

	*ret_agent_id = NULL;
	wd_error_clear(err);
	if (!token || !token_well_formed(token))
		return wd_error_set(err, WD_EINVAL,
			"invalid join token: expected %d lowercase hexadecimal digits",
			REGISTRY_TOKEN_LEN);
	WD_GUARD(registry_sha256(token, REGISTRY_TOKEN_LEN, hash));
	WD_GUARD(agent_id_from_hash(registry, hash, &agent_id));

	WD_GUARD(store_begin(registry->store, err));
	in_transaction = true;
	WD_GUARD(store_query(registry->store,
		"SELECT token_hash, expires_at, used_at FROM registry_join_tokens "
		"WHERE token_hash = $1", hash_param, 1, read_token_row, &row, err));

	/* The lookup already matched the hash; the constant-time comparison
	 * keeps a backend that compares blobs loosely from matching early. */
	if (!row.found || CRYPTO_memcmp(row.hash, hash, sizeof(hash)) != 0) {
		rc = wd_error_set(err, WD_ENOTFOUND, "unknown join token");
		goto out;
	}
	if (row.used) {
		rc = wd_error_set(err, WD_ECONFLICT, "join token already used (agent %s)",
			agent_id);
		goto out;
	}
	if (now >= row.expires_at) {
		rc = wd_error_set(err, WD_EEXPIRED, "join token for agent %s expired at %lld",
			agent_id, (long long)row.expires_at);
		goto out;
	}

	/* "used_at IS NULL" makes a concurrent consume on another server lose. */
	struct store_value update_params[] = {
		STORE_INT_VALUE(now),
		STORE_BLOB_VALUE(hash, sizeof(hash)),
	};
	WD_GUARD(store_exec(registry->store,
		"UPDATE registry_join_tokens SET used_at = $1 "
		"WHERE token_hash = $2 AND used_at IS NULL", update_params,
		WD_ARRAY_LEN(update_params), &changes, err));
	if (changes != 1) {
		rc = wd_error_set(err, WD_ECONFLICT, "join token already used (agent %s)",
			agent_id);
		goto out;
	}
	WD_GUARD(store_commit(registry->store, err));
	in_transaction = false;

	*ret_agent_id = WD_TAKE_PTR(agent_id);
out:
	if (in_transaction)
		store_rollback(registry->store);
	if (rc < 0 && (!err || err->code != rc))
		wd_error_set(err, rc, "registry: cannot check join token");
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

int registry_token_prune(struct registry *registry, int64_t now, int64_t *ret_count,
	struct wd_error *err)
{
	struct store_value params[] = { STORE_INT_VALUE(now) };
	int64_t changes = 0;

	if (ret_count)
		*ret_count = 0;
	WD_TRY(store_exec(registry->store,
		"DELETE FROM registry_join_tokens WHERE expires_at <= $1", params, 1, &changes,
		err));
	if (ret_count)
		*ret_count = changes;
	return 0;
}
