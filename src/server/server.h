/* The warden server daemon: the trust-domain authority and registry behind
 * the identity API (TLS) and the admin API (Unix socket). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/error.h"
#include "common/macros.h"

/* Most uids admin.allowed_uids may list. */
#define SERVER_MAX_ADMIN_UIDS 64

/* Maximum number of items in each list of the admission section. */
#define SERVER_MAX_ADMISSION_ITEMS 64
/* Maximum length of an in-toto predicate type in admission.predicate_types. */
#define SERVER_PREDICATE_TYPE_MAX_LEN 1024

/* Settings of `warden server`, read from YAML and then overridden by flags.
 * Durations are seconds; sizes are bytes. */
struct server_config {
	char *trust_domain;
	char *data_dir;
	char *datastore;             /* store URL; NULL: SQLite in data_dir */
	/* On a shared datastore, the most seconds between the death of the
	 * server holding the singleton lock and another taking it over. */
	int64_t singleton_takeover;

	struct server_log_config {
		int level;               /* index into log level names */
		int format;              /* 0 text, 1 json */
	} log;

	struct server_identity_config {
		char *listen;            /* "0.0.0.0:8081" */
		int ca_key_type;         /* index into ec-p256, ec-p384, rsa-2048 */
		int jwt_rsa_alg;         /* index into RS256, PS256 */
		int64_t ca_ttl;
		int64_t default_x509_svid_ttl;
		int64_t default_jwt_svid_ttl;
		int64_t clock_skew;      /* notBefore backdating */
		int64_t refresh_hint;
		int64_t crl_next_update;
		struct config_strings dns_names;  /* DNS SANs of the server's own SVID */
	} identity;

	struct server_policy_config {
		char *listen;            /* "0.0.0.0:8181", OPA's REST API (TLS) */
		int64_t max_steps;       /* evaluation steps per decision */
		int64_t max_depth;       /* rule and function call depth */
		uint64_t max_memory;     /* bytes of values per decision */
		uint64_t max_module_bytes;
		bool audit_allows;       /* audit every decision, not only errors */
	} policy;

	struct server_secrets_config {
		char *listen;            /* "0.0.0.0:8200", the Vault-compatible API (TLS) */
		bool dev;                /* unsealed in memory; state wiped at start */
		char *dev_root_token;    /* root token id in dev mode; NULL: random */
		char *rego_policy;       /* optional Rego module consulted after the ACL */
		int64_t default_lease_ttl;
		int64_t max_lease_ttl;
	} secrets;

	struct server_admin_config {
		char *socket;
		struct config_strings allowed_uids;  /* decimal uids besides root */
	} admin;

	/* Whose signatures admit a binary for entries with require_signed. */
	struct server_admission_config {
		struct config_strings trusted_keys;        /* paths of PEM ECDSA P-256 public keys */
		struct config_strings trusted_spiffe_ids;  /* signers with X.509-SVIDs of this CA */
		struct config_strings predicate_types;     /* accepted attestations; empty: any */
	} admission;

	/* Runtime sensors that may report alerts and revoke the identities of
	 * the workloads on their own node (POST /v1/sensor/...). */
	struct server_sensor_config {
		struct config_strings spiffe_ids;  /* at most SERVER_MAX_ADMISSION_ITEMS */
	} sensor;

	struct server_limits_config {
		uint64_t max_body_bytes;
		int64_t max_header_count;
		int64_t read_timeout;
		int64_t idle_timeout;
		int64_t request_timeout;
		int64_t handshake_timeout;
		int64_t max_connections;
		int64_t max_connections_per_ip;
		int64_t attestations_per_second;
		int64_t attestation_burst;
	} limits;

	bool lock_memory;            /* mlockall so keys never reach swap */
};

/* Fills config with the defaults: listen 0.0.0.0:8081, admin socket
 * /run/warden/admin.sock, data dir /var/lib/warden, SPIRE's TTLs. Strings
 * are literals until server_config_load copies them. */
void server_config_init(struct server_config *config);

/* Loads YAML from path (NULL: defaults only) into config. On WD_ECONFIG the
 * report names every bad setting with its file and line. */
WD_MUST_CHECK int server_config_load(const char *path, struct server_config *config,
	struct config_report *report);

/* Replaces a string setting with a copy of value (from a flag). */
WD_MUST_CHECK int server_config_set(char **setting, const char *value);

/* Checks the settings together (trust domain, uids, TTL bounds, the
 * admission lists); WD_ECONFIG naming the setting. It reads no files: the
 * admission keys are loaded when the server starts. */
WD_MUST_CHECK int server_config_validate(const struct server_config *config,
	struct wd_error *err);

/* Frees the strings of config. */
void server_config_free(struct server_config *config);

/* Runs the server until SIGTERM or SIGINT. Returns 0 after a clean stop, or
 * an error from start-up with its detail in err. */
WD_MUST_CHECK int server_run(const struct server_config *config, struct wd_error *err);
