/* HTTP/1.1 server on one libevent event_base: TLS and Unix-socket listeners,
 * a route table with {name} path parameters, and request/response helpers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"

struct net_server;
struct net_listener;
struct net_request;

/* Resource ceilings of one listener. Zero in a field means its default. */
struct net_limits {
	size_t max_body_bytes;    /* default 1 MiB; larger bodies get 413 */
	size_t max_header_bytes;  /* default 64 KiB for the request line and headers */
	size_t max_header_count;  /* default 100; more headers get 431 */
	unsigned read_timeout_ms; /* default 10 s without a byte while a request is read */
	unsigned idle_timeout_ms; /* default 60 s between requests on a keep-alive connection */
	/* Default 10 s to read a whole request (line, headers and body),
	 * counted from its first byte. Unlike read_timeout_ms, incoming bytes
	 * do not extend it, so a client that sends a byte now and then is
	 * still closed. */
	unsigned request_timeout_ms;
	/* Default 10 s from a TLS accept to the first byte of the first
	 * request, which covers the handshake. */
	unsigned handshake_timeout_ms;
	/* Default 1024 connections per listener. A TLS connection over it fails
	 * at its ClientHello; a Unix one gets 503 at its first request. */
	size_t max_connections;
	/* Default 64 open TLS connections per client IP address; the listener
	 * closes a further one right after accept. */
	size_t max_connections_per_ip;
};

#define NET_DEFAULT_MAX_BODY_BYTES ((size_t)1 << 20)
#define NET_DEFAULT_MAX_HEADER_BYTES ((size_t)64 << 10)
#define NET_DEFAULT_MAX_HEADER_COUNT 100u
#define NET_DEFAULT_READ_TIMEOUT_MS 10000u
#define NET_DEFAULT_IDLE_TIMEOUT_MS 60000u
#define NET_DEFAULT_REQUEST_TIMEOUT_MS 10000u
#define NET_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000u
#define NET_DEFAULT_MAX_CONNECTIONS 1024u
#define NET_DEFAULT_MAX_CONNECTIONS_PER_IP 64u

/* Fills limits with the defaults above. */
void net_limits_default(struct net_limits *ret_limits);

enum net_client_cert {
	NET_CLIENT_CERT_NONE,     /* no CertificateRequest is sent */
	NET_CLIENT_CERT_OPTIONAL, /* requested; verified when the client sends one */
	NET_CLIENT_CERT_REQUIRED, /* the handshake fails without a valid one */
};

/* Extra check of a client chain that OpenSSL already verified against the
 * trust anchors (SPIFFE ID rules, revocation). chain is leaf first and
 * borrowed. Returns 0 to accept or a negative WD_E* code to fail the
 * handshake. Runs on the event loop thread during the handshake. */
typedef int (*net_verify_fn)(STACK_OF(X509) *chain, void *arg);

/* TLS settings of a listener. Everything is copied or up-referenced by the
 * call that takes it, so the caller keeps ownership. */
struct net_tls_config {
	const char *cert_chain_pem; /* server certificate first, then intermediates */
	size_t cert_chain_len;
	EVP_PKEY *key;                /* private key of the first certificate */
	X509 *const *trust_anchors;   /* roots for client certificates */
	size_t trust_anchor_count;
	enum net_client_cert client_cert;
	net_verify_fn verify;         /* optional */
	void *verify_arg;
};

/* Who may call a route. A request that fails the check gets 401 (no client
 * certificate) or 403 (wrong transport) and the handler is not called. */
enum net_auth {
	NET_AUTH_NONE,            /* the handler authenticates the caller itself */
	NET_AUTH_CLIENT_CERT,     /* TLS with a verified client certificate */
	NET_AUTH_UNIX,            /* the Unix admin socket (peer uid already allowed) */
	NET_AUTH_CLIENT_CERT_OR_UNIX,
};

/* Handles one request on the event loop thread. It replies with one of the
 * net_reply_* calls and returns 0, or returns a negative WD_E* code without
 * replying; then the server replies with net_reply_error(code, err's detail).
 * A handler that returns 0 without replying gets a 500 reply. */
typedef int (*net_handler_fn)(struct net_request *req, void *arg, struct wd_error *err);

/* One route. pattern is an absolute path whose segments are literal or
 * "{name}" (matching one non-empty segment), e.g. "/v1/entries/{id}".
 * method is "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS" or
 * "LIST". libevent cannot name methods it does not know, so a LIST route
 * receives every such method. */
struct net_route {
	const char *method;
	const char *pattern;
	net_handler_fn handler;
	void *arg;
	enum net_auth auth;
	/* A final {name...} segment also matches empty segments ("a//b" and a
	 * trailing '/'), which Vault's clients send; the handler cleans the
	 * path itself. */
	bool rest_empty_segments;
};

/* Reports an error that no caller can receive (a failed accept, a failed
 * TLS context switch) and each connection the server closes to enforce a
 * limit (WD_EUNAVAILABLE for one refused at accept, WD_ETIMEOUT for a
 * deadline). Repeats of one kind are reported at most once a second, with
 * the number left out. detail names the client address or the listener and
 * never holds a secret. */
typedef void (*net_error_fn)(int code, const char *detail, void *arg);

/* Creates a server on base, which the caller keeps running and frees after
 * the server. limits may be NULL for the defaults and apply to every
 * listener. WD_EINVAL for a zero-sized limit that makes no sense. */
