/* Configuration of the node agent (`warden agent run`): a YAML file read by
 * the common loader, then command-line flags applied on top by key. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/error.h"
#include "common/macros.h"

#define AGENT_DEFAULT_DATA_DIR "/var/lib/warden-agent"
#define AGENT_DEFAULT_SOCKET_PATH "/run/warden/agent.sock"
#define AGENT_DEFAULT_SYNC_INTERVAL_SECONDS 5
#define AGENT_MAX_SYNC_INTERVAL_SECONDS 3600
/* Most server addresses in server_address, a comma-separated list. */
#define AGENT_MAX_SERVERS 8
/* Length of trust_bundle_fingerprint: SHA-256 as lowercase or uppercase hex. */
#define AGENT_FINGERPRINT_HEX_LEN 64

/* One server address of the list, split into host and port. */
struct agent_server_address {
	char *text;                     /* "host:port" as written */
	char *host;                     /* without brackets */
	uint16_t port;
};

/* Agent settings. The members up to `log_format` are the YAML keys of the
 * same names and are owned by the struct; servers, server_host and
 * server_port are filled from server_address by agent_config_validate. */
struct agent_config {
	char *server_address;           /* "host:port[,host:port...]" of identity listeners */
	char *trust_domain;             /* "example.org" */
	char *trust_bundle_path;        /* PEM file of the server's CA certificates */
	char *trust_bundle_fingerprint; /* hex SHA-256 of one CA certificate (DER) */
	char *join_token;               /* 64 hex digits; secret, wiped on free */
	char *data_dir;                 /* node SVID, key and bundle */
	char *socket_path;              /* Workload API Unix socket */
	int64_t sync_interval_seconds;  /* entries and bundle poll period */
	char *log_level;                /* debug, info, warn or error */
	char *log_format;               /* text or json */

	/* The addresses of server_address in order; the agent fails over
	 * between them. server_host and server_port repeat the first. */
	struct agent_server_address servers[AGENT_MAX_SERVERS];
	size_t server_count;
	char *server_host;
	uint16_t server_port;
};

/* The YAML schema of struct agent_config, ended by a NULL key; the CLI
 * prints its help lines. */
extern const struct config_field agent_config_schema[];

/* Fills config with the defaults and, when path is not NULL, the settings
 * of the YAML file at path. Returns 0; WD_ECONFIG with every issue (file,
 * line, key) in report; or the loader's read errors. config owns its
 * strings on every return but WD_EINTERNAL; free them with
 * agent_config_free. */
WD_MUST_CHECK int agent_config_load(const char *path, struct agent_config *config,
	struct config_report *report);

/* Same as agent_config_load on len bytes of YAML named `name` in issues. */
WD_MUST_CHECK int agent_config_load_buffer(const char *text, size_t len, const char *name,
	struct agent_config *config, struct config_report *report);

/* Sets one key (a schema key such as "sync_interval") from flag text, with
 * the conversion and bounds of the file loader. WD_ECONFIG naming the key
 * and the expected form, WD_ENOMEM. */
WD_MUST_CHECK int agent_config_set(struct agent_config *config, const char *key,
	const char *value, struct wd_error *err);

/* Checks the settings together once file and flags are applied:
 * server_address and trust_domain present and valid, at most one of
 * trust_bundle_path and trust_bundle_fingerprint, a well-formed
 * fingerprint and join token, absolute paths, a known log level and
 * format. Fills servers, server_host and server_port. WD_ECONFIG naming
 * the key. */
WD_MUST_CHECK int agent_config_validate(struct agent_config *config, struct wd_error *err);

/* Frees every string of config (wiping the join token) and zeroes it;
 * accepts NULL. */
void agent_config_free(struct agent_config *config);
