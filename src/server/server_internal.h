/* State shared by the server's files: the running context, callers and the
 * audit helper. Not part of the public interface. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "audit/audit.h"
#include "identity/authority.h"
#include "identity/registry.h"
#include "identity/spiffe_id.h"
#include "net/net.h"
#include "net/ratelimit.h"
#include "secrets/secrets.h"
#include "server/server.h"
#include "store/store.h"

struct admission;
struct policy_state;
struct secrets;

/* Path of the server's own SPIFFE ID, which its TLS listener presents. */
#define SERVER_SPIFFE_PATH "/warden/server"

/* The singleton lock of a shared datastore and the datastore's latency
 * (singleton.c). */
struct server_singleton {
	bool shared;             /* PostgreSQL: servers compete for the lock */
	bool held;               /* run-once work runs here; always on SQLite */
	int64_t takeover;        /* seconds within which a dead holder is replaced */
	int64_t since;           /* when this server took the lock */
	uint64_t acquisitions;
	char node_id[64];        /* "host:pid:random", recorded in lease claims */
	char holder_node[64];    /* the holder's node_id at the last tick; "" when unknown */
	char *url;               /* the datastore URL with keepalive settings */
	struct store *store;     /* the lock's own session; NULL until connected */
	int64_t latency_us;      /* last "SELECT 1" round trip on ctx->store */
	double latency_avg_us;   /* its moving average */
	uint64_t samples;
	uint64_t store_errors;   /* failed round trips */
	bool store_down;         /* the last round trip failed */
	int64_t last_rescan;     /* last time the holder read all leases again */
};

/* The count of rejected client certificates, logged at most once a second
 * (refusal_log.c). Without it a client retrying in a loop, or every client
 * while the datastore is down, would write a warning per handshake. */
struct server_refusal_log {
	bool window_open;        /* a line was logged in the current second */
	uint64_t suppressed;     /* refusals counted, not logged, since then */
	char last_peer[256];     /* SPIFFE ID of the last refusal counted */
	char last_reason[256];
};

/* The entry revision as this server last read or was notified of it, so
 * an idle agent sync costs the datastore nothing (entry_revision.c). */
struct server_entry_revision {
	bool known;
	int64_t value;
	uint64_t write_count;   /* registry_entry_write_count when value was read */
	uint64_t hits;
	uint64_t misses;
};

/* One serial that the caller cache knows is not revoked, and, for a node
 * SVID, that registry_node_check passed for it (caller_cache.c). */
struct server_caller_slot {
	uint64_t generation;      /* the slot is valid while this equals the cache's */
	char serial[AUTHORITY_SERIAL_HEX_SIZE];
	uint64_t agent_hash;      /* FNV-1a of the canonical agent ID; 0 if none */
	bool node_checked;
	int64_t node_not_after;   /* the checked SVID's expiry, in Unix seconds */
};

/* Slots of the caller cache, 80 bytes each. Pages of slots never used stay
 * untouched and take no memory. A lookup probes SERVER_CALLER_CACHE_PROBES
 * neighbours, so some 10,000 agents fit with few evictions. */
#define SERVER_CALLER_CACHE_SLOTS 65536
#define SERVER_CALLER_CACHE_PROBES 4

struct server_caller_cache {
	struct server_caller_slot *slots;   /* SERVER_CALLER_CACHE_SLOTS of them */
	uint64_t generation;                /* raised to drop every slot at once */
	uint64_t bundle_sequence;           /* authority_bundle_sequence at the last drop */
	uint64_t hits;
	uint64_t misses;
};

/* Route classes that GET /metrics counts requests by (routes.c). */
enum server_route_class {
	SERVER_ROUTE_NODE,     /* agents: attestation, renewal, entries, SVIDs */
	SERVER_ROUTE_SHARED,   /* bundle, CRL, health, metrics, CA status */
	SERVER_ROUTE_ADMIN,    /* entries, join tokens, agents, minting, signatures */
	SERVER_ROUTE_SENSOR,   /* the runtime sensor's alerts and revocations */
	SERVER_ROUTE_POLICY,   /* OPA's REST API */
	SERVER_ROUTE_CLASS_COUNT,
};

/* Counters of served requests that GET /metrics reports (metrics.c). The
 * handlers run on the event loop's thread only, so they are plain. */
