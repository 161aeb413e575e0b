/* Structures shared by the files of the net module; not part of its API. */
#pragma once

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "net/net.h"

/* A route after compilation: the pattern split into segments. */
struct route_segment {
	char *literal; /* NULL for a {name} parameter */
	char *param_name;
	bool rest;     /* {name...}: the last segment, matching all that follow */
};

struct compiled_route {
	struct net_route route;
	enum evhttp_cmd_type method;
	struct route_segment *segments;
	size_t segment_count;
};

struct router {
	struct compiled_route *routes;
	size_t count;
};

/* Maximum path segments and {name} parameters of one pattern or request. */
#define ROUTER_MAX_SEGMENTS 32u

struct route_param {
	const char *name; /* borrowed from the route */
	char *value;      /* decoded, owned by the request */
};

enum listener_kind {
	LISTENER_TLS,
	LISTENER_UNIX,
};

/* A client IP address as a key: IPv4 as an IPv4-mapped IPv6 address
 * (RFC 4291 section 2.5.5.2), with the text form for messages. */
struct ip_key {
	uint8_t bytes[16];
	char text[INET6_ADDRSTRLEN];
};

/* Open connections of one client address on a listener. */
struct ip_slot {
	uint8_t bytes[16];
	size_t count;
};

/* The phase of a connection, which decides what its timer enforces. */
enum track_phase {
	TRACK_ADMIT,     /* TLS: just accepted, the per-address check is queued */
	TRACK_HANDSHAKE, /* TLS: until the first byte of the first request */
	TRACK_READING,   /* a request is being read: the request deadline runs */
	TRACK_IDLE,      /* a request was read; no deadline until the next byte */
	TRACK_CLOSING,   /* shut down by a limit; libevent frees it next */
};

/* State kept for an HTTP connection: it runs the connection's deadlines,
 * switches it between read and idle timeouts and caches the Unix peer
 * credentials. A TLS connection gets it at accept, stored in its SSL's
 * ex_data and freed with the SSL. A Unix one gets it at its first request
 * and loses it in libevent's close callback. */
struct conn_track {
	struct net_listener *listener; /* NULL once the listener is freed */
	struct evhttp_connection *evcon; /* set at the first request */
	struct bufferevent *bev;
	struct evbuffer_cb_entry *input_cb;
	struct event *timer; /* the queued admission, then the phase's deadline */
	enum track_phase phase;
	bool ip_counted; /* holds a count in the listener's ip_slots */
	struct ip_key ip;
	bool has_cred;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	struct conn_track *prev, *next; /* the listener's TLS tracks */
};

/* Kinds of connections closed by a limit, each reported at most once a
 * second. */
enum refusal_kind {
	REFUSAL_PER_IP,
	REFUSAL_MAX_CONNECTIONS,
	REFUSAL_HANDSHAKE_TIMEOUT,
	REFUSAL_REQUEST_TIMEOUT,
	REFUSAL_KIND_COUNT,
};

/* Report throttle of one refusal kind: the first refusal is reported at
 * once and opens a one-second window. Later ones in the window are counted
 * and reported in one line when it ends. */
struct refusal_log {
	struct net_server *server;
	struct event *flush;
	int code;
	bool window_open;
	size_t suppressed;
	char last_detail[200];
};

struct net_listener {
	struct net_server *server;
	enum listener_kind kind;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct router router;

	/* TLS: the context for new handshakes, swapped under ctx_lock. */
	pthread_mutex_t ctx_lock;
	SSL_CTX *ctx;
	size_t tls_connections; /* open TLS connections, counted from accept */

	/* Unix: socket path to unlink on free and the uids served. */
	char *path;
	uid_t *allowed_uids;
	size_t allowed_uid_count;

	/* Unix connections that sent at least one request. */
	struct conn_track **tracks;
	size_t track_count;

	/* TLS connections, from accept until their SSL is freed. */
	struct conn_track *tls_tracks;
	/* Open TLS connections per client address, at most max_connections
	 * addresses. */
	struct ip_slot *ip_slots;
	size_t ip_slot_count;

	struct net_listener *next;
};

struct net_server {
	struct event_base *base;
	struct net_limits limits;
	net_error_fn error_cb;
	void *error_arg;
	struct net_listener *listeners;
	struct refusal_log refusals[REFUSAL_KIND_COUNT];
	struct net_request *deferred; /* requests kept open by their handlers */
};

struct net_request {
	struct evhttp_request *ev;
	struct net_listener *listener;
	struct conn_track *track;
	const char *method;
	char *path; /* decoded */
	/* Percent-encoded but normalized as RFC 3986 section 6.2.2 suggests,
	 * for routing: unreserved characters decoded, other escapes in
	 * uppercase hex. */
	char *route_path;
	struct evkeyvalq query;
	bool query_parsed;
	struct route_param params[ROUTER_MAX_SEGMENTS];
	size_t param_count;
	uint8_t *body;
	size_t body_len;
	STACK_OF(X509) *peer_chain; /* borrowed from the SSL object */
	bool replied;
	/* Moved to the heap by net_request_defer; the original is then left
	 * empty, and the copy is on the server's list of open requests. */
	bool deferred;
	struct net_request *deferred_prev, *deferred_next;
};

