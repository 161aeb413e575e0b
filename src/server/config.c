/* The schema, defaults and cross-checks of the server's YAML configuration. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "identity/registry.h"
#include "identity/spiffe_id.h"
#include "server/server.h"
#include "supply/intoto.h"

static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const log_formats[] = { "text", "json", NULL };
static const char *const key_types[] = { "ec-p256", "ec-p384", "rsa-2048", NULL };
static const char *const rsa_algs[] = { "RS256", "PS256", NULL };

#define MINUTE 60
#define DAY 86400

static const struct config_field log_fields[] = {
	{ .key = "level", .type = CONFIG_ENUM, .offset = offsetof(struct server_log_config, level),
	  .help = "lowest level logged: debug, info, warn or error", .choices = log_levels },
	{ .key = "format", .type = CONFIG_ENUM, .offset = offsetof(struct server_log_config, format),
	  .help = "text lines or JSON lines", .choices = log_formats },
	{ 0 },
};

static const struct config_field identity_fields[] = {
	{ .key = "listen", .type = CONFIG_STRING,
	  .offset = offsetof(struct server_identity_config, listen),
	  .help = "address:port of the identity API (TLS)" },
	{ .key = "ca_key_type", .type = CONFIG_ENUM,
	  .offset = offsetof(struct server_identity_config, ca_key_type),
	  .help = "key type of the CA and JWT signing keys", .choices = key_types },
	{ .key = "jwt_rsa_alg", .type = CONFIG_ENUM,
	  .offset = offsetof(struct server_identity_config, jwt_rsa_alg),
	  .help = "JWS algorithm of JWT-SVIDs when the key is RSA", .choices = rsa_algs },
	{ .key = "ca_ttl", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_identity_config, ca_ttl),
	  .help = "lifetime of each CA certificate and JWT key", .min = MINUTE, .max = 3650 * (int64_t)DAY },
	{ .key = "default_x509_svid_ttl", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_identity_config, default_x509_svid_ttl),
	  .help = "X.509-SVID lifetime when the entry sets none", .min = 1, .max = 30 * DAY },
	{ .key = "default_jwt_svid_ttl", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_identity_config, default_jwt_svid_ttl),
	  .help = "JWT-SVID lifetime when the entry sets none", .min = 1, .max = 30 * DAY },
	{ .key = "clock_skew", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_identity_config, clock_skew),
	  .help = "how far notBefore is set in the past", .min = 0, .max = 3600 },
	{ .key = "refresh_hint", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_identity_config, refresh_hint),
	  .help = "spiffe_refresh_hint of the published bundle", .min = 1, .max = DAY },
	{ .key = "crl_next_update", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_identity_config, crl_next_update),
	  .help = "validity of each CRL", .min = MINUTE, .max = 30 * DAY },
	{ .key = "dns_names", .type = CONFIG_STRING_LIST,
	  .offset = offsetof(struct server_identity_config, dns_names),
	  .help = "DNS names in the server's own certificate" },
	{ 0 },
};

static const struct config_field policy_fields[] = {
	{ .key = "listen", .type = CONFIG_STRING,
	  .offset = offsetof(struct server_policy_config, listen),
	  .help = "address:port of the OPA-compatible policy API (TLS)" },
	{ .key = "max_steps", .type = CONFIG_INT,
	  .offset = offsetof(struct server_policy_config, max_steps),
	  .help = "most evaluation steps of one decision", .min = 1000, .max = INT64_C(1) << 40 },
	{ .key = "max_depth", .type = CONFIG_INT,
	  .offset = offsetof(struct server_policy_config, max_depth),
	  .help = "deepest nesting of rule and function calls", .min = 10, .max = 100000 },
	{ .key = "max_memory", .type = CONFIG_SIZE,
	  .offset = offsetof(struct server_policy_config, max_memory),
	  .help = "most memory the values of one decision may take",
	  .min = 1 << 20, .max = INT64_C(1) << 40 },
	{ .key = "max_module_bytes", .type = CONFIG_SIZE,
	  .offset = offsetof(struct server_policy_config, max_module_bytes),
	  .help = "largest policy module", .min = 1024, .max = (int64_t)1 << 30 },
	{ .key = "audit_allows", .type = CONFIG_BOOL,
	  .offset = offsetof(struct server_policy_config, audit_allows),
	  .help = "write every decision to the audit log, not only failed ones" },
	{ 0 },
};

static const struct config_field secrets_fields[] = {
	{ .key = "listen", .type = CONFIG_STRING,
	  .offset = offsetof(struct server_secrets_config, listen),
	  .help = "address:port of the Vault-compatible secrets API (TLS)" },
	{ .key = "rego_policy", .type = CONFIG_STRING,
	  .offset = offsetof(struct server_secrets_config, rego_policy),
	  .help = "Rego module whose data.warden.secrets.allow is consulted after the ACL" },
	{ .key = "default_lease_ttl", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_secrets_config, default_lease_ttl),
	  .help = "lease TTL when neither the mount nor the role sets one",
	  .min = 1, .max = INT64_C(10) * 365 * 86400 },
	{ .key = "max_lease_ttl", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_secrets_config, max_lease_ttl),
	  .help = "maximum lease TTL, counted from the lease's issue", .min = 1,
	  .max = INT64_C(10) * 365 * 86400 },
	{ 0 },
};

static const struct config_field admin_fields[] = {
	{ .key = "socket", .type = CONFIG_STRING, .offset = offsetof(struct server_admin_config, socket),
	  .help = "path of the admin Unix socket" },
	{ .key = "allowed_uids", .type = CONFIG_STRING_LIST,
	  .offset = offsetof(struct server_admin_config, allowed_uids),
	  .help = "uids besides root that may use the admin socket" },
	{ 0 },
};

static const struct config_field admission_fields[] = {
	{ .key = "trusted_keys", .type = CONFIG_STRING_LIST,
	  .offset = offsetof(struct server_admission_config, trusted_keys),
	  .help = "PEM files of ECDSA P-256 public keys (cosign.pub) whose signatures admit a binary" },
	{ .key = "trusted_spiffe_ids", .type = CONFIG_STRING_LIST,
	  .offset = offsetof(struct server_admission_config, trusted_spiffe_ids),
	  .help = "SPIFFE IDs whose X.509-SVIDs from this server's CA may sign binaries" },
	{ .key = "predicate_types", .type = CONFIG_STRING_LIST,
	  .offset = offsetof(struct server_admission_config, predicate_types),
	  .help = "in-toto predicate types an attestation must have to admit a binary; empty: any" },
	{ 0 },
};

static const struct config_field sensor_fields[] = {
	{ .key = "spiffe_ids", .type = CONFIG_STRING_LIST,
	  .offset = offsetof(struct server_sensor_config, spiffe_ids),
	  .help = "SPIFFE IDs of runtime sensors that may send alerts and revoke the workloads "
		  "of their own node" },
	{ 0 },
};

static const struct config_field limits_fields[] = {
	{ .key = "max_body_bytes", .type = CONFIG_SIZE,
	  .offset = offsetof(struct server_limits_config, max_body_bytes),
	  .help = "largest request body", .min = 1024, .max = (int64_t)1 << 30 },
	{ .key = "max_header_count", .type = CONFIG_INT,
	  .offset = offsetof(struct server_limits_config, max_header_count),
	  .help = "most headers in one request", .min = 8, .max = 10000 },
	{ .key = "read_timeout", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_limits_config, read_timeout),
	  .help = "longest wait for the next byte of a request", .min = 1, .max = 3600 },
	{ .key = "idle_timeout", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_limits_config, idle_timeout),
	  .help = "longest idle time of a keep-alive connection", .min = 1, .max = DAY },
	{ .key = "request_timeout", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_limits_config, request_timeout),
	  .help = "longest time to read one request, from its first byte", .min = 1, .max = 3600 },
	{ .key = "handshake_timeout", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_limits_config, handshake_timeout),
	  .help = "longest time from a TLS accept to the first byte of a request",
	  .min = 1, .max = 3600 },
	{ .key = "max_connections", .type = CONFIG_INT,
	  .offset = offsetof(struct server_limits_config, max_connections),
	  .help = "most open connections per listener", .min = 1, .max = 1000000 },
	{ .key = "max_connections_per_ip", .type = CONFIG_INT,
	  .offset = offsetof(struct server_limits_config, max_connections_per_ip),
	  .help = "most open TLS connections from one client IP address", .min = 1, .max = 1000000 },
	{ .key = "attestations_per_second", .type = CONFIG_INT,
	  .offset = offsetof(struct server_limits_config, attestations_per_second),
	  .help = "node attestations allowed per second from one client IP address",
	  .min = 1, .max = 10000 },
	{ .key = "attestation_burst", .type = CONFIG_INT,
	  .offset = offsetof(struct server_limits_config, attestation_burst),
	  .help = "node attestations one client IP address may make at once before the rate applies",
	  .min = 1, .max = 10000 },
	{ 0 },
};

static const struct config_field server_fields[] = {
	{ .key = "trust_domain", .type = CONFIG_STRING, .offset = offsetof(struct server_config, trust_domain),
	  .help = "the trust domain this server is the authority of" },
	{ .key = "data_dir", .type = CONFIG_STRING, .offset = offsetof(struct server_config, data_dir),
	  .help = "directory of the datastore, keys and audit log" },
	{ .key = "datastore", .type = CONFIG_STRING, .offset = offsetof(struct server_config, datastore),
	  .help = "datastore URL: postgres://... for a shared PostgreSQL database, or "
		  "sqlite:PATH; unset means SQLite in data_dir" },
	{ .key = "singleton_takeover", .type = CONFIG_DURATION,
	  .offset = offsetof(struct server_config, singleton_takeover),
	  .help = "on a shared PostgreSQL datastore, the longest time from the death of the server "
		  "running the run-once work to another taking it over", .min = 2, .max = 3600 },
	{ .key = "lock_memory", .type = CONFIG_BOOL, .offset = offsetof(struct server_config, lock_memory),
	  .help = "lock the process's memory so keys never reach swap" },
	{ .key = "log", .type = CONFIG_SECTION, .offset = offsetof(struct server_config, log),
	  .fields = log_fields },
	{ .key = "identity", .type = CONFIG_SECTION, .offset = offsetof(struct server_config, identity),
	  .fields = identity_fields },
	{ .key = "policy", .type = CONFIG_SECTION, .offset = offsetof(struct server_config, policy),
	  .fields = policy_fields },
	{ .key = "secrets", .type = CONFIG_SECTION, .offset = offsetof(struct server_config, secrets),
	  .fields = secrets_fields },
	{ .key = "admin", .type = CONFIG_SECTION, .offset = offsetof(struct server_config, admin),
	  .fields = admin_fields },
	{ .key = "limits", .type = CONFIG_SECTION, .offset = offsetof(struct server_config, limits),
	  .fields = limits_fields },
	{ .key = "admission", .type = CONFIG_SECTION,
	  .offset = offsetof(struct server_config, admission), .fields = admission_fields },
	{ .key = "sensor", .type = CONFIG_SECTION,
	  .offset = offsetof(struct server_config, sensor), .fields = sensor_fields },
	{ 0 },
};

void server_config_init(struct server_config *config)
{
	memset(config, 0, sizeof(*config));

	config->data_dir = (char *)"/var/lib/warden";
	config->lock_memory = true;
	config->singleton_takeover = 10;
	config->log.level = 1;
	config->log.format = 0;

	config->identity.listen = (char *)"0.0.0.0:8081";
	config->identity.ca_key_type = 0;
	config->identity.jwt_rsa_alg = 0;
	config->identity.ca_ttl = 24 * 3600;
	config->identity.default_x509_svid_ttl = 3600;
	config->identity.default_jwt_svid_ttl = 300;
	config->identity.clock_skew = 10;
	config->identity.refresh_hint = 300;
	config->identity.crl_next_update = 3600;

	config->policy.listen = (char *)"0.0.0.0:8181";
	config->policy.max_steps = 10000000;
	config->policy.max_depth = 1000;
	config->policy.max_memory = (uint64_t)512 << 20;
	config->policy.max_module_bytes = (uint64_t)4 << 20;
	config->policy.audit_allows = true;
	config->secrets.listen = (char *)"0.0.0.0:8200";
	config->secrets.default_lease_ttl = 768 * 3600;
	config->secrets.max_lease_ttl = 768 * 3600;

	config->admin.socket = (char *)"/run/warden/admin.sock";

	config->limits.max_body_bytes = 1u << 20;
	config->limits.max_header_count = 100;
	config->limits.read_timeout = 10;
	config->limits.idle_timeout = 60;
	config->limits.request_timeout = 10;
	config->limits.handshake_timeout = 10;
	config->limits.max_connections = 1024;
	config->limits.max_connections_per_ip = 64;
	config->limits.attestations_per_second = 1;
	config->limits.attestation_burst = 5;
}

int server_config_load(const char *path, struct server_config *config,
	struct config_report *report)
{
	static const char empty[] = "{}";

	if (!path)
		return config_load_buffer(empty, sizeof(empty) - 1, "defaults", server_fields, config,
			report);
	return config_load_file(path, server_fields, config, report);
}

int server_config_set(char **setting, const char *value)
{
	char *copy = wd_strdup(value);

	if (!copy)
		return WD_ENOMEM;
	free(*setting);
	*setting = copy;
	return 0;
}

static int validate_uid(const char *text, struct wd_error *err)
{
	char *end = NULL;
	unsigned long uid;

	if (!text[0] || text[0] == '-')
		return wd_error_set(err, WD_ECONFIG, "invalid uid '%s' in admin.allowed_uids", text);
	uid = strtoul(text, &end, 10);
	if (*end || uid > 0x7fffffffUL)
		return wd_error_set(err, WD_ECONFIG, "invalid uid '%s' in admin.allowed_uids", text);
	return 0;
}

/* Fails when list, the setting key, has more than SERVER_MAX_ADMISSION_ITEMS
 * items, an empty item or an item twice. */