struct server_metrics {
	uint64_t requests[SERVER_ROUTE_CLASS_COUNT];
	uint64_t request_errors[SERVER_ROUTE_CLASS_COUNT];  /* handler failed */
	uint64_t entry_syncs;             /* successful GET /v1/node/entries */
	uint64_t entry_syncs_unchanged;   /* of which {"unchanged": true} */
};

/* The target of a route's net_route.arg: the handler that the counting
 * dispatcher of routes.c calls with ctx. */
struct server_route_binding {
	struct server_ctx *ctx;
	net_handler_fn handler;
	enum server_route_class route_class;
};

/* Maximum routes over all route tables of routes.c. */
#define SERVER_MAX_BINDINGS 64

struct server_ctx {
	const struct server_config *config;
	struct event_base *base;
	struct net_server *net;
	struct net_listener *tls_listener;
	struct net_listener *policy_listener;   /* OPA's REST API */
	struct net_listener *secrets_listener;  /* Vault's HTTP API */
	struct secrets *secrets;
	struct policy_state *policy;
	struct store *store;
	struct audit_log *audit;
	struct authority *authority;
	struct registry *registry;
	struct admission *admission;   /* signatures for entries with require_signed */
	/* Node attestation attempts per client IP address. */
	struct net_ratelimit *attest_limit;

	/* The serving SVID, renewed at half life and after a CA activation. */
	EVP_PKEY *server_key;
	int64_t server_svid_renew_at;
	/* The listeners serve the saved certificate or a placeholder, because
	 * the CA keys were sealed; the tick mints once they are unsealed. */
	bool serving_from_file;
	/* Set by shutdown, which seals the secrets service as it frees it. */
	bool stopping;
	/* Bundle sequence that the TLS listener's trust anchors reflect. */
	uint64_t listener_sequence;
	int64_t last_token_prune;
	struct server_singleton singleton;

	uint16_t port;
	uint16_t policy_port;
	uint16_t secrets_port;
	struct event *tick_event;
	struct event *sigterm_event;
	struct event *sigint_event;
	struct event *sighup_event;
	/* Identity of the admin socket file this server created, so shutdown
	 * never removes a socket another server has since bound. */
	dev_t admin_socket_dev;
	ino_t admin_socket_ino;

	/* Change notification from other servers on a PostgreSQL datastore
	 * (changes.c); all NULL on SQLite. */
	struct store *listen_store;
	struct event *listen_event;
	struct event *listen_retry;
	int64_t listen_backoff;          /* seconds of the last reconnect wait */
	uint64_t changes_applied;        /* notifications from others, and refreshes */

	struct server_metrics metrics;
	struct server_route_binding route_bindings[SERVER_MAX_BINDINGS];
	struct server_entry_revision entry_revision;
	struct server_caller_cache caller_cache;
	struct server_refusal_log refusal_log;
};

/* Whether the in-memory caches of entry_revision.c and caller_cache.c may
 * be used: always on SQLite, where only this server writes, and on
 * PostgreSQL while the change listener is connected, so that no other
 * server's change goes unheard. */
bool server_caches_trusted(const struct server_ctx *ctx);

/* entry_revision.c: stores the entry revision in ret_revision, from memory
 * when it is current, else from the datastore (registry_entry_revision's
 * errors). */
WD_MUST_CHECK int server_entry_revision(struct server_ctx *ctx, int64_t *ret_revision,
	struct wd_error *err);
/* Takes the revision of another server's "entry:SEQ" notification; any
 * other payload makes the next read go to the datastore. */
void server_entry_revision_notified(struct server_ctx *ctx, const char *payload);
/* Makes the next read go to the datastore. */
void server_entry_revision_forget(struct server_ctx *ctx);

/* caller_cache.c: allocates and frees the slots. */
WD_MUST_CHECK int server_caller_cache_init(struct server_ctx *ctx, struct wd_error *err);
void server_caller_cache_free(struct server_ctx *ctx);
/* Stores in ret_revoked whether serial is revoked (authority_is_revoked).
 * A serial found not revoked before is looked up in memory. */
WD_MUST_CHECK int server_serial_revoked(struct server_ctx *ctx, const char *serial,
	bool *ret_revoked, struct wd_error *err);
/* Runs registry_node_check for agent_id's SVID serial at now. A serial
 * that passed before and has not expired is looked up in memory. */
