/* warden proxy: a sidecar that puts mutual TLS in front of an application.
 * Inbound listeners terminate mTLS from callers and forward plaintext to a
 * local address; outbound listeners take plaintext from the application and
 * originate mTLS to an upstream. Each works on TCP streams (L4, with an
 * allow-list of SPIFFE IDs) or on HTTP/1.1 requests (L7, with a Rego policy
 * per request). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"
#include "proxy/authz.h"
#include "proxy/identity.h"

#define PROXY_MAX_LISTENERS 64
#define PROXY_MAX_PATTERNS 256

enum proxy_direction {
	PROXY_INBOUND,  /* mTLS in, plaintext to forward */
	PROXY_OUTBOUND, /* plaintext in, mTLS to upstream */
};

enum proxy_protocol {
	PROXY_TCP,  /* L4: bytes pass unchanged */
	PROXY_HTTP, /* L7: HTTP/1.1 requests, each authorized */
};

struct proxy_listener_config {
	char *name;
	enum proxy_direction direction;
	enum proxy_protocol protocol;
	char *listen;         /* "host:port" */
	char *target;         /* inbound: forward address; outbound: upstream */
	char *server_name;    /* outbound: SNI sent to the upstream; optional */
	char **patterns;      /* inbound: allowed callers; outbound: accepted servers */
	size_t pattern_count;
	bool use_policy;      /* HTTP: evaluate the policy for each request */
};

struct proxy_timeouts {
	unsigned handshake_ms; /* accept or connect until the TLS handshake ends */
	unsigned header_ms;    /* HTTP: first byte of a request head until its end */
	unsigned idle_ms;      /* no byte in either direction */
	unsigned total_ms;     /* whole connection; 0: none */
	unsigned connect_ms;   /* TCP connect to the forward or upstream address */
};

struct proxy_config {
	struct proxy_listener_config listeners[PROXY_MAX_LISTENERS];
	size_t listener_count;

	/* identity */
	char *workload_api_socket;
	char *cert_path, *key_path, *bundle_path, *crl_path;

	/* policy and JWT, for HTTP listeners with use_policy */
	char *policy_path;
	char *policy_server;
	char *policy_server_id;
	char *decision;
	char *jwks_path;
	char *jwt_issuer;
	char **jwt_audiences;
	size_t jwt_audience_count;

	/* engine */
	unsigned workers;          /* 0: one per core */
	unsigned max_connections;  /* per process, client connections */
	size_t buffer_bytes;       /* per direction */
	size_t max_head_bytes;     /* HTTP head limit */
	unsigned max_headers;
	struct proxy_timeouts timeouts;
	bool session_resumption;

	/* observability */
	char *metrics_listen;      /* loopback "host:port"; NULL: no endpoint */
	char *access_log;          /* path, "-" for stderr, NULL for none */
	char *audit_path;          /* hash-chained audit log; NULL: none */
	unsigned audit_allow_sample; /* write one allowed decision in N; 0: none */
};

/* Fills config with the defaults. */
void proxy_config_init(struct proxy_config *config);

/* Reads a YAML configuration file on top of config (flags given later
 * override it). WD_ECONFIG naming the file, key and bad value; after an
 * error the caller frees config without using it. */
WD_MUST_CHECK int proxy_config_load_file(struct proxy_config *config, const char *path,
	struct wd_error *err);

/* Adds one listener. WD_ECONFIG when the limit is reached. */
WD_MUST_CHECK int proxy_config_add_listener(struct proxy_config *config,
	const struct proxy_listener_config *listener, struct wd_error *err);

/* Checks the whole configuration: addresses parse, patterns are valid, an
 * identity source is set, HTTP listeners with policy have a policy. */
WD_MUST_CHECK int proxy_config_validate(const struct proxy_config *config, struct wd_error *err);

void proxy_config_free(struct proxy_config *config);

/* Runs the proxy until SIGINT or SIGTERM. Logs its listening addresses
 * ("proxy listening" with name and address, the port resolved when 0) once
 * every listener is bound. */
WD_MUST_CHECK int proxy_run(const struct proxy_config *config, struct wd_error *err);
