/* Verified tokens of the proxy's JWT verifier, so a client that sends the
 * same bearer token on every request pays for one signature check. A
 * direct-mapped table: a colliding token replaces the older one. Only
 * tokens that verified are stored, and each hit is compared byte for byte. */
#include <string.h>

#include "common/alloc.h"
#include "proxy/jwt_internal.h"

/* FNV-1a: tokens are signed, so an attacker can choose them, but a
 * collision only evicts an entry and never returns wrong claims. */
static uint64_t token_hash(const char *token, size_t len)
{
	uint64_t hash = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++) {
		hash ^= (uint8_t)token[i];
		hash *= 1099511628211ull;
	}
	return hash;
}

static void entry_clear(struct jwt_cache_entry *entry)
{
	free(entry->token);
	rv_free_frozen(entry->claims);
	memset(entry, 0, sizeof(*entry));
}

struct rv *proxy_jwt_cache_find(struct proxy_jwt_verifier *verifier, const char *token,
	size_t len, uint64_t generation, int64_t *ret_expires_at, int64_t *ret_not_before)
{
	uint64_t hash = token_hash(token, len);
	struct jwt_cache_entry *entry = &verifier->cache[hash % JWT_CACHE_SLOTS];
	struct rv *claims = NULL;

	pthread_mutex_lock(&verifier->lock);
	if (entry->token && entry->hash == hash && entry->len == len &&
	    entry->generation == generation && memcmp(entry->token, token, len) == 0) {
		claims = rv_ref(entry->claims);
		*ret_expires_at = entry->expires_at;
		*ret_not_before = entry->not_before;
	}
	pthread_mutex_unlock(&verifier->lock);
	return claims;
}

void proxy_jwt_cache_add(struct proxy_jwt_verifier *verifier, const char *token, size_t len,
	uint64_t generation, int64_t expires_at, int64_t not_before, struct rv *claims)
{
	uint64_t hash = token_hash(token, len);
	struct jwt_cache_entry fresh = {
		.len = len,
		.hash = hash,
		.generation = generation,
		.expires_at = expires_at,
		.not_before = not_before,
	};
	struct jwt_cache_entry old;
	struct jwt_cache_entry *entry;

	fresh.token = wd_strndup(token, len);
	if (!fresh.token)
		return;
	fresh.claims = rv_ref(claims);

	entry = &verifier->cache[hash % JWT_CACHE_SLOTS];
	pthread_mutex_lock(&verifier->lock);
	old = *entry;
	*entry = fresh;
	pthread_mutex_unlock(&verifier->lock);
	entry_clear(&old);
}

void proxy_jwt_cache_clear(struct proxy_jwt_verifier *verifier)
{
	for (size_t i = 0; i < JWT_CACHE_SLOTS; i++)
		entry_clear(&verifier->cache[i]);
}