WD_MUST_CHECK int net_server_new(struct event_base *base, const struct net_limits *limits,
	struct net_server **ret_server, struct wd_error *err);

/* Sets the callback for errors without a caller; NULL drops them. */
void net_server_set_error_cb(struct net_server *server, net_error_fn cb, void *arg);

/* Closes every listener and open connection and frees the server; accepts
 * NULL. Must run on the event loop thread or with the loop stopped. */
void net_server_free(struct net_server *server);

/* Listens with TLS on address ("127.0.0.1:0", "0.0.0.0:8081", "[::1]:8081")
 * and serves routes (copied). ret_port receives the bound port, so ":0"
 * works in tests. ret_listener (may be NULL) stays owned by the server.
 * WD_EINVAL for a bad address, route or TLS config, WD_ECRYPTO when the key
 * does not match the certificate, WD_EIO when binding fails. */
WD_MUST_CHECK int net_listener_add_tls(struct net_server *server, const char *address,
	const struct net_tls_config *tls, const struct net_route *routes, size_t route_count,
	struct net_listener **ret_listener, uint16_t *ret_port, struct wd_error *err);

/* Replaces the certificate, key, trust anchors and client-certificate policy
 * for handshakes that start after the call; established connections keep
 * the context they started with. Thread-safe. On error the old context stays. */
WD_MUST_CHECK int net_listener_update_tls(struct net_listener *listener,
	const struct net_tls_config *tls, struct wd_error *err);

/* Listens for plain HTTP on the Unix socket at path, removing a stale
 * socket file first and creating the new one with mode (e.g. 0660). Each
 * request is authorized by SO_PEERCRED: uid 0 or a uid in allowed_uids
 * (copied) is served, others get 403 and the connection is closed.
 * WD_EINVAL for a path longer than sun_path or a non-socket file in the way,
 * WD_EIO when binding fails. */
WD_MUST_CHECK int net_listener_add_unix(struct net_server *server, const char *path, mode_t mode,
	const uid_t *allowed_uids, size_t allowed_uid_count, const struct net_route *routes,
	size_t route_count, struct net_listener **ret_listener, struct wd_error *err);

/* Returns the number of connections open on the listener now. */
size_t net_listener_connection_count(const struct net_listener *listener);

/* Request accessors. Returned pointers are owned by the request and valid
 * until the handler returns. */
const char *net_request_method(const struct net_request *req);
/* Returns the percent-decoded path without the query. */
const char *net_request_path(const struct net_request *req);
/* Returns the decoded value of the {name} segment, or NULL. */
const char *net_request_param(const struct net_request *req, const char *name);
/* Returns the first value of query parameter name, or NULL. */
const char *net_request_query(const struct net_request *req, const char *name);
/* Returns the first value of header name (case-insensitive), or NULL. */
const char *net_request_header(const struct net_request *req, const char *name);
/* Returns the body (at most max_body_bytes, NUL-terminated for convenience
 * but may contain NUL bytes) and its length in ret_len. */
const uint8_t *net_request_body(const struct net_request *req, size_t *ret_len);

/* Returns the verified client chain, leaf first, or NULL over Unix or when
 * the client sent no certificate. Borrowed. */
STACK_OF(X509) *net_request_peer_chain(const struct net_request *req);

/* Copies the client's IP address as text ("127.0.0.1", "::1") into out.
 * WD_ENOTFOUND on the Unix socket, WD_ETOOBIG when len is too small;
 * INET6_ADDRSTRLEN always suffices. */
WD_MUST_CHECK int net_request_peer_address(const struct net_request *req, char *out,
	size_t len);

/* Stores the peer credentials of a Unix-socket request; WD_ENOTFOUND over
 * TLS. */
WD_MUST_CHECK int net_request_peer_cred(const struct net_request *req, uid_t *ret_uid,
	gid_t *ret_gid, pid_t *ret_pid);

/* Keeps req open after its handler returns, for a reply from a later
 * callback on the event loop thread, such as the completion of work done on
 * another thread. Returns the request to reply on, which takes over
 * everything req had: req itself must not be used after the handler
 * returns. NULL when memory runs out; req is unchanged then. The reply is
 * sent with a net_reply_* call, then net_request_finish frees the request.
 * Requests still open when the server is freed get a 503 reply, which is
 * lost when their connection closes before the loop writes it. */
struct net_request *net_request_defer(struct net_request *req);

/* Ends a request returned by net_request_defer: replies 500 when no reply
 * was sent, and frees it. Runs on the event loop thread. */
void net_request_finish(struct net_request *req);

/* Adds a response header (e.g. Location) before the reply; WD_EINVAL when
 * name or value contains CR or LF. */
WD_MUST_CHECK int net_reply_add_header(struct net_request *req, const char *name,
	const char *value);

/* Replies with body serialized as compact JSON with sorted keys and
 * Content-Type application/json. body stays owned by the caller. */
WD_MUST_CHECK int net_reply_json(struct net_request *req, int status, const json_t *body);

/* Replies with wd_error_http_status(code) and the body
 * {"error":{"code":"EINVAL","message":detail}}; detail NULL uses
 * wd_strerror(code). */
WD_MUST_CHECK int net_reply_error(struct net_request *req, int code, const char *detail);

/* Replies with len bytes of content_type (PEM, DER, text). */
WD_MUST_CHECK int net_reply_text(struct net_request *req, int status, const char *content_type,
	const void *bytes, size_t len);
