/* Default resource ceilings of listeners. */
#include <stdint.h>

#include "net/net_private.h"

void net_limits_default(struct net_limits *ret_limits)
{
	*ret_limits = (struct net_limits){
		.max_body_bytes = NET_DEFAULT_MAX_BODY_BYTES,
		.max_header_bytes = NET_DEFAULT_MAX_HEADER_BYTES,
		.max_header_count = NET_DEFAULT_MAX_HEADER_COUNT,
		.read_timeout_ms = NET_DEFAULT_READ_TIMEOUT_MS,
		.idle_timeout_ms = NET_DEFAULT_IDLE_TIMEOUT_MS,
		.max_connections = NET_DEFAULT_MAX_CONNECTIONS,
	};
}

int limits_normalize(const struct net_limits *limits, struct net_limits *ret_limits,
	struct wd_error *err)
{
	struct net_limits out;

	net_limits_default(&out);
	if (limits) {
		if (limits->max_body_bytes)
			out.max_body_bytes = limits->max_body_bytes;
		if (limits->max_header_bytes)
			out.max_header_bytes = limits->max_header_bytes;
		if (limits->max_header_count)
			out.max_header_count = limits->max_header_count;
		if (limits->read_timeout_ms)
			out.read_timeout_ms = limits->read_timeout_ms;
		if (limits->idle_timeout_ms)
			out.idle_timeout_ms = limits->idle_timeout_ms;
		if (limits->max_connections)
			out.max_connections = limits->max_connections;
	}
	/* libevent takes the byte limits as ev_ssize_t. */
	if (out.max_body_bytes > INT64_MAX / 2 || out.max_header_bytes > INT64_MAX / 2)
		return wd_error_set(err, WD_EINVAL, "byte limits must be below 2^62");
	*ret_limits = out;
	return 0;
}
