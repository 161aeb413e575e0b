/* A per-thread cache of public keys parsed from PEM text for the io.jwt
 * builtins. Policies pass the same certificate on every decision, and
 * OpenSSL 3's decoders take longer to parse it than the signature takes to
 * verify. Only public keys are kept: HMAC secrets and JWKs are never
 * cached. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "policy/bi_jwt_key.h"

#define PEM_CACHE_SLOTS 16

/* Longest PEM text worth caching; larger texts are parsed each time. */
#define PEM_CACHE_MAX_TEXT 16384

struct pem_cache_entry {
	uint64_t hash;
	size_t len;
	char *text;
	EVP_PKEY *pkey;
};

struct pem_cache {
	struct pem_cache_entry entries[PEM_CACHE_SLOTS];
	size_t next;                    /* the slot replaced next */
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_key_ok;

static void cache_free(void *arg)
{
	struct pem_cache *cache = arg;

	for (size_t i = 0; i < PEM_CACHE_SLOTS; i++) {
		free(cache->entries[i].text);
		EVP_PKEY_free(cache->entries[i].pkey);
	}
	free(cache);
}

static void cache_key_create(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

static struct pem_cache *cache_get(bool create)
{
	struct pem_cache *cache;

	pthread_once(&cache_once, cache_key_create);
	if (!cache_key_ok)
		return NULL;
	cache = pthread_getspecific(cache_key);
	if (!cache && create) {
		cache = calloc(1, sizeof(*cache));
		if (cache && pthread_setspecific(cache_key, cache) != 0) {
			free(cache);
			cache = NULL;
		}
	}
	return cache;
}

static uint64_t text_hash(const char *text, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)text[i];
		h *= 1099511628211ULL;
	}
	return h;
}

EVP_PKEY *jwt_pem_cache_find(const char *text, size_t len)
{
	struct pem_cache *cache = cache_get(false);
	uint64_t h;

	if (!cache || len > PEM_CACHE_MAX_TEXT)
		return NULL;
	h = text_hash(text, len);
	for (size_t i = 0; i < PEM_CACHE_SLOTS; i++) {
		struct pem_cache_entry *e = &cache->entries[i];

		if (e->pkey && e->hash == h && e->len == len && memcmp(e->text, text, len) == 0)
			return EVP_PKEY_up_ref(e->pkey) ? e->pkey : NULL;
	}
	return NULL;
}

void jwt_pem_cache_add(const char *text, size_t len, EVP_PKEY *pkey)
{
	struct pem_cache *cache;
	struct pem_cache_entry *e;
	char *copy;

	if (len > PEM_CACHE_MAX_TEXT)
		return;
	cache = cache_get(true);
	if (!cache)
		return;
	copy = malloc(len ? len : 1);
	if (!copy)
		return;
	if (!EVP_PKEY_up_ref(pkey)) {
		free(copy);
		return;
	}
	memcpy(copy, text, len);

	e = &cache->entries[cache->next];
	cache->next = (cache->next + 1) % PEM_CACHE_SLOTS;
	free(e->text);
	EVP_PKEY_free(e->pkey);
	*e = (struct pem_cache_entry){ .hash = text_hash(text, len), .len = len, .text = copy,
		.pkey = pkey };
}
