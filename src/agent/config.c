/* The agent's configuration schema, flag overrides and the checks that span
 * several settings. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "agent/config.h"
#include "common/alloc.h"
#include "common/config_value.h"
#include "common/log.h"
#include "identity/spiffe_id.h"

#define FIELD(name, kind, member, text, ...)                                   \
	{ .key = name, .type = kind, .offset = offsetof(struct agent_config, member), \
	  .help = text, __VA_ARGS__ }

const struct config_field agent_config_schema[] = {
	FIELD("server_address", CONFIG_STRING, server_address,
		"host:port of the server's identity listener ([v6]:port for IPv6); a "
		"comma-separated list names servers to fail over between"),
	FIELD("trust_domain", CONFIG_STRING, trust_domain, "trust domain, e.g. example.org"),
	FIELD("trust_bundle_path", CONFIG_STRING, trust_bundle_path,
		"PEM file of the server's CA certificates, for the first contact"),
	FIELD("trust_bundle_fingerprint", CONFIG_STRING, trust_bundle_fingerprint,
		"hex SHA-256 of the DER of one server CA certificate, instead of trust_bundle_path"),
	FIELD("join_token", CONFIG_STRING, join_token,
		"join token for the first attestation (64 hex digits)", .flags = CONFIG_SECRET),
	FIELD("data_dir", CONFIG_STRING, data_dir,
		"directory of the node SVID, its key and the bundle"),
	FIELD("socket_path", CONFIG_STRING, socket_path, "Workload API Unix socket path"),
	FIELD("sync_interval", CONFIG_DURATION, sync_interval_seconds,
		"time between syncs of entries and bundle, e.g. 5s",
		.min = 1, .max = AGENT_MAX_SYNC_INTERVAL_SECONDS),
	FIELD("log_level", CONFIG_STRING, log_level, "debug, info, warn or error"),
	FIELD("log_format", CONFIG_STRING, log_format, "text or json"),
	{ .key = NULL },
};

static void set_defaults(struct agent_config *config)
{
	memset(config, 0, sizeof(*config));
	/* The loader copies borrowed string defaults on entry. */
	config->data_dir = (char *)AGENT_DEFAULT_DATA_DIR;
	config->socket_path = (char *)AGENT_DEFAULT_SOCKET_PATH;
	config->sync_interval_seconds = AGENT_DEFAULT_SYNC_INTERVAL_SECONDS;
	config->log_level = (char *)"info";
	config->log_format = (char *)"text";
}

int agent_config_load_buffer(const char *text, size_t len, const char *name,
	struct agent_config *config, struct config_report *report)
{
	set_defaults(config);
	return config_load_buffer(text, len, name, agent_config_schema, config, report);
}

int agent_config_load(const char *path, struct agent_config *config,
	struct config_report *report)
{
	if (!path)
		return agent_config_load_buffer("", 0, "defaults", config, report);
	set_defaults(config);
	return config_load_file(path, agent_config_schema, config, report);
}

int agent_config_set(struct agent_config *config, const char *key, const char *value,
	struct wd_error *err)
{
	const struct config_field *field = NULL;
	union config_value parsed;
	char reason[160] = "";

	for (const struct config_field *f = agent_config_schema; f->key; f++) {
		if (strcmp(f->key, key) == 0) {
			field = f;
			break;
		}
	}
	if (!field)
		return wd_error_set(err, WD_ECONFIG, "unknown agent setting '%.64s'", key);

	memset(&parsed, 0, sizeof(parsed));
	int rc = config_value_parse(field, value, strlen(value), &parsed, reason, sizeof(reason));
	if (rc == WD_ENOMEM)
		return wd_error_set(err, rc, "out of memory setting '%s'", key);
	if (rc < 0) {
		/* The join token is secret, so only its key is named. */
		if (field->flags & CONFIG_SECRET)
			return wd_error_set(err, WD_ECONFIG, "invalid %s: %s", key, reason);
		return wd_error_set(err, WD_ECONFIG, "invalid %s '%.200s': %s", key, value, reason);
	}
	config_value_store(field, (char *)config + field->offset, &parsed);
	return 0;
}

/* Splits "host:port" or "[v6]:port" into a malloc'd host and a port. */
static int parse_address(const char *address, char **ret_host, uint16_t *ret_port,
	struct wd_error *err)
{
	const char *host = address;
	const char *colon;
	size_t host_len;
	char *end = NULL;
	long port;

	*ret_host = NULL;
	*ret_port = 0;
	if (address[0] == '[') {
		const char *close = strchr(address, ']');

		if (!close || close[1] != ':')
			goto invalid;
		host = address + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(address, ':');
		if (!colon || strchr(address, ':') != colon)
			goto invalid;
		host_len = (size_t)(colon - address);
	}
	if (host_len == 0 || host_len > 253 || !colon[1] || strlen(colon + 1) > 5)
		goto invalid;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535 || colon[1] < '0' || colon[1] > '9')
		goto invalid;

	*ret_host = wd_strndup(host, host_len);
	if (!*ret_host)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	*ret_port = (uint16_t)port;
	return 0;