WD_MUST_CHECK int server_agent_check(struct server_ctx *ctx, const char *agent_id,
	const char *serial, int64_t now, struct wd_error *err);
/* Drops the cached checks of agent_id's serials (every check when agent_id
 * is NULL or not a SPIFFE ID), after its node record changed. */
void server_caller_cache_forget_agent(struct server_ctx *ctx, const char *agent_id);
/* Drops every cached check, after a revocation or a lost listener. */
void server_caller_cache_clear(struct server_ctx *ctx);


/* changes.c: listens when the datastore is PostgreSQL, else does nothing. */
WD_MUST_CHECK int server_changes_start(struct server_ctx *ctx, struct wd_error *err);
void server_changes_stop(struct server_ctx *ctx);
/* Refreshes the caches a change of payload's kind touches; NULL refreshes
 * all of them (after the listener reconnected). */
void server_changes_apply(struct server_ctx *ctx, const char *payload);
/* Reads the notifications that arrived on the listener and were not yet
 * handled, without blocking, so that the caches include every change. */
void server_changes_poll(struct server_ctx *ctx);
/* Notifies other servers of a change already committed (the authority's,
 * whose transactions are not the server's); logs a failure. */
void server_changes_announce(struct server_ctx *ctx, const char *payload);

enum caller_kind {
	CALLER_ADMIN_SOCKET,   /* a local process on the admin socket */
	CALLER_SVID,           /* a TLS client with an X.509-SVID */
};

/* Who sent a request, as the audit log names them. */
struct caller {
	enum caller_kind kind;
	uid_t uid;
	pid_t pid;
	char spiffe_id[SPIFFE_ID_MAX_LEN + 1];
	char serial[AUTHORITY_SERIAL_HEX_SIZE];
	bool is_agent;
	bool is_admin;
	bool revoked;      /* an agent's revoked node SVID, see caller.c */
	char actor[SPIFFE_ID_MAX_LEN + 1];  /* "uid:0" or the SPIFFE ID */
};

/* Identifies the caller of req; WD_EAUTH when it shows no credential. */
WD_MUST_CHECK int caller_identify(struct server_ctx *ctx, struct net_request *req,
	struct caller *ret_caller, struct wd_error *err);

/* Identifies the caller and requires admin rights: the admin socket or an
 * SVID of an admin entry. WD_EPERM naming the caller otherwise. */
WD_MUST_CHECK int caller_require_admin(struct server_ctx *ctx, struct net_request *req,
	struct caller *ret_caller, struct wd_error *err);

/* Identifies the caller and requires a runtime sensor: the admin socket or
 * an SVID whose SPIFFE ID sensor.spiffe_ids lists. WD_EPERM naming the
 * caller otherwise. */
WD_MUST_CHECK int caller_require_sensor(struct server_ctx *ctx, struct net_request *req,
	struct caller *ret_caller, struct wd_error *err);

/* Identifies the caller and requires an attested, unbanned agent whose SVID
 * serial is current. */
WD_MUST_CHECK int caller_require_agent(struct server_ctx *ctx, struct net_request *req,
	struct caller *ret_caller, struct wd_error *err);

/* Applies admission control before an SVID is issued for entry: nothing to
 * do without require_signed; otherwise each unix:sha256 digest needs a
 * registered signature that verifies now. Logs a refusal and audits each
 * admitted digest as "svid.admit". WD_EPERM naming the entry and the
 * digest on refusal, which the caller audits as its own failure. */
WD_MUST_CHECK int server_admit_entry(struct server_ctx *ctx, const struct caller *caller,
	const struct registry_entry *entry, struct wd_error *err);

/* The TLS listener's handshake check of a client chain: the X.509-SVID rules
 * against the current bundle, and the CRL. */
int server_verify_client_chain(STACK_OF(X509) *chain, void *arg);

/* Logs the warning "client certificate refused" with peer and reason, or
 * counts it when a line was already logged in the current second. */
void server_refusal_log(struct server_ctx *ctx, const char *peer, const char *reason);

/* Called once a tick: logs the refusals counted in the last second as one
 * line with the last peer and reason, or closes the window. */
void server_refusal_log_flush(struct server_ctx *ctx);

