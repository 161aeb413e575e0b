/* Blocking HTTP/1.1 client over a Unix socket or TLS, for the CLI, tests
 * and benchmarks. Every read is bounded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"

struct net_client;

/* Check of the server chain after OpenSSL verified it against the trust
 * anchors (for example the expected SPIFFE ID). chain is leaf first and
 * borrowed. Returns 0 to accept or a negative WD_E* code. */
typedef int (*net_client_verify_fn)(STACK_OF(X509) *chain, void *arg, struct wd_error *err);

#define NET_CLIENT_DEFAULT_TIMEOUT_MS 10000u
#define NET_CLIENT_DEFAULT_MAX_RESPONSE_BYTES ((size_t)4 << 20)

/* Where and how to connect. Set exactly one of unix_path and host. Fields
 * are borrowed only during net_client_connect. */
struct net_client_config {
	const char *unix_path;
	const char *host;  /* numeric address or name, with TLS unless plaintext */
	bool plaintext;    /* host over plain TCP (http:// webhooks); TLS fields unused */
	uint16_t port;
	const char *server_name;      /* SNI and Host header; default host */
	X509 *const *trust_anchors;   /* required with TLS */
	size_t trust_anchor_count;
	const char *cert_chain_pem;   /* optional client certificate, leaf first */
	size_t cert_chain_len;
	EVP_PKEY *key;                /* key of the client certificate */
	net_client_verify_fn verify;  /* optional */
	void *verify_arg;
	int tls_min_version;          /* 0: TLS 1.2; tests set TLS1_1_VERSION */
	int tls_max_version;          /* 0: no maximum */
	unsigned timeout_ms;          /* per connect, send and receive; 0: default */
	size_t max_response_bytes;    /* status line, headers and body; 0: default */
};

/* One response, owned by the caller and freed with net_response_free. */
struct net_response {
	int status;
	size_t header_count;
	char **header_names;
	char **header_values;
	uint8_t *body; /* NUL-terminated; body_len excludes the NUL */
	size_t body_len;
};

/* Connects and, with TLS, completes the handshake. The caller ignores
 * SIGPIPE, because OpenSSL writes to the socket with write(2). WD_EIO when the connection
 * fails, WD_ECRYPTO when the handshake or the server chain check fails,
 * WD_ETIMEOUT after timeout_ms. */
/* Reads "https://host:port" with an optional final "/" (the host may be an
 * IPv6 address in brackets, the port defaults to 443) into host and
 * *ret_port. what names the URL in errors ("server URL"). WD_ECONFIG for
 * another scheme, a path, or a host or port that is empty, too long or out
 * of range; nothing is written then. */
WD_MUST_CHECK int net_https_origin_parse(const char *url, const char *what, char *host,
	size_t host_size, uint16_t *ret_port, struct wd_error *err);

WD_MUST_CHECK int net_client_connect(const struct net_client_config *config,
	struct net_client **ret_client, struct wd_error *err);

/* Sends one request and reads its response on the open connection (keep-alive).
 * extra_headers are complete "Name: value" lines without CRLF. body may be NULL.
 * WD_ETOOBIG when the response passes max_response_bytes, WD_EIO when the
 * server closed the connection, WD_EINVAL for a malformed response. After an
 * error the connection is closed and later requests fail with WD_EIO. */
WD_MUST_CHECK int net_client_request(struct net_client *client, const char *method,
	const char *path, const char *const *extra_headers, size_t extra_header_count,
	const char *content_type, const void *body, size_t body_len,
	struct net_response **ret_response, struct wd_error *err);

/* Sends body (may be NULL) serialized as compact JSON. */
WD_MUST_CHECK int net_client_request_json(struct net_client *client, const char *method,
	const char *path, const json_t *body, struct net_response **ret_response,
	struct wd_error *err);

/* Returns the certificate the server presented (borrowed), or NULL over Unix. */
X509 *net_client_peer_cert(const struct net_client *client);

/* Returns whether the connection is still usable for another request. */
bool net_client_is_open(const struct net_client *client);

/* Returns the first value of header name (case-insensitive), or NULL. */
const char *net_response_header(const struct net_response *response, const char *name);

/* Parses the body as JSON; WD_EINVAL naming the position. */
WD_MUST_CHECK int net_response_json(const struct net_response *response, json_t **ret_json,
	struct wd_error *err);

void net_response_free(struct net_response *response);

/* Closes the connection and frees the client; accepts NULL. */
void net_client_free(struct net_client *client);
