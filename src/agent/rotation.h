/* When to replace an SVID: at half of its lifetime with ±10% jitter, as
 * SPIRE's agent does (pkg/common/rotationutil), so many agents that got
 * their SVIDs together do not renew together. */
#pragma once

#include <stdint.h>

#include "common/macros.h"

/* Returns the Unix time at which an SVID valid from not_before to not_after
 * should be rotated: not_before + lifetime/2 ± lifetime/10, drawn from the
 * secure DRBG. A lifetime of 0 or less returns not_before. */
int64_t agent_rotation_time(int64_t not_before, int64_t not_after);

/* Returns the next retry delay after a failure, in seconds: doubled from
 * previous (the sync interval on the first failure), capped at max. */
int64_t agent_backoff_next(int64_t previous, int64_t interval, int64_t max);

/* Returns delay minus up to a quarter of it, drawn from the secure DRBG, so
 * agents that lost their server together do not retry together; at least
 * 1. */
int64_t agent_backoff_jitter(int64_t delay);