static int validate_list(const struct config_strings *list, const char *key,
	struct wd_error *err)
{
	if (list->count > SERVER_MAX_ADMISSION_ITEMS)
		return wd_error_set(err, WD_ECONFIG, "too many %s: %zu, at most %d", key,
			list->count, SERVER_MAX_ADMISSION_ITEMS);
	for (size_t i = 0; i < list->count; i++) {
		if (!list->items[i][0])
			return wd_error_set(err, WD_ECONFIG, "invalid %s[%zu]: empty", key, i);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(list->items[i], list->items[j]) == 0)
				return wd_error_set(err, WD_ECONFIG,
					"invalid %s[%zu] '%.300s': listed twice", key, i,
					list->items[i]);
		}
	}
	return 0;
}

/* Trusted signers and sensors present X.509-SVIDs of this server's CA, so
 * their IDs must name a workload of this trust domain. */
static int validate_member_id(const struct server_config *config, const char *key,
	const char *who, const char *text, size_t index, struct wd_error *err)
{
	struct wd_error detail;
	struct spiffe_id id;

	wd_error_clear(&detail);
	if (spiffe_id_parse(text, strlen(text), &id, &detail) < 0)
		return wd_error_set(err, WD_ECONFIG, "invalid %s[%zu] '%.300s': %s", key, index,
			text, wd_error_text(&detail));
	if (!spiffe_id_member_of(&id, config->trust_domain))
		return wd_error_set(err, WD_ECONFIG, "invalid %s[%zu] '%.300s': not in trust "
			"domain %s, whose CA the server checks %s against", key, index, text,
			config->trust_domain, who);
	if (id.path[0] == '\0')
		return wd_error_set(err, WD_ECONFIG, "invalid %s[%zu] '%.300s': a path is required",
			key, index, text);
	return 0;
}

