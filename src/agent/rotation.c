/* Rotation times with jitter, and the retry backoff of the sync thread. */
#include <stdint.h>

#include "agent/rotation.h"
#include "common/random.h"

int64_t agent_rotation_time(int64_t not_before, int64_t not_after)
{
	int64_t lifetime = not_after - not_before;
	int64_t spread = lifetime / 10;
	uint64_t draw = 0;
	int64_t jitter = 0;

	if (lifetime <= 0)
		return not_before;
	/* A uniform draw in [-spread, +spread]; the modulo bias is below 2^-40
	 * for any lifetime an SVID can have. On a DRBG failure the jitter is
	 * 0, which only loses the spreading. */
	if (spread > 0 && wd_random_bytes(&draw, sizeof(draw)) == 0)
		jitter = (int64_t)(draw % (uint64_t)(2 * spread + 1)) - spread;
	return not_before + lifetime / 2 + jitter;
}

int64_t agent_backoff_next(int64_t previous, int64_t interval, int64_t max)
{
	int64_t next = previous <= 0 ? interval : previous * 2;

	if (next < 1)
		next = 1;
	return next > max ? max : next;
}

int64_t agent_backoff_jitter(int64_t delay)
{
	uint64_t draw = 0;
	int64_t spread = delay / 4;

	if (spread > 0 && wd_random_bytes(&draw, sizeof(draw)) == 0)
		delay -= (int64_t)(draw % (uint64_t)(spread + 1));
	return delay < 1 ? 1 : delay;
}
