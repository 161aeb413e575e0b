/* Resource ceilings of listeners: their defaults, the count of open
 * connections per client address, and throttled reports of connections
 * closed by a limit. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "net/net_private.h"

void net_limits_default(struct net_limits *ret_limits)
{
	*ret_limits = (struct net_limits){
		.max_body_bytes = NET_DEFAULT_MAX_BODY_BYTES,
		.max_header_bytes = NET_DEFAULT_MAX_HEADER_BYTES,
		.max_header_count = NET_DEFAULT_MAX_HEADER_COUNT,
		.read_timeout_ms = NET_DEFAULT_READ_TIMEOUT_MS,
		.idle_timeout_ms = NET_DEFAULT_IDLE_TIMEOUT_MS,
		.request_timeout_ms = NET_DEFAULT_REQUEST_TIMEOUT_MS,
		.handshake_timeout_ms = NET_DEFAULT_HANDSHAKE_TIMEOUT_MS,
		.max_connections = NET_DEFAULT_MAX_CONNECTIONS,
		.max_connections_per_ip = NET_DEFAULT_MAX_CONNECTIONS_PER_IP,
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
		if (limits->request_timeout_ms)
			out.request_timeout_ms = limits->request_timeout_ms;
		if (limits->handshake_timeout_ms)
			out.handshake_timeout_ms = limits->handshake_timeout_ms;
		if (limits->max_connections)
			out.max_connections = limits->max_connections;
		if (limits->max_connections_per_ip)
			out.max_connections_per_ip = limits->max_connections_per_ip;
	}
	/* libevent takes the byte limits as ev_ssize_t. */
	if (out.max_body_bytes > INT64_MAX / 2 || out.max_header_bytes > INT64_MAX / 2)
		return wd_error_set(err, WD_EINVAL, "byte limits must be below 2^62");
	*ret_limits = out;
	return 0;
}

int ip_key_of_socket(int fd, struct ip_key *ret_key)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(ret_key, 0, sizeof(*ret_key));
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return WD_EIO;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		ret_key->bytes[10] = 0xff;
		ret_key->bytes[11] = 0xff;
		memcpy(ret_key->bytes + 12, &sin->sin_addr, 4);
		inet_ntop(AF_INET, &sin->sin_addr, ret_key->text, sizeof(ret_key->text));
		return 0;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

		memcpy(ret_key->bytes, &sin6->sin6_addr, 16);
		inet_ntop(AF_INET6, &sin6->sin6_addr, ret_key->text, sizeof(ret_key->text));
		return 0;
	}
	return WD_EUNSUPPORTED;
}

/* A linear search: the table contains at most max_connections addresses and
 * runs once per accept and once per close. */
static struct ip_slot *ip_slot_find(struct net_listener *listener, const struct ip_key *key)
{
	for (size_t i = 0; i < listener->ip_slot_count; i++) {
		if (memcmp(listener->ip_slots[i].bytes, key->bytes, sizeof(key->bytes)) == 0)
			return &listener->ip_slots[i];
	}
	return NULL;
}

int ip_slot_acquire(struct net_listener *listener, const struct ip_key *key, size_t *ret_count)
{
	const struct net_limits *limits = &listener->server->limits;
	struct ip_slot *slot = ip_slot_find(listener, key);

	*ret_count = slot ? slot->count : 0;
	if (slot) {
		if (slot->count >= limits->max_connections_per_ip)
			return WD_ETOOBIG;
		slot->count++;
		*ret_count = slot->count;
		return 0;
	}
	if (listener->ip_slot_count >= limits->max_connections)
		return WD_EUNAVAILABLE;
	slot = &listener->ip_slots[listener->ip_slot_count++];
	memcpy(slot->bytes, key->bytes, sizeof(slot->bytes));
	slot->count = 1;
	*ret_count = 1;
	return 0;
}

void ip_slot_release(struct net_listener *listener, const struct ip_key *key)
{
	struct ip_slot *slot = ip_slot_find(listener, key);

	if (!slot || slot->count == 0)
		return;
	if (--slot->count == 0)
		*slot = listener->ip_slots[--listener->ip_slot_count];
}

/* Refusal reports. */

#define REFUSAL_WINDOW_MS 1000

static void refusal_emit(struct refusal_log *log, const char *detail)
{
	struct net_server *server = log->server;

	if (server->error_cb)
		server->error_cb(log->code, detail, server->error_arg);
}

/* Ends a window. Refusals counted in it are reported in one line with the
 * last one's detail, and a new window opens, so a steady flood costs one
 * line a second. */
static void refusal_flush(evutil_socket_t fd, short events, void *arg)
{
	struct refusal_log *log = arg;
	struct timeval window = { .tv_sec = REFUSAL_WINDOW_MS / 1000 };
	char line[sizeof(log->last_detail) + 64];

	(void)fd;
	(void)events;
	if (log->suppressed == 0) {
		log->window_open = false;
		return;
	}
	snprintf(line, sizeof(line), "%s (%zu like this in the last second)", log->last_detail,
		log->suppressed);
	log->suppressed = 0;
	refusal_emit(log, line);
	if (event_add(log->flush, &window) < 0)
		log->window_open = false;
}

int refusal_logs_init(struct net_server *server)
{
	static const int codes[REFUSAL_KIND_COUNT] = {
		[REFUSAL_PER_IP] = WD_EUNAVAILABLE,
		[REFUSAL_MAX_CONNECTIONS] = WD_EUNAVAILABLE,
		[REFUSAL_HANDSHAKE_TIMEOUT] = WD_ETIMEOUT,
		[REFUSAL_REQUEST_TIMEOUT] = WD_ETIMEOUT,
	};

	for (size_t i = 0; i < REFUSAL_KIND_COUNT; i++) {
		struct refusal_log *log = &server->refusals[i];

		log->server = server;
		log->code = codes[i];
		log->flush = evtimer_new(server->base, refusal_flush, log);
		if (!log->flush)
			return WD_ENOMEM;
	}
	return 0;
}

void refusal_logs_free(struct net_server *server)
{
	for (size_t i = 0; i < REFUSAL_KIND_COUNT; i++) {
		if (server->refusals[i].flush)
			event_free(server->refusals[i].flush);
		server->refusals[i].flush = NULL;
	}
}

void refusal_report(struct net_server *server, enum refusal_kind kind, const char *fmt, ...)
{
	struct refusal_log *log = &server->refusals[kind];
	struct timeval window = { .tv_sec = REFUSAL_WINDOW_MS / 1000 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log->last_detail, sizeof(log->last_detail), fmt, ap);
	va_end(ap);

	if (log->window_open) {
		log->suppressed++;
		return;
	}
	refusal_emit(log, log->last_detail);
	log->window_open = true;
	log->suppressed = 0;
	/* Without the timer the window never closes and every later refusal
	 * of this kind is only counted, so fall back to reporting each. */
	if (!log->flush || event_add(log->flush, &window) < 0)
		log->window_open = false;
}