/* A predicate type is a URI, or one of the names `warden attest --type`
 * takes ("spdx" and so on), which the server resolves to its URI. */
static int validate_predicate_type(const char *text, size_t index, struct wd_error *err)
{
	struct wd_error detail;
	const char *uri = NULL;

	wd_error_clear(&detail);
	if (strlen(text) > SERVER_PREDICATE_TYPE_MAX_LEN)
		return wd_error_set(err, WD_ECONFIG, "invalid admission.predicate_types[%zu]: "
			"longer than %d bytes", index, SERVER_PREDICATE_TYPE_MAX_LEN);
	for (const char *p = text; *p; p++) {
		if (*p <= 0x20 || *p > 0x7e)
			return wd_error_set(err, WD_ECONFIG, "invalid admission.predicate_types[%zu] "
				"'%.300s': expected a URI without spaces", index, text);
	}
	if (supply_predicate_type_resolve(text, &uri, &detail) < 0)
		return wd_error_set(err, WD_ECONFIG, "invalid admission.predicate_types[%zu]: %s",
			index, wd_error_text(&detail));
	return 0;
}

static int validate_admission(const struct server_config *config, struct wd_error *err)
{
	const struct server_admission_config *admission = &config->admission;

	WD_TRY(validate_list(&admission->trusted_keys, "admission.trusted_keys", err));
	WD_TRY(validate_list(&admission->trusted_spiffe_ids, "admission.trusted_spiffe_ids",
		err));
	WD_TRY(validate_list(&admission->predicate_types, "admission.predicate_types", err));
	for (size_t i = 0; i < admission->trusted_spiffe_ids.count; i++)
		WD_TRY(validate_member_id(config, "admission.trusted_spiffe_ids", "signers",
			admission->trusted_spiffe_ids.items[i], i, err));
	for (size_t i = 0; i < admission->predicate_types.count; i++)
		WD_TRY(validate_predicate_type(admission->predicate_types.items[i], i, err));
	return 0;
}

