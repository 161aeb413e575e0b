/* The agent's node identity: join-token attestation, the node SVID, key and
 * bundle persisted in the data directory, renewal, connections to the
 * server with the node SVID, and what a server refusal means. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "common/error.h"
#include "common/macros.h"
#include "net/net_client.h"

/* File names inside the data directory. */
#define AGENT_NODE_CHAIN_FILE "node-svid.pem"
#define AGENT_NODE_KEY_FILE "node-svid.key"
#define AGENT_NODE_BUNDLE_FILE "bundle.pem"
/* Most CA certificates accepted in a bundle. */
#define AGENT_NODE_MAX_AUTHORITIES 16

struct agent_node {
	char *spiffe_id;
	char *chain_pem;          /* node SVID chain, leaf first */
	EVP_PKEY *key;
	STACK_OF(X509) *authorities; /* the trust domain's CA certificates */
	int64_t not_before;
	int64_t not_after;
	/* When this agent received or loaded the SVID: the server backdates
	 * notBefore for clock skew, so renewal counts its half life from here. */
	int64_t received_at;
};

void agent_node_free(struct agent_node *node);

/* Which of config->servers the agent talks to. A connection starts at the
 * current server and moves down the list, wrapping, past servers that
 * cannot be reached or fail the TLS handshake. The first that completes
 * the handshake becomes current, so the agent sticks to a working server.
 * Safe to use from any thread. */
struct agent_servers {
	const struct agent_config *config;
	atomic_size_t current;
	agent_log_fn log;               /* may be NULL */
	void *log_arg;
};

void agent_servers_init(struct agent_servers *servers, const struct agent_config *config);

/* Returns whether a failed call with code is the server's fault (cannot be
 * reached, TLS failure, 5xx, rate limit), after which another server may
 * do better. Refusals of the agent itself (banned, revoked, evicted, not
 * allowed) return false: the servers share one datastore, so every one
 * would refuse the same way. */
bool agent_servers_fault(int code);

/* Moves the current server past index (when it is still current) after a
 * server fault, logging the switch with reason. */
void agent_servers_advance(struct agent_servers *servers, size_t index, const char *reason);

/* Loads the node identity from data_dir. WD_ENOTFOUND when there is none,
 * WD_EPERM for a key file readable by group or others, WD_EEXPIRED for an
 * expired node SVID, WD_EINVAL for damaged files. */
WD_MUST_CHECK int agent_node_load(const char *data_dir, int64_t now,
	struct agent_node **ret_node, struct wd_error *err);

/* Writes chain, bundle (0644) and key (0600), each atomically. */
WD_MUST_CHECK int agent_node_save(const struct agent_node *node, const char *data_dir,
	struct wd_error *err);

/* Returns the trust anchors for the first contact: the trust_bundle_path
 * file, or the CA certificate the server sends in its TLS chain whose
 * SHA-256 matches trust_bundle_fingerprint. WD_ECONFIG with neither set,
 * WD_ECRYPTO when no certificate matches the pin. */
WD_MUST_CHECK int agent_node_bootstrap_anchors(struct agent_servers *servers,
	STACK_OF(X509) **ret_anchors, struct wd_error *err);

/* Attests with the join token against anchors (POST /v1/node/attest) with
 * a new EC P-256 key, failing over between servers. Errors as
 * agent_node_request. */
WD_MUST_CHECK int agent_node_attest(struct agent_servers *servers, STACK_OF(X509) *anchors,
	struct agent_node **ret_node, struct wd_error *err);

/* Replaces the node SVID and key through POST /v1/node/renew on client. */
WD_MUST_CHECK int agent_node_renew(struct agent_node *node, struct net_client *client,
	struct wd_error *err);

/* Connects to a server of the list (see struct agent_servers), verifying
 * it as spiffe://<td>/warden/server against the node's authorities, with
 * the node SVID as client certificate. ret_index (may be NULL) receives the
 * index of the server connected to. */
WD_MUST_CHECK int agent_node_connect(const struct agent_node *node,
	struct agent_servers *servers, unsigned timeout_ms, struct net_client **ret_client,
	size_t *ret_index, struct wd_error *err);

/* Sends a request (body may be NULL) and returns the parsed JSON of a 200
 * reply. Another status returns the code the server named (WD_EBANNED,
 * WD_ENOTFOUND, ...) with its message in err. */
WD_MUST_CHECK int agent_node_request(struct net_client *client, const char *method,
	const char *path, const json_t *body, json_t **ret_reply, struct wd_error *err);

/* Generates an EC P-256 key and a CSR for it, as PEM. */
WD_MUST_CHECK int agent_node_key_and_csr(EVP_PKEY **ret_key, char **ret_csr_pem,
	struct wd_error *err);

/* Maps a failed server call to the state it puts the agent in: BANNED,
 * EVICTED, REVOKED, or ATTESTED for an error worth retrying. */
enum agent_state agent_node_refusal_state(int code, const char *detail);
