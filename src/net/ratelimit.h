/* Per-client rate limits: token buckets keyed by a short string such as a
 * client IP address, in a table of fixed size that evicts the least
 * recently used key. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

/* Longest key, in bytes without the NUL; an IPv6 address in text is 45. */
#define NET_RATELIMIT_KEY_MAX 63u

struct net_ratelimit;

/* Outcome of one net_ratelimit_take call. */
struct net_ratelimit_verdict {
	bool allowed;
	/* When refused: milliseconds until the key's next token. */
	uint64_t retry_after_ms;
	/* When refused: true for the first refusal of the key within one
	 * second, so a caller can log and audit at most once a second. */
	bool first_refusal;
};

/* Creates a table of at most max_keys buckets, each refilled at
 * rate_per_second tokens and holding at most burst. WD_EINVAL for a zero
 * argument, WD_ENOMEM. */
WD_MUST_CHECK int net_ratelimit_new(unsigned rate_per_second, unsigned burst, size_t max_keys,
	struct net_ratelimit **ret_limit);

/* Frees the table; accepts NULL. */
void net_ratelimit_free(struct net_ratelimit *limit);

/* Takes one token from key's bucket at now_ms (a monotonic clock). A key
 * not in the table starts with a full bucket and may evict the least
 * recently used key. WD_EINVAL for a key longer than NET_RATELIMIT_KEY_MAX. */
WD_MUST_CHECK int net_ratelimit_take(struct net_ratelimit *limit, const char *key,
	uint64_t now_ms, struct net_ratelimit_verdict *ret_verdict);

/* Returns the number of keys in the table now. */
size_t net_ratelimit_key_count(const struct net_ratelimit *limit);
