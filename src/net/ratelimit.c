/* Token buckets keyed by client address, with a hash index and an LRU list
 * so that the table stays at its ceiling however many clients call. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "net/ratelimit.h"

/* Index of no entry in the hash chains and the LRU list. */
#define NONE UINT32_MAX

/* Tokens are kept in thousandths so that refills need no floating point. */
#define MILLI 1000u

struct bucket {
	char key[NET_RATELIMIT_KEY_MAX + 1];
	uint64_t milli_tokens;
	uint64_t updated_ms;
	uint64_t refusal_logged_ms; /* time of the last first_refusal */
	bool refusal_logged;
	uint32_t hash_next;
	uint32_t lru_prev, lru_next; /* lru_prev toward the most recently used */
};

struct net_ratelimit {
	uint64_t rate;  /* tokens per second */
	uint64_t burst; /* tokens */
	struct bucket *buckets;
	size_t capacity;
	size_t count;
	uint32_t *heads;  /* hash chains; head_count is a power of two */
	size_t head_count;
	uint32_t lru_first, lru_last; /* most and least recently used */
};

int net_ratelimit_new(unsigned rate_per_second, unsigned burst, size_t max_keys,
	struct net_ratelimit **ret_limit)
{
	struct net_ratelimit *limit;
	size_t heads = 16;

	*ret_limit = NULL;
	if (rate_per_second == 0 || burst == 0 || max_keys == 0 || max_keys >= NONE / 2)
		return WD_EINVAL;
	while (heads < 2 * max_keys)
		heads *= 2;

	limit = calloc(1, sizeof(*limit));
	if (!limit)
		return WD_ENOMEM;
	limit->rate = rate_per_second;
	limit->burst = burst;
	limit->capacity = max_keys;
	limit->head_count = heads;
	limit->lru_first = limit->lru_last = NONE;
	limit->buckets = wd_calloc(max_keys, sizeof(*limit->buckets));
	limit->heads = wd_calloc(heads, sizeof(*limit->heads));
	if (!limit->buckets || !limit->heads) {
		net_ratelimit_free(limit);
		return WD_ENOMEM;
	}
	memset(limit->heads, 0xff, heads * sizeof(*limit->heads));
	*ret_limit = limit;
	return 0;
}

void net_ratelimit_free(struct net_ratelimit *limit)
{
	if (!limit)
		return;
	free(limit->buckets);
	free(limit->heads);
	free(limit);
}

size_t net_ratelimit_key_count(const struct net_ratelimit *limit)
{
	return limit->count;
}

/* FNV-1a, 32 bits. The keys are client addresses, which a client cannot
 * choose freely, so no keyed hash is needed against crafted collisions. */
static uint32_t key_hash(const char *key)
{
	uint32_t hash = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		hash = (hash ^ *p) * 16777619u;
	return hash;
}

static uint32_t *chain_head(struct net_ratelimit *limit, const char *key)
{
	return &limit->heads[key_hash(key) & (limit->head_count - 1)];
}

static void lru_unlink(struct net_ratelimit *limit, uint32_t index)
{
	struct bucket *b = &limit->buckets[index];

	if (b->lru_prev != NONE)
		limit->buckets[b->lru_prev].lru_next = b->lru_next;
	else
		limit->lru_first = b->lru_next;
	if (b->lru_next != NONE)
		limit->buckets[b->lru_next].lru_prev = b->lru_prev;
	else
		limit->lru_last = b->lru_prev;
	b->lru_prev = b->lru_next = NONE;
}

static void lru_push_front(struct net_ratelimit *limit, uint32_t index)
{
	struct bucket *b = &limit->buckets[index];

	b->lru_prev = NONE;
	b->lru_next = limit->lru_first;
	if (limit->lru_first != NONE)
		limit->buckets[limit->lru_first].lru_prev = index;
	limit->lru_first = index;
	if (limit->lru_last == NONE)
		limit->lru_last = index;
}

static uint32_t bucket_find(struct net_ratelimit *limit, const char *key)
{
	for (uint32_t i = *chain_head(limit, key); i != NONE; i = limit->buckets[i].hash_next) {
		if (strcmp(limit->buckets[i].key, key) == 0)
			return i;
	}
	return NONE;
}

static void chain_remove(struct net_ratelimit *limit, uint32_t index)
{
	uint32_t *link = chain_head(limit, limit->buckets[index].key);

	while (*link != NONE && *link != index)
		link = &limit->buckets[*link].hash_next;
	if (*link == index)
		*link = limit->buckets[index].hash_next;
}

/* Returns a fresh bucket for key with a full burst, reusing the least
 * recently used one when the table is full. */
static uint32_t bucket_insert(struct net_ratelimit *limit, const char *key, size_t key_len,
	uint64_t now_ms)
{
	uint32_t index;
	uint32_t *head;
	struct bucket *b;

	if (limit->count < limit->capacity) {
		index = (uint32_t)limit->count++;
	} else {
		/* NOTE: an evicted key comes back with a full burst, so a client
		 * that cycles through more than max_keys addresses gets more
		 * than the rate. */
		index = limit->lru_last;
		lru_unlink(limit, index);
		chain_remove(limit, index);
	}
	b = &limit->buckets[index];
	memset(b, 0, sizeof(*b));
	memcpy(b->key, key, key_len + 1);
	b->milli_tokens = limit->burst * MILLI;
	b->updated_ms = now_ms;
	head = chain_head(limit, key);
	b->hash_next = *head;
	*head = index;
	lru_push_front(limit, index);
	return index;
}

static void bucket_refill(const struct net_ratelimit *limit, struct bucket *b, uint64_t now_ms)
{
	uint64_t elapsed_ms = now_ms > b->updated_ms ? now_ms - b->updated_ms : 0;
	uint64_t cap = limit->burst * MILLI;
	uint64_t added;

	/* rate * elapsed_ms thousandths: one second at 1/s adds 1000. A gap
	 * long enough to overflow has refilled the bucket anyway. */
	if (__builtin_mul_overflow(elapsed_ms, limit->rate, &added) || added >= cap ||
	    b->milli_tokens + added >= cap)
		b->milli_tokens = cap;
	else
		b->milli_tokens += added;
	b->updated_ms = now_ms;
}

int net_ratelimit_take(struct net_ratelimit *limit, const char *key, uint64_t now_ms,
	struct net_ratelimit_verdict *ret_verdict)
{
	size_t key_len = strnlen(key, NET_RATELIMIT_KEY_MAX + 1);
	struct bucket *b;
	uint32_t index;

	*ret_verdict = (struct net_ratelimit_verdict){ 0 };
	if (key_len > NET_RATELIMIT_KEY_MAX)
		return WD_EINVAL;

	index = bucket_find(limit, key);
	if (index == NONE)
		index = bucket_insert(limit, key, key_len, now_ms);
	else {
		lru_unlink(limit, index);
		lru_push_front(limit, index);
	}
	b = &limit->buckets[index];
	bucket_refill(limit, b, now_ms);

	if (b->milli_tokens >= MILLI) {
		b->milli_tokens -= MILLI;
		ret_verdict->allowed = true;
		return 0;
	}
	/* Milliseconds until the bucket contains one whole token, rounded up. */
	ret_verdict->retry_after_ms = (MILLI - b->milli_tokens + limit->rate - 1) / limit->rate;
	if (!b->refusal_logged || now_ms - b->refusal_logged_ms >= 1000) {
		b->refusal_logged = true;
		b->refusal_logged_ms = now_ms;
		ret_verdict->first_refusal = true;
	}
	return 0;
}