invalid:
	return wd_error_set(err, WD_ECONFIG, "invalid server_address '%.300s': expected "
		"host:port or [IPv6]:port with a port of 1 to 65535", address);
}

static void free_servers(struct agent_config *config)
{
	for (size_t i = 0; i < config->server_count; i++) {
		free(config->servers[i].text);
		free(config->servers[i].host);
	}
	memset(config->servers, 0, sizeof(config->servers));
	config->server_count = 0;
	free(config->server_host);
	config->server_host = NULL;
	config->server_port = 0;
}

/* Splits server_address at commas into servers; spaces around an address
 * are dropped, an empty one or more than AGENT_MAX_SERVERS fail. */
static int parse_server_list(struct agent_config *config, struct wd_error *err)
{
	const char *p = config->server_address;
	int rc = 0;

	free_servers(config);
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct agent_server_address *server;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			rc = wd_error_set(err, WD_ECONFIG, "invalid server_address '%.300s': an "
				"address of the list is empty", config->server_address);
			goto out;
		}
		if (config->server_count == AGENT_MAX_SERVERS) {
			rc = wd_error_set(err, WD_ECONFIG, "invalid server_address '%.300s': more "
				"than %d addresses", config->server_address, AGENT_MAX_SERVERS);
			goto out;
		}
		server = &config->servers[config->server_count];
		server->text = wd_strndup(p, len);
		if (!server->text) {
			rc = wd_error_set(err, WD_ENOMEM, "out of memory");
			goto out;
		}
		config->server_count++;
		WD_GUARD(parse_address(server->text, &server->host, &server->port, err));
		if (!end)
			break;
		p = end + 1;
	}
	config->server_host = wd_strdup(config->servers[0].host);
	WD_ENSURE(config->server_host, WD_ENOMEM);
	config->server_port = config->servers[0].port;
out:
	if (rc < 0)
		free_servers(config);
	return rc;
}

static bool is_hex(const char *text, size_t len)
{
	if (strlen(text) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static int check_absolute(const char *key, const char *path, struct wd_error *err)
{
	if (!path || path[0] != '/')
		return wd_error_set(err, WD_ECONFIG, "invalid %s '%.300s': expected an absolute "
			"path", key, path ? path : "");
	return 0;
}

int agent_config_validate(struct agent_config *config, struct wd_error *err)
{
	enum log_level level;
	enum log_format format;

	if (!config->server_address || !*config->server_address)
		return wd_error_set(err, WD_ECONFIG, "missing server_address: set it to the "
			"server's identity listener, host:port");
	if (!config->trust_domain || !*config->trust_domain)
		return wd_error_set(err, WD_ECONFIG, "missing trust_domain");
	if (spiffe_trust_domain_validate(config->trust_domain, err) < 0)
		return wd_error_set(err, WD_ECONFIG, "invalid trust_domain '%.255s': %s",
			config->trust_domain, wd_error_text(err));
	if (config->trust_bundle_path && config->trust_bundle_fingerprint)
		return wd_error_set(err, WD_ECONFIG, "set only one of trust_bundle_path and "
			"trust_bundle_fingerprint");
	if (config->trust_bundle_path)
		WD_TRY(check_absolute("trust_bundle_path", config->trust_bundle_path, err));
	if (config->trust_bundle_fingerprint &&
	    !is_hex(config->trust_bundle_fingerprint, AGENT_FINGERPRINT_HEX_LEN))
		return wd_error_set(err, WD_ECONFIG, "invalid trust_bundle_fingerprint "
			"'%.100s': expected the SHA-256 of the CA certificate as 64 hex digits",
			config->trust_bundle_fingerprint);
	if (config->join_token && !is_hex(config->join_token, 64))
		return wd_error_set(err, WD_ECONFIG, "invalid join_token: expected 64 hex digits");
	WD_TRY(check_absolute("data_dir", config->data_dir, err));
	WD_TRY(check_absolute("socket_path", config->socket_path, err));
	if (config->sync_interval_seconds < 1 ||
	    config->sync_interval_seconds > AGENT_MAX_SYNC_INTERVAL_SECONDS)
		return wd_error_set(err, WD_ECONFIG, "invalid sync_interval %lld: expected 1s to "
			"1h", (long long)config->sync_interval_seconds);
	if (!config->log_level || log_level_parse(config->log_level, &level) < 0)
		return wd_error_set(err, WD_ECONFIG, "invalid log_level '%.32s': expected debug, "
			"info, warn or error", config->log_level ? config->log_level : "");
	if (!config->log_format || log_format_parse(config->log_format, &format) < 0)
		return wd_error_set(err, WD_ECONFIG, "invalid log_format '%.32s': expected text or "
			"json", config->log_format ? config->log_format : "");

	return parse_server_list(config, err);
}

void agent_config_free(struct agent_config *config)
{
	if (!config)
		return;
	config_free(agent_config_schema, config);
	free_servers(config);
	memset(config, 0, sizeof(*config));
}