/* Writes one audit record; actor NULL means the server itself. A failed
 * write is logged, since the request it records has already happened. */
void server_audit(struct server_ctx *ctx, const char *actor, const char *action,
	const char *object, const char *outcome, const char *detail);

/* Audits a refused request: outcome "denied" for authentication and
 * permission errors, "error" otherwise, with the error text as detail. */
void server_audit_failure(struct server_ctx *ctx, const char *actor, const char *action,
	const char *object, const struct wd_error *err);

/* What the TLS listener serves: the server's own SVID and the bundle's CA
 * certificates as client trust anchors. */
struct server_tls_material {
	char *chain_pem;
	STACK_OF(X509) *authorities;
	X509 *anchors[AUTHORITY_MAX_SLOTS];
	struct net_tls_config config;   /* points into the fields above */
	int64_t renew_at;               /* half life of the serving SVID */
	bool from_file;                 /* not minted: the CA keys are sealed */
};

/* Mints a serving SVID for spiffe://<td>/warden/server with the server's
 * key, saves it with server_serving_save and collects the trust anchors.
 * While the CA keys are sealed it takes the saved certificate instead, or a
 * placeholder that no client trusts, and logs which. */
WD_MUST_CHECK int server_tls_material_build(struct server_ctx *ctx, int64_t now,
	struct server_tls_material *ret_material, struct wd_error *err);

void server_tls_material_clear(struct server_tls_material *material);

/* Rebuilds the TLS material and installs it for new handshakes. */
WD_MUST_CHECK int server_refresh_tls(struct server_ctx *ctx, int64_t now, struct wd_error *err);

/* serving_file.c: DATA_DIR/serving.pem, the serving chain followed by the
 * server's key, mode 0600. save writes it atomically. load reads it, checks
 * that the leaf is current and matches the key, and replaces
 * ctx->server_key with that key. placeholder makes a self-signed
 * certificate for ctx->server_key. */
WD_MUST_CHECK int server_serving_save(struct server_ctx *ctx, const char *chain_pem,
	struct wd_error *err);
WD_MUST_CHECK int server_serving_load(struct server_ctx *ctx, int64_t now, char **ret_chain_pem,
	int64_t *ret_not_after, struct wd_error *err);
WD_MUST_CHECK int server_serving_placeholder(struct server_ctx *ctx, int64_t now,
	char **ret_chain_pem, struct wd_error *err);

/* ca_seal.c: the secrets service's seal callbacks, which unlock and lock
 * the CA keys, and the start-up check of the CA keys against dev mode. */
void server_on_secrets_unseal(void *arg, const uint8_t kek[SECRETS_IDENTITY_KEK_LEN]);
void server_on_secrets_seal(void *arg);
WD_MUST_CHECK int server_check_ca_keys(struct server_ctx *ctx, struct wd_error *err);

/* Runs once a second: CA rotation, serving-SVID renewal, token pruning. */
void server_tick(evutil_socket_t fd, short events, void *arg);

/* singleton.c: prepares the lock for store_url (nothing to do on SQLite,
 * where the server always holds it), closes its session, and, once a tick,
 * times a round trip on the datastore and checks or tries the lock.
 * server_singleton_tick returns true when this tick took the lock. */
WD_MUST_CHECK int server_singleton_open(struct server_ctx *ctx, const char *store_url,
	struct wd_error *err);
void server_singleton_close(struct server_ctx *ctx);
bool server_singleton_tick(struct server_ctx *ctx, int64_t now);
/* Adds "singleton", "singleton_lock" and "datastore" to a health reply. */
WD_MUST_CHECK int server_singleton_json(struct server_ctx *ctx, json_t *obj);

/* Client IP addresses the attestation rate limit tracks; the least
 * recently seen one is forgotten beyond this. */
#define SERVER_ATTEST_RATE_KEYS 4096

/* Maximum routes of one listener. */
#define SERVER_MAX_ROUTES 64

/* Fills routes with the route table of the TLS listener (admin false) or
 * the admin socket (admin true), each bound to ctx; returns the count. */
size_t server_build_routes(struct server_ctx *ctx, bool admin,
	struct net_route routes[static SERVER_MAX_ROUTES]);

/* Fills routes with OPA's REST API for the policy listener (admin false)
 * or for the admin socket (admin true, appended after count existing
 * routes); returns the new count. */