/* An agent's ID in sensor.spiffe_ids would let every node agent call the
 * sensor endpoints, so the agent path is refused. */
static int validate_sensor(const struct server_config *config, struct wd_error *err)
{
	const struct config_strings *ids = &config->sensor.spiffe_ids;

	WD_TRY(validate_list(ids, "sensor.spiffe_ids", err));
	for (size_t i = 0; i < ids->count; i++) {
		struct spiffe_id id;

		WD_TRY(validate_member_id(config, "sensor.spiffe_ids", "sensors", ids->items[i], i,
			err));
		if (spiffe_id_parse(ids->items[i], strlen(ids->items[i]), &id, NULL) == 0 &&
		    !strncmp(id.path, REGISTRY_AGENT_PATH_PREFIX, strlen(REGISTRY_AGENT_PATH_PREFIX)))
			return wd_error_set(err, WD_ECONFIG, "invalid sensor.spiffe_ids[%zu] '%.300s': "
				"a node agent's ID; give the sensor an entry of its own", i,
				ids->items[i]);
	}
	return 0;
}

int server_config_validate(const struct server_config *config, struct wd_error *err)
{
	struct wd_error td_err;

	if (!config->trust_domain || !config->trust_domain[0])
		return wd_error_set(err, WD_ECONFIG,
			"missing trust_domain: set it in the configuration or with --trust-domain");
	if (spiffe_trust_domain_validate(config->trust_domain, &td_err) < 0)
		return wd_error_set(err, WD_ECONFIG, "invalid trust_domain: %s", wd_error_text(&td_err));
	if (!config->data_dir || !config->data_dir[0])
		return wd_error_set(err, WD_ECONFIG, "missing data_dir");
	/* Only the scheme is quoted back: the rest may carry a password. */
	if (config->datastore && strncmp(config->datastore, "sqlite:", 7) != 0 &&
		strncmp(config->datastore, "postgres://", 11) != 0 &&
		strncmp(config->datastore, "postgresql://", 13) != 0) {
		size_t scheme_length = strspn(config->datastore,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

		if (config->datastore[scheme_length] != ':' || scheme_length == 0 ||
		    scheme_length > 32)
			return wd_error_set(err, WD_ECONFIG, "invalid datastore: the value has no "
				"URL scheme; expected a postgres://, postgresql:// or sqlite: URL");
		return wd_error_set(err, WD_ECONFIG, "invalid datastore: unsupported URL \"%.*s:...\"; "
			"expected a postgres://, postgresql:// or sqlite: URL", (int)scheme_length,
			config->datastore);
	}
	if (!config->identity.listen || !config->identity.listen[0])
		return wd_error_set(err, WD_ECONFIG, "missing identity.listen");
	if (!config->policy.listen || !config->policy.listen[0])
		return wd_error_set(err, WD_ECONFIG, "missing policy.listen");
	if (!config->secrets.listen || !config->secrets.listen[0])
		return wd_error_set(err, WD_ECONFIG, "missing secrets.listen");
	if (config->secrets.default_lease_ttl > config->secrets.max_lease_ttl)
		return wd_error_set(err, WD_ECONFIG, "secrets.default_lease_ttl %lld is above "
			"secrets.max_lease_ttl %lld", (long long)config->secrets.default_lease_ttl,
			(long long)config->secrets.max_lease_ttl);
	if (!config->admin.socket || config->admin.socket[0] != '/')
		return wd_error_set(err, WD_ECONFIG,
			"invalid admin.socket '%s': expected an absolute path",
			config->admin.socket ? config->admin.socket : "");

	if (config->admin.allowed_uids.count > SERVER_MAX_ADMIN_UIDS)
		return wd_error_set(err, WD_ECONFIG, "too many admin.allowed_uids: %zu, at most %d",
			config->admin.allowed_uids.count, SERVER_MAX_ADMIN_UIDS);
	for (size_t i = 0; i < config->admin.allowed_uids.count; i++)
		WD_TRY(validate_uid(config->admin.allowed_uids.items[i], err));

	if (config->identity.default_x509_svid_ttl > config->identity.ca_ttl)
		return wd_error_set(err, WD_ECONFIG,
			"identity.default_x509_svid_ttl (%lld s) exceeds identity.ca_ttl (%lld s)",
			(long long)config->identity.default_x509_svid_ttl,
			(long long)config->identity.ca_ttl);
	WD_TRY(validate_admission(config, err));
	return validate_sensor(config, err);
}

void server_config_free(struct server_config *config)
{
	config_free(server_fields, config);
	/* Set by --dev-root-token only, so the field table does not list it. */
	free(config->secrets.dev_root_token);
	config->secrets.dev_root_token = NULL;
}