/* router.c */
WD_MUST_CHECK int router_compile(struct router *router, const struct net_route *routes,
	size_t count, struct wd_error *err);
void router_clear(struct router *router);
/* Finds the route for method and decoded path and fills the request's
 * params. WD_ENOTFOUND when no pattern matches the path; WD_EPERM (405) when
 * a pattern matches with another method, with the allowed methods written
 * as "GET, POST" into allow. */
WD_MUST_CHECK int router_match(const struct router *router, enum evhttp_cmd_type method,
	const char *path, struct net_request *req, const struct compiled_route **ret_route,
	char *allow, size_t allow_len);
const char *router_method_name(enum evhttp_cmd_type method);
/* Normalizes the percent-encoding of a raw path for routing: escapes of
 * unreserved characters (RFC 3986 section 2.3) are decoded, so "/v1/%68ealth"
 * routes as "/v1/health", and the hex digits of other escapes are made
 * uppercase; "%2F" stays an escape, so it never splits a segment. Malformed
 * escapes are kept as they are. Returns a malloc'd string or NULL. */
char *router_path_normalize(const char *raw_path);

/* tls.c */
WD_MUST_CHECK int tls_server_ctx_new(const struct net_tls_config *tls, SSL_CTX **ret_ctx,
	struct wd_error *err);
/* Creates an SSL for a new connection of listener; NULL on failure. */
SSL *tls_connection_new(struct net_listener *listener);
/* Unties ssl from its listener before the listener is freed: libevent frees
 * the SSL later, when it finalizes the connection's bufferevent. */
void tls_connection_detach(SSL *ssl);
WD_MUST_CHECK int tls_parse_chain(const char *pem, size_t len, STACK_OF(X509) **ret_chain,
	struct wd_error *err);

/* request.c */
WD_MUST_CHECK int request_init(struct net_request *req, struct evhttp_request *ev,
	struct net_listener *listener, struct conn_track *track, struct wd_error *err);
void request_release(struct net_request *req);
/* Sends a JSON error reply and closes the connection afterwards. */
void request_reply_error_close(struct net_request *req, int code, const char *detail);
/* Sends {"error":{"code":<name of code>,"message":detail}} with status,
 * adding Connection: close when close is set. For replies before a handler
 * runs (404, 405, 431). */
void reply_error_raw(struct evhttp_request *ev, int status, int code, const char *detail,
	bool close);

/* limits.c */
/* Copies limits (NULL: defaults) into ret_limits, with zero fields set to
 * their defaults. WD_EINVAL when a value does not fit libevent's types. */
WD_MUST_CHECK int limits_normalize(const struct net_limits *limits,
	struct net_limits *ret_limits, struct wd_error *err);

/* Reads the peer address of the connected socket fd; WD_EIO when it has
 * none, WD_EUNSUPPORTED for a family other than IPv4 and IPv6. */
WD_MUST_CHECK int ip_key_of_socket(int fd, struct ip_key *ret_key);

/* Counts one more connection from key on listener and stores the count it
 * now has. WD_ETOOBIG when key already has max_connections_per_ip, and
 * WD_EUNAVAILABLE when max_connections addresses are tracked; neither
 * changes a count. */
WD_MUST_CHECK int ip_slot_acquire(struct net_listener *listener, const struct ip_key *key,
	size_t *ret_count);
/* Undoes one ip_slot_acquire of key. */
void ip_slot_release(struct net_listener *listener, const struct ip_key *key);

/* Creates the report throttles of server on its event base; WD_ENOMEM. */
WD_MUST_CHECK int refusal_logs_init(struct net_server *server);
void refusal_logs_free(struct net_server *server);
/* Reports a connection closed by a limit through the server's error
 * callback, throttled per kind (struct refusal_log). */
void refusal_report(struct net_server *server, enum refusal_kind kind, const char *fmt, ...)
	WD_PRINTF(3, 4);

/* peercred.c */

/* Returns true when a process accepts connections on the Unix socket at
 * path, so a running server's socket is never taken for a stale one. */
bool unix_socket_in_use(const char *path);

WD_MUST_CHECK int peercred_read(int fd, uid_t *ret_uid, gid_t *ret_gid, pid_t *ret_pid);
/* Binds and listens on a Unix socket at path with exactly mode, removing a
 * stale socket file first; label ("admin socket", "gRPC socket") names the
 * socket in error details. */
WD_MUST_CHECK int unix_socket_bind(const char *path, mode_t mode, const char *label,
	int *ret_fd, struct wd_error *err);