size_t server_build_policy_routes(struct server_ctx *ctx, bool admin,
	struct net_route routes[static SERVER_MAX_ROUTES], size_t count);

/* Request body decoding shared by the handlers: parses the body as an object
 * and rejects fields outside allowed. */
WD_MUST_CHECK int server_parse_body(struct net_request *req, const char *const *allowed,
	size_t allowed_count, json_t **ret_body, struct wd_error *err);

/* Returns the PEM bundle string for embedding in responses (malloc'd). */
WD_MUST_CHECK int server_bundle_pem(struct server_ctx *ctx, char **ret_pem,
	struct wd_error *err);

/* Handlers, one group per file. */
int handle_node_attest(struct net_request *req, void *arg, struct wd_error *err);
int handle_node_renew(struct net_request *req, void *arg, struct wd_error *err);
int handle_node_entries(struct net_request *req, void *arg, struct wd_error *err);
int handle_node_bundle(struct net_request *req, void *arg, struct wd_error *err);
int handle_svid_x509(struct net_request *req, void *arg, struct wd_error *err);
int handle_svid_jwt(struct net_request *req, void *arg, struct wd_error *err);

int handle_bundle(struct net_request *req, void *arg, struct wd_error *err);
int handle_crl(struct net_request *req, void *arg, struct wd_error *err);
int handle_health(struct net_request *req, void *arg, struct wd_error *err);
int handle_ca(struct net_request *req, void *arg, struct wd_error *err);
int handle_metrics(struct net_request *req, void *arg, struct wd_error *err);

struct wd_buf;

/* Appends the metrics page (Prometheus text format 0.0.4) to out;
 * WD_ENOMEM or WD_ETOOBIG from the buffer. */
WD_MUST_CHECK int server_metrics_render(const struct server_ctx *ctx, struct wd_buf *out);

int handle_entry_create(struct net_request *req, void *arg, struct wd_error *err);
int handle_entry_list(struct net_request *req, void *arg, struct wd_error *err);
int handle_entry_show(struct net_request *req, void *arg, struct wd_error *err);
int handle_entry_update(struct net_request *req, void *arg, struct wd_error *err);
int handle_entry_delete(struct net_request *req, void *arg, struct wd_error *err);

int handle_token_create(struct net_request *req, void *arg, struct wd_error *err);
int handle_agent_list(struct net_request *req, void *arg, struct wd_error *err);
int handle_agent_evict(struct net_request *req, void *arg, struct wd_error *err);
int handle_agent_ban(struct net_request *req, void *arg, struct wd_error *err);

int handle_svid_mint(struct net_request *req, void *arg, struct wd_error *err);
int handle_jwt_mint(struct net_request *req, void *arg, struct wd_error *err);
int handle_svid_revoke(struct net_request *req, void *arg, struct wd_error *err);

/* Maximum size of a POST /v1/sensor/alerts body, in bytes. */
#define SENSOR_ALERT_MAX_BYTES (64 * 1024)

/* Checks a Falco alert object (rule, priority, output, output_fields,
 * time, hostname, tags, source, and the sensor's "responses" records)
 * against its bounds. ret_rule borrows the rule name. Returns WD_EINVAL
 * naming the field. */
WD_MUST_CHECK int sensor_alert_check(const json_t *alert, const char **ret_rule,
	struct wd_error *err);

/* The audit detail of a checked alert, at most AUDIT_FIELD_MAX bytes
 * (malloc'd); WD_ENOMEM. */
WD_MUST_CHECK int sensor_alert_detail(const json_t *alert, char **ret_detail);

/* Checks one response record of the sensor ("action" required, scalar
 * fields of at most 1024 bytes). Returns WD_EINVAL naming the field. */
WD_MUST_CHECK int sensor_response_check(const json_t *response, struct wd_error *err);

int handle_sensor_alert(struct net_request *req, void *arg, struct wd_error *err);
int handle_sensor_response(struct net_request *req, void *arg, struct wd_error *err);
int handle_sensor_revoke(struct net_request *req, void *arg, struct wd_error *err);

int handle_signature_add(struct net_request *req, void *arg, struct wd_error *err);
int handle_signature_list(struct net_request *req, void *arg, struct wd_error *err);
int handle_signature_delete(struct net_request *req, void *arg, struct wd_error *err);
