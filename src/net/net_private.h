/* Structures shared by the files of the net module; not part of its API. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
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

/* State kept for an HTTP connection from its first request until libevent
 * frees it; it switches the connection between read and idle timeouts and
 * caches the Unix peer credentials. */
struct conn_track {
	struct net_listener *listener;
	struct evhttp_connection *evcon;
	struct evbuffer_cb_entry *input_cb;
	bool has_cred;
	uid_t uid;
	gid_t gid;
	pid_t pid;
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

	/* Connections that sent at least one request. */
	struct conn_track **tracks;
	size_t track_count;

	struct net_listener *next;
};

struct net_server {
	struct event_base *base;
	struct net_limits limits;
	net_error_fn error_cb;
	void *error_arg;
	struct net_listener *listeners;
};

struct net_request {
	struct evhttp_request *ev;
	struct net_listener *listener;
	struct conn_track *track;
	const char *method;
	char *path; /* decoded */
	const char *raw_path; /* still percent-encoded, for routing */
	struct evkeyvalq query;
	bool query_parsed;
	struct route_param params[ROUTER_MAX_SEGMENTS];
	size_t param_count;
	uint8_t *body;
	size_t body_len;
	STACK_OF(X509) *peer_chain; /* borrowed from the SSL object */
	bool replied;
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

/* tls.c */
WD_MUST_CHECK int tls_server_ctx_new(const struct net_tls_config *tls, SSL_CTX **ret_ctx,
	struct wd_error *err);
/* Creates an SSL for a new connection of listener; NULL on failure. */
SSL *tls_connection_new(struct net_listener *listener);
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

/* peercred.c */

/* Returns true when a process accepts connections on the Unix socket at
 * path, so a running server's socket is never taken for a stale one. */
bool unix_socket_in_use(const char *path);

WD_MUST_CHECK int peercred_read(int fd, uid_t *ret_uid, gid_t *ret_gid, pid_t *ret_pid);
WD_MUST_CHECK int unix_socket_bind(const char *path, mode_t mode, int *ret_fd,
	struct wd_error *err);
